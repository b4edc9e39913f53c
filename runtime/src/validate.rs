//! The checks every backend makes before it starts an operation, in one
//! place, so that the same bad input gets the same error on every backend.
//!
//! # Where bad input is reported
//!
//! What the caller can be told without asking the device is checked **at
//! the call**: the call returns `Err(e)` and the completion it was given is
//! finished with the same `Err(e)`, so a group or a waiter holding a clone is
//! never left pending. That covers:
//!
//! - the completion, first: each operation takes a completion of its own
//!   kind (`pread` a [`Completion::read`], `pwrite`/`pwritev` a
//!   [`Completion::write`], `sync` a [`Completion::sync`] or
//!   [`Completion::sync_data`], `truncate` a [`Completion::truncate`]); a
//!   [`Completion::pending`], a group's built completion and a completion
//!   whose outcome is already decided (finished, aborted,
//!   [`Completion::ready`], [`Completion::yield_now`]) stand for no operation
//!   and are refused ([`CompletionError::InvalidArgument`]). A refused
//!   group's completion is left alone: it finishes when its children do;
//! - the arguments: offsets past `i64::MAX` (the largest the kernel takes),
//!   `pos + len` past it, lengths whose sum overflows or exceeds `i32::MAX`
//!   (a completion's result is an `i32`), misaligned offsets, buffers and
//!   lengths for `O_DIRECT` ([`CompletionError::InvalidArgument`]);
//! - the handle's mode: a write or truncate through a handle opened
//!   read-only (`CompletionError::Io(ErrorKind::PermissionDenied)`);
//! - the buffers: a buffer that a user's view or another operation holds in
//!   a way the operation conflicts with ([`CompletionError::Busy`]), and a
//!   completion already given to an operation that is still in flight
//!   ([`CompletionError::InvalidArgument`]; that completion is left to the
//!   operation it belongs to).
//!
//! What only the file system can decide (the file is too large for it, the
//! disk is full, the device failed) arrives **in the completion**, with the
//! [`CompletionError::Io`] kind the operating system reports. The in-memory
//! backends model a file system whose largest file is
//! [`SIMULATED_MAX_FILE_BYTES`], so a write or truncate beyond it fails with
//! `Io(ErrorKind::FileTooLarge)` in the completion, as `EFBIG` does on a
//! real disk (ext4's limit is 16 TiB; some file systems take files up to
//! `i64::MAX` bytes).

use std::io;
use std::sync::Arc;

use crate::buffer::{Buffer, DIRECT_IO_ALIGN, DeviceHold};
use crate::completion::{A_GROUP, ALREADY_DECIDED, Completion, CompletionError, InFlight, Kind, Outcome};

/// The largest file `MemoryIO` and `SimIO` hold, since their files live in
/// memory: a write or truncate past it fails with
/// `Io(ErrorKind::FileTooLarge)` (`EFBIG`), as on a file system with this
/// limit. 1 GiB is far beyond what a test writes, and keeps a stray offset
/// from zero-filling gigabytes of a shared machine.
pub const SIMULATED_MAX_FILE_BYTES: u64 = 1 << 30;

/// The largest offset the kernel takes (`loff_t` is an `i64`).
const MAX_OFFSET: u64 = i64::MAX as u64;

pub(crate) const NOT_A_READ: CompletionError = CompletionError::InvalidArgument(
    "pread needs a read completion: create it with `Completion::read(buffer)`",
);
pub(crate) const PAST_MAX_OFFSET: CompletionError =
    CompletionError::InvalidArgument("file offset beyond the largest the kernel accepts (i64::MAX)");
pub(crate) const TOO_LONG: CompletionError =
    CompletionError::InvalidArgument("a single operation may transfer at most i32::MAX bytes; split it");
pub(crate) const DIRECT_OFFSET: CompletionError = CompletionError::InvalidArgument(
    "O_DIRECT needs the file offset to be a multiple of DIRECT_IO_ALIGN (4096)",
);
pub(crate) const DIRECT_BUFFER: CompletionError = CompletionError::InvalidArgument(
    "O_DIRECT needs aligned buffers: allocate them with `Buffer::new_aligned`",
);
pub(crate) const DIRECT_LENGTH: CompletionError = CompletionError::InvalidArgument(
    "O_DIRECT needs buffer lengths that are multiples of DIRECT_IO_ALIGN (4096)",
);
/// A write or truncate through a handle opened read-only.
pub(crate) const READ_ONLY: CompletionError = CompletionError::Io(io::ErrorKind::PermissionDenied);
/// A write or truncate past [`SIMULATED_MAX_FILE_BYTES`].
pub(crate) const FILE_TOO_LARGE: CompletionError = CompletionError::Io(io::ErrorKind::FileTooLarge);

/// Checks `open_file`'s options (and, for a backend whose files live in
/// memory, the path) before any backend looks at the file system, so that
/// every backend refuses the same request the same way:
///
/// - `read_only` with `create` or `create_new`: creating needs write
///   access (`ErrorKind::InvalidInput`, as std and the kernel say);
/// - `create_new` implies `create`, as in std: an existing file is refused
///   with `AlreadyExists` whether `create` is set or not (the backends see
///   to that);
/// - in memory (`MemoryIO`, `SimIO`), a path no file system accepts: empty
///   (`NotFound`, as `ENOENT`), with a NUL byte (`InvalidInput`, as std
///   says), or naming a directory by a trailing `/` (`IsADirectory`). Their
///   namespace is flat: directories, and so missing parents, are not
///   modelled.
pub(crate) fn open_options(
    path: &std::path::Path,
    options: crate::io::OpenOptions,
    in_memory: bool,
) -> io::Result<()> {
    if options.read_only && (options.create || options.create_new) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "creating a file needs write access: drop `read_only`, or `create` and `create_new`",
        ));
    }
    if in_memory {
        let bytes = path.as_os_str().as_encoded_bytes();
        if bytes.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "the empty path names no file",
            ));
        }
        if bytes.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "file name contained an unexpected NUL byte",
            ));
        }
        if bytes.ends_with(b"/") {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "a path ending in '/' names a directory, not a file",
            ));
        }
    }
    Ok(())
}

/// What a file handle was opened for, as far as the checks care.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mode {
    pub(crate) read_only: bool,
    pub(crate) direct: bool,
}

pub(crate) const NOT_A_WRITE: CompletionError = CompletionError::InvalidArgument(
    "pwrite and pwritev need a write completion: create it with `Completion::write()`",
);
pub(crate) const NOT_A_SYNC: CompletionError = CompletionError::InvalidArgument(
    "sync needs a sync completion: create it with `Completion::sync()` or `Completion::sync_data()`",
);
pub(crate) const NOT_A_TRUNCATE: CompletionError = CompletionError::InvalidArgument(
    "truncate needs a truncate completion: create it with `Completion::truncate()`",
);

/// An operation other than a read, for [`completion_for`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Write,
    Sync,
    Truncate,
}

/// Checks, first of all, that `c` can stand for an `op`: a completion of
/// that kind (a [`Completion::pending`] has nothing behind it and is refused
/// like any other kind), not a group's, not one already finished. A read's
/// kind is checked by [`read_buffer_of`].
pub(crate) fn completion_for(c: &Completion, op: Op) -> Result<(), CompletionError> {
    let fits = match (c.kind(), op) {
        (None, _) => return Err(ALREADY_DECIDED),
        (Some(Kind::Group(_)), _) => return Err(A_GROUP),
        (Some(Kind::Write), Op::Write)
        | (Some(Kind::Sync(_)), Op::Sync)
        | (Some(Kind::Truncate), Op::Truncate) => true,
        _ => false,
    };
    if fits {
        return undecided(c);
    }
    Err(match op {
        Op::Write => NOT_A_WRITE,
        Op::Sync => NOT_A_SYNC,
        Op::Truncate => NOT_A_TRUNCATE,
    })
}

/// The buffer a `pread` fills: only a [`Completion::read`] carries one.
pub(crate) fn read_buffer_of(c: &Completion) -> Result<Arc<Buffer>, CompletionError> {
    let buf = c.read_buffer().cloned().ok_or(NOT_A_READ)?;
    undecided(c)?;
    Ok(buf)
}

/// Refuses a completion whose outcome is decided, before the arguments are
/// looked at ([`Completion::begin_io`] refuses it again, atomically, for a
/// completion decided in between).
fn undecided(c: &Completion) -> Result<(), CompletionError> {
    if c.decided() {
        return Err(ALREADY_DECIDED);
    }
    Ok(())
}

/// Checks a `pread` through a handle of `mode` into `c`'s buffer at `pos`:
/// the read's length.
/// [`transfer`] for one buffer that is only written, inline: it runs on
/// every read.
#[inline]
pub(crate) fn read(pos: u64, c: &Completion, mode: Mode) -> Result<usize, CompletionError> {
    let buf = c.read_buffer().ok_or(NOT_A_READ)?;
    let len = buf.len();
    if i32::try_from(len).is_err() {
        return Err(TOO_LONG);
    }
    offset_plus(pos, len)?;
    if mode.direct {
        direct_alignment(pos, &[&**buf])?;
    }
    Ok(len)
}

/// Checks a write of `bufs`, back to back, at `pos` through a handle of
/// `mode`: the total length.
pub(crate) fn write(pos: u64, bufs: &[Arc<Buffer>], mode: Mode) -> Result<usize, CompletionError> {
    let refs: Vec<&Buffer> = bufs.iter().map(|b| &**b).collect();
    transfer(pos, &refs, mode, true)
}

/// Takes the device's holds for an operation on `c` that sends `writes`:
/// `c` itself (refused if already in flight; a read's buffer for filling),
/// then each of `writes` for draining. All or nothing.
pub(crate) fn hold(
    c: &Completion,
    writes: &[Arc<Buffer>],
) -> Result<(InFlight, Vec<DeviceHold>), CompletionError> {
    let held = c.begin_io()?;
    if writes.is_empty() {
        return Ok((held, Vec::new()));
    }
    // On an error `held` drops here, letting the completion go again.
    let holds = DeviceHold::drain_all(writes)?;
    Ok((held, holds))
}

/// The total length of `bufs`, checked: it must fit in a completion's `i32`
/// result, and the sum itself must not overflow.
pub(crate) fn total_len<'a>(lens: impl IntoIterator<Item = &'a Buffer>) -> Result<usize, CompletionError> {
    let mut total: usize = 0;
    for buf in lens {
        total = total.checked_add(buf.len()).ok_or(TOO_LONG)?;
    }
    if i32::try_from(total).is_err() {
        return Err(TOO_LONG);
    }
    Ok(total)
}

/// Checks a transfer of `bufs`, back to back, at `pos` through a handle of
/// `mode`; `write` says whether it writes. Returns the total length.
pub(crate) fn transfer(
    pos: u64,
    bufs: &[&Buffer],
    mode: Mode,
    write: bool,
) -> Result<usize, CompletionError> {
    if write && mode.read_only {
        return Err(READ_ONLY);
    }
    let total = total_len(bufs.iter().copied())?;
    offset_plus(pos, total)?;
    if mode.direct {
        direct_alignment(pos, bufs)?;
    }
    Ok(total)
}

/// Checks a truncate to `len` through a handle of `mode`.
pub(crate) fn truncate(len: u64, mode: Mode) -> Result<(), CompletionError> {
    if mode.read_only {
        return Err(READ_ONLY);
    }
    if len > MAX_OFFSET {
        return Err(PAST_MAX_OFFSET);
    }
    Ok(())
}

/// What `O_DIRECT` asks: the offset, and each buffer's address and length,
/// multiples of [`DIRECT_IO_ALIGN`]. Checked up front because the kernel's
/// `EINVAL` does not say which of them was wrong.
fn direct_alignment(pos: u64, bufs: &[&Buffer]) -> Result<(), CompletionError> {
    if !pos.is_multiple_of(DIRECT_IO_ALIGN as u64) {
        return Err(DIRECT_OFFSET);
    }
    for buf in bufs {
        if !buf.is_aligned_to(DIRECT_IO_ALIGN) {
            return Err(DIRECT_BUFFER);
        }
        if buf.len() % DIRECT_IO_ALIGN != 0 {
            return Err(DIRECT_LENGTH);
        }
    }
    Ok(())
}

/// `pos + done`, or an error where the sum leaves the range of file offsets.
pub(crate) fn offset_plus(pos: u64, done: usize) -> Result<u64, CompletionError> {
    u64::try_from(done)
        .ok()
        .and_then(|done| pos.checked_add(done))
        .filter(|&end| end <= MAX_OFFSET)
        .ok_or(PAST_MAX_OFFSET)
}

/// Checks that a change ending at `end` fits a simulated file.
pub(crate) fn simulated_end(end: u64) -> Result<usize, CompletionError> {
    if end > SIMULATED_MAX_FILE_BYTES {
        return Err(FILE_TOO_LARGE);
    }
    usize::try_from(end).map_err(|_| FILE_TOO_LARGE)
}

/// A byte count as a completion result; `total_len` made sure it fits.
pub(crate) fn byte_count(n: usize) -> Outcome {
    i32::try_from(n).map_err(|_| TOO_LONG)
}

/// Refuses an operation before it starts: finishes `c` with `err` as well,
/// so that a group or waiter holding a clone of `c` is not left pending
/// forever, and returns `err` for the caller's `?`. A completion that is in
/// flight already is left alone: its outcome belongs to the operation that
/// has it.
pub(crate) fn reject(c: Completion, err: CompletionError) -> Result<Completion, CompletionError> {
    // A group's completion is never an operation's: it finishes when its
    // children do, not because it was misused.
    if c.device_released() && !matches!(c.kind(), Some(Kind::Group(_))) {
        c.error(err);
    }
    Err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_ends_are_checked() {
        let a = Buffer::new(10);
        let b = Buffer::new(20);
        assert_eq!(total_len([&a, &b]), Ok(30));
        assert_eq!(offset_plus(u64::MAX, 0), Err(PAST_MAX_OFFSET));
        assert_eq!(offset_plus(MAX_OFFSET, 0), Ok(MAX_OFFSET));
        assert_eq!(offset_plus(MAX_OFFSET, 1), Err(PAST_MAX_OFFSET));
        assert_eq!(offset_plus(MAX_OFFSET - 10, 4096), Err(PAST_MAX_OFFSET));
        assert_eq!(offset_plus(0, usize::MAX), Err(PAST_MAX_OFFSET));
        let mode = Mode {
            read_only: false,
            direct: false,
        };
        assert_eq!(transfer(0, &[&a, &b], mode, true), Ok(30));
        let ro = Mode {
            read_only: true,
            ..mode
        };
        assert_eq!(transfer(0, &[&a], ro, true), Err(READ_ONLY));
        assert_eq!(transfer(0, &[&a], ro, false), Ok(10));
        assert_eq!(truncate(u64::MAX, mode), Err(PAST_MAX_OFFSET));
        assert_eq!(truncate(MAX_OFFSET, mode), Ok(()));
        assert_eq!(simulated_end(MAX_OFFSET), Err(FILE_TOO_LARGE));
    }
}
