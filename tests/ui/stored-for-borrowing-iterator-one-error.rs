// A loop whose iterator has a type that borrows (`Drain<'_, u64>`,
// `Lines<'_>`, `&[u64]`) gets one error, which says "this loop's iterator"
// (never a generated name) and gives the fix for the iterator the local
// was made from.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn drained(st: &mut DrainedState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let mut v: Vec<u64> = vec![1, 2, 3];
    let mut t: u64 = 0;
    let it: std::vec::Drain<'_, u64> = v.drain(..);
    for x in it {
        yield_io!(c.clone())?;
        t = t * 10 + x;
    }
    Ok(t + v.len() as u64)
}

#[io_state_machine(state = st)]
fn lines(st: &mut LinesState, c: &Completion, text: &str) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    let it: std::str::Lines<'_> = text.lines();
    for line in it {
        yield_io!(c.clone())?;
        t += line.len() as u64;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn slice(st: &mut SliceState, c: &Completion, a: &[u64]) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    let it: &[u64] = a;
    for x in it {
        yield_io!(c.clone())?;
        t += x;
    }
    Ok(t)
}

fn main() {}
