//! The four machines with diapause 0.2: a coroutine yields the completion it
//! waits for and is resumed once it has finished. The state stores the
//! arguments, so it is generic over the device's lifetime.

use diapause::{Coroutine, CoroutineState};
use ratchet::{Completion, CompletionError, CompletionGroup};

use super::device::{CELLS, Device, FIELD_AT, PAGE_SIZE, Page, USED_AT, get_u32, outcome, put_u32};

/// Runs a coroutine to the end, finishing the device's pending completions
/// whenever it yields.
pub fn run<C: Coroutine<(), Yield = Completion>>(dev: &Device, mut co: C) -> C::Return {
    let mut step = co.start();
    loop {
        match step {
            CoroutineState::Complete(v) => return v,
            CoroutineState::Yielded(_) => {
                dev.complete_all();
                step = co.resume(());
            }
        }
    }
}

// machine: linear
/// Reads three pages, then sums a field of each.
#[diapause::coroutine(yield = Completion)]
pub fn linear(dev: &Device, pages: [u32; 3]) -> Result<u64, CompletionError> {
    let mut a: Page = [0; PAGE_SIZE];
    let io: Completion = dev.read(pages[0], &mut a);
    if !io.finished() {
        yield_!(io.clone());
    }
    outcome(&io)?;
    let mut b: Page = [0; PAGE_SIZE];
    let io: Completion = dev.read(pages[1], &mut b);
    if !io.finished() {
        yield_!(io.clone());
    }
    outcome(&io)?;
    let mut c: Page = [0; PAGE_SIZE];
    let io: Completion = dev.read(pages[2], &mut c);
    if !io.finished() {
        yield_!(io.clone());
    }
    outcome(&io)?;
    Ok(
        u64::from(get_u32(&a, FIELD_AT))
            + u64::from(get_u32(&b, FIELD_AT))
            + u64::from(get_u32(&c, FIELD_AT)),
    )
}

// machine: chain
/// Follows next-page pointers from `start` looking for `key`: its value, or
/// `None` at the end of the chain.
#[diapause::coroutine(yield = Completion)]
pub fn chain(dev: &Device, start: u32, key: u32) -> Result<Option<u32>, CompletionError> {
    let mut page: u32 = start;
    let mut buf: Page = [0; PAGE_SIZE];
    let found: u32 = 'walk: loop {
        let io: Completion = dev.read(page, &mut buf);
        if !io.finished() {
            yield_!(io.clone());
        }
        outcome(&io)?;
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
#[diapause::coroutine(yield = Completion)]
pub fn free_page(dev: &Device, no: u32) -> Result<u32, CompletionError> {
    let mut buf: Page = [0; PAGE_SIZE];
    let io: Completion = dev.read(no, &mut buf);
    if !io.finished() {
        yield_!(io.clone());
    }
    outcome(&io)?;
    let used: u32 = get_u32(&buf, USED_AT);
    put_u32(&mut buf, 0, dev.freelist_head());
    put_u32(&mut buf, USED_AT, 0);
    let io: Completion = dev.write(no, &buf);
    if !io.finished() {
        yield_!(io.clone());
    }
    outcome(&io)?;
    dev.set_freelist_head(no);
    Ok(used)
}

/// Frees `count` pages from `first`; returns the sum of the cleared fields.
#[diapause::coroutine(yield = Completion)]
pub fn free_pages<'a>(dev: &'a Device, first: u32, count: u32) -> Result<u64, CompletionError> {
    let mut total: u64 = 0;
    let end: u32 = first + count;
    for no in first..end {
        let sub: free_page::State<'a> = free_page(dev, no);
        let used: u32 = yield_all!(sub)?;
        total += u64::from(used);
    }
    Ok(total)
}

// machine: batch
/// Writes `batches` batches of `per_batch` pages from `first`, each batch
/// waited on as one group; returns the pages written.
#[diapause::coroutine(yield = Completion)]
pub fn batch(dev: &Device, first: u32, batches: u32, per_batch: u32) -> Result<u64, CompletionError> {
    let mut written: u64 = 0;
    for b in 0u32..batches {
        let mut group: CompletionGroup = CompletionGroup::default();
        for k in 0..per_batch {
            let mut page: Page = [0; PAGE_SIZE];
            put_u32(&mut page, 0, b);
            put_u32(&mut page, 4, k);
            group.add(&dev.write(first + b * per_batch + k, &page));
        }
        let io: Completion = group.build();
        if !io.finished() {
            yield_!(io.clone());
        }
        match outcome(&io) {
            Ok(()) => written += u64::from(per_batch),
            Err(err) => {
                group.cancel();
                return Err(err);
            }
        }
    }
    Ok(written)
}
// end machines
