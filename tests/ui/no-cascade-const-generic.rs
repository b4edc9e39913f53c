use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};
// An error in a const-generic machine: only the macro's error, no E0107 from
// the idle-only fallback enum.
#[io_state_machine(state = st)]
fn f<const N: usize>(st: &mut FState<N>, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let x = vec![0u8; N];
    yield_io!(c.clone())?;
    Ok(x.len() as u32)
}
fn main() {}
