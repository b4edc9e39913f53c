// A `macro_rules!` in a block taken apart is moved to the top of the
// function with the other items, out of the scope of the locals it names
// (attacker-8 finding 9): the macro's error says so, not rustc's "cannot
// find value".
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let n: u32 = 3;
    macro_rules! twice {
        () => {
            n * 2
        };
    }
    yield_io!(c.clone())?;
    Ok(twice!())
}

fn main() {}
