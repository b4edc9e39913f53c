use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let n: u32 = loop {
        break call_io!(g(c))?;
    };
    Ok(n)
}
fn g(_c: &Completion) -> Result<IOResult<u32>, CompletionError> { Ok(IOResult::Done(0)) }
fn main() {}
