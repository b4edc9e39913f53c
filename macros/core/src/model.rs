//! Stage 2: the model of the annotated function: its parameters, the `T` and
//! `E` of `Result<IOResult<T>, E>`, where the state lives and what the state
//! type is called.
//!
//! Input:  `#[io_state_machine(state = st)] fn copy(st: &mut CopyState, n: u64) -> Result<IOResult<u64>, E> {..}`
//! Output: `Model { params: [st, n], ok_ty: u64, err_ty: E, state: Param(st), enum_name: CopyState, .. }`

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::{
    Attribute, Block, FnArg, GenericArgument, Generics, Ident, Pat, PathArguments, ReturnType, Signature,
    Stmt, Type, Visibility,
};

use crate::args::{Args, StateTarget};
use crate::ctxt::Ctxt;

/// The impl block around a method, when the function is one.
#[derive(Clone)]
pub struct ImplCtx {
    pub generics: Generics,
    pub self_ty: Type,
    /// The trait of a trait impl: `Self::Out` in a stored type is
    /// `<SelfTy as Trait>::Out` outside it.
    pub trait_: Option<syn::Path>,
}

/// A function as the attribute received it.
pub struct FnInput {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    pub block: Block,
}

/// A parameter: its name and type (patterns other than a plain name are
/// kept in the signature but cannot be named by the body anyway).
pub struct Param {
    pub ident: Ident,
    pub ty: Type,
    /// `mut x: T`: the body may change it, so it is a local initialized
    /// from the first call's argument (rule 8), not re-read on resume.
    pub mutable: bool,
    /// A by-value parameter the body may move where the dispatch loop can
    /// come back to it (see `liveness::moved_params`): a local of the
    /// program counter, entered with the argument of the call that runs the
    /// code (the first call, then each resume that needs it), never stored.
    pub moved: bool,
}

pub struct Model {
    pub input: FnInput,
    pub params: Vec<Param>,
    pub err_ty: Option<Type>,
    pub state: StateTarget,
    pub enum_name: Ident,
    /// The path of the facade crate, `::ratchet` unless `crate = ..`.
    pub krate: TokenStream,
    /// `max_size = N` of the attribute.
    pub max_size: Option<usize>,
    pub impl_ctx: Option<ImplCtx>,
    /// The body's leading `#[reevaluated] let` statements (marker removed),
    /// taken off `input.block`: evaluated on every call that runs code.
    pub reevaluated: Vec<syn::Stmt>,
}

impl Model {
    /// `::ratchet::__private`.
    pub fn private(&self) -> TokenStream {
        let krate = &self.krate;
        quote!(#krate::__private)
    }

    /// The place expression of the state: `*st` or `self.field`.
    pub fn place(&self) -> TokenStream {
        match &self.state {
            StateTarget::Param(_) | StateTarget::Expr(_) => {
                let st = state_binding();
                quote!(*#st)
            }
            // Through a typed call at the user's field, so that a field of
            // another type gets one error there, saying what to write.
            StateTarget::SelfField(f) => {
                let (p, name) = (self.private(), &self.enum_name);
                let place = quote!((*#p::state_field(#name::Idle, &mut self.#f)));
                crate::tokens::respan(place, f.span())
            }
        }
    }

    /// Moves a state parameter into a binding user code cannot name, so that
    /// a body shadowing the parameter (`let st = ..;`) cannot redirect the
    /// state's writes. Empty for `self.field`, which cannot be shadowed.
    pub fn bind_state(&self) -> TokenStream {
        match &self.state {
            StateTarget::Param(p) => {
                let st = state_binding();
                quote!(let #st = #p;)
            }
            // `emit` binds an expression: the binding is typed.
            StateTarget::SelfField(_) | StateTarget::Expr(_) => quote!(),
        }
    }

    /// The body's value `value` in the calling convention:
    /// `__ratchet_trace_done!(at, value)`, which is `done(value)` and, with
    /// the `tracing` feature, records `done` or `error` (with the error's
    /// `Debug`; `..` for a type without one). `, generic_error` leaves the
    /// `Debug` out where the error type may name a type parameter, for
    /// which the lookup that falls back to `..` fails to compile. The
    /// generated tokens carry `span`.
    pub fn done(&self, value: &TokenStream, span: Span) -> TokenStream {
        let p = self.private();
        let at = trace_at();
        if self.err_is_concrete() {
            quote_spanned!(span=> #p::__ratchet_trace_done!(#at, #value))
        } else {
            quote_spanned!(span=> #p::__ratchet_trace_done!(#at, #value, generic_error))
        }
    }

    /// Whether the error type is spelled out and names no type parameter
    /// of the function or its impl (nor `Self`, nor `impl Trait`).
    fn err_is_concrete(&self) -> bool {
        let Some(e) = &self.err_ty else {
            return false;
        };
        let mut params: Vec<String> = vec!["Self".to_owned(), "impl".to_owned()];
        let generics = self
            .impl_ctx
            .iter()
            .map(|ic| &ic.generics)
            .chain([&self.input.sig.generics]);
        for g in generics {
            params.extend(g.type_params().map(|t| t.ident.to_string()));
        }
        !names_any(&e.to_token_stream(), &params)
    }

    /// The `T` of `Result<IOResult<T>, E>` where the signature spells it
    /// (through an alias such as `Res<T>` it cannot be seen).
    pub fn ok_type(&self) -> Option<&Type> {
        fn find(t: &Type) -> Option<&Type> {
            let Type::Path(tp) = t else { return None };
            let last = tp.path.segments.last()?;
            let PathArguments::AngleBracketed(ab) = &last.arguments else {
                return None;
            };
            let first = ab.args.iter().find_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })?;
            if last.ident == "IOResult" {
                Some(first)
            } else if last.ident == "Result" {
                find(first)
            } else {
                None
            }
        }
        match &self.input.sig.output {
            ReturnType::Type(_, t) => find(t),
            ReturnType::Default => None,
        }
    }

    /// The arguments a value made in the body may borrow from: those passed
    /// by reference, and `self` when the receiver is one.
    pub fn borrowed_args(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .params
            .iter()
            .filter(|p| matches!(p.ty, Type::Reference(_)))
            .filter(|p| !matches!(&self.state, StateTarget::Param(st) if *st == p.ident))
            .map(|p| p.ident.to_string())
            .collect();
        if let Some(r) = self.input.sig.receiver()
            && matches!(r.kind, syn::ReceiverKind::Reference(..))
        {
            out.push("self".to_owned());
        }
        out
    }

    /// Whether `name` is bound by a re-evaluated binding: there after every
    /// resume, as an argument is.
    pub fn is_reevaluated(&self, name: &str) -> bool {
        crate::reeval::bound_names(&self.reevaluated)
            .iter()
            .any(|n| n == name)
    }

    /// Refuses a re-evaluated binding that reads the state parameter, which
    /// the machine has taken by then.
    pub fn refuse_state_in_reevaluated(&self, cx: &Ctxt) {
        let StateTarget::Param(st) = &self.state else {
            return;
        };
        for s in &self.reevaluated {
            if names_any(&s.to_token_stream(), std::slice::from_ref(&st.to_string())) {
                cx.spanned(
                    s,
                    format!("a `#[reevaluated]` binding cannot read the state parameter `{st}`: the machine holds the state while the body runs; read what you need from the other arguments"),
                );
            }
        }
    }

    // Input:  `n` with `n: u64` a parameter, or `#[reevaluated] let n: u64 = ..;`
    // Output: `u64`
    /// The type of a parameter, or of a typed re-evaluated binding (which,
    /// like a parameter, is there after every resume): what a copy of it
    /// derives its type from (rule 8).
    pub fn param_type(&self, name: &str) -> Option<&Type> {
        let reevaluated = self.reevaluated.iter().rev().find_map(|s| match s {
            Stmt::Local(syn::Local {
                pat: Pat::Type(pt), ..
            }) => match &*pt.pat {
                Pat::Ident(pi) if pi.ident == name => Some(&*pt.ty),
                _ => None,
            },
            _ => None,
        });
        reevaluated.or_else(|| self.params.iter().find(|p| p.ident == name).map(|p| &p.ty))
    }
}

/// `copy_pages` -> `CopyPagesState`.
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for ch in name.trim_start_matches("r#").chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

// Input:  `fn free_page`, `fn _0`
// Output: `FreePageState`, `State0`
/// The state enum's name for a machine `f` without `name = ..`: its name in
/// camel case and `State`, or `State` first where the camel case would not
/// start an identifier (never-panic fuzzer: `fn _0` made `0State`).
pub fn state_name(f: &proc_macro2::Ident) -> proc_macro2::Ident {
    let base = camel(&f.to_string());
    if base.starts_with(char::is_alphabetic) {
        format_ident!("{}State", base, span = f.span())
    } else {
        format_ident!("State{}", base, span = f.span())
    }
}

// Input:  `fn copy(st: &mut CopyState, n: u64) -> Result<IOResult<u64>, E>` with `state = st`
// Output: `Model { params: [st: &mut CopyState, n: u64], err_ty: E, enum_name: CopyState, .. }`
/// Checks the signature and builds the model; `None` when the state target
/// is unusable (the other checks still ran and reported).
pub fn analyse(cx: &Ctxt, args: &Args, input: FnInput, impl_ctx: Option<ImplCtx>) -> Option<Model> {
    let sig = &input.sig;
    if let Some(a) = &sig.asyncness {
        cx.spanned(
            a,
            "#[io_state_machine] cannot be used on an `async fn`: the attribute builds its own state machine over `IOResult`; remove `async` and wait with `yield_io!`/`call_io!`",
        );
    }
    if let Some(c) = &sig.constness {
        cx.spanned(
            c,
            "#[io_state_machine] cannot be used on a `const fn`: a machine writes its state; remove `const`",
        );
    }
    if let Some(v) = &sig.variadic {
        cx.spanned(v, "#[io_state_machine] cannot be used on a variadic function");
    }
    let mut params = Vec::new();
    let mut receiver = None;
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(r) => receiver = Some(r),
            FnArg::Typed(pt) => {
                if let Pat::Ident(pi) = &*pt.pat
                    && !(pi.by_ref.is_some() && pi.mutability.is_some())
                {
                    params.push(Param {
                        ident: pi.ident.clone(),
                        ty: (*pt.ty).clone(),
                        mutable: pi.mutability.is_some() && pi.by_ref.is_none(),
                        moved: false,
                    });
                } else {
                    refuse_mut_in_param_pattern(cx, pt);
                }
            }
        }
    }
    if receiver.is_some() && impl_ctx.is_none() {
        cx.spanned(
            &sig.ident,
            "a method with #[io_state_machine] needs #[io_state_machines] on its impl block, which emits the state enums beside the impl; add `#[io_state_machines]` above `impl` (a trait's default method cannot be a machine: a trait has no fields to hold the state and no place for its enum; write the machine as a free function with `state = st`, or in an impl, and call it from the trait method)",
        );
    }
    let err_ty = check_return(cx, sig);
    let (state, _) = args.state.clone()?;
    let enum_name = args.name.clone().unwrap_or_else(|| state_name(&sig.ident));
    match &state {
        StateTarget::Param(p) => match params.iter().find(|q| q.ident == *p) {
            None => {
                let names: Vec<String> = params.iter().map(|q| format!("`{}`", q.ident)).collect();
                cx.spanned(
                    p,
                    format!(
                        "unknown `state =` target: `{p}` is not a parameter of `{}` (parameters: {}); add `{p}: &mut {enum_name}` to the parameters or name an existing one",
                        sig.ident,
                        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
                    ),
                );
                return None;
            }
            Some(q) => match &q.ty {
                Type::Reference(r) if r.mutability.is_some() => {
                    if let Type::Path(tp) = &*r.elem
                        && let Some(last) = tp.path.segments.last()
                        && last.ident != enum_name
                    {
                        cx.spanned(
                            &last.ident,
                            crate::args::param_type_mismatch(p, tp, &enum_name, &sig.ident),
                        );
                    }
                }
                other => {
                    // A shared reference may be to a `RefCell` or a lock.
                    let hint = if matches!(other, Type::Reference(_)) {
                        format!(
                            " (for a state behind a `RefCell` or lock, borrow it for the call: `state = {p}.borrow_mut()`)"
                        )
                    } else {
                        String::new()
                    };
                    cx.spanned(
                        other,
                        format!("the state parameter `{p}` must be a mutable reference, `{p}: &mut {enum_name}`, so the machine can keep its state between calls{hint}"),
                    );
                }
            },
        },
        StateTarget::SelfField(f) => match receiver {
            None => {
                cx.spanned(
                    f,
                    format!("unknown `state =` target: `self.{f}` needs a method with a `&mut self` receiver inside `#[io_state_machines] impl ..`; for a free function write `state = st` with a `st: &mut {enum_name}` parameter"),
                );
                return None;
            }
            Some(r) => {
                let ok = matches!(&r.kind, syn::ReceiverKind::Reference(_, _, Some(_)));
                if !ok {
                    cx.spanned(
                        r,
                        format!("`state = self.{f}` needs a `&mut self` receiver, so the machine can keep its state between calls; with `&self`, keep the state in a `RefCell` or lock and borrow it for the call: `state = self.{f}.borrow_mut()` or `state = *self.{f}.lock().unwrap()`"),
                    );
                }
            }
        },
        StateTarget::Expr(e) => crate::args::check_state_expr_receiver(cx, e, receiver.is_some(), &enum_name),
    }
    // `mut st: &mut FState`: the machine rebinds the state parameter and
    // never assigns it, so it is not a local made from the first call's
    // argument (rule 8) but the state itself; rustc's own lint says the
    // `mut` is not needed.
    if let StateTarget::Param(p) = &state {
        for q in params.iter_mut().filter(|q| q.ident == *p) {
            q.mutable = false;
        }
    }
    let krate = args
        .krate
        .as_ref()
        .map_or_else(|| quote!(::ratchet), ToTokens::to_token_stream);
    Some(Model {
        params,
        err_ty,
        state,
        enum_name,
        krate,
        max_size: args.max_size,
        impl_ctx,
        reevaluated: Vec::new(),
        input,
    })
}

/// Checks `-> Result<IOResult<T>, E>` and returns `E` when it is spelled
/// out. A type alias (`Res<T>`, `io::Result<IOResult<T>>`) is accepted as
/// is: only rustc can see through it.
// Input:  `fn f(st: &mut FState, (mut a, b): (u64, u64))`
// Output: an error at `a`: bind the parameter by name and destructure it in the body
/// A `mut` binding in a parameter's pattern: every call passes the
/// arguments again (rule 5), so after a suspension the binding would be the
/// next call's value and an assignment made before it lost. A plain `mut`
/// parameter is a local the body keeps (rule 8); a pattern's binding is
/// not, so it is refused with the rewrite that makes it one.
fn refuse_mut_in_param_pattern(cx: &Ctxt, pt: &syn::PatType) {
    struct Muts<'a>(Vec<&'a syn::Ident>);
    impl<'a> syn::visit::Visit<'a> for Muts<'a> {
        fn visit_pat_ident(&mut self, p: &'a syn::PatIdent) {
            if p.mutability.is_some() {
                self.0.push(&p.ident);
            }
            syn::visit::visit_pat_ident(self, p);
        }
    }
    let mut m = Muts(Vec::new());
    syn::visit::Visit::visit_pat(&mut m, &pt.pat);
    if let Some(first) = m.0.first() {
        // `ref mut v: T` alone: the fix binds by name, `let mut v = arg;`.
        let by_name: Pat;
        let pat: &Pat = match &*pt.pat {
            Pat::Ident(pi) if pi.by_ref.is_some() => {
                let id = &pi.ident;
                by_name = syn::parse_quote!(mut #id);
                &by_name
            }
            other => other,
        };
        let ty = &pt.ty;
        cx.error(
            first.span(),
            format!(
                "`mut {first}` in a parameter's pattern: every call of a machine passes its arguments again, so after a suspension point `{first}` would be the next call's value, and what the body assigned to it before would be lost; bind the parameter by name and destructure it first thing in the body, where its bindings are locals the machine keeps: `arg: {}` and `let {} = arg;`",
                quote::quote!(#ty),
                quote::quote!(#pat)
            ),
        );
    }
}

pub fn check_return(cx: &Ctxt, sig: &Signature) -> Option<Type> {
    let wrong = |span_node: &dyn ToTokens| {
        cx.spanned(
            &span_node.to_token_stream(),
            "an #[io_state_machine] function must return `Result<IOResult<T>, E>` (with `E: From<CompletionError>`); write the body as if it returned `Result<T, E>`",
        );
    };
    let ty = match &sig.output {
        ReturnType::Default => {
            wrong(&sig.ident);
            return None;
        }
        ReturnType::Type(_, ty) => ty,
    };
    let Type::Path(tp) = &**ty else {
        wrong(ty);
        return None;
    };
    let Some(last) = tp.path.segments.last() else {
        wrong(ty);
        return None;
    };
    let types: Vec<&Type> = match &last.arguments {
        PathArguments::AngleBracketed(ab) => ab
            .args
            .iter()
            .filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    if last.ident != "Result" {
        if types.is_empty() {
            wrong(ty);
        }
        return None;
    }
    let is_ioresult = |t: &Type| matches!(t, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "IOResult"));
    match types.first() {
        Some(t) if is_ioresult(t) && types.len() <= 2 => types.get(1).map(|t| (*t).clone()),
        _ => {
            wrong(ty);
            None
        }
    }
}

/// Whether `tokens` contain one of the identifiers `names`.
fn names_any(tokens: &TokenStream, names: &[String]) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => names.iter().any(|n| i == n),
        proc_macro2::TokenTree::Group(g) => names_any(&g.stream(), names),
        _ => false,
    })
}

/// The local that says where a call of the machine is, for the `tracing`
/// feature's events (declared by `__ratchet_trace_span!`).
pub fn trace_at() -> proc_macro2::Ident {
    proc_macro2::Ident::new("__ratchet_at", proc_macro2::Span::mixed_site())
}

pub fn state_binding() -> proc_macro2::Ident {
    proc_macro2::Ident::new("__ratchet_state", proc_macro2::Span::mixed_site())
}
