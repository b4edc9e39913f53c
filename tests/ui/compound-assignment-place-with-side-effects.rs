use std::num::Wrapping;

use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn one(st: &mut OneState, c: &Completion) -> Result<IOResult<Wrapping<u32>>, CompletionError> {
    yield_io!(c.clone())?;
    Ok(Wrapping(1))
}

fn slot(v: &mut [Wrapping<u32>]) -> &mut Wrapping<u32> {
    &mut v[0]
}

// For a non-primitive type Rust evaluates the place `*slot(v)` before the
// call; the machine cannot keep that place across the call's suspension.
#[io_state_machine(state = st)]
fn add(st: &mut AddState, c: &Completion, v: &mut Vec<Wrapping<u32>>) -> Result<IOResult<u32>, CompletionError> {
    let mut s: OneState = OneState::default();
    *slot(v) += call_io!(one(&mut s, c))?;
    Ok(v[0].0)
}

fn main() {}
