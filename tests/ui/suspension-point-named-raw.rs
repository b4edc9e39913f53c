// Found by the never-panic fuzzer: a raw name made the macro panic (it
// formed `Afterr#Idle` as an identifier).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<()>, CompletionError> {
    yield_io!(name = Read, c.clone())?;
    yield_io!(name = r#Idle, c.clone())?;
    yield_io!(name = r#type, c.clone())?;
    Ok(())
}

fn main() {}
