//! A failed expansion (rule 13, issue 15 item 8): the macro's error, the
//! signature, and the body with typed stand-ins for its suspension points.
use ratchet::{
    Completion, CompletionError, IOResult, call_io, io_state_machine, yield_io,
};
fn read_page(c: &Completion) -> Result<IOResult<Vec<u8>>, CompletionError> {
    Ok(
        if c.finished() {
            IOResult::Done(vec![1])
        } else {
            IOResult::IO(c.clone().into())
        },
    )
}
::core::compile_error! {
    "`pages` is stored across the suspension point `yield_io!(c.clone())` (line 18) and used after it on line 23, but #[io_state_machine] cannot read its type, which the state enum needs; write it out: `let pages: Type = ..;`"
}
#[allow(dead_code, missing_docs, clippy::all, clippy::pedantic)]
enum ScanState {
    Idle,
}
#[allow(dead_code, clippy::all, clippy::pedantic)]
const _: () = {
    impl ::core::default::Default for ScanState {
        fn default() -> Self {
            Self::Idle
        }
    }
    impl ::core::fmt::Debug for ScanState {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.write_str("Idle")
        }
    }
    impl ScanState {
        pub fn is_idle(&self) -> bool {
            true
        }
        pub fn reset(&mut self) {
            *self = Self::Idle;
        }
    }
};
#[allow(warnings, clippy::all, clippy::pedantic)]
fn scan(st: &mut ScanState, c: &Completion) -> Result<IOResult<usize>, CompletionError> {
    yield_io!(__ratchet_seen);
    call_io!(__ratchet_seen);
    ::ratchet::__private::done({
        let pages = vec![1u32];
        let n = ::ratchet::__private::stand_in_yield(c.clone())?;
        let squared: i32 = n.pow(2);
        let page = ::ratchet::__private::stand_in_call(read_page(c))?;
        let first: Option<&u8> = page.first();
        if first.is_none() && squared > 0 {
            return ::ratchet::__private::done(Ok(page.len() + pages.len()));
        }
        Ok(page.len())
    })
}
