use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st, max_sise = 64, nme = Foo)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<()>, CompletionError> {
    yield_io!(c.clone())?;
    Ok(())
}
fn main() {}
