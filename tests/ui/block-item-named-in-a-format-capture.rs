// A block's `const K` named after the block only inside a format string
// (`{K}`): at the top of the function the capture would read the block's
// `K` (attack round 11: "out 2" for "out 1").
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

const K: u32 = 1;

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<String>, CompletionError> {
    let inner: String = {
        const K: u32 = 2;
        yield_io!(c.clone())?;
        format!("in {K}")
    };
    Ok(format!("{inner}, out {K}"))
}

fn main() {}
