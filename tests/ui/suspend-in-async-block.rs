use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<()>, CompletionError> {
    let fut = async { yield_io!(c.clone()) };
    drop(fut);
    Ok(())
}
fn main() {}
