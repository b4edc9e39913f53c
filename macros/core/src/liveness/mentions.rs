//! Stage 4, liveness: how code mentions a binding, read from tokens (the
//! macro sees no types): which tokens name it, and the borrow forms around
//! them (`&x`, `&x.f[i]`, a formatting macro's argument). Takes token
//! streams and the graph's use sites; gives yes/no answers to `carry` and
//! `moves`.

use std::collections::BTreeSet;

use crate::cfg::Graph;

/// Which tokens name one binding: its name where scan saw a use of it, or
/// where it saw no use of any binding (its declaration, a shadowing one's:
/// counted, to be safe).
pub(super) struct Mentions<'a> {
    pub(super) name: String,
    pub(super) mine: BTreeSet<(usize, usize)>,
    pub(super) all: &'a BTreeSet<(usize, usize)>,
    /// Where it is declared: a `let` of its name elsewhere is another
    /// binding's.
    pub(super) decl: (usize, usize),
}

impl Mentions<'_> {
    pub(super) fn is(&self, t: &proc_macro2::TokenTree) -> bool {
        let proc_macro2::TokenTree::Ident(i) = t else {
            return false;
        };
        if *i != self.name {
            return false;
        }
        let at = (i.span().start().line, i.span().start().column);
        self.mine.contains(&at) || !self.all.contains(&at)
    }

    pub(super) fn any(&self, ts: &proc_macro2::TokenStream) -> bool {
        let trees: Vec<proc_macro2::TokenTree> = ts.clone().into_iter().collect();
        trees.iter().enumerate().any(|(i, t)| match t {
            proc_macro2::TokenTree::Group(g) => self.any(&g.stream()),
            _ => self.is(t) && !declared_at(&trees, i),
        })
    }
}

/// `let name` or `let mut name`: a binding of kept code (inside a loop or
/// block with no suspension) that hides this one there, not a mention.
pub(super) fn declared_at(trees: &[proc_macro2::TokenTree], i: usize) -> bool {
    let word = |k: usize, w: &str| matches!(trees.get(k), Some(proc_macro2::TokenTree::Ident(x)) if x == w);
    (i >= 1 && word(i - 1, "let")) || (i >= 2 && word(i - 1, "mut") && word(i - 2, "let"))
}

/// Macros that take their arguments by reference: the format macros
/// (`assert_eq!` compares `&a` with `&b`), except `assert!` and
/// `debug_assert!`, whose first argument is a value.
pub(super) fn borrows_args(name: &str) -> bool {
    crate::scan::FORMAT_MACROS.contains(&name) && name != "assert" && name != "debug_assert"
}

pub(super) fn has_ident(ts: &proc_macro2::TokenStream, name: &str) -> bool {
    use proc_macro2::TokenTree;
    ts.clone().into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == name,
        TokenTree::Group(g) => has_ident(&g.stream(), name),
        _ => false,
    })
}

pub(super) fn split_commas(ts: &proc_macro2::TokenStream) -> Vec<Vec<proc_macro2::TokenTree>> {
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
pub(super) fn unary_ref_before(trees: &[proc_macro2::TokenTree], i: usize) -> bool {
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

pub(super) fn field_chain_len(trees: &[proc_macro2::TokenTree], mut i: usize) -> Option<usize> {
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

/// Where a span starts: tells one mention of a name from another.
pub(super) fn at(s: proc_macro2::Span) -> (usize, usize) {
    (s.start().line, s.start().column)
}

/// Where every binding is declared or used: a token of a binding's name at
/// one of these places that is not among its own is another binding's (one
/// that shadows it).
pub(super) fn mention_places(g: &Graph) -> BTreeSet<(usize, usize)> {
    g.bindings
        .iter()
        .flat_map(|b| b.uses.iter().map(|&(_, s)| at(s)).chain([at(b.decl_span)]))
        .collect()
}
