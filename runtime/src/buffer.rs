//! Byte buffers that I/O operations read into and write from, and the rule
//! that keeps a device's access and a user's access to them apart.
//!
//! # Ownership of a buffer in flight
//!
//! A [`Buffer`] is shared (`Arc<Buffer>`) between the user and the operations
//! given it, so the rule is enforced at run time, per buffer:
//!
//! | the buffer is... | `as_slice` (shared view) | `as_mut_slice` (mutable view) | a read into it | a write of it |
//! |---|---|---|---|---|
//! | idle | yes | yes | yes | yes |
//! | viewed (`as_slice`) | yes | refused | refused | yes |
//! | viewed mutably | refused | refused | refused | refused |
//! | read into (a read in flight: the device writes it) | refused | refused | refused | refused |
//! | written (writes in flight: the device only reads it) | yes | refused | refused | yes |
//!
//! "Refused" never blocks: [`Buffer::try_as_slice`] and
//! [`Buffer::try_as_mut_slice`] return [`CompletionError::Busy`],
//! [`Buffer::as_slice`] and [`Buffer::as_mut_slice`] panic with the same
//! message, and an operation is refused at the call that would start it
//! (the call returns `Err(Busy(..))` and its completion finishes with it). A
//! read is in flight from the call that starts it until its completion has
//! its outcome (the device has let go by then: see
//! [`crate::Completion::device_released`]).
//!
//! # Why the kernel's access and a user's access can never overlap
//!
//! This is the soundness argument for the only place where memory is
//! touched outside Rust's borrow rules: io_uring hands the kernel a raw
//! address of the bytes, and the kernel reads or writes them while Rust code
//! runs. No `unsafe` code is needed here; the argument is what makes the
//! io_uring module's `unsafe` push of that address sound.
//!
//! 1. **The bytes never move or die while an operation holds them.** They
//!    live in a `Box<[u8]>` allocated once, in [`Buffer::with_alignment`],
//!    and never reallocated (nothing hands out the box itself, only slices of
//!    it). Every device hold owns an `Arc<Buffer>` (a write's `DeviceHold`
//!    directly, a read's through the [`crate::Completion`] that owns its
//!    buffer, kept by the operation's `InFlight` guard), so the allocation
//!    outlives the hold. io_uring keeps each hold in the slot of
//!    its operation until the operation's final CQE has been reaped, or leaks
//!    the slot when it cannot learn that (see `UringIO`'s `Drop`).
//! 2. **Every access from Rust goes through an `AtomicRefCell` borrow**, so
//!    Rust code can never create a `&mut [u8]` that aliases another reference
//!    to the bytes: the cell refuses (it is checked on every borrow, in
//!    release builds too).
//! 3. **One word decides who may touch the bytes** (`Buffer::state`): the
//!    count of users' shared views, a user's mutable view, the count of
//!    device holds that read the bytes (writes in flight) and the one device
//!    hold that writes them (a read in flight). Each acquisition is one
//!    compare-and-swap that checks the table above against the whole word,
//!    so there is no moment between a check and the acquisition at which a
//!    conflicting holder can slip in.
//! 4. **A user's borrow of the cell exists only while its view holds the
//!    word.** A view acquires the word first and borrows the cell second; it
//!    drops the borrow first and releases the word second (field order in
//!    [`BufferRef`] and [`BufferMut`]). So while a device holds the buffer for
//!    writing, no Rust reference to the bytes exists at all, and while devices
//!    hold it for reading, only shared references exist.
//! 5. **The kernel gets the address only under the hold.** The address
//!    is taken once, when the buffer is made, from the owning `Box` (a
//!    mutable pointer whose provenance is exposed, so the compiler must
//!    assume that an opaque system call may write through it); it is handed
//!    to the kernel only by an operation that holds the buffer: for writing
//!    (a read) exclusively, for reading (a write) shared. The kernel then
//!    writes only while the exclusive hold lasts, when by 4 no Rust
//!    reference to the bytes exists, and reads only while the shared holds
//!    last, when by 3 no mutable view can be created.
//! 6. **Happens-before.** A hold is released (with `Release` ordering) only
//!    after the thread that reaped the CQE has seen it (the io-uring crate
//!    reads the CQ tail with `Acquire`), and a view acquires the word with
//!    `Acquire`; so a view made after a read sees every byte the kernel wrote.
//!
//! The simulated and inline backends (`BlockingIO`, `MemoryIO`, `SimIO`,
//! `DeferredIO`) touch the bytes only through the cell while they hold the
//! buffer, so for them 2 alone rules out a data race, and 3 and 4 give the
//! same observable rule as io_uring.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use atomic_refcell::{AtomicRef, AtomicRefCell, AtomicRefMut};

use crate::completion::CompletionError;

/// The alignment `O_DIRECT` asks of buffers, offsets and lengths on the
/// devices ratchet targets. 4096 covers both 512-byte and 4 KiB sectors, at
/// the cost of up to 4095 spare bytes per aligned buffer.
pub const DIRECT_IO_ALIGN: usize = 4096;

// The bits of `Buffer::state`.
/// One user's shared view; the low 30 bits count them.
const VIEW: u64 = 1;
const VIEW_MASK: u64 = (1 << 30) - 1;
/// A user's mutable view.
const VIEW_MUT: u64 = 1 << 30;
/// One device hold that reads the bytes (a write in flight); bits 32..62
/// count them.
const DRAIN: u64 = 1 << 32;
const DRAIN_MASK: u64 = ((1 << 30) - 1) << 32;
/// The device hold that writes the bytes (a read in flight).
const FILL: u64 = 1 << 62;

/// Why a view or a hold was refused, from the bits in the way.
fn busy(state: u64, wanted: &str) -> CompletionError {
    let why = if state & FILL != 0 {
        match wanted {
            "view" => {
                "a read into this buffer is in flight: wait for its completion before looking at the bytes"
            }
            "write" => {
                "a read into this buffer is in flight: a write of it would send bytes that are still arriving"
            }
            _ => "a read into this buffer is already in flight",
        }
    } else if state & VIEW_MUT != 0 {
        match wanted {
            "view" => "the buffer is borrowed mutably (as_mut_slice): drop that view first",
            _ => {
                "the buffer is borrowed mutably (as_mut_slice): drop that view before giving it to an operation"
            }
        }
    } else if state & DRAIN_MASK != 0 && wanted != "read" {
        "a write of this buffer is in flight: the device is reading it, so it cannot change until the write's completion has finished"
    } else if state & DRAIN_MASK != 0 {
        "a write of this buffer is in flight: a read into it would change bytes the device is sending"
    } else if state & VIEW_MASK != 0 && wanted == "read" {
        "the buffer has a live view (as_slice): drop it before reading into the buffer"
    } else if state & VIEW_MASK != 0 {
        "the buffer has a live view (as_slice): drop it before borrowing it mutably"
    } else {
        "too many views or holds of one buffer at once"
    };
    CompletionError::Busy(why)
}

/// A fixed-size byte buffer shared between a machine and I/O operations.
///
/// A read owns its buffer (`Completion::read(Arc<Buffer>)`) and a write takes
/// one; the backend keeps its own `Arc` for as long as the device may still
/// touch the bytes, so dropping every user handle never frees memory the
/// kernel is writing to. What a user may do with a buffer while an operation
/// has it is in the crate documentation ("Buffers in flight"): in short,
/// nothing while a read is in flight, and only look while a write is.
///
/// ```
/// # extern crate ratchet_runtime as ratchet;
/// use ratchet::Buffer;
/// let buf = Buffer::from_vec(b"page".to_vec());
/// buf.as_mut_slice()[0] = b'P';
/// assert_eq!(&*buf.as_slice(), b"Page");
/// let view = buf.as_slice();
/// assert!(buf.try_as_mut_slice().is_err()); // refused, never blocks
/// drop(view);
/// ```
pub struct Buffer {
    /// The allocation, never resized after construction so that its address
    /// stays stable for the whole life of the buffer (soundness point 1).
    bytes: AtomicRefCell<Box<[u8]>>,
    /// Who holds the bytes: see the bit constants and soundness point 3.
    state: AtomicU64,
    /// Where the usable bytes start inside `bytes`: non-zero only for
    /// aligned buffers, which over-allocate and skip to the first aligned byte.
    offset: usize,
    len: usize,
    align: usize,
    /// The address of the first usable byte, for alignment checks that need
    /// no borrow and for the kernel (soundness point 5); its provenance is
    /// exposed.
    addr: usize,
}

impl Buffer {
    /// A zeroed buffer of `len` bytes.
    ///
    /// # Panics
    ///
    /// If `len` exceeds `isize::MAX`, as `Vec` does.
    #[must_use]
    pub fn new(len: usize) -> Self {
        Self::with_alignment(len, 1)
    }

    /// A buffer holding exactly the bytes of `data`.
    #[must_use]
    pub fn from_vec(data: Vec<u8>) -> Self {
        let len = data.len();
        Self::from_box(data.into_boxed_slice(), 0, len, 1)
    }

    /// Wraps an allocation whose usable bytes are `offset..offset + len`.
    fn from_box(mut bytes: Box<[u8]>, offset: usize, len: usize, align: usize) -> Self {
        let addr = bytes.as_mut_ptr().expose_provenance().wrapping_add(offset);
        Self {
            bytes: AtomicRefCell::new(bytes),
            state: AtomicU64::new(0),
            offset,
            len,
            align,
            addr,
        }
    }

    /// A zeroed buffer of `len` bytes starting at a [`DIRECT_IO_ALIGN`]
    /// boundary, as `O_DIRECT` requires.
    ///
    /// # Panics
    ///
    /// As [`Buffer::with_alignment`].
    #[must_use]
    pub fn new_aligned(len: usize) -> Self {
        Self::with_alignment(len, DIRECT_IO_ALIGN)
    }

    /// A zeroed buffer of `len` bytes whose first byte is aligned to `align`,
    /// which is rounded up to a power of two.
    ///
    /// # Panics
    ///
    /// If `len` plus the padding the alignment needs exceeds `isize::MAX`
    /// (no allocation can be that large): use [`Buffer::try_with_alignment`]
    /// to get an error instead.
    #[must_use]
    pub fn with_alignment(len: usize, align: usize) -> Self {
        match Self::try_with_alignment(len, align) {
            Ok(buf) => buf,
            Err(err) => panic!("Buffer::with_alignment({len}, {align}): {err}"),
        }
    }

    /// [`Buffer::with_alignment`], or
    /// [`CompletionError::InvalidArgument`] when no allocation can hold
    /// `len` bytes at that alignment.
    pub fn try_with_alignment(len: usize, align: usize) -> Result<Self, CompletionError> {
        const TOO_LARGE: CompletionError = CompletionError::InvalidArgument(
            "buffer length plus alignment padding exceeds isize::MAX, the largest allocation possible",
        );
        let align = align
            .max(1)
            .checked_next_power_of_two()
            .ok_or(CompletionError::InvalidArgument(
                "alignment too large: no power of two in usize is at least that",
            ))?;
        let total = len
            .checked_add(align - 1)
            .filter(|&t| isize::try_from(t).is_ok())
            .ok_or(TOO_LARGE)?;
        let bytes = zeroed(total)?;
        // `align_offset` on a `u8` pointer always succeeds for a power of
        // two, and is below `align`, so `offset + len <= total`.
        let offset = bytes.as_ptr().align_offset(align);
        Ok(Self::from_box(bytes, offset, len, align))
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

    /// Whether the first byte sits at a multiple of `align` (a power of two).
    #[must_use]
    pub fn is_aligned_to(&self, align: usize) -> bool {
        align != 0 && self.addr.is_multiple_of(align)
    }

    /// Shared access to the bytes.
    ///
    /// # Panics
    ///
    /// While a read into the buffer is in flight, or a mutable view of it
    /// exists: the message says which. [`Buffer::try_as_slice`] returns the
    /// error instead.
    #[track_caller]
    pub fn as_slice(&self) -> BufferRef<'_> {
        match self.try_as_slice() {
            Ok(view) => view,
            Err(err) => panic!("Buffer::as_slice: {err} (try_as_slice returns this as an error)"),
        }
    }

    /// Shared access to the bytes, or [`CompletionError::Busy`] while a read
    /// into the buffer is in flight or a mutable view of it exists. Never
    /// blocks.
    pub fn try_as_slice(&self) -> Result<BufferRef<'_>, CompletionError> {
        let gate = self.acquire(
            |s| s & (FILL | VIEW_MUT) == 0 && s & VIEW_MASK != VIEW_MASK,
            VIEW,
            "view",
        )?;
        let range = self.range();
        let bytes = AtomicRef::map(self.cell_ref(), |b| &b[range]);
        Ok(BufferRef { bytes, _gate: gate })
    }

    /// Exclusive access to the bytes.
    ///
    /// # Panics
    ///
    /// While any operation holds the buffer or any other view of it exists:
    /// the message says which. [`Buffer::try_as_mut_slice`] returns the
    /// error instead.
    #[track_caller]
    pub fn as_mut_slice(&self) -> BufferMut<'_> {
        match self.try_as_mut_slice() {
            Ok(view) => view,
            Err(err) => panic!("Buffer::as_mut_slice: {err} (try_as_mut_slice returns this as an error)"),
        }
    }

    /// Exclusive access to the bytes, or [`CompletionError::Busy`] while any
    /// operation holds the buffer or any other view of it exists. Never
    /// blocks.
    pub fn try_as_mut_slice(&self) -> Result<BufferMut<'_>, CompletionError> {
        let gate = self.acquire(|s| s == 0, VIEW_MUT, "view")?;
        let range = self.range();
        let bytes = AtomicRefMut::map(self.cell_mut(), |b| &mut b[range]);
        Ok(BufferMut { bytes, _gate: gate })
    }

    /// A copy of the bytes.
    ///
    /// # Panics
    ///
    /// As [`Buffer::as_slice`].
    #[must_use]
    #[track_caller]
    pub fn to_vec(&self) -> Vec<u8> {
        self.as_slice().to_vec()
    }

    fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len
    }

    /// Takes the device's exclusive hold for a read into the buffer, with no
    /// guard object: the read's `InFlight` releases it
    /// ([`Buffer::release_fill`]) and keeps the buffer alive meanwhile.
    pub(crate) fn take_fill(&self) -> Result<(), CompletionError> {
        let gate = self.acquire(|s| s == 0, FILL, "read")?;
        std::mem::forget(gate);
        Ok(())
    }

    /// Lets go of a hold taken by [`Buffer::take_fill`].
    pub(crate) fn release_fill(&self) {
        self.state.fetch_sub(FILL, Ordering::Release);
    }

    /// The bytes, for the device holding the buffer by
    /// [`Buffer::take_fill`]; `None` while the device has them borrowed
    /// already (the cell refuses every aliasing borrow).
    ///
    /// The view also takes the mutable-view bit of the state word, so that
    /// one leaked with `mem::forget` (its cell borrow never ends) leaves the
    /// buffer refused as busy once the hold is gone, as a leaked
    /// `as_mut_slice` view does, instead of letting a later view find the
    /// cell borrowed.
    pub(crate) fn filled_bytes(&self) -> Option<BufferMut<'_>> {
        let gate = self
            .acquire(|s| s & (FILL | VIEW_MUT) == FILL, VIEW_MUT, "view")
            .ok()?;
        let range = self.range();
        let bytes = self.bytes.try_borrow_mut().ok()?;
        Some(BufferMut {
            bytes: AtomicRefMut::map(bytes, |b| &mut b[range]),
            _gate: gate,
        })
    }

    /// [`Buffer::take_fill`] and [`Buffer::filled_bytes`] in one: for a
    /// read that ends inside the call that starts it (an inline backend's),
    /// which needs the hold only as long as it has the bytes. Both bits are
    /// taken in one compare-and-swap and let go in one subtraction when the
    /// view drops (after its cell borrow, soundness point 4), refusing as
    /// `take_fill` does.
    #[cfg_attr(loom, allow(dead_code))] // loom's build reads through the shared path
    #[inline]
    pub(crate) fn fill_now(&self) -> Result<BufferMut<'_>, CompletionError> {
        let gate = self.acquire(|s| s == 0, FILL | VIEW_MUT, "read")?;
        let range = self.range();
        // With the word at 0 before the swap no view or hold exists, so by
        // soundness point 4 the cell is free; `cell_mut` reports a bug else.
        let bytes = AtomicRefMut::map(self.cell_mut(), |b| &mut b[range]);
        Ok(BufferMut { bytes, _gate: gate })
    }

    /// The exposed address of the first usable byte, for a device that
    /// holds the buffer and hands the address to the kernel (soundness
    /// point 5).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn device_addr(&self) -> usize {
        self.addr
    }

    /// Takes `bits` in the state word if `allowed` says the current word
    /// permits it. Never waits.
    fn acquire(
        &self,
        allowed: impl Fn(u64) -> bool,
        bits: u64,
        wanted: &str,
    ) -> Result<Gate<'_>, CompletionError> {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            if !allowed(s) {
                return Err(busy(s, wanted));
            }
            match self
                .state
                .compare_exchange_weak(s, s + bits, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) => return Ok(Gate { buf: self, bits }),
                Err(actual) => s = actual,
            }
        }
    }

    /// The cell, borrowed shared. By soundness point 4 this cannot fail while
    /// the caller holds a gate that rules out a mutable borrow; a failure
    /// would be a bug in this module, reported as such.
    fn cell_ref(&self) -> AtomicRef<'_, Box<[u8]>> {
        self.bytes.try_borrow().unwrap_or_else(|_| {
            unreachable!("ratchet bug: a buffer's bytes were borrowed mutably against its state word")
        })
    }

    fn cell_mut(&self) -> AtomicRefMut<'_, Box<[u8]>> {
        self.bytes.try_borrow_mut().unwrap_or_else(|_| {
            unreachable!("ratchet bug: a buffer's bytes were borrowed against its state word")
        })
    }

    /// Whether nothing holds or views the buffer (for tests and assertions).
    #[cfg(test)]
    fn idle(&self) -> bool {
        self.state.load(Ordering::Acquire) == 0
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

/// `total` zeroed bytes, or an error where the allocator has none to give:
/// `vec![0; n]` would abort the process there (`handle_alloc_error`), and
/// `try_with_alignment` promises an error.
fn zeroed(total: usize) -> Result<Box<[u8]>, CompletionError> {
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(total)
        .map_err(|_| CompletionError::InvalidArgument("the allocator has no room for a buffer this large"))?;
    bytes.resize(total, 0);
    Ok(bytes.into_boxed_slice())
}

/// Bits of a buffer's state word, released on drop.
struct Gate<'a> {
    buf: &'a Buffer,
    bits: u64,
}

impl Drop for Gate<'_> {
    fn drop(&mut self) {
        self.buf.state.fetch_sub(self.bits, Ordering::Release);
    }
}

/// Shared access to a [`Buffer`]'s bytes; derefs to `[u8]`.
pub struct BufferRef<'a> {
    // Field order matters: the borrow is dropped before the gate is
    // released (soundness point 4).
    bytes: AtomicRef<'a, [u8]>,
    _gate: Gate<'a>,
}

impl Deref for BufferRef<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for BufferRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BufferRef").field(&&*self.bytes).finish()
    }
}

/// Exclusive access to a [`Buffer`]'s bytes; derefs to `[u8]`.
pub struct BufferMut<'a> {
    // Dropped before the gate: soundness point 4.
    bytes: AtomicRefMut<'a, [u8]>,
    /// The mutable-view bit, for a user or a device view alike (with the
    /// fill hold as well for [`Buffer::fill_now`]'s).
    _gate: Gate<'a>,
}

impl Deref for BufferMut<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl DerefMut for BufferMut<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
}

impl fmt::Debug for BufferMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BufferMut").field(&&*self.bytes).finish()
    }
}

/// What a device does with a buffer it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Writes the bytes: a read in flight. Exclusive. Reads take this hold
    /// through `Buffer::take_fill` (their completion owns the buffer), so
    /// only the tests of the table above make it as a `DeviceHold`.
    #[cfg_attr(not(test), allow(dead_code))]
    Fill,
    /// Reads the bytes: a write in flight. Shared with views and other
    /// writes.
    Drain,
}

/// A device's hold on a buffer for the life of one operation: while it
/// lives, users' views that would conflict with `access` are refused. Owns an
/// `Arc` of the buffer, so the bytes outlive it (soundness point 1).
pub(crate) struct DeviceHold {
    buf: Arc<Buffer>,
    access: Access,
}

impl DeviceHold {
    /// Takes the buffer for `access`, or says why it cannot be taken now.
    pub(crate) fn new(buf: &Arc<Buffer>, access: Access) -> Result<DeviceHold, CompletionError> {
        let gate = match access {
            Access::Fill => buf.acquire(|s| s == 0, FILL, "read")?,
            Access::Drain => buf.acquire(
                |s| s & (FILL | VIEW_MUT) == 0 && s & DRAIN_MASK != DRAIN_MASK,
                DRAIN,
                "write",
            )?,
        };
        // Released by `DeviceHold`'s own drop, which outlives the borrow of
        // `buf` that `gate` has.
        std::mem::forget(gate);
        Ok(DeviceHold {
            buf: buf.clone(),
            access,
        })
    }

    /// Holds each of `bufs` for draining (a write of all of them); all or
    /// none.
    pub(crate) fn drain_all(bufs: &[Arc<Buffer>]) -> Result<Vec<DeviceHold>, CompletionError> {
        bufs.iter().map(|b| DeviceHold::new(b, Access::Drain)).collect()
    }

    pub(crate) fn buffer(&self) -> &Arc<Buffer> {
        &self.buf
    }

    /// The bytes, for a device that reads them (either access).
    pub(crate) fn bytes(&self) -> AtomicRef<'_, [u8]> {
        let range = self.buf.range();
        AtomicRef::map(self.buf.cell_ref(), |b| &b[range])
    }

    /// The bytes, for a device that writes them; `None` for a drain hold,
    /// which may not, and while the device has them borrowed already (a
    /// custom backend calling `InFlight::read_buffer_mut` twice: refused, as
    /// the cell refuses every aliasing borrow).
    ///
    /// The view also takes the mutable-view bit of the state word, as
    /// [`Buffer::filled_bytes`] does.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn bytes_mut(&self) -> Option<BufferMut<'_>> {
        if self.access != Access::Fill {
            return None;
        }
        self.buf.filled_bytes()
    }

    /// The exposed address of the first usable byte, for a device that
    /// hands it to the kernel while this hold lasts (io_uring; soundness
    /// point 5).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn addr(&self) -> usize {
        self.buf.addr
    }
}

impl Drop for DeviceHold {
    fn drop(&mut self) {
        let bits = match self.access {
            Access::Fill => FILL,
            Access::Drain => DRAIN,
        };
        self.buf.state.fetch_sub(bits, Ordering::Release);
    }
}

impl fmt::Debug for DeviceHold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceHold")
            .field("len", &self.buf.len)
            .field("access", &self.access)
            .finish()
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
            let start = b.as_slice().as_ptr().addr();
            assert_eq!(start % DIRECT_IO_ALIGN, 0, "the view starts where the checks say");
        }
    }

    #[test]
    fn writes_are_visible_through_shared_handles() {
        let b = Arc::new(Buffer::new(8));
        let other = b.clone();
        other.as_mut_slice().copy_from_slice(b"abcdefgh");
        assert_eq!(b.to_vec(), b"abcdefgh");
    }

    #[test]
    fn views_and_holds_follow_the_table() {
        let b = Arc::new(Buffer::new(4));
        {
            let v = b.as_slice();
            assert!(b.try_as_slice().is_ok(), "shared views coexist");
            assert!(b.try_as_mut_slice().is_err());
            assert!(DeviceHold::new(&b, Access::Fill).is_err());
            let w = DeviceHold::new(&b, Access::Drain).expect("a write of a viewed buffer");
            assert_eq!(&*w.bytes(), &*v);
        }
        assert!(b.idle());
        {
            let r = DeviceHold::new(&b, Access::Fill).unwrap();
            assert!(matches!(b.try_as_slice(), Err(CompletionError::Busy(_))));
            assert!(b.try_as_mut_slice().is_err());
            assert!(DeviceHold::new(&b, Access::Fill).is_err());
            assert!(DeviceHold::new(&b, Access::Drain).is_err());
            r.bytes_mut().unwrap().copy_from_slice(b"read");
        }
        assert_eq!(b.to_vec(), b"read");
        {
            let w1 = DeviceHold::new(&b, Access::Drain).unwrap();
            let w2 = DeviceHold::new(&b, Access::Drain).unwrap();
            assert!(w1.bytes_mut().is_none());
            assert!(b.try_as_mut_slice().is_err());
            assert!(b.try_as_slice().is_ok());
            drop(w1);
            assert!(b.try_as_mut_slice().is_err(), "one write still in flight");
            drop(w2);
        }
        {
            let m = b.as_mut_slice();
            assert!(DeviceHold::new(&b, Access::Drain).is_err());
            assert!(b.try_as_slice().is_err());
            drop(m);
        }
        assert!(b.idle());
    }

    #[test]
    fn refusals_say_why() {
        let b = Arc::new(Buffer::new(4));
        let r = DeviceHold::new(&b, Access::Fill).unwrap();
        let Err(CompletionError::Busy(why)) = b.try_as_slice() else {
            panic!("a view of a buffer being read into must be refused")
        };
        assert!(why.contains("read into this buffer is in flight"), "{why}");
        drop(r);
        let v = b.as_slice();
        let Err(CompletionError::Busy(why)) = DeviceHold::new(&b, Access::Fill) else {
            panic!("a read into a viewed buffer must be refused")
        };
        assert!(why.contains("live view"), "{why}");
        drop(v);
    }

    #[test]
    fn impossible_sizes_are_refused() {
        assert!(Buffer::try_with_alignment(usize::MAX, 1).is_err());
        assert!(Buffer::try_with_alignment(100usize.wrapping_sub(4095), 4096).is_err());
        assert!(Buffer::try_with_alignment(1, usize::MAX).is_err());
        assert!(Buffer::try_with_alignment((isize::MAX as usize) - 10, 4096).is_err());
        let b = Buffer::try_with_alignment(100, 64).unwrap();
        assert_eq!(b.len(), 100);
        assert!(b.is_aligned_to(64));
    }
}
