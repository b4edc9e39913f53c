use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st, max_size = 16)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let buf: [u64; 8] = [1; 8];
    yield_io!(c.clone())?;
    Ok(buf[0])
}
fn main() {}
