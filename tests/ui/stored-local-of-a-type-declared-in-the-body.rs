use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};
// A type declared inside the function cannot be named by the state enum,
// which lives outside it.
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    struct P { v: u32 }
    let p: P = P { v: 3 };
    yield_io!(c.clone())?;
    Ok(p.v)
}
fn main() {}
