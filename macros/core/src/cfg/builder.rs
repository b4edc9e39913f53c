//! Stage 3, the builder's core: blocks (made, entered, closed), the jumps
//! between them, and the scope: names resolved to bindings, bindings
//! declared. The lowering files call these; they give block, jump and
//! binding ids into the graph being built.

use proc_macro2::{Span, TokenStream};
use quote::format_ident;
use syn::{Expr, Ident, Stmt, Type};

use super::Builder;
use super::graph::{BasicBlock, BindId, Binding, BlockId, Jump, JumpId, Piece, Term};
use crate::scan::{self, Use};

impl Builder<'_> {
    // Input:  `'scan: while i < n`, its head and continue blocks, its end block
    // Output: `loop_heads[head] = ("'scan: while i < n", true)`, `loop_heads[end] = (.., false)`
    /// Records a loop's head text for the diagram (see [`super::Graph::loop_heads`]).
    pub(super) fn mark_loop(
        &mut self,
        label: Option<&syn::Label>,
        head: String,
        entered: &[BlockId],
        end: BlockId,
    ) {
        let label = label.map(|l| format!("{}: ", l.name)).unwrap_or_default();
        let text = scan::one_line(&format!("{label}{head}"));
        for &b in entered {
            let branches = head != "loop";
            self.g.loop_heads.insert(b, (text.clone(), true, branches));
        }
        self.g.loop_heads.insert(end, (text, false, false));
    }

    pub(super) fn new_block(&mut self, name: &str) -> BlockId {
        let mut name = name.to_owned();
        if self.names.contains(&name) {
            let mut n = 2;
            while self.names.contains(&format!("{name}{n}")) {
                n += 1;
            }
            name = format!("{name}{n}");
        }
        self.names.push(name.clone());
        self.g.blocks.push(BasicBlock {
            name,
            pieces: Vec::new(),
            term: Term::Open,
            term_uses: Vec::new(),
            term_defs: Vec::new(),
            jumps: Vec::new(),
            ret_expr: None,
            scope_in: Vec::new(),
            term_attrs: TokenStream::new(),
            term_open: Vec::new(),
            after_scrutinee: false,
        });
        self.g.blocks.len() - 1
    }

    /// Continues lowering in `b`, which starts in the current scope.
    pub(super) fn enter(&mut self, b: BlockId) {
        self.cur = b;
        self.g.blocks[b].scope_in = self.scope.clone();
    }

    pub(super) fn alive(&self) -> bool {
        matches!(self.g.blocks[self.cur].term, Term::Open)
    }

    /// Code after a diverging statement goes to a block nothing reaches (it
    /// is still checked, then pruned).
    pub(super) fn ensure_alive(&mut self) {
        if !self.alive() {
            let b = self.new_block("Unreachable");
            self.enter(b);
        }
    }

    pub(super) fn close(&mut self, term: Term) {
        let open = self.open_candidates();
        let blk = &mut self.g.blocks[self.cur];
        blk.term = term;
        blk.term_attrs = self.attrs.clone();
        blk.term_open = open;
    }

    /// The bindings in scope that may be held for their `Drop`.
    fn open_candidates(&self) -> Vec<BindId> {
        self.scope
            .iter()
            .map(|&(_, b)| b)
            .filter(|&b| self.g.bindings[b].drop_candidate)
            .collect()
    }

    /// Lowers with `attrs` carried by every piece made meanwhile.
    pub(super) fn with_attrs(&mut self, attrs: TokenStream, f: impl FnOnce(&mut Self)) {
        if attrs.is_empty() {
            f(self);
            return;
        }
        let saved = self.attrs.clone();
        self.attrs.extend(attrs);
        f(self);
        self.attrs = saved;
    }

    /// `unsafe { e }` inside a taken-apart `unsafe` block.
    pub(super) fn in_unsafe(&self, e: Expr) -> Expr {
        if self.unsafe_depth == 0 {
            return e;
        }
        Expr::Unsafe(syn::ExprUnsafe {
            attrs: Vec::new(),
            unsafe_token: syn::Token![unsafe](self.unsafe_span),
            block: syn::Block {
                brace_token: Default::default(),
                stmts: vec![Stmt::Expr(e, None)],
            },
        })
    }

    /// A condition inside a taken-apart `unsafe` block: each `let`'s
    /// scrutinee and each other operand of a let chain is wrapped.
    pub(super) fn cond_in_unsafe(&self, e: Expr) -> Expr {
        if self.unsafe_depth == 0 {
            return e;
        }
        match e {
            Expr::Let(mut l) => {
                l.expr = Box::new(self.in_unsafe(*l.expr));
                Expr::Let(l)
            }
            Expr::Binary(mut b) if matches!(b.op, syn::BinOp::And(_)) => {
                b.left = Box::new(self.cond_in_unsafe(*b.left));
                b.right = Box::new(self.cond_in_unsafe(*b.right));
                Expr::Binary(b)
            }
            Expr::Paren(mut p) => {
                p.expr = Box::new(self.cond_in_unsafe(*p.expr));
                Expr::Paren(p)
            }
            other => self.in_unsafe(other),
        }
    }

    pub(super) fn jump(
        &mut self,
        target: BlockId,
        value: Option<(Option<BindId>, TokenStream)>,
        tail: bool,
    ) -> JumpId {
        self.g.jumps.push(Jump {
            piece: None,
            target,
            value,
            scope: self.scope.clone(),
            shadowed: Vec::new(),
            tail,
        });
        let id = self.g.jumps.len() - 1;
        self.g.blocks[self.cur].jumps.push(id);
        id
    }

    pub(super) fn goto(&mut self, target: BlockId) {
        if self.alive() {
            let j = self.jump(target, None, true);
            self.close(Term::Goto(j));
        }
    }

    pub(super) fn resolve(&mut self, uses: Vec<Use>) -> Vec<BindId> {
        let mut out = Vec::new();
        for u in uses {
            if let Some(&(_, id)) = self.scope.iter().rev().find(|(n, _)| *n == u.name) {
                self.g.bindings[id].uses.push((self.cur, u.span));
                if !out.contains(&id) {
                    out.push(id);
                }
            } else if !self.state_read_refused
                && matches!(&self.model.state, crate::args::StateTarget::Param(p) if *p == u.name)
            {
                // rustc would say "borrow of moved value" at `state = st`.
                self.state_read_refused = true;
                self.cx.error(
                    u.span,
                    format!(
                        "the body reads `{0}`, the state parameter: the generated code owns the state while the body runs (it moves `{0}` in before the body's first line), so the body cannot read or change it; keep what the body needs in locals or other arguments",
                        u.name
                    ),
                );
            }
        }
        out
    }

    // Input:  `if f { _g = pin(2); }`, kept, after `resolve` saw its `_g`
    // Output: that mention of `_g` among the binding's `overwrites`
    /// Writing a binding whole (`x = e`, anywhere in kept code but inside a
    /// closure) is not reading it: a binding only ever overwritten is still
    /// held for its `Drop` (see `end_scope`), and each write drops the old
    /// value, as in Rust.
    pub(super) fn mark_overwrites(&mut self, visit: impl FnOnce(&mut AssignTargets)) {
        let mut t = AssignTargets(Vec::new());
        visit(&mut t);
        let at = |s: &Span| (s.start(), s.end());
        for target in t.0 {
            if let Some(b) = self
                .g
                .bindings
                .iter_mut()
                .rev()
                .find(|b| b.uses.iter().any(|(_, u)| at(u) == at(&target)))
            {
                b.overwrites.push(target);
            }
        }
    }

    pub(super) fn push_piece(&mut self, tokens: TokenStream, uses: Vec<BindId>, defs: Vec<BindId>) {
        let attrs = self.attrs.clone();
        let open = self.open_candidates();
        self.g.blocks[self.cur].pieces.push(Piece {
            open,
            tokens,
            uses,
            defs,
            assigns: Vec::new(),
            split_let: None,
            attrs,
            uninit_decl: false,
        });
    }

    pub(super) fn declare(&mut self, b: Binding) -> BindId {
        let name = b.ident.to_string();
        self.g.bindings.push(b);
        let id = self.g.bindings.len() - 1;
        self.scope.push((name, id));
        id
    }

    pub(super) fn synth(&mut self, what: &str, ty: Option<Type>) -> BindId {
        let n = self.g.bindings.len();
        let ident = format_ident!("__ratchet_{}{}", what, n, span = Span::mixed_site());
        self.declare(Binding::plain(ident, ty, Span::call_site()))
    }

    pub(super) fn ident_expr(id: &Ident) -> Expr {
        Expr::Path(syn::ExprPath {
            attrs: Vec::new(),
            qself: None,
            path: syn::Path::from(id.clone()),
        })
    }
}

/// The names written whole (`x = e`) in kept code, outside closures and
/// nested items (see `Builder::mark_overwrites`).
pub(super) struct AssignTargets(Vec<Span>);

impl<'ast> syn::visit::Visit<'ast> for AssignTargets {
    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        if let Expr::Path(p) = scan::strip(&a.left)
            && let Some(id) = p.path.get_ident()
        {
            self.0.push(id.span());
        }
        syn::visit::visit_expr_assign(self, a);
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}
