// `state =` expressions that cannot be where the state is kept, each
// refused by the macro with the reason, rather than by rustc at the
// attribute (`1 + 2`), at a `!` (`*return ..`) or not at all; an empty
// value is one error, not a second saying `state =` is missing.
use std::cell::RefCell;

use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

pub struct P {
    r: RefCell<GoState>,
}

#[io_state_machines]
impl P {
    #[io_state_machine(state = 1 + 2)]
    fn go(&self, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(1)
    }

    #[io_state_machine(state = *return Ok(IOResult::Done(0)))]
    fn leaves(&self, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(1)
    }

    #[io_state_machine(state = self.r.borrow_mut().await)]
    fn waits(&self, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(1)
    }

    #[io_state_machine(state = )]
    fn empty(&self, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(1)
    }
}

fn main() {}
