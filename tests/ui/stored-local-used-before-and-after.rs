// The later use named is the one after the suspension point (line 12), not
// the earlier one in the branch (line 10); and in a loop, the next
// iteration's use is called that.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, k: bool) -> Result<IOResult<usize>, CompletionError> {
    let v = Vec::from([1u8, 2]);
    if k {
        println!("{}", v.len());
    }
    yield_io!(c.clone())?;
    let w = Vec::from([3u8]);
    let mut n: usize = v.len();
    for _ in 0..3u8 {
        n += w.len();
        yield_io!(c.clone())?;
    }
    Ok(n)
}

fn main() {}
