// `state = self` named the receiver as if it were a parameter, and the
// hint said to add a `self: &mut GoState` parameter. The state is kept in a
// field of `self`: the error says to name it.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

pub struct P {
    st: GoState,
}

#[io_state_machines]
impl P {
    #[io_state_machine(state = self)]
    fn go(&mut self, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(1)
    }
}

fn main() {}
