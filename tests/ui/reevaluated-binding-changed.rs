// A change to a `#[reevaluated]` binding itself would be undone by the next
// real resume, which evaluates it again: refused (fresh-context attack on
// `#[reevaluated]`, finding 4). Changing what it points to is fine.
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
fn f(st: &mut FState, pager: &Pager, k: u32, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    #[reevaluated]
    let mut n = k;
    #[reevaluated]
    let mut h = pager.header();
    *h += 1;
    n += 1;
    yield_io!(c.clone())?;
    n = 3;
    drop(h);
    Ok(n)
}

fn main() {}
