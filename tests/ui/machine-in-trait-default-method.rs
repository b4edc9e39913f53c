use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};
// A trait's default method cannot be a machine; one error says so.
pub trait Machine {
    fn c(&self) -> Completion;
    #[io_state_machine(state = self.st)]
    fn run(&mut self) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(self.c())?;
        Ok(1)
    }
}
fn main() {}
