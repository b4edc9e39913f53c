use std::cell::RefCell;

use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// A failed generic machine whose state sits in a `RefCell` parameter: the
// idle-only enum the macro still emits takes the generics written on it, so
// `RefCell<FirstState<T>>` names it and the macro's error is the only one.
#[io_state_machine(state = cell.borrow_mut())]
fn first<T: Clone>(cell: &RefCell<FirstState<T>>, c: &Completion, items: &[T]) -> Result<IOResult<Option<T>>, CompletionError> {
    let copy = items.to_vec();
    yield_io!(c.clone())?;
    Ok(copy.first().cloned())
}

pub struct Holder<T> {
    cell: RefCell<FirstState<T>>,
}

fn main() {
    let h = Holder { cell: RefCell::new(FirstState::<u8>::default()) };
    let _ = first(&h.cell, &Completion::ready(), &[1u8]);
}
