// The fix for a `let mut` keeps the `mut` (without it, the pasted fix
// fails with E0596).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn buf(st: &mut BufState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let mut buf = Vec::new();
    buf.push(1u64);
    yield_io!(c.clone())?;
    buf.push(2);
    Ok(buf.len() as u64)
}

fn main() {}
