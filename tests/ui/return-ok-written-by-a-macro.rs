use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

macro_rules! done {
    ($v:expr) => {
        return Ok($v)
    };
}

// The machine cannot see a `return` another macro writes: `Ok(5)` is then
// the function's `Result<IOResult<u32>, _>`, which rustc says (once; the
// body's end is not reported again). `return Ok(done_value!())`-style code,
// or `return Err(..)` from a macro, works.
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    yield_io!(c.clone())?;
    done!(5);
}

fn main() {}
