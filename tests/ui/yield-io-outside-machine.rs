use ratchet::{Completion, CompletionError, yield_io};
fn f(c: &Completion) -> Result<(), CompletionError> {
    yield_io!(c.clone())
}
fn main() { let _ = f(&Completion::ready()); }
