//! Shadowing while the outer binding is still needed: a nested block's
//! `x` hides the outer `x` across a suspension point, and a loop body's
//! `n` hides the counter the next iteration reads. The hidden binding gets
//! a field of its own (`x_2`) and is moved to a name the user's code cannot
//! reach before the `let` that hides it.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
pub fn nested(st: &mut NestedState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let x: u32 = 1;
    {
        let x: u32 = 2;
        yield_io!(c.clone())?;
        assert_eq!(x, 2);
    }
    Ok(x)
}

#[io_state_machine(state = st)]
pub fn counter(st: &mut CounterState, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
    let mut n: u64 = 0;
    loop {
        n += 1;
        if n > 3 {
            break;
        }
        let n: Result<(), CompletionError> = yield_io!(c.clone());
        n?;
    }
    Ok(n)
}
