//! `match` with a suspension in the scrutinee and in several arms.
use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine, yield_io};

#[io_state_machine(state = st)]
pub fn kind(st: &mut KindState, c: &Completion) -> Result<IOResult<u8>, CompletionError> {
    yield_io!(c.clone())?;
    Ok(1)
}

#[io_state_machine(state = st)]
pub fn classify(st: &mut ClassifyState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let mut sub: KindState = KindState::default();
    let out: u32 = match call_io!(kind(&mut sub, c))? {
        0 => {
            yield_io!(c.clone())?;
            10
        }
        1 => {
            let k = call_io!(kind(&mut sub, c))?;
            u32::from(k) + 20
        }
        n => u32::from(n),
    };
    Ok(out)
}
