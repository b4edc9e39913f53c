// Two sibling blocks, each holding a suspension point, each declaring its
// own `K`: valid Rust, but at the top of the function they would collide
// (rustc's E0428 before). One error, at the first.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let mut total: u32 = 0;
    {
        const K: u32 = 1;
        yield_io!(c.clone())?;
        total += K;
    }
    {
        const K: u32 = 10;
        yield_io!(c.clone())?;
        total += K;
    }
    Ok(total)
}

fn main() {}
