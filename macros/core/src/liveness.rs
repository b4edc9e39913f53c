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

// Input:  `let g = lock(); if c { log(&g) }` then a block holding a suspension
// Output: `g` (read only by reference, by its own name nowhere else): it may be
//         carried, dead, through the dispatch's transitions to its scope's end
/// The bindings that may be carried through the dispatch's transitions
/// while dead, to be dropped where Rust drops them (DESIGN rule 8: with
/// every completion ready nothing drops earlier than in the plain
/// function). A `let` binding with a value qualifies when the code
/// provably never moves it, not even partly, nor overwrites it: every
/// mention of it (told from another binding of its name by where scan saw
/// the use) is its declaration, a unary `&` / `&mut` of it or of a field or
/// element of it, or an argument of a formatting or `assert_eq!`-like
/// macro, no closure marked `move` stands in the same statement, and no
/// other binding's `let` statement mentions it outside its diverging `else`
/// block (a reference kept in a local could outlive the move into the
/// carried state; a `let` nested in a block of the statement, or an
/// `if let`, binds only for the statement). The macro cannot see types, so
/// these are the forms that borrow whatever the type; a binding read any
/// other way (`g.0`, `g.len()`, `drop(g)`) drops as before: at a
/// transition it is dead at.
pub fn carriable(g: &Graph) -> Vec<bool> {
    let mut out: Vec<bool> = g
        .bindings
        .iter()
        .map(|b| {
            b.drop_candidate
                && !b.drop_only
                && !b.uninit
                && !b.for_iter
                && !b.in_pattern
                && !b.borrow
                && b.reborrow.is_none()
                && b.mut_reborrow.is_none()
                && !b.ident.to_string().starts_with("__ratchet")
        })
        .collect();
    // Overwritten (`g = ..`): Rust drops the old value there, not at the
    // scope's end.
    for blk in &g.blocks {
        for p in &blk.pieces {
            for &a in &p.assigns {
                out[a] = false;
            }
        }
    }
    let mut code: Vec<(&proc_macro2::TokenStream, bool)> = Vec::new();
    for blk in &g.blocks {
        for p in &blk.pieces {
            code.push((&p.tokens, true));
            if let Some(s) = &p.split_let {
                code.push((&s.init, false));
            }
        }
        if let Some(r) = &blk.ret_expr {
            code.push((r, false));
        }
        match &blk.term {
            crate::cfg::Term::If { cond, .. } => code.push((cond, false)),
            crate::cfg::Term::Match { scrut, arms } => {
                // A `match` on it may bind references into it that live on.
                code.push((scrut, true));
                for (p, _) in arms {
                    code.push((p, false));
                }
            }
            _ => {}
        }
    }
    for s in &g.susps {
        code.push((&s.arg, false));
    }
    for j in &g.jumps {
        if let Some((_, v)) = &j.value {
            code.push((v, false));
        }
    }
    let all = mention_places(g);
    for (i, b) in g.bindings.iter().enumerate() {
        if !out[i] {
            continue;
        }
        let m = Mentions {
            name: b.ident.to_string(),
            mine: b.uses.iter().map(|&(_, s)| at(s)).collect(),
            all: &all,
            decl: at(b.decl_span),
        };
        out[i] = code.iter().all(|(ts, stmt)| borrows_only(ts, &m, *stmt));
    }
    out
}

/// Which tokens name one binding: its name where scan saw a use of it, or
/// where it saw no use of any binding (its declaration, a shadowing one's:
/// counted, to be safe).
struct Mentions<'a> {
    name: String,
    mine: BTreeSet<(usize, usize)>,
    all: &'a BTreeSet<(usize, usize)>,
    /// Where it is declared: a `let` of its name elsewhere is another
    /// binding's.
    decl: (usize, usize),
}

impl Mentions<'_> {
    fn is(&self, t: &proc_macro2::TokenTree) -> bool {
        let proc_macro2::TokenTree::Ident(i) = t else {
            return false;
        };
        if *i != self.name {
            return false;
        }
        let at = (i.span().start().line, i.span().start().column);
        self.mine.contains(&at) || !self.all.contains(&at)
    }

    fn any(&self, ts: &proc_macro2::TokenStream) -> bool {
        let trees: Vec<proc_macro2::TokenTree> = ts.clone().into_iter().collect();
        trees.iter().enumerate().any(|(i, t)| match t {
            proc_macro2::TokenTree::Group(g) => self.any(&g.stream()),
            _ => self.is(t) && !declared_at(&trees, i),
        })
    }
}

/// `let name` or `let mut name`: a binding of kept code (inside a loop or
/// block with no suspension) that hides this one there, not a mention.
fn declared_at(trees: &[proc_macro2::TokenTree], i: usize) -> bool {
    let word = |k: usize, w: &str| matches!(trees.get(k), Some(proc_macro2::TokenTree::Ident(x)) if x == w);
    (i >= 1 && word(i - 1, "let")) || (i >= 2 && word(i - 1, "mut") && word(i - 2, "let"))
}

/// Every mention of `name` in `ts` borrows it (see [`carriable`]). A
/// whole statement (`stmt`) may also be the binding's own `let`.
fn borrows_only(ts: &proc_macro2::TokenStream, m: &Mentions, stmt: bool) -> bool {
    use proc_macro2::TokenTree;
    if !m.any(ts) {
        return true;
    }
    let name = m.name.as_str();
    let trees: Vec<TokenTree> = ts.clone().into_iter().collect();
    let is_ident = |t: Option<&TokenTree>, s: &str| matches!(t, Some(TokenTree::Ident(i)) if i == s);
    let is_punct =
        |t: Option<&TokenTree>, c: char| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c);
    if stmt {
        // Its own declaration, `let [mut] name [: T] = ..`, and nothing
        // declared beside a mention that could keep a reference past the
        // statement, nor captured by `move`.
        let decl = |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Ident(i)) if i == name && (i.span().start().line, i.span().start().column) == m.decl);
        if has_ident(ts, "move") {
            return false;
        }
        let s = skip_attrs(&trees);
        let own = is_ident(trees.get(s), "let")
            && (decl(trees.get(s + 1)) || (is_ident(trees.get(s + 1), "mut") && decl(trees.get(s + 2))));
        if own {
            let at = if is_ident(trees.get(s + 1), "mut") {
                s + 3
            } else {
                s + 2
            };
            if !(is_punct(trees.get(at), '=') || is_punct(trees.get(at), ':')) {
                return false;
            }
            let rest: proc_macro2::TokenStream = trees[at..].iter().cloned().collect();
            return borrows_only(&rest, m, false);
        }
        if is_ident(trees.get(s), "let") {
            // Another binding's `let` typed as a plain value (`let n: i64 =
            // ..;`, difftest seed 0x13c0de, program 4847): it cannot keep a
            // reference, so only its value's own mentions count.
            if let Some(value) = plain_value_let(&trees[s..]) {
                return borrows_only(&value, m, false);
            }
            // Another binding's `let`: a reference in its pattern, type or
            // value may be kept in it past a transition. Its `else` block
            // diverges, so what that borrows ends with it.
            return match let_else_block(&trees) {
                Some(k) => {
                    let head: proc_macro2::TokenStream = trees[..k].iter().cloned().collect();
                    let TokenTree::Group(block) = &trees[k + 1] else {
                        return false;
                    };
                    !m.any(&head) && borrows_only(&block.stream(), m, false)
                }
                None => false,
            };
        }
        // A `let` nested in the statement (in a block of an `if`, a
        // `match` arm, ..) or an `if let` / `while let` binds only for the
        // statement's length, which no transition interrupts.
    }
    let mut i = 0;
    while i < trees.len() {
        match &trees[i] {
            t @ TokenTree::Ident(_) if m.is(t) && !declared_at(&trees, i) => {
                // `.name` is a field or method of something else.
                if i > 0 && is_punct(trees.get(i - 1), '.') {
                    i += 1;
                    continue;
                }
                if !unary_ref_before(&trees, i) {
                    return false;
                }
                if !place_chain_after(&trees, i + 1) {
                    return false;
                }
            }
            TokenTree::Ident(id)
                if borrows_args(&id.to_string())
                    && is_punct(trees.get(i + 1), '!')
                    && matches!(trees.get(i + 2), Some(TokenTree::Group(_))) =>
            {
                let group = match trees.get(i + 2) {
                    Some(TokenTree::Group(g)) => g.stream(),
                    _ => proc_macro2::TokenStream::new(),
                };
                // Each argument that is the name (with fields) is
                // borrowed by the macro; anything else is checked as code.
                for arg in split_commas(&group) {
                    let arg: Vec<TokenTree> = arg;
                    let start = if arg.len() >= 2
                        && matches!(&arg[0], TokenTree::Ident(_))
                        && matches!(&arg[1], TokenTree::Punct(p) if p.as_char() == '=')
                        && !matches!(arg.get(2), Some(TokenTree::Punct(p)) if p.as_char() == '=')
                    {
                        2
                    } else {
                        0
                    };
                    let plain = matches!(arg.get(start), Some(TokenTree::Ident(x)) if x == name)
                        && field_chain_len(&arg, start + 1) == Some(arg.len());
                    if !plain {
                        let ts: proc_macro2::TokenStream = arg.into_iter().collect();
                        if !borrows_only(&ts, m, false) {
                            return false;
                        }
                    }
                }
                i += 3;
                continue;
            }
            TokenTree::Group(g) if !borrows_only(&g.stream(), m, false) => return false,
            _ => {}
        }
        i += 1;
    }
    true
}

/// Macros that take their arguments by reference: the format macros
/// (`assert_eq!` compares `&a` with `&b`), except `assert!` and
/// `debug_assert!`, whose first argument is a value.
fn borrows_args(name: &str) -> bool {
    crate::scan::FORMAT_MACROS.contains(&name) && name != "assert" && name != "debug_assert"
}

/// How many leading tokens are outer attributes (`#[..]`).
fn skip_attrs(trees: &[proc_macro2::TokenTree]) -> usize {
    use proc_macro2::{Delimiter, TokenTree};
    let mut k = 0;
    while matches!(trees.get(k), Some(TokenTree::Punct(p)) if p.as_char() == '#')
        && matches!(trees.get(k + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket)
    {
        k += 2;
    }
    k
}

// Input:  `let Some(v) = f(&a) else { log(&g); return Ok(3) };`
// Output: the index of `else` (the block after it diverges)
/// Where the `else` of a `let .. else { .. }` statement stands. An `else`
/// right after a `}` ends an `if` in the value instead (a let-else's value
/// cannot end with `}`).
fn let_else_block(trees: &[proc_macro2::TokenTree]) -> Option<usize> {
    use proc_macro2::{Delimiter, TokenTree};
    let mut end = trees.len();
    if matches!(trees.get(end.wrapping_sub(1)), Some(TokenTree::Punct(p)) if p.as_char() == ';') {
        end -= 1;
    }
    let k = end.checked_sub(2)?;
    let is_else = matches!(&trees[k], TokenTree::Ident(i) if i == "else");
    let block = matches!(&trees[k + 1], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace);
    let after_brace =
        k > 0 && matches!(&trees[k - 1], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace);
    (is_else && block && !after_brace).then_some(k)
}

fn has_ident(ts: &proc_macro2::TokenStream, name: &str) -> bool {
    use proc_macro2::TokenTree;
    ts.clone().into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == name,
        TokenTree::Group(g) => has_ident(&g.stream(), name),
        _ => false,
    })
}

fn split_commas(ts: &proc_macro2::TokenStream) -> Vec<Vec<proc_macro2::TokenTree>> {
    use proc_macro2::TokenTree;
    let mut out = vec![Vec::new()];
    for t in ts.clone() {
        match &t {
            TokenTree::Punct(p) if p.as_char() == ',' => out.push(Vec::new()),
            _ => out.last_mut().map_or((), |v| v.push(t)),
        }
    }
    out
}

/// `&name` or `&mut name` where `&` is a borrow, not a binary `&`.
fn unary_ref_before(trees: &[proc_macro2::TokenTree], i: usize) -> bool {
    use proc_macro2::TokenTree;
    let mut k = i;
    if k > 0 && matches!(&trees[k - 1], TokenTree::Ident(m) if m == "mut") {
        k -= 1;
    }
    if k == 0 || !matches!(&trees[k - 1], TokenTree::Punct(p) if p.as_char() == '&') {
        return false;
    }
    let amp = k - 1;
    if amp == 0 {
        return true;
    }
    let is_punct =
        |k: usize, c: &[char]| matches!(trees.get(k), Some(TokenTree::Punct(p)) if c.contains(&p.as_char()));
    // `x = &name` (and `+=`, ..): a reference kept in a place that may live
    // on; `==`, `!=`, `<=`, `>=` only compare.
    if is_punct(amp - 1, &['=']) && !(amp >= 2 && is_punct(amp - 2, &['=', '!', '<', '>'])) {
        return false;
    }
    match &trees[amp - 1] {
        // `a & name`, `f() & name`, `x? & name`: a binary `&`, a move.
        TokenTree::Literal(_) | TokenTree::Group(_) => false,
        TokenTree::Ident(w) => matches!(
            w.to_string().as_str(),
            "return" | "in" | "match" | "if" | "while" | "else" | "break" | "let"
        ),
        TokenTree::Punct(p) => p.as_char() != '?',
    }
}

/// After the name: fields and indexes only (`.f`, `.0`, `[i]`), then
/// anything but a call (`.m(..)` may take `self` by value) or a `?`
/// (`&x?` is `&(x?)`, which moves `x`).
fn place_chain_after(trees: &[proc_macro2::TokenTree], i: usize) -> bool {
    field_chain_len(trees, i).is_some_and(
        |end| !matches!(trees.get(end), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '?'),
    )
}

fn field_chain_len(trees: &[proc_macro2::TokenTree], mut i: usize) -> Option<usize> {
    use proc_macro2::{Delimiter, TokenTree};
    loop {
        match trees.get(i) {
            Some(TokenTree::Punct(p)) if p.as_char() == '.' => match trees.get(i + 1) {
                Some(TokenTree::Ident(_) | TokenTree::Literal(_)) => {
                    if matches!(trees.get(i + 2), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
                        || matches!(trees.get(i + 2), Some(TokenTree::Punct(p)) if p.as_char() == ':')
                    {
                        return None;
                    }
                    i += 2;
                }
                // `..` (a range) or `.await`-like oddities.
                _ => return None,
            },
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => i += 1,
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => return None,
            _ => return Some(i),
        }
    }
}

// Input:  blocks `Start: let g; if c {..}; { let h; yield }`, `EndBlock: ..`
// Output: `held_in[EndBlock] = [g]`: in scope there, dead, carried to be dropped at its scope's end
/// Per block: the carriable bindings (see [`carriable`]) in scope where it
/// starts that it does not carry live: its variant carries them as
/// `Option`s (`None` after a real resume, where rule 8 lets them drop).
pub fn held_in(g: &Graph, live: &Liveness, carriable: &[bool]) -> Vec<Vec<BindId>> {
    g.blocks
        .iter()
        .enumerate()
        .map(|(b, blk)| {
            if !live.reachable[b] {
                return Vec::new();
            }
            let mut held: Vec<BindId> = blk
                .scope_in
                .iter()
                .map(|&(_, x)| x)
                .filter(|&x| carriable.get(x).copied().unwrap_or(false) && !live.live_in[b].contains(&x))
                .collect();
            held.sort_unstable();
            held.dedup();
            held
        })
        .collect()
}

// Input:  `fn f(st, dev: &Dev, v: Vec<u64>) { for x in v { yield_io!(dev.op(x))?; } .. }`
// Output: `["v"]`: moved in the start block, which the dispatch loop comes back from
/// The by-value parameters the body may move where the dispatch loop can
/// come back to the move: in a block that goes on to another block. To
/// rustc that is a move inside a loop (E0382 "value moved here, in
/// previous iteration of loop"), though the plain function compiles; so
/// such a parameter is made a local of the program counter (see
/// `Param::moved`). A move in a block that only returns is left to the
/// parameter itself, which a borrow re-created after a suspension point
/// (`let r = &v;`) can then keep reading.
///
/// The macro cannot see types, so a "move" is any mention that is not
/// plainly a borrow or a copy (see [`may_move`]); a parameter of a type that
/// is `Copy` whatever the code (a primitive, a reference, a tuple or array
/// of those) is never one. A parameter a re-created borrow carried from one
/// block to another reads is left alone: in the program counter it could not
/// be borrowed across the transition.
///
/// Second: the parameters a `#[reevaluated]` binding (or the `state =`
/// expression) reads that the body moves there too. Those stay parameters,
/// so rustc would report the move inside the loop (E0382); the caller says
/// why instead.
pub fn moved_params(model: &crate::model::Model, g: &Graph, live: &Liveness) -> (Vec<String>, Vec<String>) {
    use crate::args::StateTarget;
    use quote::ToTokens;
    if !g.susps.iter().any(|s| live.reachable[s.block]) {
        return (Vec::new(), Vec::new());
    }
    let prelude: proc_macro2::TokenStream = model.reevaluated.iter().map(ToTokens::to_token_stream).collect();
    let state_expr = match &model.state {
        StateTarget::Expr(e) => e.to_token_stream(),
        _ => proc_macro2::TokenStream::new(),
    };
    let candidates: Vec<String> = model
        .params
        .iter()
        .filter(|p| !p.mutable && !p.moved && !copy_whatever(&p.ty))
        .map(|p| p.ident.to_string())
        .collect();
    if candidates.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let all = mention_places(g);
    let mut jump_src = vec![usize::MAX; g.jumps.len()];
    for (b, blk) in g.blocks.iter().enumerate() {
        for &j in &blk.jumps {
            if let Some(s) = jump_src.get_mut(j) {
                *s = b;
            }
        }
    }
    let mut out = Vec::new();
    let mut kept = Vec::new();
    for name in candidates {
        let m = Mentions {
            name: name.clone(),
            mine: BTreeSet::new(),
            all: &all,
            decl: (usize::MAX, usize::MAX),
        };
        // A re-created borrow of it that some block carries in.
        let reborrowed = g.bindings.iter().enumerate().any(|(i, b)| {
            !b.param
                && b.reborrow.as_ref().is_some_and(|rb| has_ident(rb, &name))
                && live.live_in.iter().any(|l| l.contains(&i))
        });
        if reborrowed {
            continue;
        }
        let moved = (0..g.blocks.len()).any(|b| {
            if !live.reachable[b] || successors(g, b).is_empty() {
                return false;
            }
            let blk = &g.blocks[b];
            let mut code: Vec<&proc_macro2::TokenStream> = blk.pieces.iter().map(|p| &p.tokens).collect();
            match &blk.term {
                crate::cfg::Term::If { cond, .. } => code.push(cond),
                crate::cfg::Term::Match { scrut, .. } => code.push(scrut),
                _ => {}
            }
            code.extend(g.susps.iter().filter(|s| s.block == b).map(|s| &s.arg));
            code.extend(
                g.jumps
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| jump_src[*j] == b)
                    .filter_map(|(_, j)| j.value.as_ref().map(|(_, v)| v)),
            );
            code.into_iter().any(|ts| may_move(ts, &m))
        });
        if !moved {
            continue;
        }
        if has_ident(&prelude, &name) || has_ident(&state_expr, &name) {
            kept.push(name);
        } else {
            out.push(name);
        }
    }
    (out, kept)
}

/// A type that is `Copy` whatever the code around it: a primitive, a
/// shared reference, a raw pointer, a function pointer, `!`, or a tuple or
/// array of those. (`&mut T` is not `Copy`, but a mention of it reborrows.)
pub(crate) fn copy_whatever(t: &syn::Type) -> bool {
    use syn::Type;
    const NAMES: &[&str] = &[
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32", "f64",
        "bool", "char",
    ];
    match t {
        Type::Path(p) => {
            p.qself.is_none() && p.path.get_ident().is_some_and(|i| NAMES.iter().any(|n| i == n))
        }
        Type::Reference(_) | Type::Ptr(_) | Type::FnPtr(_) | Type::Never(_) => true,
        Type::Tuple(tu) => tu.elems.iter().all(copy_whatever),
        Type::Array(a) => copy_whatever(&a.elem),
        Type::Paren(p) => copy_whatever(&p.elem),
        Type::Group(g) => copy_whatever(&g.elem),
        _ => false,
    }
}

/// Methods that take `self` by value on the std types a parameter is
/// usually passed as (`Vec`, `Option`, `Result`, an iterator, a `Box`),
/// beside every `into_*`: a receiver of another method is taken to be
/// borrowed (auto-ref), as it is for `len`, `iter`, `as_slice`, `clone`.
const CONSUMING_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "unwrap_or",
    "unwrap_or_else",
    "unwrap_or_default",
    "unwrap_err",
    "expect_err",
    "ok",
    "err",
    "map",
    "map_err",
    "map_or",
    "map_or_else",
    "and_then",
    "or_else",
    "ok_or",
    "ok_or_else",
    "and",
    "or",
    "xor",
    "zip",
    "unzip",
    "flatten",
    "filter",
    "filter_map",
    "flat_map",
    "take",
    "skip",
    "step_by",
    "chain",
    "enumerate",
    "rev",
    "collect",
    "sum",
    "product",
    "count",
    "fold",
    "for_each",
    "last",
    "min",
    "max",
    "peekable",
    "cycle",
    "cloned",
    "copied",
    "join",
];

/// Whether some mention of the parameter in `ts` may move it: anything but
/// a borrow (`&v`, `&v.f`, `&mut v[i]`), a method call that borrows (see
/// [`CONSUMING_METHODS`]), an index (`v[i]` cannot move `v`), a comparison,
/// a cast, a call of it (`f(x)` for an `impl Fn`), or an argument of a
/// formatting or `assert_eq!`-like macro. A closure marked `move` that
/// mentions it moves it.
fn may_move(ts: &proc_macro2::TokenStream, m: &Mentions) -> bool {
    use proc_macro2::TokenTree;
    if !m.any(ts) {
        return false;
    }
    if has_ident(ts, "move") {
        return true;
    }
    let trees: Vec<TokenTree> = ts.clone().into_iter().collect();
    let punct = |k: usize, c: char| matches!(trees.get(k), Some(TokenTree::Punct(p)) if p.as_char() == c);
    // Joined to the next punctuation (`=` of `==`, `<` of `<=`).
    let joint = |k: usize, c: &str| matches!(trees.get(k), Some(TokenTree::Punct(p)) if c.contains(p.as_char()) && p.spacing() == proc_macro2::Spacing::Joint);
    let alone = |k: usize, c: char| matches!(trees.get(k), Some(TokenTree::Punct(p)) if p.as_char() == c && p.spacing() == proc_macro2::Spacing::Alone);
    // `v == x`, `v != x`, `v < x`, `v <= x` (not `<<`, `->`, `=>`).
    let comparison_after = |k: usize| {
        (joint(k, "=!<>") && punct(k + 1, '='))
            || ((alone(k, '<') || alone(k, '>')) && !(k > 0 && joint(k - 1, "-=<>")))
    };
    let comparison_before = |k: usize| {
        k >= 2
            && ((punct(k - 1, '=') && joint(k - 2, "=!<>"))
                || ((alone(k - 1, '<') || alone(k - 1, '>')) && !joint(k - 2, "-=<>")))
    };
    let mut i = 0;
    while i < trees.len() {
        match &trees[i] {
            t @ TokenTree::Ident(_) if m.is(t) && !declared_at(&trees, i) => {
                let before_dot = i > 0 && punct(i - 1, '.');
                let path = (i >= 1 && punct(i - 1, ':')) || (punct(i + 1, ':') && punct(i + 2, ':'));
                // `v!(..)`, a field name `S { v: .. }`, a path `a::v`.
                let not_a_value =
                    before_dot || path || punct(i + 1, '!') || (punct(i + 1, ':') && !punct(i + 2, ':'));
                if !not_a_value && !borrowed_or_copied(&trees, i, &comparison_after, &comparison_before) {
                    return true;
                }
            }
            TokenTree::Ident(id)
                if borrows_args(&id.to_string())
                    && punct(i + 1, '!')
                    && matches!(trees.get(i + 2), Some(TokenTree::Group(_))) =>
            {
                if let Some(TokenTree::Group(g)) = trees.get(i + 2) {
                    for arg in split_commas(&g.stream()) {
                        let start = usize::from(
                            arg.len() >= 2
                                && matches!(&arg[0], TokenTree::Ident(_))
                                && matches!(&arg[1], TokenTree::Punct(p) if p.as_char() == '=')
                                && !matches!(arg.get(2), Some(TokenTree::Punct(p)) if p.as_char() == '='),
                        ) * 2;
                        let plain = matches!(arg.get(start), Some(TokenTree::Ident(x)) if m.is(&TokenTree::Ident(x.clone())))
                            && field_chain_len(&arg, start + 1) == Some(arg.len());
                        if !plain && may_move(&arg.into_iter().collect(), m) {
                            return true;
                        }
                    }
                }
                i += 3;
                continue;
            }
            TokenTree::Group(g) if may_move(&g.stream(), m) => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// The mention at `i` borrows or copies the parameter whatever its type
/// (see [`may_move`]).
fn borrowed_or_copied(
    trees: &[proc_macro2::TokenTree],
    i: usize,
    comparison_after: &dyn Fn(usize) -> bool,
    comparison_before: &dyn Fn(usize) -> bool,
) -> bool {
    use proc_macro2::{Delimiter, TokenTree};
    // `v(..)`: a call of an `impl Fn` borrows it.
    if matches!(trees.get(i + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis) {
        return true;
    }
    let mut k = i + 1;
    let mut indexed = false;
    loop {
        match trees.get(k) {
            Some(TokenTree::Punct(p)) if p.as_char() == '.' => match trees.get(k + 1) {
                Some(TokenTree::Ident(method))
                    if matches!(trees.get(k + 2), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
                        || matches!(trees.get(k + 2), Some(TokenTree::Punct(p)) if p.as_char() == ':') =>
                {
                    // A method call on the place: `v.len()`, `v.a.iter()`.
                    let name = method.to_string();
                    let consuming = name.starts_with("into") || CONSUMING_METHODS.contains(&name.as_str());
                    return !consuming;
                }
                Some(TokenTree::Ident(_) | TokenTree::Literal(_)) => k += 2,
                _ => break,
            },
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => {
                indexed = true;
                k += 1;
            }
            _ => break,
        }
    }
    if indexed || unary_ref_before(trees, i) {
        return true;
    }
    if matches!(trees.get(k), Some(TokenTree::Ident(w)) if w == "as") {
        return true;
    }
    comparison_after(k) || comparison_before(i)
}

/// Where a span starts: tells one mention of a name from another.
fn at(s: proc_macro2::Span) -> (usize, usize) {
    (s.start().line, s.start().column)
}

/// Where every binding is declared or used: a token of a binding's name at
/// one of these places that is not among its own is another binding's (one
/// that shadows it).
fn mention_places(g: &Graph) -> BTreeSet<(usize, usize)> {
    g.bindings
        .iter()
        .flat_map(|b| b.uses.iter().map(|&(_, s)| at(s)).chain([at(b.decl_span)]))
        .collect()
}

// Input:  `let mut n: i64 = f(&g);`
// Output: `Some(f(&g);)`: the value of a `let` whose type holds no reference
/// The value of `let [mut] name: T = value` where `T` is a number, `bool`,
/// `char`, or a tuple or array of those: a binding that cannot keep a
/// reference to anything its value reads.
fn plain_value_let(trees: &[proc_macro2::TokenTree]) -> Option<proc_macro2::TokenStream> {
    use proc_macro2::TokenTree;
    fn plain(t: &syn::Type) -> bool {
        match t {
            syn::Type::Reference(_) | syn::Type::Ptr(_) => false,
            syn::Type::Tuple(tu) => tu.elems.iter().all(plain),
            syn::Type::Array(a) => plain(&a.elem),
            syn::Type::Paren(p) => plain(&p.elem),
            other => crate::types::nothing_to_drop(other),
        }
    }
    let punct = |k: usize, c: char| matches!(trees.get(k), Some(TokenTree::Punct(p)) if p.as_char() == c);
    let mut k = 1;
    if matches!(trees.get(k), Some(TokenTree::Ident(i)) if i == "mut") {
        k += 1;
    }
    if !matches!(trees.get(k), Some(TokenTree::Ident(_))) || !punct(k + 1, ':') || punct(k + 2, ':') {
        return None;
    }
    let eq = (k + 2..trees.len()).find(|&j| punct(j, '='))?;
    let ty: proc_macro2::TokenStream = trees[k + 2..eq].iter().cloned().collect();
    let ty: syn::Type = syn::parse2(ty).ok()?;
    plain(&ty).then(|| trees[eq + 1..].iter().cloned().collect())
}
