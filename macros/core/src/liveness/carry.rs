//! Stage 4, liveness: the bindings that may be carried while dead through
//! the dispatch's transitions, to drop where Rust drops them (DESIGN rule
//! 8). Takes the graph and the liveness; gives per binding whether it may be
//! held (`carriable`) and per block the ones its variant holds (`held_in`).

use crate::cfg::{BindId, Graph};

use super::Liveness;
use super::mentions::{
    Mentions, at, borrows_args, declared_at, field_chain_len, has_ident, mention_places, split_commas,
    unary_ref_before,
};

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

/// After the name: fields and indexes only (`.f`, `.0`, `[i]`), then
/// anything but a call (`.m(..)` may take `self` by value) or a `?`
/// (`&x?` is `&(x?)`, which moves `x`).
fn place_chain_after(trees: &[proc_macro2::TokenTree], i: usize) -> bool {
    field_chain_len(trees, i).is_some_and(
        |end| !matches!(trees.get(end), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '?'),
    )
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
