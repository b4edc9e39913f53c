// A body `macro_rules!` whose expansion calls `helper()`, invoked after the
// block that declares a `fn helper`: at the top of the function the
// expansion would reach the block's `helper` (attack round 11: 22 for 21).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

fn helper() -> u32 {
    1
}

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    macro_rules! h {
        () => {
            helper()
        };
    }
    let mut acc: u32 = 0;
    {
        fn helper() -> u32 {
            2
        }
        yield_io!(c.clone())?;
        acc += helper() * 10;
    }
    Ok(acc + h!())
}

fn main() {}
