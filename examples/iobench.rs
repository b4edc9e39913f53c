//! iobench: ratchet's I/O backends against a raw `pread` loop, a raw
//! io_uring loop and fio, on one 1 GiB file, in one run.
//!
//! ```sh
//! cargo run --release --example iobench            # full run (about 10 minutes)
//! cargo run --release --example iobench -- --quick # under two minutes
//! cargo run --release --example iobench -- --help
//! ```
//!
//! Workloads: 4 KiB random reads at queue depth 1, 8, 32 and 128 through
//! ratchet's `File` API (a loop that keeps QD reads in flight and reissues
//! each as it finishes) on `BlockingIO` and `UringIO`, first with the file in
//! the page cache (checked resident before each case), then with `O_DIRECT`;
//! and sequential 1 MiB writes with an `fsync` every 16 MiB. The references
//! run in the same process, interleaved with ratchet's cases, on the same
//! file: a raw `pread` loop, a raw io_uring loop set up with the same flags as
//! `UringIO`, and fio (`psync` and `io_uring`). Machines are shared and drift
//! between runs, so only the ratios within one run mean much.
//!
//! The last line, for other programs to read, is
//! `summary: uring_qd32/fio=R blocking/raw_pread=R uring_qd32/raw_uring=R direct_uring_qd32/fio=R`,
//! the last being `O_DIRECT` io_uring at queue depth 32 over fio's `O_DIRECT`
//! io_uring at the same depth.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ratchet::uring::UringOptions;
use ratchet::{BlockingIO, Buffer, Completion, File, IO, OpenOptions, UringIO};

/// Bytes per random read.
const BLOCK: usize = 4096;
/// Bytes per sequential write.
const WRITE_BLOCK: usize = 1 << 20;
/// Writes between two `fsync`s: 16 × 1 MiB.
const WRITES_PER_SYNC: usize = 16;
/// Batches (16 writes and their `fsync`) ratchet's write case keeps in
/// flight; fio's io_uring write case gets the same queue depth.
const WRITE_BATCHES_IN_FLIGHT: usize = 2;
/// Queue depths of the random-read cases.
const QDS: [usize; 4] = [1, 8, 32, 128];
/// Operations between two looks at the clock in every loop (ratchet's and
/// the references alike), so timing costs the same everywhere.
const CLOCK_EVERY: u64 = 64;

fn main() {
    let args = match Args::parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("iobench: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("iobench: {e}");
        std::process::exit(1);
    }
}

const USAGE: &str =
    "usage: iobench [--quick] [--dir DIR] [--size-mib N] [--seconds S] [--rounds N] [--only SUBSTRING]
  --quick        shorter cases, one round, fewer queue depths with O_DIRECT (under two minutes)
  --dir DIR      where the test files live (default: a directory in the system temp dir;
                 it must be on a file system that accepts O_DIRECT, not tmpfs)
  --size-mib N   size of the random-read file (default 1024)
  --seconds S    seconds per case (default 4, or 1 with --quick)
  --rounds N     rounds over all cases; each case reports its median (default 3, or 1 with --quick)
  --setups      also ring set-up variants at QD 32 (no DEFER_TASKRUN, COOP_TASKRUN only, no flags,
                 the raw loop submitting each read on its own), interleaved with the rest, each
                 round starting one case later
  --only A,B     run only the cases with these names, e.g. uring_qd32,raw_uring_qd32 (for profiling)
  --ops N        run each case for N operations instead of --seconds (for counting instructions:
                 benches/callgrind.sh io)";

struct Args {
    quick: bool,
    dir: Option<PathBuf>,
    size_mib: u64,
    seconds: f64,
    rounds: usize,
    only: Option<String>,
    ops: Option<u64>,
    setups: bool,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut args = Args {
            quick: false,
            dir: None,
            size_mib: 1024,
            seconds: 0.0,
            rounds: 0,
            only: None,
            ops: None,
            setups: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
            match a.as_str() {
                "--quick" => args.quick = true,
                "--setups" => args.setups = true,
                "--dir" => args.dir = Some(PathBuf::from(value("--dir")?)),
                "--size-mib" => {
                    args.size_mib = value("--size-mib")?
                        .parse()
                        .map_err(|e| format!("--size-mib: {e}"))?
                }
                "--seconds" => {
                    args.seconds = value("--seconds")?
                        .parse()
                        .map_err(|e| format!("--seconds: {e}"))?
                }
                "--rounds" => {
                    args.rounds = value("--rounds")?.parse().map_err(|e| format!("--rounds: {e}"))?
                }
                "--only" => args.only = Some(value("--only")?),
                "--ops" => args.ops = Some(value("--ops")?.parse().map_err(|e| format!("--ops: {e}"))?),
                "--help" | "-h" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                // `cargo bench`-style harness flags, if someone passes them.
                "--bench" => {}
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        if args.seconds <= 0.0 {
            args.seconds = if args.quick { 1.0 } else { 4.0 };
        }
        if args.rounds == 0 {
            args.rounds = if args.quick { 1 } else { 3 };
        }
        if args.size_mib < 16 {
            return Err("--size-mib must be at least 16".into());
        }
        Ok(args)
    }
}

/// What a case measures.
#[derive(Clone, Debug)]
enum Kind {
    /// `read_at` in a loop, one read at a time.
    RawPread,
    /// The bare io_uring loop with `UringIO`'s set-up flags (or a variant's).
    RawUring(Setup, usize),
    /// ratchet's `File` API on a backend, `qd` reads kept in flight.
    Ratchet(Backend, usize),
    /// fio with `engine` at `qd`.
    Fio(&'static str, usize),
    /// Sequential 1 MiB writes, `fsync` every 16 MiB.
    Write(Writer),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Blocking,
    Uring,
    /// `UringIO` set up as a `--setups` variant says.
    UringSetup(Setup),
    /// `UringIO` with `UringOptions::registered_buffers`: `READ_FIXED`.
    UringFixed,
}

/// A ring set-up variant measured with `--setups`: which set-up flags, and
/// (for the raw loop) how reads are handed to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Setup {
    /// `UringIO`'s default: `COOP_TASKRUN`, `SINGLE_ISSUER`, `DEFER_TASKRUN`.
    Default,
    /// `COOP_TASKRUN` and `SINGLE_ISSUER`, without `DEFER_TASKRUN`.
    NoDefer,
    /// `COOP_TASKRUN` only.
    Coop,
    /// No set-up flags at all.
    Plain,
    /// The default flags, each read submitted on its own as it is reissued
    /// (`io_uring_enter(1, 0, GETEVENTS)`, as fio does) instead of in one
    /// batch with the wait. The raw loop's counterpart of `Eager`.
    Each,
    /// `UringIO` with `UringOptions::submit_on_issue`: each read handed to
    /// the kernel as it is issued.
    Eager,
}

impl Setup {
    const VARIANTS: [Setup; 5] = [
        Setup::NoDefer,
        Setup::Coop,
        Setup::Plain,
        Setup::Each,
        Setup::Eager,
    ];

    fn suffix(self) -> &'static str {
        match self {
            Setup::Default => "",
            Setup::NoDefer => "_nodefer",
            Setup::Coop => "_coop",
            Setup::Plain => "_plain",
            Setup::Each => "_each",
            Setup::Eager => "_eager",
        }
    }

    /// (coop, single, defer)
    fn flags(self) -> (bool, bool, bool) {
        match self {
            Setup::Default | Setup::Each | Setup::Eager => (true, true, true),
            Setup::NoDefer => (true, true, false),
            Setup::Coop => (true, false, false),
            Setup::Plain => (false, false, false),
        }
    }

    fn options(self) -> UringOptions {
        let (coop, single, defer) = self.flags();
        UringOptions::new()
            .coop_taskrun(coop)
            .single_issuer(single)
            .defer_taskrun(defer)
            .submit_on_issue(self == Setup::Eager)
    }
}

#[derive(Clone, Copy, Debug)]
enum Writer {
    Raw,
    Ratchet(Backend),
    Fio(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Cached,
    Direct,
    Writes,
}

impl Group {
    fn title(self) -> &'static str {
        match self {
            Group::Cached => "4 KiB random reads, file in the page cache",
            Group::Direct => "4 KiB random reads, O_DIRECT",
            Group::Writes => "sequential 1 MiB writes, fsync every 16 MiB",
        }
    }
}

#[derive(Clone, Debug)]
struct Case {
    name: String,
    group: Group,
    kind: Kind,
}

fn case(group: Group, kind: Kind) -> Case {
    let prefix = match group {
        Group::Cached => "",
        Group::Direct => "direct_",
        Group::Writes => "write_",
    };
    let name = match &kind {
        Kind::RawPread => "raw_pread".to_string(),
        Kind::RawUring(setup, qd) => format!("raw_uring{}_qd{qd}", setup.suffix()),
        Kind::Ratchet(Backend::Blocking, qd) => format!("blocking_qd{qd}"),
        Kind::Ratchet(Backend::Uring, qd) => format!("uring_qd{qd}"),
        Kind::Ratchet(Backend::UringFixed, qd) => format!("uring_fixed_qd{qd}"),
        Kind::Ratchet(Backend::UringSetup(setup), qd) => format!("uring{}_qd{qd}", setup.suffix()),
        Kind::Fio(engine, qd) => format!("fio_{engine}_qd{qd}"),
        Kind::Write(Writer::Raw) => "raw_pwrite".to_string(),
        Kind::Write(Writer::Ratchet(Backend::Blocking)) => "blocking".to_string(),
        Kind::Write(Writer::Ratchet(Backend::Uring | Backend::UringFixed | Backend::UringSetup(_))) => {
            "uring_qd32".to_string()
        }
        Kind::Write(Writer::Fio(engine)) => format!("fio_{engine}"),
    };
    Case {
        name: format!("{prefix}{name}"),
        group,
        kind,
    }
}

/// The cases of one round, references interleaved with ratchet's cases.
fn plan(args: &Args, have_uring: bool, have_fio: bool) -> Vec<Case> {
    let mut cases = Vec::new();
    for group in [Group::Cached, Group::Direct] {
        let qds: &[usize] = if args.quick && group == Group::Direct {
            &[1, 32]
        } else {
            &QDS
        };
        cases.push(case(group, Kind::RawPread));
        cases.push(case(group, Kind::Ratchet(Backend::Blocking, 1)));
        if have_fio {
            cases.push(case(group, Kind::Fio("psync", 1)));
        }
        for &qd in qds {
            if have_uring {
                cases.push(case(group, Kind::RawUring(Setup::Default, qd)));
                cases.push(case(group, Kind::Ratchet(Backend::Uring, qd)));
                if args.setups && qd == 32 {
                    for setup in Setup::VARIANTS {
                        if setup != Setup::Eager {
                            cases.push(case(group, Kind::RawUring(setup, qd)));
                        }
                        if setup != Setup::Each {
                            cases.push(case(group, Kind::Ratchet(Backend::UringSetup(setup), qd)));
                        }
                    }
                }
            }
            if have_fio {
                cases.push(case(group, Kind::Fio("io_uring", qd)));
            }
            if have_uring && group == Group::Direct && qd == 32 {
                cases.push(case(group, Kind::Ratchet(Backend::UringFixed, qd)));
            }
            if qd > 1 {
                cases.push(case(group, Kind::Ratchet(Backend::Blocking, qd)));
            }
        }
    }
    cases.push(case(Group::Writes, Kind::Write(Writer::Raw)));
    cases.push(case(
        Group::Writes,
        Kind::Write(Writer::Ratchet(Backend::Blocking)),
    ));
    if have_fio {
        cases.push(case(Group::Writes, Kind::Write(Writer::Fio("psync"))));
    }
    if have_uring {
        cases.push(case(Group::Writes, Kind::Write(Writer::Ratchet(Backend::Uring))));
    }
    if have_fio {
        cases.push(case(Group::Writes, Kind::Write(Writer::Fio("io_uring"))));
    }
    if let Some(only) = &args.only {
        let names: Vec<&str> = only.split(',').collect();
        cases.retain(|c| names.contains(&c.name.as_str()));
    }
    cases
}

/// xorshift64*: the same cheap generator drives every loop.
struct Rng(u64);

impl Rng {
    fn block(&mut self, blocks: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % blocks
    }
}

struct Env {
    dir: PathBuf,
    read_path: PathBuf,
    write_path: PathBuf,
    read_bytes: u64,
    write_bytes: u64,
    seconds: f64,
    /// `--ops`: a fixed number of operations per case instead of a time.
    ops: Option<u64>,
    uring: Option<UringIO>,
    /// `UringIO` with registered buffers, for the `O_DIRECT` case that
    /// measures them.
    uring_fixed: Option<UringIO>,
    /// `UringIO` for each `--setups` variant.
    uring_setups: Vec<(Setup, UringIO)>,
    blocking: BlockingIO,
    fio: Option<String>,
    /// The CPU share fio reported for its last job.
    fio_cpu: std::cell::Cell<Option<f64>>,
    fincore: bool,
}

impl Env {
    fn blocks(&self) -> u64 {
        self.read_bytes / BLOCK as u64
    }

    fn stop(&self) -> Stop {
        Stop {
            dur: Duration::from_secs_f64(self.seconds),
            ops: self.ops,
        }
    }
}

/// When a case's loop ends: after its time, or after `--ops` operations.
/// Looked at every [`CLOCK_EVERY`] operations in every loop alike.
#[derive(Clone, Copy, Debug)]
struct Stop {
    dur: Duration,
    ops: Option<u64>,
}

impl Stop {
    fn reached(&self, ops: u64, start: Instant) -> bool {
        match self.ops {
            Some(n) => ops >= n,
            None => start.elapsed() >= self.dur,
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let load_before = loadavg();
    let dir = pick_dir(args)?;
    let uring = match UringIO::new() {
        Ok(io) => Some(io),
        Err(e) => {
            eprintln!("iobench: io_uring is unavailable ({e}); the io_uring cases are skipped");
            None
        }
    };
    let fio = fio_version();
    if fio.is_none() {
        eprintln!(
            "iobench: fio is not installed, so the fio references are skipped; install it with\n\
             \x20   sudo apt-get install fio      (Debian/Ubuntu; `dnf install fio` on Fedora)\n\
             and run again. The raw pread and raw io_uring references are measured anyway."
        );
    }
    let fincore = Command::new("fincore")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let env = Env {
        read_path: dir.join("iobench-read.dat"),
        write_path: dir.join("iobench-write.dat"),
        read_bytes: args.size_mib << 20,
        write_bytes: if args.quick { 128 << 20 } else { 256 << 20 },
        dir,
        seconds: args.seconds,
        ops: args.ops,
        uring_fixed: uring
            .as_ref()
            .and_then(|_| UringOptions::new().registered_buffers(256).build().ok()),
        uring_setups: if args.setups && uring.is_some() {
            Setup::VARIANTS
                .iter()
                .filter_map(|&s| Some((s, s.options().build().ok()?)))
                .collect()
        } else {
            Vec::new()
        },
        uring,
        blocking: BlockingIO::new(),
        fio,
        fio_cpu: std::cell::Cell::new(None),
        fincore,
    };
    prepare_file(&env.read_path, env.read_bytes)?;
    prepare_file(&env.write_path, env.write_bytes)?;

    let cases = plan(args, env.uring.is_some(), env.fio.is_some());
    let total = cases.len() * args.rounds;
    eprintln!(
        "iobench: {} cases x {} round(s) of {:.1} s each (about {:.0} s)",
        cases.len(),
        args.rounds,
        args.seconds,
        total as f64 * (args.seconds + 0.3)
    );
    let mut results: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    let mut residency: Option<f64> = None;
    // Drawn on stderr only when it is a terminal (indicatif hides it
    // otherwise); each finished case is also logged as a line.
    let progress = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    progress.set_style(
        ProgressStyle::with_template("[{bar:32}] {pos}/{len} {msg} ({elapsed}, about {eta} left)")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    let log = |line: String| {
        if progress.is_hidden() {
            eprintln!("{line}");
        } else {
            progress.println(line);
        }
    };
    let mut n = 0;
    for round in 1..=args.rounds {
        // With `--setups` each round starts one case later, so that no
        // variant always runs right after the same neighbour (fio's exit,
        // say).
        let start = if args.setups {
            (round - 1) % cases.len().max(1)
        } else {
            0
        };
        for c in cases[start..].iter().chain(&cases[..start]) {
            n += 1;
            if c.group == Group::Cached {
                let r = ensure_resident(&env)?;
                residency = Some(residency.map_or(r, |m: f64| m.min(r)));
            }
            progress.set_message(format!("round {round}/{}: {}", args.rounds, c.name));
            let head = format!("[{n:>3}/{total}] round {round}/{}  {:<28}", args.rounds, c.name);
            let sample = measure(&env, c);
            progress.inc(1);
            let sample = match sample {
                Ok(s) => s,
                Err(e) => {
                    // One failing case (fio without io_uring, say) must not
                    // cost the rest of the run.
                    let e = e.lines().last().unwrap_or_default().to_string();
                    log(format!("{head} failed: {e}"));
                    failures.entry(c.name.clone()).or_insert(e);
                    continue;
                }
            };
            log(format!(
                "{head} {:>12}  cpu {}",
                human(sample.ops_per_s),
                sample.cpu.map_or("-".into(), |c| format!("{:.0}%", 100.0 * c))
            ));
            results.entry(c.name.clone()).or_default().push(sample);
        }
    }
    progress.finish_and_clear();
    let medians: BTreeMap<String, Sample> = results
        .into_iter()
        .map(|(k, v)| {
            let cpus: Vec<f64> = v.iter().filter_map(|s| s.cpu).collect();
            let sample = Sample {
                ops_per_s: median(v.iter().map(|s| s.ops_per_s).collect()),
                cpu: (!cpus.is_empty()).then(|| median(cpus)),
            };
            (k, sample)
        })
        .collect();
    report(
        &env,
        args,
        &cases,
        &medians,
        &RunInfo {
            residency,
            failures,
            load_before,
            took: started.elapsed(),
        },
    );
    Ok(())
}

/// The directory for the test files: `--dir`, else one in the system temp
/// dir, else one in /var/tmp when the temp dir refuses `O_DIRECT` (tmpfs).
fn pick_dir(args: &Args) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match &args.dir {
        Some(d) => vec![d.clone()],
        None => vec![
            std::env::temp_dir().join("ratchet-iobench"),
            PathBuf::from("/var/tmp/ratchet-iobench"),
        ],
    };
    let mut why = Vec::new();
    for dir in &candidates {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let probe = dir.join(".direct-probe");
        let ok = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_DIRECT)
            .open(&probe);
        let _ = fs::remove_file(&probe);
        match ok {
            Ok(_) => return Ok(dir.clone()),
            Err(e) => why.push(format!("{}: {e}", dir.display())),
        }
    }
    Err(format!(
        "no directory accepts O_DIRECT ({}); pass --dir on a disk file system (tmpfs refuses it)",
        why.join("; ")
    ))
}

/// Creates `path` with `bytes` bytes of pseudo-random data, or reuses it if it
/// already has that size.
fn prepare_file(path: &Path, bytes: u64) -> Result<(), String> {
    if fs::metadata(path).is_ok_and(|m| m.len() == bytes) {
        return Ok(());
    }
    eprintln!(
        "iobench: creating {} ({} MiB), reused by later runs",
        path.display(),
        bytes >> 20
    );
    let mut f = fs::File::create(path).map_err(|e| format!("create {}: {e}", path.display()))?;
    let mut rng = Rng(0x5EED);
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        for w in chunk.chunks_mut(8) {
            w.copy_from_slice(&rng.block(u64::MAX).to_le_bytes());
        }
        let n = left.min(chunk.len() as u64) as usize;
        f.write_all(&chunk[..n])
            .map_err(|e| format!("write {}: {e}", path.display()))?;
        left -= n as u64;
    }
    f.sync_all()
        .map_err(|e| format!("fsync {}: {e}", path.display()))?;
    Ok(())
}

/// Makes sure the read file is in the page cache and returns the fraction
/// resident. With util-linux's `fincore` (which asks the kernel, `mincore`)
/// the check is exact; without it the file is read through once and the
/// answer is "assumed".
fn ensure_resident(env: &Env) -> Result<f64, String> {
    if env.fincore
        && let Some(r) = resident_fraction(&env.read_path)
        && r >= 0.999
    {
        return Ok(r);
    }
    let mut f = fs::File::open(&env.read_path).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 1 << 20];
    while f.read(&mut buf).map_err(|e| e.to_string())? > 0 {}
    if env.fincore {
        let r = resident_fraction(&env.read_path).unwrap_or(0.0);
        if r < 0.99 {
            return Err(format!(
                "only {:.1}% of {} stays in the page cache: not enough free memory for a cached benchmark",
                100.0 * r,
                env.read_path.display()
            ));
        }
        Ok(r)
    } else {
        Ok(1.0)
    }
}

fn resident_fraction(path: &Path) -> Option<f64> {
    let out = Command::new("fincore")
        .args(["--bytes", "--noheadings", "--output", "RES,SIZE"])
        .arg(path)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut nums = text.split_whitespace().map(|s| s.parse::<f64>().ok());
    let (res, size) = (nums.next()??, nums.next()??);
    Some(if size > 0.0 { res / size } else { 1.0 })
}

/// Runs one case for the configured time; returns operations per second.
fn measure(env: &Env, c: &Case) -> Result<Sample, String> {
    let cpu_before = thread_cpu();
    let wall = Instant::now();
    let ops_per_s = measure_rate(env, c)?;
    let wall = wall.elapsed().as_secs_f64();
    let cpu = match (&c.kind, cpu_before, thread_cpu()) {
        (Kind::Fio(..) | Kind::Write(Writer::Fio(_)), ..) => env.fio_cpu.take(),
        (_, Some(a), Some(b)) => Some((b - a) / wall),
        _ => None,
    };
    Ok(Sample { ops_per_s, cpu })
}

/// One case's figures.
#[derive(Clone, Copy, Debug)]
struct Sample {
    ops_per_s: f64,
    /// CPU time of the thread doing the work over wall time (fio's own
    /// figure for fio): well below 1 for a case that should keep a CPU busy
    /// means other programs took it.
    cpu: Option<f64>,
}

/// Seconds the calling thread has run on a CPU, from the scheduler.
fn thread_cpu() -> Option<f64> {
    let s = fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn measure_rate(env: &Env, c: &Case) -> Result<f64, String> {
    let direct = c.group == Group::Direct;
    let stop = env.stop();
    let mut rng = Rng(seed(env, c));
    let (ops, elapsed) = match &c.kind {
        Kind::RawPread => raw_pread(env, direct, &mut rng)?,
        Kind::RawUring(setup, qd) => {
            let f = open_std(&env.read_path, direct, false)?;
            let blocks = env.blocks();
            raw_uring::random_reads(&f, BLOCK, *qd, false, *setup, stop, &mut || rng.block(blocks))
                .map_err(|e| e.to_string())?
        }
        Kind::Ratchet(backend, qd) => {
            let io: &dyn IO = match backend {
                Backend::Blocking => &env.blocking,
                Backend::Uring => env.uring.as_ref().ok_or("io_uring unavailable")?,
                Backend::UringFixed => env.uring_fixed.as_ref().ok_or("io_uring unavailable")?,
                Backend::UringSetup(setup) => env
                    .uring_setups
                    .iter()
                    .find(|(s, _)| s == setup)
                    .map(|(_, io)| io)
                    .ok_or("io_uring unavailable")?,
            };
            let file = io
                .open_file(&env.read_path, OpenOptions::read_only().direct(direct))
                .map_err(|e| e.to_string())?;
            ratchet_reads(io, &file, *qd, env.blocks(), stop, &mut rng)?
        }
        Kind::Fio(engine, qd) => {
            let iops = fio(env, &fio_read_args(env, engine, *qd, direct))?;
            return Ok(iops);
        }
        Kind::Write(Writer::Fio(engine)) => {
            let iops = fio(env, &fio_write_args(env, engine))?;
            return Ok(iops);
        }
        Kind::Write(Writer::Raw) => raw_writes(env)?,
        Kind::Write(Writer::Ratchet(backend)) => {
            let io: &dyn IO = match backend {
                Backend::Blocking => &env.blocking,
                Backend::Uring => env.uring.as_ref().ok_or("io_uring unavailable")?,
                Backend::UringFixed => env.uring_fixed.as_ref().ok_or("io_uring unavailable")?,
                Backend::UringSetup(setup) => env
                    .uring_setups
                    .iter()
                    .find(|(s, _)| s == setup)
                    .map(|(_, io)| io)
                    .ok_or("io_uring unavailable")?,
            };
            ratchet_writes(env, io)?
        }
    };
    Ok(ops as f64 / elapsed.as_secs_f64())
}

/// The first state of a case's offset generator: a fresh one for each case
/// and round (the clock and a counter), so that no case rereads the offsets
/// an earlier case or run has read. A virtual disk may be cached by its host
/// below the guest's `O_DIRECT`: a sequence read again finds its blocks
/// there and goes about 1.6 times as fast (fio with `--randrepeat=1`, the
/// same sequence every run, against `--randrepeat=0` here), so a case that
/// repeats a sequence measures that cache, not the path to the device.
/// `--ops` (instruction counts) keeps one sequence per case, so that its
/// runs are alike.
fn seed(env: &Env, c: &Case) -> u64 {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let base = 0x9E37_79B9_7F4A_7C15 ^ (c.name.len() as u64) << 32;
    if env.ops.is_some() {
        return base;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    (base ^ now ^ n.wrapping_mul(0xD1B5_4A32_D192_ED03)) | 1
}

fn open_std(path: &Path, direct: bool, write: bool) -> Result<fs::File, String> {
    let mut o = fs::OpenOptions::new();
    o.read(true).write(write);
    if direct {
        o.custom_flags(libc::O_DIRECT);
    }
    o.open(path).map_err(|e| format!("open {}: {e}", path.display()))
}

/// The raw reference: `pread` into one buffer, one read at a time.
fn raw_pread(env: &Env, direct: bool, rng: &mut Rng) -> Result<(u64, Duration), String> {
    let f = open_std(&env.read_path, direct, false)?;
    let buf = Buffer::new_aligned(BLOCK);
    let mut bytes = buf.as_mut_slice();
    let blocks = env.blocks();
    let stop = env.stop();
    let start = Instant::now();
    let mut ops = 0u64;
    loop {
        let n = f
            .read_at(&mut bytes[..], rng.block(blocks) * BLOCK as u64)
            .map_err(|e| e.to_string())?;
        if n != BLOCK {
            return Err(format!("short read: {n}"));
        }
        ops += 1;
        if ops.is_multiple_of(CLOCK_EVERY) && stop.reached(ops, start) {
            return Ok((ops, start.elapsed()));
        }
    }
}

/// ratchet's cases: keeps `qd` reads in flight through the `File` API,
/// reissuing each read (into the same buffer) as soon as it has finished,
/// stepping the backend whenever none has.
fn ratchet_reads(
    io: &dyn IO,
    file: &Arc<dyn File>,
    qd: usize,
    blocks: u64,
    stop: Stop,
    rng: &mut Rng,
) -> Result<(u64, Duration), String> {
    if qd == 1 {
        return ratchet_reads_qd1(io, file, blocks, stop, rng);
    }
    let err = |e: ratchet::CompletionError| e.to_string();
    let mut slots: Vec<Option<(Arc<Buffer>, Completion)>> = Vec::with_capacity(qd);
    for _ in 0..qd {
        // Page-aligned, as a storage engine's page buffers are, and as the
        // references' buffers are: a 4 KiB buffer that straddles two pages
        // makes the kernel's copy measurably slower.
        let buf = Arc::new(Buffer::new_aligned(BLOCK));
        let c = file
            .pread(rng.block(blocks) * BLOCK as u64, Completion::read(buf.clone()))
            .map_err(err)?;
        slots.push(Some((buf, c)));
    }
    let start = Instant::now();
    let mut ops = 0u64;
    let mut next_clock = CLOCK_EVERY;
    let mut live = qd;
    let mut stopping = false;
    while live > 0 {
        let mut progressed = false;
        for slot in &mut slots {
            let Some((buf, c)) = slot else { continue };
            // One look at the outcome: `result()` is `None` until finished.
            match c.result() {
                None => continue,
                Some(Ok(n)) if n as usize == BLOCK => {}
                other => return Err(format!("read ended with {other:?}")),
            }
            progressed = true;
            ops += 1;
            if stopping {
                *slot = None;
                live -= 1;
            } else {
                *c = file
                    .pread(rng.block(blocks) * BLOCK as u64, Completion::read(buf.clone()))
                    .map_err(err)?;
            }
        }
        if !progressed {
            io.step().map_err(err)?;
        }
        if !stopping && ops >= next_clock {
            next_clock = ops + CLOCK_EVERY;
            stopping = stop.reached(ops, start);
        }
    }
    Ok((ops, start.elapsed()))
}

/// [`ratchet_reads`] at queue depth 1, as a caller with one read at a time
/// writes it: no slots to walk, the next read issued as soon as the one
/// before has finished (stepping the backend until then). The same reads
/// in the same order as the general loop's, each one `Completion::read`
/// through `dyn File`, and as many of them for the same `--ops`.
fn ratchet_reads_qd1(
    io: &dyn IO,
    file: &Arc<dyn File>,
    blocks: u64,
    stop: Stop,
    rng: &mut Rng,
) -> Result<(u64, Duration), String> {
    let err = |e: ratchet::CompletionError| e.to_string();
    // Page-aligned, as in `ratchet_reads`.
    let buf = Arc::new(Buffer::new_aligned(BLOCK));
    let mut c = file
        .pread(rng.block(blocks) * BLOCK as u64, Completion::read(buf.clone()))
        .map_err(err)?;
    let start = Instant::now();
    let mut ops = 0u64;
    let mut next_clock = CLOCK_EVERY;
    let mut stopping = false;
    loop {
        let outcome = loop {
            match c.result() {
                Some(outcome) => break outcome,
                None => {
                    io.step().map_err(err)?;
                }
            }
        };
        match outcome {
            Ok(n) if n as usize == BLOCK => {}
            other => return Err(format!("read ended with {other:?}")),
        }
        ops += 1;
        if stopping {
            return Ok((ops, start.elapsed()));
        }
        c = file
            .pread(rng.block(blocks) * BLOCK as u64, Completion::read(buf.clone()))
            .map_err(err)?;
        if ops >= next_clock {
            next_clock = ops + CLOCK_EVERY;
            stopping = stop.reached(ops, start);
        }
    }
}

fn write_buffer() -> Arc<Buffer> {
    let buf = Buffer::new_aligned(WRITE_BLOCK);
    let mut rng = Rng(0xC0FFEE);
    for w in buf.as_mut_slice().chunks_mut(8) {
        w.copy_from_slice(&rng.block(u64::MAX).to_le_bytes());
    }
    Arc::new(buf)
}

/// The raw write reference: `pwrite` 1 MiB at a time, `fsync` every 16.
fn raw_writes(env: &Env) -> Result<(u64, Duration), String> {
    let f = open_std(&env.write_path, false, true)?;
    let buf = write_buffer();
    let data = buf.as_slice();
    let slots = env.write_bytes / WRITE_BLOCK as u64;
    let stop = env.stop();
    let start = Instant::now();
    let mut ops = 0u64;
    loop {
        for _ in 0..WRITES_PER_SYNC {
            f.write_all_at(&data[..], (ops % slots) * WRITE_BLOCK as u64)
                .map_err(|e| e.to_string())?;
            ops += 1;
        }
        f.sync_all().map_err(|e| e.to_string())?;
        if stop.reached(ops, start) {
            return Ok((ops, start.elapsed()));
        }
    }
}

/// ratchet's write case: batches of 16 writes of 1 MiB, each followed by a
/// sync (which the backend runs once the batch's writes are done, and only
/// those), with [`WRITE_BATCHES_IN_FLIGHT`] batches in flight: the next
/// batch is written while the previous one is being synced.
fn ratchet_writes(env: &Env, io: &dyn IO) -> Result<(u64, Duration), String> {
    let err = |e: ratchet::CompletionError| e.to_string();
    let file = io
        .open_file(&env.write_path, OpenOptions::existing())
        .map_err(|e| e.to_string())?;
    let buf = write_buffer();
    let slots = env.write_bytes / WRITE_BLOCK as u64;
    let stop = env.stop();
    let start = Instant::now();
    let mut issued = 0u64;
    let mut done = 0u64;
    let mut batches: std::collections::VecDeque<(Vec<Completion>, Completion)> = Default::default();
    let mut stopping = false;
    while !(stopping && batches.is_empty()) {
        if !stopping && batches.len() < WRITE_BATCHES_IN_FLIGHT {
            let mut writes = Vec::with_capacity(WRITES_PER_SYNC);
            for _ in 0..WRITES_PER_SYNC {
                let pos = (issued % slots) * WRITE_BLOCK as u64;
                writes.push(file.pwrite(pos, buf.clone(), Completion::write()).map_err(err)?);
                issued += 1;
            }
            let sync = file.sync(Completion::sync()).map_err(err)?;
            batches.push_back((writes, sync));
            continue;
        }
        let Some((writes, sync)) = batches.pop_front() else {
            break;
        };
        io.wait(&sync).map_err(err)?;
        for w in &writes {
            if w.result() != Some(Ok(WRITE_BLOCK as i32)) {
                return Err(format!(
                    "a write synced before it finished, or failed: {:?}",
                    w.result()
                ));
            }
        }
        done += writes.len() as u64;
        stopping = stop.reached(done, start);
    }
    Ok((done, start.elapsed()))
}

fn fio_version() -> Option<String> {
    let out = Command::new("fio").arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn fio_common(env: &Env) -> Vec<String> {
    vec![
        "--name=iobench".into(),
        "--time_based".into(),
        format!("--runtime={}ms", (env.seconds * 1000.0) as u64),
        "--invalidate=0".into(),
        "--gtod_reduce=1".into(),
        "--norandommap".into(),
        // A fresh sequence of offsets each run, as ratchet's cases and the
        // raw loops get (see `seed`).
        "--randrepeat=0".into(),
        "--output-format=json".into(),
    ]
}

fn fio_read_args(env: &Env, engine: &str, qd: usize, direct: bool) -> Vec<String> {
    let mut a = fio_common(env);
    a.extend([
        format!("--filename={}", env.read_path.display()),
        format!("--size={}", env.read_bytes),
        "--rw=randread".into(),
        format!("--bs={BLOCK}"),
        format!("--ioengine={engine}"),
        format!("--iodepth={qd}"),
        format!("--direct={}", u8::from(direct)),
    ]);
    a
}

fn fio_write_args(env: &Env, engine: &str) -> Vec<String> {
    let mut a = fio_common(env);
    a.extend([
        format!("--filename={}", env.write_path.display()),
        format!("--size={}", env.write_bytes),
        "--rw=write".into(),
        format!("--bs={WRITE_BLOCK}"),
        format!("--ioengine={engine}"),
        format!(
            "--iodepth={}",
            if engine == "psync" {
                1
            } else {
                WRITES_PER_SYNC * WRITE_BATCHES_IN_FLIGHT
            }
        ),
        format!("--fsync={WRITES_PER_SYNC}"),
    ]);
    a
}

/// Runs fio and returns the IOPS of its (only) job, read or write.
fn fio(env: &Env, args: &[String]) -> Result<f64, String> {
    let out = Command::new("fio")
        .args(args)
        .current_dir(&env.dir)
        .output()
        .map_err(|e| format!("fio: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let number_after = |key: &str| -> Option<f64> {
        let at = text.find(key)? + key.len();
        let num: String = text[at..]
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        num.parse().ok()
    };
    if let (Some(usr), Some(sys)) = (number_after("\"usr_cpu\""), number_after("\"sys_cpu\"")) {
        env.fio_cpu.set(Some((usr + sys) / 100.0));
    }
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map_or_else(|| out.status.to_string(), |l| l.trim().to_string());
        return Err(format!("fio failed: {why}"));
    }
    // The job's result section, not the job options (`"rw" : "write"`).
    let rw = if args.iter().any(|a| a == "--rw=write") {
        "\"write\" : {"
    } else {
        "\"read\" : {"
    };
    let section = text.find(rw).ok_or("no result section in fio's output")?;
    let rest = &text[section..];
    let at = rest.find("\"iops\"").ok_or("no iops in fio's output")?;
    let num: String = rest[at + 6..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse().map_err(|e| format!("fio iops `{num}`: {e}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn human(ops_per_s: f64) -> String {
    if ops_per_s >= 1e6 {
        format!("{:.2}M/s", ops_per_s / 1e6)
    } else if ops_per_s >= 1e3 {
        format!("{:.1}k/s", ops_per_s / 1e3)
    } else {
        format!("{ops_per_s:.1}/s")
    }
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// How the run went, besides the figures.
struct RunInfo {
    /// The lowest page-cache residency seen before a cached case.
    residency: Option<f64>,
    /// Cases that failed, with why.
    failures: BTreeMap<String, String>,
    load_before: String,
    took: Duration,
}

/// The references a ratchet case is compared with, by column.
fn references(c: &Case) -> [Option<String>; 4] {
    let p = match c.group {
        Group::Cached => "",
        Group::Direct => "direct_",
        Group::Writes => "write_",
    };
    match c.kind {
        Kind::Ratchet(backend, qd) => [
            Some(format!("{p}raw_pread")),
            Some(match backend {
                Backend::UringSetup(Setup::Eager) => format!("{p}raw_uring_each_qd{qd}"),
                Backend::UringSetup(s) => format!("{p}raw_uring{}_qd{qd}", s.suffix()),
                _ => format!("{p}raw_uring_qd{qd}"),
            }),
            Some(format!("{p}fio_psync_qd1")),
            Some(format!("{p}fio_io_uring_qd{qd}")),
        ],
        Kind::Write(Writer::Ratchet(_)) => [
            Some(format!("{p}raw_pwrite")),
            None,
            Some(format!("{p}fio_psync")),
            Some(format!("{p}fio_io_uring")),
        ],
        _ => [None, None, None, None],
    }
}

fn report(env: &Env, args: &Args, cases: &[Case], m: &BTreeMap<String, Sample>, info: &RunInfo) {
    let RunInfo {
        residency,
        failures,
        load_before,
        took,
    } = info;
    let osrelease = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!(
        "iobench{} — {} rounds x {:.1} s per case, medians",
        if args.quick { " --quick" } else { "" },
        args.rounds,
        args.seconds
    );
    println!(
        "machine: Linux {}, {cpus} CPUs, load average {load_before} before / {} after, run took {:.0} s",
        osrelease.trim(),
        loadavg(),
        took.as_secs_f64()
    );
    println!(
        "files: {} ({} MiB) and {} ({} MiB)",
        env.read_path.display(),
        env.read_bytes >> 20,
        env.write_path.display(),
        env.write_bytes >> 20
    );
    println!(
        "UringIO: {}",
        env.uring
            .as_ref()
            .map_or("unavailable".to_string(), UringIO::describe)
    );
    if let Some(fixed) = &env.uring_fixed {
        println!("UringIO for uring_fixed: {}", fixed.describe());
    }
    println!(
        "fio: {}",
        env.fio
            .as_deref()
            .unwrap_or("not installed (apt-get install fio)")
    );
    match (env.fincore, residency) {
        (true, Some(r)) => println!(
            "page cache: checked with fincore before each cached case; lowest residency {:.1}%",
            100.0 * r
        ),
        (false, Some(_)) => println!(
            "page cache: fincore (util-linux) missing, so the file was read through before each cached case, not checked"
        ),
        _ => {}
    }
    let mut group = None;
    for c in cases {
        if group != Some(c.group) {
            group = Some(c.group);
            let cols = match c.group {
                Group::Writes => ["/raw_pwrite", "", "/fio_psync", "/fio_uring"],
                _ => ["/raw_pread", "/raw_uring", "/fio_psync", "/fio_uring"],
            };
            println!();
            println!("{}", c.group.title());
            println!(
                "  {:<26} {:>12} {:>9} {:>5} {:>11} {:>11} {:>11} {:>11}",
                "case", "ops/s", "µs/op", "cpu", cols[0], cols[1], cols[2], cols[3]
            );
        }
        let Some(s) = m.get(&c.name) else { continue };
        let v = s.ops_per_s;
        let cpu = s.cpu.map_or("-".to_string(), |c| format!("{:.0}%", 100.0 * c));
        let mut line = format!("  {:<26} {:>12.0} {:>9.2} {cpu:>5}", c.name, v, 1e6 / v);
        for r in references(c) {
            let cell = r
                .and_then(|r| m.get(&r))
                .map_or("-".to_string(), |base| format!("{:.2}", v / base.ops_per_s));
            line.push_str(&format!(" {cell:>11}"));
        }
        println!("{line}");
    }
    if !failures.is_empty() {
        println!();
        for (name, e) in failures {
            println!("failed: {name}: {e}");
        }
    }
    println!();
    println!("µs/op is 1 / throughput: at queue depth N each operation takes about N times longer.");
    println!(
        "cpu is the on-CPU time of the thread doing the work (fio: its own usr+sys) over wall time;\n\
         well under 100% for a cached case means other programs took the CPU."
    );
    let per_cpu = |a: &str, b: &str| match (m.get(a), m.get(b)) {
        (Some(x), Some(y)) => match (x.cpu, y.cpu) {
            (Some(cx), Some(cy)) if cx > 0.0 && cy > 0.0 => {
                format!("{:.2}", (x.ops_per_s / cx) / (y.ops_per_s / cy))
            }
            _ => "n/a".to_string(),
        },
        _ => "n/a".to_string(),
    };
    println!(
        "per CPU-second (less sensitive to other load): uring_qd32/fio={} blocking/raw_pread={} uring_qd32/raw_uring={}",
        per_cpu("uring_qd32", "fio_io_uring_qd32"),
        per_cpu("blocking_qd1", "raw_pread"),
        per_cpu("uring_qd32", "raw_uring_qd32"),
    );
    let ratio = |a: &str, b: &str| match (m.get(a), m.get(b)) {
        (Some(x), Some(y)) => format!("{:.2}", x.ops_per_s / y.ops_per_s),
        _ => "n/a".to_string(),
    };
    println!(
        "O_DIRECT QD 32, registered buffers: direct_uring_fixed_qd32/direct_uring_qd32={} direct_uring_fixed_qd32/fio={}",
        ratio("direct_uring_fixed_qd32", "direct_uring_qd32"),
        ratio("direct_uring_fixed_qd32", "direct_fio_io_uring_qd32"),
    );
    println!(
        "summary: uring_qd32/fio={} blocking/raw_pread={} uring_qd32/raw_uring={} direct_uring_qd32/fio={}",
        ratio("uring_qd32", "fio_io_uring_qd32"),
        ratio("blocking_qd1", "raw_pread"),
        ratio("uring_qd32", "raw_uring_qd32"),
        ratio("direct_uring_qd32", "direct_fio_io_uring_qd32"),
    );
}

/// The raw io_uring reference: a bare loop on the `io-uring` crate, its ring
/// set up with the flags `UringIO` asks for by default, and nothing else.
/// Benchmark code, not ratchet's: its `unsafe` says why each use is sound.
#[allow(unsafe_code)]
mod raw_uring {
    use std::alloc::{Layout, alloc_zeroed, dealloc};
    use std::fs;
    use std::io;
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};

    use io_uring::{IoUring, opcode, types};

    use super::{CLOCK_EVERY, Setup, Stop};

    /// `UringIO`'s default set-up: 256 SQ entries, a CQ of 1,024,
    /// `COOP_TASKRUN`, `SINGLE_ISSUER` (enabled by the first submitting
    /// thread), `DEFER_TASKRUN`, `TASKRUN_FLAG` and `SUBMIT_ALL`, each dropped
    /// in the same order as `UringIO` drops them where the kernel refuses.
    fn ring(setup: Setup) -> io::Result<(IoUring, bool)> {
        let mut last = None;
        let (c, s, d) = setup.flags();
        for (coop, single, defer) in [(c, s, d), (c, s, false), (c, false, false), (false, false, false)] {
            let mut b = IoUring::builder();
            b.setup_cqsize(1024);
            if coop {
                b.setup_coop_taskrun();
            }
            if single {
                b.setup_single_issuer().setup_r_disabled();
            }
            if defer {
                b.setup_defer_taskrun();
            }
            if coop || defer {
                b.setup_taskrun_flag();
            }
            b.setup_submit_all();
            match b.build(256) {
                Ok(ring) => return Ok((ring, single)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("io_uring_setup failed")))
    }

    /// A zeroed, page-aligned allocation, as `Buffer::new_aligned` makes.
    struct Aligned {
        ptr: *mut u8,
        layout: Layout,
    }

    impl Aligned {
        fn new(len: usize) -> Aligned {
            let layout = Layout::from_size_align(len.max(1), 4096).expect("a valid layout");
            // SAFETY: the layout has a non-zero size.
            let ptr = unsafe { alloc_zeroed(layout) };
            assert!(!ptr.is_null(), "out of memory");
            Aligned { ptr, layout }
        }
    }

    impl Drop for Aligned {
        fn drop(&mut self) {
            // SAFETY: allocated in `new` with this layout, freed once.
            unsafe { dealloc(self.ptr, self.layout) }
        }
    }

    /// Random reads of `block` bytes, `qd` at a time, until `stop`; returns
    /// the reads done and the time taken. `fixed` registers the buffers
    /// (`IORING_REGISTER_BUFFERS`) and reads with `READ_FIXED`.
    pub(super) fn random_reads(
        file: &fs::File,
        block: usize,
        qd: usize,
        fixed: bool,
        setup: Setup,
        stop: Stop,
        next_block: &mut dyn FnMut() -> u64,
    ) -> io::Result<(u64, Duration)> {
        let (mut ring, single) = ring(setup)?;
        let each = setup == Setup::Each;
        if single {
            ring.submitter().register_enable_rings()?;
        }
        let qd = qd.clamp(1, 256);
        let bufs: Vec<Aligned> = (0..qd).map(|_| Aligned::new(block)).collect();
        if fixed {
            let iov: Vec<libc::iovec> = bufs
                .iter()
                .map(|b| libc::iovec {
                    iov_base: b.ptr.cast(),
                    iov_len: block,
                })
                .collect();
            // SAFETY: each iovec covers one allocation of `bufs`, which
            // outlives the registration: the ring is dropped (unregistering
            // them) before `bufs` at the end of this function, and both are
            // leaked there if reads are still in flight.
            unsafe { ring.submitter().register_buffers(&iov) }?;
        }
        let fd = types::Fd(file.as_raw_fd());
        let block_u32 = u32::try_from(block).map_err(|_| io::Error::other("block too large"))?;
        let read = |i: usize, block_no: u64| {
            let at = block_no * block as u64;
            let entry = if fixed {
                opcode::ReadFixed::new(fd, bufs[i].ptr, block_u32, i as u16)
                    .offset(at)
                    .build()
            } else {
                opcode::Read::new(fd, bufs[i].ptr, block_u32).offset(at).build()
            };
            entry.user_data(i as u64)
        };
        let mut in_flight = 0usize;
        let mut ops = 0u64;
        let start = Instant::now();
        let result = (|| {
            let (submitter, mut sq, mut cq) = ring.split();
            for i in 0..qd {
                // SAFETY: the entry points into `bufs[i]`, which is freed
                // only after every read has completed (or leaked, below), and
                // at most one read per buffer is in flight; `fd` is borrowed
                // from `file`, which outlives this call.
                unsafe { sq.push(&read(i, next_block())) }.map_err(|_| io::Error::other("SQ full"))?;
                in_flight += 1;
            }
            sq.sync();
            let mut stopping = false;
            let mut next_clock = CLOCK_EVERY;
            let mut failed = None;
            while in_flight > 0 {
                match submitter.submit_and_wait(1) {
                    Ok(_) => {}
                    Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                    Err(e) => return Err(e),
                }
                cq.sync();
                for cqe in &mut cq {
                    in_flight -= 1;
                    if cqe.result() != block as i32 {
                        failed.get_or_insert(cqe.result());
                        stopping = true;
                        continue;
                    }
                    ops += 1;
                    if !stopping {
                        // SAFETY: as above; buffer `user_data` is free
                        // again, its CQE has just arrived.
                        unsafe { sq.push(&read(cqe.user_data() as usize, next_block())) }
                            .map_err(|_| io::Error::other("SQ full"))?;
                        in_flight += 1;
                        if each {
                            sq.sync();
                            // SAFETY: GETEVENTS with no wait and no
                            // argument: the kernel reads no user memory.
                            loop {
                                match unsafe { submitter.enter::<libc::sigset_t>(1, 0, 1, None) } {
                                    Ok(_) => break,
                                    Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                                    Err(e) => return Err(e),
                                }
                            }
                        }
                    }
                }
                sq.sync();
                if !stopping && ops >= next_clock {
                    next_clock = ops + CLOCK_EVERY;
                    stopping = stop.reached(ops, start);
                }
            }
            match failed {
                Some(res) if res < 0 => Err(io::Error::from_raw_os_error(-res)),
                Some(res) => Err(io::Error::other(format!("short read of {res} bytes"))),
                None => Ok(()),
            }
        })();
        let elapsed = start.elapsed();
        if in_flight > 0 {
            // Left on an error with reads in flight: the kernel may still
            // write into the buffers, so they must never be freed.
            std::mem::forget(bufs);
            std::mem::forget(ring);
        } else {
            drop(ring);
            drop(bufs);
        }
        result.map(|()| (ops, elapsed))
    }
}
