use std::num::Wrapping;

use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn advance(st: &mut AdvanceState, c: &Completion, i: &mut usize) -> Result<IOResult<Wrapping<u32>>, CompletionError> {
    *i += 1;
    yield_io!(c.clone())?;
    Ok(Wrapping(10))
}

// For a non-primitive type Rust runs `IndexMut` (and its bounds check) on
// `v[i]` before the call, which here also moves `i` on: the machine cannot
// keep that place across the call's suspension (attack round 13, finding 1).
#[io_state_machine(state = st)]
fn bump(st: &mut BumpState, c: &Completion) -> Result<IOResult<Vec<Wrapping<u32>>>, CompletionError> {
    let mut v: Vec<Wrapping<u32>> = vec![Wrapping(1), Wrapping(2)];
    let mut i: usize = 0;
    let mut s: AdvanceState = AdvanceState::default();
    v[i] += call_io!(advance(&mut s, c, &mut i))?;
    Ok(v)
}

fn main() {}
