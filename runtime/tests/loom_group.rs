//! Model check of a group under concurrent `complete` against `add`, `build`
//! and `cancel`: loom runs every interleaving of the real code (the runtime's
//! primitives switch to loom's under `--cfg loom`).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p ratchet-runtime --release --test loom_group`
#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use ratchet_runtime::{Completion, CompletionError, CompletionGroup};

fn group_counting_callbacks() -> (CompletionGroup, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    (
        CompletionGroup::new(move |_| {
            r.fetch_add(1, Ordering::SeqCst);
        }),
        runs,
    )
}

#[test]
fn complete_races_add_and_build() {
    loom::model(|| {
        let a = Completion::pending();
        let b = Completion::pending();
        let (mut group, runs) = group_counting_callbacks();
        let finisher = {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || {
                a.complete(1);
                b.error(CompletionError::Aborted);
            })
        };
        group.add(&a);
        group.add(&b);
        let all = group.build();
        finisher.join().unwrap();
        assert!(all.finished(), "both children arrived, so the group must have");
        assert_eq!(all.get_error(), Some(CompletionError::Aborted));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn complete_races_build_with_child_added_first() {
    loom::model(|| {
        let a = Completion::pending();
        let (mut group, runs) = group_counting_callbacks();
        group.add(&a);
        let finisher = {
            let a = a.clone();
            thread::spawn(move || a.complete(1))
        };
        let all = group.build();
        finisher.join().unwrap();
        assert_eq!(
            all.result(),
            Some(Ok(0)),
            "DESIGN rule 4: a built group's result is 0"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn complete_races_cancel() {
    loom::model(|| {
        let a = Completion::pending();
        let b = Completion::pending();
        let (mut group, runs) = group_counting_callbacks();
        group.add(&a);
        group.add(&b);
        let all = group.build();
        let finisher = {
            let a = a.clone();
            thread::spawn(move || a.complete(1))
        };
        group.cancel();
        finisher.join().unwrap();
        // `b` was outstanding at cancel time in every interleaving.
        assert_eq!(b.get_error(), Some(CompletionError::Aborted));
        // `a` either completed first or was aborted: either way exactly once.
        assert!(a.finished());
        assert_eq!(all.get_error(), Some(CompletionError::Aborted));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn fast_complete_races_callback_registration() {
    // `complete` of a success with no waiters is one CAS without the lock;
    // a callback registered concurrently must still run exactly once.
    loom::model(|| {
        let c = Completion::pending();
        let finisher = {
            let c = c.clone();
            thread::spawn(move || c.complete(7))
        };
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let c = c.with_callback(move |o| {
            assert_eq!(o, Ok(7));
            r.fetch_add(1, Ordering::SeqCst);
        });
        finisher.join().unwrap();
        assert_eq!(c.result(), Some(Ok(7)));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn error_races_success_and_abort() {
    loom::model(|| {
        let c = Completion::pending();
        let (a, b) = (c.clone(), c.clone());
        let t1 = thread::spawn(move || a.complete(1));
        let t2 = thread::spawn(move || b.error(CompletionError::Aborted));
        t1.join().unwrap();
        t2.join().unwrap();
        let outcome = c.result().expect("finished");
        assert!(outcome == Ok(1) || outcome == Err(CompletionError::Aborted));
        // Every later look agrees with the first.
        assert_eq!(c.result(), Some(outcome));
    });
}
