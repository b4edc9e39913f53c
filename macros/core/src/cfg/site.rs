//! Stage 3, suspension points: a `yield_io!` ends its block in a yield, a
//! `call_io!` starts a block of its own. Takes the macro call where it
//! stands; gives a [`Suspension`] and the expression that stands for its
//! result in the rest of the statement.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::visit_mut::VisitMut;
use syn::{Expr, Ident, Type};

use super::Builder;
use super::derive::{primitive, type_borrows};
use super::graph::{BindId, Suspension, Term};
use crate::model::camel;
use crate::scan::{self, SiteKind, SiteRef};

impl Builder<'_> {
    // Input:  `yield_io!(dev.read(p)?)?` at the end of block B
    // Output: B ends in `Yield(dev.read(p)?) -> AfterRead`; returns `__ratchet_r?` for the rest of the statement
    /// A suspension point: ends the block (yield) or starts a call block.
    /// Returns the expression that stands for its value afterwards.
    pub(super) fn lower_site(&mut self, site: &SiteRef<'_>) -> Expr {
        self.ensure_alive();
        let span = site
            .mac
            .path
            .segments
            .last()
            .map_or_else(Span::call_site, |s| s.ident.span());
        let (user_name, arg_tokens) = scan::site_parts(&site.mac.tokens);
        let arg: Expr = match syn::parse2(arg_tokens) {
            Ok(e) => e,
            Err(err) => {
                // An empty argument list has no token to point at: the error
                // would land on the attribute, so point at the macro.
                let at = if site.mac.tokens.is_empty() {
                    span
                } else {
                    err.span()
                };
                self.cx
                    .error(at, format!("`{}` takes one expression: {err}", site.kind.name()));
                Expr::Verbatim(quote!(()))
            }
        };
        scan::reject_site_arg(self.cx, &arg);
        let text = scan::source_text(site.mac);
        let path_text = site.mac.path.to_token_stream().to_string();
        if !self
            .g
            .macro_paths
            .iter()
            .any(|p| p.to_token_stream().to_string() == path_text)
        {
            self.g.macro_paths.push(site.mac.path.clone());
        }
        let uses = scan::free_vars_expr(&arg);
        let name = match &user_name {
            // A raw name (`r#Idle`) is refused by the plan; until then its
            // text must still make identifiers.
            Some(n) => syn::ext::IdentExt::unraw(n).to_string(),
            None => variant_name(site.kind, &arg),
        };
        let mut arg2 = self.in_unsafe(arg.clone());
        let p = self.private.clone();
        let ty = match site.kind {
            SiteKind::Yield => syn::parse2(quote!(#p::Result<i32, #p::CompletionError>)).ok(),
            SiteKind::Call => None,
        };
        match site.kind {
            SiteKind::Yield => {
                let uses = self.resolve(uses);
                let arg_tokens = self.rewrite(&mut arg2, |rw, e| rw.visit_expr_mut(e));
                let cont = self.new_block(&format!("After{name}"));
                let r = self.synth("r", ty);
                let susp = self.g.susps.len();
                self.g.susps.push(Suspension {
                    kind: site.kind,
                    arg: arg_tokens,
                    span,
                    close: site.mac.delimiter.span().close(),
                    text,
                    block: self.cur,
                    result: r,
                    name: name.clone(),
                    user_name: user_name.clone(),
                    scope: self.scope.clone(),
                    key: site_key(site.mac),
                });
                let c = Ident::new("__ratchet_c", Span::mixed_site());
                let value = quote!(#p::yield_result(&#c));
                let j = self.jump(cont, Some((Some(r), value)), true);
                let blk = &mut self.g.blocks[self.cur];
                blk.term_uses.extend(uses);
                blk.term_defs.push(r);
                self.close(Term::Yield { susp, jump: j });
                self.enter(cont);
                self.replacement(r, site)
            }
            SiteKind::Call => {
                let moved = self.moved_into_call(&arg);
                let k = self.new_block(&format!("Call{name}"));
                self.goto(k);
                self.enter(k);
                if !moved.is_empty() {
                    let ids = moved.iter().map(|(b, _)| *b).collect();
                    let idents: Vec<&Ident> = moved.iter().map(|(_, id)| id).collect();
                    let checks = resume_copy_check(&self.private, &idents);
                    self.push_piece(checks, ids, Vec::new());
                }
                let uses = self.resolve(uses);
                let arg_tokens = self.rewrite(&mut arg2, |rw, e| rw.visit_expr_mut(e));
                let r = self.synth("r", ty);
                let susp = self.g.susps.len();
                self.g.susps.push(Suspension {
                    kind: site.kind,
                    arg: arg_tokens,
                    span,
                    close: site.mac.delimiter.span().close(),
                    text,
                    block: k,
                    result: r,
                    name: name.clone(),
                    user_name: user_name.clone(),
                    scope: self.scope.clone(),
                    key: site_key(site.mac),
                });
                let n = proc_macro2::Literal::usize_unsuffixed(susp);
                self.push_piece(quote!(__ratchet_susp!(#n)), uses, vec![r]);
                self.replacement(r, site)
            }
        }
    }

    // Input:  `write_page(Some(page), &buf, n)` with `page`, `buf`, `n` locals
    // Output: `[(page, `page`), (n, `n`)]`
    /// The locals a `call_io!` expression moves
    /// (a bare name as a call argument, a field of a struct literal, an
    /// element of a tuple or array): evaluated again on every resume, it
    /// moves them again, which only a `Copy` value survives (they are
    /// stored: the state keeps them until the call is done).
    fn moved_into_call(&self, arg: &Expr) -> Vec<(BindId, Ident)> {
        struct V<'b, 'c> {
            b: &'b Builder<'c>,
            out: Vec<(BindId, Ident)>,
        }
        impl V<'_, '_> {
            fn operand(&mut self, e: &Expr) {
                let Expr::Path(p) = scan::strip(e) else { return };
                let Some(id) = p.path.get_ident() else { return };
                if p.qself.is_some() {
                    return;
                }
                let name = id.to_string();
                if let Some(&(_, b)) = self.b.scope.iter().rev().find(|(n, _)| *n == name) {
                    let bd = &self.b.g.bindings[b];
                    // A re-created borrow is passed by reborrowing.
                    if bd.reborrow.is_none()
                        && !bd.borrow
                        && !bd.ty.as_ref().is_some_and(|t| type_borrows(t) || primitive(t))
                    {
                        self.out.push((b, id.clone()));
                    }
                }
                // A by-value parameter is passed again by every call, so
                // `return call_io!(f(v))` moves each call's own `v`; moved
                // where the dispatch loop may come back, rustc says so.
            }
        }
        impl<'ast> syn::visit::Visit<'ast> for V<'_, '_> {
            fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
                c.args.iter().for_each(|a| self.operand(a));
                syn::visit::visit_expr_call(self, c);
            }
            fn visit_expr_method_call(&mut self, c: &'ast syn::ExprMethodCall) {
                c.args.iter().for_each(|a| self.operand(a));
                syn::visit::visit_expr_method_call(self, c);
            }
            fn visit_expr_struct(&mut self, s: &'ast syn::ExprStruct) {
                s.fields.iter().for_each(|f| self.operand(&f.expr));
                syn::visit::visit_expr_struct(self, s);
            }
            fn visit_expr_tuple(&mut self, t: &'ast syn::ExprTuple) {
                t.elems.iter().for_each(|e| self.operand(e));
                syn::visit::visit_expr_tuple(self, t);
            }
            fn visit_expr_array(&mut self, a: &'ast syn::ExprArray) {
                a.elems.iter().for_each(|e| self.operand(e));
                syn::visit::visit_expr_array(self, a);
            }
            fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
            fn visit_item(&mut self, _: &'ast syn::Item) {}
        }
        let mut v = V {
            b: self,
            out: Vec::new(),
        };
        syn::visit::Visit::visit_expr(&mut v, arg);
        v.out
    }

    // Input:  the result `r` of `yield_io!(c)?` in a function whose error type is `E`, of `call_io!(f())`
    // Output: `Result::map_err(r, <E as From<CompletionError>>::from)?`, `r`
    fn replacement(&self, r: BindId, site: &SiteRef<'_>) -> Expr {
        // Hygienic as every generated name, but located at the macro call, so
        // that a type error in the code reading the value (expected `()`,
        // found `i32`) points at the user's `yield_io!`, not at the attribute.
        let mut id = self.g.bindings[r].ident.clone();
        id.set_span(id.span().located_at(syn::spanned::Spanned::span(site.mac)));
        let mut e = Self::ident_expr(&id);
        // `yield_io!(c)?` converts the `CompletionError` to the function's
        // error type through the same path as the attribute's check of
        // that type (`emit`'s `error_type_check`), at the same span: a type
        // without `From<CompletionError>` gets rustc's one error there,
        // which rustc does not repeat for every `?`.
        // (`CompletionError` itself converts to itself: left plain.)
        if site.question.is_some()
            && site.kind == SiteKind::Yield
            && let Some(err) = &self.model.err_ty
            && !matches!(err, Type::Path(tp) if tp.path.segments.last().is_some_and(|s| s.ident == "CompletionError" && s.arguments.is_empty()))
        {
            let (p, conv) = (&self.private, crate::tokens::error_conversion(&self.private, err));
            let span = syn::spanned::Spanned::span(err);
            let map_err = crate::tokens::respan(quote!(#p::Result::map_err), span);
            let args = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, quote!(#e, #conv));
            let mut args = proc_macro2::TokenTree::Group(args);
            args.set_span(span);
            if let Ok(mapped) = syn::parse2::<Expr>(quote!(#map_err #args)) {
                e = mapped;
            }
        }
        match site.question {
            Some(q) => Expr::Try(syn::ExprTry {
                attrs: Vec::new(),
                expr: Box::new(e),
                question_token: *q,
            }),
            // A `call_io!`'s value is a value, as the call is, not the
            // place of the binding that holds it: `let _ = call_io!(..);`
            // drops it at once (a callee's guard, say), as Rust does.
            None if site.kind == SiteKind::Call => {
                let p = &self.private;
                let id = crate::tokens::respan(quote!(#p::identity), syn::spanned::Spanned::span(site.mac));
                syn::parse2::<Expr>(quote!(#id(#e))).unwrap_or(e)
            }
            None => e,
        }
    }
}

/// See [`Suspension::key`].
pub fn site_key(mac: &syn::Macro) -> String {
    quote!(#mac).to_string().split_whitespace().collect()
}

// Input:  `page` moved by `call_io!(write_page(Some(page)))`
// Output: a check that `page` is `Copy`, whose failure says why at `page`
/// rustc's own error for a value `call_io!` moves on every resume is a bare
/// "use of moved value" at the attribute (the dispatch loop's); this check
/// fails first, at the user's name, with the reason and the fix (a failed
/// trait bound stops the borrow check of the body, so no second error
/// follows).
fn resume_copy_check(p: &TokenStream, moved: &[&Ident]) -> TokenStream {
    moved
        .iter()
        .map(|id| {
            let sp = id.span();
            let check = quote_spanned!(sp=> moved_on_every_resume);
            quote_spanned!(sp=> #p::#check(&#id);)
        })
        .collect()
}

/// `yield_io!(src.pread(i, c)?)` -> `Pread`; `call_io!(self.free_page(i))` -> `FreePage`.
fn variant_name(kind: SiteKind, arg: &Expr) -> String {
    fn name_of(e: &Expr) -> Option<String> {
        match scan::strip(e) {
            Expr::Try(t) => name_of(&t.expr),
            Expr::MethodCall(m) => {
                let n = m.method.to_string();
                if matches!(n.as_str(), "build" | "clone" | "into" | "unwrap" | "expect") {
                    name_of(&m.receiver).or(Some(n))
                } else {
                    Some(n)
                }
            }
            Expr::Call(c) => match scan::strip(&c.func) {
                Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                _ => None,
            },
            Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            Expr::Field(f) => match &f.member {
                syn::Member::Named(n) => Some(n.to_string()),
                syn::Member::Unnamed(_) => None,
            },
            Expr::Reference(r) => name_of(&r.expr),
            _ => None,
        }
    }
    // `_0` and `self_` would make `0` and `Self`, which are no variant
    // names (attack round 15, F4 and F5).
    let base = name_of(arg)
        .map(|n| camel(&n))
        .filter(|n| n.starts_with(char::is_alphabetic) && n != "Self");
    match (base, kind) {
        (Some(n), _) if n != "Idle" && n != "Start" => n,
        (_, SiteKind::Yield) => "Wait".to_owned(),
        (_, SiteKind::Call) => "Call".to_owned(),
    }
}
