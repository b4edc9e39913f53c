use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// `f` is stored without a type. Its parameter `v` hides the argument `v`, so
// the error does not suggest `#[reevaluated]` for a borrow of `v` (attack
// round 14, F11: it said the closure borrows `v`).
#[io_state_machine(state = st)]
fn closure(st: &mut ClosureState, v: &Vec<u32>) -> Result<IOResult<u32>, CompletionError> {
    let n: u32 = v.len() as u32;
    let f = |v: u32| v + 1;
    yield_io!(Completion::ready())?;
    Ok(n + f(1))
}

fn main() {}
