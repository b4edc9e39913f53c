// A `for` loop over an iterator the macro cannot type, whose tuple pattern
// binds locals stored across a suspension point: one error for the loop,
// with one fix (a typed iterator, its items taken apart by a typed `let`).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, src: &[u64]) -> Result<IOResult<u64>, CompletionError> {
    let mut sum: u64 = 0;
    let v: Vec<u64> = src.to_vec();
    for (i, x) in v.into_iter().enumerate() {
        yield_io!(c.clone())?;
        sum += x * i as u64;
    }
    Ok(sum)
}

fn main() {}
