//! Batches of writes gathered into a `CompletionGroup`, `cancel()` on the
//! error path, repeated per batch inside a loop.
use ratchet::{Completion, CompletionError, CompletionGroup, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
pub fn flush(st: &mut FlushState, batches: u32, per: u32) -> Result<IOResult<u32>, CompletionError> {
    let mut b: u32 = 0;
    while b < batches {
        let mut group = CompletionGroup::new(|_| {});
        for _ in 0..per {
            group.add(&Completion::ready());
        }
        let all: Completion = group.build();
        if let Err(e) = yield_io!(all.clone()) {
            all.abort();
            return Err(e);
        }
        b += 1;
    }
    Ok(b * per)
}
