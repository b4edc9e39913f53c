//! Stage 7, emit: where code runs in place rather than through the
//! dispatch. Takes the graph, liveness and plan; gives the blocks emitted
//! inside the one jump that enters them, with the names in scope at the end
//! of each block (`plan_inline`), and whether a yield's fast path may run
//! its continuation's code in place (`may_duplicate`).

use std::collections::BTreeSet;

use crate::cfg::{BindId, BlockId, JumpId};

use super::Emitter;

impl Emitter<'_> {
    // Input:  `While: if c { goto WhileBody } else { goto EndWhile }`, each entered once
    // Output: `inline[WhileBody] = inline[EndWhile] = true`: both are emitted inside the `if`
    /// Which blocks to emit inline: those entered by exactly one jump at the
    /// end of another block, that no resume enters, and whose code names
    /// nothing the entering block would capture by mistake. This is what
    /// turns `if`/`match` branches and loop exits back into plain code.
    pub(super) fn plan_inline(&self) -> (Vec<bool>, Vec<BTreeSet<String>>, Vec<BTreeSet<BindId>>) {
        let n = self.g.blocks.len();
        let mut inline = vec![false; n];
        let mut entries = vec![0usize; n];
        let mut entered_by: Vec<Option<(BlockId, JumpId)>> = vec![None; n];
        for &b in &self.live.order {
            for &j in &self.g.blocks[b].jumps {
                let t = self.g.jumps[j].target;
                entries[t] += 1;
                entered_by[t] = Some((b, j));
            }
        }
        if let Some(e) = entries.first_mut() {
            *e += 1;
        }
        for (i, s) in self.g.susps.iter().enumerate() {
            if self.live.reachable[s.block]
                && let Some(st) = self.stored.get(i)
            {
                entries[st.resume] += 1;
            }
        }
        let names = |set: &BTreeSet<BindId>| -> BTreeSet<String> {
            set.iter().map(|&b| self.ident(b).to_string()).collect()
        };
        let mut scope_at: Vec<BTreeSet<String>> = vec![BTreeSet::new(); n];
        let mut ids_at: Vec<BTreeSet<BindId>> = vec![BTreeSet::new(); n];
        for &b in &self.live.order {
            let blk = &self.g.blocks[b];
            let mut base = names(&self.live.live_in[b]);
            let mut ids = self.live.live_in[b].clone();
            if entries[b] == 1
                && let Some((src, j)) = entered_by[b]
                && self.g.jumps[j].tail
                && src != b
                && !self.leaves_scope(j)
                && !blk.after_scrutinee
            {
                let top = self.top_names(b);
                let captured: BTreeSet<String> = scope_at[src]
                    .difference(&base)
                    .filter(|n| !top.contains(*n))
                    .cloned()
                    .collect();
                let mut used = BTreeSet::new();
                self.g.block_idents(b, &mut used);

                if captured.is_disjoint(&used) && !self.plan.tainted[b] {
                    inline[b] = true;
                    base.extend(scope_at[src].iter().cloned());
                    ids.extend(ids_at[src].iter().copied());
                }
            }
            let defs = blk
                .pieces
                .iter()
                .flat_map(|p| p.defs.iter())
                .chain(blk.term_defs.iter());
            for &d in defs {
                base.insert(self.ident(d).to_string());
                ids.insert(d);
            }
            scope_at[b] = base;
            ids_at[b] = ids;
        }
        (inline, scope_at, ids_at)
    }

    /// Whether a block's code, or that of a block emitted inside it, invokes
    /// a macro that may expand to an item (see [`crate::cfg::Graph::block_has_item_macro`]).
    fn code_has_item_macro(&self, b: BlockId, depth: usize) -> bool {
        if self.g.block_has_item_macro(b) {
            return true;
        }
        depth < 64
            && self.g.blocks[b].jumps.iter().any(|&j| {
                let t = self.g.jumps[j].target;
                t != b
                    && self.inline.get(t).copied().unwrap_or(false)
                    && self.code_has_item_macro(t, depth + 1)
            })
    }

    /// Whether jump `j` leaves the scope of a local of the body (the end of
    /// a block taken apart, a `match` arm's bindings): then it is a
    /// transition of the dispatch, never code run in place, so that the
    /// locals of that scope are dropped there, where Rust drops them, and
    /// not when the dispatch step ends later (a lock guard or a `RefCell`
    /// borrow held past its scope could block or panic the code after it).
    pub(super) fn leaves_scope(&self, j: JumpId) -> bool {
        let jump = &self.g.jumps[j];
        let target = &self.g.blocks[jump.target].scope_in;
        jump.scope.iter().any(|(name, b)| {
            !name.starts_with("__ratchet_")
                && !target.iter().any(|(_, t)| t == b)
                && !self.g.bindings[*b]
                    .ty
                    .as_ref()
                    .is_some_and(crate::types::nothing_to_drop)
        })
    }

    /// The identifiers of a block's code and of the blocks emitted inside it.
    fn code_idents(&self, b: BlockId, out: &mut BTreeSet<String>, depth: usize) {
        let blk = &self.g.blocks[b];
        self.g.block_idents(b, out);
        if depth < 64 {
            for &j in &blk.jumps {
                let t = self.g.jumps[j].target;
                if self.inline.get(t).copied().unwrap_or(false) && t != b {
                    self.code_idents(t, out, depth + 1);
                }
            }
        }
    }

    // Input:  `yield c -> AfterC` where `AfterC` reads only what it carries
    // Output: `true`: the fast path continues with `AfterC`'s code instead of `pc = AfterC {..}`
    /// Whether the fast path of the yield ending block `a` may run the code
    /// of its continuation `cont` in place (saving a trip through the
    /// dispatch): at most two deep (straight-line code grows linearly, not
    /// quadratically), and only if that code names nothing the
    /// yield's block would capture by mistake.
    pub(super) fn may_duplicate(&self, a: BlockId, cont: BlockId) -> bool {
        /// Continuations run in place per fast path, at most.
        const MAX_DUPLICATION_DEPTH: u32 = 2;
        // A macro with a per-call-site `static` (a log-once, `tracing`'s
        // events) would exist twice and fire twice.
        // With the verbatim start, every-completion-ready runs never reach
        // these arms; after a real resume one trip through the dispatch per
        // suspension point is what a resumed machine pays anyway, and each
        // copy is user code emitted once more (issue 14).
        if self.verbatim_start.get()
            || self.dup_depth.get() >= MAX_DUPLICATION_DEPTH
            || self.plan.tainted[cont]
            || self.code_has_item_macro(cont, 0)
        {
            return false;
        }
        let live: BTreeSet<String> = self.live.live_in[cont]
            .iter()
            .map(|&b| self.ident(b).to_string())
            .collect();
        let Some(scope) = self.scope_at.get(a) else {
            return false;
        };
        let mut scope = scope.clone();
        for outer in self.dup_scopes.borrow().iter() {
            scope.extend(outer.iter().cloned());
        }
        let top = self.top_names(cont);
        let captured: BTreeSet<&String> = scope.difference(&live).filter(|n| !top.contains(*n)).collect();
        if self.carries_hidden_held(a, cont) {
            return false;
        }
        let mut used = BTreeSet::new();
        self.code_idents(cont, &mut used, 0);
        // Items (`impl`, `struct`, ..) in the continuation must not exist twice.
        let items = [
            "impl",
            "struct",
            "enum",
            "trait",
            "static",
            "macro_rules",
            "union",
        ];
        !used
            .iter()
            .any(|u| captured.contains(u) || items.contains(&u.as_str()))
    }
}
