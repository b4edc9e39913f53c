use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let x: u32 = 1;
    {
        let x: u32 = 2;
        yield_io!(c.clone())?;
        let _ = x;
    }
    Ok(x)
}
fn main() {}
