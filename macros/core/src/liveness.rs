//! Stage 4: liveness. Which bindings each block needs on entry, so that a
//! block's variant (and a suspension's stored state) carries only those.
//! Uses inside macro calls and inline format captures were collected as
//! uses by `scan`, so they count here.
//!
//! Input:  `B0: let a: u32 = 1; let b: u32 = 2; yield -> B1`, `B1: use(a)`
//! Output: `live_in[B1] = {a}` (b is dead after the yield, so not stored)

use std::collections::BTreeSet;

use crate::cfg::{BindId, BlockId, Graph};

pub struct Liveness {
    pub live_in: Vec<BTreeSet<BindId>>,
    pub reachable: Vec<bool>,
    /// Reachable blocks, each after the blocks that enter it (reverse
    /// postorder): rustc infers the type of a carried binding from the first
    /// arm that builds it, so builders must come before users.
    pub order: Vec<BlockId>,
}

pub fn successors(g: &Graph, b: BlockId) -> Vec<BlockId> {
    g.blocks[b]
        .jumps
        .iter()
        .filter_map(|&j| g.jumps.get(j).map(|j| j.target))
        .collect()
}

// Input:  `B0: let a; let b; yield -> B1`, `B1: use(a); b = 2; use(b)`
// Output: `live_in[B1] = {a}` (`b` is overwritten before it is read)
pub fn compute(g: &Graph) -> Liveness {
    let n = g.blocks.len();
    let mut reachable = vec![false; n];
    let mut post = Vec::new();
    if n > 0 {
        // Iterative DFS for a postorder.
        let mut stack: Vec<(BlockId, usize)> = vec![(0, 0)];
        reachable[0] = true;
        while let Some(top) = stack.last_mut() {
            let (b, i) = *top;
            let succ = successors(g, b);
            if let Some(&s) = succ.get(i) {
                top.1 += 1;
                if !reachable[s] {
                    reachable[s] = true;
                    stack.push((s, 0));
                }
            } else {
                post.push(b);
                stack.pop();
            }
        }
    }
    let mut order = post.clone();
    order.reverse();
    // Per block, in order: a binding is live at entry if a piece, a jump
    // leaving from inside a piece, or the terminator needs it before a
    // `let`, a pattern or an overwriting `x = e` of that block writes it.
    let mut live_in: Vec<BTreeSet<BindId>> = vec![BTreeSet::new(); n];
    let needs = |live_in: &[BTreeSet<BindId>], j: usize| -> BTreeSet<BindId> {
        let Some(jump) = g.jumps.get(j) else {
            return BTreeSet::new();
        };
        let supplied = jump.value.as_ref().and_then(|(slot, _)| *slot);
        live_in[jump.target]
            .iter()
            .copied()
            .filter(|v| Some(*v) != supplied)
            .collect()
    };
    let mut changed = true;
    while changed {
        changed = false;
        for &b in &post {
            let blk = &g.blocks[b];
            let mut killed: BTreeSet<BindId> = BTreeSet::new();
            let mut inn: BTreeSet<BindId> = BTreeSet::new();
            for (k, p) in blk.pieces.iter().enumerate() {
                inn.extend(p.uses.iter().copied().filter(|u| !killed.contains(u)));
                for &j in &blk.jumps {
                    if g.jumps.get(j).is_some_and(|jump| jump.piece == Some(k)) {
                        inn.extend(needs(&live_in, j).into_iter().filter(|u| !killed.contains(u)));
                    }
                }
                killed.extend(p.defs.iter().copied());
                killed.extend(p.assigns.iter().copied());
            }
            inn.extend(blk.term_uses.iter().copied().filter(|u| !killed.contains(u)));
            let n_pieces = blk.pieces.len();
            for &j in &blk.jumps {
                let Some(jump) = g.jumps.get(j) else { continue };
                match jump.piece {
                    // In the terminator's own code (a condition, a yield's
                    // argument): before its patterns bind.
                    Some(k) if k >= n_pieces => {
                        inn.extend(needs(&live_in, j).into_iter().filter(|u| !killed.contains(u)));
                    }
                    Some(_) => {}
                    None => {
                        inn.extend(
                            needs(&live_in, j)
                                .into_iter()
                                .filter(|u| !killed.contains(u) && !blk.term_defs.contains(u)),
                        );
                    }
                }
            }
            if inn != live_in[b] {
                live_in[b] = inn;
                changed = true;
            }
        }
    }
    Liveness {
        live_in,
        reachable,
        order,
    }
}

impl Liveness {
    /// Bindings a block overwrites whole (`x = e;`) whose old value is dead
    /// there: not carried in, so the block declares them at its top.
    pub fn late_decls(&self, g: &Graph, block: BlockId) -> Vec<BindId> {
        let blk = &g.blocks[block];
        let declared: BTreeSet<BindId> = blk.pieces.iter().flat_map(|p| p.defs.iter().copied()).collect();
        let mut late = Vec::new();
        for b in blk.pieces.iter().flat_map(|p| p.assigns.iter().copied()) {
            if !self.live_in[block].contains(&b) && !declared.contains(&b) && !late.contains(&b) {
                late.push(b);
            }
        }
        late
    }
}
