use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

// Nothing wrong in the machine: the field names a type that does not exist
// (the attribute names the state `FreePage`). rustc's one error says so;
// the generated code that reads the field adds none.
pub struct Pager {
    state: FreePageState,
}

#[io_state_machines]
impl Pager {
    #[io_state_machine(state = self.state, name = FreePage)]
    fn free_page(&mut self, c: &Completion) -> Result<IOResult<()>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(())
    }
}
fn main() {}
