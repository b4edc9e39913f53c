use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// The stored local's type is written by a macro declared in the body: the
// state enum outside the function cannot invoke it. The attribute says so
// (attack round 14, F10: rustc's "cannot find macro `ty`").
#[io_state_machine(state = st)]
fn typed_by_macro(st: &mut TypedByMacroState, n: u32) -> Result<IOResult<u32>, CompletionError> {
    macro_rules! ty {
        () => {
            u32
        };
    }
    let k: ty!() = n + 1;
    yield_io!(Completion::ready())?;
    Ok(k)
}

fn main() {}
