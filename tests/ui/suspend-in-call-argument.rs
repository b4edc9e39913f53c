use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let n = consume(1, yield_io!(c.clone())?);
    Ok(n)
}
fn consume(a: u32, _b: i32) -> u32 { a }
fn main() {}
