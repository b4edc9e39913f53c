// A missing `state =` hid the body's own errors until it was written: all
// errors of one function come together (rule 13).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine]
fn f(c: &Completion) -> Result<IOResult<i32>, CompletionError> {
    let y = 1 + yield_io!(c.clone())?;
    Ok(y)
}

#[io_state_machine(state = )]
fn g(c: &Completion) -> Result<IOResult<i32>, CompletionError> {
    let y = 1 + yield_io!(c.clone())?;
    Ok(y)
}

fn main() {}
