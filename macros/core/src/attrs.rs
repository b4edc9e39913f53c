//! Attributes on the statements the lowering takes apart.
//!
//! A statement kept whole keeps its attributes as written. One that holds a
//! suspension point is taken apart into pieces of several states, so its
//! attributes must follow the code: lint attributes (`allow`, `warn`, ..)
//! are copied onto every piece made from it (`expect` becomes `allow`: a
//! copy that does not trigger the lint must not fail the expectation), and
//! `#[cfg]` decides whether the statement exists at all, which only rustc
//! can evaluate. So a function with such a `#[cfg]` (on a statement that
//! suspends, on an arm of a `match` taken apart, or on a `let` whose binding
//! may be carried) is expanded once per combination of its predicates, each
//! version under `#[cfg(all(..))]` of that combination: in each, the
//! statements whose predicate is false are gone and the others have lost
//! their `#[cfg]`.
//!
//! Input:  `#[cfg(feature = "x")] yield_io!(c)?; Ok(1)`
//! Output: `#[cfg(all(feature = "x"))] fn f(..) { <with the yield> }`,
//!         `#[cfg(all(not(feature = "x")))] fn f(..) { <without it> }`

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Attribute, Block, Expr, Meta, Stmt};

use crate::scan;

/// More predicates than this would make too many versions of one function.
pub const MAX_CFG_PREDICATES: usize = 4;

macro_rules! attrs_of {
    ($e:expr $(, $m:tt)?) => {
        match $e {
            Expr::Array(x) => Some(&$($m)? x.attrs),
            Expr::Assign(x) => Some(&$($m)? x.attrs),
            Expr::Async(x) => Some(&$($m)? x.attrs),
            Expr::Await(x) => Some(&$($m)? x.attrs),
            Expr::Binary(x) => Some(&$($m)? x.attrs),
            Expr::Block(x) => Some(&$($m)? x.attrs),
            Expr::Break(x) => Some(&$($m)? x.attrs),
            Expr::Call(x) => Some(&$($m)? x.attrs),
            Expr::Cast(x) => Some(&$($m)? x.attrs),
            Expr::Closure(x) => Some(&$($m)? x.attrs),
            Expr::Const(x) => Some(&$($m)? x.attrs),
            Expr::Continue(x) => Some(&$($m)? x.attrs),
            Expr::Field(x) => Some(&$($m)? x.attrs),
            Expr::ForLoop(x) => Some(&$($m)? x.attrs),
            Expr::Group(x) => Some(&$($m)? x.attrs),
            Expr::If(x) => Some(&$($m)? x.attrs),
            Expr::Index(x) => Some(&$($m)? x.attrs),
            Expr::Infer(x) => Some(&$($m)? x.attrs),
            Expr::Let(x) => Some(&$($m)? x.attrs),
            Expr::Lit(x) => Some(&$($m)? x.attrs),
            Expr::Loop(x) => Some(&$($m)? x.attrs),
            Expr::Macro(x) => Some(&$($m)? x.attrs),
            Expr::Match(x) => Some(&$($m)? x.attrs),
            Expr::MethodCall(x) => Some(&$($m)? x.attrs),
            Expr::Paren(x) => Some(&$($m)? x.attrs),
            Expr::Path(x) => Some(&$($m)? x.attrs),
            Expr::Range(x) => Some(&$($m)? x.attrs),
            Expr::RawAddr(x) => Some(&$($m)? x.attrs),
            Expr::Reference(x) => Some(&$($m)? x.attrs),
            Expr::Repeat(x) => Some(&$($m)? x.attrs),
            Expr::Return(x) => Some(&$($m)? x.attrs),
            Expr::Struct(x) => Some(&$($m)? x.attrs),
            Expr::Try(x) => Some(&$($m)? x.attrs),
            Expr::TryBlock(x) => Some(&$($m)? x.attrs),
            Expr::Tuple(x) => Some(&$($m)? x.attrs),
            Expr::Unary(x) => Some(&$($m)? x.attrs),
            Expr::Unsafe(x) => Some(&$($m)? x.attrs),
            Expr::While(x) => Some(&$($m)? x.attrs),
            Expr::Yield(x) => Some(&$($m)? x.attrs),
            _ => None,
        }
    };
}

/// The outer attributes of an expression (`#[allow(..)] { .. }`,
/// `#[cfg(..)] x = e;`: a statement's attributes sit on its expression).
pub fn expr_attrs(e: &Expr) -> &[Attribute] {
    attrs_of!(e).map_or(&[][..], Vec::as_slice)
}

/// The same, mutably.
pub fn expr_attrs_mut(e: &mut Expr) -> Option<&mut Vec<Attribute>> {
    attrs_of!(e, mut)
}

/// The outer attributes of a statement.
pub fn stmt_attrs(s: &Stmt) -> &[Attribute] {
    match s {
        Stmt::Local(l) => &l.attrs,
        Stmt::Item(_) => &[],
        Stmt::Expr(e, _) => expr_attrs(e),
        Stmt::Macro(m) => &m.attrs,
    }
}

fn stmt_attrs_mut(s: &mut Stmt) -> Option<&mut Vec<Attribute>> {
    match s {
        Stmt::Local(l) => Some(&mut l.attrs),
        Stmt::Item(_) => None,
        Stmt::Expr(e, _) => expr_attrs_mut(e),
        Stmt::Macro(m) => Some(&mut m.attrs),
    }
}

/// The predicate of a `#[cfg(P)]`.
fn cfg_predicate(a: &Attribute) -> Option<String> {
    match &a.meta {
        Meta::List(l) if a.path().is_ident("cfg") => Some(l.tokens.to_string()),
        _ => None,
    }
}

/// The attributes of a taken-apart statement that each of its pieces
/// carries: all but `cfg` (decided by the versions) and doc comments;
/// `expect` becomes `allow`. An attribute of ratchet's own on a statement
/// (such as a binding re-evaluated after every resume) is the transform's
/// to consume before this point, like `cfg`, and is never copied.
/// (Attributes of a statement kept whole stay on it as written.)
pub fn carried(attrs: &[Attribute]) -> TokenStream {
    let mut out = TokenStream::new();
    for a in attrs {
        let path = a.path();
        if path.is_ident("cfg") || path.is_ident("doc") {
            continue;
        }
        if path.is_ident("expect")
            && let Meta::List(l) = &a.meta
        {
            let tokens = &l.tokens;
            out.extend(quote!(#[allow(#tokens)]));
            continue;
        }
        a.to_tokens(&mut out);
    }
    out
}

pub fn stmt_suspends(s: &Stmt) -> bool {
    match s {
        Stmt::Local(l) => l.init.as_ref().is_some_and(|i| {
            scan::expr_suspends(&i.expr) || i.diverge.as_ref().is_some_and(|(_, e)| scan::expr_suspends(e))
        }),
        Stmt::Expr(e, _) => scan::expr_suspends(e),
        Stmt::Macro(m) => scan::macro_kind(&m.mac).is_some(),
        Stmt::Item(_) => false,
    }
}

/// What the walk does with each `#[cfg]` that matters: collect its
/// predicate, or decide it.
enum Mode<'a> {
    Collect(&'a mut Vec<String>),
    Select { preds: &'a [String], mask: usize },
}

impl Mode<'_> {
    /// Whether code carrying `attrs` exists in this version (and records
    /// the predicates when collecting); strips the `cfg`s it decides.
    fn keep(&mut self, attrs: &mut Vec<Attribute>) -> bool {
        let preds: Vec<String> = attrs.iter().filter_map(cfg_predicate).collect();
        if preds.is_empty() {
            return true;
        }
        match self {
            Mode::Collect(out) => {
                for p in preds {
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
                true
            }
            Mode::Select { preds: all, mask } => {
                let on = preds.iter().all(|p| {
                    all.iter()
                        .position(|q| q == p)
                        .is_some_and(|i| *mask & (1 << i) != 0)
                });
                attrs.retain(|a| cfg_predicate(a).is_none());
                on
            }
        }
    }
}

// Input:  the body, walked where the lowering takes statements apart
// Output: the `#[cfg]` predicates that matter (Collect), or the body of one
//         version (Select)
fn walk_stmts(stmts: &mut Vec<Stmt>, mode: &mut Mode<'_>) {
    let mut kept = Vec::with_capacity(stmts.len());
    for mut s in std::mem::take(stmts) {
        let relevant = stmt_suspends(&s) || matches!(s, Stmt::Local(_));
        if relevant
            && let Some(attrs) = stmt_attrs_mut(&mut s)
            && !mode.keep(attrs)
        {
            continue;
        }
        if stmt_suspends(&s) {
            match &mut s {
                Stmt::Local(l) => {
                    if let Some(init) = &mut l.init {
                        walk_expr(&mut init.expr, mode);
                        if let Some((_, e)) = &mut init.diverge {
                            walk_expr(e, mode);
                        }
                    }
                }
                Stmt::Expr(e, _) => walk_expr(e, mode),
                _ => {}
            }
        }
        kept.push(s);
    }
    *stmts = kept;
}

fn walk_block(b: &mut Block, mode: &mut Mode<'_>) {
    walk_stmts(&mut b.stmts, mode);
}

/// Into the constructs the lowering takes apart.
fn walk_expr(e: &mut Expr, mode: &mut Mode<'_>) {
    if !scan::expr_suspends(e) {
        return;
    }
    match e {
        Expr::Paren(p) => walk_expr(&mut p.expr, mode),
        Expr::Group(g) => walk_expr(&mut g.expr, mode),
        Expr::Try(t) => walk_expr(&mut t.expr, mode),
        Expr::Return(r) => {
            if let Some(v) = &mut r.expr {
                walk_expr(v, mode);
            }
        }
        Expr::Assign(a) => walk_expr(&mut a.right, mode),
        Expr::Binary(b) => walk_expr(&mut b.right, mode),
        Expr::Let(l) => walk_expr(&mut l.expr, mode),
        Expr::If(i) => {
            walk_expr(&mut i.cond, mode);
            walk_block(&mut i.then_branch, mode);
            if let Some((_, e)) = &mut i.else_branch {
                walk_expr(e, mode);
            }
        }
        Expr::Match(m) => {
            walk_expr(&mut m.expr, mode);
            let mut arms = Vec::with_capacity(m.arms.len());
            for mut arm in std::mem::take(&mut m.arms) {
                if !mode.keep(&mut arm.attrs) {
                    continue;
                }
                walk_expr(&mut arm.body, mode);
                arms.push(arm);
            }
            m.arms = arms;
        }
        Expr::Loop(l) => walk_block(&mut l.body, mode),
        Expr::While(w) => {
            walk_expr(&mut w.cond, mode);
            walk_block(&mut w.body, mode);
        }
        Expr::ForLoop(f) => walk_block(&mut f.body, mode),
        Expr::Block(b) => walk_block(&mut b.block, mode),
        Expr::Unsafe(u) => walk_block(&mut u.block, mode),
        _ => {}
    }
}

/// The distinct `#[cfg]` predicates on code the lowering takes apart.
pub fn predicates(body: &Block) -> Vec<String> {
    let mut out = Vec::new();
    let mut b = body.clone();
    walk_block(&mut b, &mut Mode::Collect(&mut out));
    out
}

/// The body of version `mask` (bit `i` set: predicate `i` holds).
pub fn select(body: &Block, preds: &[String], mask: usize) -> Block {
    let mut b = body.clone();
    walk_block(&mut b, &mut Mode::Select { preds, mask });
    b
}

/// `#[cfg(all(P0, not(P1), ..))]` for version `mask`.
pub fn version_attr(preds: &[String], mask: usize) -> TokenStream {
    let parts: Vec<TokenStream> = preds
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let p: TokenStream = p.parse().unwrap_or_default();
            if mask & (1 << i) != 0 {
                quote!(#p)
            } else {
                quote!(not(#p))
            }
        })
        .collect();
    quote!(#[cfg(all(#(#parts),*))])
}
