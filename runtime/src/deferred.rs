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

use crate::blocking::{read_buffer_of, reject};
use crate::buffer::Buffer;
use crate::completion::{Completion, CompletionError, InFlight, SyncMode};
use crate::io::{File, IO, OpenOptions};
use crate::memory::MemoryIO;

/// A backend that runs each operation on an inner backend at once but
/// finishes the caller's completion only at the next [`IO::step`].
///
/// Each operation gets a private completion on the inner backend; `step()`
/// hands its outcome to the caller's completion. Nothing is copied: a read
/// passes the caller's own buffer to the inner backend. Until `step()`
/// delivers, the operation holds the caller's completion (and so its buffer)
/// and [`Completion::device_released`] is false, exactly as while a kernel
/// holds a buffer, even if the caller aborted the completion and dropped every
/// handle to it.
///
/// Operations started while `step()` runs callbacks are held until the next
/// `step()`, so every operation is seen pending at least once. Dropping the
/// backend aborts every held completion, so no group or waiter is stranded.
///
/// ```
/// use std::sync::Arc;
/// use ratchet_runtime::{Buffer, Completion, DeferredIO, IO, OpenOptions};
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
    /// read buffer alive and `device_released()` false until delivery.
    user: InFlight,
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
        let mut batch = std::mem::take(&mut lock(&self.queue).held);
        if batch.is_empty() {
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
            match self.inner.step() {
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
        // No lock is held while delivering: callbacks may start operations,
        // which then wait for the next step.
        let delivered = ready.len();
        for held in ready {
            let outcome = held.inner.result().unwrap_or(Err(CompletionError::Stalled));
            let user = held.user.completion().clone();
            // Released before the outcome is published, as a backend whose
            // syscall returned would, so callbacks see `device_released()`.
            drop(held.user);
            user.finish(outcome);
        }
        Ok(delivered)
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
        for held in held {
            // The inner operation may still be in flight on an asynchronous
            // backend; aborting asks it to stop, and its own hold on the
            // buffer lasts until its device lets go.
            held.inner.abort();
            let user = held.user.completion().clone();
            drop(held.user);
            user.abort();
        }
    }
}

/// An open file of [`DeferredIO`].
struct DeferredFile {
    inner: Arc<dyn File>,
    queue: Arc<Mutex<Queue>>,
}

impl DeferredFile {
    /// Starts an operation on the inner file with the private completion
    /// `private`, and holds the caller's `c` until a step delivers it.
    fn hold(
        &self,
        c: Completion,
        private: Completion,
        start: impl FnOnce(Completion) -> Result<Completion, CompletionError>,
    ) -> Result<Completion, CompletionError> {
        if lock(&self.queue).closed {
            return reject(c, CompletionError::Aborted);
        }
        // Marked held before the inner backend sees the buffer, so that there
        // is no moment at which the device has it and the caller may reuse it.
        let user = c.begin_io();
        match start(private) {
            Ok(inner) => {
                let mut queue = lock(&self.queue);
                if queue.closed {
                    // The backend was dropped meanwhile: nobody will step.
                    drop(queue);
                    inner.abort();
                    drop(user);
                    return reject(c, CompletionError::Aborted);
                }
                queue.held.push(Held { inner, user });
                Ok(c)
            }
            Err(err) => {
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
        // The same `Arc<Buffer>`: the inner backend reads straight into the
        // caller's buffer.
        self.hold(c, Completion::read(buf), |p| self.inner.pread(pos, p))
    }

    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion, CompletionError> {
        self.hold(c, Completion::write(), |p| self.inner.pwrite(pos, buf, p))
    }

    fn pwritev(
        &self,
        pos: u64,
        bufs: Vec<Arc<Buffer>>,
        c: Completion,
    ) -> Result<Completion, CompletionError> {
        self.hold(c, Completion::write(), |p| self.inner.pwritev(pos, bufs, p))
    }

    fn sync(&self, c: Completion) -> Result<Completion, CompletionError> {
        let private = match c.sync_mode() {
            Some(SyncMode::Data) => Completion::sync_data(),
            Some(SyncMode::Full) | None => Completion::sync(),
        };
        self.hold(c, private, |p| self.inner.sync(p))
    }

    fn truncate(&self, len: u64, c: Completion) -> Result<Completion, CompletionError> {
        self.hold(c, Completion::truncate(), |p| self.inner.truncate(len, p))
    }

    fn size(&self) -> Result<u64, CompletionError> {
        self.inner.size()
    }
}
