// A `let-else` binding stored across a suspension point: the type goes on
// the pattern, as `Option<T>` of `Some(x)`.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

fn header(n: u64) -> Option<u64> {
    Some(n)
}

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, n: u64) -> Result<IOResult<u64>, CompletionError> {
    let Some(h) = header(n) else {
        return Ok(0);
    };
    yield_io!(c.clone())?;
    Ok(h)
}

fn main() {}
