use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<usize>, CompletionError> {
    let owned: Vec<u8> = vec![1, 2, 3];
    let view: &[u8] = &owned[1..];
    yield_io!(c.clone())?;
    Ok(view.len() + owned.len())
}
fn main() {}
