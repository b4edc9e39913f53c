// The `else` block of a `let-else` holds a suspension point, so it becomes a
// branch of the machine: it must diverge, and this one ends with a `let`.
// (One that ends with a call returning `!` or a macro that returns is
// checked by rustc: tests/transform_correctness.rs.)
use ratchet::{io_state_machine, yield_io, Completion, CompletionError, IOResult};

#[io_state_machine(state = st)]
fn first(st: &mut FirstState, c: &Completion, opt: Option<u32>) -> Result<IOResult<u32>, CompletionError> {
    let Some(v) = opt else {
        yield_io!(c.clone())?;
        let _n = 0;
    };
    Ok(v)
}

fn main() {}
