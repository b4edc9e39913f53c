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
    let parser = |input: ParseStream| -> syn::Result<()> {
        while !input.is_empty() {
            let key = Ident::parse_any(input)?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "state" => {
                    state_written = true;
                    let expr: Expr = input.parse()?;
                    match state_target(&expr) {
                        Ok(t) => args.state = Some((t, key.span())),
                        Err((at, msg)) => cx.spanned(&at, msg),
                    }
                }
                "name" => args.name = Some(input.parse()?),
                "crate" => args.krate = Some(Path::parse_mod_style(input)?),
                "max_size" => {
                    let lit: LitInt = input.parse()?;
                    match lit.base10_parse::<usize>() {
                        Ok(n) => args.max_size = Some(n),
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
    if args.state.is_none() && !state_written {
        cx.error(
            attr_span,
            "#[io_state_machine] needs to know where the state lives: write `#[io_state_machine(state = st)]` for a `st: &mut FooState` parameter, or `state = self.field` in an impl",
        );
    }
    args
}

// Input:  `st` | `self.read_state` | `self.s.borrow_mut()`
// Output: `Param(st)` | `SelfField(read_state)` | `Expr(self.s.borrow_mut())`
/// Where `state =` says the state lives, or why it cannot live there.
fn state_target(expr: &Expr) -> Result<StateTarget, (TokenStream, String)> {
    match expr {
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
    match expr {
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
        Expr::Closure(_) | Expr::Async(_) | Expr::Block(_) | Expr::Unsafe(_) => {
            return Err((
                span,
                format!(
                    "{STATE_EXPR}; a block, closure or `async` block is none of these: write the place or the call that borrows it"
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
