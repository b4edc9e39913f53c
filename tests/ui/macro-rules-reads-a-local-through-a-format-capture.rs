// A `macro_rules!` moved to the top of the function that reads a local
// through an inline format capture (`format!("{y}")`): the macro's error,
// not rustc's "cannot find value `y`" (round 9 of the fresh-context attack).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<String>, CompletionError> {
    let y: u32 = 3;
    macro_rules! show {
        () => {
            format!("{y}")
        };
    }
    yield_io!(c.clone())?;
    Ok(show!())
}

fn main() {}
