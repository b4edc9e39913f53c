//! A guard declared without a value and given one later (`let _g: Pin;`
//! .. `_g = pin(page);`), never read: Rust keeps it to the end of its scope
//! once assigned (a drop flag says whether it was). A machine cannot store a
//! value that may not exist, so the binding becomes an `Option` that starts
//! `None` and each assignment stores `Some(..)`: then it is an ordinary guard
//! held for its `Drop` (DESIGN rule 8), stored across every suspension point
//! in its scope, and dropped where Rust drops it (an assignment drops the old
//! value, the scope's end the last one; `None` drops nothing).
//!
//! Input:  `let _g: Pin; yield_io!(c)?; if f { _g = pin(1); } yield_io!(d)?; log("end");`
//! Output: `let mut _g: Option<Pin> = None; yield_io!(c)?; if f { _g = Some(pin(1)); } ..`
//!
//! Only where nothing else can tell: the binding has a written type with
//! something to drop, a suspension point follows it in its block, its name is
//! bound nowhere else in the body, and every other mention of it is the left
//! side of an assignment outside closures and macros. Anything else is left
//! as written.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Local, Pat, Stmt};

use crate::scan;

/// Rewrites every qualifying guard of `body` (see the module's docs).
pub fn wrap(body: &mut syn::Block) {
    let candidates = candidates(body);
    if candidates.is_empty() {
        return;
    }
    let all = body.to_token_stream();
    for (name, ty) in candidates {
        let mut count = CountAssigns {
            name: &name,
            found: 0,
            in_closure: 0,
        };
        count.visit_block_mut(&mut body.clone());
        // The declaration, then its assignments: nothing else names it.
        if count.found == 0 || mentions(&all, &name) != 1 + count.found || binds(body, &name) != 1 {
            continue;
        }
        Wrap { name: &name, ty: &ty }.visit_block_mut(body);
    }
}

/// The `let NAME: T;` statements whose block holds a suspension point after
/// them, with a `T` that has something to drop.
fn candidates(body: &syn::Block) -> Vec<(String, syn::Type)> {
    struct Find(Vec<(String, syn::Type)>);
    impl VisitMut for Find {
        fn visit_block_mut(&mut self, b: &mut syn::Block) {
            for (i, s) in b.stmts.iter().enumerate() {
                if let Stmt::Local(Local {
                    init: None,
                    pat: Pat::Type(pt),
                    ..
                }) = s
                    && let Pat::Ident(pi) = &*pt.pat
                    && pi.by_ref.is_none()
                    && pi.subpat.is_none()
                    && !crate::types::nothing_to_drop(&pt.ty)
                    && b.stmts[i + 1..]
                        .iter()
                        .any(|s| scan::suspension_in_tokens(&s.to_token_stream()))
                {
                    self.0.push((pi.ident.to_string(), (*pt.ty).clone()));
                }
            }
            visit_mut::visit_block_mut(self, b);
        }
        // A nested function's body is its own.
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    let mut f = Find(Vec::new());
    f.visit_block_mut(&mut body.clone());
    f.0
}

/// How many times `name` occurs in `ts`, format captures (`"{name}"`)
/// included.
fn mentions(ts: &TokenStream, name: &str) -> usize {
    ts.clone()
        .into_iter()
        .map(|t| match t {
            TokenTree::Ident(id) => usize::from(id == name),
            TokenTree::Group(g) => mentions(&g.stream(), name),
            TokenTree::Literal(l) => scan::format_captures(&l.to_string())
                .iter()
                .filter(|c| *c == name)
                .count(),
            TokenTree::Punct(_) => 0,
        })
        .sum()
}

/// How many patterns of the body bind `name`.
fn binds(body: &syn::Block, name: &str) -> usize {
    struct Binds<'n>(&'n str, usize);
    impl VisitMut for Binds<'_> {
        fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
            if p.ident == self.0 {
                self.1 += 1;
            }
            visit_mut::visit_pat_ident_mut(self, p);
        }
    }
    let mut b = Binds(name, 0);
    b.visit_block_mut(&mut body.clone());
    b.1
}

/// `name = e` with `name` alone on the left.
fn assigns(e: &syn::ExprAssign, name: &str) -> bool {
    matches!(&*e.left, Expr::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

struct CountAssigns<'n> {
    name: &'n str,
    found: usize,
    in_closure: usize,
}

impl VisitMut for CountAssigns<'_> {
    fn visit_expr_assign_mut(&mut self, e: &mut syn::ExprAssign) {
        if self.in_closure == 0 && assigns(e, self.name) {
            self.found += 1;
        }
        visit_mut::visit_expr_assign_mut(self, e);
    }
    fn visit_expr_closure_mut(&mut self, c: &mut syn::ExprClosure) {
        self.in_closure += 1;
        visit_mut::visit_expr_closure_mut(self, c);
        self.in_closure -= 1;
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

struct Wrap<'n> {
    name: &'n str,
    ty: &'n syn::Type,
}

impl VisitMut for Wrap<'_> {
    fn visit_local_mut(&mut self, l: &mut Local) {
        if l.init.is_none()
            && let Pat::Type(pt) = &mut l.pat
            && let Pat::Ident(pi) = &mut *pt.pat
            && pi.ident == self.name
        {
            let span = pi.ident.span();
            pi.mutability = Some(syn::Token![mut](span));
            let ty = self.ty;
            *pt.ty = syn::parse_quote_spanned!(span=> ::core::option::Option<#ty>);
            let none: Expr = syn::parse_quote_spanned!(span=> ::core::option::Option::None);
            l.init = Some(syn::LocalInit {
                eq_token: syn::Token![=](span),
                expr: Box::new(none),
                diverge: None,
            });
            return;
        }
        visit_mut::visit_local_mut(self, l);
    }
    fn visit_expr_assign_mut(&mut self, e: &mut syn::ExprAssign) {
        visit_mut::visit_expr_assign_mut(self, e);
        if assigns(e, self.name) {
            let right = &e.right;
            let span = syn::spanned::Spanned::span(&**right);
            let wrapped: Expr = syn::parse_quote_spanned!(span=> ::core::option::Option::Some(#right));
            *e.right = wrapped;
        }
    }
    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
