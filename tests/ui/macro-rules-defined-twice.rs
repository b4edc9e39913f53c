// `m!` defined, used, then defined again after a suspension point: in Rust
// each use sees the definition before it; at the top of the function one
// would hide the other (the machine returned 1100100 for 22100).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    macro_rules! m {
        () => {
            100
        };
    }
    let a: u32 = m!();
    yield_io!(c.clone())?;
    macro_rules! m {
        () => {
            22000
        };
    }
    Ok(a + m!())
}

fn main() {}
