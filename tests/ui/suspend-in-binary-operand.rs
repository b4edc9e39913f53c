use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, a: u32) -> Result<IOResult<u32>, CompletionError> {
    let x: u32 = a + { yield_io!(c.clone())?; 1 };
    let y: u32 = a + call_io!(g(c))?;
    Ok(x + y)
}
fn g(_c: &Completion) -> Result<IOResult<u32>, CompletionError> { Ok(IOResult::Done(1)) }
fn main() {}
