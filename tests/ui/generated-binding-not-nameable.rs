use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    yield_io!(c.clone())?;
    let _ = __ratchet_c.finished();
    __ratchet_pc = 0;
    Ok(1)
}
fn main() {}
