// The same with a typed `&mut` binding and a parameter's nested field.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

pub struct Inner {
    hits: Vec<u32>,
    misses: Vec<u32>,
}
pub struct Stats {
    inner: Inner,
}

#[io_state_machine(state = st)]
fn count(st: &mut CountState, c: &Completion, stats: &mut Stats, miss: bool) -> Result<IOResult<()>, CompletionError> {
    let mut v: &mut Vec<u32> = &mut stats.inner.hits;
    v.push(0);
    if miss {
        v = &mut stats.inner.misses;
    }
    yield_io!(c.clone())?;
    v.push(1);
    Ok(())
}

fn main() {}
