// A `@` binding in a plain `let` is one pattern: one error naming every
// stored name it binds, with the type written in the pattern's own form,
// which keeps the sub-pattern and the `else` (the macro reads the
// sub-pattern's types through the `@`).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

fn pair() -> (u64, u64) {
    (10, 20)
}

fn opt() -> Option<u64> {
    Some(5)
}

#[io_state_machine(state = st)]
fn whole(st: &mut WholeState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let whole @ (p, q) = pair();
    yield_io!(c.clone())?;
    Ok(whole.0 + p + q)
}

#[io_state_machine(state = st)]
fn mutable(st: &mut MutableState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let mut whole @ (p, q) = pair();
    whole.0 += 1;
    yield_io!(c.clone())?;
    Ok(whole.0 + p + q)
}

#[io_state_machine(state = st)]
fn let_else(st: &mut LetElseState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let x @ Some(y) = opt() else { return Ok(0) };
    yield_io!(c.clone())?;
    Ok(x.unwrap_or(0) + y)
}

fn main() {}
