//! `state = <expression>`: a `&self` method whose state sits in a
//! `RefCell` field (Turso's `Pager::free_page` shape), borrowed once per
//! call and released when the call returns.
use std::cell::RefCell;

use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

pub struct Pager {
    free_page_state: RefCell<FreePageState>,
}

#[io_state_machines]
impl Pager {
    #[io_state_machine(state = self.free_page_state.borrow_mut())]
    pub fn free_page(&self, c: &Completion, page: u32) -> Result<IOResult<u32>, CompletionError> {
        let trunk: u32 = page / 2;
        yield_io!(c.clone())?;
        Ok(trunk)
    }
}

#[test]
fn runs() {
    let p = Pager {
        free_page_state: RefCell::new(FreePageState::default()),
    };
    assert!(matches!(
        p.free_page(&Completion::ready(), 8),
        Ok(IOResult::Done(4))
    ));
}
