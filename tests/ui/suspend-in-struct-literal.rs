use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

struct Pair { a: u32, b: i32 }
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let p = Pair { a: 1, b: yield_io!(c.clone())? };
    let _ = p.b;
    Ok(p.a)
}
fn main() {}
