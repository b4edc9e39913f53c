// The `else` block of a `let-else` holds a suspension point, so it becomes a
// branch of the machine: the macro must see that it diverges.
use ratchet::{io_state_machine, yield_io, Completion, CompletionError, IOResult};

fn give_up() -> ! {
    std::process::exit(1)
}

#[io_state_machine(state = st)]
fn first(st: &mut FirstState, c: &Completion, opt: Option<u32>) -> Result<IOResult<u32>, CompletionError> {
    let Some(v) = opt else {
        yield_io!(c.clone())?;
        give_up();
    };
    Ok(v)
}

fn main() {}
