//! Token helpers shared by the stages that write code: the graph builder
//! (`cfg`, stage 3) and the emitter (`emit`, stage 7) both need the names a
//! token stream mentions, spans moved onto generated tokens, and rule 1's
//! error conversion. Plain functions on tokens and types, no stage state.

use std::collections::BTreeSet;

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::quote;
use syn::Type;

// Input:  the error type `E` of `Result<IOResult<T>, E>`
// Output: `<E as From<CompletionError>>::from`, located at `E`
/// Rule 1's `E: From<CompletionError>`, as the path that converts: the
/// attribute's check of the error type and every `yield_io!(..)?` name it
/// at the same span, so a type without the impl gets one error from rustc
/// (which drops a diagnostic identical to one it gave), at the error type.
pub fn error_conversion(p: &TokenStream, e: &Type) -> TokenStream {
    let span = syn::spanned::Spanned::span(e);
    // A trait object written with a trailing `+` (`E +`) parses in the
    // signature but not before `as`: print it without.
    let mut e = e.clone();
    if let Type::TraitObject(o) = &mut e
        && o.bounds.trailing_punct()
    {
        o.bounds = o.bounds.iter().cloned().collect();
    }
    respan(quote!(<#e as #p::From<#p::CompletionError>>::from), span)
}

// Input:  the tokens of `Ref<'a, T>`, of `f(x, "{y}")`
// Output: `{'a, Ref, T}`, `{f, x, y}`
/// Every identifier in `ts` (lifetimes with their `'`), inside groups too,
/// and every name a string literal could capture as a format argument
/// (`"{x}"`): code that moves must not find another `x` where it lands.
pub(crate) fn collect_idents(ts: &TokenStream, out: &mut BTreeSet<String>) {
    let trees: Vec<TokenTree> = ts.clone().into_iter().collect();
    for (i, tt) in trees.iter().enumerate() {
        match tt {
            TokenTree::Literal(lit) => out.extend(crate::scan::format_captures(&lit.to_string())),
            TokenTree::Ident(id) => {
                let lifetime = i > 0 && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '\'');
                if lifetime {
                    out.insert(format!("'{id}"));
                } else {
                    out.insert(id.to_string());
                }
            }
            TokenTree::Group(g) => collect_idents(&g.stream(), out),
            _ => {}
        }
    }
}

// Input:  the tokens of `a::b(c)`, a span `s`
// Output: the same tokens, each (a group's delimiters too) located at `s`
/// `tokens` with every span set to `span`.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let TokenTree::Group(g) = &t {
                let mut ng = Group::new(g.delimiter(), respan(g.stream(), span));
                ng.set_span(span);
                t = TokenTree::Group(ng);
            } else {
                t.set_span(span);
            }
            t
        })
        .collect()
}
