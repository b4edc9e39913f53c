//! `--concurrency-bench`: what many requests in flight on one engine buy.
//!
//! One store, several times larger than the page cache, its data file read
//! with `O_DIRECT` so that every miss of the page cache reaches the device.
//! The same random gets run as io_uring with 32 clients in flight, io_uring
//! with 1, and blocking I/O with 1 (each on a freshly opened engine, after a
//! short warm-up that fills the cache's upper levels), and fio reads random
//! 4 KiB blocks of the same data file with `O_DIRECT` at io_uring queue
//! depth 32 and psync queue depth 1: the device's own gain from queue depth.
//! Cases are interleaved, round after round, so that a change in the
//! machine's load touches all of them; each reports its median round.
//!
//! The last line is
//! `summary: gets_uring_c32/blocking_c1=R gets_uring_c32/uring_c1=R fio_qd32/qd1=R`;
//! the goal is both gets ratios at least 0.85 × `fio_qd32/qd1`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ratchet::{BlockingIO, IO, OpenOptions};

use crate::clients::{self, Depth, Gets, Probe, Until, Waits};
use crate::engine::{self, Engine, Options};
use crate::{Args, Progress, TXN_OPS, group_digits, key_of, value_of};

/// Keys of the store with `--quick` and without.
const QUICK_KEYS: u64 = 200_000;
const FULL_KEYS: u64 = 1_000_000;

/// The page cache holds this fraction of the store's pages.
const CACHE_FRACTION: u64 = 8;

/// Rounds of every case.
const ROUNDS: usize = 3;

/// Clients of the concurrent case.
const CLIENTS: usize = 32;

/// How long each case measures, and warms up before, with `--quick` and
/// without.
const QUICK_SECONDS: f64 = 1.0;
const FULL_SECONDS: f64 = 3.0;
const WARM_UP_FRACTION: f64 = 0.3;

/// The share of `fio_qd32/qd1` each gets ratio should reach.
const GOAL: f64 = 0.85;

#[derive(Clone, Copy, PartialEq)]
enum Backend {
    Uring,
    Blocking,
}

#[derive(Clone, Copy)]
enum Case {
    Gets(Backend, usize),
    Fio(&'static str, usize),
}

impl Case {
    fn name(self) -> String {
        match self {
            Case::Gets(Backend::Uring, c) => format!("gets_uring_c{c}"),
            Case::Gets(Backend::Blocking, c) => format!("gets_blocking_c{c}"),
            Case::Fio(engine, qd) => format!("fio_{engine}_qd{qd}"),
        }
    }
}

/// One round of one case, with the device's mean reads in flight over it
/// where the system shows them.
enum Measured {
    Gets(Gets, Depth, Waits, Option<f64>),
    Fio(Fio, Option<f64>),
}

/// What fio reported.
struct Fio {
    iops: f64,
    /// Its user and system CPU over its run time, as a share of one CPU.
    cpu: Option<f64>,
}

impl Measured {
    fn rate(&self) -> f64 {
        match self {
            Measured::Gets(g, ..) => g.rate(),
            Measured::Fio(f, _) => f.iops,
        }
    }

    /// The share of a CPU it used, and (for ratchet's cases) the share of
    /// the time it was ready to run but waited for a CPU.
    fn cpu(&self) -> (Option<f64>, Option<f64>) {
        match self {
            Measured::Gets(g, ..) => match g.cpu_share() {
                Some((on, waiting)) => (Some(on), Some(waiting)),
                None => (None, None),
            },
            Measured::Fio(f, _) => (f.cpu, None),
        }
    }
}

struct Bench {
    dir: PathBuf,
    keys: u64,
    options: Options,
    seconds: f64,
    uring: Option<Arc<dyn IO>>,
    /// The same ring, for its queue counts.
    uring_stats: Option<Arc<ratchet::UringIO>>,
    blocking: Arc<dyn IO>,
}

pub fn run(args: &Args) -> Result<(), String> {
    let keys = args
        .keys
        .unwrap_or(if args.quick { QUICK_KEYS } else { FULL_KEYS });
    let seconds = if args.quick { QUICK_SECONDS } else { FULL_SECONDS };
    let mut _temp = None;
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            let t = direct_capable_tempdir()?;
            let path = t.path().to_owned();
            _temp = Some(t);
            path
        }
    };
    let uring_stats = match ratchet::UringIO::new() {
        Ok(io) => {
            say!("  UringIO: {}", io.describe());
            Some(Arc::new(io))
        }
        Err(e) => {
            say!("pagekv bench: io_uring is unavailable ({e}); its cases are skipped");
            None
        }
    };
    let uring = uring_stats.clone().map(|io| io as Arc<dyn IO>);
    let fio = fio_version();
    if fio.is_none() {
        say!(
            "pagekv bench: fio is not installed, so the device reference is skipped; install it with \
             `apt-get install fio`"
        );
    }
    let mut bench = Bench {
        dir,
        keys,
        options: Options::default(),
        seconds,
        uring,
        uring_stats,
        blocking: Arc::new(BlockingIO::new()),
    };
    let pages = bench.build()?;
    bench.options = Options {
        cache_pages: (pages / CACHE_FRACTION).max(64) as usize,
        direct: true,
        ..Options::default()
    };
    let data = bench.dir.join(engine::DATA_FILE);
    say!(
        "pagekv concurrency bench: {keys} keys, data file {pages} pages ({:.1} MiB), page cache {} pages (1/{CACHE_FRACTION}), \
         {ROUNDS} rounds of {seconds:.1} s per case, medians",
        (pages * engine::PAGE_SIZE as u64) as f64 / f64::from(1 << 20),
        bench.options.cache_pages
    );
    if let Some(v) = &fio {
        say!("  fio: {v}, O_DIRECT random 4 KiB reads of {}", data.display());
    }

    let mut cases = Vec::new();
    if bench.uring.is_some() {
        cases.push(Case::Gets(Backend::Uring, CLIENTS));
        cases.push(Case::Gets(Backend::Uring, 1));
    }
    cases.push(Case::Gets(Backend::Blocking, 1));
    if fio.is_some() {
        cases.push(Case::Fio("io_uring", CLIENTS));
        cases.push(Case::Fio("psync", 1));
    }
    let mut rounds: Vec<Vec<Measured>> = cases.iter().map(|_| Vec::new()).collect();
    for round in 0..ROUNDS {
        for (i, &case) in cases.iter().enumerate() {
            let m = bench
                .measure(case, round, &data)
                .map_err(|e| format!("{}: {e}", case.name()))?;
            rounds[i].push(m);
        }
    }

    say!(
        "  {:<20} {:>10} {:>6} {:>6} {:>9} {:>9} {:>10} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6}",
        "case",
        "ops/s",
        "cpu",
        "runq",
        "p50 µs",
        "p99 µs",
        "reads/get",
        "hits",
        "ring",
        "batch",
        "run µs",
        "sub µs",
        "dev"
    );
    let mut medians = Vec::new();
    for (case, mut ms) in cases.iter().zip(rounds) {
        ms.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
        let median = ms.swap_remove(ms.len() / 2);
        let percent = |c: Option<f64>| c.map_or_else(|| "-".to_owned(), |c| format!("{:.0}%", c * 100.0));
        let (cpu, runq) = median.cpu();
        let (cpu, runq) = (percent(cpu), percent(runq));
        let dev = |d: &Option<f64>| d.map_or_else(|| "-".to_owned(), |d| format!("{d:.1}"));
        match &median {
            Measured::Gets(g, depth, waits, device) => {
                let s = g.stats;
                let ring = |v: f64| {
                    if matches!(case, Case::Gets(Backend::Uring, _)) {
                        format!("{v:.1}")
                    } else {
                        "-".to_owned()
                    }
                };
                say!(
                    "  {:<20} {:>10} {:>6} {:>6} {:>9.0} {:>9.0} {:>10.2} {:>6.1}% {:>6} {:>6} {:>6} {:>6} {:>6}",
                    case.name(),
                    group_digits(g.rate() as u64),
                    cpu,
                    runq,
                    g.quantile(0.5).as_secs_f64() * 1e6,
                    g.quantile(0.99).as_secs_f64() * 1e6,
                    s.page_reads as f64 / g.gets.max(1) as f64,
                    s.cache_hits as f64 * 100.0 / (s.cache_hits + s.cache_misses).max(1) as f64,
                    ring(depth.at_sleep()),
                    ring(depth.batch()),
                    ring(waits.to_resume.as_secs_f64() * 1e6),
                    ring(waits.to_submit.as_secs_f64() * 1e6),
                    dev(device)
                );
            }
            Measured::Fio(f, device) => {
                say!(
                    "  {:<20} {:>10} {:>6} {:>6} {:>9} {:>9} {:>10} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6}",
                    case.name(),
                    group_digits(f.iops as u64),
                    cpu,
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    dev(device)
                );
            }
        }
        medians.push((*case, median.rate()));
    }
    let rate = |want: &str| medians.iter().find(|(c, _)| c.name() == want).map(|&(_, r)| r);
    let ratio = |a: &str, b: &str| match (rate(a), rate(b)) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    say!(
        "  cpu: share of one CPU the thread used (fio: its usr+sys); runq: share of the time it was ready \
         but waited for a CPU that other programs had"
    );
    say!(
        "  ring: reads at the ring (pushed, not yet reaped) when the driver sleeps in step, mean; batch: \
         completions per sleep; run: µs from a completion's finish to its request's resume; sub: µs from a \
         read's start to its entry into the kernel; dev: the device's reads in flight, sampled every ms"
    );
    let c32 = format!("gets_uring_c{CLIENTS}");
    let vs_blocking = ratio(&c32, "gets_blocking_c1");
    let vs_uring = ratio(&c32, "gets_uring_c1");
    let device = ratio(&format!("fio_io_uring_qd{CLIENTS}"), "fio_psync_qd1");
    let show = |r: Option<f64>| r.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}"));
    if let Some(device) = device {
        let goal = GOAL * device;
        let verdict = |r: Option<f64>| match r {
            Some(r) if r >= goal => "met",
            Some(_) => "missed",
            None => "not measured",
        };
        say!(
            "goal: both gets ratios >= {GOAL} x fio_qd32/qd1 = {goal:.2}: vs blocking {}, vs uring c1 {}",
            verdict(vs_blocking),
            verdict(vs_uring)
        );
    }
    say!(
        "summary: gets_uring_c32/blocking_c1={} gets_uring_c32/uring_c1={} fio_qd32/qd1={}",
        show(vs_blocking),
        show(vs_uring),
        show(device)
    );
    Ok(())
}

impl Bench {
    /// Loads the store (unless `--dir` already holds one of these keys) and
    /// folds its log into the data file; returns the data file's pages.
    fn build(&self) -> Result<u64, String> {
        let io = self.uring.as_ref().unwrap_or(&self.blocking);
        let options = Options {
            cache_pages: 4096,
            ..Options::default()
        };
        let (mut engine, report) =
            Engine::open_blocking(io, &self.dir, true, options).map_err(|e| format!("open: {e}"))?;
        let last = key_of(self.keys - 1);
        let loaded =
            !report.created && io.block(|| engine.get(&last)).ok().flatten() == Some(value_of(self.keys - 1));
        if !loaded {
            let mut p = Progress::new("build", self.keys);
            for i in 0..self.keys {
                let (k, v) = (key_of(i), value_of(i));
                io.block(|| engine.put(&k, &v))
                    .map_err(|e| format!("load: {e}"))?;
                if (i + 1) % TXN_OPS == 0 {
                    engine.commit().map_err(|e| format!("load: {e}"))?;
                    io.block(|| engine.sync()).map_err(|e| format!("load: {e}"))?;
                }
                p.tick(i + 1);
            }
            p.finish();
            engine.commit().map_err(|e| format!("load: {e}"))?;
        }
        io.block(|| engine.checkpoint())
            .map_err(|e| format!("checkpoint: {e}"))?;
        Ok(engine.pager.meta.page_count)
    }

    fn measure(&self, case: Case, round: usize, data: &Path) -> Result<Measured, String> {
        let dur = Duration::from_secs_f64(self.seconds);
        match case {
            Case::Gets(backend, clients) => {
                let io: &Arc<dyn IO> = match (backend, &self.uring) {
                    (Backend::Uring, Some(io)) => io,
                    (Backend::Uring, None) => return Err("io_uring unavailable".to_owned()),
                    (Backend::Blocking, _) => &self.blocking,
                };
                let (mut engine, _) = Engine::open_blocking(io, &self.dir, false, self.options)
                    .map_err(|e| format!("open: {e}"))?;
                let seed = 0x5EED ^ (round as u64) << 8 ^ clients as u64;
                let mut workload = clients::Workload {
                    clients,
                    keys: self.keys,
                    after_delete: false,
                    until: Until::Time(dur.mul_f64(WARM_UP_FRACTION)),
                    seed,
                };
                clients::run(&**io, &mut engine, &workload, None, None)?;
                let name = match (backend, clients) {
                    (Backend::Uring, 1) => "uring c1",
                    (Backend::Uring, _) => "uring c32",
                    (Backend::Blocking, _) => "blocking",
                };
                workload.until = Until::Time(dur);
                workload.seed = !seed;
                let mut p = Progress::timed(name, dur);
                let ring = self.uring_stats.as_ref().filter(|_| backend == Backend::Uring);
                let in_flight = move || ring.map_or(0, |u| u.stats().in_kernel);
                let probe = Probe::new(&**io, &in_flight);
                let device = DeviceDepth::start(data);
                let gets = clients::run(&probe, &mut engine, &workload, Some(&probe.timing), Some(&mut p))?;
                let device = device.and_then(DeviceDepth::finish);
                p.finish();
                Ok(Measured::Gets(gets, probe.depth(), probe.timing.waits(), device))
            }
            Case::Fio(engine, qd) => {
                let p = Progress::timed(if qd == 1 { "fio qd1" } else { "fio qd32" }, dur);
                let device = DeviceDepth::start(data);
                let f = fio(data, engine, qd, dur)?;
                let device = device.and_then(DeviceDepth::finish);
                p.finish();
                Ok(Measured::Fio(f, device))
            }
        }
    }
}

/// A temporary directory whose files accept `O_DIRECT` (tmpfs refuses it):
/// the system's temporary directory, else `/var/tmp`.
pub fn direct_capable_tempdir() -> Result<tempfile::TempDir, String> {
    let mut why = String::new();
    for parent in [std::env::temp_dir(), PathBuf::from("/var/tmp")] {
        let t = match tempfile::Builder::new().prefix("pagekv-").tempdir_in(&parent) {
            Ok(t) => t,
            Err(e) => {
                why = format!("{}: {e}", parent.display());
                continue;
            }
        };
        let probe = t.path().join("probe");
        match BlockingIO::new().open_file(&probe, OpenOptions::new().direct(true)) {
            Ok(_) => return Ok(t),
            Err(e) => why = format!("{} refuses O_DIRECT: {e}", parent.display()),
        }
    }
    Err(format!(
        "no temporary directory for an O_DIRECT store ({why}); pass --dir"
    ))
}

fn fio_version() -> Option<String> {
    let out = Command::new("fio").arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// fio's random 4 KiB `O_DIRECT` reads of `file` for `dur`.
fn fio(file: &Path, engine: &str, qd: usize, dur: Duration) -> Result<Fio, String> {
    let started = Instant::now();
    let out = Command::new("fio")
        .args([
            "--name=pagekv".to_owned(),
            format!("--filename={}", file.display()),
            "--readonly".to_owned(),
            "--rw=randread".to_owned(),
            format!("--bs={}", engine::PAGE_SIZE),
            "--direct=1".to_owned(),
            format!("--ioengine={engine}"),
            format!("--iodepth={qd}"),
            "--time_based".to_owned(),
            format!("--runtime={}ms", dur.as_millis()),
            "--norandommap".to_owned(),
            "--output-format=terse".to_owned(),
            "--terse-version=3".to_owned(),
        ])
        .output()
        .map_err(|e| format!("cannot run fio: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(format!("fio failed ({}): {last}", out.status));
    }
    // Terse version 3: the read IOPS are the 8th field, the user and
    // system CPU the 88th and 89th (percentages).
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("3;"))
        .ok_or_else(|| format!("no terse result in fio's output after {:?}", started.elapsed()))?;
    let fields: Vec<&str> = line.split(';').collect();
    let number = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.trim_end_matches('%').parse::<f64>().ok())
    };
    let iops = number(7).ok_or_else(|| format!("cannot read the IOPS in fio's line `{line}`"))?;
    let cpu = number(87).zip(number(88)).map(|(usr, sys)| (usr + sys) / 100.0);
    Ok(Fio { iops, cpu })
}

/// The reads in flight at the block device that holds a file, sampled
/// every millisecond by a thread of its own until [`DeviceDepth::finish`]:
/// what the device itself is asked to do at once, whoever asks.
struct DeviceDepth {
    stop: Arc<AtomicBool>,
    sampler: std::thread::JoinHandle<(u64, u64)>,
}

impl DeviceDepth {
    /// `None` where the system does not show the device's counts.
    fn start(file: &Path) -> Option<DeviceDepth> {
        use std::os::unix::fs::MetadataExt;
        let dev = std::fs::metadata(file).ok()?.dev();
        // Linux's encoding of a device number (glibc's `major`/`minor`).
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
        let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
        let path = PathBuf::from(format!("/sys/dev/block/{major}:{minor}/inflight"));
        let reads = move || -> Option<u64> {
            let text = std::fs::read_to_string(&path).ok()?;
            text.split_whitespace().next()?.parse().ok()
        };
        reads()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let sampler = std::thread::spawn(move || {
            let (mut sum, mut samples) = (0, 0);
            while !stopped.load(Ordering::Relaxed) {
                if let Some(n) = reads() {
                    sum += n;
                    samples += 1;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            (sum, samples)
        });
        Some(DeviceDepth { stop, sampler })
    }

    /// The mean of the samples.
    fn finish(self) -> Option<f64> {
        self.stop.store(true, Ordering::Relaxed);
        let (sum, samples) = self.sampler.join().ok()?;
        (samples > 0).then(|| sum as f64 / samples as f64)
    }
}
