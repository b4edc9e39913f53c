// Patterns and expressions in a fix are printed as written, not with the
// token printer's spacing (`1..= 5`, `b : bb`, `(a,.., c)`, `| y | y + 1`).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

pub struct P {
    pub a: u64,
    pub b: u32,
}
pub struct Q {
    pub a: (u64, u32),
    pub b: u8,
}

fn tri() -> (u64, u32, u8) {
    (1, 2, 3)
}

#[io_state_machine(state = st)]
fn range(st: &mut RangeState, c: &Completion, next: Option<u64>) -> Result<IOResult<u64>, CompletionError> {
    if let Some(n @ 1..=5) = next {
        yield_io!(c.clone())?;
        return Ok(n);
    }
    Ok(0)
}

#[io_state_machine(state = st)]
fn field(st: &mut FieldState, c: &Completion, p: Option<P>) -> Result<IOResult<u64>, CompletionError> {
    if let Some(P { a, b: bb }) = p {
        yield_io!(c.clone())?;
        return Ok(a + u64::from(bb));
    }
    Ok(0)
}

#[io_state_machine(state = st)]
fn rest(st: &mut RestState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let (a, .., c2) = tri();
    yield_io!(c.clone())?;
    Ok(a + u64::from(c2))
}

#[io_state_machine(state = st)]
fn nested(st: &mut NestedState, c: &Completion, q: Q) -> Result<IOResult<u64>, CompletionError> {
    let Q {
        a: (x, y),
        ..
    } = q;
    yield_io!(c.clone())?;
    Ok(x + u64::from(y))
}

#[io_state_machine(state = st)]
fn closure(st: &mut ClosureState, c: &Completion, v: Vec<u64>) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for x in v.into_iter().map(|y| y + 1) {
        yield_io!(c.clone())?;
        t += x;
    }
    Ok(t)
}

fn main() {}
