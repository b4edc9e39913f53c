//! `break` with a value out of a suspending `loop`, and a retry on `Err`
//! from `yield_io!` without `?`.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
pub fn retry(st: &mut RetryState, c: &Completion, limit: u32) -> Result<IOResult<u32>, CompletionError> {
    let mut tries: u32 = 0;
    let used: u32 = loop {
        tries += 1;
        match yield_io!(c.clone()) {
            Ok(_) => break tries,
            Err(e) if tries >= limit => return Err(e),
            Err(_) => continue,
        }
    };
    Ok(used)
}
