//! An explicit cooperative yield: finished, yet the machine returns `IO`
//! once there.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
pub fn cooperative(st: &mut CooperativeState, rounds: u32) -> Result<IOResult<u32>, CompletionError> {
    let mut n: u32 = 0;
    while n < rounds {
        yield_io!(Completion::yield_now())?;
        n += 1;
    }
    Ok(n)
}
