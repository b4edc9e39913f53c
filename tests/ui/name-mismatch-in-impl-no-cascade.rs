use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

// The field names the state by its default name, the attribute by another;
// the macro's error is the only one: rustc's "cannot find type
// `FreePageState`" does not follow it.
pub struct Pager {
    state: FreePageState,
}

#[io_state_machines]
impl Pager {
    #[io_state_machine(state = self.state, name = FreePage)]
    fn free_page(&mut self, c: &Completion) -> Result<IOResult<()>, CompletionError> {
        let pages = vec![1u32];
        yield_io!(c.clone())?;
        drop(pages);
        Ok(())
    }
}
fn main() {}
