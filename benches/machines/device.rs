//! The "device" every way of writing a machine talks to: a tiny in-memory
//! page store whose operations finish at once, or stay pending until the
//! driver calls [`Device::complete_all`].
//!
//! An operation does its work (the copy) when it is submitted and only its
//! completion is deferred, so the four ways of writing a machine do the same
//! work and differ only in the machinery around each suspension point.

use std::cell::{Cell, RefCell};

use ratchet::completion::Outcome;
use ratchet::{Completion, CompletionError};

/// Bytes per page: small, so copying one costs little next to the machinery.
pub const PAGE_SIZE: usize = 64;

/// One page.
pub type Page = [u8; PAGE_SIZE];

/// Pages of the store; every machine works on its own range of them.
pub const PAGE_COUNT: u32 = 64;

/// How [`PAGE_SIZE`] is reported as a byte count.
const PAGE_BYTES: i32 = PAGE_SIZE as i32;

/// The in-memory page store.
#[derive(Debug)]
pub struct Device {
    pages: RefCell<Vec<Page>>,
    /// When set, every operation returns a pending completion that
    /// [`Device::complete_all`] finishes: each suspension point is taken once.
    pending_once: Cell<bool>,
    /// Pending completions with the outcome each will finish with.
    in_flight: RefCell<Vec<(Completion, Outcome)>>,
    /// Page whose reads and writes fail, to walk the error paths.
    failing_page: Cell<Option<u32>>,
    /// Head of the free-page list that `free_page` pushes onto.
    freelist_head: Cell<u32>,
}

impl Device {
    /// A store of [`PAGE_COUNT`] zeroed pages whose operations finish at once.
    #[must_use]
    pub fn new() -> Self {
        Device {
            pages: RefCell::new(vec![[0; PAGE_SIZE]; PAGE_COUNT as usize]),
            pending_once: Cell::new(false),
            in_flight: RefCell::new(Vec::new()),
            failing_page: Cell::new(None),
            freelist_head: Cell::new(0),
        }
    }

    /// Makes every later operation pending until [`Device::complete_all`].
    pub fn set_pending_once(&self, on: bool) {
        self.pending_once.set(on);
    }

    /// Makes reads and writes of `page` fail (or none, with `None`).
    #[allow(dead_code)] // Only the agreement test walks the error paths.
    pub fn set_failing_page(&self, page: Option<u32>) {
        self.failing_page.set(page);
    }

    /// Copies page `no` into `buf` and returns the read's completion.
    ///
    /// Never inlined, like a real submission: every way of writing a machine
    /// pays the same call, and the optimizer's inlining choices in one way
    /// cannot skew the comparison.
    #[inline(never)]
    pub fn read(&self, no: u32, buf: &mut Page) -> Completion {
        if self.failing_page.get() == Some(no) {
            return self.submit(Err(CompletionError::Io(std::io::ErrorKind::Other)));
        }
        *buf = self.pages.borrow()[no as usize];
        self.submit(Ok(PAGE_BYTES))
    }

    /// Copies `data` into page `no` and returns the write's completion.
    /// Never inlined, as [`Device::read`].
    #[inline(never)]
    pub fn write(&self, no: u32, data: &Page) -> Completion {
        if self.failing_page.get() == Some(no) {
            return self.submit(Err(CompletionError::Io(std::io::ErrorKind::Other)));
        }
        self.pages.borrow_mut()[no as usize] = *data;
        self.submit(Ok(PAGE_BYTES))
    }

    fn submit(&self, outcome: Outcome) -> Completion {
        if self.pending_once.get() {
            let c = Completion::pending();
            self.in_flight.borrow_mut().push((c.clone(), outcome));
            return c;
        }
        match outcome {
            Ok(_) => Completion::ready(),
            Err(err) => {
                let c = Completion::pending();
                c.error(err);
                c
            }
        }
    }

    /// Finishes every pending completion; returns how many there were.
    pub fn complete_all(&self) -> usize {
        let done = std::mem::take(&mut *self.in_flight.borrow_mut());
        let n = done.len();
        for (c, outcome) in done {
            match outcome {
                Ok(bytes) => c.complete(bytes),
                Err(err) => c.error(err),
            }
        }
        n
    }

    /// The head of the free-page list.
    #[must_use]
    pub fn freelist_head(&self) -> u32 {
        self.freelist_head.get()
    }

    /// Sets the head of the free-page list.
    pub fn set_freelist_head(&self, no: u32) {
        self.freelist_head.set(no);
    }

    /// Writes `page` directly, bypassing completions (set-up only).
    pub fn put_page(&self, no: u32, page: Page) {
        self.pages.borrow_mut()[no as usize] = page;
    }

    /// A copy of page `no` (checks only).
    #[must_use]
    #[allow(dead_code)] // Only the agreement test compares pages.
    pub fn page(&self, no: u32) -> Page {
        self.pages.borrow()[no as usize]
    }
}

impl Default for Device {
    fn default() -> Self {
        Device::new()
    }
}

/// The `u32` stored little-endian at byte `at` of `page`.
#[must_use]
#[inline]
pub fn get_u32(page: &Page, at: usize) -> u32 {
    let mut bytes = [0; 4];
    bytes.copy_from_slice(&page[at..at + 4]);
    u32::from_le_bytes(bytes)
}

/// Stores `v` little-endian at byte `at` of `page`.
#[inline]
pub fn put_u32(page: &mut Page, at: usize, v: u32) {
    page[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// The value of a finished completion as a suspension point sees it.
#[inline]
pub fn outcome(c: &Completion) -> Result<(), CompletionError> {
    match c.result() {
        Some(Ok(_)) => Ok(()),
        Some(Err(err)) => Err(err),
        None => Err(CompletionError::Stalled),
    }
}

// ---- The layout the machines work on, and their inputs. ----

/// Byte offset of the field the linear machine sums.
pub const FIELD_AT: usize = 8;
/// The three pages the linear machine reads.
pub const LINEAR_PAGES: [u32; 3] = [1, 2, 3];

/// First page of the chain the chain walk follows.
pub const CHAIN_START: u32 = 10;
/// Pages in the chain.
pub const CHAIN_LEN: u32 = 8;
/// (key, value) cells per chain page, after the 4-byte next pointer.
pub const CELLS: usize = 7;
/// The key the benchmark looks up: in the last cell of the last page, so
/// the walk reads every page and breaks out of the scan at the very end.
pub const CHAIN_KEY: u32 = (CHAIN_START + CHAIN_LEN - 1) * 100 + CELLS as u32 - 1;

/// First page the free-pages machine frees.
pub const FREE_FIRST: u32 = 20;
/// Pages it frees.
pub const FREE_COUNT: u32 = 8;
/// Byte offset of the page field `free_page` returns and clears.
pub const USED_AT: usize = 4;

/// First page the batch writer writes.
pub const BATCH_FIRST: u32 = 32;
/// Batches, each waited on as one group.
pub const BATCHES: u32 = 4;
/// Writes per batch.
pub const PER_BATCH: u32 = 4;

/// The cell key at `cell` of chain page `no`.
#[must_use]
pub fn chain_key(no: u32, cell: usize) -> u32 {
    no * 100 + cell as u32
}

/// Fills a device with the pages every machine expects.
#[must_use]
pub fn standard_device() -> Device {
    let dev = Device::new();
    for no in LINEAR_PAGES {
        let mut page = [0; PAGE_SIZE];
        put_u32(&mut page, FIELD_AT, no * 3 + 1);
        dev.put_page(no, page);
    }
    for no in CHAIN_START..CHAIN_START + CHAIN_LEN {
        let mut page = [0; PAGE_SIZE];
        let next = if no + 1 < CHAIN_START + CHAIN_LEN {
            no + 1
        } else {
            0
        };
        put_u32(&mut page, 0, next);
        for cell in 0..CELLS {
            put_u32(&mut page, 4 + 8 * cell, chain_key(no, cell));
            put_u32(&mut page, 8 + 8 * cell, chain_key(no, cell) * 7);
        }
        dev.put_page(no, page);
    }
    for no in FREE_FIRST..FREE_FIRST + FREE_COUNT {
        let mut page = [0; PAGE_SIZE];
        put_u32(&mut page, USED_AT, no * 5);
        dev.put_page(no, page);
    }
    dev
}
