use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<()>, CompletionError> {
    yield_io!(call_io!(g(c))?)?;
    Ok(())
}
fn g(c: &Completion) -> Result<IOResult<Completion>, CompletionError> { Ok(IOResult::Done(c.clone())) }
fn main() {}
