//! The four machines as `async fn`s over a future that is ready when its
//! completion has finished, driven by a no-op waker.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use ratchet::{Completion, CompletionError, CompletionGroup};

use super::device::{CELLS, Device, FIELD_AT, PAGE_SIZE, Page, USED_AT, get_u32, outcome, put_u32};

/// Waits for a completion: ready at once when it has finished.
pub struct Wait(Completion);

impl Future for Wait {
    type Output = Result<(), CompletionError>;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.0.finished() {
            Poll::Ready(outcome(&self.0))
        } else {
            Poll::Pending
        }
    }
}

/// Waits for `c`.
pub fn wait(c: Completion) -> Wait {
    Wait(c)
}

/// Polls `fut` to the end, finishing the device's pending completions
/// whenever it is pending.
pub fn block_on<F: Future>(dev: &Device, fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => {
                dev.complete_all();
            }
        }
    }
}

/// The size of a future, not polled.
pub fn future_size<F: Future>(_: &F) -> usize {
    std::mem::size_of::<F>()
}

// machine: linear
/// Reads three pages, then sums a field of each.
pub async fn linear(dev: &Device, pages: [u32; 3]) -> Result<u64, CompletionError> {
    let mut a: Page = [0; PAGE_SIZE];
    wait(dev.read(pages[0], &mut a)).await?;
    let mut b: Page = [0; PAGE_SIZE];
    wait(dev.read(pages[1], &mut b)).await?;
    let mut c: Page = [0; PAGE_SIZE];
    wait(dev.read(pages[2], &mut c)).await?;
    Ok(
        u64::from(get_u32(&a, FIELD_AT))
            + u64::from(get_u32(&b, FIELD_AT))
            + u64::from(get_u32(&c, FIELD_AT)),
    )
}

// machine: chain
/// Follows next-page pointers from `start` looking for `key`: its value, or
/// `None` at the end of the chain.
pub async fn chain(dev: &Device, start: u32, key: u32) -> Result<Option<u32>, CompletionError> {
    let mut page: u32 = start;
    let mut buf: Page = [0; PAGE_SIZE];
    let found: u32 = 'walk: loop {
        wait(dev.read(page, &mut buf)).await?;
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
pub async fn free_page(dev: &Device, no: u32) -> Result<u32, CompletionError> {
    let mut buf: Page = [0; PAGE_SIZE];
    wait(dev.read(no, &mut buf)).await?;
    let used = get_u32(&buf, USED_AT);
    put_u32(&mut buf, 0, dev.freelist_head());
    put_u32(&mut buf, USED_AT, 0);
    wait(dev.write(no, &buf)).await?;
    dev.set_freelist_head(no);
    Ok(used)
}

/// Frees `count` pages from `first`; returns the sum of the cleared fields.
pub async fn free_pages(dev: &Device, first: u32, count: u32) -> Result<u64, CompletionError> {
    let mut total: u64 = 0;
    for no in first..first + count {
        let used = free_page(dev, no).await?;
        total += u64::from(used);
    }
    Ok(total)
}

// machine: batch
/// Writes `batches` batches of `per_batch` pages from `first`, each batch
/// waited on as one group; returns the pages written.
pub async fn batch(dev: &Device, first: u32, batches: u32, per_batch: u32) -> Result<u64, CompletionError> {
    let mut written: u64 = 0;
    for b in 0..batches {
        let mut group = CompletionGroup::default();
        for k in 0..per_batch {
            let mut page: Page = [0; PAGE_SIZE];
            put_u32(&mut page, 0, b);
            put_u32(&mut page, 4, k);
            group.add(&dev.write(first + b * per_batch + k, &page));
        }
        match wait(group.build()).await {
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
