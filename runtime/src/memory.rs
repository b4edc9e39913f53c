//! `MemoryIO`: files that live in memory, with the observable behaviour of
//! [`crate::BlockingIO`].
//!
//! Tests of machines run here without touching a disk, and the behavioural
//! suite (`tests/backends.rs`) checks that nothing a machine can observe
//! differs from the blocking backend: inline completion, EOF semantics, sparse
//! extension, open errors, and the same argument checks (`O_DIRECT` alignment
//! included, so code tested in memory does not fail on a real disk).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::blocking::run_inline;
use crate::buffer::{Buffer, DeviceHold};
use crate::completion::{Completion, CompletionError};
use crate::io::{File, IO, OpenOptions};
use crate::validate::{self, Mode, byte_count, offset_plus, reject};

/// The bytes of one in-memory file, shared by every handle that opened it.
type Contents = Arc<Mutex<Vec<u8>>>;

/// A backend whose files are byte vectors in a map from path to contents.
///
/// Opening the same path twice gives two handles on the same contents, as
/// with a real file. Removing a path keeps the contents alive for handles
/// already open (as unlinking an open file does) while a new open no longer
/// finds it. Every operation finishes inline, so [`IO::step`] returns `Ok(0)`.
///
/// ```
/// # extern crate ratchet_runtime as ratchet;
/// use std::sync::Arc;
/// use ratchet::{Buffer, Completion, IO, MemoryIO, OpenOptions};
///
/// let io = MemoryIO::new();
/// let a = io.open_file("/db".as_ref(), OpenOptions::new()).unwrap();
/// let b = io.open_file("/db".as_ref(), OpenOptions::existing()).unwrap();
/// a.pwrite(8, Arc::new(Buffer::from_vec(b"x".to_vec())), Completion::write()).unwrap();
/// assert_eq!(b.size(), Ok(9)); // the gap reads as zeros
/// ```
#[derive(Debug, Default)]
pub struct MemoryIO {
    files: Mutex<HashMap<PathBuf, Contents>>,
    /// Set when the backend is dropped, so that files still open refuse new
    /// operations (`Aborted`), as on every backend that has a drop to tell.
    closed: Arc<AtomicBool>,
}

impl Drop for MemoryIO {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::Release);
    }
}

impl MemoryIO {
    /// A backend with no files.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

/// Locks `m`, ignoring poisoning: every critical section here leaves the bytes
/// consistent (a resize either happened or did not), so a panic elsewhere is
/// no reason to refuse access.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl IO for MemoryIO {
    fn open_file(&self, path: &Path, options: OpenOptions) -> io::Result<Arc<dyn File>> {
        validate::open_options(path, options, true)?;
        let mut files = lock(&self.files);
        let contents = match files.get(path) {
            Some(_) if options.create_new => {
                return Err(io::Error::new(io::ErrorKind::AlreadyExists, "file exists"));
            }
            Some(contents) => contents.clone(),
            None if options.create || options.create_new => {
                files.entry(path.to_path_buf()).or_default().clone()
            }
            None => return Err(io::Error::new(io::ErrorKind::NotFound, "no such file")),
        };
        Ok(Arc::new(MemoryFile {
            contents,
            closed: self.closed.clone(),
            mode: Mode {
                read_only: options.read_only,
                direct: options.direct,
            },
        }))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        match lock(&self.files).remove(path) {
            Some(_) => Ok(()),
            None => Err(io::Error::new(io::ErrorKind::NotFound, "no such file")),
        }
    }

    /// Always `Ok(0)`: operations finish inside the calls that start them.
    fn step(&self) -> Result<usize, CompletionError> {
        Ok(0)
    }
}

/// An open file of [`MemoryIO`].
#[derive(Debug)]
struct MemoryFile {
    contents: Contents,
    /// The backend's: set once it is dropped.
    closed: Arc<AtomicBool>,
    /// Checked as a real descriptor's mode would be (`validate`).
    mode: Mode,
}

impl MemoryFile {
    /// `Aborted` once the backend is dropped. Checked after the arguments,
    /// as the other backends do.
    fn live(&self) -> Result<(), CompletionError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(CompletionError::Aborted);
        }
        Ok(())
    }

    /// Copies `bufs` back to back into the file at `pos`, growing it with
    /// zeros first when the write starts or ends past the current end.
    fn write_at(&self, pos: u64, holds: &[DeviceHold]) -> Result<i32, CompletionError> {
        let len = validate::total_len(holds.iter().map(|h| &**h.buffer()))?;
        if len == 0 {
            // Nothing changes, so no limit applies, as with a real file.
            return Ok(0);
        }
        let end = validate::simulated_end(offset_plus(pos, len)?)?;
        let mut data = lock(&self.contents);
        if end > data.len() {
            grow(&mut data, end)?;
        }
        // `end` fits in usize, so `pos` does too.
        let mut at = end - len;
        for hold in holds {
            let src = hold.bytes();
            data[at..at + src.len()].copy_from_slice(&src);
            at += src.len();
        }
        byte_count(len)
    }
}

/// Extends `data` with zeros to `len` bytes, reporting an allocation failure
/// as an I/O error (as a full disk would be) instead of aborting the process.
fn grow(data: &mut Vec<u8>, len: usize) -> Result<(), CompletionError> {
    data.try_reserve(len - data.len())
        .map_err(|_| CompletionError::Io(io::ErrorKind::OutOfMemory))?;
    data.resize(len, 0);
    Ok(())
}

impl File for MemoryFile {
    fn pread(&self, pos: u64, c: Completion) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::read(pos, &c, self.mode) {
            return reject(c, err);
        }
        if let Err(err) = self.live() {
            return reject(c, err);
        }
        run_inline(c, &[], |held, _| {
            let mut dst = held.read_buffer_mut().ok_or(validate::NOT_A_READ)?;
            let data = lock(&self.contents);
            let start = usize::try_from(pos).unwrap_or(usize::MAX).min(data.len());
            let n = dst.len().min(data.len() - start);
            // Only the bytes that exist are copied: the tail of the buffer
            // past EOF keeps what the caller put there.
            dst[..n].copy_from_slice(&data[start..start + n]);
            byte_count(n)
        })
    }

    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::completion_for(&c, validate::Op::Write) {
            return reject(c, err);
        }
        if let Err(err) = validate::transfer(pos, &[&buf], self.mode, true) {
            return reject(c, err);
        }
        if let Err(err) = self.live() {
            return reject(c, err);
        }
        run_inline(c, std::slice::from_ref(&buf), |_, holds| {
            self.write_at(pos, holds)
        })
    }

    fn pwritev(
        &self,
        pos: u64,
        bufs: Vec<Arc<Buffer>>,
        c: Completion,
    ) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::completion_for(&c, validate::Op::Write) {
            return reject(c, err);
        }
        if let Err(err) = validate::write(pos, &bufs, self.mode) {
            return reject(c, err);
        }
        if let Err(err) = self.live() {
            return reject(c, err);
        }
        run_inline(c, &bufs, |_, holds| self.write_at(pos, holds))
    }

    /// Nothing to flush: memory is as durable as this backend gets.
    fn sync(&self, c: Completion) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::completion_for(&c, validate::Op::Sync) {
            return reject(c, err);
        }
        if let Err(err) = self.live() {
            return reject(c, err);
        }
        run_inline(c, &[], |_, _| Ok(0))
    }

    fn truncate(&self, len: u64, c: Completion) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::completion_for(&c, validate::Op::Truncate) {
            return reject(c, err);
        }
        if let Err(err) = validate::truncate(len, self.mode) {
            return reject(c, err);
        }
        if let Err(err) = self.live() {
            return reject(c, err);
        }
        run_inline(c, &[], |_, _| {
            let len = validate::simulated_end(len)?;
            let mut data = lock(&self.contents);
            if len > data.len() {
                grow(&mut data, len)?;
            } else {
                data.truncate(len);
            }
            Ok(0)
        })
    }

    fn size(&self) -> Result<u64, CompletionError> {
        self.live()?;
        Ok(lock(&self.contents).len() as u64)
    }
}
