//! Stage 4, liveness: the by-value parameters the body may move where the
//! dispatch loop comes back to the move (rustc's E0382 in a loop). Takes
//! the model, the graph and the liveness; gives the parameters to make
//! locals of the program counter, and the moved ones a `#[reevaluated]`
//! binding or the `state =` expression reads, which stay parameters (the
//! caller says why).

use std::collections::BTreeSet;

use crate::cfg::Graph;

use super::mentions::{
    Mentions, borrows_args, declared_at, field_chain_len, has_ident, mention_places, split_commas,
    unary_ref_before,
};
use super::{Liveness, successors};

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
