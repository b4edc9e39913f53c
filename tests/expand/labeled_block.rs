//! A labeled block left early with a value, around a suspension; the state
//! enum renamed with `name =` and the crate path given with `crate =`.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st, name = Probe, crate = ::ratchet)]
pub fn probe(st: &mut Probe, c: &Completion, fast: bool) -> Result<IOResult<u8>, CompletionError> {
    let v: u8 = 'found: {
        if fast {
            break 'found 1;
        }
        yield_io!(c.clone())?;
        2
    };
    Ok(v)
}
