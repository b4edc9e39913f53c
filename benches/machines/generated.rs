//! The four machines written with `#[io_state_machine]`: straight-line
//! bodies; the attribute writes the state enums.

use ratchet::{CompletionError, CompletionGroup, IOResult, call_io, io_state_machine, yield_io};

use super::device::{CELLS, Device, FIELD_AT, PAGE_SIZE, Page, USED_AT, get_u32, put_u32};

// machine: linear
/// Reads three pages, then sums a field of each.
#[io_state_machine(state = st)]
pub fn linear(st: &mut LinearState, dev: &Device, pages: [u32; 3]) -> Result<IOResult<u64>, CompletionError> {
    let mut a: Page = [0; PAGE_SIZE];
    yield_io!(dev.read(pages[0], &mut a))?;
    let mut b: Page = [0; PAGE_SIZE];
    yield_io!(dev.read(pages[1], &mut b))?;
    let mut c: Page = [0; PAGE_SIZE];
    yield_io!(dev.read(pages[2], &mut c))?;
    Ok(
        u64::from(get_u32(&a, FIELD_AT))
            + u64::from(get_u32(&b, FIELD_AT))
            + u64::from(get_u32(&c, FIELD_AT)),
    )
}

// machine: chain
/// Follows next-page pointers from `start` looking for `key`: its value, or
/// `None` at the end of the chain.
#[io_state_machine(state = st)]
pub fn chain(
    st: &mut ChainState,
    dev: &Device,
    start: u32,
    key: u32,
) -> Result<IOResult<Option<u32>>, CompletionError> {
    let mut page: u32 = start;
    let mut buf: Page = [0; PAGE_SIZE];
    let found: u32 = 'walk: loop {
        yield_io!(dev.read(page, &mut buf))?;
        for cell in 0..CELLS {
            if get_u32(&buf, 4 + 8 * cell) == key {
                break 'walk get_u32(&buf, 8 + 8 * cell);
            }
        }
        let next = get_u32(&buf, 0);
        if next == 0 {
            return Ok(None);
        }
        page = next;
    };
    Ok(Some(found))
}

// machine: free
/// Frees page `no`: reads it, links it into the free list, writes it back.
/// Returns the field it cleared.
#[io_state_machine(state = st)]
pub fn free_page(st: &mut FreePageState, dev: &Device, no: u32) -> Result<IOResult<u32>, CompletionError> {
    let mut buf: Page = [0; PAGE_SIZE];
    yield_io!(dev.read(no, &mut buf))?;
    let used: u32 = get_u32(&buf, USED_AT);
    put_u32(&mut buf, 0, dev.freelist_head());
    put_u32(&mut buf, USED_AT, 0);
    yield_io!(dev.write(no, &buf))?;
    dev.set_freelist_head(no);
    Ok(used)
}

/// Frees `count` pages from `first`; returns the sum of the cleared fields.
#[io_state_machine(state = st)]
pub fn free_pages(
    st: &mut FreePagesState,
    dev: &Device,
    first: u32,
    count: u32,
) -> Result<IOResult<u64>, CompletionError> {
    let mut inner: FreePageState = FreePageState::default();
    let mut total: u64 = 0;
    for no in first..first + count {
        let used = call_io!(free_page(&mut inner, dev, no))?;
        total += u64::from(used);
    }
    Ok(total)
}

// machine: batch
/// Writes `batches` batches of `per_batch` pages from `first`, each batch
/// waited on as one group; returns the pages written.
#[io_state_machine(state = st)]
pub fn batch(
    st: &mut BatchState,
    dev: &Device,
    first: u32,
    batches: u32,
    per_batch: u32,
) -> Result<IOResult<u64>, CompletionError> {
    let mut written: u64 = 0;
    for b in 0..batches {
        let mut group: CompletionGroup = CompletionGroup::default();
        for k in 0..per_batch {
            let mut page: Page = [0; PAGE_SIZE];
            put_u32(&mut page, 0, b);
            put_u32(&mut page, 4, k);
            group.add(&dev.write(first + b * per_batch + k, &page));
        }
        match yield_io!(group.build()) {
            Ok(_) => written += u64::from(per_batch),
            Err(err) => {
                group.cancel();
                return Err(err);
            }
        }
    }
    Ok(written)
}
// end machines
