use std::cell::RefCell;

use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

pub struct Pager {
    free_page_state: RefCell<FreePageState>,
}

#[io_state_machines]
impl Pager {
    #[io_state_machine(state = self.free_page_state)]
    pub fn free_page(&self, c: &Completion) -> Result<IOResult<()>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(())
    }
}
fn main() {}
