use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st, max_size = 64)]
fn f<T: Copy>(st: &mut FState<T>, c: &Completion, x: T) -> Result<IOResult<T>, CompletionError> {
    let y: T = x;
    yield_io!(c.clone())?;
    Ok(y)
}
fn main() {}
