//! Stage 5: stored-local types and borrow rules (rules 8 and 9). Every
//! binding live across a suspension point must have a type the macro can
//! read and must not hold a borrow; borrows of arguments or `self` that are
//! plain paths or field accesses are re-created instead of stored.
//!
//! Input:  `let buf = Vec::new(); yield_io!(c)?; buf.len()`
//! Output: error at `buf`: "`buf` is stored across `yield_io!(c)` ... write `let buf: Type = ...`"
//! Input:  `let cfg = &self.config; yield_io!(c)?; cfg.len()`
//! Output: `Stored { fields: [], reborrows: [cfg] }`

use std::collections::BTreeSet;

use proc_macro2::Span;

use crate::cfg::{BindId, Graph, Term};
use crate::ctxt::Ctxt;
use crate::liveness::Liveness;
use crate::scan::SiteKind;

/// What one suspension point keeps.
#[derive(Default)]
pub struct Stored {
    pub fields: Vec<BindId>,
    pub reborrows: Vec<BindId>,
    /// The block the machine continues at when it resumes here, and the
    /// binding the resume fills with the suspension's result (yield only).
    pub resume: usize,
}

fn line(span: Span) -> usize {
    span.start().line
}

// Input:  the live set `{i: u64, buf: <unknown>}` of `yield_io!(..)`
// Output: `Stored { fields: [i, buf] }` and an error at `buf`: its type cannot be read
/// Checks and splits the live set of every suspension point.
pub fn check(cx: &Ctxt, g: &Graph, live: &Liveness) -> Vec<Stored> {
    let mut reported: BTreeSet<BindId> = BTreeSet::new();
    let mut out = Vec::new();
    for s in &g.susps {
        let mut st = Stored::default();
        if !live.reachable.get(s.block).copied().unwrap_or(false) {
            out.push(st);
            continue;
        }
        let set: Vec<BindId> = match s.kind {
            SiteKind::Call => {
                st.resume = s.block;
                live.live_in[s.block].iter().copied().collect()
            }
            SiteKind::Yield => {
                let Term::Yield { jump, .. } = g.blocks[s.block].term else {
                    out.push(st);
                    continue;
                };
                let cont = g.jumps[jump].target;
                st.resume = cont;
                live.live_in[cont]
                    .iter()
                    .copied()
                    .filter(|b| *b != s.result)
                    .collect()
            }
        };
        for b in set {
            let binding = &g.bindings[b];
            if binding.reborrow.is_some() {
                st.reborrows.push(b);
                continue;
            }
            st.fields.push(b);
            if reported.contains(&b) {
                continue;
            }
            let name = &binding.ident;
            let at = format!("`{}` (line {})", s.text, line(s.span));
            let later = binding
                .uses
                .iter()
                .find(|(blk, _)| live.live_in.get(*blk).is_some_and(|l| l.contains(&b)))
                .or(binding.uses.last())
                .map_or_else(String::new, |(_, sp)| {
                    format!(" and used after it on line {}", line(*sp))
                });
            if binding.uninit {
                reported.insert(b);
                cx.error(
                    binding.decl_span,
                    format!("`{name}` is declared without a value and is stored across the suspension point {at}{later}; #[io_state_machine] cannot store a variable that may be uninitialized: give it a value where it is declared, `let {name}: Type = ..;`"),
                );
            } else if binding.for_iter && binding.ty.is_none() {
                reported.insert(b);
                cx.error(
                    binding.decl_span,
                    format!("the iterator of this `for` loop is stored across the suspension point {at}, but #[io_state_machine] cannot read its type; loop over a range with a typed bound (`for i in 0..n` with `n: u64`), or write `let mut it: std::vec::IntoIter<T> = v.into_iter(); while let Some(x) = it.next() {{ .. }}`"),
                );
            } else if binding.ty.is_none() && !binding.borrow && binding.in_pattern {
                reported.insert(b);
                cx.error(
                    binding.decl_span,
                    format!("`{name}` is stored across the suspension point {at}{later}, but #[io_state_machine] cannot read its type, which the state enum needs, and a pattern cannot carry one; rebind it with its type first thing in the block it binds: `let {name}: Type = {name};`"),
                );
            } else if binding.ty.is_none() && !binding.borrow {
                reported.insert(b);
                cx.error(
                    binding.decl_span,
                    format!("`{name}` is stored across the suspension point {at}{later}, but #[io_state_machine] cannot read its type, which the state enum needs; write it out: `let {name}: Type = ..;`"),
                );
            } else if binding.borrow || binding.ty.as_ref().is_some_and(crate::cfg::type_borrows) {
                reported.insert(b);
                cx.error(
                    binding.decl_span,
                    format!("`{name}` holds a borrow and is stored across the suspension point {at}{later}; the state of a machine cannot hold borrows (it has no lifetime): store an owned value or an index, and borrow again after the suspension"),
                );
            }
        }
        out.push(st);
    }
    out
}
