//! `Completion`: the handle a machine waits on and a backend finishes.

use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::buffer::{Buffer, BufferMut};
use crate::group::GroupState;
use crate::sync::{Arc, AtomicU64, Mutex, Ordering, lock};

/// Why an operation did not succeed.
///
/// `Copy`, so that the first error of a group can be stored and handed to every
/// waiter without allocation or reference counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompletionError {
    /// The completion was aborted (by `abort()`, `CompletionGroup::cancel()` or
    /// a backend shutting down) before the operation finished.
    #[error("operation aborted")]
    Aborted,
    /// The operating system reported an error.
    #[error("I/O error: {0}")]
    Io(io::ErrorKind),
    /// A read that had to fill its buffer ended early.
    #[error("short read: {expected} bytes expected, {actual} read")]
    ShortRead {
        /// Bytes the caller asked for.
        expected: usize,
        /// Bytes that arrived.
        actual: usize,
    },
    /// A write the device accepted only in part and could not continue.
    #[error("short write: {expected} bytes expected, {actual} written")]
    ShortWrite {
        /// Bytes the caller asked to write.
        expected: usize,
        /// Bytes the device accepted.
        actual: usize,
    },
    /// `wait` was asked for a completion that is pending while the backend has
    /// nothing in flight that could finish it: waiting would hang forever.
    #[error("completion is pending but the backend has no operation in flight that could finish it")]
    Stalled,
    /// The backend cannot perform this operation.
    #[error("unsupported operation: {0}")]
    Unsupported(&'static str),
    /// The operation was given arguments it cannot use, such as a completion
    /// of the wrong kind, an offset past `i64::MAX`, a misaligned buffer for
    /// `O_DIRECT`, or a completion already in flight. Reported at the call
    /// (see "Where bad input is reported" in the crate documentation).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// A buffer is held in a way the request conflicts with: a view of a
    /// buffer a read is filling, a read into a buffer that has a view, a
    /// mutable view of a buffer a write is sending. The text says which. See
    /// [`Buffer`]'s rule for buffers in flight; it is never waited out.
    #[error("buffer busy: {0}")]
    Busy(&'static str),
}

impl From<io::Error> for CompletionError {
    fn from(e: io::Error) -> Self {
        CompletionError::Io(e.kind())
    }
}

impl From<io::ErrorKind> for CompletionError {
    fn from(kind: io::ErrorKind) -> Self {
        CompletionError::Io(kind)
    }
}

/// What an operation ended with: a non-negative count (bytes transferred, for
/// reads and writes) or an error.
pub type Outcome = Result<i32, CompletionError>;

type Callback = Box<dyn FnOnce(Outcome) + Send>;

/// Whether `sync` should flush metadata too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// `fdatasync`: the data and the metadata needed to read it back.
    Data,
    /// `fsync`: data and all metadata.
    Full,
}

/// The operation a completion belongs to, with what it owns.
pub(crate) enum Kind {
    Generic,
    /// The buffer the device fills. Owned here, so that dropping the user's
    /// handles cannot free it while the backend's handle is alive.
    Read(std::sync::Arc<Buffer>),
    Write,
    Sync(SyncMode),
    Truncate,
    /// Boxed: groups are rare, and inline their bookkeeping would make every
    /// completion's allocation larger.
    Group(Box<Mutex<GroupState>>),
}

/// A handle on the outcome of one operation (or group of operations).
///
/// Clones share the outcome. The first of `complete`, `error` and `abort` wins
/// and later ones are ignored; each callback runs exactly once, with no lock
/// held, so it may create, add to or finish other completions.
/// `finished()` turns true only after every callback has returned (one added
/// while the others run joins them), and only then are waiters told
/// ([`Completion::on_finished`]): a waiter never sees its completion still
/// pending.
///
/// ```
/// # extern crate ratchet_runtime as ratchet;
/// use ratchet::Completion;
/// let c = Completion::pending();
/// let seen = c.clone();
/// assert!(!seen.finished());
/// c.complete(4096);
/// c.abort(); // too late: ignored
/// assert!(seen.succeeded());
/// assert_eq!(seen.result(), Some(Ok(4096)));
/// ```
#[derive(Clone)]
pub struct Completion {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// Finished successfully; needs no allocation.
    Ready,
    /// Finished, but a machine must hand control back once at it.
    Yield,
    Shared(Arc<Inner>),
}

// The bits of `Inner::state`. The low 32 bits hold the `Ok` value, so a
// successful outcome is decided and read without the lock.
const VALUE_MASK: u64 = 0xFFFF_FFFF;
/// The outcome is decided: later outcomes are ignored.
const DECIDED: u64 = 1 << 32;
/// Decided *and* the callback has returned: `finished()`.
const FINISHED: u64 = 1 << 33;
/// A callback or a parent group is registered, so finishing must take the
/// lock to hand the outcome over. Without it, `complete` is one CAS.
const WAITERS: u64 = 1 << 34;
/// The outcome is an error, kept in `Slot::error`.
const ERR: u64 = 1 << 35;
/// A backend holds the operation (and so its buffer).
const DEVICE: u64 = 1 << 36;

pub(crate) struct Inner {
    /// Decided, finished, waiters, error and device bits plus the `Ok` value:
    /// everything the hot paths (`complete`, `finished`, `result`) need, in one
    /// word, so they cost one atomic operation.
    state: AtomicU64,
    /// What cannot live in `state`: the error, the callback and the parents.
    /// Registration and the slow path of finishing serialise on it.
    slot: Mutex<Slot>,
    pub(crate) kind: Kind,
}

struct Slot {
    error: Option<CompletionError>,
    callback: Option<Callback>,
    /// Callbacks added after the first, run in order after it. A list, not
    /// closures nested in closures, so that any number of them runs (and is
    /// dropped unrun) without recursion: no stack overflow at 300,000.
    more_callbacks: Vec<Callback>,
    /// Who waits for this completion to finish: a group, or a notification.
    /// Almost every completion has at most one, kept inline to save an
    /// allocation.
    parent: Option<Waiter>,
    more_parents: Vec<Waiter>,
}

/// Told once a completion has finished, after every callback has returned.
enum Waiter {
    /// A group, and the completion's index in it.
    Group(Completion, usize),
    /// [`Completion::on_finished`].
    Notify(Box<dyn FnOnce() + Send>),
}

impl Slot {
    fn take_parents(&mut self) -> (Option<Waiter>, Vec<Waiter>) {
        (self.parent.take(), std::mem::take(&mut self.more_parents))
    }

    fn add_waiter(&mut self, waiter: Waiter) {
        if self.parent.is_none() {
            self.parent = Some(waiter);
        } else {
            self.more_parents.push(waiter);
        }
    }

    fn add_callback(&mut self, callback: Callback) {
        if self.callback.is_none() {
            self.callback = Some(callback);
        } else {
            self.more_callbacks.push(callback);
        }
    }

    fn take_callbacks(&mut self) -> Option<impl Iterator<Item = Callback> + use<>> {
        let first = self.callback.take()?;
        Some(std::iter::once(first).chain(std::mem::take(&mut self.more_callbacks)))
    }
}

/// The outcome recorded in a decided `state` word.
fn outcome_of(state: u64, slot: &Slot) -> Outcome {
    if state & ERR != 0 {
        Err(slot.error.unwrap_or(CompletionError::Aborted))
    } else {
        Ok(value_of(state))
    }
}

#[allow(clippy::cast_possible_truncation)] // the low 32 bits are the value
fn value_of(state: u64) -> i32 {
    (state & VALUE_MASK) as u32 as i32
}

#[allow(clippy::cast_sign_loss)] // stored as its bit pattern, read back by `value_of`
fn value_bits(value: i32) -> u64 {
    u64::from(value as u32)
}

impl Completion {
    /// A completion of `kind`: a recycled allocation of this thread when
    /// there is one (the common case, kept inline: a call would cost more
    /// than the few instructions it takes), a new one otherwise.
    #[inline(always)]
    fn with_kind(kind: Kind) -> Self {
        #[cfg(not(loom))]
        if pooled_kind(&kind)
            && let Some(mut inner) = pool::reuse()
        {
            if let Some(state) = Arc::get_mut(&mut inner) {
                // A pooled allocation's kind is `Generic`, which owns
                // nothing: no drop to run.
                let old = std::mem::replace(&mut state.kind, kind);
                if matches!(old, Kind::Generic) {
                    std::mem::forget(old);
                }
                return Completion {
                    repr: Repr::Shared(inner),
                };
            }
            // Unreachable: the pool keeps only the last handle of an
            // allocation, which nobody can clone meanwhile.
            return Self::allocate(kind);
        }
        Self::allocate(kind)
    }

    /// [`Completion::with_kind`] with a new allocation.
    #[inline(never)]
    fn allocate(kind: Kind) -> Self {
        Completion {
            repr: Repr::Shared(Arc::new(Inner {
                state: AtomicU64::new(0),
                slot: Mutex::new(Slot {
                    error: None,
                    callback: None,
                    more_callbacks: Vec::new(),
                    parent: None,
                    more_parents: Vec::new(),
                }),
                kind,
            })),
        }
    }

    /// Frees the allocations of dropped completions that this thread keeps
    /// for reuse (at most 256, about 40 KiB: the last handle of a finished
    /// completion gives its allocation to its thread's pool, and the next
    /// completion made on that thread takes it instead of allocating). For a
    /// thread that is done with I/O for a while, and for tests that count
    /// allocations. Returns how many were freed.
    pub fn release_pooled() -> usize {
        pool::release()
    }

    /// A pending completion with nothing behind it: something else (a test, a
    /// custom event source) finishes it. File operations refuse it: each
    /// takes a completion of its own kind ([`Completion::write`] and the
    /// others), to which a callback is added with
    /// [`Completion::with_callback`].
    #[must_use]
    pub fn pending() -> Self {
        Self::with_kind(Kind::Generic)
    }

    /// A pending completion that runs `callback` with the outcome once:
    /// [`Completion::pending`] with a callback (so not for file operations).
    #[must_use]
    pub fn new(callback: impl FnOnce(Outcome) + Send + 'static) -> Self {
        Self::pending().with_callback(callback)
    }

    /// An already finished, successful completion. Allocates nothing.
    #[must_use]
    pub const fn ready() -> Self {
        Completion { repr: Repr::Ready }
    }

    /// An explicit cooperative yield: finished and successful, allocates
    /// nothing, yet a machine returns `IO` at it once so that its caller gets
    /// control back.
    #[must_use]
    pub const fn yield_now() -> Self {
        Completion { repr: Repr::Yield }
    }

    /// A read into `buf`; the read length is `buf.len()`. The completion owns
    /// the buffer: get it back with [`Completion::read_buffer`].
    #[inline]
    #[must_use]
    pub fn read(buf: std::sync::Arc<Buffer>) -> Self {
        Self::with_kind(Kind::Read(buf))
    }

    /// A write. The data travels with the `pwrite` call.
    #[must_use]
    pub fn write() -> Self {
        Self::with_kind(Kind::Write)
    }

    /// A full `fsync`.
    #[must_use]
    pub fn sync() -> Self {
        Self::with_kind(Kind::Sync(SyncMode::Full))
    }

    /// An `fdatasync`.
    #[must_use]
    pub fn sync_data() -> Self {
        Self::with_kind(Kind::Sync(SyncMode::Data))
    }

    /// A truncate.
    #[must_use]
    pub fn truncate() -> Self {
        Self::with_kind(Kind::Truncate)
    }

    pub(crate) fn group(state: GroupState) -> Self {
        Self::with_kind(Kind::Group(Box::new(Mutex::new(state))))
    }

    /// Under the slot lock: marks the completion as having waiters, so that a
    /// finisher takes the locked path. Returns the outcome instead when it is
    /// already decided (`finished` says whether the callback has returned).
    fn mark_waiters(inner: &Inner, slot: &Slot) -> Option<(Outcome, bool)> {
        let mut s = inner.state.load(Ordering::Acquire);
        loop {
            if s & DECIDED != 0 {
                return Some((outcome_of(s, slot), s & FINISHED != 0));
            }
            if s & WAITERS != 0 {
                return None;
            }
            match inner
                .state
                .compare_exchange_weak(s, s | WAITERS, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return None,
                Err(actual) => s = actual,
            }
        }
    }

    /// Adds `callback`, run once with the outcome, after the callbacks added
    /// before it. Runs it at once if the completion has already finished; one
    /// added while the completion's callbacks run (on another thread, or by
    /// one of them) runs with them, before `finished()` turns true. A
    /// callback that panics does not keep the ones after it from running;
    /// the panic reaches whoever finished the completion once they have.
    #[must_use]
    pub fn with_callback(self, callback: impl FnOnce(Outcome) + Send + 'static) -> Self {
        let mut callback = Some(callback);
        let finished = match &self.repr {
            Repr::Ready | Repr::Yield => Some(Ok(0)),
            Repr::Shared(inner) => {
                let mut slot = lock(&inner.slot);
                match Self::mark_waiters(inner, &slot) {
                    Some((outcome, true)) => Some(outcome),
                    _ => {
                        if let Some(callback) = callback.take() {
                            slot.add_callback(Box::new(callback));
                        }
                        None
                    }
                }
            }
        };
        if let (Some(outcome), Some(callback)) = (finished, callback) {
            callback(outcome);
        }
        self
    }

    /// Runs `notify` once the completion has finished: after every callback
    /// has returned, when [`finished`](Self::finished) and
    /// [`result`](Self::result) say so on every thread. At once, on this
    /// thread, if it has finished already; otherwise on the thread that
    /// finishes it. This is how a waiter is woken (a driver's queue, a
    /// task's waker): a waiter woken by a callback could look at its
    /// completion while other callbacks still run, and find it pending.
    /// Notifications run in the order they were added, without recursion
    /// however many there are; one that panics does not keep the others
    /// from running (the panic reaches whoever finished the completion).
    pub fn on_finished(&self, notify: impl FnOnce() + Send + 'static) {
        if let Repr::Shared(inner) = &self.repr {
            let mut slot = lock(&inner.slot);
            if !matches!(Self::mark_waiters(inner, &slot), Some((_, true))) {
                slot.add_waiter(Waiter::Notify(Box::new(notify)));
                return;
            }
        }
        notify();
    }

    /// Finishes successfully with `result` (bytes transferred, or 0). An
    /// outcome is never a negative count: a negative `result` is read as the
    /// kernel's convention, `-errno` (as in an io_uring CQE), and finishes
    /// with that error, `complete(-5)` as `Io` of `EIO`'s kind.
    pub fn complete(&self, result: i32) {
        if result < 0 {
            let errno = std::io::Error::from_raw_os_error(result.wrapping_neg());
            self.finish(Err(CompletionError::Io(errno.kind())));
            return;
        }
        self.finish(Ok(result));
    }

    /// Finishes with `err`.
    pub fn error(&self, err: CompletionError) {
        self.finish(Err(err));
    }

    /// Finishes with [`CompletionError::Aborted`]. On a group's completion this
    /// cancels the group: every outstanding child is aborted first.
    pub fn abort(&self) {
        if let Repr::Shared(inner) = &self.repr
            && let Kind::Group(_) = inner.kind
        {
            crate::group::cancel(self);
            return;
        }
        self.finish(Err(CompletionError::Aborted));
    }

    /// Decides the outcome if nobody has yet, runs the callback, then tells the
    /// groups waiting for this completion.
    pub(crate) fn finish(&self, outcome: Outcome) {
        let Repr::Shared(inner) = &self.repr else {
            return;
        };
        // Fast path: a success nobody registered for is one CAS.
        let mut s = inner.state.load(Ordering::Acquire);
        while let Ok(value) = outcome {
            if s & DECIDED != 0 {
                return;
            }
            if s & WAITERS != 0 {
                break;
            }
            let done = s | DECIDED | FINISHED | value_bits(value);
            match inner
                .state
                .compare_exchange_weak(s, done, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => s = actual,
            }
        }
        self.finish_locked(inner, outcome);
    }

    /// Clears the device mark and, for a success nobody waits for, decides
    /// the outcome in the same compare-and-swap; returns whether it did.
    /// Otherwise the mark is cleared alone and the caller finishes.
    fn finish_released(&self, outcome: Outcome) -> bool {
        if self.finish_released_quiet(outcome) {
            return true;
        }
        if let Repr::Shared(inner) = &self.repr {
            inner.state.fetch_and(!DEVICE, Ordering::AcqRel);
        }
        false
    }

    /// Whether [`Completion::finish_released_quiet`] would succeed now: no
    /// waiter and not decided (a waiter may still come before the swap).
    #[inline]
    fn quiet_finish_possible(&self) -> bool {
        match &self.repr {
            Repr::Shared(inner) => inner.state.load(Ordering::Acquire) & (WAITERS | DECIDED) == 0,
            Repr::Ready | Repr::Yield => false,
        }
    }

    /// The one-CAS path of [`Completion::finish_released`]: only for a
    /// success with no waiters; changes nothing and returns false otherwise.
    #[inline]
    fn finish_released_quiet(&self, outcome: Outcome) -> bool {
        let (Repr::Shared(inner), Ok(value)) = (&self.repr, outcome) else {
            return false;
        };
        let mut s = inner.state.load(Ordering::Acquire);
        while s & (WAITERS | DECIDED) == 0 {
            let done = (s & !DEVICE) | DECIDED | FINISHED | value_bits(value);
            match inner
                .state
                .compare_exchange_weak(s, done, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(actual) => s = actual,
            }
        }
        false
    }

    /// Finishing with an error, or with waiters to hand the outcome to.
    fn finish_locked(&self, inner: &Inner, outcome: Outcome) {
        let mut slot = lock(&inner.slot);
        let bits = match outcome {
            Ok(value) => value_bits(value),
            Err(_) => ERR,
        };
        let mut s = inner.state.load(Ordering::Acquire);
        loop {
            if s & DECIDED != 0 {
                return;
            }
            match inner.state.compare_exchange_weak(
                s,
                s | DECIDED | bits,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        if let Err(err) = outcome {
            slot.error = Some(err);
        }
        let mut panicked = None;
        // Callbacks run with no lock held. One added meanwhile (by another
        // thread, or by a callback) joins the batch, so `FINISHED` is set,
        // under the lock, only once no callback is left. A panicking callback
        // must not leave the completion decided but never finished, nor cost
        // the callbacks and waiters after it: the first panic is held until
        // the bookkeeping is done, then resumed.
        while let Some(callbacks) = slot.take_callbacks() {
            drop(slot);
            for callback in callbacks {
                if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback(outcome))) {
                    panicked.get_or_insert(payload);
                }
            }
            slot = lock(&inner.slot);
        }
        inner.state.fetch_or(FINISHED, Ordering::AcqRel);
        // Waiters are taken only after the callbacks: one added meanwhile
        // registered itself and must be told as well.
        let (first, more) = slot.take_parents();
        drop(slot);
        for waiter in first.into_iter().chain(more) {
            // Every waiter is told, even when one panics.
            let told = catch_unwind(AssertUnwindSafe(|| match waiter {
                Waiter::Group(parent, index) => crate::group::child_arrived(&parent, index, outcome),
                Waiter::Notify(notify) => notify(),
            }));
            if let Err(payload) = told {
                panicked.get_or_insert(payload);
            }
        }
        if let Some(payload) = panicked {
            resume_unwind(payload);
        }
    }

    /// Registers `parent` (a group) to be told when this completion finishes.
    /// Returns the outcome instead when it is already known, in which case the
    /// caller accounts for it.
    pub(crate) fn register_parent(&self, parent: &Completion, index: usize) -> Option<Outcome> {
        match &self.repr {
            Repr::Ready | Repr::Yield => Some(Ok(0)),
            Repr::Shared(inner) => {
                let mut slot = lock(&inner.slot);
                // Decided but not finished means its callback is running; the
                // finisher takes the parents under this lock once it returns.
                if let Some((outcome, true)) = Self::mark_waiters(inner, &slot) {
                    return Some(outcome);
                }
                slot.add_waiter(Waiter::Group(parent.clone(), index));
                None
            }
        }
    }

    /// Whether the outcome is decided (the callback may still be running).
    pub(crate) fn decided(&self) -> bool {
        match &self.repr {
            Repr::Ready | Repr::Yield => true,
            Repr::Shared(inner) => inner.state.load(Ordering::Acquire) & DECIDED != 0,
        }
    }

    /// Whether the outcome is decided and the callback has run.
    #[inline]
    #[must_use]
    pub fn finished(&self) -> bool {
        match &self.repr {
            Repr::Ready | Repr::Yield => true,
            Repr::Shared(inner) => inner.state.load(Ordering::Acquire) & FINISHED != 0,
        }
    }

    /// Whether it finished successfully.
    #[inline]
    #[must_use]
    pub fn succeeded(&self) -> bool {
        matches!(self.result(), Some(Ok(_)))
    }

    /// Whether it finished with an error (aborts included).
    #[inline]
    #[must_use]
    pub fn failed(&self) -> bool {
        matches!(self.result(), Some(Err(_)))
    }

    /// The error it finished with, if it failed.
    #[must_use]
    pub fn get_error(&self) -> Option<CompletionError> {
        self.result().and_then(Result::err)
    }

    /// The outcome, once finished.
    #[inline]
    #[must_use]
    pub fn result(&self) -> Option<Outcome> {
        match &self.repr {
            Repr::Ready | Repr::Yield => Some(Ok(0)),
            Repr::Shared(inner) => {
                let s = inner.state.load(Ordering::Acquire);
                if s & FINISHED == 0 {
                    None
                } else if s & ERR == 0 {
                    Some(Ok(value_of(s)))
                } else {
                    Some(Self::stored_error(inner, s))
                }
            }
        }
    }

    /// An error outcome, which lives under the lock.
    #[cold]
    fn stored_error(inner: &Inner, s: u64) -> Outcome {
        outcome_of(s, &lock(&inner.slot))
    }

    /// Whether this is [`Completion::yield_now`].
    #[inline]
    #[must_use]
    pub fn is_yield(&self) -> bool {
        matches!(self.repr, Repr::Yield)
    }

    /// The buffer of a read completion.
    #[inline]
    #[must_use]
    pub fn read_buffer(&self) -> Option<&std::sync::Arc<Buffer>> {
        match self.kind()? {
            Kind::Read(buf) => Some(buf),
            _ => None,
        }
    }

    /// The sync mode of a sync completion.
    #[must_use]
    pub fn sync_mode(&self) -> Option<SyncMode> {
        match self.kind()? {
            Kind::Sync(mode) => Some(*mode),
            _ => None,
        }
    }

    pub(crate) fn kind(&self) -> Option<&Kind> {
        match &self.repr {
            Repr::Ready | Repr::Yield => None,
            Repr::Shared(inner) => Some(&inner.kind),
        }
    }

    /// Whether both handles refer to the same operation.
    #[must_use]
    pub fn same_as(&self, other: &Completion) -> bool {
        match (&self.repr, &other.repr) {
            (Repr::Shared(a), Repr::Shared(b)) => Arc::ptr_eq(a, b),
            (Repr::Ready, Repr::Ready) | (Repr::Yield, Repr::Yield) => true,
            _ => false,
        }
    }

    /// Marks the operation as held by a device until the returned guard is
    /// dropped, and holds a read's buffer for the device to fill (no user
    /// view of it can be made meanwhile: see [`Buffer`]). Backends keep the
    /// guard (and with it a clone of this completion, so any read buffer)
    /// beside the in-flight operation.
    ///
    /// Refuses, changing nothing, a completion that is already in flight
    /// (a completion serves one operation at a time), one whose outcome is
    /// already decided (finished, aborted, [`Completion::ready`],
    /// [`Completion::yield_now`]) and a group's completion (all
    /// [`CompletionError::InvalidArgument`]), and a read whose buffer is
    /// viewed or held by another operation ([`CompletionError::Busy`]).
    pub fn begin_io(&self) -> Result<InFlight, CompletionError> {
        let Repr::Shared(inner) = &self.repr else {
            return Err(ALREADY_DECIDED);
        };
        if let Kind::Group(_) = inner.kind {
            return Err(A_GROUP);
        }
        Self::mark_device(inner)?;
        let fill = match &inner.kind {
            Kind::Read(buf) => match buf.take_fill() {
                Ok(()) => true,
                Err(err) => {
                    inner.state.fetch_and(!DEVICE, Ordering::AcqRel);
                    return Err(err);
                }
            },
            _ => false,
        };
        Ok(InFlight {
            fill,
            released: false,
            completion: self.clone(),
        })
    }

    /// Marks the completion as the device's for one operation; refuses one
    /// already in flight or already decided, leaving the mark as it was.
    #[inline]
    fn mark_device(inner: &Inner) -> Result<(), CompletionError> {
        let before = inner.state.fetch_or(DEVICE, Ordering::AcqRel);
        if before & DEVICE != 0 {
            return Err(ALREADY_IN_FLIGHT);
        }
        if before & DECIDED != 0 {
            inner.state.fetch_and(!DEVICE, Ordering::AcqRel);
            return Err(ALREADY_DECIDED);
        }
        Ok(())
    }

    /// Runs a read that ends inside this call (an inline backend's), the
    /// way [`Completion::begin_io`] and [`InFlight::finish`] would but
    /// without the guard's own handle: takes the device mark and the
    /// buffer's hold (refusing as `begin_io` does), hands `read` the bytes,
    /// then lets both go and finishes with what `read` returned.
    ///
    /// When the caller's handle is the only one (the common case: the
    /// completion was made for this call), nobody can look at the state word
    /// or start another operation with it meanwhile, so the device mark is
    /// not taken and a success nobody waits for is written, not swapped.
    #[inline]
    pub(crate) fn read_inline(
        &mut self,
        read: impl FnOnce(&mut [u8]) -> Outcome,
    ) -> Result<(), CompletionError> {
        // Under loom every read takes the shared path, which the model
        // checks (and loom's atomics have no `get_mut`).
        #[cfg(not(loom))]
        if let Some(inner) = self.unique_inner() {
            if let Some(outcome) = Self::read_unique(inner, read)? {
                self.finish(outcome);
            }
            return Ok(());
        }
        self.read_shared(read)
    }

    /// The only handle's state, writable without atomics.
    #[cfg(not(loom))]
    #[inline]
    fn unique_inner(&mut self) -> Option<&mut Inner> {
        match &mut self.repr {
            Repr::Shared(inner) => Arc::get_mut(inner),
            Repr::Ready | Repr::Yield => None,
        }
    }

    /// [`Completion::read_inline`] for the only handle: `Ok(None)` when the
    /// outcome is recorded, `Ok(Some(outcome))` when it must be finished
    /// where callbacks run (an error, or waiters registered).
    #[cfg(not(loom))]
    #[inline]
    fn read_unique(
        inner: &mut Inner,
        read: impl FnOnce(&mut [u8]) -> Outcome,
    ) -> Result<Option<Outcome>, CompletionError> {
        let Kind::Read(buf) = &inner.kind else {
            return Err(crate::validate::NOT_A_READ);
        };
        let s = *inner.state.get_mut();
        if s & (DEVICE | DECIDED) != 0 {
            // An operation's guard holds a handle, so with none but this one
            // the mark cannot be set; refused all the same if it were.
            return Err(if s & DEVICE != 0 {
                ALREADY_IN_FLIGHT
            } else {
                ALREADY_DECIDED
            });
        }
        // The hold and the view end with this block, before the outcome is
        // recorded: whoever sees it finished may view the buffer.
        let outcome = {
            let mut dst = buf.fill_now()?;
            read(&mut dst)
        };
        match outcome {
            Ok(value) if s & WAITERS == 0 => {
                *inner.state.get_mut() = s | DECIDED | FINISHED | value_bits(value);
                Ok(None)
            }
            _ => Ok(Some(outcome)),
        }
    }

    /// [`Completion::read_inline`] for a completion other handles share.
    fn read_shared(&self, read: impl FnOnce(&mut [u8]) -> Outcome) -> Result<(), CompletionError> {
        /// Lets go of the mark and the hold if `read` panics.
        struct Held<'a> {
            inner: &'a Inner,
            buf: &'a Buffer,
            held: bool,
        }
        impl Drop for Held<'_> {
            fn drop(&mut self) {
                if self.held {
                    self.buf.release_fill();
                    self.inner.state.fetch_and(!DEVICE, Ordering::AcqRel);
                }
            }
        }
        let (Repr::Shared(inner), Some(buf)) = (&self.repr, self.read_buffer()) else {
            return Err(crate::validate::NOT_A_READ);
        };
        Self::mark_device(inner)?;
        if let Err(err) = buf.take_fill() {
            inner.state.fetch_and(!DEVICE, Ordering::AcqRel);
            return Err(err);
        }
        let mut held = Held {
            inner,
            buf,
            held: true,
        };
        let outcome = match buf.filled_bytes() {
            Some(mut dst) => read(&mut dst),
            None => Err(crate::validate::NOT_A_READ),
        };
        held.held = false;
        buf.release_fill();
        if !self.finish_released(outcome) {
            self.finish(outcome);
        }
        Ok(())
    }

    /// Whether no device holds the operation's buffer any more. True for
    /// operations never submitted. Independent of [`Completion::finished`]: an
    /// aborted read is finished at once but released only when the device is.
    #[must_use]
    pub fn device_released(&self) -> bool {
        match &self.repr {
            Repr::Ready | Repr::Yield => true,
            Repr::Shared(inner) => inner.state.load(Ordering::Acquire) & DEVICE == 0,
        }
    }
}

/// Whether a completion of this kind takes a recycled allocation (groups
/// are never pooled: their state is boxed and rare).
#[cfg(not(loom))]
#[inline]
fn pooled_kind(kind: &Kind) -> bool {
    !matches!(kind, Kind::Group(_))
}

#[cfg(not(loom))]
impl Drop for Completion {
    /// The last handle of a completion gives its allocation to this thread's
    /// pool (see [`Completion::release_pooled`]) instead of freeing it.
    #[inline]
    fn drop(&mut self) {
        if let Repr::Shared(_) = self.repr
            && let Repr::Shared(mut inner) = std::mem::replace(&mut self.repr, Repr::Ready)
            && let Some(state) = Arc::get_mut(&mut inner)
            && pool::reset(state)
        {
            pool::keep(inner);
        }
    }
}

/// Under loom nothing is pooled (its model checker wants every allocation
/// to end where the code says), so there is nothing to release.
#[cfg(loom)]
mod pool {
    pub(super) fn release() -> usize {
        0
    }
}

/// Recycled completions, per thread: the state of a completion is one
/// allocation, and a storage engine makes one per operation, so the
/// allocation of the last one dropped on a thread serves the next one made
/// there. Without weak references (`triomphe::Arc`), a handle that is the
/// only one left cannot be cloned by anybody else, so its allocation can be
/// reset and reused; only a pristine one is kept (no callback, parents or
/// stored error left: the common case of a finished operation), at most
/// [`pool::MAX`] per thread.
#[cfg(not(loom))]
mod pool {
    use std::cell::{Cell, RefCell};

    use super::{Arc, ERR, Inner, Kind, WAITERS};

    /// Allocations kept per thread: enough for a queue depth of a few
    /// hundred operations without going back to the allocator; about 40 KiB.
    pub(super) const MAX: usize = 256;

    thread_local! {
        /// The allocation recycled last: a loop that makes one completion
        /// per operation and drops the one before takes and gives back this
        /// one, with no borrow flag or length to keep.
        static LAST: Cell<Option<Arc<Inner>>> = const { Cell::new(None) };
        /// The others (at most `MAX - 1`).
        static POOL: RefCell<Vec<Arc<Inner>>> = const { RefCell::new(Vec::new()) };
    }

    /// A recycled allocation, reset (its kind `Generic`), if this thread
    /// has one.
    #[inline]
    pub(super) fn reuse() -> Option<Arc<Inner>> {
        match LAST.try_with(Cell::take) {
            Ok(Some(inner)) => Some(inner),
            _ => reuse_more(),
        }
    }

    #[cold]
    fn reuse_more() -> Option<Arc<Inner>> {
        POOL.try_with(|p| p.try_borrow_mut().ok()?.pop()).ok().flatten()
    }

    /// Frees every kept allocation of this thread.
    pub(super) fn release() -> usize {
        let last = LAST.try_with(Cell::take).ok().flatten().map_or(0, |_| 1);
        last + POOL
            .try_with(|p| p.try_borrow_mut().map(|mut p| p.drain(..).count()).unwrap_or(0))
            .unwrap_or(0)
    }

    /// Resets `state`, the state of a completion whose last handle is being
    /// dropped, for reuse: only a pristine one (no callback, parents or
    /// stored error left) of a pooled kind; returns false, changing nothing,
    /// for any other.
    ///
    /// Nothing is registered and no error stored without the `WAITERS` or
    /// the `ERR` bit set first, and neither bit is cleared until here, so a
    /// word without them means a pristine slot, and the slot's lock is
    /// looked at only when one is set.
    #[inline]
    pub(super) fn reset(state: &mut Inner) -> bool {
        let s = *state.state.get_mut();
        if matches!(state.kind, Kind::Group(_)) || (s & (WAITERS | ERR) != 0 && !reset_slot(state)) {
            return false;
        }
        *state.state.get_mut() = 0;
        // Drops the read's buffer handle now, not when the allocation is
        // reused.
        match std::mem::replace(&mut state.kind, Kind::Generic) {
            Kind::Read(buf) => drop(buf),
            other => drop(other),
        }
        true
    }

    /// [`reset`]'s look at the slot of a completion that had waiters or an
    /// error: pristine again once its callbacks and parents are gone (the
    /// error is cleared).
    #[cold]
    fn reset_slot(state: &mut Inner) -> bool {
        let slot = state
            .slot
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.callback.is_some()
            || slot.more_callbacks.capacity() != 0
            || slot.parent.is_some()
            || slot.more_parents.capacity() != 0
        {
            return false;
        }
        slot.error = None;
        true
    }

    /// Keeps `inner`, the last handle of a completion reset by [`reset`],
    /// for [`reuse`] when the pool has room; frees it otherwise.
    #[inline]
    pub(super) fn keep(inner: Arc<Inner>) {
        if let Ok(Some(before)) = LAST.try_with(|l| l.replace(Some(inner))) {
            keep_more(before);
        }
    }

    /// Keeps `inner` beside [`LAST`], if there is room.
    #[cold]
    fn keep_more(inner: Arc<Inner>) {
        let _ = POOL.try_with(|p| {
            if let Ok(mut p) = p.try_borrow_mut()
                && p.len() < MAX - 1
            {
                p.push(inner);
            }
        });
    }
}

impl Default for Completion {
    /// [`Completion::ready`].
    fn default() -> Self {
        Completion::ready()
    }
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind() {
            None if self.is_yield() => "yield",
            None => "ready",
            Some(Kind::Generic) => "generic",
            Some(Kind::Read(_)) => "read",
            Some(Kind::Write) => "write",
            Some(Kind::Sync(_)) => "sync",
            Some(Kind::Truncate) => "truncate",
            Some(Kind::Group(_)) => "group",
        };
        f.debug_struct("Completion")
            .field("kind", &kind)
            .field("result", &self.result())
            .finish()
    }
}

/// The error of [`Completion::begin_io`] for a completion whose outcome is
/// already decided: an operation run for it could report nothing, and a
/// waiter would see it finished while the device still held its buffer.
pub(crate) const ALREADY_DECIDED: CompletionError = CompletionError::InvalidArgument(
    "this completion already has its outcome (finished, aborted, `ready()` or `yield_now()`): give each operation a new one",
);

/// The error of [`Completion::begin_io`] for a group's completion, which
/// finishes when its children do and so cannot stand for one operation.
pub(crate) const A_GROUP: CompletionError = CompletionError::InvalidArgument(
    "a group's completion finishes when its children do: give the operation a completion of its own kind and add that to the group",
);

/// The error of [`Completion::begin_io`] for a completion already in flight.
pub(crate) const ALREADY_IN_FLIGHT: CompletionError = CompletionError::InvalidArgument(
    "this completion is already in flight: a completion serves one operation at a time; create a new one",
);

/// A backend's hold on an in-flight operation.
///
/// While it lives, the operation's completion (and so its read buffer) stays
/// allocated, [`Completion::device_released`] is false, and a read's buffer
/// is the device's alone, whatever the user does with their handles. Drop it
/// when the device has let go of the buffer: after the syscall returned, or
/// when the io_uring CQE arrived.
pub struct InFlight {
    /// Holds a read's buffer for the device to fill (`Buffer::take_fill`),
    /// released before the device mark is cleared, so that
    /// `device_released()` true means the buffer can be viewed. The buffer
    /// itself is kept alive by `completion`, which owns it.
    fill: bool,
    /// The device mark is cleared already (by [`InFlight::finish`]).
    released: bool,
    completion: Completion,
}

impl InFlight {
    /// The operation's completion.
    #[must_use]
    pub fn completion(&self) -> &Completion {
        &self.completion
    }

    /// The bytes of a read's buffer, for the device to fill: the one way to
    /// write them while the read is in flight. `None` for other operations,
    /// and while an earlier result of this call is still alive.
    pub fn read_buffer_mut(&self) -> Option<BufferMut<'_>> {
        if !self.fill {
            return None;
        }
        self.completion.read_buffer()?.filled_bytes()
    }

    /// A read's buffer while this guard holds it for the device to fill,
    /// for backends that hand its address to the kernel.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn filling(&self) -> Option<&Buffer> {
        if !self.fill {
            return None;
        }
        self.completion.read_buffer().map(|b| &**b)
    }

    fn release_fill(&mut self) {
        if self.fill {
            self.fill = false;
            if let Some(buf) = self.completion.read_buffer() {
                buf.release_fill();
            }
        }
    }

    /// The device has let go: releases the buffer and the device mark and
    /// finishes the completion with `outcome`, running its callback and
    /// telling its groups.
    pub(crate) fn finish(mut self, outcome: Outcome) {
        self.release_fill();
        if !self.released {
            self.released = true;
            if self.completion.finish_released(outcome) {
                return;
            }
        }
        self.completion.finish(outcome);
    }

    /// [`InFlight::finish_quiet`] without giving the guard up: `true` when
    /// the completion is finished (the guard then only holds a handle), and
    /// `false`, changing nothing, when it must be finished where user code
    /// may run.
    #[inline]
    pub(crate) fn finish_quiet_here(&mut self, outcome: Outcome) -> bool {
        if outcome.is_err() || self.released || !self.completion.quiet_finish_possible() {
            // The buffer's hold stays until `finish`, which lets it go just
            // before the device mark: a view of the buffer is never granted
            // for long while `device_released()` still says false.
            return false;
        }
        self.release_fill();
        if self.completion.finish_released_quiet(outcome) {
            self.released = true;
            return true;
        }
        // A waiter came between the check and the swap: take the hold back
        // (unless a view got in first) for the same reason as above.
        self.retake_fill();
        false
    }

    /// [`InFlight::finish`] for a success that runs no user code: when no
    /// callback or group waits for the completion, lets go of the buffer's
    /// hold, then clears the device mark and decides the outcome in one
    /// atomic step, and returns `Ok`; otherwise (or for an error) changes
    /// nothing and hands the guard back, to be finished where user code may
    /// run.
    pub(crate) fn finish_quiet(mut self, outcome: Outcome) -> Result<(), (InFlight, Outcome)> {
        if self.finish_quiet_here(outcome) {
            return Ok(());
        }
        Err((self, outcome))
    }

    /// Takes a read buffer's hold again after [`InFlight::release_fill`],
    /// if no view took the buffer meanwhile. Rare (a waiter that came
    /// within a few instructions), so kept out of the read's path.
    #[cold]
    fn retake_fill(&mut self) {
        if let Some(buf) = self.completion.read_buffer()
            && buf.take_fill().is_ok()
        {
            self.fill = true;
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.release_fill();
        if !self.released
            && let Repr::Shared(inner) = &self.completion.repr
        {
            inner.state.fetch_and(!DEVICE, Ordering::AcqRel);
        }
    }
}

impl fmt::Debug for InFlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("InFlight").field(&self.completion).finish()
    }
}
