// `call_io!` evaluates its expression again on every resume, so it cannot
// move a stored local: the second evaluation would use a moved value.
use ratchet::{call_io, io_state_machine, CompletionError, IOResult};

pub struct Page(Vec<u8>);

fn write_page(p: Option<Page>) -> Result<IOResult<usize>, CompletionError> {
    Ok(IOResult::Done(p.map_or(0, |p| p.0.len())))
}

#[io_state_machine(state = st)]
fn f(st: &mut FState) -> Result<IOResult<usize>, CompletionError> {
    let page: Page = Page(vec![1, 2]);
    let n = call_io!(write_page(Some(page)))?;
    Ok(n)
}



// A `Copy` local, a borrow and a clone are fine.
#[io_state_machine(state = st)]
fn g(st: &mut GState, n: u32) -> Result<IOResult<usize>, CompletionError> {
    let page: Page = Page(vec![1, 2]);
    let k: u32 = n;
    let a: usize = call_io!(write_page(Some(Page(page.0.clone()))))?;
    let b = call_io!(by_ref(&page, k, (k, k)))?;
    Ok(a + b + page.0.len())
}

// A by-value parameter is each call's own: `call_io!` may move it.
#[io_state_machine(state = st)]
fn h(st: &mut HState, page: Page) -> Result<IOResult<usize>, CompletionError> {
    call_io!(write_page(Some(page)))
}

fn by_ref(p: &Page, k: u32, _t: (u32, u32)) -> Result<IOResult<usize>, CompletionError> {
    Ok(IOResult::Done(p.0.len() + k as usize))
}
fn main() {}
