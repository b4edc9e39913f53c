// A block's `fn cnt` and a use of `cnt` before the block where no local of
// that name is in scope yet: at the top of the function the use would reach
// the block's `fn`. (A use after `let cnt` means the local and is accepted.)
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

fn cnt() -> u32 {
    1
}

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let first: u32 = cnt();
    let a: u32 = {
        fn cnt() -> u32 {
            2
        }
        yield_io!(c.clone())?;
        cnt()
    };
    let cnt: u32 = 30;
    Ok(first + a + cnt)
}

fn main() {}
