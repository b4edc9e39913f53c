// `(ref mut a, b): (u32, u32)` and `ref mut v: Vec<u32>`: a change made
// through the binding before a suspension point was lost after a real one
// (round 10 of the fresh-context attack: 3 for 13, 2 for 3). Refused like
// `mut` in a pattern.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, (ref mut a, b): (u32, u32), c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    *a += b;
    yield_io!(c.clone())?;
    Ok(*a)
}

#[io_state_machine(state = st)]
fn g(st: &mut GState, ref mut v: Vec<u32>, c: &Completion) -> Result<IOResult<usize>, CompletionError> {
    v.push(7);
    yield_io!(c.clone())?;
    Ok(v.len())
}

fn main() {}
