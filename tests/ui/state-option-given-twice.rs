// Found by a fresh-context tester: a repeated `state =` or `name =` option
// silently took the last one. Each option is given once; the repeat is
// refused at its name, and the body is still checked with the first.
use std::cell::RefCell;

use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

pub struct P {
    r: RefCell<GoState>,
    v: Vec<GoState>,
}

#[io_state_machines]
impl P {
    #[io_state_machine(state = self.r.borrow_mut(), state = self.v[0])]
    fn go(&mut self, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(1)
    }
}

#[io_state_machine(state = s, name = FState, name = GState)]
fn f(s: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    yield_io!(c.clone())?;
    Ok(1)
}

fn main() {}
