// `for i in 0..n.len()`: the macro cannot read the type of the bound, so
// neither the range it stores nor `i`: one error, one fix (a typed bound).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, n: &[u64]) -> Result<IOResult<u64>, CompletionError> {
    let mut sum: u64 = 0;
    for i in 0..n.len() {
        yield_io!(c.clone())?;
        sum += n[i];
    }
    Ok(sum)
}

fn main() {}
