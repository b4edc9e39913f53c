//! `if let` on a suspension, with an `else` that suspends too.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
pub fn try_twice(st: &mut TryTwiceState, c: &Completion) -> Result<IOResult<bool>, CompletionError> {
    if let Ok(_) = yield_io!(c.clone()) {
        Ok(true)
    } else {
        yield_io!(c.clone())?;
        Ok(false)
    }
}
