//! `ratchet::tokio`, second round: what a hostile tester found (issue 17).
//! Each test is named after its finding.
#![cfg(feature = "tokio")]
#![allow(missing_docs)]

use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ratchet::tokio::TokioIO;
use ratchet::{BlockingIO, Buffer, Completion, CompletionError, File, IO, IOResult, MemoryIO, OpenOptions};

/// Finding 8: a machine that keeps returning already finished completions
/// (not `yield_now`) must still give control back to tokio: another task on
/// a current-thread runtime gets to run.
#[test]
fn finding_8_ready_completion_yields_to_tokio() {
    let rt = ::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let io = TokioIO::new(Arc::new(MemoryIO::new()) as Arc<dyn IO>).unwrap();
        let flag = Arc::new(AtomicBool::new(false));
        let f2 = flag.clone();
        let setter = ::tokio::spawn(async move { f2.store(true, Ordering::SeqCst) });
        let mut calls = 0u64;
        let r = ::tokio::time::timeout(
            Duration::from_secs(20),
            io.run(|| -> Result<IOResult<u64>, CompletionError> {
                calls += 1;
                if flag.load(Ordering::SeqCst) || calls > 5_000_000 {
                    return Ok(IOResult::Done(calls));
                }
                Ok(IOResult::IO(Completion::ready().into()))
            }),
        )
        .await;
        let calls = r.expect("timeout").unwrap();
        assert!(
            calls < 1000,
            "run spun {calls} times without letting the other task run"
        );
        setter.await.unwrap();
    });
}

/// Finding 2: on a multi-thread runtime, a completion finished by another
/// task with a slow callback: the machine is called again only once its
/// completion has finished (never a spurious `Stalled`, never a busy loop).
#[test]
fn finding_2_waker_only_once_finished() {
    let rt = ::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let io = Arc::new(TokioIO::new(Arc::new(MemoryIO::new()) as Arc<dyn IO>).unwrap());
        for _ in 0..50 {
            let c = Completion::pending().with_callback(|_| std::thread::sleep(Duration::from_millis(2)));
            let c2 = c.clone();
            ::tokio::spawn(async move { c2.complete(5) });
            let mut calls = 0;
            let mut waiting: Option<Completion> = None;
            let r = io
                .run(|| -> Result<IOResult<i32>, CompletionError> {
                    calls += 1;
                    if let Some(c) = waiting.take() {
                        return Ok(IOResult::Done(
                            c.result().unwrap_or(Err(CompletionError::Stalled))?,
                        ));
                    }
                    waiting = Some(c.clone());
                    Ok(IOResult::IO(c.clone().into()))
                })
                .await;
            assert_eq!(r, Ok(5));
            assert!(calls <= 2, "{calls} calls");
        }
    });
}

/// A machine that reads the first four bytes of `file`, waiting for the read
/// as any machine does (the blocking and memory backends have finished it
/// by the time `pread` returns).
fn read_four(file: Arc<dyn File>) -> impl FnMut() -> Result<IOResult<Vec<u8>>, CompletionError> {
    let mut waiting: Option<Completion> = None;
    move || {
        if let Some(c) = waiting.take() {
            c.result().unwrap_or(Err(CompletionError::Stalled))?;
            return Ok(IOResult::Done(c.read_buffer().unwrap().to_vec()));
        }
        let c = file.pread(0, Completion::read(Arc::new(Buffer::new(4))))?;
        waiting = Some(c.clone());
        Ok(IOResult::IO(c.into()))
    }
}

/// A backend's name, the backend, and a file of it.
type Backend = (&'static str, Arc<dyn IO>, Arc<dyn File>);

/// The blocking and the memory backend, each with a file holding `abcd`.
fn inline_backends(dir: &std::path::Path) -> Vec<Backend> {
    let mut out = Vec::new();
    for (name, io) in [
        ("blocking", Arc::new(BlockingIO::new()) as Arc<dyn IO>),
        ("memory", Arc::new(MemoryIO::new()) as Arc<dyn IO>),
    ] {
        let file = io.open_file(&dir.join(name), OpenOptions::new()).unwrap();
        let w = file
            .pwrite(
                0,
                Arc::new(Buffer::from_vec(b"abcd".to_vec())),
                Completion::write(),
            )
            .unwrap();
        io.wait(&w).unwrap();
        out.push((name, io, file));
    }
    out
}

fn multi_thread(workers: usize) -> ::tokio::runtime::Runtime {
    ::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

/// Finding 7: `run` over a backend whose syscalls run inline (blocking,
/// memory) inside a `LocalSet` on a multi-thread runtime, where tokio
/// refuses `block_in_place`: it works (the call runs inline, blocking only
/// the `LocalSet`'s thread, as on a current-thread runtime), whether the
/// `LocalSet` is driven by the runtime's `block_on`, by its own
/// `LocalSet::block_on`, or by `Handle::block_on` on a blocking thread. The
/// plain cases (a worker task, the future of `block_on`) still work.
#[test]
fn finding_7_localset_on_a_multi_thread_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let rt = multi_thread(2);
    for (name, backend, file) in inline_backends(dir.path()) {
        let io = Arc::new(rt.block_on(async { TokioIO::new(backend.clone()).unwrap() }));
        let want = b"abcd".to_vec();

        // Spawned on a LocalSet that the runtime's `block_on` drives.
        let (io2, f2) = (io.clone(), file.clone());
        let got = rt.block_on(::tokio::task::LocalSet::new().run_until(async move {
            ::tokio::task::spawn_local(async move { io2.run(read_four(f2)).await })
                .await
                .unwrap()
        }));
        assert_eq!(got, Ok(want.clone()), "{name}: a task of a LocalSet in block_on");

        // Directly in the future of `LocalSet::block_on`.
        let (io2, f2) = (io.clone(), file.clone());
        let got = ::tokio::task::LocalSet::new().block_on(&rt, async move { io2.run(read_four(f2)).await });
        assert_eq!(got, Ok(want.clone()), "{name}: LocalSet::block_on");

        // A LocalSet driven from a blocking thread of the runtime.
        let (io2, f2, handle) = (io.clone(), file.clone(), rt.handle().clone());
        let got = rt.block_on(async move {
            ::tokio::task::spawn_blocking(move || {
                handle.block_on(::tokio::task::LocalSet::new().run_until(async move {
                    ::tokio::task::spawn_local(async move { io2.run(read_four(f2)).await })
                        .await
                        .unwrap()
                }))
            })
            .await
            .unwrap()
        });
        assert_eq!(got, Ok(want.clone()), "{name}: a LocalSet on a blocking thread");

        // The plain cases: a worker task, and the future of `block_on`.
        let (io2, f2) = (io.clone(), file.clone());
        let got = rt.block_on(async move {
            ::tokio::spawn(async move { io2.run(read_four(f2)).await })
                .await
                .unwrap()
        });
        assert_eq!(got, Ok(want.clone()), "{name}: a worker task");
        let got = rt.block_on(io.run(read_four(file.clone())));
        assert_eq!(got, Ok(want), "{name}: the future of block_on");
    }
}

/// Finding 7, the other side: on a worker thread the machine's call still
/// runs in `block_in_place`, which hands the worker's other tasks to another
/// thread. With one worker, a call that waits for another task of the
/// runtime returns (inline, it would hold the only worker and wait in vain).
#[test]
fn finding_7_a_blocking_call_on_a_worker_frees_the_worker() {
    let rt = multi_thread(1);
    rt.block_on(async {
        let io = Arc::new(TokioIO::new(Arc::new(BlockingIO::new()) as Arc<dyn IO>).unwrap());
        let (started_tx, started_rx) = ::tokio::sync::oneshot::channel::<()>();
        let (tx, rx) = std::sync::mpsc::channel::<u32>();
        let helper = ::tokio::spawn(async move {
            started_rx.await.unwrap();
            tx.send(42).unwrap();
        });
        let io2 = io.clone();
        let caller = ::tokio::spawn(async move {
            let mut started = Some(started_tx);
            io2.run(move || -> Result<IOResult<u32>, CompletionError> {
                started.take().unwrap().send(()).unwrap();
                // Blocks this thread until the helper task has run.
                let v = rx
                    .recv_timeout(Duration::from_secs(20))
                    .map_err(|_| CompletionError::Stalled)?;
                Ok(IOResult::Done(v))
            })
            .await
        });
        assert_eq!(caller.await.unwrap(), Ok(42), "the call held the only worker");
        helper.await.unwrap();
    });
}

/// A backend with a readiness descriptor (so a `TokioIO` over it has a
/// reactor task) that never becomes readable: a socket nobody writes to.
struct QuietFd {
    inner: MemoryIO,
    read_end: UnixStream,
    _write_end: UnixStream,
}

impl QuietFd {
    fn new() -> QuietFd {
        let (read_end, write_end) = UnixStream::pair().unwrap();
        QuietFd {
            inner: MemoryIO::new(),
            read_end,
            _write_end: write_end,
        }
    }
}

impl IO for QuietFd {
    fn open_file(&self, path: &std::path::Path, options: OpenOptions) -> std::io::Result<Arc<dyn File>> {
        self.inner.open_file(path, options)
    }
    fn remove_file(&self, path: &std::path::Path) -> std::io::Result<()> {
        self.inner.remove_file(path)
    }
    fn step(&self) -> Result<usize, CompletionError> {
        Ok(0)
    }
    fn ready_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.read_end.as_fd())
    }
}

/// A machine that waits on `c` once, then returns its result.
fn wait_on(c: Completion) -> impl FnMut() -> Result<IOResult<i32>, CompletionError> {
    let mut waited = false;
    move || {
        if waited {
            return Ok(IOResult::Done(
                c.result().unwrap_or(Err(CompletionError::Stalled))?,
            ));
        }
        waited = true;
        Ok(IOResult::IO(c.clone().into()))
    }
}

fn is_gone(r: &Result<i32, CompletionError>) -> bool {
    matches!(r, Err(CompletionError::Unsupported(why)) if why.contains("is gone"))
}

fn runtime(multi: bool) -> ::tokio::runtime::Runtime {
    if multi {
        multi_thread(2)
    } else {
        ::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }
}

/// Finding 10: a `TokioIO` whose runtime is gone (its reactor's task went
/// with it), used from another runtime: `run` returns an error that says
/// so, instead of waiting forever for a delivery nobody makes; on both
/// flavors of runtime.
#[test]
fn finding_10_used_after_its_runtime_is_gone() {
    for multi in [false, true] {
        let first = runtime(multi);
        let io = first.block_on(async { TokioIO::new(Arc::new(QuietFd::new()) as Arc<dyn IO>).unwrap() });
        drop(first);
        let second = runtime(multi);
        let r = second.block_on(async {
            ::tokio::time::timeout(Duration::from_secs(20), io.run(wait_on(Completion::pending())))
                .await
                .expect("run waited for a runtime that is gone")
        });
        assert!(is_gone(&r), "multi {multi}: {r:?}");
        // It stays so.
        let r = second.block_on(io.run(wait_on(Completion::pending())));
        assert!(is_gone(&r), "multi {multi}: {r:?}");
    }
}

/// Finding 10, while a `run` waits: the runtime of its `TokioIO` goes away
/// under it, and the waiting `run` (in another runtime) wakes up with the
/// error.
#[test]
fn finding_10_runtime_gone_while_a_run_waits() {
    for multi in [false, true] {
        let first = runtime(multi);
        let io = Arc::new(
            first.block_on(async { TokioIO::new(Arc::new(QuietFd::new()) as Arc<dyn IO>).unwrap() }),
        );
        let (called_tx, called_rx) = std::sync::mpsc::channel();
        let io2 = io.clone();
        let waiter = std::thread::spawn(move || {
            runtime(multi).block_on(async move {
                let c = Completion::pending();
                let mut machine = wait_on(c.clone());
                let machine = move || {
                    let _ = called_tx.send(());
                    machine()
                };
                ::tokio::time::timeout(Duration::from_secs(20), io2.run(machine))
                    .await
                    .expect("the waiting run was never told")
            })
        });
        called_rx.recv().unwrap();
        drop(first);
        let r = waiter.join().unwrap();
        assert!(is_gone(&r), "multi {multi}: {r:?}");
    }
}
