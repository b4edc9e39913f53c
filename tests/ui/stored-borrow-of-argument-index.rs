use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, pages: &[Vec<u8>]) -> Result<IOResult<usize>, CompletionError> {
    let page = &pages[0];
    yield_io!(c.clone())?;
    Ok(page.len())
}
fn main() {}
