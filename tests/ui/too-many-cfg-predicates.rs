use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// Each `#[cfg]` predicate on a statement that suspends doubles the versions
// of the function; five would make 32.
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    #[cfg(feature = "a")]
    yield_io!(c.clone())?;
    #[cfg(feature = "b")]
    yield_io!(c.clone())?;
    #[cfg(feature = "c")]
    yield_io!(c.clone())?;
    #[cfg(feature = "d")]
    yield_io!(c.clone())?;
    #[cfg(feature = "e")]
    yield_io!(c.clone())?;
    Ok(1)
}

fn main() {}
