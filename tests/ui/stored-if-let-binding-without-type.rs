// Locals bound by an `if let` pattern, stored across a suspension point:
// a pattern there cannot carry a type, so the fix is a typed rebinding at
// the top of the block, shown in place, one error for the pattern.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, o: Option<(u64, u32)>) -> Result<IOResult<u64>, CompletionError> {
    if let Some((page, len)) = o {
        yield_io!(c.clone())?;
        return Ok(page + u64::from(len));
    }
    Ok(0)
}

fn main() {}
