use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// The inner `x` is declared after the suspension, in the same block of the
// generated code as the jump out of the braces, which carries the outer `x`.
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let x: u32 = 1;
    {
        yield_io!(c.clone())?;
        let x: u32 = 2;
        let _ = x;
    }
    Ok(x)
}
fn main() {}
