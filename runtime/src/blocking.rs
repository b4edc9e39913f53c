//! `BlockingIO`: every operation is a syscall made inline, so each completion
//! has finished by the time the call that started it returns.
//!
//! This is the reference backend: simple enough to be obviously right, and
//! what `default_io` falls back to where io_uring is unavailable. Short reads
//! and writes are continued and `EINTR` is retried here, so callers never see
//! either; the argument checks shared with [`crate::MemoryIO`] live here too,
//! so that both backends refuse the same things with the same errors.

use std::fs;
use std::io::{self, IoSlice};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;

use crate::buffer::{Buffer, DIRECT_IO_ALIGN};
use crate::completion::{Completion, CompletionError, SyncMode};
use crate::io::{File, IO, OpenOptions};

/// The most iovecs one `pwritev` accepts on Linux (`IOV_MAX`); longer lists
/// are written in batches of this many, since the kernel refuses more with
/// `EINVAL` rather than writing a prefix.
const IOV_MAX_COUNT: usize = 1024;

/// A backend that performs each operation as a blocking syscall.
///
/// Files opened with [`OpenOptions::direct`] bypass the page cache. The device
/// then moves whole blocks, and the kernel zero-fills the part of a read that
/// lies past EOF: there, unlike with buffered files, bytes of the buffer past
/// EOF may come back as zeros (never as stale data).
///
/// Nothing is ever in flight between calls, so [`IO::step`] always returns
/// `Ok(0)`, and [`IO::wait`] on a completion that no file operation of this
/// backend was given reports [`CompletionError::Stalled`] instead of hanging.
///
/// ```
/// use std::sync::Arc;
/// use ratchet_runtime::{BlockingIO, Buffer, Completion, IO, OpenOptions};
///
/// let dir = std::env::temp_dir().join(format!("ratchet-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let io = BlockingIO::new();
/// let file = io.open_file(&dir.join("db"), OpenOptions::new()).unwrap();
/// let w = file.pwrite(0, Arc::new(Buffer::from_vec(b"page".to_vec())), Completion::write()).unwrap();
/// assert_eq!(w.result(), Some(Ok(4))); // finished before `pwrite` returned
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct BlockingIO;

impl BlockingIO {
    /// A blocking backend. It holds no state: every file carries its own
    /// descriptor.
    #[must_use]
    pub fn new() -> Self {
        BlockingIO
    }
}

impl IO for BlockingIO {
    fn open_file(&self, path: &Path, options: OpenOptions) -> io::Result<Arc<dyn File>> {
        let mut std_options = fs::OpenOptions::new();
        std_options
            .read(true)
            .write(!options.read_only)
            .create(options.create)
            .create_new(options.create_new);
        if options.direct {
            // rustix's constant is the kernel's own value for this target;
            // it is a small positive flag, so the conversion cannot wrap.
            std_options.custom_flags(rustix::fs::OFlags::DIRECT.bits() as i32);
        }
        let file = retry_interrupted(|| std_options.open(path))?;
        Ok(Arc::new(BlockingFile {
            file,
            direct: options.direct,
        }))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    /// Always `Ok(0)`: operations finish inside the calls that start them.
    fn step(&self) -> Result<usize, CompletionError> {
        Ok(0)
    }
}

/// An open file of [`BlockingIO`].
#[derive(Debug)]
struct BlockingFile {
    file: fs::File,
    /// Opened with `O_DIRECT`: arguments are checked for alignment before the
    /// syscall, so a misuse gets a message rather than the kernel's `EINVAL`.
    direct: bool,
}

impl File for BlockingFile {
    fn pread(&self, pos: u64, c: Completion) -> Result<Completion, CompletionError> {
        let buf = match read_buffer_of(&c) {
            Ok(buf) => buf,
            Err(err) => return reject(c, err),
        };
        if let Err(err) = check_len(buf.len()).and_then(|_| self.check_direct(pos, &[&buf])) {
            return reject(c, err);
        }
        // The kernel touches the bytes only until the syscall returns.
        run_inline(c, || self.read_fully(pos, &buf))
    }

    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion, CompletionError> {
        if let Err(err) = check_len(buf.len()).and_then(|_| self.check_direct(pos, &[&buf])) {
            return reject(c, err);
        }
        run_inline(c, || self.write_fully(pos, &buf))
    }

    fn pwritev(
        &self,
        pos: u64,
        bufs: Vec<Arc<Buffer>>,
        c: Completion,
    ) -> Result<Completion, CompletionError> {
        let refs: Vec<&Buffer> = bufs.iter().map(|b| &**b).collect();
        if let Err(err) = check_len(total_len(&refs)).and_then(|_| self.check_direct(pos, &refs)) {
            return reject(c, err);
        }
        run_inline(c, || self.write_vectored_fully(pos, &refs))
    }

    fn sync(&self, c: Completion) -> Result<Completion, CompletionError> {
        let mode = c.sync_mode();
        run_inline(c, || {
            let result = match mode {
                Some(SyncMode::Data) => retry_interrupted(|| self.file.sync_data()),
                // `File::sync` promises fsync for anything but an explicit
                // `sync_data()` completion: the stronger guarantee is the safe
                // reading of an unspecified mode.
                Some(SyncMode::Full) | None => retry_interrupted(|| self.file.sync_all()),
            };
            Ok(result.map(|()| 0)?)
        })
    }

    fn truncate(&self, len: u64, c: Completion) -> Result<Completion, CompletionError> {
        run_inline(
            c,
            || Ok(retry_interrupted(|| self.file.set_len(len)).map(|()| 0)?),
        )
    }

    fn size(&self) -> Result<u64, CompletionError> {
        Ok(retry_interrupted(|| self.file.metadata())?.len())
    }
}

impl BlockingFile {
    fn check_direct(&self, pos: u64, bufs: &[&Buffer]) -> Result<(), CompletionError> {
        if self.direct {
            check_direct_alignment(pos, bufs)
        } else {
            Ok(())
        }
    }

    /// Reads until `buf` is full or the file ends. Bytes past EOF are never
    /// written, so they keep whatever the caller put there.
    fn read_fully(&self, pos: u64, buf: &Buffer) -> Result<i32, CompletionError> {
        let mut dst = buf.as_mut_slice();
        let mut done = 0;
        while done < dst.len() {
            let at = offset_plus(pos, done)?;
            match self.file.read_at(&mut dst[done..], at) {
                Ok(0) => break,
                Ok(n) => done += n,
                // std does not retry `EINTR` for positioned reads.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
            // With `O_DIRECT` the kernel only stops short at the end of the
            // file; asking again from an unaligned offset would be refused
            // with `EINVAL` instead of returning 0.
            if self.direct && done % DIRECT_IO_ALIGN != 0 {
                break;
            }
        }
        byte_count(done)
    }

    fn write_fully(&self, pos: u64, buf: &Buffer) -> Result<i32, CompletionError> {
        let src = buf.as_slice();
        let mut done = 0;
        while done < src.len() {
            let at = offset_plus(pos, done)?;
            match self.file.write_at(&src[done..], at) {
                Ok(0) => {
                    return Err(CompletionError::ShortWrite {
                        expected: src.len(),
                        actual: done,
                    });
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
        byte_count(done)
    }

    /// One `pwritev` per batch of iovecs, continued from wherever a short
    /// write stopped (possibly in the middle of a buffer).
    fn write_vectored_fully(&self, pos: u64, bufs: &[&Buffer]) -> Result<i32, CompletionError> {
        // Every read guard is held for the whole write, so the iovecs point at
        // bytes nobody can change until the last syscall has returned. One
        // guard per distinct buffer: a buffer repeated in `bufs` (a zero page
        // written eight times, say) must not be read-locked twice by this
        // thread, which std's `RwLock` allows to deadlock.
        let mut distinct: Vec<&Buffer> = bufs.to_vec();
        distinct.sort_by_key(|b| std::ptr::from_ref::<Buffer>(b));
        distinct.dedup_by_key(|b| std::ptr::from_ref::<Buffer>(b));
        let guards: Vec<_> = distinct.iter().map(|b| b.as_slice()).collect();
        let guard_of = |b: &Buffer| {
            let at = distinct.binary_search_by_key(&std::ptr::from_ref(b), |d| std::ptr::from_ref(*d));
            // Every buffer of `bufs` is in `distinct`, by construction.
            &guards[at.unwrap_or_else(|_| unreachable!("buffer missing from its own list"))]
        };
        let mut slices: Vec<IoSlice<'_>> = bufs.iter().map(|b| IoSlice::new(guard_of(b))).collect();
        let expected: usize = slices.iter().map(|s| s.len()).sum();
        let mut rest: &mut [IoSlice<'_>] = &mut slices;
        // Drops leading empty buffers, which would otherwise make a batch of
        // only empty iovecs look like a device that accepts nothing.
        IoSlice::advance_slices(&mut rest, 0);
        let mut done = 0;
        while !rest.is_empty() {
            let at = offset_plus(pos, done)?;
            let batch = &rest[..rest.len().min(IOV_MAX_COUNT)];
            match rustix::io::pwritev(&self.file, batch, at) {
                Ok(0) => {
                    return Err(CompletionError::ShortWrite {
                        expected,
                        actual: done,
                    });
                }
                Ok(n) => {
                    done += n;
                    IoSlice::advance_slices(&mut rest, n);
                }
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(io::Error::from(e).into()),
            }
        }
        byte_count(done)
    }
}

/// Runs `op` again for as long as it fails with `EINTR`.
fn retry_interrupted<T>(mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// Runs `op`, an operation that finishes inside this call, as a device
/// holding `c`'s buffers, then finishes `c` with its outcome. The hold is let
/// go before `c` finishes, so a callback already sees `device_released()`.
pub(crate) fn run_inline(
    c: Completion,
    op: impl FnOnce() -> Result<i32, CompletionError>,
) -> Result<Completion, CompletionError> {
    let held = c.begin_io();
    let outcome = op();
    drop(held);
    c.finish(outcome);
    Ok(c)
}

/// Refuses an operation before it starts: finishes `c` with `err` as well, so
/// that a group or waiter holding a clone of `c` is not left pending forever,
/// and returns `err` for the caller's `?`.
pub(crate) fn reject(c: Completion, err: CompletionError) -> Result<Completion, CompletionError> {
    c.error(err);
    Err(err)
}

/// The buffer a `pread` fills: only a [`Completion::read`] carries one.
pub(crate) fn read_buffer_of(c: &Completion) -> Result<Arc<Buffer>, CompletionError> {
    c.read_buffer().cloned().ok_or(CompletionError::InvalidArgument(
        "pread needs a read completion: create it with `Completion::read(buffer)`",
    ))
}

/// Checks that a transfer of `len` bytes can report its length in a
/// completion's `i32` result.
pub(crate) fn check_len(len: usize) -> Result<(), CompletionError> {
    if i32::try_from(len).is_ok() {
        Ok(())
    } else {
        Err(CompletionError::InvalidArgument(
            "a single operation may transfer at most i32::MAX bytes; split it",
        ))
    }
}

/// The total length of `bufs`.
pub(crate) fn total_len(bufs: &[&Buffer]) -> usize {
    bufs.iter().map(|b| b.len()).sum()
}

/// What `O_DIRECT` asks: the offset, and each buffer's address and length,
/// multiples of [`DIRECT_IO_ALIGN`]. Checked up front because the kernel's
/// `EINVAL` does not say which of them was wrong.
pub(crate) fn check_direct_alignment(pos: u64, bufs: &[&Buffer]) -> Result<(), CompletionError> {
    let align = DIRECT_IO_ALIGN as u64;
    if !pos.is_multiple_of(align) {
        return Err(CompletionError::InvalidArgument(
            "O_DIRECT needs the file offset to be a multiple of DIRECT_IO_ALIGN (4096)",
        ));
    }
    for buf in bufs {
        if !buf.is_aligned_to(DIRECT_IO_ALIGN) {
            return Err(CompletionError::InvalidArgument(
                "O_DIRECT needs aligned buffers: allocate them with `Buffer::new_aligned`",
            ));
        }
        if buf.len() % DIRECT_IO_ALIGN != 0 {
            return Err(CompletionError::InvalidArgument(
                "O_DIRECT needs buffer lengths that are multiples of DIRECT_IO_ALIGN (4096)",
            ));
        }
    }
    Ok(())
}

/// `pos + done`, or an error where the sum leaves the range of file offsets.
pub(crate) fn offset_plus(pos: u64, done: usize) -> Result<u64, CompletionError> {
    pos.checked_add(done as u64)
        .filter(|&end| i64::try_from(end).is_ok())
        .ok_or(CompletionError::InvalidArgument(
            "file offset beyond the largest the kernel accepts (i64::MAX)",
        ))
}

/// A byte count as a completion result; `check_len` made sure it fits.
pub(crate) fn byte_count(n: usize) -> Result<i32, CompletionError> {
    i32::try_from(n).map_err(|_| CompletionError::InvalidArgument("byte count does not fit in i32"))
}
