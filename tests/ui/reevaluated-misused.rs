// `#[reevaluated]` where it cannot work: each gets the macro's own error and
// none of rustc's about an unknown attribute (fresh-context attack on
// `#[reevaluated]`, finding 5).
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
    #[reevaluated(always)]
    let a = pager.header();
    #[reevaluated]
    #[reevaluated]
    let b = pager.header();
    #[reevaluated]
    let idle = st.is_idle();
    #[reevaluated]
    let later = || yield_io!(c.clone());
    #[reevaluated]
    pager.header();
    #[reevaluated]
    fn helper() {}
    yield_io!(c.clone())?;
    let _ = (later, idle);
    Ok(*a + *b)
}

fn main() {}
