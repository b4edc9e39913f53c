use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<()>, CompletionError> {
    fn helper(c: &Completion) -> Result<(), CompletionError> {
        yield_io!(c.clone())
    }
    helper(c)?;
    Ok(())
}
fn main() {}
