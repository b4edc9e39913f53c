// An item declared in a block that holds a suspension point moves to the
// top of the function; a function of the same name used outside the block
// would then be this one (round 9 of the fresh-context attack: the machine
// returned 3 where the plain function returns 2001). Refused.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

fn helper() -> u32 {
    1000
}

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let mut total: u32 = 0;
    {
        fn helper() -> u32 {
            1
        }
        yield_io!(c.clone())?;
        total += helper();
    }
    total += helper();
    Ok(total)
}

fn main() {}
