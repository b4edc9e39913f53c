use ratchet::{CompletionError, IOResult, call_io};
fn g() -> Result<IOResult<u32>, CompletionError> { Ok(IOResult::Done(1)) }
fn f() -> Result<u32, CompletionError> {
    call_io!(g())
}
fn main() { let _ = f(); }
