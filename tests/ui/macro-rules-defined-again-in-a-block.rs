// `m!` defined in the body, then again in a block that holds a suspension
// point: the block's definition is the one that moves to the top of the
// function, so the error points at it (it pointed at the body's own).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    macro_rules! m {
        () => {
            1u32
        };
    }
    let a: u32 = m!();
    let b: u32 = {
        macro_rules! m {
            () => {
                2u32
            };
        }
        yield_io!(c.clone())?;
        m!()
    };
    Ok(a + b)
}

fn main() {}
