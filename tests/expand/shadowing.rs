//! Shadowing across suspension points, and stored locals read only inside
//! `format!` captures and `assert!`.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

#[io_state_machine(state = st)]
pub fn render(st: &mut RenderState, c: &Completion) -> Result<IOResult<String>, CompletionError> {
    let x: u32 = 7;
    yield_io!(c.clone())?;
    let x: String = format!("{}", x + 1);
    let limit: usize = 4;
    yield_io!(c.clone())?;
    assert!(x.len() < limit, "{limit}");
    Ok(format!("<{x}>"))
}
