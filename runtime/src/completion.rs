//! `Completion`: the handle a machine waits on and a backend finishes.

use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::buffer::{Access, Buffer, BufferMut, DeviceHold};
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
/// and later ones are ignored; the callback, if any, runs exactly once, with no
/// lock held, so it may create, add to or finish other completions.
/// `finished()` turns true only after the callback has returned.
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
    /// The group waiting for this completion, with this child's index in it.
    /// Almost every child has at most one, kept inline to save an allocation.
    parent: Option<ParentLink>,
    more_parents: Vec<ParentLink>,
}

/// A group waiting for a completion, and the completion's index in it.
type ParentLink = (Completion, usize);

impl Slot {
    fn take_parents(&mut self) -> (Option<ParentLink>, Vec<ParentLink>) {
        (self.parent.take(), std::mem::take(&mut self.more_parents))
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
    fn with_kind(kind: Kind) -> Self {
        Completion {
            repr: Repr::Shared(Arc::new(Inner {
                state: AtomicU64::new(0),
                slot: Mutex::new(Slot {
                    error: None,
                    callback: None,
                    parent: None,
                    more_parents: Vec::new(),
                }),
                kind,
            })),
        }
    }

    /// A pending completion with nothing behind it: something else (a test, a
    /// custom event source) finishes it.
    #[must_use]
    pub fn pending() -> Self {
        Self::with_kind(Kind::Generic)
    }

    /// A pending completion that runs `callback` with the outcome once.
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

    /// Adds `callback`, run once with the outcome. Runs it at once if the
    /// outcome is already decided; chains after an existing callback.
    #[must_use]
    pub fn with_callback(self, callback: impl FnOnce(Outcome) + Send + 'static) -> Self {
        let mut callback = Some(callback);
        let decided = match &self.repr {
            Repr::Ready | Repr::Yield => Some(Ok(0)),
            Repr::Shared(inner) => {
                let mut slot = lock(&inner.slot);
                let decided = Self::mark_waiters(inner, &slot).map(|(outcome, _)| outcome);
                if decided.is_none()
                    && let Some(callback) = callback.take()
                {
                    slot.callback = Some(match slot.callback.take() {
                        None => Box::new(callback),
                        Some(first) => Box::new(move |o| {
                            first(o);
                            callback(o);
                        }),
                    });
                }
                decided
            }
        };
        if let (Some(outcome), Some(callback)) = (decided, callback) {
            callback(outcome);
        }
        self
    }

    /// Finishes successfully with `result` (bytes transferred, or 0).
    pub fn complete(&self, result: i32) {
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
        let (first, more) = match slot.callback.take() {
            None => {
                inner.state.fetch_or(FINISHED, Ordering::AcqRel);
                slot.take_parents()
            }
            Some(callback) => {
                drop(slot);
                // A panicking callback must not leave the completion decided
                // but never finished, nor its groups waiting: the panic is
                // held until the bookkeeping is done, then resumed.
                panicked = catch_unwind(AssertUnwindSafe(|| callback(outcome))).err();
                // Parents are taken only after the callback: a group added
                // meanwhile registered itself and must be told as well.
                let mut slot = lock(&inner.slot);
                inner.state.fetch_or(FINISHED, Ordering::AcqRel);
                slot.take_parents()
            }
        };
        for (parent, index) in first.into_iter().chain(more) {
            // Every group is told, even when one's callback panics.
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| {
                crate::group::child_arrived(&parent, index, outcome)
            })) {
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
                let entry = (parent.clone(), index);
                if slot.parent.is_none() {
                    slot.parent = Some(entry);
                } else {
                    slot.more_parents.push(entry);
                }
                None
            }
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
    #[must_use]
    pub fn succeeded(&self) -> bool {
        matches!(self.result(), Some(Ok(_)))
    }

    /// Whether it finished with an error (aborts included).
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
                    Some(outcome_of(s, &lock(&inner.slot)))
                }
            }
        }
    }

    /// Whether this is [`Completion::yield_now`].
    #[inline]
    #[must_use]
    pub fn is_yield(&self) -> bool {
        matches!(self.repr, Repr::Yield)
    }

    /// The buffer of a read completion.
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
    /// (a completion serves one operation at a time;
    /// [`CompletionError::InvalidArgument`]) and a read whose buffer is viewed
    /// or held by another operation ([`CompletionError::Busy`]).
    pub fn begin_io(&self) -> Result<InFlight, CompletionError> {
        let Repr::Shared(inner) = &self.repr else {
            return Ok(InFlight {
                hold: None,
                completion: self.clone(),
            });
        };
        if inner.state.fetch_or(DEVICE, Ordering::AcqRel) & DEVICE != 0 {
            return Err(ALREADY_IN_FLIGHT);
        }
        let hold = match &inner.kind {
            Kind::Read(buf) => match DeviceHold::new(buf, Access::Fill) {
                Ok(hold) => Some(hold),
                Err(err) => {
                    inner.state.fetch_and(!DEVICE, Ordering::AcqRel);
                    return Err(err);
                }
            },
            _ => None,
        };
        Ok(InFlight {
            hold,
            completion: self.clone(),
        })
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
    /// A read's buffer, held for the device to fill. Dropped before the
    /// device mark is cleared, so that `device_released()` true means the
    /// buffer can be viewed.
    hold: Option<DeviceHold>,
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
        self.hold.as_ref().and_then(DeviceHold::bytes_mut)
    }

    /// The hold on a read's buffer, for backends that need its address.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn read_hold(&self) -> Option<&DeviceHold> {
        self.hold.as_ref()
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        drop(self.hold.take());
        if let Repr::Shared(inner) = &self.completion.repr {
            inner.state.fetch_and(!DEVICE, Ordering::AcqRel);
        }
    }
}

impl fmt::Debug for InFlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("InFlight").field(&self.completion).finish()
    }
}
