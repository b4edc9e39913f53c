//! Stage 3: the control-flow graph. The body becomes basic blocks of kept
//! user code that end in a terminator; every construct holding a suspension
//! point is taken apart, every other statement is kept whole. Names are
//! resolved to bindings here, so shadowing is exact.
//!
//! Input:  `let mut i: u64 = 0; while i < n { yield_io!(f.pread(i)?)?; i += 1; } Ok(n)`
//! Output: `B0 Start: let mut i: u64 = 0; goto B1`
//!         `B1 While: if i < n { goto B2 } else { goto B3 }`
//!         `B2 WhileBody: yield f.pread(i)? -> B4 (r0)`
//!         `B4 AfterPread: r0?; i += 1; goto B1`
//!         `B3 AfterWhile: return done(Ok(n))`
//!
//! This file holds the builder's state, `build`, and the passes over the
//! finished graph; the other files of the stage:
//! - `graph`: the graph it gives (blocks, pieces, jumps, bindings, suspensions);
//! - `builder`: blocks, jumps, and the scope (names resolved, bindings declared);
//! - `stmts`: statement lists, `let` and `let-else`, scope ends, hoisted items;
//! - `control`: expressions taken apart (`if`, `match`, loops, blocks);
//! - `site`: the suspension points themselves;
//! - `kept`: user code kept whole, as pieces of a block;
//! - `rewriter`: `return`, `break` and `continue` in kept code, made jumps;
//! - `derive`: the types of locals the code does not spell (rules 8 and 9).

mod builder;
mod control;
mod derive;
mod graph;
mod kept;
mod rewriter;
mod site;
mod stmts;

pub use derive::type_borrows;
pub use graph::{BindId, BlockId, ForLowered, Graph, JumpId, Piece, Term};
pub use site::site_key;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{Expr, Ident, Pat, Stmt, Type};

use crate::ctxt::Ctxt;
use crate::model::Model;
use crate::scan;
use graph::Binding;
use stmts::diverging_last;

#[derive(Clone, Copy)]
enum Dest {
    Discard,
    Value(BindId),
    Return,
}

#[derive(Clone)]
struct LoopCtx {
    label: Option<String>,
    is_block: bool,
    break_to: BlockId,
    continue_to: Option<BlockId>,
    value: Option<BindId>,
}

struct Builder<'a> {
    cx: &'a Ctxt,
    model: &'a Model,
    private: TokenStream,
    g: Graph,
    cur: BlockId,
    scope: Vec<(String, BindId)>,
    loops: Vec<LoopCtx>,
    names: Vec<String>,
    /// Attributes of the taken-apart statements being lowered, which every
    /// piece made from them carries.
    attrs: TokenStream,
    /// Inside how many taken-apart `unsafe` blocks: user code made from
    /// them is wrapped in `unsafe { .. }` again.
    unsafe_depth: u32,
    /// The user's `unsafe` keyword of the innermost one: the copies carry
    /// its span, so that lints such as `unsafe_code` see the user's code.
    unsafe_span: Span,
    /// Whether the code last rewritten invokes a foreign macro outside
    /// its own loops (see [`rewriter::Rewriter::foreign_macro`]).
    foreign_macro: bool,
    /// The `if` lowered next is an `else if` (its condition's fixes differ).
    else_if: bool,
    /// See [`rewriter::Rewriter::jump_free`].
    jump_free: Vec<String>,
    /// A read of the state parameter was refused: once is enough.
    state_read_refused: bool,
}

// Input:  `let a: u32 = 1; yield_io!(c)?; Ok(a)`
// Output: `B0 Start: let a: u32 = 1; yield c -> B1 (r0)`, `B1 AfterC: r0?; return done(Ok(a))`
/// Builds the graph of the body of `model`.
pub fn build(cx: &Ctxt, model: &Model) -> Graph {
    let mut b = Builder {
        cx,
        model,
        private: model.private(),
        g: Graph {
            macro_paths: Vec::new(),
            items: Vec::new(),
            body_types: Vec::new(),
            body_uses: Vec::new(),
            loop_heads: std::collections::BTreeMap::new(),
            fors: Vec::new(),
            blocks: Vec::new(),
            bindings: Vec::new(),
            jumps: Vec::new(),
            susps: Vec::new(),
        },
        cur: 0,
        scope: Vec::new(),
        loops: Vec::new(),
        names: Vec::new(),
        attrs: TokenStream::new(),
        unsafe_depth: 0,
        unsafe_span: Span::call_site(),
        foreign_macro: false,
        else_if: false,
        jump_free: jump_free_macros(&model.input.block),
        state_read_refused: false,
    };
    let start = b.new_block("Start");
    b.enter(start);
    // `mut n: T`: a local initialized from the first call's argument (rule
    // 8). The start block is entered with it (moved in once, before the
    // dispatch loop: moving the parameter inside the loop would be a move
    // in a loop to the borrow checker, E0382 for a value that is not
    // `Copy`), and later blocks carry the local of that name. A by-value
    // parameter the body moves (`Param::moved`) is entered the same way,
    // but never stored: a resume that needs it enters it again from that
    // call's argument, as a re-created borrow is (rule 2: each call passes
    // its arguments, and the one that runs the move consumes its own).
    let params: Vec<(Ident, Type, bool)> = model
        .params
        .iter()
        .filter(|p| p.mutable || p.moved)
        .map(|p| (p.ident.clone(), p.ty.clone(), p.mutable))
        .collect();
    let mut defs = Vec::new();
    for (ident, ty, mutable) in params {
        let borrow = type_borrows(&ty);
        let reborrow = (!mutable).then(|| ident.to_token_stream());
        let span = ident.span();
        let id = b.declare(Binding {
            mutable,
            reborrow,
            borrow,
            param: true,
            ..Binding::plain(ident, Some(ty), span)
        });
        defs.push(id);
    }
    if !defs.is_empty() {
        // No code: a use that makes the start block carry them, always
        // (the emitter marks the parameter's own `mut` used where it moves
        // it in, so no code here names the parameter, which a shadowing
        // `let` in this block could hide).
        b.push_piece(TokenStream::new(), defs, Vec::new());
        // They are in scope where the start block begins.
        b.g.blocks[start].scope_in = b.scope.clone();
    }
    let body = model.input.block.clone();
    crate::items::check(cx, &body);
    // A body whose value is not `()` and that ends with a statement must
    // end in one that diverges (`bail!(e);`, a call returning `!`), as in
    // Rust; a `()` body may fall off its end (`Ok(())`).
    let unit = matches!(model.ok_type(), Some(Type::Tuple(t)) if t.elems.is_empty());
    let ends_with_stmt = match body.stmts.last() {
        Some(Stmt::Expr(_, semi)) => semi.is_some(),
        Some(Stmt::Macro(m)) => m.semi_token.is_some(),
        _ => false,
    };
    let stmts = if model.ok_type().is_some() && !unit && ends_with_stmt {
        diverging_last(&body.stmts)
    } else {
        body.stmts.clone()
    };
    b.lower_stmts(&stmts, Dest::Return);
    let mut g = b.g;
    hold_for_drop(&mut g);
    spell_out_used_types(&mut g);
    g
}

// Input:  `use std::collections::BTreeMap;` in the body, `let m: BTreeMap<u32, u32>`
// Output: the binding's type `std::collections::BTreeMap<u32, u32>`
/// Spells out, in the bindings' types, the names a `use` of the body
/// brings in: the state enum lives outside the function, where the `use`
/// is not in scope. Inside the function the long path means the same.
fn spell_out_used_types(g: &mut Graph) {
    struct Spell<'u>(&'u [(String, syn::Path)]);
    impl syn::visit_mut::VisitMut for Spell<'_> {
        fn visit_type_path_mut(&mut self, t: &mut syn::TypePath) {
            syn::visit_mut::visit_type_path_mut(self, t);
            if t.qself.is_some() || t.path.leading_colon.is_some() {
                return;
            }
            let Some(first) = t.path.segments.first() else {
                return;
            };
            let Some((_, full)) = self.0.iter().rev().find(|(n, _)| first.ident == n) else {
                return;
            };
            let mut path = full.clone();
            if let Some(last) = path.segments.last_mut() {
                last.arguments = first.arguments.clone();
            }
            path.segments.extend(t.path.segments.iter().skip(1).cloned());
            t.path = path;
        }
    }
    if g.body_uses.is_empty() {
        return;
    }
    let uses = std::mem::take(&mut g.body_uses);
    for b in &mut g.bindings {
        if let Some(ty) = &mut b.ty {
            syn::visit_mut::VisitMut::visit_type_mut(&mut Spell(&uses), ty);
        }
    }
    g.body_uses = uses;
}

// Input:  `let _g = lock();` (never read), then pieces and terminators in its scope
// Output: `_g` among the uses of each of them, so liveness keeps it to the end of its scope
/// A binding held only for its `Drop` is live wherever it is in scope, as
/// rustc keeps a value that needs dropping: across every suspension point
/// of its scope it is stored, and it is dropped where Rust drops it.
fn hold_for_drop(g: &mut Graph) {
    let held: Vec<bool> = g.bindings.iter().map(|b| b.drop_only).collect();
    for (id, blk) in g.blocks.iter_mut().enumerate() {
        for p in &mut blk.pieces {
            for &b in &p.open {
                if held[b] && !p.defs.contains(&b) && !p.uses.contains(&b) {
                    p.uses.push(b);
                }
            }
        }
        for &b in &blk.term_open {
            if held[b] && !blk.term_uses.contains(&b) && !g.bindings[b].scope_ends.contains(&id) {
                blk.term_uses.push(b);
            }
        }
    }
}

/// Where the type of a new `let` binding comes from.
#[derive(Clone, Copy)]
enum TySrc<'a> {
    Expr(&'a Expr),
    YieldResult { question: bool },
    None,
}

// Input:  `macro_rules! skip { () => { continue } }`, `macro_rules! again { () => { skip!() } }`, `macro_rules! log { ($x:expr) => { println!("{}", $x) } }`
// Output: `["log"]`
/// The `macro_rules!` declared in the body (not in a nested item or a
/// closure) whose definitions write no `break` or `continue` and invoke
/// only std's item-free macros or other such macros of the body: their
/// invocations cannot jump out of a loop.
fn jump_free_macros(body: &syn::Block) -> Vec<String> {
    struct V(Vec<(String, TokenStream)>);
    impl<'ast> syn::visit::Visit<'ast> for V {
        fn visit_item_macro(&mut self, m: &'ast syn::ItemMacro) {
            if let Some(id) = &m.ident {
                self.0.push((id.to_string(), m.mac.tokens.clone()));
            }
        }
        // A `macro_rules!` of a nested item is that item's own: counted by
        // name, it would make a same-named macro of the body jump-free.
        fn visit_item(&mut self, i: &'ast syn::Item) {
            if let syn::Item::Macro(m) = i {
                self.visit_item_macro(m);
            }
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    fn jumps(ts: &TokenStream) -> bool {
        ts.clone().into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "break" || i == "continue",
            proc_macro2::TokenTree::Group(g) => jumps(&g.stream()),
            _ => false,
        })
    }
    /// The names of the macros `ts` invokes (`name!`).
    fn invoked(ts: &TokenStream, out: &mut Vec<String>) {
        let trees: Vec<proc_macro2::TokenTree> = ts.clone().into_iter().collect();
        for (k, t) in trees.iter().enumerate() {
            match t {
                proc_macro2::TokenTree::Ident(i) if matches!(trees.get(k + 1), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '!') =>
                {
                    out.push(i.to_string());
                }
                proc_macro2::TokenTree::Group(g) => invoked(&g.stream(), out),
                _ => {}
            }
        }
    }
    let mut v = V(Vec::new());
    syn::visit::Visit::visit_block(&mut v, body);
    let mut free: Vec<(String, Vec<String>)> =
        v.0.into_iter()
            .filter(|(_, ts)| !jumps(ts))
            .map(|(name, ts)| {
                let mut calls = Vec::new();
                invoked(&ts, &mut calls);
                (name, calls)
            })
            .collect();
    // A macro that invokes one not known to be jump-free is not either
    // (`again!` -> `skip!` -> `continue`), to a fixed point.
    loop {
        let names: Vec<String> = free.iter().map(|(n, _)| n.clone()).collect();
        let before = free.len();
        free.retain(|(_, calls)| {
            calls
                .iter()
                .all(|c| scan::is_item_free_macro(c) || names.contains(c))
        });
        if free.len() == before {
            return names;
        }
    }
}

fn e_span(e: &Expr) -> Span {
    syn::spanned::Spanned::span(e)
}

/// `if`, `match`, loops and blocks: statements without a `;`, and the
/// constructs the lowering takes apart when they hold a suspension.
fn block_like(e: &Expr) -> bool {
    matches!(
        scan::strip(e),
        Expr::If(_)
            | Expr::Match(_)
            | Expr::Loop(_)
            | Expr::While(_)
            | Expr::ForLoop(_)
            | Expr::Block(_)
            | Expr::Unsafe(_)
    )
}

/// Whether `e`, kept as a statement, needs a `;` after it: all but a
/// block-like one.
fn needs_semi(e: &Expr) -> bool {
    !block_like(e)
}

/// Constructs the lowering takes apart when they hold a suspension.
fn is_lowerable(e: &Expr) -> bool {
    block_like(e) && scan::expr_suspends(e)
}

fn strip_pat(p: &Pat) -> &Pat {
    match p {
        Pat::Paren(q) => strip_pat(&q.pat),
        Pat::Type(t) => strip_pat(&t.pat),
        other => other,
    }
}

/// Calls `f` on the pattern of each `let` of a condition (`if let`, let
/// chains).
pub(crate) fn collect_lets(e: &Expr, f: &mut impl FnMut(&Pat)) {
    match scan::strip(e) {
        Expr::Let(l) => f(&l.pat),
        Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            collect_lets(&b.left, f);
            collect_lets(&b.right, f);
        }
        _ => {}
    }
}
