//! Byte buffers that I/O operations read into and write from.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The alignment `O_DIRECT` asks of buffers, offsets and lengths on the
/// devices ratchet targets. 4096 covers both 512-byte and 4 KiB sectors, at
/// the cost of up to 4095 spare bytes per aligned buffer.
pub const DIRECT_IO_ALIGN: usize = 4096;

/// A fixed-size byte buffer shared between a machine and an I/O operation.
///
/// A read owns its buffer (`Completion::read(Arc<Buffer>)`) and a write takes
/// one; the backend keeps its own `Arc` for as long as the device may still
/// touch the bytes, so dropping every user handle never frees memory the
/// kernel is writing to.
///
/// The bytes sit behind a lock so that a shared `Arc<Buffer>` can be filled
/// without `unsafe`; the lock is uncontended in practice (the device and the
/// machine take turns), so it costs one atomic operation per access.
///
/// ```
/// use ratchet_runtime::Buffer;
/// let buf = Buffer::from_vec(b"page".to_vec());
/// buf.as_mut_slice()[0] = b'P';
/// assert_eq!(&*buf.as_slice(), b"Page");
/// ```
pub struct Buffer {
    /// Backing storage, never resized after construction so that its heap
    /// address stays stable for the whole life of the buffer: an in-flight
    /// io_uring operation holds that address.
    storage: RwLock<Vec<u8>>,
    /// Where the usable bytes start inside `storage`: non-zero only for
    /// aligned buffers, which over-allocate and skip to the first aligned byte.
    offset: usize,
    len: usize,
    align: usize,
}

impl Buffer {
    /// A zeroed buffer of `len` bytes.
    #[must_use]
    pub fn new(len: usize) -> Self {
        Self::from_vec(vec![0; len])
    }

    /// A buffer holding exactly the bytes of `data`.
    #[must_use]
    pub fn from_vec(data: Vec<u8>) -> Self {
        let len = data.len();
        Self {
            storage: RwLock::new(data),
            offset: 0,
            len,
            align: 1,
        }
    }

    /// A zeroed buffer of `len` bytes starting at a [`DIRECT_IO_ALIGN`]
    /// boundary, as `O_DIRECT` requires.
    #[must_use]
    pub fn new_aligned(len: usize) -> Self {
        Self::with_alignment(len, DIRECT_IO_ALIGN)
    }

    /// A zeroed buffer of `len` bytes whose first byte is aligned to `align`,
    /// which is rounded up to a power of two.
    #[must_use]
    pub fn with_alignment(len: usize, align: usize) -> Self {
        let align = align.max(1).next_power_of_two();
        let storage = vec![0u8; len + align - 1];
        // `align_offset` on a `u8` pointer always succeeds for a power of two.
        let offset = storage.as_ptr().align_offset(align);
        Self {
            storage: RwLock::new(storage),
            offset,
            len,
            align,
        }
    }

    /// Number of usable bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer holds no bytes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The alignment this buffer was created with (1 for unaligned buffers).
    #[must_use]
    pub fn alignment(&self) -> usize {
        self.align
    }

    /// Whether the first byte sits at a multiple of `align`.
    #[must_use]
    pub fn is_aligned_to(&self, align: usize) -> bool {
        let guard = self.storage.read().unwrap_or_else(|e| e.into_inner());
        guard[self.offset..].as_ptr().align_offset(align) == 0
    }

    /// Shared access to the bytes.
    pub fn as_slice(&self) -> BufferRef<'_> {
        BufferRef {
            guard: self.storage.read().unwrap_or_else(|e| e.into_inner()),
            range: self.offset..self.offset + self.len,
        }
    }

    /// Exclusive access to the bytes.
    pub fn as_mut_slice(&self) -> BufferMut<'_> {
        BufferMut {
            guard: self.storage.write().unwrap_or_else(|e| e.into_inner()),
            range: self.offset..self.offset + self.len,
        }
    }

    /// A copy of the bytes.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        self.as_slice().to_vec()
    }

    /// The address of the first usable byte, for a device that fills or
    /// drains the buffer after this call returns (io_uring). It stays valid
    /// for the life of the buffer because `storage` is never resized.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn as_mut_ptr(&self) -> *mut u8 {
        let mut guard = self.storage.write().unwrap_or_else(|e| e.into_inner());
        guard.as_mut_ptr().wrapping_add(self.offset)
    }
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer")
            .field("len", &self.len)
            .field("align", &self.align)
            .finish_non_exhaustive()
    }
}

/// Shared access to a [`Buffer`]'s bytes; derefs to `[u8]`.
pub struct BufferRef<'a> {
    guard: RwLockReadGuard<'a, Vec<u8>>,
    range: std::ops::Range<usize>,
}

impl Deref for BufferRef<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.guard[self.range.clone()]
    }
}

/// Exclusive access to a [`Buffer`]'s bytes; derefs to `[u8]`.
pub struct BufferMut<'a> {
    guard: RwLockWriteGuard<'a, Vec<u8>>,
    range: std::ops::Range<usize>,
}

impl Deref for BufferMut<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.guard[self.range.clone()]
    }
}

impl DerefMut for BufferMut<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.guard[self.range.clone()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_buffers_start_on_the_boundary() {
        for len in [0, 1, 4096, 8192 + 17] {
            let b = Buffer::new_aligned(len);
            assert!(b.is_aligned_to(DIRECT_IO_ALIGN));
            assert_eq!(b.len(), len);
            assert!(b.as_slice().iter().all(|&x| x == 0));
        }
    }

    #[test]
    fn writes_are_visible_through_shared_handles() {
        let b = std::sync::Arc::new(Buffer::new(8));
        let other = b.clone();
        other.as_mut_slice().copy_from_slice(b"abcdefgh");
        assert_eq!(b.to_vec(), b"abcdefgh");
    }
}
