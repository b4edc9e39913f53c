use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

pub struct Guard;

fn lock() -> Guard {
    Guard
}

// `_g` is never read: it is held for its `Drop` to the end of its scope, so
// it is stored across the suspension point and needs a type.
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let _g = lock();
    yield_io!(c.clone())?;
    Ok(1)
}

fn main() {}
