//! The model-based stress test of the runtime: random programs of open,
//! pread, pwrite, pwritev, sync, truncate, abort, group add/build/cancel,
//! views of buffers held over other operations, refills, dropped handles,
//! bad input, callbacks that record, panic or issue more I/O, and dropping
//! the backend, from one thread or several, run on every backend and checked
//! against a reference model of files, completions and buffers
//! (`tests/runtime_model/`).
//!
//! What is checked, per operation and at the end: each completion's outcome
//! (bytes, `Aborted` only if aborted, never `Stalled`), that its callback ran
//! once with that outcome, that a planned panic of a callback reached a
//! caller exactly once while its completion still finished, that a call with
//! bad input gets the exact error at the call, that no file ever holds a
//! byte no buffer of the program held there (overlapping writes in flight
//! together may land in either order), that no buffer changes under a live
//! view and each holds what the model says, that a view is refused exactly
//! while a read into the buffer is in flight, and that dropping the backend
//! finishes every completion and lets go of every buffer. A watchdog turns a
//! hang into a failure that names the program's seed.
//!
//! ```text
//! cargo test --test runtime_model                      # a small seeded slice
//! RUNTIME_MODEL_PROGRAMS=100000 cargo test --release --test runtime_model -- --nocapture
//! RUNTIME_MODEL_ONLY=1234 cargo test --test runtime_model -- --nocapture   # one program
//! RUNTIME_MODEL_ONLY=1234 RUNTIME_MODEL_THREAD=1 ...   # thread 1 of it, alone
//! RUNTIME_MODEL_BACKENDS=uring ...                      # only backends whose name contains it
//! RUNTIME_MODEL_WORKERS=8 ...                           # programs side by side (default: cores, at most 4)
//! ```
//!
//! Multi-threaded programs are not reproducible from a seed (the threads
//! interleave as the scheduler likes), but each thread's operations are: the
//! choice of the next operation never depends on timing. A failure prints
//! every thread's operation log, and `RUNTIME_MODEL_THREAD=t` replays thread
//! `t` of the program alone, single-threaded.

#[path = "runtime_model/model.rs"]
mod model;
#[path = "runtime_model/program.rs"]
mod program;
#[path = "support/backends.rs"]
mod support_backends;

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use program::{Rng, Run, Shared};
use ratchet::sim::{Latency, SimConfig};
use ratchet::{BlockingIO, DeferredIO, IO, MemoryIO, SimIO};

/// Programs `cargo test` runs: a slice of seconds.
const DEFAULT_PROGRAMS: u64 = 24;
const DEFAULT_SEED: u64 = 0x0072_756e_7469_6d65;
/// Operations per program (per thread).
const OPS: usize = 60;
/// A run that takes longer hangs.
const WATCHDOG: Duration = Duration::from_secs(120);

/// One backend: its name, how to build it for a program, whether its files
/// are on disk, and whether several threads may step it.
struct BackendKind {
    name: &'static str,
    make: fn(u64) -> Option<Arc<dyn IO>>,
    on_disk: bool,
    threads: bool,
}

#[cfg(target_os = "linux")]
fn uring(single_issuer: bool) -> Option<Arc<dyn IO>> {
    ratchet::uring::UringOptions::new()
        .single_issuer(single_issuer)
        .build()
        .ok()
        .map(|io| Arc::new(io) as Arc<dyn IO>)
}

#[cfg(not(target_os = "linux"))]
fn uring(_: bool) -> Option<Arc<dyn IO>> {
    None
}

fn sim(seed: u64) -> Option<Arc<dyn IO>> {
    let config = SimConfig::with_seed(seed)
        .latency(Latency::Exponential { mean_ns: 50_000 })
        .reorder_probability(0.2);
    Some(Arc::new(SimIO::new(config)))
}

const BACKENDS: &[BackendKind] = &[
    BackendKind {
        name: "blocking",
        make: |_| Some(Arc::new(BlockingIO::new())),
        on_disk: true,
        threads: true,
    },
    BackendKind {
        name: "memory",
        make: |_| Some(Arc::new(MemoryIO::new())),
        on_disk: false,
        threads: true,
    },
    BackendKind {
        name: "deferred(memory)",
        make: |_| Some(Arc::new(DeferredIO::memory())),
        on_disk: false,
        threads: true,
    },
    BackendKind {
        name: "deferred(blocking)",
        make: |_| Some(Arc::new(DeferredIO::new(BlockingIO::new()))),
        on_disk: true,
        threads: true,
    },
    BackendKind {
        name: "sim",
        make: sim,
        on_disk: false,
        threads: true,
    },
    BackendKind {
        name: "uring",
        make: |_| uring(true),
        on_disk: true,
        threads: false,
    },
    BackendKind {
        name: "uring(shared)",
        make: |_| uring(false),
        on_disk: true,
        threads: true,
    },
    BackendKind {
        name: "deferred(uring)",
        make: |_| uring(true).map(|inner| Arc::new(DeferredIO::wrap(inner)) as Arc<dyn IO>),
        on_disk: true,
        threads: false,
    },
];

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

/// The seed of program `index` of a run with seed `base`.
fn program_seed(base: u64, index: u64) -> u64 {
    Rng::new(base ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)).next()
}

/// How a program is shaped: threads, and whether it drops the backend
/// part-way.
fn shape(seed: u64) -> (usize, bool) {
    let mut r = Rng::new(seed ^ 0x5a);
    let threads = if r.below(5) == 0 {
        2 + r.below(2) as usize
    } else {
        1
    };
    (threads, threads == 1 && r.below(4) == 0)
}

/// Runs program `seed` on `kind`: `Err` holds the divergence and the logs.
fn run_program(kind: &BackendKind, seed: u64, only_thread: Option<usize>) -> Result<(), String> {
    let Some(io) = (kind.make)(seed) else {
        return Ok(());
    };
    let dir = tempfile::Builder::new()
        .prefix("ratchet-model-")
        .tempdir_in(support_backends::scratch_root())
        .map_err(|e| format!("scratch directory: {e}"))?;
    let (threads, drops) = shape(seed);
    let shared = Shared::default();
    if threads == 1 || only_thread.is_some() || !kind.threads {
        // One thread (or one thread of a threaded program, replayed alone).
        let t = only_thread.unwrap_or(0);
        let mut run = Run::new(io, dir.path(), &format!("t{t}-"), seed ^ t as u64, &shared, false);
        let result = (|| {
            let dropped = run.run(OPS, drops && only_thread.is_none())?;
            if dropped {
                run.drop_backend()?;
                run.check_after_drop(kind.on_disk)?;
            } else {
                run.check_files()?;
                run.drop_backend()?;
            }
            let caught = shared.panics_caught.load(Ordering::SeqCst);
            if caught != run.panics_planned {
                return Err(format!(
                    "{} completions with a panicking callback finished, {caught} panics reached a caller",
                    run.panics_planned
                ));
            }
            Ok(())
        })();
        return result.map_err(|e| format!("{e}\noperations:\n{}", run.log));
    }
    let logs: Vec<Mutex<String>> = (0..threads).map(|_| Mutex::new(String::new())).collect();
    let planned = AtomicU64::new(0);
    let outcome: Result<(), String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (io, dir, shared, logs, planned) = (io.clone(), dir.path(), &shared, &logs, &planned);
                s.spawn(move || {
                    let mut run = Run::new(io, dir, &format!("t{t}-"), seed ^ t as u64, shared, true);
                    let r = run.run(OPS, false).and_then(|_| run.check_files());
                    planned.fetch_add(run.panics_planned as u64, Ordering::SeqCst);
                    *logs[t].lock().unwrap() = std::mem::take(&mut run.log);
                    drop(run);
                    r.map_err(|e| format!("thread {t}: {e}"))
                })
            })
            .collect();
        let mut first = Ok(());
        for h in handles {
            let r = h.join().unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Err(format!("a thread panicked: {msg}"))
            });
            if first.is_ok() {
                first = r;
            }
        }
        first
    });
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(io)));
    let outcome = outcome.and_then(|()| {
        let (planned, caught) = (
            planned.load(Ordering::SeqCst) as usize,
            shared.panics_caught.load(Ordering::SeqCst) + usize::from(dropped.is_err()),
        );
        // Two threads' planned panics may meet in one batch, of which only
        // the first is resumed.
        if caught > planned || (planned > 0 && caught == 0) {
            return Err(format!(
                "{planned} planned panics finished, {caught} reached a caller"
            ));
        }
        Ok(())
    });
    outcome.map_err(|e| {
        let mut msg = format!("{e}\n({threads} threads; replay one alone with RUNTIME_MODEL_THREAD=t)");
        for (t, log) in logs.iter().enumerate() {
            msg.push_str(&format!("\noperations of thread {t}:\n{}", log.lock().unwrap()));
        }
        msg
    })
}

enum Verdict {
    Ok,
    Diverged(String),
    Hung,
}

/// [`run_program`] under the watchdog.
fn watched(kind: &'static BackendKind, seed: u64, only_thread: Option<usize>) -> Verdict {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| run_program(kind, seed, only_thread));
        let _ = tx.send(match r {
            Ok(Ok(())) => Verdict::Ok,
            Ok(Err(e)) => Verdict::Diverged(e),
            Err(p) => Verdict::Diverged(format!(
                "the test itself panicked: {}",
                p.downcast_ref::<String>().cloned().unwrap_or_default()
            )),
        });
    });
    rx.recv_timeout(WATCHDOG).unwrap_or(Verdict::Hung)
}

#[test]
fn runtime_model() {
    // Planned panics of callbacks are part of the programs: only others are
    // worth printing.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&program::PLANNED) {
            default_hook(info);
        }
    }));
    let base = env_u64("RUNTIME_MODEL_SEED").unwrap_or(DEFAULT_SEED);
    let only = env_u64("RUNTIME_MODEL_ONLY");
    let only_thread = env_u64("RUNTIME_MODEL_THREAD").map(|t| t as usize);
    let programs = env_u64("RUNTIME_MODEL_PROGRAMS").unwrap_or(DEFAULT_PROGRAMS);
    let filter = std::env::var("RUNTIME_MODEL_BACKENDS").unwrap_or_default();
    let kinds: Vec<&'static BackendKind> = BACKENDS
        .iter()
        .filter(|k| filter.is_empty() || filter.split(',').any(|f| k.name.contains(f.trim())))
        .collect();
    if kinds.iter().any(|k| k.name.contains("uring")) && uring(true).is_none() {
        eprintln!("runtime_model: io_uring is unavailable here: its backends are skipped");
    }
    let indices: Vec<u64> = match only {
        Some(i) => vec![i],
        None => (0..programs).collect(),
    };
    let start = Instant::now();
    // A bar on stderr for a long run, drawn only when stderr is a terminal.
    let progress = (std::io::stderr().is_terminal() && indices.len() >= 1000).then(|| {
        let bar = ProgressBar::with_draw_target(Some(indices.len() as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "runtime_model: {bar:30} {human_pos}/{human_len} programs, {msg} divergences, {elapsed_precise}",
        )
        .expect("progress template");
        bar.set_style(style);
        bar.set_message("0");
        bar
    });
    let done = AtomicU64::new(0);
    let runs = AtomicU64::new(0);
    let threaded = AtomicU64::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let hangs = AtomicU64::new(0);
    // Runs wait on the disk (syncs) more than they compute, so more workers
    // than cores keep the cores busy.
    let workers = env_u64("RUNTIME_MODEL_WORKERS").map_or_else(
        || {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, 4)
        },
        |w| w.clamp(1, 64) as usize,
    );
    std::thread::scope(|s| {
        for w in 0..workers {
            let (indices, kinds, done, runs, threaded, failures, hangs, start, progress) = (
                &indices, &kinds, &done, &runs, &threaded, &failures, &hangs, &start, &progress,
            );
            s.spawn(move || {
                for &i in indices.iter().skip(w).step_by(workers) {
                    let seed = program_seed(base, i);
                    if shape(seed).0 > 1 {
                        threaded.fetch_add(1, Ordering::Relaxed);
                    }
                    for kind in kinds.iter() {
                        runs.fetch_add(1, Ordering::Relaxed);
                        match watched(kind, seed, only_thread) {
                            Verdict::Ok => {}
                            Verdict::Diverged(e) => failures.lock().unwrap().push(format!(
                                "program {i} (seed {seed:#x}, RUNTIME_MODEL_ONLY={i} RUNTIME_MODEL_SEED={base:#x}) on {}: {e}",
                                kind.name
                            )),
                            Verdict::Hung => {
                                hangs.fetch_add(1, Ordering::Relaxed);
                                failures.lock().unwrap().push(format!(
                                    "program {i} (seed {seed:#x}, RUNTIME_MODEL_ONLY={i} RUNTIME_MODEL_SEED={base:#x}) on {}: HANG: no end within {} s",
                                    kind.name,
                                    WATCHDOG.as_secs()
                                ));
                            }
                        }
                    }
                    let now = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if let Some(bar) = progress {
                        bar.inc(1);
                        if now % 64 == 0 {
                            bar.set_message(failures.lock().unwrap().len().to_string());
                        }
                    }
                    // A line per 10,000 programs, for the log of a long run.
                    if now % 10_000 == 0 {
                        println!(
                            "runtime model: {now} programs done, {} divergences so far, {:.0} s",
                            failures.lock().unwrap().len(),
                            start.elapsed().as_secs_f64()
                        );
                    }
                }
            });
        }
    });
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let failures = failures.into_inner().unwrap();
    for f in failures.iter().take(3) {
        eprintln!("{f}\n");
    }
    println!(
        "runtime model: {} programs ({} multi-threaded) x {} backends = {} runs, seed {base:#x}, {} divergences, {} hangs, {:.1} s",
        indices.len(),
        threaded.load(Ordering::Relaxed),
        kinds.len(),
        runs.load(Ordering::Relaxed),
        failures.len() as u64 - hangs.load(Ordering::Relaxed),
        hangs.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{} runs diverged or hung", failures.len());
}
