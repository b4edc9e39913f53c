use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, k: u32) -> Result<IOResult<u32>, CompletionError> {
    let x: u32;
    x = k * 2;
    yield_io!(c.clone())?;
    Ok(x)
}
fn main() {}
