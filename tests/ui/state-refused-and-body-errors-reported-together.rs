// Found by a fresh-context tester: a refused `state =` hid the body's own
// errors until it was fixed. Rule 13: all errors of one function together.
use std::cell::RefCell;

use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

pub struct P {
    r: RefCell<GoState>,
}

#[io_state_machines]
impl P {
    #[io_state_machine(state = { self.r.borrow_mut() })]
    fn go(&self, c: &Completion) -> Result<IOResult<i32>, CompletionError> {
        let y = 1i32 + yield_io!(c.clone())?;
        Ok(y)
    }
}

fn main() {}
