//! Stage 4: liveness. Which bindings each block needs on entry, so that a
//! block's variant (and a suspension's stored state) carries only those.
//! Uses inside macro calls and inline format captures were collected as
//! uses by `scan`, so they count here.
//!
//! Input:  `B0: let a: u32 = 1; let b: u32 = 2; yield -> B1`, `B1: use(a)`
//! Output: `live_in[B1] = {a}` (b is dead after the yield, so not stored)
//!
//! This file holds the dataflow; beside it, `carry` (the dead bindings
//! carried to their scope's end, rule 8), `moves` (the parameters the body
//! may move where the dispatch comes back), and `mentions` (how code names
//! a binding, which both read, the macro seeing no types).

use std::collections::BTreeSet;

use crate::cfg::{BindId, BlockId, Graph};

mod carry;
mod mentions;
mod moves;

pub use carry::{carriable, held_in};
pub(crate) use moves::copy_whatever;
pub use moves::moved_params;

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
    drop_unassigned(g, &order, &mut live_in);
    Liveness {
        live_in,
        reachable,
        order,
    }
}

// Input:  `let x: u32; yield_io!(c)?; if f { x = 1; } else { x = 2; } Ok(x)`
// Output: `x` is not live after the yield: nothing can have assigned it yet
/// Takes out of `live_in` each `let x;` binding that no path from its
/// declaration can have given a value yet. Rust accepts a read of one only
/// after an assignment on every path, so its value there is never read:
/// it is not carried or stored (it has none), and the block that goes on
/// declares it again (see [`Liveness::late_decls`]). Backward liveness
/// alone keeps it live when the assignments sit inside a kept statement
/// (`if f { x = 1 } else { x = 2 }`), which is not an overwrite of the
/// whole binding. Any mention of it counts as a possible assignment (a
/// read implies one came before); its `let` (each time a loop runs it
/// again) starts it over without one.
fn drop_unassigned(g: &Graph, order: &[BlockId], live_in: &mut [BTreeSet<BindId>]) {
    let uninit: BTreeSet<BindId> = (0..g.bindings.len()).filter(|&b| g.bindings[b].uninit).collect();
    if uninit.is_empty() {
        return;
    }
    let n = g.blocks.len();
    let mut maybe: Vec<BTreeSet<BindId>> = vec![BTreeSet::new(); n];
    let mut changed = true;
    while changed {
        changed = false;
        for &b in order {
            let blk = &g.blocks[b];
            let mut out = maybe[b].clone();
            for p in &blk.pieces {
                // Its `let` (again, in a loop) starts it without a value.
                out.retain(|x| !p.defs.contains(x));
                out.extend(p.uses.iter().chain(&p.assigns).filter(|x| uninit.contains(x)));
            }
            out.extend(blk.term_uses.iter().filter(|x| uninit.contains(x)));
            for &j in &blk.jumps {
                let Some(jump) = g.jumps.get(j) else { continue };
                let mut to = out.clone();
                if let Some((Some(slot), _)) = &jump.value {
                    to.insert(*slot);
                }
                let t = &mut maybe[jump.target];
                let before = t.len();
                t.extend(to.into_iter().filter(|x| uninit.contains(x)));
                changed |= t.len() != before;
            }
        }
    }
    for (b, live) in live_in.iter_mut().enumerate() {
        live.retain(|x| !uninit.contains(x) || maybe[b].contains(x));
    }
}

impl Liveness {
    /// Bindings a block overwrites whole (`x = e;`) whose old value is dead
    /// there: not carried in, so the block declares them at its top.
    pub fn late_decls(&self, g: &Graph, block: BlockId) -> Vec<BindId> {
        let blk = &g.blocks[block];
        let declared: BTreeSet<BindId> = blk.pieces.iter().flat_map(|p| p.defs.iter().copied()).collect();
        let mut late = Vec::new();
        // A `let x;` not yet assigned where the block starts (see
        // `drop_unassigned`) and mentioned in it: the block gives it its
        // value inside a kept statement, or reads it after one.
        let unassigned = blk
            .pieces
            .iter()
            .flat_map(|p| p.uses.iter())
            .chain(&blk.term_uses)
            .copied()
            .filter(|&b| g.bindings[b].uninit);
        for b in blk
            .pieces
            .iter()
            .flat_map(|p| p.assigns.iter().copied())
            .chain(unassigned)
        {
            if !self.live_in[block].contains(&b) && !declared.contains(&b) && !late.contains(&b) {
                late.push(b);
            }
        }
        late
    }
}
