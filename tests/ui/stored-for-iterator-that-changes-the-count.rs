// An index loop is offered only where it is exact. Where the iterator
// changes the count or what an item is (`chars`: chars, not bytes; `zip`:
// the shorter side; `windows`; `skip`), the fix collects the items, made
// owned, into a `Vec` before the loop and loops over that; over mutable
// borrows (`iter_mut().skip(1)`) no rewrite keeps the meaning, and the
// message says why.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn chars(st: &mut CharsState, c: &Completion, s: &str) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for ch in s.chars() {
        yield_io!(c.clone())?;
        t = t * 31 + ch as u64;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn chars_enumerated(st: &mut CharsEnumeratedState, c: &Completion, s: &str) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for (i, ch) in s.chars().enumerate() {
        yield_io!(c.clone())?;
        t = t * 31 + ch as u64 + i as u64;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn zipped(st: &mut ZippedState, c: &Completion, a: &[u64], b: &[u64]) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for (x, y) in a.iter().zip(b.iter()) {
        yield_io!(c.clone())?;
        t += x * y;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn windows(st: &mut WindowsState, c: &Completion, a: &[u64]) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for wnd in a.windows(2) {
        yield_io!(c.clone())?;
        t += wnd[0] * wnd[1];
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn skipped(st: &mut SkippedState, c: &Completion, a: &[u64]) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for x in a.iter().skip(1) {
        yield_io!(c.clone())?;
        t += x;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn skipped_mut(st: &mut SkippedMutState, c: &Completion, a: &mut [u64]) -> Result<IOResult<u64>, CompletionError> {
    for x in a.iter_mut().skip(1) {
        yield_io!(c.clone())?;
        *x += 1;
    }
    Ok(0)
}

fn main() {}
