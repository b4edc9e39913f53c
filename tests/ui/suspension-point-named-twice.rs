use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<()>, CompletionError> {
    yield_io!(name = Read, c.clone())?;
    yield_io!(name = Read, c.clone())?;
    yield_io!(name = Idle, c.clone())?;
    Ok(())
}

fn main() {}
