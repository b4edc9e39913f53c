use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, a: bool) -> Result<IOResult<bool>, CompletionError> {
    if a && call_io!(g(c))? {
        return Ok(true);
    }
    Ok(false)
}
fn g(_c: &Completion) -> Result<IOResult<bool>, CompletionError> { Ok(IOResult::Done(true)) }
fn main() {}
