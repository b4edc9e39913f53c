use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// The `match` has a suspension point in an arm, so it is taken apart. The
// guard's `y` hides the outer `y` in that arm; the macro does not track
// names bound by `if let` guards yet, and would mix up the two `y`s (the
// result was 11 instead of 106).
#[io_state_machine(state = st)]
fn g(st: &mut GState, c: &Completion, v: u32, o: Option<u32>) -> Result<IOResult<u32>, CompletionError> {
    let y: u32 = 100;
    let r: u32 = match v {
        _ if let Some(y) = o => {
            yield_io!(c.clone())?;
            y + 1
        }
        _ => y,
    };
    Ok(r + y)
}
fn main() {}
