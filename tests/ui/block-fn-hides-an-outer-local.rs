use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

fn plus100(x: u32) -> u32 {
    x + 100
}

// Inside its block, `fn helper` hides the outer local `helper` (Rust's
// rule); moved to the top of the function, the later local would hide it,
// and the block's call would reach the local (attack round 14, F2: a silent
// 200 for Rust's 101).
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, n: u32) -> Result<IOResult<u32>, CompletionError> {
    let helper: fn(u32) -> u32 = plus100;
    let a: u32 = {
        fn helper(x: u32) -> u32 {
            x + 1
        }
        yield_io!(c.clone())?;
        helper(n)
    };
    Ok(a + helper(n))
}

fn main() {}
