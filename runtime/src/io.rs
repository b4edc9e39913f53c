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
///
/// Positions are file offsets, defined for regular files and block
/// devices. On a file without them (a FIFO, a socket) the backends do what
/// their system call does and differ: `BlockingIO` fails with
/// `Io(ErrorKind::NotSeekable)` (`ESPIPE` from `pread`), `UringIO` reads
/// and writes the stream, ignoring the offset (the kernel's io_uring
/// behaviour, which its cancellation tests rely on: a read of an empty FIFO
/// is the operation that never finishes by itself).
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
}

/// The everyday driver, `io.block(|| machine(..))`, on any backend handle.
///
/// `block` is generic, so it cannot live in [`IO`] itself and still be
/// callable through `dyn IO`: a trait's own methods shadow everything else
/// on its trait object, and a generic one there can never be called. It
/// lives here instead, implemented for every `IO` (trait objects included),
/// and as an inherent method of `dyn IO` and of each backend of this crate,
/// so `io.block(..)` works on a backend, a `&dyn IO`, a `Box<dyn IO>` or an
/// `Arc<dyn IO>` with nothing imported; generic code (`I: IO`) imports this
/// trait.
///
/// ```
/// # extern crate ratchet_runtime as ratchet;
/// use ratchet::{Completion, CompletionError, IOResult, MemoryIO, IO};
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
/// let shared: &dyn IO = &io;
/// assert_eq!(shared.block(|| Ok::<_, CompletionError>(IOResult::Done(7))), Ok(7));
/// ```
pub trait IOExt: IO {
    /// Drives a machine to `Done`: calls `machine` again each time the
    /// completion it returned has finished.
    ///
    /// A machine whose awaited completion failed is called again too: the
    /// failure is the machine's to see (`yield_io!` gives the `Err`).
    ///
    /// # Errors
    /// The machine's own error, or [`CompletionError::Stalled`] (converted
    /// into `E`) when it waits on a completion nothing can finish.
    fn block<T, E>(&self, machine: impl FnMut() -> Result<IOResult<T>, E>) -> Result<T, E>
    where
        E: From<CompletionError>;
}

impl<I: IO + ?Sized> IOExt for I {
    fn block<T, E>(&self, machine: impl FnMut() -> Result<IOResult<T>, E>) -> Result<T, E>
    where
        E: From<CompletionError>,
    {
        drive(self, machine)
    }
}

/// `block` as an inherent method, found without importing [`IOExt`].
macro_rules! inherent_block {
    ($($(#[$attr:meta])* $ty:ty),* $(,)?) => {$(
        $(#[$attr])*
        impl $ty {
            /// Drives a machine to `Done` ([`IOExt::block`]).
            ///
            /// # Errors
            /// The machine's own error, or [`CompletionError::Stalled`]
            /// (converted into `E`) when it waits on a completion nothing
            /// can finish.
            pub fn block<T, E>(&self, machine: impl FnMut() -> Result<IOResult<T>, E>) -> Result<T, E>
            where
                E: From<CompletionError>,
            {
                drive(self, machine)
            }
        }
    )*};
}

inherent_block!(
    dyn IO + '_,
    crate::BlockingIO,
    crate::MemoryIO,
    crate::DeferredIO,
    #[cfg(target_os = "linux")]
    crate::UringIO,
);

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

/// A kind of backend: what [`choose_io`] and [`choose_default_io`] report
/// having chosen, beside the reason.
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
///
/// Which backend it chose and why: [`choose_default_io`] returns both.
pub fn default_io() -> io::Result<Arc<dyn IO>> {
    io_for(backend_from_env()?)
}

/// The backend `RATCHET_IO` asks for, if it is set.
fn backend_from_env() -> io::Result<Option<BackendKind>> {
    match std::env::var(BACKEND_ENV) {
        Ok(v) => Ok(Some(parse_backend(&v)?)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{BACKEND_ENV} is not valid UTF-8; expected blocking, uring or memory"),
        )),
    }
}

/// Parses a backend name as `RATCHET_IO` spells it.
pub fn parse_backend(name: &str) -> io::Result<BackendKind> {
    // `RATCHET_IO=Uring` means what it says: the names are not case-sensitive.
    match name.trim().to_ascii_lowercase().as_str() {
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
///
/// Falling back to blocking I/O is printed on stderr; [`choose_io`] returns
/// the same backend with what was chosen and why, and prints nothing.
pub fn io_for(kind: Option<BackendKind>) -> io::Result<Arc<dyn IO>> {
    let chosen = choose_io(kind)?;
    if chosen.fell_back {
        eprintln!("ratchet: {}", chosen.reason);
    }
    Ok(chosen.io)
}

/// A backend with what was chosen and why: what [`choose_io`] returns.
pub struct ChosenIO {
    /// The backend.
    pub io: Arc<dyn IO>,
    /// Which backend it is.
    pub kind: BackendKind,
    /// Why it was chosen, as one line for a log or a banner: `io_uring (the
    /// kernel allows it)`, `blocking (asked for)`, or the reason io_uring
    /// could not be had.
    pub reason: String,
    /// Whether io_uring was wanted (no explicit choice) but could not be had.
    pub fell_back: bool,
}

impl std::fmt::Debug for ChosenIO {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChosenIO")
            .field("kind", &self.kind)
            .field("reason", &self.reason)
            .field("fell_back", &self.fell_back)
            .finish_non_exhaustive()
    }
}

/// The backend of `kind` (or, for `None`, io_uring where the kernel allows
/// it, else blocking syscalls), with which one it is and why.
///
/// ```
/// # extern crate ratchet_runtime as ratchet;
/// use ratchet::backend::{BackendKind, choose_io};
/// let chosen = choose_io(Some(BackendKind::Memory)).unwrap();
/// assert_eq!(chosen.kind, BackendKind::Memory);
/// assert_eq!(chosen.reason, "memory (asked for)");
/// ```
///
/// # Errors
/// An explicit `Some(BackendKind::Uring)` fails with the reason io_uring is
/// not usable instead of falling back.
pub fn choose_io(kind: Option<BackendKind>) -> io::Result<ChosenIO> {
    let asked = |io: Arc<dyn IO>, kind: BackendKind| ChosenIO {
        io,
        kind,
        reason: format!("{} (asked for)", kind.name()),
        fell_back: false,
    };
    match kind {
        Some(BackendKind::Blocking) => Ok(asked(Arc::new(crate::BlockingIO::new()), BackendKind::Blocking)),
        Some(BackendKind::Memory) => Ok(asked(Arc::new(crate::MemoryIO::new()), BackendKind::Memory)),
        Some(BackendKind::Uring) => Ok(asked(crate::uring_or_reason()?, BackendKind::Uring)),
        None => match crate::uring_or_reason() {
            Ok(io) => Ok(ChosenIO {
                io,
                kind: BackendKind::Uring,
                reason: "io_uring (the kernel allows it)".to_owned(),
                fell_back: false,
            }),
            Err(why) => Ok(ChosenIO {
                io: Arc::new(crate::BlockingIO::new()),
                kind: BackendKind::Blocking,
                reason: format!("blocking (io_uring unavailable: {why})"),
                fell_back: true,
            }),
        },
    }
}

/// [`choose_io`] with the choice of `RATCHET_IO` ([`BACKEND_ENV`]), as
/// [`default_io`] makes it.
///
/// # Errors
/// `RATCHET_IO` names no backend, or names io_uring where it is unusable.
pub fn choose_default_io() -> io::Result<ChosenIO> {
    choose_io(backend_from_env()?).map(|mut c| {
        if c.reason.ends_with("(asked for)") {
            c.reason = format!("{} ({BACKEND_ENV}={})", c.kind.name(), c.kind.env_name());
        }
        c
    })
}

impl BackendKind {
    /// The backend's name for people: `blocking`, `io_uring` or `memory`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Blocking => "blocking",
            BackendKind::Uring => "io_uring",
            BackendKind::Memory => "memory",
        }
    }

    /// How `RATCHET_IO` spells it.
    #[must_use]
    pub fn env_name(self) -> &'static str {
        match self {
            BackendKind::Uring => "uring",
            other => other.name(),
        }
    }
}
