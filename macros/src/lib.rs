//! The attribute macros of ratchet. Use them through the `ratchet` crate.
//!
//! The transform itself lives in `ratchet-macros-core`, a plain library, so
//! that tests and fuzzers can call it on `proc_macro2::TokenStream`.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

/// Turns a function with suspension points into a re-entrant state machine
/// over `IOResult`.
///
/// ```text
/// #[io_state_machine(state = st)]
/// fn copy_pages(st: &mut CopyPagesState, src: &dyn File, dst: &dyn File, n: u64)
///     -> Result<IOResult<u64>, Error>
/// {
///     let mut i: u64 = 0;
///     while i < n {
///         let buf: Arc<Buffer> = Arc::new(Buffer::new(4096));
///         yield_io!(src.pread(i * 4096, Completion::read(buf.clone()))?)?;
///         yield_io!(dst.pwrite(i * 4096, buf, Completion::write())?)?;
///         i += 1;
///     }
///     Ok(n)
/// }
/// ```
///
/// The body is written as if the function returned `Result<T, E>`; the
/// signature returns `Result<IOResult<T>, E>` with `E: From<CompletionError>`.
/// Each call resumes at the last suspension point (`yield_io!` or
/// `call_io!`), with the arguments of that call; the statements before it
/// never run twice.
///
/// Options:
/// - `state = param` (a `&mut` parameter), `state = self.field` (a method
///   inside `#[io_state_machines] impl`), or an expression evaluated once
///   per call that is the state or derefs mutably to it, held for that call
///   only (`state = self.field.borrow_mut()`, `state =
///   *self.field.lock().unwrap()`, `state = self.states[i]`, for `&self`
///   methods whose state sits behind a `RefCell` or a lock): where the
///   state lives. Required.
/// - `name = StateType`: the state enum's name (default: the function's name
///   in CamelCase + `State`).
/// - `crate = path`: where the runtime is (default `::ratchet`).
/// - `max_size = bytes`: a compile-time bound on `size_of` of the state. A
///   state over it fails to compile with its actual size and what each
///   suspension point keeps (`StateType::size_report()` gives each
///   variant's bytes). Only for a state without generic parameters.
///
/// Beside the function it emits the state enum: `Idle` (its `Default`) and,
/// per suspension point, a variant named after the awaited call (or the name
/// given as `yield_io!(name = ReadHeader, c)`) holding only the locals live
/// there (each needs a type the macro can read: an annotation, a suffixed
/// literal, a cast, or a copy of a typed parameter or local). It implements
/// `Debug` (where it waits, as `file:line:column` and source, and what it
/// stores), `is_idle()`, `reset()`, `size_report()`, and the state diagram
/// its documentation shows, as `STATE_DIAGRAM_MERMAID` and
/// `STATE_DIAGRAM_DOT`. After `Done`, an `Err` or a panic the state is idle.
///
/// A suspension point stands as a whole statement, `let` initializer,
/// assignment right side, `return` value, tail, `match` scrutinee, or `if` /
/// `while` (`let`) condition, optionally under `?`; anywhere else it is a
/// compile error that shows the `let` to write instead.
#[proc_macro_attribute]
pub fn io_state_machine(attr: TokenStream, item: TokenStream) -> TokenStream {
    ratchet_macros_core::expand_io_state_machine(attr.into(), item.into()).into()
}

/// Put on an `impl` block whose methods carry `#[io_state_machine(state =
/// self.field)]`: emits their state enums beside the impl.
#[proc_macro_attribute]
pub fn io_state_machines(attr: TokenStream, item: TokenStream) -> TokenStream {
    ratchet_macros_core::expand_io_state_machines(attr.into(), item.into()).into()
}

/// Inside an `#[io_state_machine]` function: waits for a completion and
/// gives its result (a hand-written machine uses `io_yield_one!` instead).
///
/// `yield_io!(c)` evaluates `c` once, to a `Completion`, and suspends the
/// machine until it has finished (or goes on at once if it already has). Its
/// value is `Result<i32, CompletionError>`: the bytes a read or write moved
/// (a read at the end of the file is short: fewer bytes than the buffer
/// holds), 0 for a sync, truncate or built group, or the completion's error.
///
/// ```text
/// let n = yield_io!(file.pread(pos, Completion::read(buf.clone()))?)?;
/// let page = &buf.as_slice()[..n as usize];
/// ```
///
/// `yield_io!(name = ReadHeader, c)` names the suspension point: its variant
/// of the state enum is `ReadHeader` (instead of one derived from the awaited
/// call, such as `Pread2`), and `Debug`, tracing events and the state diagram
/// say `ReadHeader`. `call_io!(name = Descend, ..)` does the same. Each name
/// is used once per machine, and not `Idle`.
///
/// Not to be confused with `io_yield_one!`, which is for hand-written
/// machines: it returns `IO` from the enclosing function and needs no
/// attribute.
///
/// Outside such a function it is a compile error: the attribute rewrites every
/// `yield_io!` of the body before this macro could ever expand.
#[proc_macro]
pub fn yield_io(input: TokenStream) -> TokenStream {
    outside_machine("yield_io", input)
}

/// Calls another `IOResult` function inside an `#[io_state_machine]` function.
///
/// `call_io!(name = Descend, self.descend(key))` names the suspension point,
/// as `yield_io!(name = .., c)` does.
///
/// Outside such a function it is a compile error.
#[proc_macro]
pub fn call_io(input: TokenStream) -> TokenStream {
    outside_machine("call_io", input)
}

fn outside_machine(name: &str, input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    // `#[io_state_machine]` leaves one `yield_io!(__ratchet_seen)` per macro
    // path it rewrote, so the user's `use ratchet::yield_io;` counts as used.
    let mut it = input.clone().into_iter();
    if let (Some(proc_macro2::TokenTree::Ident(id)), None) = (it.next(), it.next())
        && id == "__ratchet_seen"
    {
        return TokenStream::new();
    }
    let span = proc_macro2::Span::call_site();
    // `use ratchet::yield_io as y;`: the attribute knows a suspension point
    // by its name only, so a renamed one reaches this macro even inside an
    // annotated body; saying "only in the body of .." would be wrong there.
    let written = span.source_text().and_then(|t| {
        let path: String = t
            .split('!')
            .next()?
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let last = path.rsplit("::").next()?.trim_start_matches("r#").to_string();
        (!last.is_empty() && last != name).then_some(path)
    });
    let msg = match written {
        Some(path) => format!(
            "`{path}!` is `{name}!` under another name (`use .. as`), which `#[io_state_machine]` does not see: it finds suspension points by their name, a path ending in `{name}`; write `{name}!(..)` here (and `use ratchet::{name};`)"
        ),
        None => format!(
            "`{name}!` can only be used in the body of a function annotated with `#[io_state_machine]`, written there by its own name (not renamed by `use .. as`, not produced by another macro), which turns it into a suspension point"
        ),
    };
    let tokens = quote_error(span, &msg);
    tokens.into()
}

fn quote_error(span: proc_macro2::Span, msg: &str) -> proc_macro2::TokenStream {
    syn_free_compile_error(span, msg)
}

/// `::core::compile_error!("msg")` at `span`, built without `quote` so this
/// crate depends on the core crate only.
fn syn_free_compile_error(span: proc_macro2::Span, msg: &str) -> proc_macro2::TokenStream {
    use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, TokenTree};
    let mut lit = Literal::string(msg);
    lit.set_span(span);
    let mut group = Group::new(Delimiter::Parenthesis, TokenTree::from(lit).into());
    group.set_span(span);
    let colon = |s| {
        let mut p = Punct::new(':', s);
        p.set_span(span);
        TokenTree::from(p)
    };
    [
        colon(Spacing::Joint),
        colon(Spacing::Alone),
        TokenTree::from(Ident::new("core", span)),
        colon(Spacing::Joint),
        colon(Spacing::Alone),
        TokenTree::from(Ident::new("compile_error", span)),
        TokenTree::from(Punct::new('!', Spacing::Alone)),
        TokenTree::from(group),
    ]
    .into_iter()
    .collect()
}
