use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

pub struct Pp {
    pub x: u32,
}

// `r` borrows the argument `p`, and is made again after the suspension
// point, where a local `p` hides the argument: one error that says so
// (attack round 13, finding 4: E0597, E0505 and E0610 in generated code).
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, p: &Pp) -> Result<IOResult<u32>, CompletionError> {
    let r = &p.x;
    let p: Pp = Pp { x: 999 };
    yield_io!(c.clone())?;
    Ok(*r + p.x)
}

#[io_state_machine(state = st)]
fn g(st: &mut GState, c: &Completion, p: &Pp) -> Result<IOResult<u32>, CompletionError> {
    let r = &p.x;
    let mut s: u32 = 0;
    for p in 0..2u32 {
        yield_io!(c.clone())?;
        s += *r + p;
    }
    Ok(s)
}

fn main() {}
