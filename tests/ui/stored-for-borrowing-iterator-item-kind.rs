// A loop over a borrowed collection becomes an index loop whose item is
// what the pattern had: a reference for `x` of `v.iter()` (`&v[i]`, taken
// after the suspension point, since the state cannot keep it), `&mut v[i]`
// for `iter_mut`, a value for `&x`. An iterator that changes its items
// (`map`) is not read back by index: the fix would drop the `map`.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn by_ref(st: &mut ByRefState, c: &Completion, v: &[u64]) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for (i, x) in v.iter().enumerate() {
        yield_io!(c.clone())?;
        t += *x * i as u64;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn by_mut(st: &mut ByMutState, c: &Completion, v: &mut [u64]) -> Result<IOResult<u64>, CompletionError> {
    for x in v.iter_mut() {
        yield_io!(c.clone())?;
        *x += 1;
    }
    Ok(0)
}

#[io_state_machine(state = st)]
fn by_value(st: &mut ByValueState, c: &Completion, v: &[u64]) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for &x in v.iter() {
        yield_io!(c.clone())?;
        t += x;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn mapped(st: &mut MappedState, c: &Completion, v: &[u64]) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for x in v.iter().map(|y| y * 2) {
        yield_io!(c.clone())?;
        t += x;
    }
    Ok(t)
}

fn main() {}
