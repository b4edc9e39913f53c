use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};
// `std::slice::Iter<u32>` borrows (its lifetime is elided): rule 9's message,
// not rustc's `missing lifetime specifier` in the state enum.
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, xs: &[u32]) -> Result<IOResult<usize>, CompletionError> {
    let it: std::slice::Iter<u32> = xs.iter();
    yield_io!(c.clone())?;
    Ok(it.count())
}
fn main() {}
