use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<usize>, CompletionError> {
    let names = vec![String::from("a")];
    yield_io!(c.clone())?;
    Ok(names.len())
}
fn main() {}
