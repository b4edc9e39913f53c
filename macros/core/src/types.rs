//! Stage 5: stored-local types and borrow rules (rules 8 and 9). Every
//! binding live across a suspension point must have a type the macro can
//! read and must not hold a borrow; borrows of arguments or `self` that are
//! plain paths or field accesses are re-created instead of stored.
//!
//! Input:  `let buf = Vec::new(); yield_io!(c)?; buf.len()`
//! Output: error at `buf`: "`buf` is stored across `yield_io!(c)` ... write `let buf: Type = ...`"
//! Input:  `let cfg = &self.config; yield_io!(c)?; cfg.len()`
//! Output: `Stored { fields: [], reborrows: [cfg] }`

use std::collections::BTreeSet;

use proc_macro2::Span;

use crate::cfg::{BindId, Graph, Term};
use crate::ctxt::Ctxt;
use crate::hints::Untyped;
use crate::liveness::Liveness;
use crate::scan::SiteKind;

/// What one suspension point keeps.
#[derive(Default)]
pub struct Stored {
    pub fields: Vec<BindId>,
    pub reborrows: Vec<BindId>,
    /// The block the machine continues at when it resumes here, and the
    /// binding the resume fills with the suspension's result (yield only).
    pub resume: usize,
}

/// Why a stored local's type cannot be a field of the state enum, if it
/// cannot: it holds `_` (rustc would infer it inside the function only) or
/// `impl Trait` (a type without a name).
fn incomplete(t: &syn::Type) -> Option<&'static str> {
    struct V {
        infer: bool,
        opaque: bool,
    }
    impl<'ast> syn::visit::Visit<'ast> for V {
        fn visit_type_infer(&mut self, _: &'ast syn::TypeInfer) {
            self.infer = true;
        }
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.opaque = true;
        }
    }
    let mut v = V {
        infer: false,
        opaque: false,
    };
    syn::visit::Visit::visit_type(&mut v, t);
    if v.opaque {
        Some(
            "is an `impl Trait`, which has no name the state enum could use for its field; store a `Box<dyn Trait>` (`let g: Box<dyn Fn() -> u32> = Box::new(f);`), or make the function generic over the type (`fn f<F: Fn() -> u32>(.., f: F)`) so that the state is generic over it",
        )
    } else if v.infer {
        Some(
            "is not complete: the state enum is a type outside the function and needs every part of it spelled out, where `_` is left to inference; write the whole type (`Vec<u32>`, not `Vec<_>`)",
        )
    } else {
        None
    }
}

/// A type declared in the body that `t` names, if any.
fn names_body_type<'g>(g: &'g Graph, t: &syn::Type) -> Option<&'g (String, Span)> {
    let mut idents = BTreeSet::new();
    crate::tokens::collect_idents(&quote::ToTokens::to_token_stream(t), &mut idents);
    g.body_types.iter().find(|(n, _)| idents.contains(n))
}

// Input:  the re-created borrow `&p.x`, the block after `let p: Pp = ..; yield_io!(c)?;`
// Output: `Some("p")`: the local `p` is in scope there, not the argument
/// The root of the re-created borrow `rb` (an argument, or `self`) when,
/// where block `at` starts, its name means a local the body declared.
fn hiding_local(g: &Graph, rb: &proc_macro2::TokenStream, at: usize) -> Option<String> {
    // The first name, also inside the parentheses of a borrow made from
    // another (`&(&self.config).limit`).
    fn first(ts: proc_macro2::TokenStream) -> Option<String> {
        ts.into_iter().find_map(|t| match t {
            proc_macro2::TokenTree::Ident(id) if id != "mut" => Some(id.to_string()),
            proc_macro2::TokenTree::Group(g) => first(g.stream()),
            _ => None,
        })
    }
    let root = first(rb.clone())?;
    let scope = &g.blocks.get(at)?.scope_in;
    let seen = scope
        .iter()
        .rev()
        .find(|(name, _)| *name == root)
        .map(|&(_, x)| x)?;
    (!g.bindings[seen].param).then_some(root)
}

fn line(span: Span) -> usize {
    span.start().line
}

// Input:  `let x = f(); if c { use(x) } yield_io!(d)?; use(x)` (lines 1-3)
// Output: ` and used after it on line 3` (not line 1, which comes before)
/// Where a binding carried across a suspension point is read after it: the
/// first use reachable from where the machine resumes that stands after the
/// suspension in the source, else one only a loop's next iteration reaches.
fn later_use(g: &Graph, live: &Liveness, b: BindId, resume: usize, susp: Span, close: Span) -> String {
    let mut seen = vec![false; g.blocks.len()];
    let mut stack = vec![resume];
    while let Some(blk) = stack.pop() {
        if std::mem::replace(&mut seen[blk], true) {
            continue;
        }
        stack.extend(
            crate::liveness::successors(g, blk)
                .into_iter()
                .filter(|&n| !seen[n]),
        );
    }
    let pos = |sp: &Span| (sp.start().line, sp.start().column);
    let after = (close.end().line, close.end().column);
    let reads: Vec<&(usize, Span)> = g.bindings[b]
        .uses
        .iter()
        .filter(|(blk, _)| {
            seen.get(*blk).copied().unwrap_or(false) && live.live_in.get(*blk).is_some_and(|l| l.contains(&b))
        })
        .collect();
    let start = (susp.start().line, susp.start().column);
    if let Some((_, sp)) = reads
        .iter()
        .filter(|(_, sp)| pos(sp) >= after)
        .min_by_key(|(_, sp)| pos(sp))
    {
        format!(" and used after it on line {}", line(*sp))
    } else if reads.iter().any(|(_, sp)| pos(sp) >= start && pos(sp) < after) {
        " and read by it again on every resume (a `call_io!` expression is evaluated again until it is done)"
            .to_string()
    } else if let Some((_, sp)) = reads
        .iter()
        .filter(|(_, sp)| pos(sp) < start && sp.start().line == susp.start().line)
        .min_by_key(|(_, sp)| pos(sp))
    {
        // `*r += call_io!(..)?`: the place is evaluated after the right
        // side (rule 8), not in a later iteration (attack round 14, F8).
        format!(
            " and used after it on line {} (the place of a compound assignment is evaluated after its right side)",
            line(*sp)
        )
    } else if let Some((_, sp)) = reads.iter().min_by_key(|(_, sp)| pos(sp)) {
        format!(" and used again on line {} when its loop comes round", line(*sp))
    } else {
        String::new()
    }
}

// Input:  the live set `{i: u64, buf: <unknown>}` of `yield_io!(..)`
// Output: `Stored { fields: [i, buf] }` and an error at `buf`: its type cannot be read
/// Checks and splits the live set of every suspension point.
pub fn check(
    cx: &Ctxt,
    g: &Graph,
    live: &Liveness,
    sig: &syn::Signature,
    body: &syn::Block,
    borrowed_args: &[String],
) -> Vec<Stored> {
    let mut reported: BTreeSet<BindId> = BTreeSet::new();
    // Reported together per pattern once all are known (see `hints`).
    let mut untyped: Vec<Untyped> = Vec::new();
    let mut out = Vec::new();
    for s in &g.susps {
        let mut st = Stored::default();
        if !live.reachable.get(s.block).copied().unwrap_or(false) {
            out.push(st);
            continue;
        }
        let set: Vec<BindId> = match s.kind {
            SiteKind::Call => {
                st.resume = s.block;
                live.live_in[s.block].iter().copied().collect()
            }
            SiteKind::Yield => {
                let Term::Yield { jump, .. } = g.blocks[s.block].term else {
                    out.push(st);
                    continue;
                };
                let cont = g.jumps[jump].target;
                st.resume = cont;
                live.live_in[cont]
                    .iter()
                    .copied()
                    .filter(|b| *b != s.result)
                    .collect()
            }
        };
        for b in set {
            let binding = &g.bindings[b];
            if let Some(rb) = &binding.reborrow {
                st.reborrows.push(b);
                // Made again where the code goes on: a local that hides the
                // argument there would be borrowed instead (attack round
                // 13, finding 4: E0597/E0610 in generated code).
                if !reported.contains(&b)
                    && let Some(hider) = hiding_local(g, rb, st.resume)
                {
                    reported.insert(b);
                    let at = format!("`{}` (line {})", s.text, line(s.span));
                    let text = crate::scan::one_line(&rb.to_string());
                    let place = text.trim_start_matches('&').trim_start_matches("mut ");
                    cx.error(
                        binding.decl_span,
                        format!("`{}` borrows `{place}` and is kept across the suspension point {at}; the state of a machine cannot hold borrows, so #[io_state_machine] borrows the argument again after the suspension point, but there the local `{hider}` hides the argument `{hider}`; give the local another name", binding.ident),
                    );
                }
                continue;
            }
            st.fields.push(b);
            if reported.contains(&b) {
                continue;
            }
            let name = &binding.ident;
            let at = format!("`{}` (line {})", s.text, line(s.span));
            let later = later_use(g, live, b, st.resume, s.span, s.close);
            // A `let x;` live across a suspension point has a value there on
            // every path (rustc's definite initialization), so it is stored
            // like any other local once its type is known.
            if binding.uninit && binding.ty.is_none() && !binding.borrow {
                reported.insert(b);
                cx.error(
                    binding.decl_span,
                    format!("`{name}` is stored across the suspension point {at}{later}, but #[io_state_machine] cannot read its type, which the state enum needs; write it out: `let {}{name}: Type;`", if binding.mutable { "mut " } else { "" }),
                );
            } else if let Some(why) = binding.ty.as_ref().and_then(incomplete) {
                reported.insert(b);
                let ty = crate::scan::one_line(&quote::ToTokens::to_token_stream(&binding.ty).to_string());
                cx.error(binding.decl_span, format!("`{name}` is stored across the suspension point {at}{later}, but its type `{ty}` {why}"));
            } else if let Some((declared, _)) = binding.ty.as_ref().and_then(|t| names_body_type(g, t)) {
                reported.insert(b);
                cx.error(
                    binding.decl_span,
                    format!("`{name}` is stored across the suspension point {at}{later}, but its type names `{declared}`, which is declared inside the function: the state enum lives outside the function and cannot name it; move the declaration of `{declared}` out of the function"),
                );
            } else if binding.for_iter && binding.ty.is_none() {
                reported.insert(b);
                untyped.push(Untyped {
                    name: name.to_string(),
                    span: binding.decl_span,
                    at: at.clone(),
                    later: later.clone(),
                    for_iter: true,
                    drop_only: false,
                    borrow: false,
                    fallback: format!("the iterator of this `for` loop is stored across the suspension point {at}, but #[io_state_machine] cannot read its type; loop over a range with a typed bound (`for i in 0..n` with `n: u64`), or write `let mut it: std::vec::IntoIter<T> = v.into_iter(); while let Some(x) = it.next() {{ .. }}`"),
                });
            } else if binding.ty.is_none() && !binding.borrow && binding.in_pattern {
                reported.insert(b);
                untyped.push(Untyped {
                    name: name.to_string(),
                    span: binding.decl_span,
                    at: at.clone(),
                    later: later.clone(),
                    for_iter: false,
                    drop_only: false,
                    borrow: false,
                    fallback: format!("`{name}` is stored across the suspension point {at}{later}, but #[io_state_machine] cannot read its type, which the state enum needs, and a pattern cannot carry one; rebind it with its type first thing in the block it binds: `let {name}: Type = {name};`"),
                });
            } else if binding.ty.is_none() && !binding.borrow && binding.drop_only {
                reported.insert(b);
                let mutable = if binding.mutable { "mut " } else { "" };
                // A name of a larger pattern gets the pattern's one fix.
                untyped.push(Untyped {
                    name: name.to_string(),
                    span: binding.decl_span,
                    at: at.clone(),
                    later: later.clone(),
                    for_iter: false,
                    drop_only: true,
                    borrow: false,
                    fallback: format!("`{name}` is never read, so it is held for its `Drop` to the end of its scope, as in Rust, and is stored across the suspension point {at}; #[io_state_machine] cannot read its type, which the state enum needs; write it out: `let {mutable}{name}: Type = ..;` (or drop it before the suspension point with `drop({name});`)"),
                });
            } else if binding.ty.is_none() && !binding.borrow {
                reported.insert(b);
                // The fix keeps a `mut` the binding had (E0596 without it).
                let mutable = if binding.mutable { "mut " } else { "" };
                let guard = match initialized_from(g, b, borrowed_args) {
                    Some(arg) => format!(
                        " — or, if it borrows `{arg}` (a guard or a reference into it), which no state can hold, make it `#[reevaluated] let {name} = ..;` among the first statements of the body, evaluated again after every resume instead of stored"
                    ),
                    None => String::new(),
                };
                let fix = if initialized_by_closure(g, b) {
                    // A closure's type has no name to write.
                    format!(
                        "a closure's type cannot be written: store a function pointer (`let {mutable}{name}: fn(A) -> R = |..| ..;`, for a closure that captures nothing) or a `Box<dyn Fn(A) -> R>`, or make the closure after the suspension point"
                    )
                } else {
                    format!("write it out: `let {mutable}{name}: Type = ..;`{guard}")
                };
                untyped.push(Untyped {
                    name: name.to_string(),
                    span: binding.decl_span,
                    at: at.clone(),
                    later: later.clone(),
                    for_iter: false,
                    drop_only: false,
                    borrow: false,
                    fallback: format!("`{name}` is stored across the suspension point {at}{later}, but #[io_state_machine] cannot read its type, which the state enum needs; {fix}"),
                });
            } else if let Some(place) = &binding.mut_reborrow {
                reported.insert(b);
                cx.error(
                    binding.decl_span,
                    format!("`{name}` holds a borrow, `{place}`, and is kept across the suspension point {at}{}; the state of a machine cannot hold borrows, so #[io_state_machine] re-creates such a borrow of an argument or `self` from its initializer after the suspension, but `{name}` is declared `mut` and may point elsewhere by then, which re-creating it would not see; remove the `mut` (one binding per place), or keep which place was chosen in an owned value (a `bool`, an index) and borrow again after the suspension", later.replacen(" and", ",", 1)),
                );
            } else if binding.borrow || binding.ty.as_ref().is_some_and(crate::cfg::type_borrows) {
                reported.insert(b);
                let guard = match initialized_from(g, b, borrowed_args) {
                    Some(arg) => format!(
                        "; or, if the body keeps this borrow of `{arg}` throughout (a guard), make it `#[reevaluated] let {name} = ..;` among the first statements of the body, evaluated again after every resume instead of stored"
                    ),
                    None => String::new(),
                };
                // The names of a `for` loop and of a `ref` pattern are
                // reported with their loop or pattern (see `hints`).
                let who = if binding.for_iter {
                    "this `for` loop's iterator".to_owned()
                } else {
                    format!("`{name}`")
                };
                untyped.push(Untyped {
                    name: name.to_string(),
                    span: binding.decl_span,
                    at: at.clone(),
                    later: later.clone(),
                    for_iter: binding.for_iter,
                    drop_only: false,
                    borrow: true,
                    fallback: format!("{who} holds a borrow and is stored across the suspension point {at}{later}; the state of a machine cannot hold borrows (it has no lifetime): store an owned value or an index, and borrow again after the suspension{guard}"),
                });
            }
        }
        out.push(st);
    }
    crate::hints::report(cx, sig, body, untyped);
    out
}

/// The piece of code whose `let` declares `b`, and its statements.
fn defining(g: &Graph, b: BindId) -> Option<(&crate::cfg::Piece, Option<Vec<syn::Stmt>>)> {
    let piece = g
        .blocks
        .iter()
        .flat_map(|blk| &blk.pieces)
        .find(|p| p.defs.contains(&b))?;
    let stmts = syn::parse::Parser::parse2(syn::Block::parse_within, piece.tokens.clone()).ok();
    Some((piece, stmts))
}

// Input:  `let f = move |v: u32| v + 1;` defining `f`
// Output: true
/// Whether `b` is declared by a `let` whose initializer is a closure.
fn initialized_by_closure(g: &Graph, b: BindId) -> bool {
    let Some((_, Some(stmts))) = defining(g, b) else {
        return false;
    };
    stmts.iter().any(|st| {
        matches!(st, syn::Stmt::Local(l)
            if l.init.as_ref().is_some_and(|i| matches!(crate::scan::strip(&i.expr), syn::Expr::Closure(_))))
    })
}

// Input:  `let h = pager.header();` with `pager: &Pager` among the arguments
// Output: `Some("pager")` (`None` for `pager.len()`, `items.to_vec()`)
/// The first argument passed by reference (or `self` taken by reference)
/// that the `let` binding `b` is made from, other than through a method
/// that gives an owned value: a value made from it may borrow it, which the
/// message about `b`'s missing type then says at once (issue 15 item 2),
/// rather than after the user has written a type. A statement that waits
/// is left alone: its value comes from the completion or the callee.
fn initialized_from(g: &Graph, b: BindId, borrowed_args: &[String]) -> Option<String> {
    use proc_macro2::TokenTree;
    const OWNED: &[&str] = &[
        "clone",
        "cloned",
        "copied",
        "to_vec",
        "to_owned",
        "to_string",
        "len",
        "is_empty",
        "count",
    ];
    fn flatten(ts: proc_macro2::TokenStream, out: &mut Vec<TokenTree>) {
        for t in ts {
            match t {
                TokenTree::Group(gr) => {
                    out.push(TokenTree::Group(proc_macro2::Group::new(
                        gr.delimiter(),
                        Default::default(),
                    )));
                    flatten(gr.stream(), out);
                }
                t => out.push(t),
            }
        }
    }
    let (piece, stmts) = defining(g, b)?;
    let mut toks = Vec::new();
    flatten(piece.tokens.clone(), &mut toks);
    let text = |t: Option<&TokenTree>| t.map(ToString::to_string).unwrap_or_default();
    if toks.iter().any(|t| {
        let s = t.to_string();
        s.starts_with("__ratchet") || s == "yield_io" || s == "call_io"
    }) {
        return None;
    }
    // A name the statement binds itself (a closure's parameter `|v| ..`)
    // is not the argument (attack round 14, F11).
    let free: Option<Vec<String>> = stmts.map(|stmts| {
        stmts
            .iter()
            .flat_map(crate::scan::free_vars_stmt)
            .map(|u| u.name)
            .collect()
    });
    toks.iter().enumerate().find_map(|(i, t)| {
        let name = t.to_string();
        let owned = text(toks.get(i + 1)) == "." && OWNED.contains(&text(toks.get(i + 2)).as_str());
        let is_free = free.as_ref().is_none_or(|f| f.contains(&name));
        (matches!(t, TokenTree::Ident(_)) && borrowed_args.contains(&name) && !owned && is_free)
            .then_some(name)
    })
}

/// Whether dropping a value of type `t` does nothing (a primitive, a shared
/// reference, a tuple or array of those): where such a local goes out of
/// scope cannot be observed.
pub fn nothing_to_drop(t: &syn::Type) -> bool {
    use syn::Type;
    match t {
        Type::Path(p) if p.qself.is_none() => p.path.get_ident().is_some_and(|id| {
            matches!(
                id.to_string().as_str(),
                "u8" | "u16"
                    | "u32"
                    | "u64"
                    | "u128"
                    | "usize"
                    | "i8"
                    | "i16"
                    | "i32"
                    | "i64"
                    | "i128"
                    | "isize"
                    | "f32"
                    | "f64"
                    | "bool"
                    | "char"
            )
        }),
        Type::Reference(r) => r.mutability.is_none(),
        Type::Tuple(t) => t.elems.iter().all(nothing_to_drop),
        Type::Array(a) => nothing_to_drop(&a.elem),
        Type::Paren(p) => nothing_to_drop(&p.elem),
        Type::Ptr(_) | Type::Never(_) => true,
        _ => false,
    }
}
