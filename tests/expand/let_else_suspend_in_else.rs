//! `let-else` whose `else` block suspends: the `else` block is a branch of
//! its own; a `mut` binding is bound by value, then rebound `mut`.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
pub fn first(
    st: &mut FirstState,
    c: &Completion,
    opt: Option<u32>,
) -> Result<IOResult<u32>, CompletionError> {
    let Some(mut v) = opt else {
        yield_io!(c.clone())?;
        return Ok(0);
    };
    v += 1;
    yield_io!(c.clone())?;
    Ok(v)
}
