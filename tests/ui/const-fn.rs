use ratchet::{CompletionError, IOResult, io_state_machine};

#[io_state_machine(state = st)]
const fn f(st: &mut FState) -> Result<IOResult<()>, CompletionError> {
    Ok(())
}
fn main() {}
