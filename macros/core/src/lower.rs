//! Stage 6: lowering to states. Names the variants of the stored state
//! enum (one per suspension point, after the awaited call) and of the local
//! program-counter enum (one per block), and plans shadowing: where a
//! binding must be carried while a binding of the same name hides it, it
//! gets a field name of its own and is moved to a hidden name before the
//! code that hides it (checking that this can be done).
//!
//! Input:  suspensions `yield_io!(src.pread(..)?)`, `yield_io!(dst.pwrite(..)?)`, `call_io!(self.free_page(i))`
//! Output: state variants `Pread`, `Pwrite`, `FreePage`; block variants `Start`, `While`, `AfterPread`, ..

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::format_ident;

use crate::cfg::{BindId, BlockId, Graph, JumpId, Term};
use crate::ctxt::Ctxt;
use crate::liveness::Liveness;
use crate::types::Stored;

pub struct Plan {
    /// Per suspension point: the stored state's variant.
    pub state_variants: Vec<Ident>,
    /// Per block: the program-counter variant.
    pub block_variants: Vec<Ident>,
    /// Per binding: its field in the stored state and in the block
    /// variants (its own name unless another binding shares it).
    pub fields: Vec<Ident>,
    /// Per block: it carries or names a binding whose name another
    /// binding live beside it shares (a shadowing). Such a block is a
    /// dispatch arm of its own, never inlined or run in place, so that the
    /// bookkeeping below is exact.
    pub tainted: Vec<bool>,
    /// Shadowed bindings a block's arm binds under their hidden name
    /// (its code means the other binding by that name).
    pub hidden_in: BTreeSet<(BlockId, BindId)>,
    /// Bindings moved to their hidden name before piece `k` of a block
    /// (`k` = the number of pieces: before the terminator), because that
    /// code declares another binding of the same name (the second of the
    /// pair) while they are still needed.
    pub saves: BTreeMap<(BlockId, usize), Vec<(BindId, BindId)>>,
    /// Bindings moved to their hidden name before piece `k` runs at all,
    /// because a `break`/`continue`/`return` inside it must carry them
    /// from where the piece's own code hides their name; `restores` names
    /// them again after the piece.
    /// (Pairs as in `saves`; the binding hides nothing of its own here.)
    pub pre_saves: BTreeMap<(BlockId, usize), Vec<(BindId, BindId)>>,
    pub restores: BTreeMap<(BlockId, usize), Vec<BindId>>,
    /// Pieces kept whole that read a binding `pre_saves` moves aside before
    /// them: their code with those reads renamed to the hidden name.
    pub renamed: BTreeMap<(BlockId, usize), TokenStream>,
    /// The same for the values of `break`s inside such pieces (kept apart
    /// from the piece's code, in the jump).
    pub renamed_values: BTreeMap<JumpId, TokenStream>,
    /// Carried bindings a jump reads from their hidden name.
    pub hidden_jump: BTreeSet<(JumpId, BindId)>,
    /// Stored bindings a suspension point reads from their hidden name.
    pub hidden_susp: BTreeSet<(usize, BindId)>,
    /// The field of a yield's variant that holds the awaited completion:
    /// `__completion`, unless a stored local has that name (fields, unlike
    /// bindings, cannot be hidden from user code).
    pub completion: Ident,
}

impl Plan {
    /// The name a shadowed binding is kept under where the user's name
    /// means another binding; unreachable from the user's code.
    pub fn hidden_ident(g: &Graph, b: BindId) -> Ident {
        format_ident!(
            "__ratchet_shadowed{}_{}",
            b,
            g.bindings[b].ident,
            span = Span::mixed_site()
        )
    }
}

// Input:  suspensions `yield_io!(disk.read(i))`, `yield_io!(disk.read(j))`
// Output: state variants `Read`, `Read2`; for a shadowed `x` still needed, where it is set aside
pub fn plan(cx: &Ctxt, g: &Graph, live: &Liveness, stored: &[Stored]) -> Plan {
    let mut used: Vec<String> = vec!["Idle".to_owned()];
    // Names the user gave are kept as written; the others make way.
    let mut given: Vec<String> = Vec::new();
    for s in &g.susps {
        if let Some(n) = &s.user_name {
            let text = n.to_string();
            if text.starts_with("r#") {
                let plain = crate::model::camel(&text);
                let fix = if plain == "Idle" {
                    "a plain name other than `Idle`".to_owned()
                } else {
                    format!("a plain name such as `{plain}`")
                };
                cx.error(
                    n.span(),
                    format!(
                        "the suspension point name `{text}` is a raw identifier: it names a variant of the state enum, where `r#` is not needed for a name that is not a keyword and a keyword cannot stand; write {fix}"
                    ),
                );
            } else if text == "Idle" || given.contains(&text) {
                cx.error(
                    n.span(),
                    format!(
                        "the suspension point name `{text}` is {}: each names its own variant of the state enum beside `Idle`; choose another name",
                        if text == "Idle" { "the idle state's" } else { "given twice" }
                    ),
                );
            }
            given.push(text);
        }
    }
    let mut state_variants = Vec::new();
    for s in &g.susps {
        if let Some(n) = &s.user_name {
            used.push(n.to_string());
            state_variants.push(n.clone());
            continue;
        }
        let mut name = s.name.clone();
        if used.contains(&name) || given.contains(&name) {
            let mut n = 2;
            while used.contains(&format!("{name}{n}")) || given.contains(&format!("{name}{n}")) {
                n += 1;
            }
            name = format!("{name}{n}");
        }
        used.push(name.clone());
        state_variants.push(format_ident!("{}", name, span = s.span));
    }
    let block_variants = g.blocks.iter().map(|b| format_ident!("{}", b.name)).collect();
    let conflicted = conflicted_names(g, live);
    let fields = field_names(g, &conflicted);
    let taken: BTreeSet<String> = fields.iter().map(ToString::to_string).collect();
    let mut completion = "__completion".to_owned();
    let mut n = 2;
    while taken.contains(&completion) {
        completion = format!("__completion_{n}");
        n += 1;
    }
    let completion = format_ident!("{}", completion);
    let mut plan = Plan {
        state_variants,
        block_variants,
        fields,
        tainted: vec![false; g.blocks.len()],
        hidden_in: BTreeSet::new(),
        saves: BTreeMap::new(),
        pre_saves: BTreeMap::new(),
        restores: BTreeMap::new(),
        renamed: BTreeMap::new(),
        renamed_values: BTreeMap::new(),
        hidden_jump: BTreeSet::new(),
        hidden_susp: BTreeSet::new(),
        completion,
    };
    if conflicted.is_empty() {
        return plan;
    }
    let named = |b: BindId| conflicted.contains(&g.bindings[b].ident.to_string());
    for &blk in &live.order {
        let mut idents = BTreeSet::new();
        g.block_idents(blk, &mut idents);
        plan.tainted[blk] =
            live.live_in[blk].iter().any(|&b| named(b)) || idents.iter().any(|n| conflicted.contains(n));
    }
    for &blk in &live.order {
        if plan.tainted[blk] {
            Shadows {
                cx,
                g,
                live,
                stored,
                conflicted: &conflicted,
                plan: &mut plan,
            }
            .walk(blk);
        }
    }
    plan
}

/// Names two live bindings share: where both are carried into a block, or
/// where a jump must carry one while the user's name means the other.
fn conflicted_names(g: &Graph, live: &Liveness) -> BTreeSet<String> {
    let mut conflicted = BTreeSet::new();
    for &blk in &live.order {
        let mut by_name: BTreeMap<String, BindId> = BTreeMap::new();
        for &b in &live.live_in[blk] {
            let name = g.bindings[b].ident.to_string();
            if by_name.insert(name.clone(), b).is_some() {
                conflicted.insert(name);
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
                if jump.shadowed.contains(&name) || visible(&jump.scope, &name) != Some(b) {
                    conflicted.insert(name);
                }
            }
        }
    }
    conflicted
}

/// The binding `name` means in `scope`.
fn visible(scope: &[(String, BindId)], name: &str) -> Option<BindId> {
    scope.iter().rev().find(|(n, _)| n == name).map(|(_, id)| *id)
}

/// Field names: a binding's own name, and for the second and later
/// bindings of a shadowed name `x`, `x_2`, `x_3`.. (skipping names in use).
fn field_names(g: &Graph, conflicted: &BTreeSet<String>) -> Vec<Ident> {
    let taken: BTreeSet<String> = g.bindings.iter().map(|b| b.ident.to_string()).collect();
    let mut made: BTreeSet<String> = BTreeSet::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    g.bindings
        .iter()
        .map(|b| {
            let name = b.ident.to_string();
            if !conflicted.contains(&name) {
                return b.ident.clone();
            }
            let n = seen.entry(name.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                return b.ident.clone();
            }
            let mut k = *n;
            let mut field = format!("{name}_{k}");
            while taken.contains(&field) || made.contains(&field) {
                k += 1;
                field = format!("{name}_{k}");
            }
            made.insert(field.clone());
            format_ident!("{}", field, span = b.ident.span())
        })
        .collect()
}

/// Follows, through one block's code, which binding each shadowed name
/// means in the emitted code and which bindings are held under their
/// hidden name, and records where each carried binding is read from.
struct Shadows<'a> {
    cx: &'a Ctxt,
    g: &'a Graph,
    live: &'a Liveness,
    stored: &'a [Stored],
    conflicted: &'a BTreeSet<String>,
    plan: &'a mut Plan,
}

#[derive(Clone)]
struct Env {
    /// Shadowed name -> the binding it means here.
    named: BTreeMap<String, BindId>,
    hidden: BTreeSet<BindId>,
}

impl Shadows<'_> {
    fn name(&self, b: BindId) -> String {
        self.g.bindings[b].ident.to_string()
    }

    fn shadowed(&self, b: BindId) -> bool {
        self.conflicted.contains(&self.name(b))
    }

    /// What the jump's target needs, but for the value it supplies.
    fn needs(&self, j: JumpId) -> Vec<BindId> {
        let jump = &self.g.jumps[j];
        let supplied = jump.value.as_ref().and_then(|(s, _)| *s);
        self.live.live_in[jump.target]
            .iter()
            .copied()
            .filter(|&b| Some(b) != supplied && self.shadowed(b))
            .collect()
    }

    fn lost(&self, b: BindId) {
        let name = self.name(b);
        self.cx.error(
            self.g.bindings[b].decl_span,
            format!("`{name}` is needed after a suspension point, but where the machine must store it a binding of the same name hides it and #[io_state_machine] cannot set it aside there; rename one of them"),
        );
    }

    /// Whether `b` can be read where `env` holds: `Some(true)` from its
    /// hidden name, `Some(false)` by its own name.
    fn read(&self, env: &Env, b: BindId) -> Option<bool> {
        if env.named.get(&self.name(b)) == Some(&b) {
            Some(false)
        } else if env.hidden.contains(&b) {
            Some(true)
        } else {
            self.lost(b);
            None
        }
    }

    fn jump(&mut self, env: &Env, j: JumpId) {
        for b in self.needs(j) {
            if self.read(env, b) == Some(true) {
                self.plan.hidden_jump.insert((j, b));
            }
        }
    }

    fn susp(&mut self, env: &Env, s: usize) {
        let Some(st) = self.stored.get(s) else { return };
        let fields: Vec<BindId> = st.fields.iter().copied().filter(|&b| self.shadowed(b)).collect();
        for b in fields {
            if self.read(env, b) == Some(true) {
                self.plan.hidden_susp.insert((s, b));
            }
        }
    }

    /// Before code at `k` declares `defs`: sets aside each binding a def's
    /// name means now that is still needed later. Code that also reads the
    /// old binding (`let x = x + 1;`) then reads the moved-from value:
    /// fine for `Copy` types, a use-after-move error from rustc at that
    /// `let` otherwise.
    fn declare(&mut self, env: &mut Env, blk: BlockId, k: usize, defs: &[BindId], later: &BTreeSet<BindId>) {
        let defs: Vec<BindId> = defs.iter().copied().filter(|&d| self.shadowed(d)).collect();
        for d in defs {
            let name = self.name(d);
            if let Some(&old) = env.named.get(&name)
                && old != d
                && later.contains(&old)
            {
                self.plan.saves.entry((blk, k)).or_default().push((old, d));
                env.named.remove(&name);
                env.hidden.insert(old);
            }
        }
    }

    /// Before piece `k` (or the terminator's code, `k` = the number of
    /// pieces): a jump inside it that must carry a binding whose name the
    /// piece's own code rebinds around the jump (`{ let x = ..; break 'l; }`)
    /// reads it from its hidden name, so it is moved there first, and the
    /// piece's own references to it are renamed to match (`rename`).
    /// Returns the bindings moved.
    fn kept_shadows(&mut self, env: &mut Env, blk: BlockId, k: usize, uses: &[BindId]) -> Vec<BindId> {
        let g = self.g;
        let mut moved = Vec::new();
        for &j in &g.blocks[blk].jumps {
            let jump = &g.jumps[j];
            if jump.piece != Some(k)
                && !(k == g.blocks[blk].pieces.len() && jump.piece.is_some_and(|p| p >= k))
            {
                continue;
            }
            for b in self.needs(j) {
                let name = self.name(b);
                if !jump.shadowed.contains(&name) || env.named.get(&name) != Some(&b) {
                    continue;
                }
                // The piece's own reads of `b` then use the hidden name.
                if uses.contains(&b) && !self.rename(blk, k, b) {
                    self.cx.error(
                        g.bindings[b].decl_span,
                        format!("`{name}` is shadowed inside a statement that also reads it and holds a `break`, `continue` or `return` out of a loop with a suspension point, while `{name}` is still needed after the jump, and a read of it there cannot be renamed with certainty (a capture in a macro other than std's formatting ones, or a macro that binds names); rename one of them"),
                    );
                    continue;
                }
                self.plan.pre_saves.entry((blk, k)).or_default().push((b, b));
                env.named.remove(&name);
                env.hidden.insert(b);
                moved.push(b);
            }
        }
        moved
    }

    /// Renames the reads of `b` in piece `k` of `blk` (kept whole) to its
    /// hidden name; false where that cannot be done with certainty (the
    /// terminator's code, a split `let`, see [`crate::rename`]).
    fn rename(&mut self, blk: BlockId, k: usize, b: BindId) -> bool {
        let Some(piece) = self.g.blocks[blk].pieces.get(k) else {
            return false;
        };
        if piece.split_let.is_some() {
            return false;
        }
        let code = self.plan.renamed.get(&(blk, k)).unwrap_or(&piece.tokens);
        let to = Plan::hidden_ident(self.g, b);
        let name = self.name(b);
        let Some(code) = crate::rename::rename_free(code, &name, &to) else {
            return false;
        };
        // A `break` value reads the binding where the kept code does not
        // bind the name around the `break`.
        let mut values = Vec::new();
        for &j in &self.g.blocks[blk].jumps {
            let jump = &self.g.jumps[j];
            let Some((_, value)) = &jump.value else { continue };
            if jump.piece != Some(k) || jump.shadowed.contains(&name) {
                continue;
            }
            let value = self.plan.renamed_values.get(&j).unwrap_or(value);
            match crate::rename::rename_free(value, &name, &to) {
                Some(v) => values.push((j, v)),
                None => return false,
            }
        }
        self.plan.renamed.insert((blk, k), code);
        self.plan.renamed_values.extend(values);
        true
    }

    /// Needed after code at piece `k` of `blk` runs: by the jumps from it
    /// or later.
    fn later(&self, blk: BlockId, k: usize) -> BTreeSet<BindId> {
        self.g.blocks[blk]
            .jumps
            .iter()
            .filter(|&&j| self.g.jumps[j].piece.is_none_or(|p| p >= k))
            .flat_map(|&j| self.needs(j))
            .collect()
    }

    fn walk(&mut self, blk: BlockId) {
        let g = self.g;
        let block = &g.blocks[blk];
        let mut env = Env {
            named: BTreeMap::new(),
            hidden: BTreeSet::new(),
        };
        let carried: Vec<BindId> = self.live.live_in[blk]
            .iter()
            .copied()
            .filter(|&b| self.shadowed(b))
            .collect();
        for b in carried {
            let name = self.name(b);
            if visible(&block.scope_in, &name) == Some(b) {
                env.named.insert(name, b);
            } else {
                env.hidden.insert(b);
                self.plan.hidden_in.insert((blk, b));
            }
        }
        let n = block.pieces.len();
        // Needed after code at `k` runs: by the jumps from it or later.
        let late = self.live.late_decls(g, blk);
        // A late declaration (`x = e;` with the old `x` dead) names a
        // binding the user's name means at the block's start: it hides
        // nothing.
        for b in late {
            env.named.insert(self.name(b), b);
        }
        for (k, piece) in block.pieces.iter().enumerate() {
            let set_aside = self.kept_shadows(&mut env, blk, k, &piece.uses);
            let lk = self.later(blk, k);
            let before = env.clone();
            self.declare(&mut env, blk, k, &piece.defs, &lk);
            // A split `let` (see `saves`) sets aside after its initializer,
            // where the jumps inside the piece stand.
            let split = piece.split_let.is_some() && self.plan.saves.contains_key(&(blk, k));
            let at_jumps = if split { &before } else { &env };
            for &j in &block.jumps {
                if g.jumps[j].piece == Some(k) {
                    self.jump(at_jumps, j);
                }
            }
            for (s, susp) in g.susps.iter().enumerate() {
                if susp.block == blk && piece.defs.contains(&susp.result) {
                    self.susp(&env, s);
                }
            }
            for &d in piece.defs.iter().filter(|&&d| self.shadowed(d)) {
                env.named.insert(self.name(d), d);
            }
            // Named again after the piece, unless the piece's own `let`
            // now means another binding by that name.
            for b in set_aside {
                let name = self.name(b);
                if !env.named.contains_key(&name) {
                    self.plan.restores.entry((blk, k)).or_default().push(b);
                    env.hidden.remove(&b);
                    env.named.insert(name, b);
                }
            }
        }
        let ln = self.later(blk, n);
        self.kept_shadows(&mut env, blk, n, &block.term_uses);
        self.declare(&mut env, blk, n, &block.term_defs, &ln);
        for &j in &block.jumps {
            let jump = &g.jumps[j];
            match jump.piece {
                Some(k) if k >= n => self.jump(&env, j),
                Some(_) => {}
                None => {
                    // A branch sees the patterns of its own arm.
                    let mut named = env.named.clone();
                    for &d in block.term_defs.iter().filter(|&&d| self.shadowed(d)) {
                        let name = self.name(d);
                        if visible(&jump.scope, &name) == Some(d) {
                            named.insert(name, d);
                        }
                    }
                    let here = Env {
                        named,
                        hidden: env.hidden.clone(),
                    };
                    self.jump(&here, j);
                }
            }
        }
        if let Term::Yield { susp, .. } = &block.term {
            self.susp(&env, *susp);
        }
    }
}
