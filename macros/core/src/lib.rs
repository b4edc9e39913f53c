//! The transform behind `#[io_state_machine]` and `#[io_state_machines]`,
//! as a plain library on `proc_macro2::TokenStream`.
//!
//! Why a separate crate: a proc-macro crate can export nothing but macros,
//! and the expansion must be callable from tests, expansion snapshots and a
//! fuzzer. `ratchet-macros` is only the entry points.
//!
//! Internal: published only because `ratchet-macros` depends on it. It has no
//! stable API and follows `ratchet-macros` version for version; depend on
//! `ratchet-io` instead.
//!
//! The pipeline, one stage per module:
//! `args` → `model` → `cfg` → `liveness` → `types` → `lower` → `emit`,
//! with `scan` holding the syntax queries they share, `tokens` the token
//! helpers `cfg` and `emit` share, and `ctxt`
//! collecting every error so all of them are reported at once.
#![forbid(unsafe_code)]

mod args;
mod attrs;
mod bindnames;
mod cfg;
mod ctxt;
mod emit;
mod hints;
mod items;
mod lateguard;
mod liveness;
mod lower;
mod model;
mod reeval;
mod rename;
mod scan;
mod tokens;
mod types;
mod unraw;

use std::panic::{AssertUnwindSafe, catch_unwind};

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{GenericArgument, Generics, ImplItem, ItemFn, ItemImpl, PathArguments, Type};

use crate::ctxt::Ctxt;
use crate::emit::Output;
use crate::model::{FnInput, ImplCtx};

// Input:  `#[io_state_machine(state = st)] fn f(st: &mut FState, ..) -> Result<IOResult<T>, E> { .. }`
// Output: `enum FState { Idle, .. } const _: () = { .. }; fn f(..) -> .. { <dispatch loop> }`
/// Expands `#[io_state_machine(attr)] item`. Never panics: an internal
/// failure becomes a `compile_error!` beside the untouched item.
pub fn expand_io_state_machine(attr: TokenStream, item: TokenStream) -> TokenStream {
    guarded(&item, || expand_fn_item(attr.clone(), item.clone()))
}

// Input:  `#[io_state_machines] impl P { #[io_state_machine(state = self.s)] fn m(&mut self) .. }`
// Output: `impl P { fn m(&mut self) .. { <dispatch loop> } } enum MState { .. } ..`
/// Expands `#[io_state_machines] impl ..`: every method carrying
/// `#[io_state_machine(..)]` is transformed and its state enum emitted
/// beside the impl. Never panics.
pub fn expand_io_state_machines(attr: TokenStream, item: TokenStream) -> TokenStream {
    guarded(&item, || expand_impl(attr.clone(), item.clone()))
}

fn guarded(item: &TokenStream, f: impl FnOnce() -> TokenStream) -> TokenStream {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(ts) => ts,
        Err(_) => {
            let msg = "internal error in #[io_state_machine]: the transform failed on this input; please report it with the function";
            quote!(::core::compile_error!(#msg); #item)
        }
    }
}

/// The argument of the marker `#[io_state_machines]` leaves so that the
/// user's `use ratchet::io_state_machine;` counts as used.
const SEEN: &str = "__ratchet_seen";

fn expand_fn_item(attr: TokenStream, item: TokenStream) -> TokenStream {
    if attr.to_string() == SEEN {
        return TokenStream::new();
    }
    let f: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let msg = format!("#[io_state_machine] applies to a function: {e}");
            let err = syn::Error::new(e.span(), msg).to_compile_error();
            return quote!(#err #item);
        }
    };
    let input = FnInput {
        attrs: as_outer(f.attrs),
        vis: f.vis,
        sig: f.sig,
        block: *f.block,
    };
    let is_method = input.sig.receiver().is_some();
    let out = expand_fn(attr, input, None);
    let Output { func, state, errors } = out;
    if is_method {
        // Inside an impl without `#[io_state_machines]`: no room for an
        // enum, nor for errors at module level.
        quote!(#errors #func)
    } else {
        quote!(#errors #state #func)
    }
}

/// The function's attributes, each as an outer one. syn hands the inner
/// attributes at the top of a body (`{ #![allow(..)] .. }`) to the item, and
/// the expansion writes the item's attributes before it, where an inner one
/// does not parse; on a function both forms mean the same.
fn as_outer(mut attrs: Vec<syn::Attribute>) -> Vec<syn::Attribute> {
    for a in &mut attrs {
        a.style = syn::AttrStyle::Outer;
    }
    attrs
}

/// Runs the pipeline on one function: once, or once per combination of the
/// `#[cfg]` predicates on code it takes apart (see [`attrs`]), each version
/// under its `#[cfg(all(..))]`. Errors of every version are reported once.
fn expand_fn(attr: TokenStream, input: FnInput, impl_ctx: Option<ImplCtx>) -> Output {
    let attr = unraw::tokens(attr);
    let mut input = input;
    unraw::block(&mut input.block);
    // The parameters' names, which the body reads; the rest of the
    // signature is the caller's contract and stays as written.
    for arg in &mut input.sig.inputs {
        if let syn::FnArg::Typed(pt) = arg {
            unraw::pat(&mut pt.pat);
        }
    }
    let _known = bindnames::Known::set(&input.sig, &input.block);
    let preds = attrs::predicates(&input.block);
    if preds.is_empty() {
        return match expand_version(attr, input, impl_ctx) {
            Ok(out) => out,
            Err(failed) => failed.fallback(),
        };
    }
    if preds.len() > attrs::MAX_CFG_PREDICATES {
        let cx = Ctxt::new();
        cx.error(
            input.sig.ident.span(),
            format!(
                "#[io_state_machine] expands a function once per combination of the `#[cfg]` predicates on statements that hold a suspension point (or declare a local), and this one has {} (at most {} are supported); move some of that code into functions of its own",
                preds.len(),
                attrs::MAX_CFG_PREDICATES
            ),
        );
        let failed = Failed::new(&attr, &input, impl_ctx.is_some(), cx.take_errors(), None);
        return failed.fallback();
    }
    let mut func = TokenStream::new();
    let mut state = TokenStream::new();
    let mut first_failure: Option<Box<Failed>> = None;
    let mut seen: Vec<String> = Vec::new();
    for mask in 0..(1usize << preds.len()) {
        let version = FnInput {
            attrs: input.attrs.clone(),
            vis: input.vis.clone(),
            sig: input.sig.clone(),
            block: attrs::select(&input.block, &preds, mask),
        };
        let cfg = attrs::version_attr(&preds, mask);
        match expand_version(attr.clone(), version, impl_ctx.clone()) {
            Ok(out) => {
                func.extend(quote!(#cfg));
                func.extend(out.func);
                state.extend(with_attr(&cfg, out.state));
            }
            Err(failed) => match &mut first_failure {
                None => {
                    seen.extend(failed.errors.iter().map(error_key));
                    first_failure = Some(failed);
                }
                Some(first) => {
                    for e in failed.errors {
                        let key = error_key(&e);
                        if !seen.contains(&key) {
                            seen.push(key);
                            first.errors.push(e);
                        }
                    }
                }
            },
        }
    }
    match first_failure {
        // The whole body, `#[cfg]`s and all, not the version that failed.
        Some(mut failed) => {
            failed.body = reeval::strip_markers(&input.block);
            failed.fallback()
        }
        None => Output {
            func,
            state,
            errors: TokenStream::new(),
        },
    }
}

/// An error's identity across versions: the same error at the same place.
fn error_key(e: &syn::Error) -> String {
    let start = e.span().start();
    format!("{}:{}:{e}", start.line, start.column)
}

/// `attr` put on every item of `items`.
fn with_attr(attr: &TokenStream, items: TokenStream) -> TokenStream {
    match syn::parse2::<syn::File>(items.clone()) {
        Ok(file) => file.items.iter().map(|i| quote!(#attr #i)).collect(),
        Err(_) => quote!(#attr const _: () = (); #items),
    }
}

/// A function whose expansion failed: what its fallback needs.
struct Failed {
    errors: Vec<syn::Error>,
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    sig: syn::Signature,
    body: syn::Block,
    name: syn::Ident,
    generics: Generics,
    /// The facade crate's path, `::ratchet` unless `crate = ..`.
    krate: TokenStream,
    /// The attribute's arguments.
    attr: TokenStream,
}

impl Failed {
    fn new(
        attr: &TokenStream,
        input: &FnInput,
        in_impl: bool,
        errors: Vec<syn::Error>,
        method_generics: Option<Generics>,
    ) -> Self {
        let args = args::parse(&Ctxt::new(), attr.clone(), Span::call_site());
        let name = args
            .name
            .clone()
            .unwrap_or_else(|| model::state_name(&input.sig.ident));
        // A free function's state parameter spells the generics; for a
        // method, take those of the stored types that could be read.
        let generics = match method_generics {
            Some(g) => g,
            None if in_impl => Generics::default(),
            None => fallback_generics(&args, &input.sig, &name),
        };
        Failed {
            errors,
            attrs: input.attrs.clone(),
            vis: input.vis.clone(),
            sig: input.sig.clone(),
            body: reeval::strip_markers(&input.block),
            name,
            generics,
            krate: args
                .krate
                .as_ref()
                .map_or_else(|| quote!(::ratchet), ToTokens::to_token_stream),
            attr: attr.clone(),
        }
    }

    fn fallback(self) -> Output {
        let errors: TokenStream = self.errors.iter().map(syn::Error::to_compile_error).collect();
        let at: Vec<(usize, usize)> = self
            .errors
            .iter()
            .map(|e| {
                let lc = e.span().start();
                (lc.line, lc.column)
            })
            .collect();
        emit::fallback(
            emit::Failure {
                errors,
                attr: &self.attr,
                at: &at,
                krate: &self.krate,
            },
            &self.attrs,
            &self.vis,
            &self.sig,
            &self.body,
            Some((&self.name, self.generics)),
        )
    }
}

/// Runs the pipeline on one version of a function.
/// Refuses a pattern that binds a path keyword (`for self in ..`): syn
/// parses it, rustc does not, and the expansion would move the name into
/// places (a stored field, a `let`) where it does not even parse.
fn refuse_keyword_bindings(cx: &Ctxt, body: &syn::Block) {
    struct Find<'a>(&'a Ctxt);
    impl<'ast> syn::visit::Visit<'ast> for Find<'_> {
        fn visit_pat_ident(&mut self, pi: &'ast syn::PatIdent) {
            let name = pi.ident.to_string();
            if matches!(name.as_str(), "self" | "Self" | "super" | "crate") {
                self.0.error(
                    pi.ident.span(),
                    format!("`{name}` is a keyword and cannot name a binding; choose another name"),
                );
            }
            syn::visit::visit_pat_ident(self, pi);
        }
        // Items in the body are the compiler's to check, as they are
        // kept whole.
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    syn::visit::Visit::visit_block(&mut Find(cx), body);
}

// Input:  `#[reevaluated] let n: usize = v.len();` then `for x in v { yield_io!(..)?; }`
// Output: an error at `v` in the binding: it reads each call's `v`, which the body moves
/// A parameter a `#[reevaluated]` binding (or the `state =` expression)
/// reads, which the body moves where the dispatch loop comes back: the
/// binding reads every call's own argument, which rustc sees moved in an
/// earlier iteration (E0382). Said once, at the read.
fn refuse_moved_reevaluated_param(cx: &Ctxt, model: &model::Model, name: &str) {
    let at = model
        .reevaluated
        .iter()
        .find_map(|s| scan::free_vars_stmt(s).into_iter().find(|u| u.name == name))
        .map(|u| u.span);
    let (span, what) = match at {
        Some(span) => (span, "a #[reevaluated] binding reads it"),
        None => (model.input.sig.ident.span(), "the `state =` expression reads it"),
    };
    cx.error(
        span,
        format!(
            "`{name}` is moved by the body where the machine can come back to the move (before a suspension point, or in a loop that holds one), and {what} on every call: the dispatch loop #[io_state_machine] writes would move the parameter `{name}` on one pass and read it on the next (rustc's E0382); take what you need from it first with a plain `let` (`let n: usize = {name}.len();`, stored across suspension points), or borrow `{name}` instead of moving it"
        ),
    );
}

fn expand_version(
    attr: TokenStream,
    input: FnInput,
    impl_ctx: Option<ImplCtx>,
) -> Result<Output, Box<Failed>> {
    let cx = Ctxt::new();
    let args = args::parse(&cx, attr.clone(), Span::call_site());
    let in_impl = impl_ctx.is_some();
    let original = FnInput {
        attrs: input.attrs.clone(),
        vis: input.vis.clone(),
        sig: input.sig.clone(),
        block: input.block.clone(),
    };
    args::check_place_in_shared_self(&cx, &args, &input.sig);
    args::check_state_expr_names(&cx, &args, &input.sig, &input.block);
    refuse_keyword_bindings(&cx, &input.block);
    let mut input = input;
    let split = reeval::split(&cx, &mut input.block);
    reeval::refuse_changes(&cx, &split.prelude, &input.block);
    lateguard::wrap(&mut input.block);
    let model = model::analyse(&cx, &args, input, impl_ctx).map(|mut model| {
        model.reevaluated = split.prelude;
        model.refuse_state_in_reevaluated(&cx);
        model
    });
    let result = model.map(|mut model| {
        let before = cx.error_count();
        let mut g = cfg::build(&cx, &model);
        let mut live = liveness::compute(&g);
        // A by-value parameter moved where the dispatch loop comes back
        // makes a local of its own: the graph is built again with it.
        let (moved, kept) = liveness::moved_params(&model, &g, &live);
        for name in &kept {
            refuse_moved_reevaluated_param(&cx, &model, name);
        }
        if !moved.is_empty() {
            for p in model
                .params
                .iter_mut()
                .filter(|p| moved.contains(&p.ident.to_string()))
            {
                p.moved = true;
            }
            cx.truncate(before);
            g = cfg::build(&cx, &model);
            live = liveness::compute(&g);
        }
        let hints = if split.misused {
            Vec::new()
        } else {
            model.borrowed_args()
        };
        let stored = types::check(&cx, &g, &live, &model.input.sig, &model.input.block, &hints);
        let plan = lower::plan(&cx, &g, &live, &stored);
        (model, g, live, stored, plan)
    });
    match result {
        Some((model, g, live, stored, plan)) if !cx.has_errors() => {
            Ok(emit::emit(&model, &g, &live, &stored, &plan))
        }
        result => {
            let method_generics = match result {
                Some((model, g, _, stored, _)) if in_impl => {
                    let types: Vec<syn::Type> = stored
                        .iter()
                        .flat_map(|st| st.fields.iter())
                        .filter_map(|&b| g.bindings.get(b).and_then(|b| b.ty.clone()))
                        .collect();
                    Some(emit::state_generics(&model, &types))
                }
                _ => None,
            };
            Err(Box::new(Failed::new(
                &attr,
                &original,
                in_impl,
                cx.take_errors(),
                method_generics,
            )))
        }
    }
}

/// The generics the user wrote on the state parameter's type, so that a
/// failed expansion's idle-only enum still matches `&mut FooState<T>`; for
/// a state expression, those written on the state's name anywhere in the
/// parameters (`cell: &RefCell<FooState<T>>`).
fn fallback_generics(args: &args::Args, sig: &syn::Signature, name: &syn::Ident) -> Generics {
    let mut g = Generics::default();
    let ab = match &args.state {
        Some((args::StateTarget::Param(p), _)) => {
            let ty = sig.inputs.iter().find_map(|a| match a {
                syn::FnArg::Typed(pt) => match &*pt.pat {
                    syn::Pat::Ident(pi) if pi.ident == *p => Some(&*pt.ty),
                    _ => None,
                },
                syn::FnArg::Receiver(_) => None,
            });
            let Some(Type::Reference(r)) = ty else { return g };
            let Type::Path(tp) = &*r.elem else { return g };
            let Some(last) = tp.path.segments.last() else {
                return g;
            };
            let PathArguments::AngleBracketed(ab) = &last.arguments else {
                return g;
            };
            ab
        }
        Some((args::StateTarget::Expr(_), _)) => {
            let found = sig.inputs.iter().find_map(|a| match a {
                syn::FnArg::Typed(pt) => args_of(&pt.ty, name),
                syn::FnArg::Receiver(_) => None,
            });
            let Some(ab) = found else { return g };
            ab
        }
        _ => return g,
    };
    let names: Vec<String> = ab
        .args
        .iter()
        .filter_map(|a| match a {
            GenericArgument::Type(Type::Path(t)) => t.path.get_ident().map(ToString::to_string),
            GenericArgument::Lifetime(l) => Some(l.to_string()),
            GenericArgument::Const(syn::Expr::Path(e)) => e.path.get_ident().map(ToString::to_string),
            _ => None,
        })
        .collect();
    // Type, const and lifetime parameters, in the function's order.
    let params: Vec<syn::GenericParam> = sig
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) if names.contains(&t.ident.to_string()) => {
                let mut t = t.clone();
                t.bounds.clear();
                t.colon_token = None;
                t.default = None;
                Some(syn::GenericParam::Type(t))
            }
            syn::GenericParam::Const(c) if names.contains(&c.ident.to_string()) => {
                let mut c = c.clone();
                c.default = None;
                Some(syn::GenericParam::Const(c))
            }
            syn::GenericParam::Lifetime(l) if names.contains(&l.lifetime.to_string()) => {
                let mut l = l.clone();
                l.bounds.clear();
                l.colon_token = None;
                Some(syn::GenericParam::Lifetime(l))
            }
            _ => None,
        })
        .collect();
    if !params.is_empty() {
        g.lt_token = Some(Default::default());
        g.gt_token = Some(Default::default());
        g.params = params.into_iter().collect();
    }
    g
}

/// The generic arguments written on `name` somewhere in `ty`.
fn args_of<'t>(ty: &'t Type, name: &syn::Ident) -> Option<&'t syn::AngleBracketedGenericArguments> {
    match ty {
        Type::Path(tp) => tp.path.segments.iter().find_map(|seg| match &seg.arguments {
            PathArguments::AngleBracketed(ab) if seg.ident == *name => Some(ab),
            PathArguments::AngleBracketed(ab) => ab.args.iter().find_map(|a| match a {
                GenericArgument::Type(t) => args_of(t, name),
                _ => None,
            }),
            _ => None,
        }),
        Type::Reference(r) => args_of(&r.elem, name),
        Type::Slice(sl) => args_of(&sl.elem, name),
        Type::Array(a) => args_of(&a.elem, name),
        Type::Paren(p) => args_of(&p.elem, name),
        Type::Group(gr) => args_of(&gr.elem, name),
        Type::Tuple(t) => t.elems.iter().find_map(|e| args_of(e, name)),
        _ => None,
    }
}

fn expand_impl(attr: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    if !attr.is_empty() {
        cx.spanned(&attr, "#[io_state_machines] takes no arguments; put the options on each method's #[io_state_machine(..)]");
    }
    let imp: ItemImpl = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(e) => {
            let msg = format!("#[io_state_machines] applies to an `impl` block: {e}");
            let err = syn::Error::new(e.span(), msg).to_compile_error();
            return quote!(#err #item);
        }
    };
    let impl_ctx = ImplCtx {
        generics: imp.generics.clone(),
        self_ty: (*imp.self_ty).clone(),
        trait_: imp.trait_.as_ref().map(|(path, _)| path.clone()),
    };
    let mut items = Vec::new();
    let mut states = Vec::new();
    let mut attr_paths: Vec<syn::Path> = Vec::new();
    for it in &imp.items {
        match it {
            ImplItem::Fn(f) => {
                let pos = f.attrs.iter().position(|a| {
                    a.path()
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "io_state_machine")
                });
                match pos {
                    None => items.push(it.to_token_stream()),
                    Some(i) => {
                        let mut attrs = f.attrs.clone();
                        let a = attrs.remove(i);
                        let text = a.path().to_token_stream().to_string();
                        if !attr_paths.iter().any(|p| p.to_token_stream().to_string() == text) {
                            attr_paths.push(a.path().clone());
                        }
                        let args = match &a.meta {
                            syn::Meta::List(l) => l.tokens.clone(),
                            _ => TokenStream::new(),
                        };
                        let input = FnInput {
                            attrs: as_outer(attrs),
                            vis: f.vis.clone(),
                            sig: f.sig.clone(),
                            block: f.block.clone(),
                        };
                        let out = expand_fn(args, input, Some(impl_ctx.clone()));
                        items.push(out.func);
                        states.push(out.errors);
                        states.push(out.state);
                    }
                }
            }
            other => items.push(other.to_token_stream()),
        }
    }
    let attrs = as_outer(imp.attrs.clone());
    let unsafety = &imp.unsafety;
    let (ig, _, wc) = imp.generics.split_for_impl();
    let tr = imp.trait_.as_ref().map(|(path, for_)| quote!(#path #for_));
    let self_ty = &imp.self_ty;
    let errors = cx.to_compile_errors();
    quote! {
        #errors
        #(#attrs)*
        #unsafety impl #ig #tr #self_ty #wc {
            #(#items)*
        }
        #(#states)*
        #(#[#attr_paths(__ratchet_seen)] const _: () = ();)*
    }
}
