//! Rule 8's fix for stored locals without a type, in the form of the code
//! that binds them: one error per pattern (or `for` loop), listing every
//! name it binds that the state must keep, with one thing to paste.
//!
//! Input:  `let (a, b) = f();` with `a` and `b` stored across `yield_io!(c)`
//! Output: one error at `(a, b)`: "... write the pattern's type: `let (a, b): (A, B) = f();` ..."
//! Input:  `for i in 0..n.len() { yield_io!(c)?; .. i .. }`
//! Output: one error at the loop's head: "... `let end: usize = n.len(); for i in 0..end { .. }`"
//!
//! This file finds where each name is bound, groups the names by pattern or
//! loop and words the error; `patterns` gives the fix for a pattern,
//! `loops` the fix for a `for` loop, `text` the code and lists they quote.

mod loops;
mod patterns;
mod text;

use std::collections::BTreeSet;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::visit::Visit;
use syn::{Block, Expr, Pat, Signature};

use crate::ctxt::Ctxt;
use crate::scan::one_line;
use loops::{borrowing_loop_fix, for_fix, is_place};
use patterns::{modes, rebind, skeleton, unref_skips, variant_type};
use text::{holders_note, list, list_plain, rebind_note, rebind_them, text, text_skipping};

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
    use super::loops::bound_type;
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
