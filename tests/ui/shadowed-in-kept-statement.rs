use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// The `break` leaves the loop from inside an `if` that has no suspension
// point, so the `if` is kept whole. Inside it the inner `x` hides the outer
// `x`, which the code after the loop still reads, and the same `if` reads
// the outer `x` first, so it cannot be moved aside before the `if`.
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, stop: bool) -> Result<IOResult<u32>, CompletionError> {
    let x: u32 = 1;
    loop {
        yield_io!(c.clone())?;
        if stop {
            let y: u32 = x;
            let x: u32 = 2;
            let _ = (x, y);
            break;
        }
    }
    Ok(x)
}
fn main() {}
