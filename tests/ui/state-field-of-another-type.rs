// `state = self.r` with a `RefCell` or `Box` field gave three rustc type
// mismatches at the attribute, one suggesting `*#[io_state_machines]`: one
// error at the field, saying what to write.
use std::cell::RefCell;

use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

pub struct P {
    r: RefCell<GoState>,
    b: Box<BoxedState>,
}

#[io_state_machines]
impl P {
    #[io_state_machine(state = self.r)]
    fn go(&mut self, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(1)
    }

    #[io_state_machine(state = self.b)]
    fn boxed(&mut self, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(2)
    }
}

fn main() {}
