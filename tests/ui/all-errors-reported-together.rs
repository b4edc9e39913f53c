use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, a: u32) -> Result<IOResult<u32>, CompletionError> {
    let names = vec![a];
    let x = a + call_io!(g(c))?;
    let run = || yield_io!(c.clone());
    let _ = run;
    yield_io!(c.clone())?;
    Ok(names[0] + x)
}
fn g(_c: &Completion) -> Result<IOResult<u32>, CompletionError> { Ok(IOResult::Done(1)) }
fn main() {}
