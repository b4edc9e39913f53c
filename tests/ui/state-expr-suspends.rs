use std::cell::RefCell;

use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine, io_state_machines, yield_io};

pub struct Pager {
    states: Vec<RefCell<FreePageState>>,
}

#[io_state_machines]
impl Pager {
    #[io_state_machine(state = self.states[call_io!(self.pick())?].borrow_mut())]
    pub fn free_page(&self, c: &Completion) -> Result<IOResult<()>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(())
    }

    fn pick(&self) -> Result<IOResult<usize>, CompletionError> {
        Ok(IOResult::Done(0))
    }
}
fn main() {}
