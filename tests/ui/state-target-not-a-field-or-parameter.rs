use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};
// One error for an unusable `state =`, not a second saying it is missing.
pub struct P { states: Vec<RunState> }
#[io_state_machines]
impl P {
    #[io_state_machine(state = { self.states[0] })]
    fn run(&mut self, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(1)
    }
}
fn main() {}
