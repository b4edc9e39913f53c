//! Finishing the completions a backend's `step()` has retired: in order,
//! with no backend lock held, panic-safe, and visible to every step.
//!
//! # What a panicking callback does
//!
//! A callback runs when its completion finishes. If it panics:
//!
//! 1. its completion is finished all the same, with its outcome
//!    (`finished()` is true, `result()` is that outcome), and every group
//!    waiting for it is told;
//! 2. the rest of the batch is still delivered: every other completion the
//!    same `step()` retired is finished and its callback run;
//! 3. the backend's own bookkeeping is restored (nothing stays counted as
//!    "being delivered");
//! 4. then the panic reaches the caller of `step()` (or of `wait`/`block`,
//!    which step), resumed with its original payload. When several callbacks
//!    of one batch panic, the first panic is resumed and the others are
//!    dropped.
//!
//! On the inline backends (`BlockingIO`, `MemoryIO`) callbacks run inside
//! the call that starts the operation, so the panic reaches the caller of
//! that call, after 1. When a backend is dropped, its outstanding
//! completions are aborted the same way, and a panic of their callbacks is
//! resumed from `drop` unless the thread is already panicking.
//!
//! # Waiting inside a callback
//!
//! The completions a step retired wait in a queue that every step looks at
//! first, so a callback may `wait` on a sibling retired by the same step
//! (the nested step finishes it), and a thread that steps while another
//! thread is finishing completions either finishes the queued ones itself
//! or waits for the other thread's callbacks to return before it reports
//! that nothing is in flight.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

thread_local! {
    /// How many deliveries this thread is inside (a callback may step
    /// again): such a thread must not wait for other deliveries to end, its
    /// own are among them.
    static DELIVERING_HERE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Retired operations waiting to be finished, shared by every step of one
/// backend.
pub(crate) struct Deliveries<T> {
    queue: Mutex<Queue<T>>,
    idle: Condvar,
    /// `items.len()`, kept beside the queue so that a step with nothing
    /// queued (the common case: most completions are finished where they
    /// are reaped, see `UringIO`) looks without taking the lock.
    queued: AtomicUsize,
    /// Items finished so far, by every step, and completions their
    /// backend finished without queueing them ([`Deliveries::count`]).
    finished: AtomicU64,
}

struct Queue<T> {
    items: VecDeque<T>,
    /// Taken from `items` by some step and not yet finished.
    in_hand: usize,
    /// Threads waiting for `in_hand` to reach 0.
    waiters: usize,
}

/// Restores `DELIVERING_HERE` however a delivery ends.
struct Depth;

impl Depth {
    fn enter() -> Depth {
        DELIVERING_HERE.set(DELIVERING_HERE.get() + 1);
        Depth
    }
}

impl Drop for Depth {
    fn drop(&mut self) {
        DELIVERING_HERE.set(DELIVERING_HERE.get() - 1);
    }
}

impl<T> Default for Deliveries<T> {
    fn default() -> Self {
        Deliveries {
            queue: Mutex::new(Queue {
                items: VecDeque::new(),
                in_hand: 0,
                waiters: 0,
            }),
            idle: Condvar::new(),
            queued: AtomicUsize::new(0),
            finished: AtomicU64::new(0),
        }
    }
}

impl<T> Deliveries<T> {
    fn lock(&self) -> MutexGuard<'_, Queue<T>> {
        // No user code runs under this lock, and each critical section
        // leaves the queue consistent.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues retired operations behind those already queued.
    pub(crate) fn push_all(&self, items: impl IntoIterator<Item = T>) {
        let mut q = self.lock();
        q.items.extend(items);
        self.queued.store(q.items.len(), Ordering::Release);
    }

    /// How many items all steps have finished so far, and completions
    /// counted by [`Deliveries::count`].
    pub(crate) fn finished(&self) -> u64 {
        self.finished.load(Ordering::Acquire)
    }

    /// Counts `n` completions the backend finished itself, without queueing
    /// them (they ran no user code), so that a step of another thread sees
    /// that something was delivered.
    pub(crate) fn count(&self, n: usize) {
        if n > 0 {
            self.finished.fetch_add(n as u64, Ordering::AcqRel);
        }
    }

    /// Finishes queued items, in order, with `finish`, until none is left;
    /// returns how many this call finished. A panic of `finish` is held
    /// until the queue is empty and then resumed (see the module
    /// documentation).
    pub(crate) fn run(&self, mut finish: impl FnMut(T)) -> usize {
        if self.queued.load(Ordering::Acquire) == 0 {
            return 0;
        }
        let _depth = Depth::enter();
        let mut count = 0;
        let mut panicked = None;
        let mut q = self.lock();
        while let Some(item) = q.items.pop_front() {
            q.in_hand += 1;
            self.queued.store(q.items.len(), Ordering::Release);
            drop(q);
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| finish(item))) {
                panicked.get_or_insert(payload);
            }
            count += 1;
            q = self.lock();
            q.in_hand -= 1;
            self.finished.fetch_add(1, Ordering::AcqRel);
            if q.in_hand == 0 && q.waiters > 0 {
                self.idle.notify_all();
            }
        }
        drop(q);
        if let Some(payload) = panicked {
            resume_unwind(payload);
        }
        count
    }

    /// [`Deliveries::run`] for a backend being dropped: a panic is resumed
    /// only when the thread is not already unwinding (a second panic would
    /// abort the process).
    pub(crate) fn run_in_drop(&self, finish: impl FnMut(T)) {
        if std::thread::panicking() {
            let _ = catch_unwind(AssertUnwindSafe(|| self.run(finish)));
        } else {
            self.run(finish);
        }
    }

    /// Waits until no other thread is finishing items of this queue, unless
    /// this thread is itself inside a delivery (whose items would never be
    /// done while it waits). A step that found nothing to do calls this
    /// before it says so, or a waiter whose completion another thread is
    /// about to finish would be told that nothing is in flight.
    pub(crate) fn wait_for_others(&self) {
        if DELIVERING_HERE.get() > 0 {
            return;
        }
        let mut q = self.lock();
        while q.in_hand > 0 {
            q.waiters += 1;
            q = self
                .idle
                .wait(q)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            q.waiters -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_resumed_after_the_rest_of_the_queue() {
        let d = Deliveries::default();
        d.push_all([1, 2, 3]);
        let mut seen = Vec::new();
        let r = catch_unwind(AssertUnwindSafe(|| {
            d.run(|i| {
                seen.push(i);
                assert_ne!(i, 2, "boom");
            })
        }));
        assert!(r.is_err());
        assert_eq!(seen, [1, 2, 3]);
        assert_eq!(d.finished(), 3);
        assert_eq!(DELIVERING_HERE.get(), 0);
        d.wait_for_others();
    }

    #[test]
    fn a_nested_run_finishes_what_the_outer_one_queued() {
        let d = Deliveries::default();
        d.push_all([1, 2, 3]);
        let mut order = Vec::new();
        let n = d.run(|i| {
            order.push(i);
            if i == 1 {
                let mut inner = Vec::new();
                assert_eq!(d.run(|j| inner.push(j)), 2);
                order.extend(inner);
            }
        });
        assert_eq!(n, 1);
        assert_eq!(order, [1, 2, 3]);
    }
}
