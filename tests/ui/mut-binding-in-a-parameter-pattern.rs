// `(mut a, b): (u64, u64)` with `a` assigned before a suspension point: the
// machine returned 1 instead of 3 after a real suspension, reading the next
// call's argument (round 9 of the fresh-context attack). Refused, with the
// rewrite that makes `a` a local.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, (mut a, b): (u64, u64), c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    a += b;
    yield_io!(c.clone())?;
    Ok(a)
}

fn main() {}
