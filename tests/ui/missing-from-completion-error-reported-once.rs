// An error type without `From<CompletionError>`: one error, at the error
// type, though every `yield_io!(..)?` of the body needs the same `From`.
use ratchet::{Completion, IOResult, io_state_machine, yield_io};

#[derive(Debug)]
pub struct MyError;

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, MyError> {
    yield_io!(c.clone())?;
    let n = yield_io!(c.clone())?;
    if n > 0 {
        yield_io!(c.clone())?;
    }
    Ok(n as u32)
}
fn main() {}
