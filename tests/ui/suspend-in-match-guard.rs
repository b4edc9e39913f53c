use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, k: u32) -> Result<IOResult<u32>, CompletionError> {
    match k {
        0 if yield_io!(c.clone()).is_ok() => Ok(0),
        n => Ok(n),
    }
}
fn main() {}
