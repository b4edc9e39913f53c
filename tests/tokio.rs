//! `ratchet::tokio` (feature `tokio`): 64 tokio tasks doing random gets on
//! one pagekv engine, each holding the engine's lock only during each call
//! of its machine, over `UringIO` (the ring driven by tokio's reactor
//! through its eventfd) and over `BlockingIO` (the syscalls inside
//! `block_in_place`), on a current-thread and a multi-thread runtime. Every
//! value is checked, and a wait that is never woken fails the test by its
//! timeout instead of hanging it. The io_uring cases skip, saying why,
//! where io_uring is unavailable.
#![cfg(feature = "tokio")]
#![allow(missing_docs)]

#[path = "../examples/pagekv/engine/mod.rs"]
#[allow(dead_code, unused_imports)]
mod engine;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::{Engine, GetState, Options};
use ratchet::tokio::TokioIO;
use ratchet::{BlockingIO, IO};

const KEYS: u64 = 3000;
const TASKS: u64 = 64;
const GETS_PER_TASK: u64 = 150;

fn key(i: u64) -> Vec<u8> {
    format!("key-{i:08}").into_bytes()
}

fn value(i: u64) -> Vec<u8> {
    let mut v = format!("value-{i}-").into_bytes();
    v.resize(30 + (i % 200) as usize, b'a' + (i % 26) as u8);
    v
}

fn expected(i: u64) -> Option<Vec<u8>> {
    (i % 7 != 3).then(|| value(i))
}

/// A directory on a file system that accepts `O_DIRECT`, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tokio-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn options() -> Options {
    Options {
        // Far smaller than the tree: most gets read pages.
        cache_pages: 16,
        direct: true,
        ..Options::default()
    }
}

/// Loads the store with `io` and closes it (checkpointed: every page in the
/// data file, read with O_DIRECT).
fn load(io: &Arc<dyn IO>, dir: &Path) {
    let (mut e, _) = Engine::open_blocking(io, dir, true, options()).unwrap();
    for i in 0..KEYS {
        io.block(|| e.put(&key(i), &value(i))).unwrap();
    }
    for i in (0..KEYS).filter(|i| i % 7 == 3) {
        assert!(io.block(|| e.delete(&key(i))).unwrap());
    }
    e.commit().unwrap();
    io.block(|| e.sync()).unwrap();
    io.block(|| e.checkpoint()).unwrap();
}

/// 64 tasks of random gets on one engine; returns the engine's counters.
fn gets_from_tasks(rt: tokio::runtime::Runtime, io: Arc<dyn IO>, dir: &Path) -> engine::Stats {
    rt.block_on(async move {
        let (e, _) = Engine::open_blocking(&io, dir, false, options()).unwrap();
        let engine = Arc::new(Mutex::new(e));
        let tio = Arc::new(TokioIO::new(io).unwrap());
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let (engine, tio) = (engine.clone(), tio.clone());
                tokio::spawn(async move {
                    let mut x = t * 0x9E37_79B9 + 1;
                    for _ in 0..GETS_PER_TASK {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let i = x % (KEYS + 50);
                        let k = key(i);
                        let mut st = GetState::default();
                        // The lock is taken for each call and dropped before
                        // the task awaits.
                        let got = ratchet::tokio::run(&tio, || engine.lock().unwrap().get_with(&mut st, &k))
                            .await
                            .unwrap();
                        let want = if i < KEYS { expected(i) } else { None };
                        assert_eq!(got, want, "task {t}, item {i}");
                    }
                })
            })
            .collect();
        let all = async {
            for task in tasks {
                task.await.unwrap();
            }
        };
        tokio::time::timeout(Duration::from_secs(120), all)
            .await
            .expect("the tasks did not finish in 120 s: a wait was never woken");
        engine.lock().unwrap().stats()
    })
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

#[cfg(target_os = "linux")]
fn uring(options: ratchet::uring::UringOptions) -> Option<Arc<dyn IO>> {
    match options.build() {
        Ok(io) => Some(Arc::new(io)),
        Err(e) => {
            eprintln!("skipped: io_uring is unavailable here: {e}");
            None
        }
    }
}

/// The default ring (SINGLE_ISSUER, DEFER_TASKRUN), owned by the one thread
/// of a current-thread runtime: the loading thread, which runs the runtime.
#[cfg(target_os = "linux")]
#[test]
fn tasks_get_over_uring_on_a_current_thread_runtime() {
    let Some(io) = uring(ratchet::uring::UringOptions::new()) else {
        return;
    };
    let dir = Scratch::new("uring-current");
    load(&io, &dir.0);
    let s = gets_from_tasks(current_thread(), io, &dir.0);
    assert!(s.page_reads > 0, "{s:?}");
    assert!(s.shared_reads > 0, "tasks waited on one read together: {s:?}");
}

/// A ring any thread may enter, for tasks that move between workers.
#[cfg(target_os = "linux")]
#[test]
fn tasks_get_over_uring_on_a_multi_thread_runtime() {
    let Some(io) = uring(
        ratchet::uring::UringOptions::new()
            .single_issuer(false)
            .defer_taskrun(false),
    ) else {
        return;
    };
    let dir = Scratch::new("uring-multi");
    load(&io, &dir.0);
    let s = gets_from_tasks(multi_thread(), io, &dir.0);
    assert!(s.shared_reads > 0, "tasks waited on one read together: {s:?}");
}

#[test]
fn tasks_get_over_blocking_io_on_a_multi_thread_runtime() {
    let io: Arc<dyn IO> = Arc::new(BlockingIO::new());
    let dir = Scratch::new("blocking-multi");
    load(&io, &dir.0);
    let s = gets_from_tasks(multi_thread(), io, &dir.0);
    assert!(s.page_reads > 0, "{s:?}");
}

#[test]
fn tasks_get_over_blocking_io_on_a_current_thread_runtime() {
    let io: Arc<dyn IO> = Arc::new(BlockingIO::new());
    let dir = Scratch::new("blocking-current");
    load(&io, &dir.0);
    let s = gets_from_tasks(current_thread(), io, &dir.0);
    assert!(s.page_reads > 0, "{s:?}");
}

/// A machine that yields (`Completion::yield_now`) hands the thread back to
/// tokio's scheduler, so that other tasks run meanwhile even on a
/// current-thread runtime.
#[test]
fn a_cooperative_yield_lets_other_tasks_run() {
    use std::sync::atomic::{AtomicBool, Ordering};

    use ratchet::{Completion, CompletionError, IOResult, MemoryIO};

    current_thread().block_on(async {
        let io = Arc::new(TokioIO::new(Arc::new(MemoryIO::new())).unwrap());
        let other_ran = Arc::new(AtomicBool::new(false));
        let seen = other_ran.clone();
        let other = tokio::spawn(async move { seen.store(true, Ordering::SeqCst) });
        let mut calls = 0u32;
        let ran_meanwhile = ratchet::tokio::run(&io, || {
            calls += 1;
            if calls < 100 {
                Ok::<_, CompletionError>(IOResult::IO(Completion::yield_now().into()))
            } else {
                Ok(IOResult::Done(other_ran.load(Ordering::SeqCst)))
            }
        })
        .await
        .unwrap();
        assert!(
            ran_meanwhile,
            "the other task did not run while the machine yielded"
        );
        other.await.unwrap();
    });
}
