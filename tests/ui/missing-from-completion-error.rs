use ratchet::{Completion, IOResult, io_state_machine, yield_io};

#[derive(Debug)]
pub struct MyError;
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, MyError> {
    let _r = yield_io!(c.clone());
    Ok(1)
}
fn main() {}
