//! A value read by reference, dead after a branch, then a block holding a
//! suspension: the value is carried, dead, through the transition at the
//! block's end (`Some` on the fast path, `None` after a real resume) and
//! dropped at the end of its scope, as in the plain function.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

pub struct Guard(pub u32);

#[io_state_machine(state = st)]
pub fn matched(st: &mut MatchedState, c: bool, out: &mut Vec<u32>) -> Result<IOResult<u32>, CompletionError> {
    let g = Guard(1);
    if c {
        out.push(read(&g))
    }
    {
        let h = Guard(3);
        out.push(h.0);
        yield_io!(Completion::yield_now())?;
        out.push(4);
    }
    out.push(5);
    Ok(2)
}

fn read(g: &Guard) -> u32 {
    g.0
}
