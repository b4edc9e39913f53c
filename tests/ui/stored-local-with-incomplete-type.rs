use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};
// The state enum lives outside the function: a stored local's type must be
// complete, without `_`.
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<usize>, CompletionError> {
    let v: Vec<_> = vec![1u32, 2];
    yield_io!(c.clone())?;
    Ok(v.len())
}
fn main() {}
