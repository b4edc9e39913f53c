//! Rule 8's fix for stored locals without a type, in the form of the code
//! that binds them: one error per pattern (or `for` loop), listing every
//! name it binds that the state must keep, with one thing to paste.
//!
//! Input:  `let (a, b) = f();` with `a` and `b` stored across `yield_io!(c)`
//! Output: one error at `(a, b)`: "... write the pattern's type: `let (a, b): (A, B) = f();` ..."
//! Input:  `for i in 0..n.len() { yield_io!(c)?; .. i .. }`
//! Output: one error at the loop's head: "... `let end: usize = n.len(); for i in 0..end { .. }`"

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::visit::Visit;
use syn::{Block, Expr, Pat};

use crate::ctxt::Ctxt;
use crate::scan::one_line;

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
    /// The message `types::check` gives when no binding site is found.
    pub fallback: String,
}

/// Where a pattern binds names.
enum Kind {
    Let { init: Option<Expr>, has_else: bool },
    IfLet(Expr),
    WhileLet(Expr),
    Arm,
    For { expr: Expr, head: TokenStream },
}

struct Site {
    kind: Kind,
    pat: Pat,
    /// The start of every name the pattern binds.
    names: Vec<(usize, usize)>,
    /// The start of the `for` of a loop.
    for_at: Option<(usize, usize)>,
}

fn pos(span: Span) -> (usize, usize) {
    let s = span.start();
    (s.line, s.column)
}

#[derive(Default)]
struct Finder {
    sites: Vec<Site>,
    in_while_cond: bool,
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
        self.visit_expr(&w.cond);
        self.in_while_cond = false;
        self.visit_block(&w.body);
        self.in_while_cond = outer;
    }
    fn visit_expr_if(&mut self, i: &'ast syn::ExprIf) {
        let outer = std::mem::replace(&mut self.in_while_cond, false);
        syn::visit::visit_expr_if(self, i);
        self.in_while_cond = outer;
    }
    fn visit_expr_let(&mut self, l: &'ast syn::ExprLet) {
        let kind = if self.in_while_cond {
            Kind::WhileLet((*l.expr).clone())
        } else {
            Kind::IfLet((*l.expr).clone())
        };
        self.push(kind, &l.pat, None);
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
        };
        self.push(kind, pat, Some(pos(f.for_token.span)));
        syn::visit::visit_expr_for_loop(self, f);
    }
    // Not taken apart: nothing bound there is stored.
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

fn text(t: &impl ToTokens) -> String {
    one_line(&t.to_token_stream().to_string())
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

/// `let a: A = a; let b: B = b;`
fn rebinds(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("let {n}: {} = {n};", crate::model::camel(n)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn rebind_them(names: &[String]) -> &'static str {
    if names.len() == 1 {
        "rebind it with its type"
    } else {
        "rebind them with their types"
    }
}

/// `, where `A` and `B` stand for their types` of [`rebinds`].
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

/// Methods whose iterator borrows the collection: a state cannot keep it.
fn borrowing_iter(e: &Expr) -> Option<&Expr> {
    match crate::scan::strip(e) {
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "iter"
                    | "iter_mut"
                    | "chars"
                    | "bytes"
                    | "char_indices"
                    | "windows"
                    | "chunks"
                    | "keys"
                    | "values"
            ) =>
        {
            Some(&m.receiver)
        }
        Expr::MethodCall(m) => borrowing_iter(&m.receiver),
        Expr::Reference(r) => Some(&r.expr),
        _ => None,
    }
}

fn enumerates(e: &Expr) -> bool {
    match crate::scan::strip(e) {
        Expr::MethodCall(m) => m.method == "enumerate" || enumerates(&m.receiver),
        _ => false,
    }
}

/// A bound the macro reads no type from: not a typed literal.
fn bound_type(e: &Expr) -> &'static str {
    match crate::scan::strip(e) {
        Expr::MethodCall(m) if m.method == "len" || m.method == "count" => "usize",
        _ => "T",
    }
}

fn is_plain_literal(e: &Expr) -> bool {
    matches!(crate::scan::strip(e), Expr::Lit(l) if matches!(&l.lit, syn::Lit::Int(i) if i.suffix().is_empty()))
}

/// The fix for a `for` loop: its iterator (`iter`, when it is stored
/// untyped) and the names its pattern binds (`names`).
fn for_fix(pat: &Pat, expr: &Expr, iter: bool, names: &[String]) -> String {
    let pat_text = text(pat);
    let mut holders = Vec::new();
    let skel = skeleton(pat, &mut holders);
    if let (Expr::Range(r), Pat::Ident(_)) = (crate::scan::strip(expr), pat)
        && let (Some(start), Some(end)) = (&r.start, &r.end)
    {
        let dots = match r.limits {
            syn::RangeLimits::HalfOpen(_) => "..",
            syn::RangeLimits::Closed(_) => "..=",
        };
        let (s, e) = (text(start), text(end));
        return if is_plain_literal(start) {
            format!(
                "bind the bound to a typed local before the loop, from which the macro reads the type of the range and of `{pat_text}`: `let end: {} = {e}; for {pat_text} in {s}{dots}end {{ .. }}`",
                bound_type(end)
            )
        } else {
            format!(
                "bind the start to a typed local before the loop, from which the macro reads the type of the range and of `{pat_text}`: `let start: {} = {s}; for {pat_text} in start{dots}{e} {{ .. }}`",
                bound_type(start)
            )
        };
    }
    if iter && let Some(coll) = borrowing_iter(expr) {
        let coll = text(coll);
        // `&x` of an iterator of references is `x` of an index.
        let item_text = |p: &Pat| match p {
            Pat::Reference(r) => text(&r.pat),
            p => text(p),
        };
        let (index, item) = match pat {
            Pat::Tuple(t) if enumerates(expr) && t.elems.len() == 2 => {
                (text(&t.elems[0]), item_text(&t.elems[1]))
            }
            p => ("i".to_owned(), item_text(p)),
        };
        return format!(
            "its iterator borrows `{coll}`, which the state cannot keep: loop over indexes with a typed bound and take the item after the index: `let n: usize = {coll}.len(); for {index} in 0..n {{ let {item}: T = {coll}[{index}]; .. }}` (`{coll}[{index}].clone()` for an item that is not `Copy`)"
        );
    }
    let e = text(expr);
    match (iter, pat, skel) {
        (true, Pat::Ident(_), _) => format!(
            "bind the iterator to a typed local before the loop, from which the macro reads the type of `{pat_text}`: `let it: Iter = {e}; for {pat_text} in it {{ .. }}`, where `Iter` stands for the iterator's type"
        ),
        (true, _, Some(skel)) => format!(
            "bind the iterator to a typed local before the loop and take each item apart with a typed `let`: `let it: Iter = {e}; for item in it {{ let {pat_text}: {skel} = item; .. }}`, where `Iter` stands for the iterator's type{}",
            and_holders(&holders)
        ),
        (false, _, Some(skel)) => format!(
            "a pattern of a `for` loop cannot carry a type: take each item apart with a typed `let`: `for item in {e} {{ let {pat_text}: {skel} = item; .. }}`{}",
            holders_note(&holders)
        ),
        (true, _, None) => format!(
            "bind the iterator to a typed local before the loop and {} first thing in the body: `let it: Iter = {e}; for {pat_text} in it {{ {} .. }}`, where `Iter` stands for the iterator's type{}",
            rebind_them(names),
            rebinds(names),
            and_holders(
                &names
                    .iter()
                    .map(|n| format!("`{}`", crate::model::camel(n)))
                    .collect::<Vec<_>>()
            )
        ),
        (false, _, None) => format!(
            "a pattern of a `for` loop cannot carry a type: {} first thing in the body: `for {pat_text} in {e} {{ {} .. }}`{}",
            rebind_them(names),
            rebinds(names),
            rebind_note(names)
        ),
    }
}

/// `Some(h)` -> `Option<H>`, `Ok(v)` -> `Result<V, E>`: the type a
/// `let-else` pattern of one variant can carry.
fn variant_type(pat: &Pat, holders: &mut Vec<String>) -> Option<String> {
    let Pat::TupleStruct(ts) = pat else { return None };
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
pub fn report(cx: &Ctxt, body: &Block, untyped: Vec<Untyped>) {
    if untyped.is_empty() {
        return;
    }
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
        match site {
            None => cx.error(u.span, &u.fallback),
            Some(i) => match groups.iter_mut().find(|(s, _)| *s == i) {
                Some((_, g)) => {
                    if !g.iter().any(|o| o.name == u.name && o.for_iter == u.for_iter) {
                        g.push(u);
                    }
                }
                None => groups.push((i, vec![u])),
            },
        }
    }
    for (i, group) in groups {
        let site = &f.sites[i];
        let names: Vec<String> = group
            .iter()
            .filter(|u| !u.for_iter)
            .map(|u| u.name.clone())
            .collect();
        let iter = group.iter().any(|u| u.for_iter);
        let first = group.iter().find(|u| !u.for_iter).unwrap_or(&group[0]);
        let (at, later) = (&first.at, &first.later);
        let pat_text = text(&site.pat);
        let (is, its) = if names.len() == 1 {
            ("is", "its type")
        } else {
            ("are", "their types")
        };
        let head = format!(
            "{} {is} stored across the suspension point {at}{later}, but #[io_state_machine] cannot read {its}, which the state enum needs",
            list(&names)
        );
        match &site.kind {
            Kind::Let { init, has_else } => {
                let init = init.as_ref().map_or_else(|| "..".to_owned(), text);
                let els = if *has_else { " else { .. }" } else { "" };
                let mut holders = Vec::new();
                let typed = matches!(site.pat, Pat::Type(_));
                let fix = if !typed && matches!(site.pat, Pat::Ident(_)) {
                    // A lone name: the message rule 8 has always given.
                    cx.error(first.span, &first.fallback);
                    continue;
                } else if let (false, false, Some(skel)) =
                    (typed, *has_else, skeleton(&site.pat, &mut holders))
                {
                    format!(
                        "write the pattern's type: `let {pat_text}: {skel} = {init};`{}",
                        holders_note(&holders)
                    )
                } else if let (false, true, Some(ty)) =
                    (typed, *has_else, variant_type(&site.pat, &mut holders))
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
                    format!(
                        "this pattern cannot carry the types the macro reads: {} right after it: `let {pat_text} = {init}{els}; {}`{}",
                        rebind_them(&names),
                        rebinds(&names),
                        rebind_note(&names)
                    )
                };
                cx.spanned(&site.pat, format!("{head}; {fix}"));
            }
            Kind::IfLet(e) | Kind::WhileLet(e) => {
                let kw = if matches!(site.kind, Kind::IfLet(_)) {
                    "an `if let`"
                } else {
                    "a `while let`"
                };
                let e = text(e);
                cx.spanned(
                    &site.pat,
                    format!(
                        "{head}, and the pattern of {kw} cannot carry a type; {} first thing in its block: `{} {pat_text} = {e} {{ {} .. }}`{}",
                        rebind_them(&names),
                        kw.trim_start_matches("an ").trim_start_matches("a ").trim_matches('`'),
                        rebinds(&names),
                        rebind_note(&names)
                    ),
                );
            }
            Kind::Arm => {
                cx.spanned(
                    &site.pat,
                    format!(
                        "{head}, and the pattern of a `match` arm cannot carry a type; {} first thing in the arm: `{pat_text} => {{ {} .. }}`{}",
                        rebind_them(&names),
                        rebinds(&names),
                        rebind_note(&names)
                    ),
                );
            }
            Kind::For {
                expr,
                head: loop_head,
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
                let fix = for_fix(&site.pat, expr, iter, &names);
                cx.spanned(
                    loop_head,
                    format!(
                        "this `for` loop keeps {what} across the suspension point {at}, but #[io_state_machine] cannot read {cannot}, which the state enum needs; {fix}"
                    ),
                );
            }
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

    #[test]
    fn an_index_loop_takes_the_item_by_value() {
        let e: Expr = syn::parse_str("pages.iter().enumerate()").unwrap();
        let fix = for_fix(&pat("(i, &p)"), &e, true, &["i".to_owned(), "p".to_owned()]);
        assert!(fix.contains("for i in 0..n { let p: T = pages[i]; .. }"), "{fix}");
        let e: Expr = syn::parse_str("pages.iter()").unwrap();
        let fix = for_fix(&pat("&p"), &e, true, &["p".to_owned()]);
        assert!(fix.contains("let p: T = pages[i];"), "{fix}");
    }

    #[test]
    fn lists_read_as_prose() {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(list(&names(&["a"])), "`a`");
        assert_eq!(list(&names(&["a", "b", "c"])), "`a`, `b` and `c`");
        assert_eq!(rebinds(&names(&["a", "b"])), "let a: A = a; let b: B = b;");
    }
}
