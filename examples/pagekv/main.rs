//! pagekv: a small storage engine written with `#[io_state_machine]`
//! throughout, run end to end.
//!
//! ```text
//! cargo run --release --example pagekv -- [--keys N] [--io blocking|uring|memory] [--quick] [--dir PATH]
//!                                          [--clients N] [--direct] [--concurrency-bench]
//! ```
//!
//! It loads N keys in key order (transactions of [`TXN_OPS`] puts, group
//! commits of [`GROUP_TXNS`] transactions), reads them back in random
//! order, deletes a random tenth of them, closes and reopens the store
//! (recovery), and verifies every key: present with its value, or deleted.
//! With `--clients N`, a phase after the reopen runs random gets with N of
//! them in flight at once on the one engine and thread (a
//! [`ratchet::Driver`]), and prints gets/s and the p50/p99 latency; with
//! `--direct` pages are read from the data file with `O_DIRECT`, so that
//! misses of the page cache reach the device. Each phase shows a progress
//! line on stderr when it is a terminal and prints its throughput; a summary
//! ends the run. Without `--dir` the store lives in a temporary directory,
//! removed at exit; with it, in `PATH/pagekv.db` and `PATH/pagekv.wal`,
//! which are kept (and reused by the next run).
//!
//! `--concurrency-bench` measures instead the same random gets, `O_DIRECT`,
//! as io_uring with 32 clients, io_uring with 1 and blocking I/O with 1, on
//! one store, interleaved, against fio's random reads of the data file at
//! queue depth 32 and 1 (see `bench.rs`).
//!
//! The engine is `examples/pagekv/engine/`: fixed-size pages in one data
//! file, a page cache, a B+tree with node splits, a write-ahead log with group
//! commit and a checkpoint that copies logged pages into the data file in
//! batches and truncates the log. Every I/O path is a machine driven by
//! `IOExt::block`; none blocks inside.

/// `println!` that ignores a closed stdout (`pagekv | head`): the run goes
/// on, and its exit code still says whether every key verified.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod bench;
mod clients;
// The crash tests share the engine (`tests/pagekv_crash.rs`) and use parts
// of its API this program does not.
#[allow(dead_code)]
mod engine;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::{Engine, Error, Options, RecoverReport, Stats};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use ratchet::backend::{BackendKind, choose_io, parse_backend};
use ratchet::{IO, IOExt, choose_default_io};

/// Puts (or deletes) per transaction: large enough that a transaction logs
/// each page it touches once for many keys (random deletes touch most
/// leaves), small enough to keep the pages it pins in the cache few.
pub(crate) const TXN_OPS: u64 = 5000;

/// Transactions per group commit: their log writes go out together and share
/// one sync.
const GROUP_TXNS: u64 = 2;

/// Keys without `--keys`.
const DEFAULT_KEYS: u64 = 100_000;

/// Keys with `--quick`.
const QUICK_KEYS: u64 = 20_000;

/// The most `--keys` accepts: about 1.3 GB of data files at the largest
/// values, so a typo cannot fill the disk.
const MAX_KEYS: u64 = 10_000_000;

const USAGE: &str = "usage: pagekv [--keys N] [--io blocking|uring|memory] [--quick] [--dir PATH] \
                     [--clients N] [--direct] [--concurrency-bench]";

/// The most `--clients` accepts.
const MAX_CLIENTS: usize = 4096;

/// Command-line options.
struct Args {
    keys: Option<u64>,
    io: Option<BackendKind>,
    quick: bool,
    dir: Option<PathBuf>,
    clients: Option<usize>,
    direct: bool,
    concurrency_bench: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        keys: None,
        io: None,
        quick: false,
        dir: None,
        clients: None,
        direct: false,
        concurrency_bench: false,
    };
    let mut it = std::env::args_os().skip(1);
    while let Some(flag) = it.next() {
        let flag = flag.to_string_lossy().into_owned();
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--keys" => {
                let raw = value("--keys")?.to_string_lossy().into_owned();
                let n: u64 = raw
                    .replace('_', "")
                    .parse()
                    .map_err(|_| format!("--keys expects a whole number, got `{raw}`"))?;
                if n == 0 || n > MAX_KEYS {
                    return Err(format!("--keys must be between 1 and {MAX_KEYS}, got {n}"));
                }
                args.keys = Some(n);
            }
            "--io" => {
                let raw = value("--io")?.to_string_lossy().into_owned();
                args.io = Some(parse_backend(&raw).map_err(|e| e.to_string())?);
            }
            "--quick" => args.quick = true,
            "--dir" => args.dir = Some(PathBuf::from(value("--dir")?)),
            "--clients" => {
                let raw = value("--clients")?.to_string_lossy().into_owned();
                let n: usize = raw
                    .parse()
                    .map_err(|_| format!("--clients expects a whole number, got `{raw}`"))?;
                if n == 0 || n > MAX_CLIENTS {
                    return Err(format!("--clients must be between 1 and {MAX_CLIENTS}, got {n}"));
                }
                args.clients = Some(n);
            }
            "--direct" => args.direct = true,
            "--concurrency-bench" => args.concurrency_bench = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if args.direct && args.io == Some(BackendKind::Memory) {
        return Err("--direct needs a backend with files (blocking or uring), not memory".to_owned());
    }
    Ok(args)
}

/// The key of item `i`: fixed width, so key order is item order.
fn key_of(i: u64) -> Vec<u8> {
    format!("user:{i:012}").into_bytes()
}

/// The value of item `i`: 24 to 119 bytes that name the item and then
/// follow from it, so a value stored under the wrong key, or torn, is caught.
fn value_of(i: u64) -> Vec<u8> {
    let mut h = mix(i);
    let len = 24 + (h % 96) as usize;
    let mut v = format!("value:{i}:").into_bytes();
    while v.len() < len {
        h = mix(h);
        v.push(b'a' + (h % 26) as u8);
    }
    v
}

/// splitmix64's finaliser: a cheap, good bijective mix.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `0..n` in a random order fixed by `seed`.
fn shuffled(n: u64, seed: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n).collect();
    let mut s = seed;
    for i in (1..v.len()).rev() {
        s = mix(s);
        let j = (s % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

/// Whether item `i` is deleted by the delete phase: one in ten.
fn deleted(i: u64) -> bool {
    mix(i ^ 0xDE1E7E).is_multiple_of(10)
}

/// A phase's progress bar on stderr (indicatif), drawn only when stderr is
/// a terminal: otherwise there is no bar at all, and a tick costs a branch.
struct Progress {
    bar: Option<ProgressBar>,
    /// For a phase that runs for a time rather than a count: how long.
    duration: Option<Duration>,
    start: Instant,
    /// When a timed bar was last moved.
    last: Instant,
}

impl Progress {
    fn new(name: &'static str, total: u64) -> Progress {
        Progress::with(name, total, None)
    }

    /// A phase that runs for `duration`: the bar fills with the time, and
    /// shows the operations done.
    fn timed(name: &'static str, duration: Duration) -> Progress {
        Progress::with(name, duration.as_millis() as u64, Some(duration))
    }

    fn with(name: &'static str, len: u64, duration: Option<Duration>) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let template = if duration.is_some() {
                "  {prefix:<8} {bar:30} {percent:>3}%  {msg}"
            } else {
                "  {prefix:<8} {bar:30} {percent:>3}%  {human_pos:>10}/{human_len:<10} {rate:>12} ops/s"
            };
            let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr_with_hz(10));
            // The templates are constants: a bad one is a bug seen at once.
            let style = ProgressStyle::with_template(template)
                .expect("progress template")
                .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}", group_digits(state.per_sec() as u64));
                });
            bar.set_style(style);
            bar.set_prefix(name);
            bar
        });
        let now = Instant::now();
        Progress {
            bar,
            duration,
            start: now,
            last: now,
        }
    }

    fn tick(&mut self, done: u64) {
        let Some(bar) = &self.bar else {
            return;
        };
        if self.duration.is_none() {
            bar.set_position(done);
        } else if self.last.elapsed() >= Duration::from_millis(100) {
            self.last = Instant::now();
            let elapsed = self.start.elapsed();
            // The last requests may finish after the time is up.
            bar.set_position((elapsed.as_millis() as u64).min(bar.length().unwrap_or(0)));
            let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
            bar.set_message(format!("{done:>10} ops {:>12} ops/s", group_digits(rate as u64)));
        }
    }

    /// Clears the bar; returns the phase's wall time.
    fn finish(self) -> Duration {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
        self.start.elapsed()
    }
}

/// `1234567` as `1,234,567`.
fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One phase's figures for the summary.
struct PhaseResult {
    name: &'static str,
    ops: u64,
    what: &'static str,
    time: Duration,
    note: String,
}

impl PhaseResult {
    fn rate(&self) -> u64 {
        (self.ops as f64 / self.time.as_secs_f64().max(1e-9)) as u64
    }

    fn print(&self) {
        if self.ops == 1 {
            say!(
                "  {:<8} {:>9} {:<8} {:>8.2} s {:>18}   {}",
                self.name,
                "",
                "",
                self.time.as_secs_f64(),
                "",
                self.note
            );
            return;
        }
        say!(
            "  {:<8} {:>9} {:<8} {:>8.2} s {:>12} ops/s   {}",
            self.name,
            self.ops,
            self.what,
            self.time.as_secs_f64(),
            group_digits(self.rate()),
            self.note
        );
    }
}

/// Adds the phase to an engine error.
fn in_phase(phase: &'static str) -> impl Fn(Error) -> String {
    move |e| format!("{phase}: {e}")
}

/// The counters of `b` minus those of `a`.
fn delta(a: Stats, b: Stats) -> Stats {
    Stats {
        cache_hits: b.cache_hits - a.cache_hits,
        cache_misses: b.cache_misses - a.cache_misses,
        page_reads: b.page_reads - a.page_reads,
        shared_reads: b.shared_reads - a.shared_reads,
        stale_reads: b.stale_reads - a.stale_reads,
        restarts: b.restarts - a.restarts,
        txns: b.txns - a.txns,
        group_commits: b.group_commits - a.group_commits,
        frames: b.frames - a.frames,
        checkpoints: b.checkpoints - a.checkpoints,
        pages_checkpointed: b.pages_checkpointed - a.pages_checkpointed,
    }
}

fn write_note(s: Stats) -> String {
    format!(
        "{} txns, {} group commits, {} log frames, {} checkpoints",
        s.txns, s.group_commits, s.frames, s.checkpoints
    )
}

fn read_note(s: Stats) -> String {
    let total = (s.cache_hits + s.cache_misses).max(1);
    format!(
        "{:.1}% page-cache hits, {} page reads",
        s.cache_hits as f64 * 100.0 / total as f64,
        s.page_reads
    )
}

/// The page cache for a run of `keys` keys: about 40% of the tree, so that
/// random reads miss and go to the log or the data file, as they do when a
/// store outgrows its memory.
fn cache_pages(keys: u64) -> usize {
    (keys / 100).clamp(64, 4096) as usize
}

/// Gets each client phase runs per client (at least [`CLIENT_GETS_MIN`]).
const CLIENT_GETS_PER_CLIENT: u64 = 2000;

/// The fewest gets of a client phase.
const CLIENT_GETS_MIN: u64 = 20_000;

/// Commits after every `TXN_OPS` operations and group-commits every
/// `GROUP_TXNS` transactions.
fn maybe_commit<I: IO>(io: &I, engine: &mut Engine, done: u64, phase: &'static str) -> Result<(), String> {
    if done.is_multiple_of(TXN_OPS) {
        engine.commit().map_err(in_phase(phase))?;
        if done.is_multiple_of(TXN_OPS * GROUP_TXNS) {
            io.block(|| engine.sync()).map_err(in_phase(phase))?;
        }
    }
    Ok(())
}

/// Everything the run does, on `io`, in `dir`.
fn run_phases(io: &Arc<dyn IO>, dir: &Path, keys: u64, fresh: bool, args: &Args) -> Result<(), String> {
    let options = Options {
        cache_pages: cache_pages(keys),
        checkpoint_bytes: 64 << 20,
        checkpoint_batch: 64,
        direct: args.direct,
    };
    let run_start = Instant::now();
    let mut results: Vec<PhaseResult> = Vec::new();

    // Load.
    let (mut engine, report) = Engine::open_blocking(io, dir, true, options).map_err(in_phase("open"))?;
    describe_open("opened", &report);
    let before = engine.stats();
    let mut p = Progress::new("load", keys);
    for i in 0..keys {
        let (k, v) = (key_of(i), value_of(i));
        io.block(|| engine.put(&k, &v)).map_err(in_phase("load"))?;
        maybe_commit(io, &mut engine, i + 1, "load")?;
        p.tick(i + 1);
    }
    engine.commit().map_err(in_phase("load"))?;
    let durable = io.block(|| engine.sync()).map_err(in_phase("load"))?;
    let r = PhaseResult {
        name: "load",
        ops: keys,
        what: "puts",
        time: p.finish(),
        note: format!(
            "{} (durable through txn {durable})",
            write_note(delta(before, engine.stats()))
        ),
    };
    r.print();
    results.push(r);

    // Read back in another random order.
    let before = engine.stats();
    let order = shuffled(keys, 2);
    let mut p = Progress::new("read", keys);
    for (n, &i) in order.iter().enumerate() {
        let k = key_of(i);
        let got = io.block(|| engine.get(&k)).map_err(in_phase("read"))?;
        if got.as_deref() != Some(value_of(i).as_slice()) {
            return Err(format!(
                "read: key {} has {}, expected the value just loaded",
                String::from_utf8_lossy(&k),
                describe_value(got.as_deref())
            ));
        }
        p.tick(n as u64 + 1);
    }
    let r = PhaseResult {
        name: "read",
        ops: keys,
        what: "gets",
        time: p.finish(),
        note: read_note(delta(before, engine.stats())),
    };
    r.print();
    results.push(r);

    // Delete a tenth, in random order.
    let before = engine.stats();
    let doomed: Vec<u64> = shuffled(keys, 3).into_iter().filter(|&i| deleted(i)).collect();
    let mut p = Progress::new("delete", doomed.len() as u64);
    for (n, &i) in doomed.iter().enumerate() {
        let k = key_of(i);
        let found = io.block(|| engine.delete(&k)).map_err(in_phase("delete"))?;
        if !found {
            return Err(format!(
                "delete: key {} was not found",
                String::from_utf8_lossy(&k)
            ));
        }
        maybe_commit(io, &mut engine, n as u64 + 1, "delete")?;
        p.tick(n as u64 + 1);
    }
    engine.commit().map_err(in_phase("delete"))?;
    io.block(|| engine.sync()).map_err(in_phase("delete"))?;
    let r = PhaseResult {
        name: "delete",
        ops: doomed.len() as u64,
        what: "deletes",
        time: p.finish(),
        note: write_note(delta(before, engine.stats())),
    };
    r.print();
    results.push(r);

    // Close (checkpoint) and reopen (recovery).
    let p = Progress::new("reopen", 1);
    io.block(|| engine.checkpoint()).map_err(in_phase("close"))?;
    let last = engine.last_durable();
    let totals = engine.stats();
    drop(engine);
    let (mut engine, report) = Engine::open_blocking(io, dir, false, options).map_err(in_phase("reopen"))?;
    if report.txn != last {
        return Err(format!(
            "reopen: recovered through transaction {}, but {last} was acknowledged",
            report.txn
        ));
    }
    let r = PhaseResult {
        name: "reopen",
        ops: 1,
        what: "opens",
        time: p.finish(),
        note: format!(
            "recovered through txn {}, {} frames replayed from the log",
            report.txn, report.frames_replayed
        ),
    };
    r.print();
    results.push(r);

    // Many clients at once, on the reopened store (its cache is cold).
    if let Some(clients) = args.clients {
        let count = (clients as u64 * CLIENT_GETS_PER_CLIENT).max(CLIENT_GETS_MIN);
        let mut p = Progress::new("clients", count);
        let workload = clients::Workload {
            clients,
            keys,
            after_delete: true,
            until: clients::Until::Count(count),
            seed: 4,
        };
        let run = clients::run(&**io, &mut engine, &workload, None, Some(&mut p))
            .map_err(|e| format!("clients: {e}"))?;
        p.finish();
        let r = PhaseResult {
            name: "clients",
            ops: run.gets,
            what: "gets",
            time: run.time,
            note: format!(
                "{clients} in flight; {}; {}, {} shared",
                run.latency_note(),
                read_note(run.stats),
                run.stats.shared_reads
            ),
        };
        r.print();
        results.push(r);
    }

    // Verify every key, in key order, then the whole tree by a scan.
    let mut p = Progress::new("verify", keys);
    let mut present = 0u64;
    for i in 0..keys {
        let k = key_of(i);
        let got = io.block(|| engine.get(&k)).map_err(in_phase("verify"))?;
        let want = (!deleted(i)).then(|| value_of(i));
        if got != want {
            return Err(format!(
                "verify: after reopening, key {} has {}, expected {}",
                String::from_utf8_lossy(&k),
                describe_value(got.as_deref()),
                describe_value(want.as_deref())
            ));
        }
        present += u64::from(want.is_some());
        p.tick(i + 1);
    }
    let entries = io.block(|| engine.scan()).map_err(in_phase("verify"))?;
    if fresh && entries.len() as u64 != present {
        return Err(format!(
            "verify: the scan finds {} entries, {present} expected",
            entries.len()
        ));
    }
    let r = PhaseResult {
        name: "verify",
        ops: keys,
        what: "gets",
        time: p.finish(),
        note: format!(
            "{present} present, {} deleted, scan of {} entries in order",
            keys - present,
            entries.len()
        ),
    };
    r.print();
    results.push(r);

    let data_pages = engine.pager.meta.page_count;
    say!();
    say!("summary");
    say!(
        "  {keys} keys loaded, {} read back, {} deleted, {present} verified present after reopening",
        keys,
        keys - present
    );
    say!(
        "  data file {} pages of {} bytes ({:.1} MiB), page cache {} pages; {} transactions in {} group commits, {} log frames, \
         {} checkpoints copying {} pages",
        data_pages,
        engine::PAGE_SIZE,
        (data_pages * engine::PAGE_SIZE as u64) as f64 / f64::from(1 << 20),
        cache_pages(keys),
        totals.txns,
        totals.group_commits,
        totals.frames,
        totals.checkpoints,
        totals.pages_checkpointed
    );
    let ops: u64 = results.iter().map(|r| r.ops).sum();
    say!(
        "  {} operations in {:.2} s; every key verified",
        ops,
        run_start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn describe_value(v: Option<&[u8]>) -> String {
    match v {
        None => "no value".to_owned(),
        Some(v) if v.len() > 40 => format!("`{}...`", String::from_utf8_lossy(&v[..40])),
        Some(v) => format!("`{}`", String::from_utf8_lossy(v)),
    }
}

fn describe_open(what: &str, r: &RecoverReport) {
    if r.created {
        say!("  {what}: created a new store");
    } else {
        say!(
            "  {what}: existing store at txn {}, {} transactions replayed from the log",
            r.txn,
            r.txns_replayed
        );
    }
}

fn run(args: &Args) -> Result<(), String> {
    if args.concurrency_bench {
        return bench::run(args);
    }
    let keys = args
        .keys
        .unwrap_or(if args.quick { QUICK_KEYS } else { DEFAULT_KEYS });
    // `--io` wins; otherwise RATCHET_IO, otherwise io_uring where the kernel
    // allows it. The banner says which and why.
    let chosen = match args.io {
        Some(kind) => choose_io(Some(kind)),
        None => choose_default_io(),
    }
    .map_err(|e| format!("cannot set up the I/O backend: {e}"))?;
    let memory = chosen.kind == BackendKind::Memory;
    let io: Arc<dyn IO> = chosen.io;
    let backend = chosen.reason;
    // The temporary directory lives until the end of the run.
    let mut _temp = None;
    let (dir, fresh) = match &args.dir {
        Some(dir) if memory => (dir.clone(), true),
        Some(dir) => {
            match std::fs::metadata(dir) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(format!("{} is not a directory", dir.display())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(format!("directory does not exist: {}", dir.display()));
                }
                Err(e) => return Err(format!("cannot use directory {}: {e}", dir.display())),
            }
            let fresh = !dir.join(engine::DATA_FILE).exists();
            (dir.clone(), fresh)
        }
        None if memory => (PathBuf::from("/pagekv"), true),
        None => {
            let t = if args.direct {
                bench::direct_capable_tempdir()?
            } else {
                tempfile::Builder::new()
                    .prefix("pagekv-")
                    .tempdir()
                    .map_err(|e| format!("cannot create a temporary directory: {e}"))?
            };
            let path = t.path().to_owned();
            _temp = Some(t);
            (path, true)
        }
    };
    say!(
        "pagekv: {keys} keys, I/O: {backend}, store in {}{}",
        dir.display(),
        if fresh { "" } else { " (existing store)" }
    );
    run_phases(&io, &dir, keys, fresh, args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) if msg.is_empty() => {
            say!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("pagekv: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pagekv: error: {e}");
            ExitCode::FAILURE
        }
    }
}
