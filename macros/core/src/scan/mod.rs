//! Syntax queries the other stages share: suspension points and where they
//! stand, the free variables of a piece of code (macro token streams and
//! inline format captures included), pattern bindings, divergence.
//!
//! Every visitor here stops at closures, `async` blocks and nested items
//! where the question concerns the machine's own body.
//!
//! This file holds the suspension points and where they stand, divergence,
//! and the text of code for messages; `names` holds the bindings and free
//! variables, `reject` where a suspension point may not stand, and
//! `item_macros` what code must not be written twice.

mod item_macros;
mod names;
mod reject;

pub use item_macros::{FORMAT_MACROS, declares_unique_item, invokes_item_macro_except, is_item_free_macro};
pub use names::{
    Binder, Use, binders, format_captures, free_vars_expr, free_vars_pat_guard, free_vars_stmt,
    names_bound_in, push_names,
};
pub use reject::{CondOf, reject_cond, reject_expr, reject_pat, reject_site_arg, reject_stmt};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;
use syn::{Expr, Macro, Stmt};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SiteKind {
    Yield,
    Call,
}

impl SiteKind {
    pub fn name(self) -> &'static str {
        match self {
            SiteKind::Yield => "yield_io!",
            SiteKind::Call => "call_io!",
        }
    }
}

/// Whether `mac` is `yield_io!` or `call_io!` (by its last path segment, so
/// `ratchet::yield_io!` counts too).
pub fn macro_kind(mac: &Macro) -> Option<SiteKind> {
    let last = mac.path.segments.last()?;
    if last.ident == "yield_io" {
        Some(SiteKind::Yield)
    } else if last.ident == "call_io" {
        Some(SiteKind::Call)
    } else {
        None
    }
}

// Input:  the tokens of `yield_io!(name = ReadHeader, f.pread(0, c)?)`
// Output: `(Some(ReadHeader), f.pread(0, c)?)`; without the prefix, `(None, tokens)`
/// A suspension point's own name, if the user gave one (`name = Ident,`
/// before the awaited expression, which cannot start that way), and the
/// expression.
pub fn site_parts(tokens: &TokenStream) -> (Option<proc_macro2::Ident>, TokenStream) {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    if let [
        TokenTree::Ident(key),
        TokenTree::Punct(eq),
        TokenTree::Ident(name),
        TokenTree::Punct(comma),
        rest @ ..,
    ] = trees.as_slice()
        && key == "name"
        && eq.as_char() == '='
        && comma.as_char() == ','
    {
        return (Some(name.clone()), rest.iter().cloned().collect());
    }
    (None, tokens.clone())
}

pub fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        other => other,
    }
}

/// A suspension point standing as a whole expression, optionally under `?`.
pub struct SiteRef<'a> {
    pub kind: SiteKind,
    pub mac: &'a Macro,
    pub question: Option<&'a syn::token::Question>,
}

pub fn as_site(e: &Expr) -> Option<SiteRef<'_>> {
    match strip(e) {
        Expr::Macro(m) => Some(SiteRef {
            kind: macro_kind(&m.mac)?,
            mac: &m.mac,
            question: None,
        }),
        Expr::Try(t) => match strip(&t.expr) {
            Expr::Macro(m) => Some(SiteRef {
                kind: macro_kind(&m.mac)?,
                mac: &m.mac,
                question: Some(&t.question_token),
            }),
            _ => None,
        },
        _ => None,
    }
}

struct Finder {
    found: bool,
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
    fn visit_macro(&mut self, m: &'ast Macro) {
        if macro_kind(m).is_some() {
            self.found = true;
        }
    }
}

/// Whether `e` holds a suspension point the lowering can reach (not counting
/// closures, `async` blocks, nested items and other macros' arguments, where
/// a suspension is an error).
pub fn expr_suspends(e: &Expr) -> bool {
    let mut f = Finder { found: false };
    f.visit_expr(e);
    f.found
}

/// Whether control never reaches the end of `e` (syntactically certain
/// cases only).
pub fn diverges(e: &Expr) -> bool {
    match strip(e) {
        Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => true,
        Expr::Macro(m) => diverging_macro(&m.mac),
        Expr::Block(b) if b.label.is_none() => b.block.stmts.last().is_some_and(stmt_diverges),
        Expr::If(i) => {
            i.then_branch.stmts.last().is_some_and(stmt_diverges)
                && i.else_branch.as_ref().is_some_and(|(_, e)| diverges(e))
        }
        // No arms: the scrutinee is uninhabited, the `match` has type `!`.
        Expr::Match(m) => m.arms.iter().all(|a| diverges(&a.body)),
        Expr::Loop(l) => !contains_break(&l.body),
        _ => false,
    }
}

pub fn stmt_diverges(s: &Stmt) -> bool {
    match s {
        Stmt::Expr(e, _) => diverges(e),
        Stmt::Macro(m) => diverging_macro(&m.mac),
        _ => false,
    }
}

/// Whether `m` is one of std's macros that never return (`panic!`,
/// `unreachable!`, `todo!`, `unimplemented!`), by its last path segment.
fn diverging_macro(m: &syn::Macro) -> bool {
    m.path.segments.last().is_some_and(|s| {
        matches!(
            s.ident.to_string().as_str(),
            "panic" | "unreachable" | "todo" | "unimplemented"
        )
    })
}

fn contains_break(b: &syn::Block) -> bool {
    struct B(bool);
    impl<'ast> Visit<'ast> for B {
        fn visit_expr_break(&mut self, _: &'ast syn::ExprBreak) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut v = B(false);
    v.visit_block(b);
    v.0
}

// Input:  `yield_io!(\n    self.file.pwrite(pos, buf, Completion::write())?\n)` as written
// Output: `yield_io!(self.file.pwrite(pos, buf, Completion::write())?)`
/// Readable text of a suspension point for `Debug`, diagrams and messages:
/// on one line (the compiler's token printer wraps long calls), elided in
/// the middle past [`TEXT_MAX`] characters.
pub fn source_text(mac: &Macro) -> String {
    one_line(&quote::quote!(#mac).to_string())
}

/// How long a suspension point's text may be before it is elided.
pub const TEXT_MAX: usize = 72;

/// `s` with every run of whitespace one space, elided with `…` in the
/// middle past [`TEXT_MAX`] characters.
pub fn one_line(s: &str) -> String {
    let out = tidy(&s.split_whitespace().collect::<Vec<_>>().join(" "));
    let chars: Vec<char> = out.chars().collect();
    if chars.len() <= TEXT_MAX {
        return out;
    }
    let keep = TEXT_MAX.saturating_sub(1) / 2;
    let head: String = chars.iter().take(keep).collect();
    let tail: String = chars.iter().skip(chars.len() - keep).collect();
    format!("{head}…{tail}")
}

/// `yield_io ! (src . pread (i , c) ?)` -> `yield_io!(src.pread(i, c)?)`.
pub fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.get(i + 1).copied();
            // `&x` but `a && b`.
            let glue_prev = matches!(prev, Some('.' | '(' | '[' | '!' | '&' | ':')) && !out.ends_with("&&");
            let glue_next = matches!(
                next,
                Some('.' | '(' | ')' | '[' | ']' | '!' | '?' | ',' | ':' | ';')
            );
            // Keep `a = b`, `x as y`, and `match x {`.
            // `f(a, (b, c))` keeps the space after the comma.
            let glue_next = glue_next && !(prev == Some(',') && matches!(next, Some('(' | '[')));
            if glue_prev && prev != Some(':') || glue_next && next != Some(':') {
                continue;
            }
            if prev == Some(':') && next == Some(':') || prev == Some(':') && out.ends_with("::") {
                continue;
            }
            if next == Some(':') && chars.get(i + 2) == Some(&':') {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// The paths of the `yield_io!`/`call_io!` invocations in `b`, once each.
pub fn macro_paths(b: &syn::Block) -> Vec<syn::Path> {
    struct P(Vec<syn::Path>);
    impl<'ast> Visit<'ast> for P {
        fn visit_macro(&mut self, m: &'ast Macro) {
            if macro_kind(m).is_some() {
                let text = quote::ToTokens::to_token_stream(&m.path).to_string();
                if !self
                    .0
                    .iter()
                    .any(|p| quote::ToTokens::to_token_stream(p).to_string() == text)
                {
                    self.0.push(m.path.clone());
                }
            }
        }
    }
    let mut p = P(Vec::new());
    p.visit_block(b);
    // Those inside other macros' tokens (refused, but their imports count).
    let mut bare = Vec::new();
    bare_macro_idents(&quote::ToTokens::to_token_stream(b), &mut bare);
    for id in bare {
        if !p
            .0
            .iter()
            .any(|q| q.segments.last().is_some_and(|s| s.ident == id))
        {
            p.0.push(syn::Path::from(id));
        }
    }
    p.0
}

fn bare_macro_idents(ts: &TokenStream, out: &mut Vec<syn::Ident>) {
    let trees: Vec<TokenTree> = ts.clone().into_iter().collect();
    for (i, tt) in trees.iter().enumerate() {
        match tt {
            TokenTree::Ident(id) if id == "yield_io" || id == "call_io" => {
                let bang = matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                let pathed = i > 0 && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == ':');
                if bang && !pathed && !out.iter().any(|o| o == id) {
                    out.push(id.clone());
                }
            }
            TokenTree::Group(g) => bare_macro_idents(&g.stream(), out),
            _ => {}
        }
    }
}

// Input:  `#[io_state_machine(state = s)] fn inner(..) { yield_io!(c)?; .. }` in a body
// Output: `true`
/// Whether an item of a body is a machine of its own (a function under
/// `#[io_state_machine]`, an impl under `#[io_state_machines]`), whose
/// suspension points its own attribute expands.
pub fn is_nested_machine(i: &syn::Item) -> bool {
    let attrs = match i {
        syn::Item::Fn(f) => &f.attrs,
        syn::Item::Impl(im) => &im.attrs,
        _ => return false,
    };
    attrs.iter().any(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "io_state_machine" || s.ident == "io_state_machines")
    })
}

/// Whether `tokens` hold `yield_io!` or `call_io!` anywhere, closures and
/// nested macros included.
pub fn suspension_in_tokens(tokens: &TokenStream) -> bool {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees.iter().enumerate().any(|(i, t)| match t {
        TokenTree::Ident(id) => {
            (id == "yield_io" || id == "call_io")
                && matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!')
        }
        TokenTree::Group(g) => suspension_in_tokens(&g.stream()),
        _ => false,
    })
}

/// `+=`, `-=` and the other compound assignments.
pub fn is_compound_assign(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
}

#[cfg(test)]
mod tests {
    use super::{TEXT_MAX, format_captures, one_line, tidy};

    #[test]
    fn unique_items() {
        use super::declares_unique_item as u;
        let t = |s: &str| s.parse::<proc_macro2::TokenStream>().unwrap();
        assert!(u(&t("{ static ONCE: Once = Once::new(); }")));
        assert!(u(&t("f(format!(\"{}\", { static N: u8 = 0; N }))")));
        assert!(u(&t("impl Tr for u8 {}")));
        assert!(u(&t("#[unsafe(no_mangle)] extern \"C\" fn f() {}")));
        assert!(u(&t("#[export_name = \"f\"] fn f() {}")));
        assert!(u(&t("#[used] static mut X: u8 = 0;")));
        assert!(u(&t("#[unsafe(link_section = \".x\")] fn f() {}")));
        assert!(!u(&t("fn f() -> &'static str { \"\" } let used = 1;")));
        assert!(!u(&t("let s: &'static [u8] = b\"\"; x.used();")));
        assert!(u(&t("#[tracing::instrument] fn helper() {}")));
        assert!(u(&t("#[derive(Debug, pm::Registered)] struct R;")));
        assert!(u(&t("#[derive(serde::Serialize)] struct R;")));
        assert!(!u(&t("#[derive(Debug, Clone, std::hash::Hash)] struct R;")));
        assert!(!u(&t(
            "#[allow(unused_variables)] let x = 1; #![allow(dead_code)] #[cfg(test)] {}"
        )));
        assert!(!u(&t("#[rustfmt::skip] let x = 1; #[inline] fn f() {}")));
        assert!(u(&t("#[cfg_attr(all(), pm::add_static)] fn helper() {}")));
        assert!(u(&t(
            "#[cfg_attr(all(), derive(Debug, pm::Registered))] struct R;"
        )));
        assert!(u(&t(
            "#[cfg_attr(all(), cfg_attr(all(), pm::add_static))] fn helper() {}"
        )));
        assert!(!u(&t(
            "#[cfg_attr(test, derive(Debug), allow(dead_code))] struct R;"
        )));
    }

    #[test]
    fn item_macros_by_path() {
        use super::invokes_item_macro_except as m;
        let t = |s: &str| s.parse::<proc_macro2::TokenStream>().unwrap();
        assert!(!m(
            &t("format!(\"{}\", 1); std::println!(\"x\"); ::core::assert!(true);"),
            &[]
        ));
        assert!(m(&t("defmt::println!(\"x\");"), &[]));
        assert!(m(&t("fakestd::format!(\"x\");"), &[]));
        assert!(m(&t("tracing::info!(\"x\");"), &[]));
        assert!(!m(
            &t("::ratchet::__private::__ratchet_trace_pass!(at, \"x\");"),
            &[]
        ));
        assert!(!m(&t("m1!(3)"), &["m1".to_owned()]));
    }

    #[test]
    fn captures() {
        assert_eq!(
            format_captures(r#""{x} and {y:?} but not {{z}} or {0}""#),
            ["x", "y"]
        );
        assert_eq!(
            format_captures(r#""{w:>width$.prec$} {v:1$}""#),
            ["w", "width", "prec", "v"]
        );
        assert!(format_captures("'c'").is_empty());
    }

    #[test]
    fn tidies_token_text() {
        assert_eq!(
            tidy("yield_io ! (src . pread (i , c) ?)"),
            "yield_io!(src.pread(i, c)?)"
        );
        assert_eq!(
            tidy("call_io ! (self . free_page (dev , i))"),
            "call_io!(self.free_page(dev, i))"
        );
        assert_eq!(tidy("yield_io ! (a :: b (x))"), "yield_io!(a::b(x))");
        assert_eq!(
            tidy("call_io ! (f (a , (b , c) , [d]))"),
            "call_io!(f(a, (b, c), [d]))"
        );
    }

    #[test]
    fn suspension_text_is_one_line_and_elided_when_long() {
        assert_eq!(
            one_line("yield_io !\n(self . file . pwrite (pos , buf ,\n    Completion :: write ()) ?)"),
            "yield_io!(self.file.pwrite(pos, buf, Completion::write())?)"
        );
        let long = one_line(&format!("yield_io ! (f (\n{}))", "argument , ".repeat(20)));
        assert_eq!(long.chars().count(), 2 * ((TEXT_MAX - 1) / 2) + 1);
        assert!(long.starts_with("yield_io!(f(argument, "), "{long}");
        assert!(long.ends_with("argument,))"), "{long}");
        assert!(long.contains('…') && !long.contains('\n'), "{long}");
    }
}
