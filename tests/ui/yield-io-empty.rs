// `yield_io!()` without an argument: the error points at the macro, not at
// the attribute (attacker-8 finding 11).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let _ = c;
    yield_io!()?;
    Ok(1)
}

fn main() {}
