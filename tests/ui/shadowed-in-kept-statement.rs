use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// The `break` leaves the loop from inside an `if` that has no suspension
// point, so the `if` is kept whole. Inside it the inner `x` hides the outer
// `x`, which the code after the loop still reads. The outer `x` is set aside
// before the `if`, and the `if`'s own reads of it are renamed to match, but
// this one stands in the arguments of a macro that also holds a `|`, which
// may bind names of its own (a closure), so it cannot be renamed with
// certainty.
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, stop: bool) -> Result<IOResult<u32>, CompletionError> {
    let x: u32 = 1;
    loop {
        yield_io!(c.clone())?;
        if stop {
            let small: bool = matches!(x, 1 | 2);
            let x: u32 = 2;
            let _ = (x, small);
            break;
        }
    }
    Ok(x)
}
fn main() {}
