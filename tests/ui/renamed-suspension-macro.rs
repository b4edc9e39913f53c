// `#[io_state_machine]` finds suspension points by name; a renamed
// `yield_io!` must not be told it stands outside an annotated function.
use ratchet::yield_io as y;
use ratchet::{Completion, CompletionError, IOResult, io_state_machine};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<i32>, CompletionError> {
    let n = y!(c.clone())?;
    Ok(n)
}

fn main() {}
