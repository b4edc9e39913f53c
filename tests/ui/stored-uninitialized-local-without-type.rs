use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// `let x;` assigned before a suspension point is stored there like any
// local, so it needs a type the macro can read.
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, k: u32) -> Result<IOResult<u32>, CompletionError> {
    let x;
    x = k * 2;
    yield_io!(c.clone())?;
    Ok(x)
}
fn main() {}
