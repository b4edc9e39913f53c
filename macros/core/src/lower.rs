//! Stage 6: lowering to states. Names the variants of the stored state
//! enum (one per suspension point, after the awaited call) and of the local
//! program-counter enum (one per block), and checks that every binding a
//! block or a jump carries can be named where it is needed.
//!
//! Input:  suspensions `yield_io!(src.pread(..)?)`, `yield_io!(dst.pwrite(..)?)`, `call_io!(self.free_page(i))`
//! Output: state variants `Pread`, `Pwrite`, `FreePage`; block variants `Start`, `While`, `AfterPread`, ..

use std::collections::BTreeMap;

use proc_macro2::Ident;
use quote::format_ident;

use crate::cfg::{BindId, Graph};
use crate::ctxt::Ctxt;
use crate::liveness::Liveness;

pub struct Plan {
    /// Per suspension point: the stored state's variant.
    pub state_variants: Vec<Ident>,
    /// Per block: the program-counter variant.
    pub block_variants: Vec<Ident>,
}

// Input:  suspensions `yield_io!(disk.read(i))`, `yield_io!(disk.read(j))`
// Output: state variants `Read`, `Read2`; an error if a block must carry two bindings named alike
pub fn plan(cx: &Ctxt, g: &Graph, live: &Liveness) -> Plan {
    let mut used: Vec<String> = vec!["Idle".to_owned()];
    let mut state_variants = Vec::new();
    for s in &g.susps {
        let mut name = s.name.clone();
        if used.contains(&name) {
            let mut n = 2;
            while used.contains(&format!("{name}{n}")) {
                n += 1;
            }
            name = format!("{name}{n}");
        }
        used.push(name.clone());
        state_variants.push(format_ident!("{}", name, span = s.span));
    }
    let block_variants = g.blocks.iter().map(|b| format_ident!("{}", b.name)).collect();

    // A block binds its live bindings by name: two with one name cannot both
    // be carried.
    let mut reported: Vec<BindId> = Vec::new();
    let mut shadow_error = |b: BindId, other: Option<BindId>| {
        if reported.contains(&b) {
            return;
        }
        reported.push(b);
        let binding = &g.bindings[b];
        let name = &binding.ident;
        let extra = other.map_or_else(String::new, |_| " by a binding of the same name".to_owned());
        cx.error(
            binding.decl_span,
            format!("`{name}` is shadowed{extra} while it is still needed after a suspension point; #[io_state_machine] carries variables by name: rename one of them"),
        );
    };
    for &blk in &live.order {
        let mut by_name: BTreeMap<String, BindId> = BTreeMap::new();
        for &b in &live.live_in[blk] {
            let name = g.bindings[b].ident.to_string();
            if let Some(&other) = by_name.get(&name) {
                shadow_error(other.min(b), Some(other.max(b)));
            } else {
                by_name.insert(name, b);
            }
        }
        for &j in &g.blocks[blk].jumps {
            let jump = &g.jumps[j];
            let supplied = jump.value.as_ref().and_then(|(s, _)| *s);
            for &b in &live.live_in[jump.target] {
                if Some(b) == supplied {
                    continue;
                }
                let name = g.bindings[b].ident.to_string();
                let visible = jump
                    .scope
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == name)
                    .map(|(_, id)| *id);
                if visible != Some(b) || jump.shadowed.contains(&name) {
                    shadow_error(b, visible);
                }
            }
        }
    }
    Plan {
        state_variants,
        block_variants,
    }
}
