use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

pub struct Pager {
    states: Vec<FreePageState>,
}

#[io_state_machines]
impl Pager {
    #[io_state_machine(state = &mut self.states[i])]
    pub fn free_page(&mut self, i: usize, c: &Completion) -> Result<IOResult<()>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(())
    }
}
fn main() {}
