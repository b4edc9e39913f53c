// The fix of a labelled loop keeps the label on the loop, after the `let`
// it adds (`'outer: let ..` would not parse).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn label(st: &mut LabelState, c: &Completion, a: &[u64]) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    'outer: for i in 0..a.len() {
        yield_io!(c.clone())?;
        t += a[i];
        if t > 10 {
            break 'outer;
        }
    }
    Ok(t)
}

fn main() {}
