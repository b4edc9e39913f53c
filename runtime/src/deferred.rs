//! `DeferredIO`: another backend's results, held back until the next `step()`.
//!
//! Inline backends finish every completion before the call that started it
//! returns, so a machine tested on them always takes the fast path and its
//! resume paths never run. Wrapping the backend in `DeferredIO` makes every
//! operation look in flight until the caller steps, as a real asynchronous
//! device would, while the bytes still come from the wrapped backend.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::buffer::{Buffer, DIRECT_IO_ALIGN, DeviceHold};
use crate::completion::{Completion, CompletionError, InFlight, Outcome, SyncMode};
use crate::deliver::Deliveries;
use crate::io::{File, IO, OpenOptions};
use crate::memory::MemoryIO;
use crate::validate::{self, Mode, read_buffer_of, reject};

/// A backend that runs each operation on an inner backend at once but
/// finishes the caller's completion only at the next [`IO::step`].
///
/// Each operation gets a private completion on the inner backend; `step()`
/// hands its outcome to the caller's completion. A read goes into a private
/// buffer of the same length and alignment, copied into the caller's buffer
/// at delivery, so the caller's buffer is held (no view of it can be made)
/// from the call until delivery, as a kernel would hold it. Until `step()`
/// delivers, the operation holds the caller's completion (and so its
/// buffers) and [`Completion::device_released`] is false, even if the caller
/// aborted the completion and dropped every handle to it.
///
/// Operations started while `step()` runs callbacks are held until the next
/// `step()`, so every operation is seen pending at least once. Dropping the
/// backend aborts every held completion, so no group or waiter is stranded.
///
/// ```
/// # extern crate ratchet_runtime as ratchet;
/// use std::sync::Arc;
/// use ratchet::{Buffer, Completion, DeferredIO, IO, OpenOptions};
///
/// let io = DeferredIO::memory();
/// let file = io.open_file("/db".as_ref(), OpenOptions::new()).unwrap();
/// let w = file.pwrite(0, Arc::new(Buffer::from_vec(b"page".to_vec())), Completion::write()).unwrap();
/// assert!(!w.finished());
/// assert_eq!(io.step(), Ok(1));
/// assert_eq!(w.result(), Some(Ok(4)));
/// assert_eq!(io.step(), Ok(0)); // nothing held any more
/// ```
pub struct DeferredIO {
    inner: Arc<dyn IO>,
    queue: Arc<Mutex<Queue>>,
    /// Delivered operations whose completions a step is finishing.
    deliveries: Deliveries<(Held, Outcome)>,
}

/// The operations started and not yet delivered, shared by the backend and
/// its files.
#[derive(Default)]
struct Queue {
    held: Vec<Held>,
    /// Set when the backend is dropped: nobody will step any more, so files
    /// still open refuse new operations instead of stranding them.
    closed: bool,
}

/// One operation between its start and its delivery.
struct Held {
    /// The inner backend's completion; its outcome becomes the caller's.
    inner: Completion,
    /// The caller's completion, marked as held by the device: this keeps its
    /// read buffer alive, unviewable and `device_released()` false until
    /// delivery.
    user: InFlight,
    /// A read's private buffer, which the inner backend fills.
    private: Option<Arc<Buffer>>,
    /// A write's buffers, held as a device sending them holds them.
    _writes: Vec<DeviceHold>,
}

impl Held {
    /// Hands the inner outcome (and a read's bytes) to the caller.
    fn deliver(self, outcome: Outcome) {
        let arrived = match outcome {
            Ok(n) => usize::try_from(n).unwrap_or(0),
            Err(CompletionError::ShortRead { actual, .. }) => actual,
            Err(_) => 0,
        };
        if arrived > 0
            && let (Some(private), Some(mut dst)) = (&self.private, self.user.read_buffer_mut())
            && let Ok(src) = private.try_as_slice()
        {
            // Only what arrived: the tail past EOF keeps the caller's bytes,
            // as on every backend.
            let n = arrived.min(dst.len()).min(src.len());
            dst[..n].copy_from_slice(&src[..n]);
        }
        let user = self.user.completion().clone();
        // Released before the outcome is published, as a backend whose
        // syscall returned would, so callbacks see `device_released()`.
        drop(self);
        user.finish(outcome);
    }
}

impl DeferredIO {
    /// Defers the completions of `inner`.
    #[must_use]
    pub fn new(inner: impl IO + 'static) -> Self {
        Self::wrap(Arc::new(inner))
    }

    /// Defers the completions of a backend that is already shared, such as
    /// the one [`crate::default_io`] returns.
    #[must_use]
    pub fn wrap(inner: Arc<dyn IO>) -> Self {
        DeferredIO {
            inner,
            queue: Arc::new(Mutex::new(Queue::default())),
            deliveries: Deliveries::default(),
        }
    }

    /// Deferred in-memory files: the usual backend for testing the resume
    /// paths of a machine.
    #[must_use]
    pub fn memory() -> Self {
        Self::new(MemoryIO::new())
    }

    /// How many operations wait for the next [`IO::step`].
    #[must_use]
    pub fn held(&self) -> usize {
        lock(&self.queue).held.len()
    }
}

impl Default for DeferredIO {
    /// [`DeferredIO::memory`].
    fn default() -> Self {
        Self::memory()
    }
}

impl fmt::Debug for DeferredIO {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeferredIO")
            .field("held", &self.held())
            .finish_non_exhaustive()
    }
}

/// Locks `m`, ignoring poisoning: the queue is only pushed to and taken from,
/// which a panic cannot leave half done.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl IO for DeferredIO {
    fn open_file(&self, path: &Path, options: OpenOptions) -> io::Result<Arc<dyn File>> {
        Ok(Arc::new(DeferredFile {
            inner: self.inner.open_file(path, options)?,
            mode: Mode {
                read_only: options.read_only,
                direct: options.direct,
            },
            queue: self.queue.clone(),
        }))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.inner.remove_file(path)
    }

    /// Delivers every held operation whose inner completion has finished,
    /// stepping the inner backend until at least one has; returns how many
    /// it delivered, 0 when none was held.
    fn step(&self) -> Result<usize, CompletionError> {
        self.deliver(true)
    }

    /// Delivers every held operation whose inner completion has finished,
    /// giving the inner backend one [`IO::try_step`] (which never waits for
    /// its device) when none has; may return `Ok(0)` while operations are
    /// in flight on an asynchronous inner backend.
    fn try_step(&self) -> Result<usize, CompletionError> {
        self.deliver(false)
    }

    /// The inner backend's: what finishes a held operation is its inner
    /// completion finishing, which the inner backend signals there. An
    /// inline inner backend has none, and needs none: its completions have
    /// finished before the operation is held, so `try_step` delivers them.
    #[cfg(unix)]
    fn ready_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.inner.ready_fd()
    }
}

impl DeferredIO {
    /// [`IO::step`] (`wait`: step the inner backend until something is
    /// delivered) and [`IO::try_step`] (one non-waiting inner step).
    fn deliver(&self, wait: bool) -> Result<usize, CompletionError> {
        let finish = |(held, outcome): (Held, Outcome)| held.deliver(outcome);
        // What a step still running has queued (a callback of it may wait
        // on a sibling) comes first.
        let earlier = self.deliveries.run(finish);
        if earlier > 0 {
            return Ok(earlier);
        }
        let mut batch = std::mem::take(&mut lock(&self.queue).held);
        if batch.is_empty() {
            self.deliveries.wait_for_others();
            return Ok(0);
        }
        let ready = loop {
            let (ready, waiting): (Vec<Held>, Vec<Held>) =
                batch.into_iter().partition(|h| h.inner.finished());
            batch = waiting;
            if !ready.is_empty() {
                break ready;
            }
            // Only an asynchronous inner backend gets here: inline ones have
            // finished every private completion before the start returned.
            let stepped = if wait {
                self.inner.step()
            } else {
                self.inner.try_step()
            };
            match stepped {
                Ok(_) if !wait => {
                    // One look, never a wait: what is still in flight waits
                    // for the next try_step.
                    let (ready, waiting): (Vec<Held>, Vec<Held>) =
                        batch.into_iter().partition(|h| h.inner.finished());
                    batch = waiting;
                    if ready.is_empty() {
                        self.hold_again(batch);
                        return Ok(0);
                    }
                    break ready;
                }
                Ok(0) => {
                    self.hold_again(batch);
                    return Err(CompletionError::Stalled);
                }
                Ok(_) => {}
                Err(err) => {
                    self.hold_again(batch);
                    return Err(err);
                }
            }
        };
        self.hold_again(batch);
        let count = ready.len();
        self.deliveries.push_all(ready.into_iter().map(|held| {
            let outcome = held.inner.result().unwrap_or(Err(CompletionError::Stalled));
            (held, outcome)
        }));
        // No lock is held while delivering: callbacks may start operations,
        // which then wait for the next step.
        self.deliveries.run(finish);
        Ok(count)
    }
}

impl DeferredIO {
    /// Puts operations still in flight back in front of any started since.
    fn hold_again(&self, mut still_held: Vec<Held>) {
        if still_held.is_empty() {
            return;
        }
        let mut queue = lock(&self.queue);
        still_held.append(&mut queue.held);
        queue.held = still_held;
    }
}

impl Drop for DeferredIO {
    fn drop(&mut self) {
        let held = {
            let mut queue = lock(&self.queue);
            queue.closed = true;
            std::mem::take(&mut queue.held)
        };
        // The inner operation may still be in flight on an asynchronous
        // backend; aborting asks it to stop, and its own hold on the buffer
        // lasts until its device lets go.
        self.deliveries.push_all(held.into_iter().map(|held| {
            held.inner.abort();
            (held, Err(CompletionError::Aborted))
        }));
        self.deliveries
            .run_in_drop(|(held, outcome): (Held, Outcome)| held.deliver(outcome));
    }
}

/// An open file of [`DeferredIO`].
struct DeferredFile {
    inner: Arc<dyn File>,
    /// Checked here first, so a bad argument is refused before anything
    /// else, in the order every backend checks.
    mode: Mode,
    queue: Arc<Mutex<Queue>>,
}

impl DeferredFile {
    /// Starts an operation on the inner file with the private completion
    /// `private`, and holds the caller's `c` (and `writes`) until a step
    /// delivers it. Refuses at the call what every backend refuses there: a
    /// completion already in flight, a busy buffer.
    fn hold(
        &self,
        c: Completion,
        check: Result<(), CompletionError>,
        private: Completion,
        writes: &[Arc<Buffer>],
        start: impl FnOnce(Completion) -> Result<Completion, CompletionError>,
    ) -> Result<Completion, CompletionError> {
        if let Err(err) = check {
            return reject(c, err);
        }
        if lock(&self.queue).closed {
            return reject(c, CompletionError::Aborted);
        }
        // Marked held before the inner backend sees the buffer, so that there
        // is no moment at which the device has it and the caller may reuse it.
        let (user, writes) = match validate::hold(&c, writes) {
            Ok(held) => held,
            Err(err) => return reject(c, err),
        };
        let read_into = private.read_buffer().cloned();
        match start(private) {
            Ok(inner) => {
                let mut queue = lock(&self.queue);
                let held = Held {
                    inner,
                    user,
                    private: read_into,
                    _writes: writes,
                };
                if queue.closed {
                    // The backend was dropped meanwhile: nobody will step.
                    drop(queue);
                    held.inner.abort();
                    held.deliver(Err(CompletionError::Aborted));
                    return Err(CompletionError::Aborted);
                }
                queue.held.push(held);
                Ok(c)
            }
            Err(err) => {
                drop(writes);
                drop(user);
                reject(c, err)
            }
        }
    }
}

impl File for DeferredFile {
    fn pread(&self, pos: u64, c: Completion) -> Result<Completion, CompletionError> {
        let buf = match read_buffer_of(&c) {
            Ok(buf) => buf,
            Err(err) => return reject(c, err),
        };
        if let Err(err) = validate::transfer(pos, &[&buf], self.mode, false) {
            return reject(c, err);
        }
        // The same length and alignment, so the inner backend's checks
        // (O_DIRECT) see what the caller's buffer would show them.
        let align = if buf.is_aligned_to(DIRECT_IO_ALIGN) {
            buf.alignment().max(DIRECT_IO_ALIGN)
        } else {
            buf.alignment()
        };
        let private = match Buffer::try_with_alignment(buf.len(), align) {
            Ok(private) => Arc::new(private),
            Err(err) => return reject(c, err),
        };
        let check = Ok(());
        self.hold(c, check, Completion::read(private), &[], |p| {
            self.inner.pread(pos, p)
        })
    }

    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion, CompletionError> {
        let check = validate::completion_for(&c, validate::Op::Write)
            .and_then(|()| validate::transfer(pos, &[&buf], self.mode, true).map(drop));
        let writes = [buf.clone()];
        self.hold(c, check, Completion::write(), &writes, |p| {
            self.inner.pwrite(pos, buf, p)
        })
    }

    fn pwritev(
        &self,
        pos: u64,
        bufs: Vec<Arc<Buffer>>,
        c: Completion,
    ) -> Result<Completion, CompletionError> {
        let check = validate::completion_for(&c, validate::Op::Write)
            .and_then(|()| validate::write(pos, &bufs, self.mode).map(drop));
        let writes = bufs.clone();
        self.hold(c, check, Completion::write(), &writes, |p| {
            self.inner.pwritev(pos, bufs, p)
        })
    }

    fn sync(&self, c: Completion) -> Result<Completion, CompletionError> {
        let private = match c.sync_mode() {
            Some(SyncMode::Data) => Completion::sync_data(),
            Some(SyncMode::Full) | None => Completion::sync(),
        };
        let check = validate::completion_for(&c, validate::Op::Sync);
        self.hold(c, check, private, &[], |p| self.inner.sync(p))
    }

    fn truncate(&self, len: u64, c: Completion) -> Result<Completion, CompletionError> {
        let check = validate::completion_for(&c, validate::Op::Truncate)
            .and_then(|()| validate::truncate(len, self.mode));
        self.hold(c, check, Completion::truncate(), &[], |p| {
            self.inner.truncate(len, p)
        })
    }

    fn size(&self) -> Result<u64, CompletionError> {
        self.inner.size()
    }
}
