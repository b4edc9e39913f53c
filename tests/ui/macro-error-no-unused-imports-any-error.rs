use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// Whatever the macro refuses, its error is the only diagnostic: the imports
// the body uses are used by the body it still emits (no "unused import").
#[io_state_machine(state = st)]
fn in_closure(st: &mut InClosureState, c: &Completion) -> Result<IOResult<usize>, CompletionError> {
    let map = HashMap::<u32, Rc<u32>>::new();
    let f = || yield_io!(c.clone());
    let _ = f;
    Ok(map.len())
}

#[io_state_machine(state = st, colour = red)]
fn bad_option(st: &mut BadOptionState, c: &Completion) -> Result<IOResult<usize>, CompletionError> {
    let map = BTreeMap::<u32, u32>::new();
    yield_io!(c.clone())?;
    Ok(map.len())
}

#[io_state_machine(state = st)]
fn in_operand(st: &mut InOperandState, c: &Completion) -> Result<IOResult<usize>, CompletionError> {
    let mut s = String::new();
    let _ = write!(s, "x");
    let n = 1 + yield_io!(c.clone())?;
    Ok(s.len() + n as usize)
}

fn main() {}
