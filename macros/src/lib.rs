//! The attribute macros of ratchet. Use them through the `ratchet` crate.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

/// Waits for a completion inside an `#[io_state_machine]` function.
///
/// Outside such a function it is a compile error: the attribute rewrites every
/// `yield_io!` of the body before this macro could ever expand.
#[proc_macro]
pub fn yield_io(input: TokenStream) -> TokenStream {
    outside_machine("yield_io", input)
}

/// Calls another `IOResult` function inside an `#[io_state_machine]` function.
///
/// Outside such a function it is a compile error.
#[proc_macro]
pub fn call_io(input: TokenStream) -> TokenStream {
    outside_machine("call_io", input)
}

fn outside_machine(name: &str, input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    let span = input
        .clone()
        .into_iter()
        .next()
        .map_or_else(proc_macro2::Span::call_site, |t| t.span());
    let msg = format!(
        "`{name}!` can only be used in the body of a function annotated with `#[io_state_machine]`, which turns it into a suspension point"
    );
    quote::quote_spanned!(span=> ::core::compile_error!(#msg)).into()
}
