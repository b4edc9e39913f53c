// A tuple pattern binds several locals stored across a suspension point
// without a type: one error for the pattern, listing every name, with the
// fix in the pattern's own form (`let (a, b): (A, B) = ..;`).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

fn split(n: u64) -> (u64, String) {
    (n, n.to_string())
}

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, n: u64) -> Result<IOResult<usize>, CompletionError> {
    let (count, (_, label)) = (n, split(n));
    yield_io!(c.clone())?;
    Ok(count as usize + label.len())
}

fn main() {}
