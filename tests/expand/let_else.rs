//! `let-else` on a suspension's value.
//!
//! Each `call_io!` point's call is written once more, in the resume's
//! prologue, which calls the callee where the state lies, so that nothing
//! moves while it waits (docs/BENCHMARKS.md, "In-place `call_io!` resume").
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
