// A `state =` expression that names a local of the body got rustc's
// "cannot find value": the expression runs before the body, so the macro
// says that, at the name.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

pub struct P {
    v: Vec<GoState>,
}

#[io_state_machines]
impl P {
    #[io_state_machine(state = self.v[slot])]
    fn go(&mut self, c: &Completion) -> Result<IOResult<usize>, CompletionError> {
        let slot: usize = 1;
        yield_io!(c.clone())?;
        Ok(slot)
    }
}

fn main() {}
