//! Stage 1: the attribute's arguments.
//!
//! Input:  `state = self.read_state, name = ReadState, crate = ::ratchet`
//! Output: `Args { state: SelfField(read_state), name: Some(ReadState), krate: Some(::ratchet) }`

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Ident, LitInt, Member, Path, Token};

use crate::ctxt::Ctxt;

/// Where the machine keeps its state between calls.
#[derive(Clone)]
pub enum StateTarget {
    /// `state = st`: a `&mut` parameter of a free function.
    Param(Ident),
    /// `state = self.field`: a field of the receiver.
    SelfField(Ident),
    /// `state = self.s.borrow_mut()`, `state = *self.s.write()`,
    /// `state = self.states[i]`: an expression evaluated once per call that
    /// is the state or derefs mutably to it (a `RefMut`, a lock guard); what
    /// it yields is held for that call only.
    Expr(Box<Expr>),
}

/// The parsed `#[io_state_machine(..)]` arguments.
#[derive(Default, Clone)]
pub struct Args {
    pub state: Option<(StateTarget, Span)>,
    pub name: Option<Ident>,
    pub krate: Option<Path>,
    /// `max_size = N`: the state must fit in `N` bytes.
    pub max_size: Option<usize>,
}

const VALID: &str = "`state = param`, `state = self.field` or `state = <expression evaluated once per call>` such as `self.field.borrow_mut()` (required), `name = StateTypeName`, `crate = path::to::ratchet`, `max_size = bytes`";

// Input:  `state = self.read_state, crate = ::rt`
// Output: `Args { state: SelfField(read_state), name: None, krate: Some(::rt) }`
/// Parses the arguments, reporting every problem into `cx`.
pub fn parse(cx: &Ctxt, attr: TokenStream, attr_span: Span) -> Args {
    let mut args = Args::default();
    // `state =` written but not usable: one error says so, not a second one
    // saying it is missing.
    let mut state_written = false;
    // Each option once: a repeat would silently win over the first.
    let mut seen: Vec<(String, Span)> = Vec::new();
    let parser = |input: ParseStream| -> syn::Result<()> {
        while !input.is_empty() {
            let key = Ident::parse_any(input)?;
            input.parse::<Token![=]>()?;
            let key_name = key.to_string();
            let repeated = seen
                .iter()
                .find(|(k, _)| *k == key_name)
                .map(|(_, at)| at.start().line);
            if let Some(first) = repeated {
                cx.error(
                    key.span(),
                    format!(
                        "`{key_name} =` is given twice in #[io_state_machine] (first on line {first}), and a machine has one {what}; remove one of them",
                        what = match key_name.as_str() {
                            "state" => "place for its state",
                            "name" => "state type name",
                            "crate" => "path to ratchet",
                            "max_size" => "size limit",
                            _ => "value for each option",
                        }
                    ),
                );
            } else {
                seen.push((key_name.clone(), key.span()));
            }
            if input.is_empty() || input.peek(Token![,]) {
                state_written |= key_name == "state";
                cx.error(
                    key.span(),
                    format!("`{key_name} =` of #[io_state_machine] needs a value after the `=`; the valid options are {VALID}"),
                );
            } else {
                match key_name.as_str() {
                    "state" => {
                        state_written = true;
                        let expr: Expr = input.parse()?;
                        if repeated.is_none() {
                            match state_target(&expr) {
                                Ok(t) => args.state = Some((t, key.span())),
                                Err((at, msg)) => {
                                    cx.spanned(&at, msg);
                                    // The body is still checked, so that
                                    // its errors come with this one.
                                    let stand_in = refused_stand_in(key.span());
                                    args.state = Some((StateTarget::Expr(Box::new(stand_in)), key.span()));
                                }
                            }
                        }
                    }
                    "name" => {
                        let name: Ident = input.parse()?;
                        if repeated.is_none() {
                            args.name = Some(name);
                        }
                    }
                    "crate" => {
                        let path = Path::parse_mod_style(input)?;
                        if repeated.is_none() {
                            args.krate = Some(path);
                        }
                    }
                    "max_size" => {
                        let lit: LitInt = input.parse()?;
                        match lit.base10_parse::<usize>() {
                            Ok(n) if repeated.is_none() => args.max_size = Some(n),
                            Ok(_) => {}
                            Err(e) => cx.error(
                                lit.span(),
                                format!("`max_size =` of #[io_state_machine] takes a size in bytes: {e}"),
                            ),
                        }
                    }
                    other => {
                        // Skip the value so the remaining options are still checked.
                        let _: Expr = input.parse()?;
                        cx.error(
                            key.span(),
                            format!(
                                "unknown option `{other}` for #[io_state_machine]; the valid options are {VALID}"
                            ),
                        );
                    }
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(())
    };
    if let Err(e) = parser.parse2(attr) {
        cx.error(
            e.span(),
            format!("cannot parse the arguments of #[io_state_machine]: {e}; the valid options are {VALID}"),
        );
        return args;
    }
    if args.state.is_none() {
        if !state_written {
            cx.error(
                attr_span,
                "#[io_state_machine] needs to know where the state lives: write `#[io_state_machine(state = st)]` for a `st: &mut FooState` parameter, or `state = self.field` in an impl",
            );
        }
        // Missing or without a value, as for a refused `state =`: the
        // body's errors come with this one.
        args.state = Some((
            StateTarget::Expr(Box::new(refused_stand_in(attr_span))),
            attr_span,
        ));
    }
    args
}

/// The target the analysis continues with after a missing or refused
/// `state =`, so that the body's errors are reported with that one (rule
/// 13): a name that names nothing, raises nothing, and is never emitted
/// (the function's expansion has failed).
fn refused_stand_in(span: Span) -> Expr {
    Expr::Path(syn::ExprPath {
        attrs: Vec::new(),
        qself: None,
        path: Ident::new("__ratchet_refused_state", span).into(),
    })
}

// Input:  `st` | `self.read_state` | `self.s.borrow_mut()`
// Output: `Param(st)` | `SelfField(read_state)` | `Expr(self.s.borrow_mut())`
/// Where `state =` says the state lives, or why it cannot live there.
fn state_target(expr: &Expr) -> Result<StateTarget, (TokenStream, String)> {
    match expr {
        Expr::Path(p) if p.qself.is_none() && p.path.is_ident("self") => {
            return Err((
                expr.to_token_stream(),
                "`state = self` would make the whole receiver the state, but the state is a value of the machine's own state type, kept in one place: name that place, a field of `self` (`state = self.field`, with `field: FooState` in the struct), or borrow it from a `RefCell` or lock there (`state = self.field.borrow_mut()`)".to_owned(),
            ));
        }
        Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => {
            if let Some(i) = p.path.get_ident() {
                return Ok(StateTarget::Param(i.clone()));
            }
        }
        Expr::Field(f) => {
            if let (Expr::Path(p), Member::Named(field)) = (&*f.base, &f.member)
                && p.path.is_ident("self")
            {
                return Ok(StateTarget::SelfField(field.clone()));
            }
        }
        _ => {}
    }
    check_state_expr(expr)?;
    Ok(StateTarget::Expr(Box::new(expr.clone())))
}

const STATE_EXPR: &str = "the `state =` expression is evaluated once per call, before the body runs, and must give the state or something that derefs mutably to it (`state = self.s.borrow_mut()`, `state = *self.s.lock().unwrap()`, `state = self.states[i]`)";

/// Refuses state expressions that cannot work, each with the reason.
fn check_state_expr(expr: &Expr) -> Result<(), (TokenStream, String)> {
    let span = expr.to_token_stream();
    // What the expression is under its `*`s and parentheses.
    let mut core = expr;
    while let Expr::Unary(syn::ExprUnary {
        op: syn::UnOp::Deref(_),
        expr: inner,
        ..
    })
    | Expr::Paren(syn::ExprParen { expr: inner, .. }) = core
    {
        core = inner;
    }
    match core {
        Expr::Reference(_) => {
            return Err((
                span,
                format!(
                    "{STATE_EXPR}; write the place or the guard itself, without the `&`: the macro borrows it mutably for the call"
                ),
            ));
        }
        Expr::Lit(_) => {
            return Err((
                span,
                format!("{STATE_EXPR}; a literal is not a place the state can live in"),
            ));
        }
        Expr::Binary(_)
        | Expr::Cast(_)
        | Expr::Range(_)
        | Expr::Array(_)
        | Expr::Tuple(_)
        | Expr::Repeat(_)
        | Expr::Struct(_) => {
            return Err((
                span,
                format!(
                    "{STATE_EXPR}; this expression makes a new value on every call, which would be dropped at the end of the call, so the machine would start over each time: name the place the state is kept in"
                ),
            ));
        }
        Expr::Unary(u) if !matches!(u.op, syn::UnOp::Deref(_)) => {
            return Err((
                span,
                format!(
                    "{STATE_EXPR}; this expression makes a new value on every call, which would be dropped at the end of the call, so the machine would start over each time: name the place the state is kept in"
                ),
            ));
        }
        Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => {
            return Err((
                span,
                format!("{STATE_EXPR}; this expression leaves the function instead of giving the state"),
            ));
        }
        Expr::Await(a) => {
            return Err((
                a.await_token.to_token_stream(),
                format!(
                    "{STATE_EXPR}; it cannot `.await`: a machine is not `async`, and the state must be reached without waiting"
                ),
            ));
        }
        Expr::Closure(_)
        | Expr::Async(_)
        | Expr::Block(_)
        | Expr::Unsafe(_)
        | Expr::If(_)
        | Expr::Match(_)
        | Expr::Loop(_)
        | Expr::While(_)
        | Expr::ForLoop(_)
        | Expr::Let(_)
        | Expr::Assign(_) => {
            return Err((
                span,
                format!(
                    "{STATE_EXPR}; a block, closure, `async` block, branch, loop or assignment is none of these: write the place or the call that borrows it"
                ),
            ));
        }
        _ => {}
    }
    if let Some(m) = suspension_in(&expr.to_token_stream()) {
        return Err((
            m.to_token_stream(),
            format!(
                "{STATE_EXPR}; it cannot hold `{m}!`, which suspends: the state must be reached without waiting for I/O"
            ),
        ));
    }
    // The outermost call that gives access, seen through `*`, `.unwrap()`
    // and `.expect(..)`: a shared one cannot work, so say so here and not
    // as rustc's "cannot borrow data in dereference of `Ref` as mutable".
    let mut e = expr;
    loop {
        match e {
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => e = &u.expr,
            Expr::Paren(p) => e = &p.expr,
            Expr::Try(t) => e = &t.expr,
            Expr::MethodCall(m) if m.method == "unwrap" || m.method == "expect" => e = &m.receiver,
            _ => break,
        }
    }
    if let Expr::MethodCall(m) = e {
        let shared = match m.method.to_string().as_str() {
            "borrow" => Some("borrow_mut"),
            "try_borrow" => Some("try_borrow_mut"),
            "read" => Some("write"),
            "try_read" => Some("try_write"),
            _ => None,
        };
        if let Some(instead) = shared {
            return Err((
                m.method.to_token_stream(),
                format!(
                    "`state = ..{}()` gives shared access, but the machine writes its state on every call; use `.{instead}()`",
                    m.method
                ),
            ));
        }
    }
    Ok(())
}

/// The first `yield_io!` or `call_io!` in `tokens`.
fn suspension_in(tokens: &TokenStream) -> Option<Ident> {
    let trees: Vec<proc_macro2::TokenTree> = tokens.clone().into_iter().collect();
    for (i, t) in trees.iter().enumerate() {
        match t {
            proc_macro2::TokenTree::Ident(id) if id == "yield_io" || id == "call_io" => {
                if matches!(trees.get(i + 1), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '!') {
                    return Some(id.clone());
                }
            }
            proc_macro2::TokenTree::Group(g) => {
                if let Some(found) = suspension_in(&g.stream()) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    None
}

/// A state expression naming `self` needs a method.
pub fn check_state_expr_receiver(cx: &Ctxt, expr: &Expr, has_receiver: bool, enum_name: &Ident) {
    if !has_receiver && names_self(&expr.to_token_stream()) {
        cx.spanned(
            expr,
            format!("the `state =` expression uses `self`, which needs a method inside `#[io_state_machines] impl ..`; for a free function reach the state through a parameter (`state = cell.borrow_mut()` with `cell: &RefCell<{enum_name}>`)"),
        );
    }
}

fn names_self(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == "self",
        proc_macro2::TokenTree::Group(g) => names_self(&g.stream()),
        _ => false,
    })
}

// Input:  `state = self.v[0]` on `fn go(&self, ..)`
// Output: an error at `self.v[0]`: a `&self` method cannot change it
/// A state expression that is a place inside `self` (fields and indexes,
/// no call) cannot be borrowed mutably through `&self`: say so here rather
/// than as rustc's "cannot borrow as mutable" on generated code.
pub fn check_place_in_shared_self(cx: &Ctxt, args: &Args, sig: &syn::Signature) {
    let Some((StateTarget::Expr(expr), _)) = &args.state else {
        return;
    };
    let Some(r) = sig.receiver() else { return };
    if !matches!(&r.kind, syn::ReceiverKind::Reference(_, _, None)) {
        return;
    }
    let mut e = &**expr;
    loop {
        match e {
            Expr::Field(f) => e = &f.base,
            Expr::Index(i) => e = &i.expr,
            Expr::Paren(p) => e = &p.expr,
            Expr::Path(p) if p.path.is_ident("self") => break,
            _ => return,
        }
    }
    let text = crate::scan::one_line(&expr.to_token_stream().to_string());
    cx.spanned(
        expr,
        format!(
            "`state = {text}` is a place inside `self`, but `{}` takes `&self`, through which the machine cannot write its state; take `&mut self`, or keep the state behind a `RefCell` or lock and borrow it for the call (`state = {text}.borrow_mut()`)",
            sig.ident
        ),
    );
}

// Input:  `s: &mut Box<FState>` | `s: &mut ReadState` for `fn f`
// Output: "... pass `&mut FState` ..." | "... write `name = ReadState` ..."
/// Why a `state = p` parameter's type is not `&mut` the state enum: the
/// state wrapped in another type (a `Box`), or a name the attribute did
/// not give.
pub fn param_type_mismatch(p: &Ident, ty: &syn::TypePath, enum_name: &Ident, func: &Ident) -> String {
    let Some(last) = ty.path.segments.last() else {
        return String::new();
    };
    let written = crate::scan::one_line(&ty.to_token_stream().to_string())
        .replace(" < ", "<")
        .replace(" <", "<")
        .replace(" >", ">");
    if names_ident(&last.arguments.to_token_stream(), enum_name) {
        return format!(
            "the state parameter `{p}` has type `&mut {written}`, but the machine keeps its state in a `{enum_name}` it borrows directly: declare `{p}: &mut {enum_name}` and pass the state itself (`&mut *boxed` for a `Box`)"
        );
    }
    format!(
        "the state parameter has type `{}` but #[io_state_machine] names the state enum of `{func}` `{enum_name}`; write `name = {}` in the attribute or use `&mut {enum_name}`",
        last.ident, last.ident
    )
}

fn names_ident(tokens: &TokenStream, name: &Ident) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == *name,
        proc_macro2::TokenTree::Group(g) => names_ident(&g.stream(), name),
        _ => false,
    })
}

// Input:  `state = self.v[x as usize]` with `let x: u32 = 1;` in the body
// Output: an error at `x`: the expression runs before the body
/// A state expression that names a local of the body (and not a parameter
/// of the same name): it is evaluated before the body runs, where the local
/// does not exist yet; say so rather than rustc's "cannot find value".
pub fn check_state_expr_names(cx: &Ctxt, args: &Args, sig: &syn::Signature, body: &syn::Block) {
    let Some((StateTarget::Expr(expr), _)) = &args.state else {
        return;
    };
    struct Bound(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Bound {
        fn visit_pat_ident(&mut self, pi: &'ast syn::PatIdent) {
            self.0.push(pi.ident.to_string());
            syn::visit::visit_pat_ident(self, pi);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut bound = Bound(Vec::new());
    syn::visit::Visit::visit_block(&mut bound, body);
    let params: Vec<String> = sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(pt) => match &*pt.pat {
                syn::Pat::Ident(pi) => Some(pi.ident.to_string()),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let mut seen = Vec::new();
    for u in crate::scan::free_vars_expr(expr) {
        if bound.0.contains(&u.name) && !params.contains(&u.name) && !seen.contains(&u.name) {
            cx.error(
                u.span,
                format!(
                    "`{}` is a local of the body, but the `state =` expression is evaluated once per call before the body runs, where no local exists yet; reach the state through the parameters and `self` only (pass what selects it as a parameter)",
                    u.name
                ),
            );
            seen.push(u.name);
        }
    }
}
