//! A failed expansion (rule 13, issue 15 item 8): the macro's error, the
//! signature, and the body with typed stand-ins for its suspension points.
use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine, yield_io};

fn read_page(c: &Completion) -> Result<IOResult<Vec<u8>>, CompletionError> {
    Ok(if c.finished() { IOResult::Done(vec![1]) } else { IOResult::IO(c.clone().into()) })
}

// On the macro's error (`pages` has no type it can read) the body is still
// emitted, each suspension replaced by a stand-in of its type: `n` is an
// `i32` (`yield_io!`'s `Result<i32, CompletionError>`), `page` a `Vec<u8>`
// (the callee's `Done` type), so `n.pow(2)`, `page.len()` and `first`'s
// type check, and the only error is the macro's. (rust-analyzer sees the
// same body: completion and inference keep working while it is fixed.)
#[io_state_machine(state = st)]
fn scan(st: &mut ScanState, c: &Completion) -> Result<IOResult<usize>, CompletionError> {
    let pages = vec![1u32];
    let n = yield_io!(c.clone())?;
    let squared: i32 = n.pow(2);
    let page = call_io!(name = ReadIt, read_page(c))?;
    let first: Option<&u8> = page.first();
    if first.is_none() && squared > 0 {
        return Ok(page.len() + pages.len());
    }
    Ok(page.len())
}
