use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// A stored local whose array length is a `const` of the body: the state
// enum outside the function cannot name it (attack round 13, finding 7:
// E0425 with rustc's "you might be missing a const parameter").
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u8>, CompletionError> {
    const N: usize = 4;
    let a: [u8; N] = [0; N];
    yield_io!(c.clone())?;
    Ok(a[0])
}

fn main() {}
