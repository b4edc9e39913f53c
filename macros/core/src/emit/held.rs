//! Stage 7, emit: held fields, the dead bindings a variant carries as
//! `Option`s so that they drop at their scope's end, where Rust drops them
//! (see [`crate::liveness::held_in`]). Takes the held sets per block; gives
//! each jump's `Option` for them (`held_init`), the ones a shadowing `let`
//! sets aside (`held_aside`), and the body rendered until every held field
//! left has a type (`held_body`).

use std::collections::BTreeSet;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::cfg::{BindId, BlockId, JumpId};
use crate::lower::Plan;

use super::Emitter;

impl Emitter<'_> {
    // Input:  a copy of `AfterC` into `Err(e) => { let acc: i64 = ..; yield c; }` whose jump carries a held outer `acc`
    // Output: `true`: in the copy, `acc` would name the inner one
    /// Whether a jump of `cont`'s code (or of a block emitted inside it)
    /// carries a held binding by name that, where `cont` would be copied
    /// (the end of `a`, inside the enclosing copies), another binding of
    /// its name hides (difftest seed 0x13c0de, program 7916: E0308).
    pub(super) fn carries_hidden_held(&self, a: BlockId, cont: BlockId) -> bool {
        let mut scope: BTreeSet<BindId> = self.ids_at.get(a).cloned().unwrap_or_default();
        for &d in self.dup_at.borrow().iter() {
            scope.extend(self.ids_at.get(d).into_iter().flatten().copied());
        }
        let mut carried = BTreeSet::new();
        self.held_carried(cont, &mut carried, 0);
        carried.iter().any(|&x| {
            let name = &self.g.bindings[x].ident;
            scope.iter().any(|&y| y != x && self.g.bindings[y].ident == *name)
        })
    }

    /// The held bindings the jumps of block `b`'s code carry, with those of
    /// the blocks emitted inside it.
    fn held_carried(&self, b: BlockId, out: &mut BTreeSet<BindId>, depth: usize) {
        for &j in &self.g.blocks[b].jumps {
            let t = self.g.jumps[j].target;
            out.extend(self.held_all.get(t).into_iter().flatten().copied());
            if depth < 64 && t != b && self.inline.get(t).copied().unwrap_or(false) {
                self.held_carried(t, out, depth + 1);
            }
        }
    }

    /// The body, without the held fields whose type nothing fixes (a field
    /// only ever `None` would leave rustc nothing to infer it from).
    pub(super) fn held_body(&self) -> TokenStream {
        loop {
            self.held_some.borrow_mut().clear();
            self.held_fwd.borrow_mut().clear();
            let body = self.body();
            let mut typed = self.held_some.borrow().clone();
            let fwd = self.held_fwd.borrow().clone();
            let mut grew = true;
            while grew {
                grew = false;
                for &(t, x, from) in &fwd {
                    if typed.contains(&(from, x)) && typed.insert((t, x)) {
                        grew = true;
                    }
                }
            }
            let mut held = self.held.borrow_mut();
            let mut pruned = false;
            for (t, xs) in held.iter_mut().enumerate() {
                let before = xs.len();
                xs.retain(|&x| typed.contains(&(t, x)));
                pruned |= xs.len() != before;
            }
            if !pruned {
                return body;
            }
        }
    }

    /// The hidden name of a held binding's `Option` (see `held`).
    pub(super) fn held_ident(&self, x: BindId) -> Ident {
        format_ident!("__ratchet_held{}", x, span = Span::mixed_site())
    }

    /// `field: value` for a held binding of `target` at jump `j`: the
    /// arm's own `Option`, `Some(x)` where the code declared `x` (or the
    /// arm carries it live), `None` where the arm does not have it (it was
    /// dropped at a real suspension).
    pub(super) fn held_init(&self, j: JumpId, target: BlockId, x: BindId) -> TokenStream {
        let arm = self.cur_arm.get();
        let f = self.held_ident(x);
        let p = &self.p;
        if self.held.borrow()[arm].contains(&x) {
            self.held_fwd.borrow_mut().push((target, x, arm));
            return quote!(#f);
        }
        let jump = &self.g.jumps[j];
        let id = self.ident(x);
        let name = id.to_string();
        let in_arm_scope = self.g.blocks[arm].scope_in.iter().any(|&(_, b)| b == x);
        let visible = jump.scope.iter().rev().find(|(n, _)| *n == name).map(|&(_, b)| b) == Some(x)
            && !self.hidden_by_inlining(j, x);
        if visible && !jump.shadowed.contains(&name) && (!in_arm_scope || self.live.live_in[arm].contains(&x))
        {
            self.held_some.borrow_mut().insert((target, x));
            return quote!(#f: #p::Some(#id));
        }
        // Carried into this arm under its hidden name, another binding
        // having its name here: dead from here on, it is still Rust's to
        // drop at its scope's end (difftest seed 0x13c0de, program 4971: a
        // guard dropped at a ready `yield_io!` in a `let`-`else`'s `else`).
        let some_hidden = || {
            let h = Plan::hidden_ident(self.g, x);
            self.held_some.borrow_mut().insert((target, x));
            quote!(#f: #p::Some(#h))
        };
        if self.plan.hidden_in.contains(&(arm, x)) && self.live.live_in[arm].contains(&x) {
            return some_hidden();
        }
        // Hidden by a later `let` of its name in this arm, which set it
        // aside (see `held_aside`).
        let hider = jump
            .scope
            .iter()
            .skip_while(|&&(_, b)| b != x)
            .skip(1)
            .find(|(n, _)| *n == name)
            .map(|&(_, b)| b);
        if let Some(y) = hider
            && !self.g.blocks[arm].scope_in.iter().any(|&(_, b)| b == y)
            && let Some(&(blk, k)) = self.decl_at.get(&y)
        {
            if self.held_aside(blk, k).contains(&x) {
                self.held_some.borrow_mut().insert((target, x));
                return quote!(#f);
            }
            // A live binding this arm set aside before the `let` hiding it.
            if self
                .plan
                .saves
                .get(&(blk, k))
                .is_some_and(|v| v.contains(&(x, y)))
            {
                return some_hidden();
            }
        }
        quote!(#f: #p::None)
    }

    // Input:  `if .. { .. } else { ..; let x: i64 = ..; }` with `x: Pt` held past the `if`
    // Output: `true` for the jump out of the `else`'s inlined end: the inner `x` is in the Rust scope
    /// Whether a binding of `x`'s name declared after it is in the Rust
    /// scope where jump `j` is emitted though out of the graph's scope there:
    /// declared in a block that the jump's block is emitted inside (inlined
    /// blocks continue their entering block's code), so `x` by name would
    /// read it (difftest seed 0x5eed2026, program 280).
    fn hidden_by_inlining(&self, j: JumpId, x: BindId) -> bool {
        let name = self.ident(x).to_string();
        let mut b = self.jump_src.get(j).copied().unwrap_or(0);
        for _ in 0..64 {
            if !self.inline.get(b).copied().unwrap_or(false) {
                return false;
            }
            let Some(src) = self
                .g
                .jumps
                .iter()
                .position(|jj| jj.target == b)
                .and_then(|k| self.jump_src.get(k).copied())
            else {
                return false;
            };
            let blk = &self.g.blocks[src];
            let hides = blk
                .pieces
                .iter()
                .flat_map(|p| p.defs.iter())
                .chain(blk.term_defs.iter())
                .any(|&d| d > x && *self.ident(d) == name);
            if hides {
                return true;
            }
            b = src;
        }
        false
    }

    /// The held bindings piece `k` of `block` hides with a `let` of their
    /// name, where the arm being emitted has them under their own name:
    /// moved into their `Option` after the `let`'s value is computed, so
    /// that a later transition can still carry them (Rust drops a hidden
    /// binding at its scope's end too).
    pub(super) fn held_aside(&self, block: BlockId, k: usize) -> Vec<BindId> {
        let blk = &self.g.blocks[block];
        let Some(piece) = blk.pieces.get(k) else {
            return Vec::new();
        };
        if piece.split_let.is_none() {
            return Vec::new();
        }
        let arm = self.cur_arm.get();
        let mut scope: Vec<(String, BindId)> = blk.scope_in.clone();
        for p in &blk.pieces[..k] {
            scope.extend(p.defs.iter().map(|&d| (self.ident(d).to_string(), d)));
        }
        let saved = self.plan.saves.get(&(block, k));
        let mut out = Vec::new();
        for &y in &piece.defs {
            let name = self.ident(y).to_string();
            let Some(&(_, x)) = scope.iter().rev().find(|(n, _)| *n == name) else {
                continue;
            };
            let in_arm_scope = self.g.blocks[arm].scope_in.iter().any(|&(_, b)| b == x);
            if x != y
                && self.carriable.get(x).copied().unwrap_or(false)
                && !self.held.borrow()[arm].contains(&x)
                && (!in_arm_scope || self.live.live_in[arm].contains(&x))
                && !saved.is_some_and(|v| v.iter().any(|&(b, _)| b == x))
                && !out.contains(&x)
            {
                out.push(x);
            }
        }
        out
    }
}
