use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<()>, CompletionError> {
    let _ = c;
    yield_io!(42u32)?;
    Ok(())
}
fn main() {}
