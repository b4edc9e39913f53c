//! Renaming a carried binding inside a statement kept whole.
//!
//! A statement with no suspension point is emitted as the user wrote it. When
//! it reads a carried binding `x`, then hides `x` with a `let` of its own and
//! jumps out of a loop that needs the outer `x`, the outer `x` is moved to its
//! hidden name before the statement (the jump reads it there), so the
//! statement's own reads of the outer `x` must use that name too. This module
//! rewrites them: every reference to `x` that the statement itself does not
//! bind, including in the arguments of macros and in format-string captures
//! (`"{x}"`), becomes the hidden name.
//!
//! Input:  `{ let mut c: Vec<i64> = vec![c, 1]; continue 'l; }`, `c` -> `h`
//! Output: `{ let mut c: Vec<i64> = vec![h, 1]; continue 'l; }`
//!
//! Where a reference cannot be told apart from something else (an argument
//! of a macro that binds names itself, a capture in a macro that is not one
//! of std's formatting macros), it returns `None` and the caller keeps its
//! error.

use proc_macro2::{Group, Ident, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Pat, Stmt};

use crate::cfg::collect_lets;
use crate::scan;

use crate::scan::FORMAT_MACROS;

/// `tokens` (statements) with every free `name` renamed to `to`, or `None`
/// when a reference cannot be renamed with certainty.
pub fn rename_free(tokens: &TokenStream, name: &str, to: &Ident) -> Option<TokenStream> {
    let mut block: syn::Block = syn::parse2(quote!({ #tokens })).ok()?;
    let mut r = Renamer {
        name,
        to,
        bound: Vec::new(),
        failed: false,
    };
    r.visit_block_mut(&mut block);
    if r.failed {
        return None;
    }
    let stmts = &block.stmts;
    Some(quote!(#(#stmts)*))
}

struct Renamer<'a> {
    name: &'a str,
    to: &'a Ident,
    /// Names the statement binds around the point being visited.
    bound: Vec<String>,
    failed: bool,
}

impl Renamer<'_> {
    fn free(&self) -> bool {
        !self.bound.iter().any(|b| b == self.name)
    }

    fn binding(&mut self, pats: &[&Pat], f: impl FnOnce(&mut Self)) {
        let mark = self.bound.len();
        scan::push_names(&mut self.bound, pats);
        f(self);
        self.bound.truncate(mark);
    }

    /// A let chain that binds the name itself (`if let Some(x) = a && x > 0`)
    /// would need the chain's own scoping: refused. (A single `let` binds
    /// nothing its own scrutinee sees.)
    fn refuse_if_binds(&mut self, cond: &Expr, pats: &[Pat]) {
        if matches!(cond, Expr::Let(_)) {
            return;
        }
        for pat in pats {
            let mut bs = Vec::new();
            scan::binders(pat, None, &mut bs);
            if bs.iter().any(|b| b.ident == self.name) {
                self.failed = true;
            }
        }
    }

    fn is_name(&self, e: &Expr) -> bool {
        matches!(e, Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.name))
    }

    /// The tokens of a macro call, renamed; `format` says whether its
    /// string literals are format strings.
    fn macro_tokens(&mut self, tokens: &TokenStream, format: bool) -> TokenStream {
        if !self.free() {
            return tokens.clone();
        }
        let mut captured = false;
        let out = self.tokens(tokens, format, true, false, &mut captured);
        if captured {
            // `"{x}"` cannot name the hidden binding (its span is the
            // macro's): pass it as a named argument instead.
            let name = Ident::new(self.name, proc_macro2::Span::call_site());
            let to = self.to;
            let trailing =
                matches!(out.clone().into_iter().last(), Some(TokenTree::Punct(p)) if p.as_char() == ',');
            if trailing {
                quote!(#out #name = #to)
            } else {
                quote!(#out, #name = #to)
            }
        } else {
            out
        }
    }

    /// `brace`: the tokens are a `{ .. }` group's.
    fn tokens(
        &mut self,
        tokens: &TokenStream,
        format: bool,
        top: bool,
        brace: bool,
        captured: &mut bool,
    ) -> TokenStream {
        let tts: Vec<TokenTree> = tokens.clone().into_iter().collect();
        let punct = |i: usize, c: char| matches!(tts.get(i), Some(TokenTree::Punct(p)) if p.as_char() == c);
        let mut out = Vec::with_capacity(tts.len());
        for (i, tt) in tts.iter().enumerate() {
            match tt {
                TokenTree::Ident(id) if id == self.name => {
                    let after_dot = i > 0 && punct(i - 1, '.') && !(i > 1 && punct(i - 2, '.'));
                    // `a::x`, `x::y`, `x!`: not the binding. After a single
                    // `:` it is a value (`S { v: x }`): renamed.
                    let path = (i > 1 && punct(i - 1, ':') && punct(i - 2, ':'))
                        || (punct(i + 1, ':') && punct(i + 2, ':'))
                        || punct(i + 1, '!');
                    // `name = ..` among a format macro's arguments names
                    // an argument.
                    let named_arg = format && top && punct(i + 1, '=') && !punct(i + 2, '=');
                    // A field name (`S { x: .. }`), or alone between braces
                    // and commas: a field's shorthand (`S { x }`) or a
                    // block's value; neither is certain: refused.
                    let field = punct(i + 1, ':') && !punct(i + 2, ':') && !(i > 0 && punct(i - 1, ':'));
                    let alone =
                        brace && (i == 0 || punct(i - 1, ',')) && (i + 1 == tts.len() || punct(i + 1, ','));
                    if named_arg || field || alone {
                        self.failed = true;
                    }
                    if after_dot || path || named_arg || field {
                        out.push(tt.clone());
                    } else {
                        let mut to = self.to.clone();
                        to.set_span(self.to.span().located_at(id.span()));
                        out.push(TokenTree::Ident(to));
                    }
                }
                TokenTree::Ident(id) if id == "let" || id == "fn" || id == "macro_rules" => {
                    // The macro may bind names of its own.
                    self.failed = true;
                    out.push(tt.clone());
                }
                TokenTree::Punct(p) if p.as_char() == '|' => {
                    self.failed = true;
                    out.push(tt.clone());
                }
                TokenTree::Group(g) => {
                    let brace = g.delimiter() == proc_macro2::Delimiter::Brace;
                    let inner = self.tokens(&g.stream(), false, false, brace, captured);
                    let mut ng = Group::new(g.delimiter(), inner);
                    ng.set_span(g.span());
                    out.push(TokenTree::Group(ng));
                }
                TokenTree::Literal(l) => {
                    if scan::format_captures(&l.to_string())
                        .iter()
                        .any(|c| c == self.name)
                    {
                        if format && top {
                            *captured = true;
                        } else {
                            self.failed = true;
                        }
                    }
                    out.push(tt.clone());
                }
                _ => out.push(tt.clone()),
            }
        }
        out.into_iter().collect()
    }
}

fn macro_name(m: &syn::Macro) -> String {
    m.path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

impl VisitMut for Renamer<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if self.failed {
            return;
        }
        if self.is_name(e) && self.free() {
            let span = match e {
                Expr::Path(p) => p.path.segments[0].ident.span(),
                _ => proc_macro2::Span::call_site(),
            };
            let mut to = self.to.clone();
            to.set_span(self.to.span().located_at(span));
            *e = Expr::Verbatim(to.into_token_stream());
            return;
        }
        match e {
            Expr::Closure(c) => {
                let pats: Vec<Pat> = c.inputs.iter().cloned().collect();
                let pats: Vec<&Pat> = pats.iter().collect();
                self.binding(&pats, |v| v.visit_expr_mut(&mut c.body));
            }
            Expr::If(i) => {
                let mut pats = Vec::new();
                collect_lets(&i.cond, &mut |p| pats.push(p.clone()));
                self.refuse_if_binds(&i.cond, &pats);
                self.visit_expr_mut(&mut i.cond);
                let pats: Vec<&Pat> = pats.iter().collect();
                self.binding(&pats, |v| v.visit_block_mut(&mut i.then_branch));
                if let Some((_, e)) = &mut i.else_branch {
                    self.visit_expr_mut(e);
                }
            }
            Expr::While(w) => {
                let mut pats = Vec::new();
                collect_lets(&w.cond, &mut |p| pats.push(p.clone()));
                self.refuse_if_binds(&w.cond, &pats);
                self.visit_expr_mut(&mut w.cond);
                let pats: Vec<&Pat> = pats.iter().collect();
                self.binding(&pats, |v| v.visit_block_mut(&mut w.body));
            }
            Expr::ForLoop(f) => {
                self.visit_expr_mut(&mut f.expr);
                let pat = (*f.pat).clone();
                self.binding(&[&pat], |v| v.visit_block_mut(&mut f.body));
            }
            Expr::Let(l) => {
                // Its bindings are in scope only where the caller says.
                self.visit_expr_mut(&mut l.expr);
            }
            Expr::Macro(m) => {
                let format = FORMAT_MACROS.contains(&macro_name(&m.mac).as_str());
                m.mac.tokens = self.macro_tokens(&m.mac.tokens, format);
            }
            Expr::Struct(s) => {
                for f in &mut s.fields {
                    if f.colon_token.is_none() && self.is_name(&f.expr) && self.free() {
                        f.colon_token = Some(Default::default());
                    }
                    self.visit_expr_mut(&mut f.expr);
                }
                if let Some(rest) = &mut s.rest {
                    self.visit_expr_mut(rest);
                }
            }
            _ => visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        let mark = self.bound.len();
        for stmt in &mut b.stmts {
            match stmt {
                Stmt::Local(l) => {
                    if let Some(init) = &mut l.init {
                        self.visit_expr_mut(&mut init.expr);
                        if let Some((_, els)) = &mut init.diverge {
                            self.visit_expr_mut(els);
                        }
                    }
                    scan::push_names(&mut self.bound, &[&l.pat]);
                }
                Stmt::Macro(m) => {
                    let format = FORMAT_MACROS.contains(&macro_name(&m.mac).as_str());
                    m.mac.tokens = self.macro_tokens(&m.mac.tokens, format);
                }
                Stmt::Item(_) => {}
                Stmt::Expr(e, _) => self.visit_expr_mut(e),
            }
        }
        self.bound.truncate(mark);
    }

    fn visit_arm_mut(&mut self, a: &mut syn::Arm) {
        let pat = a.pat.clone();
        self.binding(&[&pat], |v| {
            // A guard sees the arm's bindings; the body also sees those of
            // an `if let` guard.
            let mut guard_pats = Vec::new();
            if let Pat::Guard(g) = &mut a.pat {
                collect_lets(&g.guard, &mut |p| guard_pats.push(p.clone()));
                v.refuse_if_binds(&g.guard, &guard_pats);
                v.visit_expr_mut(&mut g.guard);
            }
            let guard_pats: Vec<&Pat> = guard_pats.iter().collect();
            v.binding(&guard_pats, |v| v.visit_expr_mut(&mut a.body));
        });
    }

    fn visit_pat_mut(&mut self, _: &mut Pat) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: &str) -> Option<String> {
        let tokens: TokenStream = code.parse().expect("test code lexes");
        let to = Ident::new("h", proc_macro2::Span::call_site());
        rename_free(&tokens, "x", &to).map(|t| t.to_string().split_whitespace().collect())
    }

    fn norm(code: &str) -> String {
        let tokens: TokenStream = code.parse().expect("test code lexes");
        tokens.to_string().split_whitespace().collect()
    }

    #[test]
    fn free_reads_and_writes_are_renamed_bound_ones_are_not() {
        assert_eq!(
            run("{ x += 1; let y = x.len() + a.x; let x = x + 1; f(x); }"),
            Some(norm("{ h += 1; let y = h.len() + a.x; let x = h + 1; f(x); }"))
        );
        assert_eq!(
            run("if let Some(x) = o { x } else { x };"),
            Some(norm("if let Some(x) = o { x } else { h };"))
        );
        assert_eq!(
            run("let f = |x: u8| x + 1; g(|| x);"),
            Some(norm("let f = |x: u8| x + 1; g(|| h);"))
        );
        assert_eq!(
            run("match v { x if x > 0 => x, y if y > x => x, _ => 0 };"),
            Some(norm("match v { x if x > 0 => x, y if y > h => h, _ => 0 };"))
        );
        assert_eq!(
            run("let s = S { x, y: x };"),
            Some(norm("let s = S { x: h, y: h };"))
        );
        assert_eq!(
            run("match v { _ if let Some(x) = x => x, _ => x };"),
            Some(norm("match v { _ if let Some(x) = h => x, _ => h };"))
        );
    }

    #[test]
    fn macro_arguments_and_format_captures_are_renamed() {
        assert_eq!(run("v.push(vec![x, 1]);"), Some(norm("v.push(vec![h, 1]);")));
        assert_eq!(
            run("t.push(format!(\"{x} {}\", x.len()));"),
            Some(norm("t.push(format!(\"{x} {}\", h.len(), x = h));"))
        );
        assert_eq!(
            run("println!(\"{x:?}\",);"),
            Some(norm("println!(\"{x:?}\", x = h);"))
        );
        assert_eq!(
            run("println!(\"{{x}}\", 1);"),
            Some(norm("println!(\"{{x}}\", 1);"))
        );
        assert_eq!(
            run("println!(\"{:x$}\", 1);"),
            Some(norm("println!(\"{:x$}\", 1, x = h);")),
            "a width argument is a capture too"
        );
    }

    #[test]
    fn uncertain_references_are_refused() {
        assert_eq!(run("my!(\"{x}\");"), None, "a capture in an unknown macro");
        assert_eq!(run("format!(\"{x}\", x = 1);"), None, "a named argument x");
        assert_eq!(run("assert!(matches!(x, 1 | 2));"), None, "a `|` in a macro");
        assert_eq!(run("m!(S { x: 1 });"), None, "a field name in a macro");
        assert_eq!(run("if let Some(x) = o && x > 0 {}"), None, "a chain binding x");
    }
}
