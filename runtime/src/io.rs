//! The `File` and `IO` traits every backend implements, and backend selection.

use std::io;
use std::path::Path;
use std::sync::Arc;

use crate::buffer::Buffer;
use crate::completion::{Completion, CompletionError};
use crate::result::IOResult;

/// An open file of some backend.
///
/// Each operation takes the completion that reports its outcome and returns it
/// (so `yield_io!(file.pread(pos, c)?)` reads naturally). An `Err` means the
/// operation could not even be started; failures of the operation itself
/// arrive through the completion. Backends that finish inline (blocking,
/// memory) have finished the completion by the time the call returns.
pub trait File: Send + Sync {
    /// Reads `c.read_buffer().len()` bytes at `pos` into the completion's
    /// buffer. Short reads are continued until the buffer is full or the file
    /// ends; the completion's result is the number of bytes that arrived, and
    /// bytes past EOF are left untouched.
    fn pread(&self, pos: u64, c: Completion) -> Result<Completion, CompletionError>;

    /// Writes all of `buf` at `pos`; the result is `buf.len()`.
    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion, CompletionError>;

    /// Writes `bufs` back to back starting at `pos`; the result is their total
    /// length.
    fn pwritev(&self, pos: u64, bufs: Vec<Arc<Buffer>>, c: Completion)
    -> Result<Completion, CompletionError>;

    /// Makes earlier writes durable: `fdatasync` for `Completion::sync_data()`,
    /// `fsync` otherwise.
    fn sync(&self, c: Completion) -> Result<Completion, CompletionError>;

    /// Sets the file's length to `len`.
    fn truncate(&self, len: u64, c: Completion) -> Result<Completion, CompletionError>;

    /// The file's current length in bytes.
    fn size(&self) -> Result<u64, CompletionError>;
}

/// How to open a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// Create the file if it does not exist.
    pub create: bool,
    /// Fail if the file already exists (with `create`).
    pub create_new: bool,
    /// Open for reading only.
    pub read_only: bool,
    /// Bypass the page cache (`O_DIRECT`): buffers, offsets and lengths must
    /// then be aligned to [`crate::DIRECT_IO_ALIGN`].
    pub direct: bool,
}

impl Default for OpenOptions {
    /// Read-write, creating the file if needed, through the page cache.
    fn default() -> Self {
        OpenOptions {
            create: true,
            create_new: false,
            read_only: false,
            direct: false,
        }
    }
}

impl OpenOptions {
    /// Read-write, creating the file if needed.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Read-only, failing if the file does not exist.
    #[must_use]
    pub fn read_only() -> Self {
        OpenOptions {
            create: false,
            read_only: true,
            ..Self::default()
        }
    }

    /// Read-write, failing if the file does not exist.
    #[must_use]
    pub fn existing() -> Self {
        OpenOptions {
            create: false,
            ..Self::default()
        }
    }

    /// The same options with `O_DIRECT` switched on or off.
    #[must_use]
    pub fn direct(self, direct: bool) -> Self {
        OpenOptions { direct, ..self }
    }
}

/// An I/O backend: opens files and finishes their completions.
pub trait IO: Send + Sync {
    /// Opens (or creates) the file at `path`.
    fn open_file(&self, path: &Path, options: OpenOptions) -> io::Result<Arc<dyn File>>;

    /// Removes the file at `path`.
    fn remove_file(&self, path: &Path) -> io::Result<()>;

    /// Makes progress: submits queued operations, waits until at least one
    /// in-flight operation has finished if any is in flight, and finishes the
    /// completions of all that have (running their callbacks). Returns how
    /// many completions it finished; 0 means nothing was in flight.
    fn step(&self) -> Result<usize, CompletionError>;

    /// Makes progress without waiting: hands queued operations to the device
    /// and finishes the completions of those that have already finished
    /// (running their callbacks). Returns how many it finished, which may be
    /// 0 while operations are in flight. [`crate::Driver`] calls it between
    /// rounds so that instances waiting for I/O are not starved by instances
    /// that keep running, and an event loop calls it when
    /// [`IO::ready_fd`] becomes readable.
    ///
    /// The default calls [`IO::step`], which is right for every backend whose
    /// `step` never sleeps on a device: blocking and memory I/O finish
    /// operations inline, [`crate::SimIO`] in simulated time, and
    /// [`crate::DeferredIO`] over one of those at once. A backend whose
    /// `step` sleeps overrides it.
    fn try_step(&self) -> Result<usize, CompletionError> {
        self.step()
    }

    /// A file descriptor that becomes readable when operations have finished
    /// and [`IO::try_step`] has completions to deliver, for an event loop
    /// (such as tokio's reactor) to wait on instead of sleeping in
    /// [`IO::step`]. Reading it (8 bytes, an eventfd counter) clears it;
    /// clear it before calling `try_step`, so that no finish is missed.
    ///
    /// `None` (the default) for backends with nothing to wait for: their
    /// operations finish inline, so `try_step` never has to be woken.
    #[cfg(unix)]
    fn ready_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        None
    }

    /// Steps until `c` has finished, and returns its outcome.
    /// [`CompletionError::Stalled`] means `c` is pending but nothing in this
    /// backend could ever finish it.
    fn wait(&self, c: &Completion) -> Result<i32, CompletionError> {
        wait_on(self, c)
    }

    /// Drives a machine to `Done`: calls `machine` again each time the
    /// completion it returned has finished.
    ///
    /// ```
    /// use ratchet_runtime::{Completion, CompletionError, IOResult, MemoryIO, IO};
    /// let io = MemoryIO::new();
    /// let mut calls = 0;
    /// let v = io
    ///     .block(|| {
    ///         calls += 1;
    ///         if calls < 3 {
    ///             Ok::<_, CompletionError>(IOResult::IO(Completion::ready().into()))
    ///         } else {
    ///             Ok(IOResult::Done(calls))
    ///         }
    ///     })
    ///     .unwrap();
    /// assert_eq!(v, 3);
    /// ```
    fn block<T, E>(&self, machine: impl FnMut() -> Result<IOResult<T>, E>) -> Result<T, E>
    where
        Self: Sized,
        E: From<CompletionError>,
    {
        drive(self, machine)
    }
}

/// A shared backend (what [`default_io`] returns) is a backend too, so that
/// `io.block(..)` works on an `Arc<dyn IO>` (`block` is generic, so it cannot
/// be called through `dyn IO` itself).
impl<I: IO + ?Sized> IO for Arc<I> {
    fn open_file(&self, path: &Path, options: OpenOptions) -> io::Result<Arc<dyn File>> {
        (**self).open_file(path, options)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        (**self).remove_file(path)
    }

    fn step(&self) -> Result<usize, CompletionError> {
        (**self).step()
    }

    fn try_step(&self) -> Result<usize, CompletionError> {
        (**self).try_step()
    }

    #[cfg(unix)]
    fn ready_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        (**self).ready_fd()
    }

    fn wait(&self, c: &Completion) -> Result<i32, CompletionError> {
        (**self).wait(c)
    }
}

fn wait_on<I: IO + ?Sized>(io: &I, c: &Completion) -> Result<i32, CompletionError> {
    while !c.finished() {
        if io.step()? == 0 && !c.finished() {
            return Err(CompletionError::Stalled);
        }
    }
    c.result().unwrap_or(Err(CompletionError::Stalled))
}

fn drive<I, T, E>(io: &I, mut machine: impl FnMut() -> Result<IOResult<T>, E>) -> Result<T, E>
where
    I: IO + ?Sized,
    E: From<CompletionError>,
{
    loop {
        match machine()? {
            IOResult::Done(value) => return Ok(value),
            IOResult::IO(io_wait) => {
                let c = io_wait.completion();
                // The completion's own error is the machine's to see when it
                // resumes; only a wait that cannot end is ours to report.
                if let Err(CompletionError::Stalled) = io.wait(c) {
                    return Err(CompletionError::Stalled.into());
                }
            }
        }
    }
}

/// Which backend [`default_io`] chose, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// [`crate::BlockingIO`].
    Blocking,
    /// The io_uring backend.
    Uring,
    /// [`crate::MemoryIO`].
    Memory,
}

/// The environment variable that overrides [`default_io`]'s choice:
/// `blocking`, `uring` or `memory`.
pub const BACKEND_ENV: &str = "RATCHET_IO";

/// The backend to use on this machine: io_uring where the kernel allows it,
/// else blocking syscalls; `RATCHET_IO=blocking|uring|memory` overrides.
///
/// An explicit `RATCHET_IO=uring` fails with the reason io_uring is not usable
/// instead of falling back.
pub fn default_io() -> io::Result<Arc<dyn IO>> {
    let choice = match std::env::var(BACKEND_ENV) {
        Ok(v) => Some(parse_backend(&v)?),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{BACKEND_ENV} is not valid UTF-8; expected blocking, uring or memory"),
            ));
        }
    };
    io_for(choice)
}

/// Parses a backend name as `RATCHET_IO` spells it.
pub fn parse_backend(name: &str) -> io::Result<BackendKind> {
    match name.trim() {
        "blocking" => Ok(BackendKind::Blocking),
        "uring" | "io_uring" => Ok(BackendKind::Uring),
        "memory" => Ok(BackendKind::Memory),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown I/O backend `{other}`; expected blocking, uring or memory"),
        )),
    }
}

/// The backend of `kind`, or [`default_io`]'s choice for `None`.
pub fn io_for(kind: Option<BackendKind>) -> io::Result<Arc<dyn IO>> {
    match kind {
        Some(BackendKind::Blocking) => Ok(Arc::new(crate::BlockingIO::new())),
        Some(BackendKind::Memory) => Ok(Arc::new(crate::MemoryIO::new())),
        Some(BackendKind::Uring) => crate::uring_or_reason(),
        None => match crate::uring_or_reason() {
            Ok(io) => Ok(io),
            Err(reason) => {
                eprintln!("ratchet: io_uring unavailable ({reason}); using blocking I/O");
                Ok(Arc::new(crate::BlockingIO::new()))
            }
        },
    }
}
