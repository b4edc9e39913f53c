//! `BlockingIO`: every operation is a syscall made inline, so each completion
//! has finished by the time the call that started it returns.
//!
//! This is the reference backend: simple enough to be obviously right, and
//! what `default_io` falls back to where io_uring is unavailable. Short reads
//! and writes are continued and `EINTR` is retried here, so callers never see
//! either. Arguments are checked by `validate`, as on every backend.

use std::fs;
use std::io::{self, IoSlice};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;

use crate::buffer::{Buffer, DIRECT_IO_ALIGN, DeviceHold};
use crate::completion::{Completion, CompletionError, InFlight, SyncMode};
use crate::io::{File, IO, OpenOptions};
use crate::validate::{self, Mode, byte_count, offset_plus, reject};

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
/// # extern crate ratchet_runtime as ratchet;
/// use std::sync::Arc;
/// use ratchet::{BlockingIO, Buffer, Completion, IO, OpenOptions};
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
        validate::open_options(path, options, false)?;
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
            mode: Mode {
                read_only: options.read_only,
                direct: options.direct,
            },
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
    /// Checked before each syscall (`validate`), so a misuse gets the same
    /// error as on every other backend rather than the kernel's `EINVAL` or
    /// `EBADF`.
    mode: Mode,
}

impl File for BlockingFile {
    fn pread(&self, pos: u64, mut c: Completion) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::read(pos, &c, self.mode) {
            return reject(c, err);
        }
        // The kernel touches the bytes only until the syscall returns. The
        // common case, without `run_inline`'s guard and list of write holds.
        match c.read_inline(|dst| self.read_fully(pos, dst)) {
            Ok(()) => Ok(c),
            Err(err) => reject(c, err),
        }
    }

    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::completion_for(&c, validate::Op::Write) {
            return reject(c, err);
        }
        if let Err(err) = validate::transfer(pos, &[&buf], self.mode, true) {
            return reject(c, err);
        }
        run_inline(c, std::slice::from_ref(&buf), |_, holds| {
            self.write_fully(pos, &holds[0].bytes())
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
        run_inline(c, &bufs, |_, holds| self.write_vectored_fully(pos, holds))
    }

    fn sync(&self, c: Completion) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::completion_for(&c, validate::Op::Sync) {
            return reject(c, err);
        }
        let mode = c.sync_mode();
        run_inline(c, &[], |_, _| {
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
        if let Err(err) = validate::completion_for(&c, validate::Op::Truncate) {
            return reject(c, err);
        }
        if let Err(err) = validate::truncate(len, self.mode) {
            return reject(c, err);
        }
        run_inline(c, &[], |_, _| {
            Ok(retry_interrupted(|| self.file.set_len(len)).map(|()| 0)?)
        })
    }

    fn size(&self) -> Result<u64, CompletionError> {
        Ok(retry_interrupted(|| self.file.metadata())?.len())
    }
}

impl BlockingFile {
    /// Reads until `dst` is full or the file ends. Bytes past EOF are never
    /// written, so they keep whatever the caller put there.
    #[inline]
    fn read_fully(&self, pos: u64, dst: &mut [u8]) -> Result<i32, CompletionError> {
        // The common case here: one `pread` fills the buffer (`validate`
        // has checked that `pos + len` is a valid offset and fits an `i32`).
        match self.file.read_at(dst, pos) {
            Ok(n) if n == dst.len() => byte_count(n),
            first => self.read_rest(pos, dst, first),
        }
    }

    /// [`BlockingFile::read_fully`] after a first `pread` that did not fill
    /// `dst`: the end of the file, a short read to continue, `EINTR`.
    #[cold]
    fn read_rest(&self, pos: u64, dst: &mut [u8], first: io::Result<usize>) -> Result<i32, CompletionError> {
        let mut done = match first {
            Ok(0) => return Ok(0),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e.into()),
        };
        if self.mode.direct && done % DIRECT_IO_ALIGN != 0 {
            return byte_count(done);
        }
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
            if self.mode.direct && done % DIRECT_IO_ALIGN != 0 {
                break;
            }
        }
        byte_count(done)
    }

    fn write_fully(&self, pos: u64, src: &[u8]) -> Result<i32, CompletionError> {
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
    fn write_vectored_fully(&self, pos: u64, holds: &[DeviceHold]) -> Result<i32, CompletionError> {
        // The device's shared borrows are held for the whole write, so the
        // iovecs point at bytes nobody can change until the last syscall has
        // returned; a buffer repeated in the list is borrowed once per
        // repetition, which shared borrows allow.
        let views: Vec<_> = holds.iter().map(DeviceHold::bytes).collect();
        let mut slices: Vec<IoSlice<'_>> = views.iter().map(|v| IoSlice::new(v)).collect();
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
/// holding `c` (and a read's buffer) and the buffers `writes` sends, then
/// finishes `c` with its outcome. A completion already in flight or a busy
/// buffer is refused first, at the call. The holds are let go before `c`
/// finishes, so a callback already sees `device_released()` and may view
/// the buffers.
pub(crate) fn run_inline(
    c: Completion,
    writes: &[Arc<Buffer>],
    op: impl FnOnce(&InFlight, &[DeviceHold]) -> Result<i32, CompletionError>,
) -> Result<Completion, CompletionError> {
    let (held, holds) = match validate::hold(&c, writes) {
        Ok(held) => held,
        Err(err) => return reject(c, err),
    };
    let outcome = op(&held, &holds);
    drop(holds);
    // Releases the read's buffer and the device mark, and decides a success
    // nobody waits for, in that order (one compare-and-swap for the last
    // two).
    held.finish(outcome);
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(name: &str, data: &[u8]) -> (std::path::PathBuf, Arc<dyn File>) {
        let dir = std::env::temp_dir().join(format!("ratchet-blocking-{}-{name}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data");
        fs::write(&path, data).unwrap();
        let file = BlockingIO::new().open_file(&path, OpenOptions::new()).unwrap();
        (dir, file)
    }

    /// A read whose completion has no other handle takes the path without
    /// the device mark: the outcome, the bytes and the buffer's release must
    /// be those of the shared path.
    #[test]
    fn a_read_through_the_only_handle_finishes_and_lets_the_buffer_go() {
        let (dir, file) = file_with("only", b"abcdefgh");
        let buf = Arc::new(Buffer::new(4));
        let c = file.pread(2, Completion::read(buf.clone())).unwrap();
        assert_eq!(c.result(), Some(Ok(4)));
        assert!(c.device_released());
        assert_eq!(&*buf.as_slice(), b"cdef");
        // The hold and the view's bit are both gone: a mutable view is granted.
        drop(buf.as_mut_slice());
        // Past the end: a short count, not an error.
        let c = file.pread(6, Completion::read(buf.clone())).unwrap();
        assert_eq!(c.result(), Some(Ok(2)));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_only_handle_of_a_busy_or_decided_read_is_refused_and_changes_nothing() {
        let (dir, file) = file_with("busy", b"abcdefgh");
        let buf = Arc::new(Buffer::from_vec(b"xxxx".to_vec()));
        let view = buf.as_slice();
        let err = file.pread(0, Completion::read(buf.clone())).unwrap_err();
        assert!(matches!(err, CompletionError::Busy(_)), "{err:?}");
        assert_eq!(&*view, b"xxxx", "the refused read wrote nothing");
        drop(view);
        drop(buf.as_mut_slice());

        let decided = Completion::read(buf.clone());
        decided.abort();
        let err = file.pread(0, decided).unwrap_err();
        assert_eq!(err, crate::completion::ALREADY_DECIDED);
        assert_eq!(&*buf.as_slice(), b"xxxx");
        drop(buf.as_mut_slice());
        fs::remove_dir_all(dir).unwrap();
    }

    /// A callback (registered before the call) runs once with the outcome,
    /// after the buffer is let go, though the completion had one handle.
    #[test]
    fn the_only_handle_with_a_callback_runs_it_once_with_the_buffer_free() {
        let (dir, file) = file_with("callback", b"abcdefgh");
        let buf = Arc::new(Buffer::new(3));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (log, probe) = (seen.clone(), buf.clone());
        let c = Completion::read(buf.clone()).with_callback(move |o| {
            log.lock()
                .unwrap()
                .push((o, probe.try_as_slice().map(|v| v.to_vec())));
        });
        let c = file.pread(0, c).unwrap();
        assert_eq!(c.result(), Some(Ok(3)));
        assert_eq!(*seen.lock().unwrap(), vec![(Ok(3), Ok(b"abc".to_vec()))]);
        fs::remove_dir_all(dir).unwrap();
    }
}
