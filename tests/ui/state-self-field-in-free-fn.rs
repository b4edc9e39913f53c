use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = self.st)]
fn f(c: &Completion) -> Result<IOResult<()>, CompletionError> {
    yield_io!(c.clone())?;
    Ok(())
}
fn main() {}
