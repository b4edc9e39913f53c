// Found by a fresh-context tester: a `state =` call that gives a new state
// by value compiled, and the machine started over on every call (the state
// was a temporary of the call). Refused: a call must give a guard or a
// `&mut` to the state.
use std::cell::RefCell;

use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

pub struct E {
    r: RefCell<GoState>,
}

#[io_state_machines]
impl E {
    #[io_state_machine(state = std::mem::take(&mut *self.r.borrow_mut()))]
    fn go(&self, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(1)
    }
}

#[io_state_machine(state = FState::default())]
fn f(c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    yield_io!(c.clone())?;
    Ok(1)
}

fn main() {}
