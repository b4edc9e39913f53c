// A tuple pattern binds one name read after the suspension point and one
// never read (held for its `Drop` to the end of its scope): one error for
// the pattern, naming both, with the pattern's fix, not a second error at
// the unread name suggesting `let a: Type = ..;`, which a tuple cannot hold.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

fn pair() -> (String, u32) {
    (String::new(), 2)
}

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let (guard, b) = pair();
    yield_io!(c.clone())?;
    Ok(u64::from(b))
}

#[io_state_machine(state = st)]
fn g(st: &mut GState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let (guard, _other) = pair();
    yield_io!(c.clone())?;
    Ok(1)
}

fn main() {}
