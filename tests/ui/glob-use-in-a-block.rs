// A glob `use` in a block that holds a suspension point: it moves to the top
// of the function, where `helper()` after the block would reach `g::helper`
// instead of the module's (attack round 11: 23 for 22).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

mod g {
    pub fn helper() -> u32 {
        2
    }
}

fn helper() -> u32 {
    1
}

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let mut acc: u32 = 0;
    {
        use crate::g::*;
        yield_io!(c.clone())?;
        acc += helper() * 10;
    }
    acc += helper();
    Ok(acc)
}

fn main() {}
