//! A caller-owned sub-state stored across the suspension.
use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine, yield_io};

#[io_state_machine(state = st)]
pub fn fill(st: &mut FillState, c: &Completion, what: u8) -> Result<IOResult<u8>, CompletionError> {
    yield_io!(c.clone())?;
    Ok(what)
}

#[io_state_machine(state = st)]
pub fn fill_twice(st: &mut FillTwiceState, c: &Completion) -> Result<IOResult<u16>, CompletionError> {
    let mut sub: FillState = FillState::default();
    let a: u8 = call_io!(fill(&mut sub, c, 1))?;
    let b: u8 = call_io!(fill(&mut sub, c, 2))?;
    Ok(u16::from(a) + u16::from(b))
}
