// `yield_io!` in the rules of a body `macro_rules!` (round 9 of the
// fresh-context attack): the error called it "another macro's arguments"
// and offered a `let` rewrite that does not apply to a macro's rules.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn f(st: &mut FState) -> Result<IOResult<u64>, CompletionError> {
    macro_rules! wait {
        () => {
            yield_io!(Completion::ready())?
        };
    }
    wait!();
    Ok(1)
}

fn main() {}
