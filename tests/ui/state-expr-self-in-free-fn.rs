use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = self.states.borrow_mut())]
fn free_page(c: &Completion) -> Result<IOResult<()>, CompletionError> {
    yield_io!(c.clone())?;
    Ok(())
}
fn main() {}
