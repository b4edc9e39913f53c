use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[derive(Default)]
pub struct Pager { read_state: ReadState }
pub enum ReadState { Idle }
impl Default for ReadState { fn default() -> Self { ReadState::Idle } }
impl Pager {
    #[io_state_machine(state = self.read_state)]
    pub fn read(&mut self, c: &Completion) -> Result<IOResult<()>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(())
    }
}
fn main() {}
