// A guard that borrows an argument cannot be stored: with `#[reevaluated]`
// it is evaluated again after each resume instead (tests/reevaluated.rs);
// without it, the error says the local is stored and asks for its type.
use std::cell::{RefCell, RefMut};

use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

pub struct Pager {
    header: RefCell<u32>,
}

impl Pager {
    fn header(&self) -> RefMut<'_, u32> {
        self.header.borrow_mut()
    }
}

#[io_state_machine(state = st)]
fn f(st: &mut FState, pager: &Pager, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let mut header = pager.header();
    *header += 1;
    yield_io!(c.clone())?;
    *header += 1;
    Ok(*header)
}

fn main() {}
