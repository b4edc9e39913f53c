// A block-local `m!` shadows the crate's `m!` inside its block only; moved
// to the top of the function it would shadow the use after the block too.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

macro_rules! m {
    () => {
        10000
    };
}

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let mut total: u32 = 0;
    {
        macro_rules! m {
            () => {
                2
            };
        }
        yield_io!(c.clone())?;
        total += m!();
    }
    Ok(total + m!())
}

fn main() {}
