// An iterator that borrows cannot be bound to a typed local either (its
// type has a lifetime): `v.drain(..)` and `text.lines()` are collected into
// an owned `Vec` first; a loop over a slice parameter (`for x in a`, `a:
// &[u64]`) is the index loop of `a.iter()`.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn drained(st: &mut DrainedState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let mut v: Vec<u64> = vec![1, 2, 3];
    let mut t: u64 = 0;
    for x in v.drain(..) {
        yield_io!(c.clone())?;
        t = t * 10 + x;
    }
    Ok(t + v.len() as u64)
}

#[io_state_machine(state = st)]
fn lines(st: &mut LinesState, c: &Completion, text: &str) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for line in text.lines() {
        yield_io!(c.clone())?;
        t += line.len() as u64;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn slice(st: &mut SliceState, c: &Completion, a: &[u64]) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for x in a {
        yield_io!(c.clone())?;
        t += x;
    }
    Ok(t)
}

fn main() {}
