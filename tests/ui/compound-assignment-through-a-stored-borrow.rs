use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn three(st: &mut ThreeState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    yield_io!(c.clone())?;
    Ok(3)
}

// `r` borrows `x` and is read by the place of `+=`, which runs after the
// right side: the error says so, not "when its loop comes round" (attack
// round 14, F8: there is no loop).
#[io_state_machine(state = st)]
fn add(st: &mut AddState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let mut x: u32 = 10;
    let mut s: ThreeState = ThreeState::default();
    {
        let r = &mut x;
        *r += call_io!(three(&mut s, c))?;
    }
    Ok(x)
}

fn main() {}
