//! The synchronisation primitives the completion core is built on.
//!
//! Under `--cfg loom` they are loom's model-checked doubles, so the loom test
//! explores the real code paths of `Completion` and `CompletionGroup` rather
//! than a copy of them.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};
/// `triomphe::Arc` has no weak count: dropping the last handle of a
/// completion is one atomic decrement instead of two, on the hottest path of
/// the runtime (`benches/completion.rs`).
#[cfg(not(loom))]
pub(crate) use triomphe::Arc;

/// Locks `m`, ignoring poisoning.
///
/// A panic inside a user callback never happens while one of our locks is held
/// (callbacks run after the lock is released), so a poisoned lock can only come
/// from a panic in our own short critical sections, which leave the data
/// consistent. Refusing to go on would turn one panic into a cascade.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}
