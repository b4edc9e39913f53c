// A map has no positional index: a pair taken apart from `m.iter()` gets
// the collecting fix, whose closure clones a map's `(&K, &V)` (and would a
// slice's `&(A, B)` the same), not `&m[i]`, and so does the pair of an
// enumerated `m.iter()`.
use std::collections::BTreeMap;

use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn map(st: &mut MapState, c: &Completion, m: &BTreeMap<u64, u64>) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for (k, v) in m.iter() {
        yield_io!(c.clone())?;
        t += k * v;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn counted(st: &mut CountedState, c: &Completion, m: &BTreeMap<u64, u64>) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    for (i, (k, v)) in m.iter().enumerate() {
        yield_io!(c.clone())?;
        t += k * v + i as u64;
    }
    Ok(t)
}

fn main() {}
