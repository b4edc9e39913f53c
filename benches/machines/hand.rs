//! The four machines written by hand in the Turso style: a state enum per
//! machine and a `loop { match }` over it, `io_yield_one!` to suspend and
//! `return_if_io!` to call another machine. Each public function resets its
//! state on error, as the generated machines do.

use ratchet::{Completion, CompletionError, CompletionGroup, IOResult, io_yield_one, return_if_io};

use super::device::{CELLS, Device, FIELD_AT, PAGE_SIZE, Page, USED_AT, get_u32, outcome, put_u32};

// machine: linear
/// Where [`linear`] stands.
#[derive(Debug, Default)]
pub enum LinearState {
    /// Not started.
    #[default]
    Start,
    /// Reading the first page.
    ReadA { a: Page, io: Completion },
    /// Reading the second page.
    ReadB { a: Page, b: Page, io: Completion },
    /// Reading the third page.
    ReadC {
        a: Page,
        b: Page,
        c: Page,
        io: Completion,
    },
}

/// Reads three pages, then sums a field of each.
pub fn linear(st: &mut LinearState, dev: &Device, pages: [u32; 3]) -> Result<IOResult<u64>, CompletionError> {
    let r = linear_step(st, dev, pages);
    if r.is_err() {
        *st = LinearState::Start;
    }
    r
}

fn linear_step(
    st: &mut LinearState,
    dev: &Device,
    pages: [u32; 3],
) -> Result<IOResult<u64>, CompletionError> {
    loop {
        match st {
            LinearState::Start => {
                let mut a = [0; PAGE_SIZE];
                let io = dev.read(pages[0], &mut a);
                *st = LinearState::ReadA { a, io };
            }
            LinearState::ReadA { a, io } => {
                if !io.finished() {
                    io_yield_one!(io.clone());
                }
                outcome(io)?;
                let a = *a;
                let mut b = [0; PAGE_SIZE];
                let io = dev.read(pages[1], &mut b);
                *st = LinearState::ReadB { a, b, io };
            }
            LinearState::ReadB { a, b, io } => {
                if !io.finished() {
                    io_yield_one!(io.clone());
                }
                outcome(io)?;
                let (a, b) = (*a, *b);
                let mut c = [0; PAGE_SIZE];
                let io = dev.read(pages[2], &mut c);
                *st = LinearState::ReadC { a, b, c, io };
            }
            LinearState::ReadC { a, b, c, io } => {
                if !io.finished() {
                    io_yield_one!(io.clone());
                }
                outcome(io)?;
                let sum = u64::from(get_u32(a, FIELD_AT))
                    + u64::from(get_u32(b, FIELD_AT))
                    + u64::from(get_u32(c, FIELD_AT));
                *st = LinearState::Start;
                return Ok(IOResult::Done(sum));
            }
        }
    }
}

// machine: chain
/// Where [`chain`] stands.
#[derive(Debug, Default)]
pub enum ChainState {
    /// Not started.
    #[default]
    Start,
    /// Reading a page of the chain into `buf`.
    Read { buf: Page, io: Completion },
}

/// Follows next-page pointers from `start` looking for `key`: its value, or
/// `None` at the end of the chain.
pub fn chain(
    st: &mut ChainState,
    dev: &Device,
    start: u32,
    key: u32,
) -> Result<IOResult<Option<u32>>, CompletionError> {
    let r = chain_step(st, dev, start, key);
    if r.is_err() {
        *st = ChainState::Start;
    }
    r
}

fn chain_step(
    st: &mut ChainState,
    dev: &Device,
    start: u32,
    key: u32,
) -> Result<IOResult<Option<u32>>, CompletionError> {
    loop {
        match st {
            ChainState::Start => {
                let mut buf = [0; PAGE_SIZE];
                let io = dev.read(start, &mut buf);
                *st = ChainState::Read { buf, io };
            }
            ChainState::Read { buf, io } => {
                if !io.finished() {
                    io_yield_one!(io.clone());
                }
                outcome(io)?;
                for cell in 0..CELLS {
                    if get_u32(buf, 4 + 8 * cell) == key {
                        let value = get_u32(buf, 8 + 8 * cell);
                        *st = ChainState::Start;
                        return Ok(IOResult::Done(Some(value)));
                    }
                }
                let next = get_u32(buf, 0);
                if next == 0 {
                    *st = ChainState::Start;
                    return Ok(IOResult::Done(None));
                }
                *io = dev.read(next, buf);
            }
        }
    }
}

// machine: free
/// Where [`free_page`] stands.
#[derive(Debug, Default)]
pub enum FreePageState {
    /// Not started.
    #[default]
    Start,
    /// Reading the page.
    Read { buf: Page, io: Completion },
    /// Writing it back, linked into the free list.
    Write { used: u32, io: Completion },
}

/// Frees page `no`: reads it, links it into the free list, writes it back.
/// Returns the field it cleared.
pub fn free_page(st: &mut FreePageState, dev: &Device, no: u32) -> Result<IOResult<u32>, CompletionError> {
    let r = free_page_step(st, dev, no);
    if r.is_err() {
        *st = FreePageState::Start;
    }
    r
}

fn free_page_step(st: &mut FreePageState, dev: &Device, no: u32) -> Result<IOResult<u32>, CompletionError> {
    loop {
        match st {
            FreePageState::Start => {
                let mut buf = [0; PAGE_SIZE];
                let io = dev.read(no, &mut buf);
                *st = FreePageState::Read { buf, io };
            }
            FreePageState::Read { buf, io } => {
                if !io.finished() {
                    io_yield_one!(io.clone());
                }
                outcome(io)?;
                let used = get_u32(buf, USED_AT);
                put_u32(buf, 0, dev.freelist_head());
                put_u32(buf, USED_AT, 0);
                let io = dev.write(no, buf);
                *st = FreePageState::Write { used, io };
            }
            FreePageState::Write { used, io } => {
                if !io.finished() {
                    io_yield_one!(io.clone());
                }
                outcome(io)?;
                dev.set_freelist_head(no);
                let used = *used;
                *st = FreePageState::Start;
                return Ok(IOResult::Done(used));
            }
        }
    }
}

/// Where [`free_pages`] stands.
#[derive(Debug, Default)]
pub enum FreePagesState {
    /// Not started.
    #[default]
    Start,
    /// Freeing page `no` with `inner`.
    Free {
        no: u32,
        total: u64,
        inner: FreePageState,
    },
}

/// Frees `count` pages from `first`; returns the sum of the cleared fields.
pub fn free_pages(
    st: &mut FreePagesState,
    dev: &Device,
    first: u32,
    count: u32,
) -> Result<IOResult<u64>, CompletionError> {
    let r = free_pages_step(st, dev, first, count);
    if r.is_err() {
        *st = FreePagesState::Start;
    }
    r
}

fn free_pages_step(
    st: &mut FreePagesState,
    dev: &Device,
    first: u32,
    count: u32,
) -> Result<IOResult<u64>, CompletionError> {
    loop {
        match st {
            FreePagesState::Start => {
                *st = FreePagesState::Free {
                    no: first,
                    total: 0,
                    inner: FreePageState::Start,
                };
            }
            FreePagesState::Free { no, total, inner } => {
                if *no == first + count {
                    let total = *total;
                    *st = FreePagesState::Start;
                    return Ok(IOResult::Done(total));
                }
                let used = return_if_io!(free_page(inner, dev, *no));
                *total += u64::from(used);
                *no += 1;
            }
        }
    }
}

// machine: batch
/// Where [`batch`] stands.
#[derive(Debug, Default)]
pub enum BatchState {
    /// Not started.
    #[default]
    Start,
    /// About to submit batch `b`.
    Submit { b: u32, written: u64 },
    /// Waiting for batch `b`, submitted as `group`.
    Wait {
        b: u32,
        written: u64,
        group: CompletionGroup,
        io: Completion,
    },
}

/// Writes `batches` batches of `per_batch` pages from `first`, each batch
/// waited on as one group; returns the pages written.
pub fn batch(
    st: &mut BatchState,
    dev: &Device,
    first: u32,
    batches: u32,
    per_batch: u32,
) -> Result<IOResult<u64>, CompletionError> {
    let r = batch_step(st, dev, first, batches, per_batch);
    if r.is_err() {
        *st = BatchState::Start;
    }
    r
}

fn batch_step(
    st: &mut BatchState,
    dev: &Device,
    first: u32,
    batches: u32,
    per_batch: u32,
) -> Result<IOResult<u64>, CompletionError> {
    loop {
        match st {
            BatchState::Start => {
                *st = BatchState::Submit { b: 0, written: 0 };
            }
            BatchState::Submit { b, written } => {
                let (b, written) = (*b, *written);
                if b == batches {
                    *st = BatchState::Start;
                    return Ok(IOResult::Done(written));
                }
                let mut group = CompletionGroup::default();
                for k in 0..per_batch {
                    let mut page = [0; PAGE_SIZE];
                    put_u32(&mut page, 0, b);
                    put_u32(&mut page, 4, k);
                    group.add(&dev.write(first + b * per_batch + k, &page));
                }
                let io = group.build();
                *st = BatchState::Wait {
                    b,
                    written,
                    group,
                    io,
                };
            }
            BatchState::Wait {
                b,
                written,
                group,
                io,
            } => {
                if !io.finished() {
                    io_yield_one!(io.clone());
                }
                if let Err(err) = outcome(io) {
                    group.cancel();
                    return Err(err);
                }
                *st = BatchState::Submit {
                    b: *b + 1,
                    written: *written + u64::from(per_batch),
                };
            }
        }
    }
}
// end machines
