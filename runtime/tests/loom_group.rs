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
        assert_eq!(all.result(), Some(Ok(1)));
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
