use std::collections::HashMap;
use std::sync::Arc;

use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// The macro's error is the only diagnostic: the imports the body uses are
// used by the body it still emits, so no "unused import" warning follows.
#[io_state_machine(state = st)]
fn index(st: &mut IndexState, c: &Completion) -> Result<IOResult<usize>, CompletionError> {
    let map = HashMap::<u32, Arc<u32>>::new();
    yield_io!(c.clone())?;
    Ok(map.len())
}
fn main() {}
