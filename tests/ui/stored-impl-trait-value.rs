use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};
// An `impl Trait` value has no type the state enum could name.
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, f: impl Fn() -> u32) -> Result<IOResult<u32>, CompletionError> {
    let g = f;
    yield_io!(c.clone())?;
    Ok(g())
}
fn main() {}
