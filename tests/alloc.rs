//! `Completion::ready()` and `Completion::yield_now()` are the fast path of
//! every machine that needs no I/O: they must not allocate.
//!
//! `allocation_counter` installs a counting global allocator and counts only
//! the allocations of the thread calling `measure`, so other test threads
//! cannot disturb the zero.

use ratchet::{Completion, IOCompletions, IOResult};
use std::hint::black_box;

#[test]
fn ready_and_yield_completions_allocate_nothing() {
    // The counter works: a pending completion is one allocation (and is
    // freed again), so a zero below means something. (The first completion
    // dropped on a thread also makes room in its pool: done here first.)
    drop(Completion::pending());
    Completion::release_pooled();
    let pending = allocation_counter::measure(|| {
        black_box(Completion::pending());
        // A dropped completion's allocation is kept for reuse by this
        // thread; freeing the pool makes a leak visible.
        assert_eq!(Completion::release_pooled(), 1, "the allocation was pooled");
    });
    assert_eq!(
        pending.count_total, 1,
        "Completion::pending() should allocate once"
    );
    assert_eq!(pending.count_current, 0, "Completion::pending() leaked");

    let info = allocation_counter::measure(|| {
        for _ in 0..1000 {
            let ready = black_box(Completion::ready());
            let yielded = black_box(Completion::yield_now());
            let (r2, y2) = (ready.clone(), yielded.clone());
            assert!(black_box(&r2).finished() && black_box(&y2).finished());
            assert_eq!(black_box(&ready).result(), Some(Ok(0)));
            assert_eq!(black_box(&yielded).result(), Some(Ok(0)));
            assert!(ready.succeeded() && !yielded.failed() && ready.get_error().is_none());
            assert!(yielded.is_yield() && !ready.is_yield());
            assert!(ready.device_released());
            let default = black_box(Completion::default());
            // What a machine does at a suspension point on the fast path:
            // ask whether to suspend, and wrap the completion for `IO`.
            // (Unless force-suspend is on, which suspends at every point.)
            assert_eq!(
                ratchet::__private::must_suspend(&ready),
                ratchet::testing::force_suspend()
            );
            assert!(ratchet::__private::must_suspend(&yielded));
            let io: IOResult<()> = IOResult::IO(IOCompletions::from(yielded.clone()));
            drop((black_box(io), ready, yielded, r2, y2, default));
        }
    });
    assert_eq!(info.count_total, 0, "ready()/yield_now() allocated: {info:?}");
}

#[test]
fn a_group_of_32_allocates_once_per_child_plus_its_bookkeeping() {
    use ratchet::CompletionGroup;
    // Dropped completions go to this thread's pool, which grows as they
    // come: grown here first, so that only the group's own allocations are
    // counted.
    drop((0..40).map(|_| Completion::pending()).collect::<Vec<_>>());
    Completion::release_pooled();
    let info = allocation_counter::measure(|| {
        let children: Vec<Completion> = (0..32).map(|_| Completion::pending()).collect();
        let mut group = CompletionGroup::default();
        for c in &children {
            group.add(c);
        }
        let all = group.build();
        for c in &children {
            c.complete(0);
        }
        assert!(black_box(&all).succeeded());
        drop((children, all));
        Completion::release_pooled();
    });
    // 32 children, the `children` Vec above, the group's completion and its
    // boxed bookkeeping, and the growth of the group's child list: no
    // allocation per child beyond the child itself (the parent link is inline).
    println!("group of 32: {} allocations", info.count_total);
    assert!(info.count_total <= 32 + 12, "{} allocations", info.count_total);
    assert_eq!(info.count_current, 0, "the group leaked");
}

#[test]
fn a_dropped_completion_is_reused_without_allocating() {
    Completion::release_pooled();
    let warm: Vec<Completion> = (0..8).map(|_| Completion::pending()).collect();
    for c in &warm {
        c.complete(0);
    }
    drop(warm);
    let buf = std::sync::Arc::new(ratchet::Buffer::new(16));
    let info = allocation_counter::measure(|| {
        for _ in 0..1000 {
            let c = black_box(Completion::read(buf.clone()));
            c.complete(16);
            assert_eq!(c.result(), Some(Ok(16)));
            let w = black_box(Completion::write());
            assert!(!w.finished(), "a reused completion starts pending");
            w.error(ratchet::CompletionError::Aborted);
            assert_eq!(w.result(), Some(Err(ratchet::CompletionError::Aborted)));
        }
    });
    assert_eq!(info.count_total, 0, "completions came from the pool: {info:?}");
    assert_eq!(
        std::sync::Arc::strong_count(&buf),
        1,
        "the pool keeps no buffer alive"
    );
    assert!(Completion::release_pooled() >= 2);
}
