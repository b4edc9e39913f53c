use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, pages: &[u64]) -> Result<IOResult<u64>, CompletionError> {
    let mut sum: u64 = 0;
    for p in pages.iter() {
        yield_io!(c.clone())?;
        sum += p;
    }
    Ok(sum)
}
fn main() {}
