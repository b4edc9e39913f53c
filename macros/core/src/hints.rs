//! Rule 8's fix for stored locals without a type, in the form of the code
//! that binds them: one error per pattern (or `for` loop), listing every
//! name it binds that the state must keep, with one thing to paste.
//!
//! Input:  `let (a, b) = f();` with `a` and `b` stored across `yield_io!(c)`
//! Output: one error at `(a, b)`: "... write the pattern's type: `let (a, b): (A, B) = f();` ..."
//! Input:  `for i in 0..n.len() { yield_io!(c)?; .. i .. }`
//! Output: one error at the loop's head: "... `let end: usize = n.len(); for i in 0..end { .. }`"

use std::collections::BTreeSet;

use proc_macro2::{Delimiter, LineColumn, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::visit::Visit;
use syn::{Block, Expr, Pat, Signature};

use crate::ctxt::Ctxt;
use crate::scan::{TEXT_MAX, one_line};

/// A stored binding whose type cannot be read, as `types::check` found it.
pub struct Untyped {
    pub name: String,
    pub span: Span,
    /// `` `yield_io!(c)` (line 7)``.
    pub at: String,
    /// `` and used after it on line 8`` or empty.
    pub later: String,
    /// The iterator of a `for` loop (`span` is its `for`).
    pub for_iter: bool,
    /// Never read: stored only because it is held for its `Drop`.
    pub drop_only: bool,
    /// Holds a borrow (a `ref` binding, a loop over a borrowing iterator
    /// whose type is known): reported with its pattern or loop.
    pub borrow: bool,
    /// The message `types::check` gives when no binding site is found.
    pub fallback: String,
}

/// Where a pattern binds names.
enum Kind {
    Let {
        init: Option<Expr>,
        has_else: bool,
    },
    IfLet(Expr),
    WhileLet(Expr),
    Arm,
    For {
        expr: Expr,
        head: TokenStream,
        /// `'outer: ` or empty: the fix's loop keeps its label.
        label: String,
    },
}

struct Site {
    kind: Kind,
    pat: Pat,
    /// The start of every name the pattern binds.
    names: Vec<(usize, usize)>,
    /// The start of the `for` of a loop.
    for_at: Option<(usize, usize)>,
    /// For a `let` in a chain (`if a && let P = e`): the whole condition's
    /// text and this `let`'s, so a suggested rewrite keeps the others.
    chain: Option<(String, String)>,
}

fn pos(span: Span) -> (usize, usize) {
    let s = span.start();
    (s.line, s.column)
}

#[derive(Default)]
struct Finder {
    sites: Vec<Site>,
    in_while_cond: bool,
    /// The condition of the `if` or `while` being visited, while in it.
    cond: Option<Expr>,
}

fn names_of(pat: &Pat) -> Vec<(usize, usize)> {
    struct N(Vec<(usize, usize)>);
    impl<'ast> Visit<'ast> for N {
        fn visit_pat_ident(&mut self, pi: &'ast syn::PatIdent) {
            self.0.push(pos(pi.ident.span()));
            syn::visit::visit_pat_ident(self, pi);
        }
    }
    let mut n = N(Vec::new());
    n.visit_pat(pat);
    n.0
}

impl Finder {
    fn push(&mut self, kind: Kind, pat: &Pat, for_at: Option<(usize, usize)>) {
        self.sites.push(Site {
            kind,
            pat: pat.clone(),
            names: names_of(pat),
            for_at,
            chain: None,
        });
    }
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_local(&mut self, l: &'ast syn::Local) {
        let kind = Kind::Let {
            init: l.init.as_ref().map(|i| (*i.expr).clone()),
            has_else: l.init.as_ref().is_some_and(|i| i.diverge.is_some()),
        };
        self.push(kind, &l.pat, None);
        syn::visit::visit_local(self, l);
    }
    fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
        let outer = std::mem::replace(&mut self.in_while_cond, true);
        let outer_cond = self.cond.replace((*w.cond).clone());
        self.visit_expr(&w.cond);
        self.cond = None;
        self.in_while_cond = false;
        self.visit_block(&w.body);
        self.in_while_cond = outer;
        self.cond = outer_cond;
    }
    fn visit_expr_if(&mut self, i: &'ast syn::ExprIf) {
        let outer = std::mem::replace(&mut self.in_while_cond, false);
        let outer_cond = self.cond.replace((*i.cond).clone());
        self.visit_expr(&i.cond);
        self.cond = None;
        self.visit_block(&i.then_branch);
        if let Some((_, e)) = &i.else_branch {
            self.visit_expr(e);
        }
        self.in_while_cond = outer;
        self.cond = outer_cond;
    }
    fn visit_expr_let(&mut self, l: &'ast syn::ExprLet) {
        let kind = if self.in_while_cond {
            Kind::WhileLet((*l.expr).clone())
        } else {
            Kind::IfLet((*l.expr).clone())
        };
        self.push(kind, &l.pat, None);
        if let Some(cond @ Expr::Binary(_)) = &self.cond
            && let Some(site) = self.sites.last_mut()
        {
            site.chain = Some((text(cond), text(l)));
        }
        syn::visit::visit_expr_let(self, l);
    }
    fn visit_arm(&mut self, a: &'ast syn::Arm) {
        self.push(Kind::Arm, &a.pat, None);
        let outer = std::mem::replace(&mut self.in_while_cond, false);
        syn::visit::visit_arm(self, a);
        self.in_while_cond = outer;
    }
    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        let (for_token, pat, in_token, expr) = (&f.for_token, &f.pat, &f.in_token, &f.expr);
        let kind = Kind::For {
            expr: (**expr).clone(),
            head: quote!(#for_token #pat #in_token #expr),
            label: f
                .label
                .as_ref()
                .map_or_else(String::new, |l| format!("{}: ", l.name)),
        };
        self.push(kind, pat, Some(pos(f.for_token.span)));
        syn::visit::visit_expr_for_loop(self, f);
    }
    // Not taken apart: nothing bound there is stored.
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// One token as written: its text and where it stands in the source.
struct Leaf {
    text: String,
    start: LineColumn,
    end: LineColumn,
}

fn leaves(ts: TokenStream, out: &mut Vec<Leaf>) {
    let leaf = |text: &str, span: Span| Leaf {
        text: text.to_owned(),
        start: span.start(),
        end: span.end(),
    };
    for tt in ts {
        match tt {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    // A `$e:expr` a `macro_rules!` passed on: no delimiters.
                    Delimiter::None => {
                        leaves(g.stream(), out);
                        continue;
                    }
                };
                // A delimiter is one character at either end of its group
                // (`span_open` is the whole group's span in a real expansion).
                let (start, end) = (g.span().start(), g.span().end());
                let next = LineColumn {
                    line: start.line,
                    column: start.column + 1,
                };
                let last = LineColumn {
                    line: end.line,
                    column: end.column.saturating_sub(1),
                };
                out.push(Leaf {
                    text: open.to_owned(),
                    start,
                    end: next,
                });
                leaves(g.stream(), out);
                out.push(Leaf {
                    text: close.to_owned(),
                    start: last,
                    end,
                });
            }
            t => out.push(leaf(&t.to_string(), t.span())),
        }
    }
}

fn before(a: LineColumn, b: LineColumn) -> bool {
    (a.line, a.column) <= (b.line, b.column)
}

// Input:  the tokens of `Some(P { a, b: bb })`, or of `( a,\n  .. )`
// Output: `Some(P { a, b: bb })` (not `Some(P { a, b : bb })`), `( a, .. )`
/// `node` as the user wrote it, on one line, without the `mut` and `ref`
/// tokens that start at `skip`: the spacing between two tokens is the one between them
/// in the source (one space where a line ends). Tokens whose places do not
/// follow each other (made by a macro) are spaced by the token printer's
/// rules instead, so the text is the same on every run either way.
fn text_skipping(node: &impl ToTokens, skip: &[(usize, usize)]) -> String {
    let ts = node.to_token_stream();
    let mut all = Vec::new();
    leaves(ts.clone(), &mut all);
    let at = |span: Span| (span.start().line, span.start().column);
    let skipped =
        |l: &Leaf| (l.text == "mut" || l.text == "ref") && skip.contains(&(l.start.line, l.start.column));
    // A token the source holds is at least one character wide.
    let placed = all
        .iter()
        .all(|l| l.start.line > 0 && before(l.start, l.end) && l.start != l.end)
        && all.windows(2).all(|w| before(w[0].end, w[1].start));
    if !placed {
        fn without(ts: TokenStream, drop: &dyn Fn(&TokenTree) -> bool) -> TokenStream {
            ts.into_iter()
                .filter(|t| !drop(t))
                .map(|t| match t {
                    TokenTree::Group(g) => {
                        let mut ng = proc_macro2::Group::new(g.delimiter(), without(g.stream(), drop));
                        ng.set_span(g.span());
                        TokenTree::Group(ng)
                    }
                    t => t,
                })
                .collect()
        }
        let kept = without(
            ts,
            &|t| matches!(t, TokenTree::Ident(i) if (i == "mut" || i == "ref") && skip.contains(&at(i.span()))),
        );
        return one_line(&kept.to_string());
    }
    let mut out = String::new();
    // The gap before a skipped token stands for the gap after it.
    let mut gap: Option<String> = None;
    for (i, l) in all.iter().enumerate() {
        let own = match i.checked_sub(1).map(|p| &all[p]) {
            None => String::new(),
            Some(p) if p.end.line == l.start.line => " ".repeat(l.start.column - p.end.column),
            Some(p) => {
                // `f(\n a,\n)` and `x\n    .len()`, but `a,\n ..`.
                let operand = p
                    .text
                    .starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '"')
                    || matches!(p.text.as_str(), ")" | "]" | "}" | "?");
                let tight = matches!(p.text.as_str(), "(" | "[")
                    || matches!(l.text.as_str(), ")" | "]" | "," | ";")
                    || l.text == "." && operand;
                if tight { String::new() } else { " ".to_owned() }
            }
        };
        if skipped(l) {
            gap.get_or_insert(own);
            continue;
        }
        out.push_str(&gap.take().unwrap_or(own));
        out.push_str(&l.text);
    }
    elide(&out)
}

fn text(node: &impl ToTokens) -> String {
    text_skipping(node, &[])
}

/// `s`, elided with `…` in the middle past [`TEXT_MAX`] characters.
fn elide(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= TEXT_MAX {
        return s.to_owned();
    }
    let keep = TEXT_MAX.saturating_sub(1) / 2;
    let head: String = chars.iter().take(keep).collect();
    let tail: String = chars.iter().skip(chars.len() - keep).collect();
    format!("{head}…{tail}")
}

/// Every name the function's signature and body use, and the names a fix
/// has already introduced: a name a fix adds before a loop must be none of
/// them, or it would shadow one the loop reads (a parameter `end` read in
/// the body of `for i in 0..n.len()` would silently become `n.len()`).
struct Names {
    used: BTreeSet<String>,
    /// The parameters passed by reference, which a loop borrows from.
    params: Vec<Param>,
}

/// A parameter of the function, as a loop over it sees it.
struct Param {
    name: String,
    /// `&T` (`Some(false)`) or `&mut T` (`Some(true)`).
    by_ref: Option<bool>,
    /// A map or a set, which no position indexes.
    keyed: bool,
}

impl Names {
    fn of(sig: &Signature, body: &Block) -> Names {
        fn walk(ts: TokenStream, out: &mut BTreeSet<String>) {
            for tt in ts {
                match tt {
                    TokenTree::Ident(i) => {
                        out.insert(i.to_string().trim_start_matches("r#").to_owned());
                    }
                    // `format!("{end}")` reads `end` too.
                    TokenTree::Literal(l) => out.extend(crate::scan::format_captures(&l.to_string())),
                    TokenTree::Group(g) => walk(g.stream(), out),
                    TokenTree::Punct(_) => {}
                }
            }
        }
        let mut set = BTreeSet::new();
        walk(sig.to_token_stream(), &mut set);
        walk(body.to_token_stream(), &mut set);
        let params = sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(pt) => match &*pt.pat {
                    Pat::Ident(pi) => {
                        let ty = one_line(&pt.ty.to_token_stream().to_string());
                        Some(Param {
                            name: pi.ident.to_string(),
                            by_ref: match &*pt.ty {
                                syn::Type::Reference(r) => Some(r.mutability.is_some()),
                                _ => None,
                            },
                            keyed: ["Map", "Set"].iter().any(|k| ty.contains(k)),
                        })
                    }
                    _ => None,
                },
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        Names { used: set, params }
    }

    fn param(&self, e: &Expr) -> Option<&Param> {
        let Expr::Path(p) = crate::scan::strip(e) else {
            return None;
        };
        let id = p.path.get_ident()?;
        self.params.iter().find(|q| id == &q.name)
    }

    /// `base` if nothing is called so, else `base2`, `base3`, ..
    fn fresh(&mut self, base: &str) -> String {
        let name = std::iter::once(base.to_owned())
            .chain((2..).map(|n| format!("{base}{n}")))
            .find(|n| !self.used.contains(n))
            .unwrap_or_else(|| base.to_owned());
        self.used.insert(name.clone());
        name
    }
}

/// How a pattern binds a name: `mut n`, `ref n`, `ref mut n`.
#[derive(Clone, Copy, Default)]
struct Mode {
    by_ref: bool,
    mutable: bool,
    /// Where the binding's `mut` starts.
    mut_at: Option<(usize, usize)>,
    /// Where its `ref` starts.
    ref_at: Option<(usize, usize)>,
}

/// The binding mode of every name `pat` binds.
fn modes(pat: &Pat) -> Vec<(String, Mode)> {
    struct M(Vec<(String, Mode)>);
    impl<'ast> Visit<'ast> for M {
        fn visit_pat_ident(&mut self, pi: &'ast syn::PatIdent) {
            let mode = Mode {
                by_ref: pi.by_ref.is_some(),
                mutable: pi.mutability.is_some(),
                mut_at: pi.mutability.map(|m| pos(m.span)),
                ref_at: pi.by_ref.map(|r| pos(r.span)),
            };
            self.0.push((pi.ident.to_string(), mode));
            syn::visit::visit_pat_ident(self, pi);
        }
    }
    let mut m = M(Vec::new());
    m.visit_pat(pat);
    m.0
}

/// The rebinding form of a fix: `pat` as written but for the `mut` of the
/// names it rebinds (the rebinding carries it, so no `mut` is left unused),
/// and `let mut n: N = n;` for each name.
struct Rebind {
    pat: String,
    lets: String,
}

// Input:  `P { mut a, ref b, c }` rebinding `a`, `b`
// Output: `P { a, ref b, c }` and `let mut a: A = a; let b: &B = b;`
/// `unref`: names bound by `ref` that the fix binds by value.
fn rebind(pat: &Pat, names: &[String], unref: &[String]) -> Rebind {
    let ms = modes(pat);
    let mode = |n: &str| {
        let mut m = ms
            .iter()
            .find(|(m, _)| m == n)
            .map_or_else(Mode::default, |(_, mode)| *mode);
        m.by_ref &= !unref.iter().any(|u| u == n);
        m
    };
    let mut skip = unref_skips(pat, unref);
    skip.extend(
        ms.iter()
            .filter(|(n, _)| names.contains(n) && !mode(n).by_ref)
            .filter_map(|(_, mode)| mode.mut_at),
    );
    let lets = names
        .iter()
        .map(|n| {
            let t = crate::model::camel(n);
            // A `ref` binding is a reference into the matched value: its
            // rebinding has the reference's type (such a binding is a
            // borrow, which the borrow rule reports before it gets here).
            match mode(n) {
                Mode {
                    by_ref: true,
                    mutable: true,
                    ..
                } => format!("let {n}: &mut {t} = {n};"),
                Mode {
                    by_ref: true,
                    mutable: false,
                    ..
                } => format!("let {n}: &{t} = {n};"),
                Mode { mutable: true, .. } => format!("let mut {n}: {t} = {n};"),
                Mode { .. } => format!("let {n}: {t} = {n};"),
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    Rebind {
        pat: text_skipping(pat, &skip),
        lets,
    }
}

/// Where the `ref` of each of `unref` starts: the fix binds them by value.
fn unref_skips(pat: &Pat, unref: &[String]) -> Vec<(usize, usize)> {
    modes(pat)
        .into_iter()
        .filter(|(n, _)| unref.contains(n))
        .filter_map(|(_, m)| m.ref_at)
        .collect()
}

/// `(a, (b, _))` -> `(A, (B, _))`: the pattern's type with a placeholder
/// per name, when the pattern is made of tuples, names and `_` only.
fn skeleton(pat: &Pat, holders: &mut Vec<String>) -> Option<String> {
    match pat {
        Pat::Ident(pi) if pi.subpat.is_none() => {
            let t = crate::model::camel(&pi.ident.to_string());
            holders.push(format!("`{t}`"));
            Some(t)
        }
        // `whole @ (a, b)` has the type of `(a, b)`; `n @ 1..=9` its own.
        Pat::Ident(pi) => {
            let sub = &pi.subpat.as_ref()?.1;
            let mark = holders.len();
            skeleton(sub, holders).or_else(|| {
                holders.truncate(mark);
                names_of(sub).is_empty().then(|| {
                    let t = crate::model::camel(&pi.ident.to_string());
                    holders.push(format!("`{t}`"));
                    t
                })
            })
        }
        Pat::Wild(_) => Some("_".to_owned()),
        Pat::Paren(p) => skeleton(&p.pat, holders),
        Pat::Tuple(t) => {
            let parts: Option<Vec<String>> = t
                .elems
                .iter()
                .map(|p| match p {
                    Pat::Rest(_) => None,
                    p => skeleton(p, holders),
                })
                .collect();
            let parts = parts?;
            Some(if parts.len() == 1 {
                format!("({},)", parts[0])
            } else {
                format!("({})", parts.join(", "))
            })
        }
        _ => None,
    }
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` ``.
fn list(names: &[String]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        n => format!("{} and {}", q[..n - 1].join(", "), q[n - 1]),
    }
}

fn rebind_them(names: &[String]) -> &'static str {
    if names.len() == 1 {
        "rebind it with its type"
    } else {
        "rebind them with their types"
    }
}

/// `, where `A` and `B` stand for their types` of [`rebind`].
fn rebind_note(names: &[String]) -> String {
    let holders: Vec<String> = names
        .iter()
        .map(|n| format!("`{}`", crate::model::camel(n)))
        .collect();
    holders_note(&holders)
}

/// `, where `A` and `B` stand for their types`.
fn holders_note(holders: &[String]) -> String {
    match holders.len() {
        0 => String::new(),
        1 => format!(", where {} stands for its type", holders[0]),
        _ => format!(", where {} stand for their types", list_plain(holders)),
    }
}

/// ` and `A`, `B` for the types of the names`, after the iterator's note.
fn and_holders(holders: &[String]) -> String {
    if holders.is_empty() {
        String::new()
    } else {
        format!(" and {} for the types of the names", holders.join(", "))
    }
}

fn list_plain(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

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
fn bound_type(e: &Expr) -> String {
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
fn for_fix(pat: &Pat, expr: &Expr, iter: bool, names: &[String], fresh: &mut Names, lab: &str) -> String {
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
fn is_place(e: &Expr) -> bool {
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
fn borrowing_loop_fix(
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

/// `Some(h)` -> `Option<H>`, `Ok(v)` -> `Result<V, E>`: the type a
/// `let-else` pattern of one variant can carry.
fn variant_type(pat: &Pat, holders: &mut Vec<String>) -> Option<String> {
    let ts = match pat {
        Pat::TupleStruct(ts) => ts,
        // `x @ Some(y)`: `x` is the `Option` itself.
        Pat::Ident(pi) => return variant_type(&pi.subpat.as_ref()?.1, holders),
        _ => return None,
    };
    if ts.elems.len() != 1 || ts.qself.is_some() {
        return None;
    }
    let inner = skeleton(&ts.elems[0], holders)?;
    match ts.path.segments.last()?.ident.to_string().as_str() {
        "Some" => Some(format!("Option<{inner}>")),
        "Ok" => Some(format!("Result<{inner}, E>")),
        _ => None,
    }
}

/// Reports every entry of `untyped`, one error per pattern or loop.
pub fn report(cx: &Ctxt, sig: &Signature, body: &Block, untyped: Vec<Untyped>) {
    if untyped.is_empty() {
        return;
    }
    let mut fresh = Names::of(sig, body);
    let mut f = Finder::default();
    f.visit_block(body);
    // Entries by site, in the order their sites come first.
    let mut groups: Vec<(usize, Vec<Untyped>)> = Vec::new();
    for u in untyped {
        let at = pos(u.span);
        let site = f.sites.iter().position(|s| {
            if u.for_iter {
                s.for_at == Some(at)
            } else {
                s.names.contains(&at)
            }
        });
        // A lone name kept for its `Drop` (`let _g = lock();`) has the
        // message of its own.
        let lone = site.is_some_and(|i| {
            matches!(f.sites[i].kind, Kind::Let { .. })
                && matches!(&f.sites[i].pat, Pat::Ident(pi) if pi.subpat.is_none())
        });
        // A borrow goes with its loop, or with a pattern that binds it by
        // `ref` (whose fix binds it by value); any other has its message.
        let with_site = |i: usize| {
            !u.borrow
                || matches!(f.sites[i].kind, Kind::For { .. })
                || modes(&f.sites[i].pat)
                    .iter()
                    .any(|(n, m)| *n == u.name && m.by_ref)
        };
        match site {
            Some(i) if !(lone && u.drop_only) && with_site(i) => {
                match groups.iter_mut().find(|(s, _)| *s == i) {
                    Some((_, g)) => {
                        if !g.iter().any(|o| o.name == u.name && o.for_iter == u.for_iter) {
                            g.push(u);
                        }
                    }
                    None => groups.push((i, vec![u])),
                }
            }
            _ => cx.error(u.span, &u.fallback),
        }
    }
    for (i, group) in groups {
        report_site(cx, &f.sites, &f.sites[i], &group, &mut fresh);
    }
}

// Input:  `let (a, b) = pair();`, `b` read after the suspension, `a` never read
// Output: "`b` is stored across .. and used after it on line 9, and so is `a`, never read but held for its `Drop` .."
/// The error for one pattern or loop: which of its names the state keeps
/// (those read later, then those held only for their `Drop`) and one fix.
fn report_site(cx: &Ctxt, sites: &[Site], site: &Site, group: &[Untyped], fresh: &mut Names) {
    let named = |drop_only: bool| -> Vec<String> {
        group
            .iter()
            .filter(|u| !u.for_iter && u.drop_only == drop_only)
            .map(|u| u.name.clone())
            .collect()
    };
    let (read, held) = (named(false), named(true));
    let names: Vec<String> = read.iter().chain(&held).cloned().collect();
    let iter = group.iter().any(|u| u.for_iter);
    let first = group
        .iter()
        .find(|u| !u.for_iter && !u.drop_only)
        .or_else(|| group.iter().find(|u| !u.for_iter))
        .unwrap_or(&group[0]);
    let (at, later) = (&first.at, &first.later);
    let is_for = matches!(site.kind, Kind::For { .. });
    // Names bound by `ref`: the fix binds them by value.
    let byref: Vec<String> = if is_for {
        Vec::new()
    } else {
        group
            .iter()
            .filter(|u| u.borrow && !u.for_iter)
            .map(|u| u.name.clone())
            .collect()
    };
    // `let (a) = ..`: the parentheses would be unneeded next to a type
    // (`unused_parens`); an or-pattern's are needed.
    let shown = match &site.pat {
        Pat::Paren(p) if !matches!(*p.pat, Pat::Or(_)) && matches!(site.kind, Kind::Let { .. }) => &*p.pat,
        p => p,
    };
    let pat_text = text_skipping(shown, &unref_skips(shown, &byref));
    let its = if names.len() == 1 {
        "its type"
    } else {
        "their types"
    };
    let is = |n: &[String]| if n.len() == 1 { "is" } else { "are" };
    let (it, their) = if held.len() == 1 {
        ("it", "its")
    } else {
        ("they", "their")
    };
    let head = if read.is_empty() {
        format!(
            "{} {} never read, so {it} {} held for {their} `Drop` to the end of {their} scope, as in Rust, and {} stored across the suspension point {at}; #[io_state_machine] cannot read {its}, which the state enum needs",
            list(&held),
            is(&held),
            is(&held),
            is(&held),
        )
    } else if held.is_empty() {
        format!(
            "{} {} stored across the suspension point {at}{later}, but #[io_state_machine] cannot read {its}, which the state enum needs",
            list(&read),
            is(&read)
        )
    } else {
        let which = if held.len() == 1 { "which is" } else { "which are" };
        format!(
            "{} {} stored across the suspension point {at}{later}, and so {} {}, {which} never read but held for {their} `Drop` to the end of {their} scope, as in Rust; #[io_state_machine] cannot read {its}, which the state enum needs",
            list(&read),
            is(&read),
            is(&held),
            list(&held),
        )
    };
    let head = if byref.is_empty() {
        head
    } else {
        let typeless: Vec<String> = names.iter().filter(|n| !byref.contains(n)).cloned().collect();
        let mut h = format!(
            "{} {} stored across the suspension point {at}{later}, but {} {} bound by `ref`, a borrow, which the state of a machine cannot hold (it has no lifetime)",
            list(&names),
            is(&names),
            list(&byref),
            is(&byref)
        );
        if !typeless.is_empty() {
            h += &format!(
                ", and #[io_state_machine] cannot read the type of {}, which the state enum needs",
                list(&typeless)
            );
        }
        let scrut = match &site.kind {
            Kind::Let { init, .. } => init.as_ref(),
            Kind::IfLet(e) | Kind::WhileLet(e) => Some(e),
            _ => None,
        };
        let ms = modes(&site.pat);
        let writes = byref
            .iter()
            .find(|n| ms.iter().any(|(m, mode)| m == *n && mode.mutable));
        // `ref mut` into a place writes to it: a value bound instead would
        // not, so no rewrite keeps what the pattern does.
        if let Some(n) = writes
            && scrut.is_none_or(is_place)
        {
            let into = scrut.map_or_else(|| "the matched value".to_owned(), |e| format!("`{}`", text(e)));
            cx.spanned(
                &site.pat,
                format!(
                    "{h}; `{n}` borrows {into} mutably (`ref mut`), and a value bound instead would not write back to it, so the macro offers no rewrite: keep which part the pattern names in an owned value (an index, a key) and borrow {into} again after the suspension point"
                ),
            );
            return;
        }
        let (them, it) = if byref.len() == 1 {
            ("it", format!(", `&{}`,", byref[0]))
        } else {
            ("them", String::new())
        };
        h + &format!(
            "; bind {them} by value instead (and borrow {them}{it} where the body needs a reference)"
        )
    };
    match &site.kind {
        Kind::Let { init, has_else } => {
            let init = init.as_ref().map_or_else(|| "..".to_owned(), text);
            let els = if *has_else { " else { .. }" } else { "" };
            let mut holders = Vec::new();
            let typed = matches!(site.pat, Pat::Type(_));
            let fix = if !typed
                && byref.is_empty()
                && matches!(&site.pat, Pat::Ident(pi) if pi.subpat.is_none())
            {
                // A lone name: the message rule 8 has always given.
                cx.error(first.span, &first.fallback);
                return;
            } else if typed {
                format!("write: `let {pat_text} = {init}{els};`")
            } else if let (false, false, Some(skel)) = (typed, *has_else, skeleton(&site.pat, &mut holders)) {
                format!(
                    "write the pattern's type: `let {pat_text}: {skel} = {init};`{}",
                    holders_note(&holders)
                )
            } else if let (false, true, Some(ty)) = (typed, *has_else, variant_type(&site.pat, &mut holders))
            {
                format!(
                    "write the pattern's type: `let {pat_text}: {ty} = {init}{els};`{}{}",
                    holders_note(&holders),
                    if ty.starts_with("Result<") {
                        " and `E` for the error type"
                    } else {
                        ""
                    }
                )
            } else {
                let r = rebind(&site.pat, &names, &byref);
                format!(
                    "this pattern cannot carry the types the macro reads: {} right after it: `let {} = {init}{els}; {}`{}",
                    rebind_them(&names),
                    r.pat,
                    r.lets,
                    rebind_note(&names)
                )
            };
            cx.spanned(&site.pat, format!("{head}; {fix}"));
        }
        Kind::IfLet(e) | Kind::WhileLet(e) => {
            let (kw, word) = if matches!(site.kind, Kind::IfLet(_)) {
                ("an `if let`", "if let")
            } else {
                ("a `while let`", "while let")
            };
            let r = rebind(&site.pat, &names, &byref);
            let this = format!("let {} = {}", r.pat, text(e));
            // In a let chain the other conditions stay in the rewrite.
            let cond = match &site.chain {
                Some((whole, own)) if whole.contains(own.as_str()) => {
                    let head_word = word.trim_end_matches(" let");
                    format!("{head_word} {}", whole.replacen(own.as_str(), &this, 1))
                }
                _ => format!("{word} {} = {}", r.pat, text(e)),
            };
            cx.spanned(
                &site.pat,
                format!(
                    "{head}, and the pattern of {kw} cannot carry a type; {} first thing in its block: `{cond} {{ {} .. }}`{}",
                    rebind_them(&names),
                    r.lets,
                    rebind_note(&names)
                ),
            );
        }
        Kind::Arm => {
            let r = rebind(&site.pat, &names, &byref);
            cx.spanned(
                &site.pat,
                format!(
                    "{head}, and the pattern of a `match` arm cannot carry a type; {} first thing in the arm: `{} => {{ {} .. }}`{}",
                    rebind_them(&names),
                    r.pat,
                    r.lets,
                    rebind_note(&names)
                ),
            );
        }
        Kind::For {
            expr,
            head: loop_head,
            label,
        } => {
            let what = if iter {
                let mut parts = vec!["its iterator".to_owned()];
                parts.extend(names.iter().map(|n| format!("`{n}`")));
                list_plain(&parts)
            } else {
                list(&names)
            };
            let cannot = if iter {
                "the type of its iterator, nor so of its items".to_owned()
            } else {
                its.to_owned()
            };
            if group.iter().any(|u| u.borrow) {
                let who: Vec<String> = group
                    .iter()
                    .filter(|u| u.borrow)
                    .map(|u| {
                        if u.for_iter {
                            "this loop's iterator".to_owned()
                        } else {
                            format!("`{}`", u.name)
                        }
                    })
                    .collect();
                let fix = borrowing_loop_fix(sites, &site.pat, expr, &names, fresh, label);
                cx.spanned(
                    loop_head,
                    format!(
                        "this `for` loop keeps {what} across the suspension point {at}, but {} {} a borrow, which the state of a machine cannot hold (it has no lifetime); {fix}",
                        list_plain(&who),
                        if who.len() == 1 { "holds" } else { "hold" }
                    ),
                );
                return;
            }
            let fix = for_fix(&site.pat, expr, iter, &names, fresh, label);
            cx.spanned(
                loop_head,
                format!(
                    "this `for` loop keeps {what} across the suspension point {at}, but #[io_state_machine] cannot read {cannot}, which the state enum needs; {fix}"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(src: &str) -> Pat {
        let stmt: syn::Stmt = syn::parse_str(&format!("let {src} = x;")).unwrap();
        match stmt {
            syn::Stmt::Local(l) => l.pat,
            _ => unreachable!(),
        }
    }

    #[test]
    fn skeleton_of_nested_tuples_names_each_binding() {
        let mut holders = Vec::new();
        assert_eq!(
            skeleton(&pat("(page_no, (_, mut len))"), &mut holders).as_deref(),
            Some("(PageNo, (_, Len))")
        );
        assert_eq!(holders, ["`PageNo`", "`Len`"]);
        // The macro reads no type through a `&` pattern (`scan::binders`).
        assert_eq!(skeleton(&pat("&(a, _)"), &mut Vec::new()), None);
    }

    #[test]
    fn skeleton_refuses_what_a_tuple_type_cannot_spell() {
        assert_eq!(skeleton(&pat("(a, ..)"), &mut Vec::new()), None);
        assert_eq!(skeleton(&pat("P { a, b }"), &mut Vec::new()), None);
    }

    #[test]
    fn a_let_else_variant_carries_its_type() {
        let mut holders = Vec::new();
        assert_eq!(
            variant_type(&pat("Some((a, b))"), &mut holders).as_deref(),
            Some("Option<(A, B)>")
        );
        assert_eq!(
            variant_type(&pat("Ok(v)"), &mut Vec::new()).as_deref(),
            Some("Result<V, E>")
        );
        assert_eq!(variant_type(&pat("Frame::Data(v)"), &mut Vec::new()), None);
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn no_names() -> Names {
        Names {
            used: BTreeSet::new(),
            params: Vec::new(),
        }
    }

    #[test]
    fn an_index_loop_takes_the_item_as_the_pattern_did() {
        let fix = |p: &str, e: &str| {
            let e: Expr = syn::parse_str(e).unwrap();
            for_fix(&pat(p), &e, true, &names(&["x"]), &mut no_names(), "")
        };
        let by_value = fix("(i, &p)", "pages.iter().enumerate()");
        assert!(
            by_value.contains("for i in 0..n { let p: T = pages[i]; .. }"),
            "{by_value}"
        );
        let by_ref = fix("(i, x)", "v.iter().enumerate()");
        assert!(
            by_ref.contains("for i in 0..n { .. let x: &T = &v[i]; .. }"),
            "{by_ref}"
        );
        let by_mut = fix("x", "v.iter_mut()");
        assert!(
            by_mut.contains("for i in 0..n { .. let x: &mut T = &mut v[i]; .. }"),
            "{by_mut}"
        );
        let cloned = fix("(_, x)", "v.iter().cloned().enumerate()");
        assert!(
            cloned.contains("for i in 0..n { let x: T = v[i].clone(); .. }"),
            "{cloned}"
        );
        let bytes = fix("b", "s.bytes()");
        assert!(bytes.contains("let b: u8 = s.as_bytes()[i];"), "{bytes}");
    }

    #[test]
    fn an_iterator_that_changes_its_items_is_not_read_by_index() {
        let fix = |p: &str, e: &str| {
            let e: Expr = syn::parse_str(e).unwrap();
            for_fix(&pat(p), &e, true, &names(&["x"]), &mut no_names(), "")
        };
        let mapped = fix("x", "v.iter().map(|y| y * 2)");
        assert!(!mapped.contains("v[i]"), "{mapped}");
        assert!(
            mapped.contains("`let items: Vec<T> = v.iter().map(|y| y * 2).collect(); for x in items { .. }`"),
            "{mapped}"
        );
        let chars = fix("c", "s.chars()");
        assert!(
            chars.contains("`let items: Vec<char> = s.chars().collect();"),
            "{chars}"
        );
        let zipped = fix("(x, y)", "a.iter().zip(b.iter())");
        assert!(
            zipped.contains("a.iter().cloned().zip(b.iter().cloned()).collect(); for item in items { let (x, y): (X, Y) = item; .. }"),
            "{zipped}"
        );
        let skipped = fix("x", "a.iter().filter(|x| **x > 1).skip(1)");
        assert!(
            skipped.contains("a.iter().filter(|x| **x > 1).skip(1).cloned().collect()"),
            "{skipped}"
        );
        let written = fix("x", "a.iter_mut().skip(1)");
        assert!(written.contains("offers no rewrite"), "{written}");
        let pairs = fix("(k, v)", "m.iter()");
        assert!(
            pairs.contains("m.iter().map(|(a, b)| (a.clone(), b.clone())).collect()"),
            "{pairs}"
        );
        let counted = fix("(i, (k, v))", "m.iter().skip(1).enumerate()");
        assert!(
            counted.contains("m.iter().skip(1).map(|(a, b)| (a.clone(), b.clone())).enumerate().collect()"),
            "{counted}"
        );
    }

    #[test]
    fn a_bound_is_typed_from_its_expression() {
        let ty = |e: &str| bound_type(&syn::parse_str(e).unwrap());
        assert_eq!(ty("a.len() - 1"), "usize");
        assert_eq!(ty("(a.len())"), "usize");
        assert_eq!(ty("n as u64 + 2"), "u64");
        assert_eq!(ty("a.len() + n"), "T");
    }

    #[test]
    fn names_a_fix_adds_are_fresh() {
        let sig: Signature = syn::parse_str("fn f(end: usize, it: u64, end2: u8)").unwrap();
        let body: Block = syn::parse_str("{ let n = 1; println!(\"{item}\"); }").unwrap();
        let mut fresh = Names::of(&sig, &body);
        assert_eq!(fresh.fresh("end"), "end3");
        assert_eq!(fresh.fresh("it"), "it2");
        assert_eq!(fresh.fresh("n"), "n2");
        assert_eq!(fresh.fresh("item"), "item2");
        assert_eq!(fresh.fresh("start"), "start");
        assert_eq!(fresh.fresh("start"), "start2");
    }

    #[test]
    fn a_rebinding_carries_the_patterns_mut() {
        let r = rebind(&pat("P { mut a, b, mut c }"), &names(&["a", "b"]), &[]);
        assert_eq!(r.pat, "P { a, b, mut c }");
        assert_eq!(r.lets, "let mut a: A = a; let b: B = b;");
        let r = rebind(&pat("(ref a, ref mut b)"), &names(&["a", "b"]), &[]);
        assert_eq!(r.lets, "let a: &A = a; let b: &mut B = b;");
        // Bound by value instead: no `ref` left, the `mut` on the rebinding.
        let r = rebind(
            &pat("(ref a, ref mut b)"),
            &names(&["a", "b"]),
            &names(&["a", "b"]),
        );
        assert_eq!(r.pat, "(a, b)");
        assert_eq!(r.lets, "let a: A = a; let mut b: B = b;");
        let or: Pat =
            syn::parse::Parser::parse_str(Pat::parse_multi, "Some((mut x, 0)) | Some((0, mut x))").unwrap();
        let r = rebind(&or, &names(&["x"]), &[]);
        assert_eq!(r.pat, "Some((x, 0)) | Some((0, x))");
    }

    #[test]
    fn text_keeps_the_spacing_written() {
        assert_eq!(text(&pat("Some(n @ 1..=5)")), "Some(n @ 1..=5)");
        assert_eq!(text(&pat("P { a, b: bb }")), "P { a, b: bb }");
        assert_eq!(text(&pat("(a, .., c)")), "(a, .., c)");
        assert_eq!(
            text(&pat("Q {\n    a: (x, y),\n    ..\n}")),
            "Q { a: (x, y), .. }"
        );
        let e: Expr = syn::parse_str("v.into_iter().map(|y| y + 1)").unwrap();
        assert_eq!(text(&e), "v.into_iter().map(|y| y + 1)");
    }

    #[test]
    fn text_of_tokens_without_places_is_spaced_by_rule() {
        let e: Expr = syn::parse2(quote!(f(a, b))).unwrap();
        assert_eq!(text(&e), "f(a, b)");
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(list(&names(&["a"])), "`a`");
        assert_eq!(list(&names(&["a", "b", "c"])), "`a`, `b` and `c`");
    }
}
