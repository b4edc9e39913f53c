use ratchet::{Completion, CompletionError, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<u32, CompletionError> {
    yield_io!(c.clone())?;
    Ok(1)
}
fn main() {}
