//! Rule 8's fix (stage 5's messages) for a `for` loop whose iterator or
//! item must be stored: a range's bound in a typed local, an index loop,
//! owned items collected first, the iterator in a typed local, or each item
//! taken apart by a typed `let`, whichever keeps what the loop does. Takes
//! the loop's pattern and expression and the function's names (see
//! `Names`: a name a fix adds must shadow none); gives the fix's text.

use syn::{Expr, Pat};

use super::patterns::{rebind, skeleton};
use super::text::{and_holders, holders_note, list_plain, rebind_note, rebind_them, text};
use super::{Kind, Names, Site};

/// How an item of a loop over a borrowed collection is taken by index.
enum Item {
    /// `&x` of `v.iter()`, `x` of `v.iter().copied()`: `v[i]`.
    Copy,
    /// `x` of `v.iter().cloned()`: `v[i].clone()`.
    Clone,
    /// `x` of `v.iter()`: `&v[i]`.
    Ref,
    /// `x` of `v.iter_mut()`: `&mut v[i]`.
    RefMut,
    /// `b` of `s.bytes()`: `s.as_bytes()[i]`.
    Byte,
}

/// A loop over a borrowed collection that an index loop replaces without
/// changing what it does: `v.iter()`, `v.iter_mut()`, `&v`, `&mut v`,
/// optionally `.copied()` / `.cloned()` and then `.enumerate()`, and
/// `s.bytes()`. Gives the collection, whether the loop enumerates, and how
/// an item is read (before the pattern: a `&x` pattern makes it `Copy`).
fn index_loop<'e>(e: &'e Expr, names: &Names) -> Option<(&'e Expr, bool, Item)> {
    let (e, enumerated) = match crate::scan::strip(e) {
        Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty() => (&*m.receiver, true),
        e => (e, false),
    };
    let (e, owned) = match crate::scan::strip(e) {
        Expr::MethodCall(m) if m.method == "copied" && m.args.is_empty() => (&*m.receiver, Some(Item::Copy)),
        Expr::MethodCall(m) if m.method == "cloned" && m.args.is_empty() => (&*m.receiver, Some(Item::Clone)),
        e => (e, None),
    };
    match crate::scan::strip(e) {
        Expr::MethodCall(m) if m.args.is_empty() && m.method == "iter" => {
            Some((&m.receiver, enumerated, owned.unwrap_or(Item::Ref)))
        }
        Expr::MethodCall(m) if m.args.is_empty() && m.method == "iter_mut" && owned.is_none() => {
            Some((&m.receiver, enumerated, Item::RefMut))
        }
        Expr::MethodCall(m) if m.args.is_empty() && m.method == "bytes" && owned.is_none() => {
            Some((&m.receiver, enumerated, Item::Byte))
        }
        Expr::Reference(r) if owned.is_none() => {
            let item = if r.mutability.is_some() {
                Item::RefMut
            } else {
                Item::Ref
            };
            Some((&r.expr, enumerated, item))
        }
        // `for x in a` with `a: &[T]` is `for x in a.iter()`.
        e if owned.is_none() => match names.param(e)?.by_ref? {
            true => Some((e, enumerated, Item::RefMut)),
            false => Some((e, enumerated, Item::Ref)),
        },
        _ => None,
    }
}

/// What the items of a loop's iterator are, read from its chain.
#[derive(Clone, Copy, PartialEq)]
enum Own {
    /// Values (`s.chars()`, `v.drain(..)`, `.copied()`).
    Owned,
    /// Shared references into a collection (`v.iter()`, `a.windows(2)`).
    Shared,
    /// Mutable references (`v.iter_mut()`): writes through them count.
    Mutable,
    /// Made by a closure (`map`): whatever it returns.
    Made,
}

/// An iterator chain read from its source: what its items are, the chain
/// as written (`base`), the adapter that makes its items owned values
/// (`.cloned()` for `v.iter()`), which goes as late as the chain allows it
/// (`v.iter().filter(..).cloned()`, so that the `filter` sees what it did),
/// the item's type where the chain tells it, and the collection it borrows.
struct Chain {
    own: Own,
    base: String,
    adapter: String,
    item: Option<String>,
    coll: Option<String>,
    /// The adapters already put into `base` (`zip`'s two sides).
    added: Vec<String>,
}

impl Chain {
    /// The chain with its items made owned.
    fn owned(&self) -> String {
        format!("{}{}", self.base, self.adapter)
    }

    /// Every adapter [`Chain::owned`] adds, once each.
    fn adds(&self) -> Vec<String> {
        let mut all = self.added.clone();
        all.push(self.adapter.clone());
        all.retain(|a| !a.is_empty());
        all.dedup();
        all
    }

    /// `base` with the pending adapter put in.
    fn settle(self, then: String) -> Chain {
        let mut added = self.added.clone();
        added.push(self.adapter.clone());
        Chain {
            base: format!("{}{then}", self.owned()),
            adapter: String::new(),
            added,
            ..self
        }
    }
}

/// What makes owned items of `v.iter()`: `.cloned()`, or, for a loop that
/// takes each item apart as a pair, what also clones a map's `(&K, &V)`
/// (and a `&(A, B)`, which the closure's pattern takes apart the same).
fn pair_clone(pairs: bool) -> &'static str {
    if pairs {
        ".map(|(a, b)| (a.clone(), b.clone()))"
    } else {
        ".cloned()"
    }
}

// Input:  `a.iter().zip(b.iter())`, `s.chars().enumerate()`, `a.windows(2)`
// Output: `a.iter().cloned().zip(b.iter().cloned())` with items `(T, U)`,
//         `s.chars().enumerate()` with `(usize, char)`, `a.windows(2).map(<[_]>::to_vec)`
/// `pat`: the pattern an item meets; one that takes it apart as a pair may
/// meet a map's `(&K, &V)` from `m.iter()`, which `.cloned()` cannot make
/// owned (`enumerate` and `zip` hand each side its part of the pattern).
fn chain(e: &Expr, names: &Names, pat: Option<&Pat>) -> Option<Chain> {
    let e = crate::scan::strip(e);
    let part = |i: usize| match pat {
        Some(Pat::Tuple(t)) if t.elems.len() == 2 => t.elems.get(i),
        _ => None,
    };
    let pairs = part(0).is_some();
    let whole = text(e);
    let of = |own: Own, adapter: &str, item: Option<&str>, coll: &Expr| Chain {
        own,
        base: whole.clone(),
        adapter: adapter.to_owned(),
        item: item.map(str::to_owned),
        coll: Some(text(coll)),
        added: Vec::new(),
    };
    match e {
        Expr::Reference(r) if r.mutability.is_some() => Some(of(Own::Mutable, "", None, &r.expr)),
        Expr::Reference(r) => Some(Chain {
            base: format!("{}.iter()", text(&r.expr)),
            ..of(Own::Shared, pair_clone(pairs), None, &r.expr)
        }),
        Expr::Path(_) => match names.param(e)?.by_ref? {
            true => Some(of(Own::Mutable, "", None, e)),
            false => Some(Chain {
                base: format!("{whole}.iter()"),
                ..of(Own::Shared, pair_clone(pairs), None, e)
            }),
        },
        Expr::MethodCall(m) => {
            let method = m.method.to_string();
            let args: Vec<String> = m.args.iter().map(text).collect();
            let call = format!(".{method}({})", args.join(", "));
            let recv = &*m.receiver;
            // An adapter that keeps the items as they are.
            let keep = |inner: Chain| Chain {
                base: format!("{}{call}", inner.base),
                ..inner
            };
            match method.as_str() {
                "chars" => Some(of(Own::Owned, "", Some("char"), recv)),
                "bytes" => Some(of(Own::Owned, "", Some("u8"), recv)),
                "char_indices" => Some(of(Own::Owned, "", Some("(usize, char)"), recv)),
                "drain" => Some(of(Own::Owned, "", None, recv)),
                "iter" => Some(of(Own::Shared, pair_clone(pairs), None, recv)),
                "keys" | "values" => Some(of(Own::Shared, ".cloned()", None, recv)),
                "windows" | "chunks" | "chunks_exact" | "rchunks" => {
                    Some(of(Own::Shared, ".map(<[_]>::to_vec)", Some("Vec<T>"), recv))
                }
                "lines" | "split_whitespace" | "split_ascii_whitespace" => {
                    Some(of(Own::Shared, ".map(str::to_owned)", Some("String"), recv))
                }
                "iter_mut" | "values_mut" | "chunks_mut" | "chunks_exact_mut" => {
                    Some(of(Own::Mutable, "", None, recv))
                }
                "copied" | "cloned" => {
                    let inner = chain(recv, names, None)?;
                    Some(match inner.own {
                        Own::Mutable => inner,
                        _ => Chain {
                            own: Own::Owned,
                            adapter: String::new(),
                            ..keep(inner)
                        },
                    })
                }
                "rev" | "skip" | "take" | "step_by" | "filter" | "skip_while" | "take_while" | "peekable"
                | "fuse" => Some(keep(chain(recv, names, pat)?)),
                "enumerate" => {
                    let inner = chain(recv, names, part(1))?;
                    let item = Some(format!("(usize, {})", inner.item.as_deref().unwrap_or("T")));
                    Some(Chain {
                        item,
                        ..inner.settle(call)
                    })
                }
                "zip" if m.args.len() == 1 => {
                    let inner = chain(recv, names, part(0))?;
                    let other = chain(&m.args[0], names, part(1))?;
                    let own = match (inner.own, other.own) {
                        (Own::Mutable, _) | (_, Own::Mutable) => Own::Mutable,
                        (Own::Made, _) | (_, Own::Made) => Own::Made,
                        (Own::Shared, _) | (_, Own::Shared) => Own::Shared,
                        _ => Own::Owned,
                    };
                    let second = match other.item.as_deref() {
                        Some("Vec<T>") => "Vec<U>".to_owned(),
                        Some(t) => t.to_owned(),
                        None => "U".to_owned(),
                    };
                    let item = Some(format!("({}, {second})", inner.item.as_deref().unwrap_or("T")));
                    let mut both = inner.settle(format!(".zip({})", other.owned()));
                    both.added.extend(other.adds());
                    Some(Chain { own, item, ..both })
                }
                // What the closure returns: the chain as written.
                "map" | "filter_map" | "flat_map" | "map_while" => {
                    let inner = chain(recv, names, None)?;
                    Some(match inner.own {
                        Own::Mutable => inner,
                        _ => Chain {
                            own: Own::Made,
                            base: whole,
                            adapter: String::new(),
                            item: None,
                            ..inner
                        },
                    })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The type of a bound, where the expression tells it: `a.len()`,
/// `a.len() - 1`, `n as u64`; `T` otherwise.
pub(super) fn bound_type(e: &Expr) -> String {
    match crate::scan::strip(e) {
        Expr::MethodCall(m) if m.method == "len" || m.method == "count" => "usize".to_owned(),
        Expr::Cast(c) => text(&*c.ty),
        Expr::Binary(b)
            if matches!(
                b.op,
                syn::BinOp::Add(_)
                    | syn::BinOp::Sub(_)
                    | syn::BinOp::Mul(_)
                    | syn::BinOp::Div(_)
                    | syn::BinOp::Rem(_)
            ) =>
        {
            let (l, r) = (bound_type(&b.left), bound_type(&b.right));
            match (l.as_str(), r.as_str()) {
                (t, "T") if t != "T" && is_plain_literal(&b.right) => l,
                ("T", t) if t != "T" && is_plain_literal(&b.left) => r,
                (a, b) if a == b => l,
                _ => "T".to_owned(),
            }
        }
        _ => "T".to_owned(),
    }
}

// Input:  `for c in s.chars()`, `for (x, y) in a.iter().zip(b.iter())`
// Output: "... `let items: Vec<char> = s.chars().collect(); for c in items { .. }` ...",
//         "... `let items: Vec<(T, U)> = a.iter().cloned().zip(b.iter().cloned()).collect(); for item in items { let (x, y): (T, U) = item; .. }` ..."
/// The fix for a loop whose iterator borrows and is not one an index loop
/// replaces exactly: collect its items, made owned, before the loop, and
/// loop over the owned `Vec`. A loop over mutable borrows has none: owned
/// copies would not write back.
fn collect_fix(pat: &Pat, c: &Chain, names: &[String], fresh: &mut Names, lab: &str) -> String {
    let coll = c.coll.clone().unwrap_or_else(|| "a collection".to_owned());
    if c.own == Own::Mutable {
        return format!(
            "its iterator hands out mutable borrows of `{coll}`, which the state cannot keep, and owned copies of the items would not write back to `{coll}`: no loop over an owned iterator does what this one does, so the macro offers no rewrite; loop over indexes of `{coll}` with a typed bound (`let n: usize = ..;`), make in the body what the iterator made of each index (its count and order too, where it skips, zips or reverses), and borrow `&mut {coll}[i]` after each suspension point where the body writes an item"
        );
    }
    let known = c.item.as_deref().filter(|t| {
        !t.split(|ch: char| !ch.is_alphanumeric())
            .any(|w| w == "T" || w == "U")
    });
    let mut holders = Vec::new();
    let items = fresh.fresh("items");
    let (ty, looped, note) = match pat {
        Pat::Ident(pi) if pi.subpat.is_none() && pi.by_ref.is_none() => {
            let ty = c.item.clone().unwrap_or_else(|| "T".to_owned());
            (
                ty,
                format!("{lab}for {} in {items} {{ .. }}", text(pat)),
                String::new(),
            )
        }
        Pat::Wild(_) => (
            c.item.clone().unwrap_or_else(|| "T".to_owned()),
            format!("{lab}for _ in {items} {{ .. }}"),
            String::new(),
        ),
        _ => {
            let item = fresh.fresh("item");
            match (known, skeleton(pat, &mut holders)) {
                (Some(t), _) => {
                    holders.clear();
                    let t = t.to_owned();
                    let l = format!(
                        "{lab}for {item} in {items} {{ let {}: {t} = {item}; .. }}",
                        text(pat)
                    );
                    (t, l, String::new())
                }
                (None, Some(skel)) => {
                    let l = format!(
                        "{lab}for {item} in {items} {{ let {}: {skel} = {item}; .. }}",
                        text(pat)
                    );
                    (skel, l, holders_note(&holders))
                }
                (None, None) => {
                    let r = rebind(pat, names, &[]);
                    let l = format!("{lab}for {} in {items} {{ {} .. }}", r.pat, r.lets);
                    let ty = c.item.clone().unwrap_or_else(|| "T".to_owned());
                    (ty, l, rebind_note(names))
                }
            }
        }
    };
    let placeholders: Vec<String> = ["T", "U"]
        .iter()
        .filter(|p| ty.split(|ch: char| !ch.is_alphanumeric()).any(|w| w == **p))
        .map(|p| format!("`{p}`"))
        .collect();
    let note = match (placeholders.len(), note.is_empty()) {
        (0, _) => note,
        (1, true) if ty.contains("Vec<T>") => {
            format!(", where `T` stands for the type of the elements of `{coll}`")
        }
        (1, true) if c.own == Own::Made => format!(", where {} stands for the item's type", placeholders[0]),
        (1, true) => format!(
            ", where {} stands for the item's type, which must own its data",
            placeholders[0]
        ),
        (_, true) => format!(
            ", where {} stand for the types of the two sides' items, which must own their data",
            list_plain(&placeholders)
        ),
        (_, false) => format!("{note}, which must own their data"),
    };
    let adds: Vec<String> = c.adds().iter().map(|a| format!("`{a}`")).collect();
    let why = match c.own {
        Own::Shared if !adds.is_empty() => format!(
            " ({} {} owned values of the references it gives, which the state could not keep)",
            list_plain(&adds),
            if adds.len() == 1 { "makes" } else { "make" }
        ),
        Own::Made => {
            " (what its closure returns must own its data: the state cannot keep a borrow)".to_owned()
        }
        _ => String::new(),
    };
    format!(
        "its iterator borrows `{coll}`, which the state cannot keep: collect its items into an owned `Vec` before the loop and loop over that: `let {items}: Vec<{ty}> = {}.collect(); {looped}`{note}{why}; the iterator then runs to its end before the loop rather than item by item",
        c.owned()
    )
}

fn is_plain_literal(e: &Expr) -> bool {
    matches!(crate::scan::strip(e), Expr::Lit(l) if matches!(&l.lit, syn::Lit::Int(i) if i.suffix().is_empty()))
}

/// The name a pattern binds when it is one plain name (`i`, `mut i`).
fn plain_name(p: &Pat) -> Option<String> {
    match p {
        Pat::Ident(pi) if pi.subpat.is_none() && pi.by_ref.is_none() => Some(pi.ident.to_string()),
        _ => None,
    }
}

// Input:  `for (i, x) in v.iter().enumerate()`
// Output: "... `let n: usize = v.len(); for i in 0..n { .. let x: &T = &v[i]; .. }` ..."
/// The fix for a loop over a borrowed collection, by index.
fn index_fix(
    pat: &Pat,
    coll: &Expr,
    enumerated: bool,
    item: Item,
    fresh: &mut Names,
    lab: &str,
) -> Option<String> {
    // A pair taken apart from `m.iter()` may be a map's `(&K, &V)`, which
    // no position indexes (a `&(a, b)` pattern could not match one).
    let item_of = |p: &Pat| match p {
        Pat::Tuple(t) if enumerated && t.elems.len() == 2 => t.elems[1].clone(),
        p => p.clone(),
    };
    if matches!(item_of(pat), Pat::Tuple(_)) && matches!(item, Item::Ref | Item::RefMut)
        || fresh.param(coll).is_some_and(|p| p.keyed)
    {
        return None;
    }
    let (index, item_pat) = match pat {
        Pat::Tuple(t) if enumerated && t.elems.len() == 2 => match plain_name(&t.elems[0]) {
            Some(_) => (text(&t.elems[0]), &t.elems[1]),
            None => (fresh.fresh("i"), &t.elems[1]),
        },
        _ if enumerated => return None,
        p => (fresh.fresh("i"), p),
    };
    let index_name = index.trim_start_matches("mut ").to_owned();
    // A `&x` pattern takes the item out of its reference.
    let (item_pat, item) = match (item_pat, item) {
        (Pat::Reference(r), Item::Ref) if r.mutability.is_none() => (&*r.pat, Item::Copy),
        (Pat::Reference(r), Item::RefMut) if r.mutability.is_some() => (&*r.pat, Item::Copy),
        (Pat::Reference(_), _) => return None,
        (p, item) => (p, item),
    };
    let coll = text(coll);
    let n = fresh.fresh("n");
    let head = format!("let {n}: usize = {coll}.len(); {lab}for {index} in 0..{n}");
    let p = text(item_pat);
    let value = |ty: &str, read: String| {
        format!(
            "its iterator borrows `{coll}`, which the state cannot keep: loop over indexes with a typed bound and take the item by its index first thing in the body: `{head} {{ let {p}: {ty} = {read}; .. }}`, where `{ty}` stands for the item's type"
        )
    };
    Some(match item {
        Item::Copy => value("T", format!("{coll}[{index_name}]")),
        Item::Clone => value("T", format!("{coll}[{index_name}].clone()")),
        Item::Byte => value("u8", format!("{coll}.as_bytes()[{index_name}]"))
            .replace(", where `u8` stands for the item's type", ""),
        Item::Ref | Item::RefMut => {
            let (amp, ty) = if matches!(item, Item::Ref) {
                ("&", "&T")
            } else {
                ("&mut ", "&mut T")
            };
            format!(
                "its iterator borrows `{coll}`, which the state cannot keep, and so would the item, a reference into it: loop over indexes with a typed bound and borrow the item by its index where the body uses it, after the suspension point: `{head} {{ .. let {p}: {ty} = {amp}{coll}[{index_name}]; .. }}` (again after each suspension point the body uses it after: the state cannot keep the borrow across one), where `T` stands for the item's type"
            )
        }
    })
}

/// The fix for a `for` loop: its iterator (`iter`, when it is stored
/// untyped) and the names its pattern binds (`names`).
pub(super) fn for_fix(
    pat: &Pat,
    expr: &Expr,
    iter: bool,
    names: &[String],
    fresh: &mut Names,
    lab: &str,
) -> String {
    let pat_text = text(pat);
    let mut holders = Vec::new();
    let skel = skeleton(pat, &mut holders);
    let wild = matches!(pat, Pat::Wild(_));
    if let (Expr::Range(r), Some(name)) = (
        crate::scan::strip(expr),
        plain_name(pat)
            .map(|n| format!(" and of `{n}`"))
            .or(wild.then(String::new)),
    ) && let (Some(start), Some(end)) = (&r.start, &r.end)
    {
        let dots = match r.limits {
            syn::RangeLimits::HalfOpen(_) => "..",
            syn::RangeLimits::Closed(_) => "..=",
        };
        // `0..(a.len())`: the parentheses would be unneeded in the `let`.
        let (s, e) = (text(crate::scan::strip(start)), text(crate::scan::strip(end)));
        let (what, bound, value, range) = if is_plain_literal(start) {
            let bound = fresh.fresh("end");
            let range = format!("{s}{dots}{bound}");
            ("bound", bound, end, range)
        } else {
            let bound = fresh.fresh("start");
            let range = format!("{bound}{dots}{e}");
            ("start", bound, start, range)
        };
        let ty = bound_type(value);
        let note = if ty == "T" {
            format!(
                ", where `T` stands for the type of `{}`",
                text(crate::scan::strip(value))
            )
        } else {
            String::new()
        };
        return format!(
            "bind the {what} to a typed local before the loop, from which the macro reads the type of the range{name}: `let {bound}: {ty} = {}; {lab}for {pat_text} in {range} {{ .. }}`{note}",
            if what == "bound" { &e } else { &s }
        );
    }
    if iter {
        if let Some((coll, enumerated, item)) = index_loop(expr, fresh)
            && let Some(fix) = index_fix(pat, coll, enumerated, item, fresh, lab)
        {
            return fix;
        }
        if let Some(c) = chain(expr, fresh, Some(pat)) {
            return collect_fix(pat, &c, names, fresh, lab);
        }
    }
    let e = text(expr);
    let it = if iter { fresh.fresh("it") } else { String::new() };
    match (iter, pat, skel) {
        (true, Pat::Wild(_), _) => format!(
            "bind the iterator to a typed local before the loop: `let {it}: Iter = {e}; {lab}for _ in {it} {{ .. }}`, where `Iter` stands for the iterator's type"
        ),
        (true, Pat::Ident(_), _) => format!(
            "bind the iterator to a typed local before the loop, from which the macro reads the type of `{}`: `let {it}: Iter = {e}; {lab}for {pat_text} in {it} {{ .. }}`, where `Iter` stands for the iterator's type",
            plain_name(pat).unwrap_or_else(|| pat_text.clone())
        ),
        (true, _, Some(skel)) => {
            let item = fresh.fresh("item");
            format!(
                "bind the iterator to a typed local before the loop and take each item apart with a typed `let`: `let {it}: Iter = {e}; {lab}for {item} in {it} {{ let {pat_text}: {skel} = {item}; .. }}`, where `Iter` stands for the iterator's type{}",
                and_holders(&holders)
            )
        }
        (false, _, Some(skel)) => {
            let item = fresh.fresh("item");
            format!(
                "a pattern of a `for` loop cannot carry a type: take each item apart with a typed `let`: `{lab}for {item} in {e} {{ let {pat_text}: {skel} = {item}; .. }}`{}",
                holders_note(&holders)
            )
        }
        (true, _, None) => {
            let r = rebind(pat, names, &[]);
            format!(
                "bind the iterator to a typed local before the loop and {} first thing in the body: `let {it}: Iter = {e}; {lab}for {} in {it} {{ {} .. }}`, where `Iter` stands for the iterator's type{}",
                rebind_them(names),
                r.pat,
                r.lets,
                and_holders(
                    &names
                        .iter()
                        .map(|n| format!("`{}`", crate::model::camel(n)))
                        .collect::<Vec<_>>()
                )
            )
        }
        (false, _, None) => {
            let r = rebind(pat, names, &[]);
            format!(
                "a pattern of a `for` loop cannot carry a type: {} first thing in the body: `{lab}for {} in {e} {{ {} .. }}`{}",
                rebind_them(names),
                r.pat,
                r.lets,
                rebind_note(names)
            )
        }
    }
}

/// A place (`x`, `self.a`, `v[i]`, `*r`): a `ref mut` into it writes to it.
pub(super) fn is_place(e: &Expr) -> bool {
    match crate::scan::strip(e) {
        Expr::Path(_) => true,
        Expr::Field(f) => is_place(&f.base),
        Expr::Index(i) => is_place(&i.expr),
        Expr::Unary(u) => matches!(u.op, syn::UnOp::Deref(_)),
        _ => false,
    }
}

// Input:  `let it: std::vec::Drain<'_, u64> = v.drain(..); for x in it { .. }`
// Output: "... `let items: Vec<T> = v.drain(..).collect(); for x in items { .. }` (in place of `let it ..`) ..."
/// The fix for a loop whose iterator has a type the macro reads, which
/// borrows: that of the iterator the loop's local was made from, if it
/// is one, else what any such loop takes.
pub(super) fn borrowing_loop_fix(
    sites: &[Site],
    pat: &Pat,
    expr: &Expr,
    names: &[String],
    fresh: &mut Names,
    lab: &str,
) -> String {
    let local = match crate::scan::strip(expr) {
        Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        _ => None,
    };
    let made = local.as_ref().and_then(|l| {
        sites.iter().find_map(|s| {
            let Kind::Let { init: Some(init), .. } = &s.kind else {
                return None;
            };
            let bound = match &s.pat {
                Pat::Ident(pi) => &pi.ident,
                Pat::Type(pt) => match &*pt.pat {
                    Pat::Ident(pi) => &pi.ident,
                    _ => return None,
                },
                _ => return None,
            };
            (bound == l).then_some(init)
        })
    });
    let src = made.unwrap_or(expr);
    let instead = match (&local, made) {
        (Some(l), Some(_)) => format!(" (in place of `let {l} ..` and the loop's head)"),
        _ => String::new(),
    };
    if let Some((coll, enumerated, item)) = index_loop(src, fresh)
        && let Some(fix) = index_fix(pat, coll, enumerated, item, fresh, lab)
    {
        return fix + &instead;
    }
    if let Some(c) = chain(src, fresh, Some(pat)) {
        return collect_fix(pat, &c, names, fresh, lab) + &instead;
    }
    "loop over an owned collection instead (collect the items, made owned values, into a `Vec` before the loop: `let items: Vec<T> = ...collect(); for x in items { .. }`) or over indexes with a typed bound, and borrow again after the suspension point".to_owned()
}
