// A `#[reevaluated]` binding reads `v`, which the body moves in a loop that
// holds a suspension point: the plain function compiles, the machine gave
// rustc's E0382 at the attribute (attack round 11, reev_r2).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, v: Vec<u32>) -> Result<IOResult<u32>, CompletionError> {
    #[reevaluated]
    let n: usize = v.len();
    let mut sum: u32 = 0;
    for x in v {
        yield_io!(c.clone())?;
        sum += x;
    }
    Ok(sum + n as u32)
}

fn main() {}
