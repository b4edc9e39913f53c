use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// The `let` of a chain binds a stored local without a type: the suggested
// rewrite keeps the chain's other condition, `n < 100 &&` (attack round 14,
// F9: it was left out, and copying the rewrite changed the code).
#[io_state_machine(state = st)]
fn chain(st: &mut ChainState, n: u32, x: u32) -> Result<IOResult<u32>, CompletionError> {
    let mut r: u32 = 0;
    if n < 100 && let Some(x) = Some(x * 100) {
        r = x;
        yield_io!(Completion::ready())?;
        r += x;
    }
    Ok(r)
}

fn main() {}
