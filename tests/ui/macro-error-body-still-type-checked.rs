use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// On the macro's error the body is still type-checked, with `yield_io!`
// standing in as the `Result<i32, CompletionError>` it gives: a mistake of
// the body's own (an `i32` taken for a `u64`) is reported beside the macro's
// error, as rustc would report it once the macro's error is fixed.
#[io_state_machine(state = st)]
fn sum(st: &mut SumState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let parts = vec![1u64];
    let n: u64 = yield_io!(c.clone())?;
    Ok(n + parts[0])
}
fn main() {}
