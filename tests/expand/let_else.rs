//! `let-else` on a suspension's value.
use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine, yield_io};

#[io_state_machine(state = st)]
pub fn lookup(
    st: &mut LookupState,
    c: &Completion,
    key: u32,
) -> Result<IOResult<Option<u32>>, CompletionError> {
    yield_io!(c.clone())?;
    Ok(if key == 0 { None } else { Some(key * 2) })
}

#[io_state_machine(state = st)]
pub fn get(st: &mut GetState, c: &Completion, key: u32) -> Result<IOResult<u32>, CompletionError> {
    let mut sub: LookupState = LookupState::default();
    let Some(v): Option<u32> = call_io!(lookup(&mut sub, c, key))? else {
        return Ok(0);
    };
    yield_io!(c.clone())?;
    Ok(v)
}
