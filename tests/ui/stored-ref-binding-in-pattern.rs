// A `ref` binding stored across a suspension point is a borrow: one error
// for its pattern, whose fix binds it by value (a `ref` kept in the fix
// would still be one). A `ref mut` into a place writes to it, which a
// value bound instead would not: no rewrite, and the message says why.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

fn pair() -> (u64, u64) {
    (10, 20)
}

fn optp() -> Option<(u64, u64)> {
    Some((1, 2))
}

#[io_state_machine(state = st)]
fn shared(st: &mut SharedState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let (ref r, s) = pair();
    yield_io!(c.clone())?;
    Ok(r + s)
}

#[io_state_machine(state = st)]
fn mutable(st: &mut MutableState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let (ref mut r, s) = pair();
    *r += 1;
    yield_io!(c.clone())?;
    Ok(*r + s)
}

#[io_state_machine(state = st)]
fn let_else(st: &mut LetElseState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let Some((ref a, b)) = optp() else { return Ok(1) };
    yield_io!(c.clone())?;
    Ok(a + b)
}

#[io_state_machine(state = st)]
fn if_let(st: &mut IfLetState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    if let Some((x, ref m)) = optp() {
        yield_io!(c.clone())?;
        return Ok(x + m);
    }
    Ok(0)
}

#[io_state_machine(state = st)]
fn into_place(st: &mut IntoPlaceState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let mut p: (u64, u64) = pair();
    let (ref mut r, _) = p;
    *r += 1;
    yield_io!(c.clone())?;
    *r += 1;
    Ok(p.0)
}

fn main() {}
