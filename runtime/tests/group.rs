//! Semantics of `CompletionGroup`. Each named case has broken in a widely used
//! engine; the test names say which.

use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use ratchet_runtime::{Completion, CompletionError, CompletionGroup};

/// Every outcome the group's callback was called with.
type Seen = Arc<Mutex<Vec<Result<i32, CompletionError>>>>;

fn counting_group() -> (CompletionGroup, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    (CompletionGroup::new(move |o| s.lock().unwrap().push(o)), seen)
}

#[test]
fn group_finishes_only_after_every_child_has_arrived() {
    let children: Vec<Completion> = (0..5).map(|_| Completion::pending()).collect();
    let (mut group, seen) = counting_group();
    for c in &children {
        group.add(c);
    }
    let all = group.build();
    for (i, c) in children.iter().enumerate() {
        assert!(!all.finished(), "finished after {i} of 5 children");
        c.complete(4096);
    }
    // DESIGN rule 4: a built group's result is 0.
    assert_eq!(all.result(), Some(Ok(0)));
    assert_eq!(group.len(), 5);
    assert_eq!(*seen.lock().unwrap(), vec![Ok(0)], "group callback runs once");
}

#[test]
fn group_count_is_exact_and_never_flips_back_to_unfinished() {
    let a = Completion::pending();
    let (mut group, seen) = counting_group();
    group.add(&a);
    let all = group.build();
    a.complete(1);
    // A second outcome for the same child must not count again ...
    a.complete(1);
    a.abort();
    assert_eq!(all.result(), Some(Ok(0)));
    // ... and a child added after the group finished cannot reopen it.
    let late = Completion::pending();
    group.add(&late);
    assert!(all.finished());
    late.error(CompletionError::Io(ErrorKind::Other));
    assert_eq!(all.result(), Some(Ok(0)));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn group_first_error_wins() {
    let (a, b, c) = (
        Completion::pending(),
        Completion::pending(),
        Completion::pending(),
    );
    let mut group = CompletionGroup::default();
    for x in [&a, &b, &c] {
        group.add(x);
    }
    let all = group.build();
    b.error(CompletionError::Io(ErrorKind::PermissionDenied));
    a.error(CompletionError::Io(ErrorKind::StorageFull));
    assert!(
        !all.finished(),
        "an error does not end the wait for the other children"
    );
    c.complete(0);
    assert_eq!(
        all.get_error(),
        Some(CompletionError::Io(ErrorKind::PermissionDenied))
    );
}

#[test]
fn groups_nest() {
    let leaves: Vec<Completion> = (0..4).map(|_| Completion::pending()).collect();
    let mut inner = CompletionGroup::default();
    inner.add(&leaves[0]);
    inner.add(&leaves[1]);
    let inner_done = inner.build();
    let mut outer = CompletionGroup::default();
    outer.add(&inner_done);
    outer.add(&leaves[2]);
    outer.add(&leaves[3]);
    let outer_done = outer.build();
    leaves[2].complete(0);
    leaves[3].complete(0);
    leaves[0].complete(0);
    assert!(!outer_done.finished());
    leaves[1].complete(0);
    assert!(inner_done.succeeded());
    assert_eq!(outer_done.result(), Some(Ok(0)));
}

#[test]
fn cancel_aborts_every_outstanding_child_including_nested_groups() {
    let done = Completion::pending();
    let nested_leaf = Completion::pending();
    let leaf = Completion::pending();
    let mut inner = CompletionGroup::default();
    inner.add(&nested_leaf);
    let inner_done = inner.build();
    let mut group = CompletionGroup::default();
    group.add(&done);
    group.add(&leaf);
    group.add(&inner_done);
    let all = group.build();
    done.complete(0);
    group.cancel();
    assert_eq!(leaf.get_error(), Some(CompletionError::Aborted));
    assert_eq!(nested_leaf.get_error(), Some(CompletionError::Aborted));
    assert_eq!(inner_done.get_error(), Some(CompletionError::Aborted));
    assert!(done.succeeded(), "finished children keep their outcome");
    assert_eq!(all.get_error(), Some(CompletionError::Aborted));
}

#[test]
fn cancelled_group_finishes_as_failed_even_before_build() {
    let child = Completion::pending();
    let mut group = CompletionGroup::default();
    group.add(&child);
    group.cancel();
    let all = group.build();
    assert!(all.failed());
    assert_eq!(child.get_error(), Some(CompletionError::Aborted));

    // Aborting the built completion is the same as cancelling the group.
    let child = Completion::pending();
    let mut group = CompletionGroup::default();
    group.add(&child);
    let all = group.build();
    all.abort();
    assert_eq!(child.get_error(), Some(CompletionError::Aborted));
    assert_eq!(all.get_error(), Some(CompletionError::Aborted));
}

#[test]
fn empty_group_is_finished_at_once() {
    let (mut group, seen) = counting_group();
    let all = group.build();
    assert!(all.finished());
    assert_eq!(all.result(), Some(Ok(0)));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn child_finishing_while_build_is_running_is_counted_exactly_once() {
    for round in 0..500 {
        let children: Vec<Completion> = (0..8).map(|_| Completion::pending()).collect();
        let (mut group, seen) = counting_group();
        for c in &children {
            group.add(c);
        }
        let barrier = Arc::new(Barrier::new(2));
        let finisher = {
            let children = children.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                for c in &children {
                    c.complete(1);
                }
            })
        };
        barrier.wait();
        let all = group.build();
        finisher.join().unwrap();
        assert_eq!(all.result(), Some(Ok(0)), "round {round}");
        assert_eq!(group.len(), 8, "round {round}");
        assert_eq!(seen.lock().unwrap().len(), 1, "round {round}: callback once");
    }
}

#[test]
fn child_that_already_failed_when_added_after_a_pending_one_leaves_the_group_correct() {
    let pending = Completion::pending();
    let failed = Completion::pending();
    failed.error(CompletionError::Io(ErrorKind::UnexpectedEof));
    let (mut group, seen) = counting_group();
    group.add(&pending);
    group.add(&failed);
    let all = group.build();
    assert!(!all.finished(), "the pending child has not arrived");
    pending.complete(0);
    assert_eq!(
        all.get_error(),
        Some(CompletionError::Io(ErrorKind::UnexpectedEof))
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn ready_children_count_immediately() {
    let mut group = CompletionGroup::default();
    group.add(&Completion::ready());
    group.add(&Completion::yield_now());
    assert_eq!(group.len(), 2);
    assert_eq!(group.build().result(), Some(Ok(0)));
}

#[test]
fn concurrent_children_and_adds_from_many_threads() {
    let total = Arc::new(AtomicUsize::new(0));
    let t = total.clone();
    let mut group = CompletionGroup::new(move |o| {
        assert_eq!(o, Ok(0));
        t.fetch_add(1, Ordering::SeqCst);
    });
    let children: Vec<Completion> = (0..64).map(|_| Completion::pending()).collect();
    let handles: Vec<_> = children
        .chunks(16)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            thread::spawn(move || chunk.iter().for_each(|c| c.complete(0)))
        })
        .collect();
    for c in &children {
        group.add(c);
    }
    let all = group.build();
    for h in handles {
        h.join().unwrap();
    }
    assert!(all.succeeded());
    assert_eq!(group.len(), 64);
    assert_eq!(total.load(Ordering::SeqCst), 1, "the group's callback runs once");
}
