// A local bound by a `while let` pattern is stored across a suspension point,
// but a pattern cannot carry a type: the fix is a typed rebinding.
use ratchet::{call_io, io_state_machine, CompletionError, IOResult};

fn read(no: u64) -> Result<IOResult<u64>, CompletionError> {
    Ok(IOResult::Done(no))
}

#[io_state_machine(state = st)]
fn drain(st: &mut DrainState, stack: &mut Vec<u64>) -> Result<IOResult<u64>, CompletionError> {
    let mut sum: u64 = 0;
    while let Some(no) = stack.pop() {
        let v: u64 = call_io!(read(no))?;
        sum += v + no;
    }
    Ok(sum)
}

fn main() {}
