// The body reads the state parameter (round 9 of the fresh-context attack):
// rustc said "borrow of moved value: `st`" at `state = st`. The macro says
// why, at the read.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<bool>, CompletionError> {
    yield_io!(c.clone())?;
    Ok(st.is_idle())
}

fn main() {}
