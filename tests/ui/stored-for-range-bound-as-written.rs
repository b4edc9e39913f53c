// A range's bound is copied into the fix without the parentheses around it
// (`unused_parens` under `deny(warnings)`), its type is read from
// `a.len() - 1` as from `a.len()`, a `_` pattern gets no `let _: _`, and
// a parenthesized `let` pattern loses its parentheses next to its type.
#![deny(warnings)]
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
pub fn bounds(st: &mut BoundsState, c: &Completion, a: &[u64]) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    #[allow(unused_parens)]
    for i in (0..(a.len())) {
        yield_io!(c.clone())?;
        t += a[i];
    }
    for i in 0..=a.len() - 1 {
        yield_io!(c.clone())?;
        t += a[i];
    }
    for _ in 0..a.len() {
        yield_io!(c.clone())?;
        t += 1;
    }
    Ok(t)
}

fn pair() -> (u64, u64) {
    (10, 20)
}

#[io_state_machine(state = st)]
pub fn parenthesized(st: &mut ParenthesizedState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    #[allow(unused_parens)]
    let (a) = pair();
    yield_io!(c.clone())?;
    Ok(a.0)
}

fn main() {}
