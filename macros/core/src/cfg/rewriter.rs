//! Stage 3, the rewrite of kept code: `return e` becomes `return done(e)`,
//! and a `break` or `continue` that leaves kept code for a loop taken apart
//! becomes a `__ratchet_jump!(n)` placeholder, for a [`Jump`] the emitter
//! fills in. Takes a kept syntax node; gives its tokens and the jumps made.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Pat, Stmt};

use super::graph::{BindId, BlockId, Jump, JumpId};
use super::{Builder, LoopCtx, collect_lets};
use crate::model::Model;
use crate::scan;

impl Builder<'_> {
    // Input:  `if done { break; }` kept inside a loop taken apart
    // Output: `if done { __ratchet_jump!(3); }`, jump 3 going to the loop's end
    /// Rewrites `return`, and `break`/`continue` that leave kept code for a
    /// taken-apart loop, into placeholders; returns the rewritten tokens.
    pub(super) fn rewrite<T: ToTokens>(
        &mut self,
        node: &mut T,
        visit: impl FnOnce(&mut Rewriter<'_>, &mut T),
    ) -> TokenStream {
        let mut rw = Rewriter {
            loops: &self.loops,
            jumps: &mut self.g.jumps,
            scope: &self.scope,
            kept: Vec::new(),
            bound: Vec::new(),
            model: self.model,
            made: Vec::new(),
            foreign_macro: false,
            jump_free: &self.jump_free,
        };
        visit(&mut rw, node);
        self.foreign_macro = rw.foreign_macro;
        let made = rw.made;
        let at = self.g.blocks[self.cur].pieces.len();
        for &j in &made {
            if let Some(jump) = self.g.jumps.get_mut(j) {
                jump.piece = Some(at);
            }
        }
        self.g.blocks[self.cur].jumps.extend(made);
        node.to_token_stream()
    }
}

/// Rewrites kept code: `return e` -> `return done(e)`, and `break`/`continue`
/// to a taken-apart loop -> a jump placeholder.
pub(super) struct Rewriter<'a> {
    loops: &'a [LoopCtx],
    jumps: &'a mut Vec<Jump>,
    scope: &'a [(String, BindId)],
    /// Loops and labeled blocks of the kept code itself: (label, is_block).
    kept: Vec<(Option<String>, bool)>,
    /// Names the kept code itself binds around the point being visited
    /// (`let`s of enclosing blocks so far, arm and `if let` patterns).
    bound: Vec<String>,
    model: &'a Model,
    made: Vec<JumpId>,
    /// The code invokes a macro that may expand to `break`/`continue`
    /// (one outside std's known ones) where no loop of its own encloses it.
    foreign_macro: bool,
    /// `macro_rules!` of the body whose definitions write no `break` or
    /// `continue`.
    jump_free: &'a [String],
}

impl Rewriter<'_> {
    fn target(&self, label: Option<&syn::Lifetime>, is_continue: bool) -> Option<&LoopCtx> {
        match label {
            None => {
                if self.kept.iter().any(|(_, b)| !b) {
                    return None;
                }
                self.loops.iter().rev().find(|l| !l.is_block)
            }
            Some(l) => {
                let name = l.ident.to_string();
                if self.kept.iter().any(|(k, _)| k.as_deref() == Some(name.as_str())) {
                    return None;
                }
                self.loops
                    .iter()
                    .rev()
                    .find(|c| c.label.as_deref() == Some(name.as_str()) && (!is_continue || !c.is_block))
            }
        }
    }

    fn placeholder(&mut self, target: BlockId, value: Option<(Option<BindId>, TokenStream)>) -> Expr {
        self.jumps.push(Jump {
            piece: None,
            target,
            value,
            scope: self.scope.to_vec(),
            shadowed: self.bound.clone(),
            tail: false,
        });
        let id = self.jumps.len() - 1;
        self.made.push(id);
        let n = proc_macro2::Literal::usize_unsuffixed(id);
        Expr::Verbatim(quote!(__ratchet_jump!(#n)))
    }

    /// Visits `f` with the names bound by `pats` in scope.
    fn binding(&mut self, pats: &[&Pat], f: impl FnOnce(&mut Self)) {
        let mark = self.bound.len();
        scan::push_names(&mut self.bound, pats);
        f(self);
        self.bound.truncate(mark);
    }

    fn with_kept(&mut self, label: Option<&syn::Label>, is_block: bool, f: impl FnOnce(&mut Self)) {
        self.kept
            .push((label.map(|l| l.name.ident.to_string()), is_block));
        f(self);
        self.kept.pop();
    }
}

impl VisitMut for Rewriter<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Closure(_) | Expr::Async(_) => {}
            Expr::Loop(l) => {
                let label = l.label.clone();
                self.with_kept(label.as_ref(), false, |v| visit_mut::visit_expr_loop_mut(v, l));
            }
            Expr::While(w) => {
                let label = w.label.clone();
                self.with_kept(label.as_ref(), false, |v| {
                    v.visit_expr_mut(&mut w.cond);
                    let mut pats = Vec::new();
                    collect_lets(&w.cond, &mut |p| pats.push(p.clone()));
                    let pats: Vec<&Pat> = pats.iter().collect();
                    v.binding(&pats, |v| v.visit_block_mut(&mut w.body));
                });
            }
            Expr::If(i) => {
                self.visit_expr_mut(&mut i.cond);
                let mut pats = Vec::new();
                collect_lets(&i.cond, &mut |p| pats.push(p.clone()));
                let pats: Vec<&Pat> = pats.iter().collect();
                self.binding(&pats, |v| v.visit_block_mut(&mut i.then_branch));
                if let Some((_, e)) = &mut i.else_branch {
                    self.visit_expr_mut(e);
                }
            }
            Expr::ForLoop(f) => {
                self.visit_expr_mut(&mut f.expr);
                let label = f.label.clone();
                let pat = (*f.pat).clone();
                self.with_kept(label.as_ref(), false, |v| {
                    v.binding(&[&pat], |v| v.visit_block_mut(&mut f.body))
                });
            }
            Expr::Block(b) if b.label.is_some() => {
                let label = b.label.clone();
                self.with_kept(label.as_ref(), true, |v| v.visit_block_mut(&mut b.block));
            }
            Expr::Break(b) => {
                if let Some(v) = &mut b.expr {
                    self.visit_expr_mut(v);
                }
                if let Some(ctx) = self.target(b.label.as_ref(), false) {
                    let (to, slot) = (ctx.break_to, ctx.value);
                    let value = match (&b.expr, slot) {
                        (Some(v), slot) => Some((slot, v.to_token_stream())),
                        (None, Some(slot)) => Some((Some(slot), quote!(()))),
                        (None, None) => None,
                    };
                    *e = self.placeholder(to, value);
                }
            }
            Expr::Continue(c) => {
                if let Some(ctx) = self.target(c.label.as_ref(), true)
                    && let Some(to) = ctx.continue_to
                {
                    *e = self.placeholder(to, None);
                }
            }
            Expr::Return(r) => {
                if let Some(v) = &mut r.expr {
                    self.visit_expr_mut(v);
                    let span = r.return_token.span;
                    let ret = self.model.done(&v.to_token_stream(), span);
                    *e = Expr::Verbatim(quote_spanned!(span=> return #ret));
                }
            }
            _ => visit_mut::visit_expr_mut(self, e),
        }
    }
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        let mark = self.bound.len();
        for stmt in &mut b.stmts {
            self.visit_stmt_mut(stmt);
            if let Stmt::Local(l) = stmt {
                scan::push_names(&mut self.bound, &[&l.pat]);
            }
        }
        self.bound.truncate(mark);
    }
    fn visit_arm_mut(&mut self, a: &mut syn::Arm) {
        self.visit_pat_mut(&mut a.pat);
        let pat = a.pat.clone();
        self.binding(&[&pat], |v| v.visit_expr_mut(&mut a.body));
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        let name = m
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if !scan::is_item_free_macro(&name)
            && !self.jump_free.contains(&name)
            && self.kept.iter().all(|(_, is_block)| *is_block)
        {
            self.foreign_macro = true;
        }
    }
}
