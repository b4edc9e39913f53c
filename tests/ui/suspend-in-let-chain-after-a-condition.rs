use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// A let chain whose `let` suspends after a plain condition: the fix nests
// the `if`s and keeps the binding (attack round 13, finding 6: the message
// once offered a `bool` that lost `k` and did not parse).
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, n: u32) -> Result<IOResult<u32>, CompletionError> {
    if n > 3 && let Ok(k) = yield_io!(c.clone()) {
        return Ok(k as u32);
    }
    while n > 5 && let Ok(k) = yield_io!(c.clone()) {
        let _ = k;
    }
    Ok(0)
}

fn main() {}
