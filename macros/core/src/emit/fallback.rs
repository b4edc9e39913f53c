//! Stage 7, emit, on error: the output of a failed expansion (degrade
//! gracefully). Takes the user's function and the errors; gives the function
//! with a stand-in body that keeps the body's types for rust-analyzer (or a
//! `panic!` body where a stand-in would add errors), an idle-only state
//! enum, and the errors apart, for module level.

use proc_macro2::{Group, Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::Generics;
use syn::visit_mut::VisitMut;

use crate::tokens::respan;

use super::Output;

/// What a failed expansion's fallback needs beside the function.
pub struct Failure<'a> {
    /// The `compile_error!`s.
    pub errors: TokenStream,
    /// The attribute's arguments (a `state =` naming `call_io!` keeps its
    /// import used).
    pub attr: &'a TokenStream,
    /// Where the errors point, as line and column.
    pub at: &'a [(usize, usize)],
    /// The facade crate's path.
    pub krate: &'a TokenStream,
}

/// On any error: the function with its signature, the user's body with
/// every `yield_io!` and `call_io!` replaced by a typed stand-in (see
/// [`stand_in_body`]) so rust-analyzer keeps the types of the body, plus an
/// idle-only state enum so callers naming it compile too. The errors are
/// handed back apart, for the caller to put at module level.
pub fn fallback(
    failure: Failure<'_>,
    attrs: &[syn::Attribute],
    vis: &syn::Visibility,
    sig: &syn::Signature,
    body: &syn::Block,
    state: Option<(&Ident, Generics)>,
) -> Output {
    let Failure {
        errors,
        attr,
        at,
        krate,
    } = failure;
    // Keeps the user's `use ratchet::yield_io;` used, also where only the
    // attribute's `state =` names it.
    let mut paths = crate::scan::macro_paths(body);
    let mut in_attr = Vec::new();
    suspension_idents(attr, &mut in_attr);
    for id in in_attr {
        if !paths
            .iter()
            .any(|q| q.segments.last().is_some_and(|s| s.ident == id))
        {
            paths.push(syn::Path::from(id));
        }
    }
    let p = quote!(#krate::__private);
    let func = match stand_in_body(&p, sig, body, at) {
        Some(body) => quote! {
            #(#attrs)*
            #[allow(warnings, clippy::all, clippy::pedantic)]
            #vis #sig {
                #(#paths!(__ratchet_seen);)*
                #body
            }
        },
        None => quote! {
            #(#attrs)*
            #[allow(unused_variables, unused_mut, clippy::all, clippy::pedantic)]
            #vis #sig {
                #(#paths!(__ratchet_seen);)*
                ::core::panic!("this #[io_state_machine] did not compile")
            }
        },
    };
    let state = match state {
        None => quote!(),
        Some((name, generics)) => {
            let (ig, tg, wc) = generics.split_for_impl();
            let tys: Vec<&Ident> = generics.type_params().map(|t| &t.ident).collect();
            let lts: Vec<&syn::Lifetime> = generics.lifetimes().map(|l| &l.lifetime).collect();
            let phantom = (!tys.is_empty() || !lts.is_empty()).then(|| {
                quote!(#[doc(hidden)] __Never(::core::marker::PhantomData<fn() -> (#(&#lts (),)* #(#tys,)*)>, ::core::convert::Infallible),)
            });
            quote! {
                #[allow(dead_code, missing_docs, clippy::all, clippy::pedantic)]
                #vis enum #name #ig #wc { Idle, #phantom }
                #[allow(dead_code, clippy::all, clippy::pedantic)]
                const _: () = {
                    impl #ig ::core::default::Default for #name #tg #wc {
                        fn default() -> Self { Self::Idle }
                    }
                    impl #ig ::core::fmt::Debug for #name #tg #wc {
                        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result { f.write_str("Idle") }
                    }
                    impl #ig #name #tg #wc {
                        pub fn is_idle(&self) -> bool { true }
                        pub fn reset(&mut self) { *self = Self::Idle; }
                    }
                };
            }
        }
    };
    Output { func, state, errors }
}

// Input:  `{ let n: u32 = 1; yield_io!(c.clone())?; let v = call_io!(f(n))?; return Ok(v); }`
// Output: `p::done({ let n: u32 = 1; p::stand_in_yield(c.clone())?; let v = p::stand_in_call(f(n))?; return p::done(Ok(v)); })`
/// The body of a failed expansion as a plain function of the signature:
/// `yield_io!(c)` becomes `stand_in_yield(c)`, a `Result<i32,
/// CompletionError>`, and `call_io!(f(..))` becomes `stand_in_call(f(..))`,
/// the callee's `Result<T, E>`, as the machine would give them; the body's
/// `Result<T, E>` (tail and `return`s) goes through `done`. It never runs
/// (the crate has the macro's error), and adds no error of its own: `None`
/// where it could (a `const` or `async` fn, a return type that is not
/// `Result<IOResult<T>, E>`, a suspension inside a closure, `async` block or
/// nested item, whose `?` would then stand where the real machine refuses
/// it, a suspension or a `{ .. }` holding one where an error of the macro
/// points (`at`, line and column: a suspension in a refused position, a
/// `let-else` block that must diverge), or an argument that is not one
/// expression); the caller then emits a `panic!` body.
fn stand_in_body(
    p: &TokenStream,
    sig: &syn::Signature,
    body: &syn::Block,
    at: &[(usize, usize)],
) -> Option<TokenStream> {
    use syn::visit::Visit;
    if sig.constness.is_some() || sig.asyncness.is_some() || sig.variadic.is_some() {
        return None;
    }
    let cx = crate::ctxt::Ctxt::new();
    crate::model::check_return(&cx, sig);
    if cx.has_errors() {
        return None;
    }
    /// Whether a suspension macro stands inside a nested item: its
    /// stand-in would name the function's locals from a `fn` that cannot
    /// see them.
    #[derive(Default)]
    struct Nested {
        depth: u32,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Nested {
        fn visit_item(&mut self, i: &'ast syn::Item) {
            self.depth += 1;
            syn::visit::visit_item(self, i);
            self.depth -= 1;
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            let name = m.path.segments.last().map(|s| s.ident.to_string());
            let suspends = matches!(name.as_deref(), Some("yield_io" | "call_io"));
            if self.depth > 0 && (suspends || crate::scan::suspension_in_tokens(&m.tokens)) {
                self.found = true;
            }
        }
    }
    let mut nested = Nested::default();
    nested.visit_block(body);
    if nested.found {
        return None;
    }
    if refused_here(&body.to_token_stream(), at) {
        return None;
    }
    let replaced = replace_suspensions(body.to_token_stream(), p, at)?;
    let mut block: syn::Block = syn::parse2(replaced).ok()?;
    DoneReturns(p).visit_block_mut(&mut block);
    Some(quote!(#p::done(#block)))
}

/// `return v` -> `return done(v)`, outside closures, `async` blocks and
/// nested items, whose `return`s are their own.
struct DoneReturns<'a>(&'a TokenStream);

impl VisitMut for DoneReturns<'_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        match e {
            syn::Expr::Closure(_) | syn::Expr::Async(_) => {}
            syn::Expr::Return(r) => {
                if let Some(v) = &mut r.expr {
                    self.visit_expr_mut(v);
                    let p = self.0;
                    let span = syn::spanned::Spanned::span(&**v);
                    let inner = &**v;
                    if let Ok(wrapped) = syn::parse2(quote_spanned!(span=> #p::done(#inner))) {
                        **v = wrapped;
                    }
                }
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Whether an error at one of `at` points at a group that holds a
/// suspension (a `let-else` block that must diverge): a stand-in there
/// would add rustc's version of the same complaint.
fn refused_here(tokens: &TokenStream, at: &[(usize, usize)]) -> bool {
    let is_at = |span: Span| {
        let lc = span.start();
        at.contains(&(lc.line, lc.column))
    };
    tokens.clone().into_iter().any(|t| match &t {
        TokenTree::Group(g) => {
            (is_at(g.span_open()) && crate::scan::suspension_in_tokens(&g.stream()))
                || refused_here(&g.stream(), at)
        }
        _ => false,
    })
}

/// The `yield_io` and `call_io` of `tokens` written without a path.
fn suspension_idents(tokens: &TokenStream, out: &mut Vec<Ident>) {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    for (i, t) in trees.iter().enumerate() {
        match t {
            TokenTree::Ident(id) if id == "yield_io" || id == "call_io" => {
                let bang = matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                let pathed = i > 0 && is_colon(trees.get(i - 1));
                if bang && !pathed && !out.iter().any(|o| o == id) {
                    out.push(id.clone());
                }
            }
            TokenTree::Group(g) => suspension_idents(&g.stream(), out),
            _ => {}
        }
    }
}

fn is_colon(t: Option<&TokenTree>) -> bool {
    matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == ':')
}

// Input:  `let n = ratchet::yield_io!(name = Read, c.clone())?;`
// Output: `let n = p::stand_in_yield(c.clone())?;`
/// Every suspension macro of `tokens`, other macros' arguments included,
/// replaced by its stand-in; `None` when an argument is not one expression.
///
/// A suspension an error of the macro points at (one in a refused
/// position: an operand, a closure, another macro's arguments) takes its
/// `?` into its stand-in, `stand_in_yield_ok(c)`, an `i32`: a `?` there
/// (in a closure, an `async` block) is not the function's and would add
/// errors of its own.
fn replace_suspensions(tokens: TokenStream, p: &TokenStream, at: &[(usize, usize)]) -> Option<TokenStream> {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    let mut i = 0;
    while let Some(t) = trees.get(i) {
        match t {
            TokenTree::Ident(id)
                if (id == "yield_io" || id == "call_io")
                    && matches!(trees.get(i + 1), Some(TokenTree::Punct(b)) if b.as_char() == '!')
                    && matches!(trees.get(i + 2), Some(TokenTree::Group(_))) =>
            {
                // The macro's path: `ratchet::`, `::ratchet::`.
                const NOT_A_SEGMENT: &[&str] = &[
                    "return", "let", "in", "if", "else", "match", "while", "for", "loop", "break",
                    "continue", "move", "mut", "ref", "as", "where", "unsafe", "await", "yield", "box",
                ];
                loop {
                    let n = out.len();
                    let seg = n >= 3
                        && is_colon(out.get(n - 1))
                        && is_colon(out.get(n - 2))
                        && matches!(out.get(n - 3), Some(TokenTree::Ident(s)) if !NOT_A_SEGMENT.iter().any(|k| s == k));
                    if seg {
                        out.truncate(n - 3);
                    } else {
                        break;
                    }
                }
                let n = out.len();
                if n >= 2 && is_colon(out.get(n - 1)) && is_colon(out.get(n - 2)) {
                    out.truncate(n - 2);
                }
                let Some(TokenTree::Group(g)) = trees.get(i + 2) else {
                    return None;
                };
                let mut arg: Vec<TokenTree> = replace_suspensions(g.stream(), p, at)?.into_iter().collect();
                // `name = Ident,` names the suspension point.
                let named = matches!(arg.first(), Some(TokenTree::Ident(k)) if k == "name")
                    && matches!(arg.get(1), Some(TokenTree::Punct(e)) if e.as_char() == '=')
                    && matches!(arg.get(2), Some(TokenTree::Ident(_)));
                if named {
                    let skip = if matches!(arg.get(3), Some(TokenTree::Punct(c)) if c.as_char() == ',') {
                        4
                    } else {
                        3
                    };
                    arg.drain(..skip);
                }
                let arg: TokenStream = arg.into_iter().collect();
                syn::parse2::<syn::Expr>(arg.clone()).ok()?;
                let lc = id.span().start();
                let refused = at.contains(&(lc.line, lc.column));
                let question = matches!(trees.get(i + 3), Some(TokenTree::Punct(q)) if q.as_char() == '?');
                let f = match (id == "yield_io", refused && question) {
                    (true, false) => "stand_in_yield",
                    (false, false) => "stand_in_call",
                    (true, true) => "stand_in_yield_ok",
                    (false, true) => "stand_in_call_ok",
                };
                if refused && question {
                    i += 1;
                }
                let f = Ident::new(f, id.span());
                let mut args = Group::new(proc_macro2::Delimiter::Parenthesis, arg);
                args.set_span(g.span());
                let path = respan(p.clone(), id.span());
                out.extend(quote!(#path::#f));
                out.push(TokenTree::Group(args));
                i += 3;
            }
            TokenTree::Group(g) => {
                let mut ng = Group::new(g.delimiter(), replace_suspensions(g.stream(), p, at)?);
                ng.set_span(g.span());
                out.push(TokenTree::Group(ng));
                i += 1;
            }
            other => {
                out.push(other.clone());
                i += 1;
            }
        }
    }
    Some(out.into_iter().collect())
}
