//! A nested call in a `for` loop with a carried index; the callee is itself
//! a machine whose state lives in `self`.
use ratchet::{
    Completion, CompletionError, IOResult, call_io, io_state_machine, io_state_machines, yield_io,
};

#[derive(Default)]
pub struct Pager {
    free_state: FreePageState,
    clear_state: ClearState,
}

#[io_state_machines]
impl Pager {
    #[io_state_machine(state = self.free_state)]
    pub fn free_page(&mut self, no: u64) -> Result<IOResult<()>, CompletionError> {
        let _ = no;
        yield_io!(Completion::ready())?;
        Ok(())
    }

    #[io_state_machine(state = self.clear_state)]
    pub fn clear(&mut self, n: u64) -> Result<IOResult<u64>, CompletionError> {
        for i in 0..n {
            call_io!(self.free_page(i))?;
        }
        Ok(n)
    }
}
