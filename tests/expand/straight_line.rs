//! No suspension point at all: the body stays as written.
use ratchet::{CompletionError, IOResult, io_state_machine};

#[io_state_machine(state = st)]
pub fn add(st: &mut AddState, a: u32, b: u32) -> Result<IOResult<u32>, CompletionError> {
    let sum = a + b;
    Ok(sum)
}
