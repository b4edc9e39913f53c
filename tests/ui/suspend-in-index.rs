use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, v: &[u32]) -> Result<IOResult<u32>, CompletionError> {
    let x = v[call_io!(g(c))?];
    Ok(x)
}
fn g(_c: &Completion) -> Result<IOResult<usize>, CompletionError> { Ok(IOResult::Done(0)) }
fn main() {}
