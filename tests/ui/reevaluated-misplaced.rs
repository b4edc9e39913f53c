// `#[reevaluated]` marks the `let` statements that open the body: placed
// after another statement, or in a nested block, it is refused, and so is a
// re-evaluated binding that waits or has no value. All four errors come
// together, with no error of rustc's about an unknown attribute.
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
    #[reevaluated]
    let waits = yield_io!(c.clone())?;
    #[reevaluated]
    let later;
    let n: u32 = 1;
    #[reevaluated]
    let h = pager.header();
    {
        #[reevaluated]
        let g = pager.header();
        yield_io!(c.clone())?;
        later = *g;
    }
    Ok(n + *h + later + waits as u32)
}

fn main() {}
