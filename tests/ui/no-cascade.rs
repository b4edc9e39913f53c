use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

// The machine is broken; everything that names it still compiles, so the
// one error below is the only one.
#[io_state_machine(state = st)]
pub fn broken(st: &mut BrokenState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let n = vec![1u32];
    yield_io!(c.clone())?;
    Ok(n[0])
}
pub struct Holder { state: BrokenState }
fn caller(h: &mut Holder, c: &Completion) -> Result<u32, CompletionError> {
    assert!(h.state.is_idle());
    h.state.reset();
    println!("{:?}", h.state);
    match broken(&mut h.state, c)? {
        IOResult::Done(v) => Ok(v),
        IOResult::IO(_) => Ok(0),
    }
}
fn main() {
    let mut h = Holder { state: BrokenState::default() };
    let _ = caller(&mut h, &Completion::ready());
}
