use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

use ratchet::io_state_machines;
pub struct S { st: RunState }
#[io_state_machines(state = self.st)]
impl S {
    #[io_state_machine(state = self.st)]
    pub fn run(&mut self, c: &Completion) -> Result<IOResult<()>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(())
    }
}
fn main() {}
