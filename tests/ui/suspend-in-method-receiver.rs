use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<usize>, CompletionError> {
    let n = call_io!(g(c))?.len();
    Ok(n)
}
fn g(_c: &Completion) -> Result<IOResult<Vec<u8>>, CompletionError> { Ok(IOResult::Done(Vec::new())) }
fn main() {}
