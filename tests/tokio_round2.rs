//! `ratchet::tokio`, second round: what a hostile tester found (issue 17).
//! Each test is named after its finding.
#![cfg(feature = "tokio")]
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ratchet::tokio::TokioIO;
use ratchet::{Completion, CompletionError, IO, IOResult, MemoryIO};

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
