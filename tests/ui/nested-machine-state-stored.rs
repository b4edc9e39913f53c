// A machine declared in the body has its state enum there too: the outer
// machine cannot keep it in a stored local (its state enum lives outside
// the function). The macro says so (rustc's E0425 before, with a help
// naming the outer state).
use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn outer(st: &mut OuterState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    #[io_state_machine(state = s)]
    fn inner(s: &mut InnerState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(2)
    }
    let mut is: InnerState = InnerState::default();
    let a: u32 = call_io!(inner(&mut is, c))?;
    yield_io!(c.clone())?;
    let b: u32 = call_io!(inner(&mut is, c))?;
    Ok(a + b)
}

fn main() {}
