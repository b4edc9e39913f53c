// Found by the never-panic fuzzer: syn parses `for self in ..`, and the
// expansion used to carry the name into code that did not parse.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, len: u32) -> Result<IOResult<u32>, CompletionError> {
    let mut n: u32 = 0;
    for self in 0..len {
        yield_io!(c.clone())?;
        n += 1;
    }
    Ok(n)
}

fn main() {}
