// The names a `for` fix introduces (`end`, `start`, `it`, `item`, `n`, `i`)
// must not shadow anything the function names: with a parameter `end` read
// in the body, `let end: usize = n.len(); for i in 0..end { .. }` would
// compile and silently read `n.len()` where the body meant the parameter.
// Each fix here takes the next free name (`end2`, `it2`, ..).
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn bound(st: &mut BoundState, c: &Completion, v: &[u64], end: u64) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for i in 0..v.len() {
        yield_io!(c.clone())?;
        t += v[i] + end;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn start(st: &mut StartState, c: &Completion, v: &[u64], start: u64) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for i in v.len() / 2..v.len() {
        yield_io!(c.clone())?;
        t += v[i] + start;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn iter(st: &mut IterState, c: &Completion, v: Vec<u64>, it: u64, item: u64) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for (x, y) in v.into_iter().map(|y| (y, y + 1)) {
        yield_io!(c.clone())?;
        t += x * it + y * item;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn index(st: &mut IndexState, c: &Completion, v: &[u64], n: u64, i: u64) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for x in v.iter() {
        yield_io!(c.clone())?;
        t += x * n + i;
    }
    Ok(t)
}

fn main() {}
