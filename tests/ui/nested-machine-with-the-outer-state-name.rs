// A machine nested in a machine of the same name: its state enum would
// hide the outer one's from the outer's generated code (five rustc errors
// at the attribute before).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn step(st: &mut StepState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    #[io_state_machine(state = s)]
    fn step(s: &mut StepState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(2)
    }
    yield_io!(c.clone())?;
    Ok(1)
}

fn main() {}
