//! `Driver` and `Completion`, second round: what a hostile tester found
//! (issue 17). Each test is named after its finding.
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ratchet::{Completion, CompletionError, Driver, IOResult, MemoryIO};

type M = Box<dyn FnMut(&mut ()) -> Result<IOResult<i32>, CompletionError>>;

/// Finding 2: a completion finished on another thread (with a slow callback
/// of its own) while the driver runs rounds (another instance keeps
/// yielding). The waiting instance must be called again only once its
/// completion has finished: `result()` is never `None` then.
#[test]
fn finding_2_waiter_called_only_once_finished() {
    let io = MemoryIO::new();
    for _ in 0..300 {
        let mut d: Driver<(), M> = Driver::new(2);
        let c = Completion::pending()
            .with_callback(|_| std::thread::sleep(std::time::Duration::from_micros(200)));
        let cc = c.clone();
        let mut waiting: Option<Completion> = None;
        d.start(Box::new(move |_: &mut ()| {
            if let Some(c) = waiting.take() {
                let n = c.result().unwrap_or(Err(CompletionError::Stalled))?;
                return Ok(IOResult::Done(n));
            }
            waiting = Some(cc.clone());
            Ok(IOResult::IO(cc.clone().into()))
        }))
        .ok()
        .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        d.start(Box::new(move |_: &mut ()| {
            if st.load(Ordering::SeqCst) {
                return Ok(IOResult::Done(-1));
            }
            Ok(IOResult::IO(Completion::yield_now().into()))
        }))
        .ok()
        .unwrap();
        let h = std::thread::spawn(move || c.complete(7));
        let (_, r) = d.next(&io, &mut ()).unwrap().unwrap();
        assert_eq!(r, Ok(7), "the waiter saw its completion unfinished");
        stop.store(true, Ordering::SeqCst);
        h.join().unwrap();
        while d.next(&io, &mut ()).unwrap().is_some() {}
    }
}

/// Finding 2, at the completion: a notification added while a callback runs
/// on another thread runs only once `finished()` is true.
#[test]
fn finding_2_on_finished_waits_for_every_callback() {
    let entered = Arc::new(AtomicBool::new(false));
    let e = entered.clone();
    let c = Completion::pending().with_callback(move |_| {
        e.store(true, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(50));
    });
    let finisher = {
        let c = c.clone();
        std::thread::spawn(move || c.complete(3))
    };
    while !entered.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    let seen = Arc::new(std::sync::Mutex::new(None));
    let (s, c2) = (seen.clone(), c.clone());
    c.on_finished(move || *s.lock().unwrap() = Some((c2.finished(), c2.result())));
    finisher.join().unwrap();
    assert_eq!(*seen.lock().unwrap(), Some((true, Some(Ok(3)))));
}

fn shared_waiters(n: usize) {
    let io = MemoryIO::new();
    let shared = Completion::pending();
    let mut d: Driver<(), M> = Driver::new(n + 1);
    for _ in 0..n {
        let c = shared.clone();
        let mut first = true;
        d.start(Box::new(move |_: &mut ()| {
            if first {
                first = false;
                return Ok(IOResult::IO(c.clone().into()));
            }
            assert!(c.finished());
            Ok(IOResult::Done(1))
        }))
        .ok()
        .unwrap();
    }
    let c = shared.clone();
    let mut first = true;
    d.start(Box::new(move |_: &mut ()| {
        if first {
            first = false;
            return Ok(IOResult::IO(Completion::yield_now().into()));
        }
        c.complete(1);
        Ok(IOResult::Done(0))
    }))
    .ok()
    .unwrap();
    let mut done = 0;
    while let Some((_, r)) = d.next(&io, &mut ()).unwrap() {
        r.unwrap();
        done += 1;
    }
    assert_eq!(done, n + 1);
}

/// Finding 3: 200,000 instances waiting on one shared completion (a debug
/// test thread overflowed its stack at about 9,000 before).
#[test]
fn finding_3_many_waiters_on_one_completion() {
    shared_waiters(200_000);
}

/// Finding 3: a long `with_callback` chain, completed and dropped unfinished.
#[test]
fn finding_3_long_callback_chain() {
    let hits = Arc::new(AtomicUsize::new(0));
    let c = Completion::pending();
    for _ in 0..300_000 {
        let h = hits.clone();
        drop(c.clone().with_callback(move |_| {
            h.fetch_add(1, Ordering::Relaxed);
        }));
    }
    c.complete(1);
    assert_eq!(hits.load(Ordering::Relaxed), 300_000);
    let dropped = Completion::pending();
    for _ in 0..300_000 {
        let h = hits.clone();
        drop(dropped.clone().with_callback(move |_| {
            h.fetch_add(1, Ordering::Relaxed);
        }));
    }
    drop(dropped);
    assert_eq!(
        hits.load(Ordering::Relaxed),
        300_000,
        "an unfinished completion's callbacks never run"
    );
}
