// `state = s` with `s: &mut Box<FState>` suggested `name = Box`. The state
// parameter borrows the state itself: the error says so.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = s)]
fn f(s: &mut Box<FState>, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    yield_io!(c.clone())?;
    Ok(1)
}

fn main() {}
