// A `use` in a block that holds a suspension point moves to the top of the
// function with the block's other items: `pick` outside the block would
// then be `std::cmp::min` (round 10 of the fresh-context attack: (1, 1) for
// (100, 1), no error). Refused like the other items.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

fn pick(_: u32, _: u32) -> u32 {
    100
}

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<(u32, u32)>, CompletionError> {
    let a: u32 = pick(1, 2);
    let b: u32 = {
        use std::cmp::min as pick;
        yield_io!(c.clone())?;
        pick(1, 2)
    };
    Ok((a, b))
}

fn main() {}
