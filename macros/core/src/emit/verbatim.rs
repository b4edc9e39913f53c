//! The verbatim fast path: what a machine runs when it starts from `Idle`.
//! The body as written — Rust's own blocks, `if`/`match`/loops as Rust
//! control flow — with each suspension point replaced in place by: take the
//! completion; finished, go on with its result; otherwise move the locals
//! live there into the state variant the dispatch would build at that point
//! and leave. Resumes use the dispatch arms as before: the state enum, its
//! fields and every resume path are unchanged.
//!
//! Why: with every completion ready, the plain function's scopes are the
//! machine's scopes, so nothing drops earlier (or later) than in Rust
//! (rule 8), whatever the code does with a value (reads it by value,
//! through a method, moves it on one path, assigns it late).
//!
//! Input:  `let g = G::new(1); g.touch(); yield_io!(dev.op())?; let h = G::new(2); Ok(0)`
//! Output: `__RatchetPc::Start {} => { let g = G::new(1); g.touch();
//!          identity(match dev.op() { c => { if must_suspend(&c) { break 'dispatch (S::Op { g, __completion: c.clone() }, io(c)); }
//!          yield_result(&c) } })?; let h = G::new(2); return done(Ok(0)); }`
//!
//! Where a construct cannot be run verbatim, [`Emitter::verbatim_arm`]
//! gives `None` and the machine starts with the dispatch's `Start` arm (the
//! cases are listed at each `fail`).

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Stmt};

use std::collections::BTreeSet;

use super::Emitter;
use crate::cfg::{BindId, ForLowered, Term};
use crate::lower::Plan;
use crate::scan::{self, SiteKind};

/// Why a body takes the dispatch's `Start` arm instead (kept for tests and
/// the expansion's comment).
pub type Why = &'static str;

impl Emitter<'_> {
    // Input:  the body `{ let g = G(1); yield_io!(c)?; Ok(0) }` of a machine
    // Output: `Some(__RatchetPc::Start {} => { let g = G(1); identity(match c { .. })?; return done(Ok(0)); })`
    /// The dispatch arm of the `Start` block run verbatim, or why not.
    pub(super) fn verbatim_arm(&self) -> Result<TokenStream, Why> {
        let g = self.g;
        if g.susps.iter().any(|s| !self.live.reachable[s.block]) {
            // Code after a diverging statement: the graph drops it, Rust
            // keeps it (and would need its states).
            return Err("a suspension point the code never reaches");
        }
        if g.jumps.iter().any(|j| j.target == 0) {
            return Err("a jump back to the start");
        }
        if !self.held.borrow()[0].is_empty() {
            return Err("a value held at the start");
        }
        // Issue 13 item 6: code the resumes also run exists twice; a macro
        // whose expansion cannot be seen may hold a per-call-site `static`.
        let resumed = self.resumed_blocks();
        let mut known = itemless_body_macros(&self.model.input.block);
        // A `macro_rules!` defined in code that exists twice defines a
        // macro local to each copy: no item of its own.
        known.push("macro_rules".to_owned());
        // Items the dispatch does not hoist (those in code it keeps whole:
        // a nested block, an arm, a loop body without a suspension point, a
        // nested `fn`) would be written in the start and again in a
        // resume's arm; the dispatch then copies no such code either.
        if resumed
            .iter()
            .enumerate()
            .any(|(b, &r)| r && g.block_has_item_macro_except(b, &known))
        {
            return Err("code a resume runs that may declare an item that must exist once");
        }
        let unit = matches!(self.model.ok_type(), Some(syn::Type::Tuple(t)) if t.elems.is_empty());
        let body = &self.model.input.block;
        let ends_with_stmt = match body.stmts.last() {
            Some(Stmt::Expr(_, semi)) => semi.is_some(),
            Some(Stmt::Macro(m)) => m.semi_token.is_some(),
            _ => true,
        };
        if self.model.ok_type().is_some() && !unit && ends_with_stmt {
            // The dispatch checks that such a body diverges (`diverging_last`).
            return Err("a body with a value that ends with a statement");
        }
        let mut v = Walker {
            e: self,
            next_susp: 0,
            next_for: 0,
            fail: None,
            to_rename: self.hidden_stored(),
            renamed: BTreeSet::new(),
        };
        let mut block = body.clone();
        strip_items(&mut block.stmts);
        // A `mut` parameter (a local the start block is entered with)
        // hidden by a later `let` of its name: the arm binds it by its
        // hidden name, and the body reads it by that name.
        let mut param_renamed = BTreeSet::new();
        for &b in &v.to_rename {
            let binding = &g.bindings[b];
            if !binding.param || !self.live.live_in[0].contains(&b) {
                continue;
            }
            let h = Plan::hidden_ident(g, b);
            let stmts = &block.stmts;
            let renamed = crate::rename::rename_free(&quote!(#(#stmts)*), &binding.ident.to_string(), &h)
                .and_then(|t| syn::parse2::<syn::Block>(quote!({ #t })).ok());
            match renamed {
                Some(b2) => block.stmts = b2.stmts,
                None => {
                    return Err(
                        "a stored parameter hidden by a local of its name, read where it cannot be renamed",
                    );
                }
            }
            param_renamed.insert(b);
        }
        v.renamed.extend(param_renamed.iter().copied());
        v.rename_hidden(&mut block.stmts);
        let tail = match block.stmts.last() {
            Some(Stmt::Expr(_, None)) => match block.stmts.pop() {
                Some(Stmt::Expr(e, None)) => Some(e),
                _ => None,
            },
            Some(Stmt::Macro(m)) if m.semi_token.is_none() => match block.stmts.pop() {
                Some(Stmt::Macro(m)) => Some(Expr::Macro(syn::ExprMacro {
                    attrs: m.attrs,
                    mac: m.mac,
                })),
                _ => None,
            },
            _ => None,
        };
        for s in &mut block.stmts {
            v.visit_stmt_mut(s);
        }
        let p = &self.p;
        let tail = tail.map(|mut t| {
            v.visit_expr_mut(&mut t);
            t
        });
        if let Some(why) = v.fail {
            return Err(why);
        }
        if v.next_susp != g.susps.len() || v.next_for != g.fors.len() {
            return Err("suspension points the graph counts differently");
        }
        // The arm's block is the body's own (its braces' span): a tail's
        // temporaries then drop before or after the locals as the plain
        // function's do, by the body's edition (after them in 2021, before
        // them in 2024), and `return` carries the value out from the tail.
        let mut code = block.clone();
        let done = match tail {
            Some(t) => {
                let span = syn::spanned::Spanned::span(&t);
                self.model.done(&t.to_token_stream(), span)
            }
            None => self.model.done(&quote!(#p::Ok(())), Span::call_site()),
        };
        code.stmts
            .push(Stmt::Expr(Expr::Verbatim(quote!(return #done)), None));
        let pce = &self.pc_enum;
        let start = &self.plan.block_variants[0];
        let mut pats = self.arm_pats(0);
        if !param_renamed.is_empty() {
            // The same patterns, in the same order, with the renamed ones
            // bound by their hidden name.
            let mut order: Vec<BindId> = self.live.live_in[0].iter().copied().collect();
            order.sort_unstable();
            for (pat, &x) in pats.iter_mut().zip(&order) {
                if param_renamed.contains(&x) {
                    let (f, h) = (self.field(x), Plan::hidden_ident(g, x));
                    let m = g.bindings[x].mutable.then(|| quote!(mut));
                    *pat = quote!(#f: #m #h);
                }
            }
        }
        let allow = self.arm_mut.get().then(|| quote!(#[allow(unused_mut)]));
        // `unreachable_code`: the `return` after a body that diverges.
        // Clippy: the body's constructs that hold a suspension point were
        // never seen whole while the dispatch took them apart, and code
        // written for the attribute trips lints there (`while_let_loop` on
        // a `loop` that takes a typed value out of a `match`, which is how a
        // stored binding gets its type; `needless_late_init` on `let x;`
        // before a suspension point, `never_loop`, ..). The code after the
        // first suspension point is linted in its resume arms as before.
        Ok(quote! {
            #allow
            #[allow(unreachable_code, clippy::all, clippy::pedantic, clippy::nursery, clippy::restriction)]
            #pce::#start { #(#pats),* } => #code
        })
    }

    /// The stored bindings that some suspension point stores where another
    /// binding of their name hides them.
    fn hidden_stored(&self) -> BTreeSet<BindId> {
        let mut out = BTreeSet::new();
        for (k, s) in self.g.susps.iter().enumerate() {
            let Some(st) = self.stored.get(k) else { continue };
            for &b in &st.fields {
                let name = self.g.bindings[b].ident.to_string();
                let seen = s.scope.iter().rev().find(|(n, _)| *n == name).map(|&(_, x)| x);
                if seen != Some(b) {
                    out.insert(b);
                }
            }
        }
        out
    }

    /// Per block: whether a resume can reach its code (the dispatch arms
    /// that remain beside the verbatim start).
    pub(super) fn resumed_blocks(&self) -> Vec<bool> {
        let g = self.g;
        let mut seen = vec![false; g.blocks.len()];
        let mut todo: Vec<usize> = g
            .susps
            .iter()
            .enumerate()
            .filter(|(_, s)| self.live.reachable[s.block])
            .filter_map(|(i, _)| self.stored.get(i).map(|st| st.resume))
            .collect();
        while let Some(b) = todo.pop() {
            if b >= seen.len() || seen[b] {
                continue;
            }
            seen[b] = true;
            for &j in &g.blocks[b].jumps {
                todo.push(g.jumps[j].target);
            }
            if let Term::Yield { jump, .. } = &g.blocks[b].term {
                todo.push(g.jumps[*jump].target);
            }
        }
        seen
    }

    // Input:  suspension `k`, `yield_io!(dev.op(&a))` storing `a`
    // Output: `identity(match dev.op(&a) { c => { let c: Completion = c; if must_suspend(&c) { break 'd (S::Op { a, __completion: c.clone() }, io(c)); } yield_result(&c) } })`
    /// One suspension point in place; `arg` is its expression, already
    /// made verbatim (its `return`s).
    fn verbatim_site(
        &self,
        k: usize,
        kind: SiteKind,
        arg: &Expr,
        question: bool,
        renamed: &BTreeSet<BindId>,
    ) -> Result<TokenStream, Why> {
        let p = &self.p;
        let s = &self.g.susps[k];
        let st = &self.stored[k];
        let mut fields = Vec::new();
        for &b in &st.fields {
            let binding = &self.g.bindings[b];
            let name = binding.ident.to_string();
            let f = self.field(b);
            if renamed.contains(&b) {
                let h = Plan::hidden_ident(self.g, b);
                fields.push(quote!(#f: #h));
                continue;
            }
            let seen = s.scope.iter().rev().find(|(n, _)| *n == name).map(|&(_, x)| x);
            if seen != Some(b) {
                // A shadowed binding whose `let` could not be renamed.
                return Err("a stored local hidden by another of its name");
            }
            let id = &binding.ident;
            fields.push(if f == id { quote!(#f) } else { quote!(#f: #id) });
        }
        let name = &self.model.enum_name;
        let v = &self.plan.state_variants[k];
        let vname = v.to_string();
        let from = crate::model::trace_at();
        let l = self.suspend_label().clone();
        let c = &self.c;
        // The expression stays the scrutinee of a `match`: its temporaries
        // live to the end of the enclosing statement, as around the plain
        // function's call. Where they might borrow a stored local (the
        // expression names one), it is a `let` of its own instead, so that
        // moving the local into the state compiles.
        let names_stored = {
            let mut idents = std::collections::BTreeSet::new();
            super::collect_idents(&arg.to_token_stream(), &mut idents);
            st.fields
                .iter()
                .any(|&b| idents.contains(&self.g.bindings[b].ident.to_string()))
        };
        let arg_span = syn::spanned::Spanned::span(arg);
        let code = match kind {
            SiteKind::Yield => {
                let ty = quote_spanned!(arg_span=> #p::Completion);
                let cf = &self.plan.completion;
                let inner = quote! {
                    if #p::must_suspend(&#c) {
                        #p::__ratchet_trace_suspend!(#from, #vname, &#c);
                        break #l (#name::#v { #(#fields,)* #cf: #p::Clone::clone(&#c) }, #p::io(#c));
                    }
                    #p::__ratchet_trace_pass!(#from, #vname);
                    #p::yield_result(&#c)
                };
                if names_stored {
                    let decl = quote_spanned!(s.span=> let #c: #ty = #arg;);
                    quote!({ #decl #inner })
                } else {
                    // Typed at the expression: one of another type gets
                    // rustc's "expected `Completion`" there.
                    let mut at_arg = c.clone();
                    at_arg.set_span(c.span().located_at(arg_span));
                    let decl = quote_spanned!(s.span=> let #c: #ty = #at_arg;);
                    quote!(match #arg { #c => { #decl #inner } })
                }
            }
            SiteKind::Call => {
                let done = Ident::new("__ratchet_done", Span::mixed_site());
                let io = Ident::new("__ratchet_io", Span::mixed_site());
                let call = Ident::new("__ratchet_call", Span::mixed_site());
                let arms = quote! {
                    #p::ControlFlow::Continue(#done) => {
                        #p::__ratchet_trace_pass!(#from, #vname);
                        #done
                    }
                    #p::ControlFlow::Break(#io) => {
                        #p::__ratchet_trace_suspend!(#from, #vname, #io.completion());
                        break #l (#name::#v { #(#fields),* }, #io);
                    }
                };
                if names_stored {
                    let decl = quote_spanned!(s.span=> let #call = #arg;);
                    quote!({ #decl match #p::call_step(#call) { #arms } })
                } else {
                    let step = quote_spanned!(s.span=> #p::call_step(#arg));
                    quote_spanned!(s.span=> match #step { #arms })
                }
            }
        };
        // A call around it: a `match` at the start of a statement would
        // end the statement before a following `?`. Located at the macro,
        // so that a type error in the code reading the value points at the
        // user's `yield_io!`.
        if question
            && kind == SiteKind::Yield
            && let Some(err) = &self.model.err_ty
            && !matches!(err, syn::Type::Path(tp) if tp.path.segments.last().is_some_and(|s| s.ident == "CompletionError" && s.arguments.is_empty()))
        {
            // `yield_io!(c)?` converts the `CompletionError` through the
            // attribute's check of the error type, at its span: a type
            // without `From<CompletionError>` gets one error there (as
            // `cfg::Builder::replacement` does for the dispatch).
            let conv = super::error_conversion(p, err);
            let span = syn::spanned::Spanned::span(err);
            let map_err = super::respan(quote!(#p::Result::map_err), span);
            let mut args = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, quote!(#code, #conv));
            args.set_span(span);
            return Ok(quote!(#map_err #args));
        }
        let span = s.span;
        Ok(quote_spanned!(span=> ::core::convert::identity(#code)))
    }
}

// Input:  `macro_rules! m1 { ($e:expr) => { i64::wrapping_sub($e, 1) }; }` in the body
// Output: `["m1"]`
/// The `macro_rules!` declared in the body whose rules write no item (no
/// `static`, `impl` or fixed symbol, no `thread_local!` or `macro_rules!`,
/// nor a macro that may write one): code invoking them may exist twice, in
/// the verbatim start and in a resume's arm, without a per-call-site
/// `static` existing twice.
fn itemless_body_macros(body: &syn::Block) -> Vec<String> {
    struct V(Vec<(String, TokenStream)>);
    impl<'ast> syn::visit::Visit<'ast> for V {
        fn visit_item_macro(&mut self, m: &'ast syn::ItemMacro) {
            if m.mac.path.is_ident("macro_rules")
                && let Some(id) = &m.ident
            {
                self.0.push((id.to_string(), m.mac.tokens.clone()));
            }
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    fn writes_static(ts: &TokenStream) -> bool {
        scan::declares_unique_item(ts)
            || ts.clone().into_iter().any(|t| match t {
                proc_macro2::TokenTree::Ident(i) => i == "thread_local",
                proc_macro2::TokenTree::Group(g) => writes_static(&g.stream()),
                _ => false,
            })
    }
    let mut v = V(Vec::new());
    syn::visit::Visit::visit_block(&mut v, body);
    let names: Vec<String> = v.0.iter().map(|(n, _)| n.clone()).collect();
    // Two definitions of one name: which one a call means depends on
    // where it stands; neither is trusted.
    v.0.iter()
        .filter(|(n, _)| names.iter().filter(|m| *m == n).count() == 1)
        .filter(|(n, ts)| {
            let others: Vec<String> = names.iter().filter(|m| *m != n).cloned().collect();
            !writes_static(ts) && !scan::invokes_item_macro_except(ts, &others)
        })
        .map(|(n, _)| n.clone())
        .collect()
}

/// Removes the items of a block taken apart: the dispatch declares them
/// once at the top of the function (see `Graph::items`), where the verbatim
/// code sees them too.
fn strip_items(stmts: &mut Vec<Stmt>) {
    stmts.retain(|s| !matches!(s, Stmt::Item(_)));
}

struct Walker<'e, 'a> {
    e: &'e Emitter<'a>,
    next_susp: usize,
    next_for: usize,
    fail: Option<Why>,
    /// Stored bindings hidden by another of their name where a suspension
    /// point stores them: their `let` binds a hidden name instead.
    to_rename: BTreeSet<BindId>,
    /// Those whose `let` has been renamed so far.
    renamed: BTreeSet<BindId>,
}

impl Walker<'_, '_> {
    // Input:  `let _g: G; _g = G(1); yield_io!(c)?; let _g: G = G(3); ..` with the first `_g` stored hidden
    // Output: `let h: G; h = G(1); yield_io!(c)?; let _g: G = G(3); ..` (`h` its hidden name)
    /// Renames the `let`s of `stmts` that declare a binding of
    /// `to_rename`, and what reads it after them: in its own scope it
    /// lives and drops where Rust keeps it, and a suspension point where
    /// another binding hides its name can still move it into the state.
    fn rename_hidden(&mut self, stmts: &mut Vec<Stmt>) {
        if self.to_rename.is_empty() {
            return;
        }
        let mut i = 0;
        while i < stmts.len() {
            let Some(b) = self.declares_hidden(&stmts[i]) else {
                i += 1;
                continue;
            };
            let g = self.e.g;
            let h = Plan::hidden_ident(g, b);
            let name = g.bindings[b].ident.to_string();
            if let Stmt::Local(l) = &mut stmts[i] {
                rename_pat(&mut l.pat, &h);
            }
            let rest: Vec<Stmt> = stmts.drain(i + 1..).collect();
            let tokens = quote!(#(#rest)*);
            let renamed = crate::rename::rename_free(&tokens, &name, &h)
                .and_then(|t| syn::parse2::<syn::Block>(quote!({ #t })).ok());
            match renamed {
                Some(block) => {
                    stmts.extend(block.stmts);
                    self.renamed.insert(b);
                }
                None => {
                    stmts.extend(rest);
                    self.fail =
                        Some("a stored local hidden by another of its name, read where it cannot be renamed");
                    return;
                }
            }
            i += 1;
        }
    }

    /// The binding of `to_rename` a `let x = ..;` declares (by the span of
    /// its name, which must be the only one of that name and place).
    fn declares_hidden(&self, s: &Stmt) -> Option<BindId> {
        let Stmt::Local(l) = s else { return None };
        let id = match &l.pat {
            syn::Pat::Ident(pi) => &pi.ident,
            syn::Pat::Type(pt) => match &*pt.pat {
                syn::Pat::Ident(pi) => &pi.ident,
                _ => return None,
            },
            _ => return None,
        };
        let at = format!("{:?}", id.span());
        let g = self.e.g;
        let mut found = self
            .to_rename
            .iter()
            .copied()
            .filter(|&b| g.bindings[b].ident == *id && format!("{:?}", g.bindings[b].decl_span) == at);
        let b = found.next()?;
        let same_place = g
            .bindings
            .iter()
            .filter(|x| x.ident == *id && format!("{:?}", x.decl_span) == at)
            .count();
        (found.next().is_none() && same_place == 1).then_some(b)
    }

    // Input:  `yield_io!(name = Op, dev.op())` (the `k`-th suspension)
    // Output: its verbatim code (see `verbatim_site`)
    fn site(&mut self, mac: &syn::Macro, kind: SiteKind, question: bool) -> Option<Expr> {
        let k = self.next_susp;
        self.next_susp += 1;
        let g = self.e.g;
        let Some(s) = g.susps.get(k) else {
            self.fail = Some("suspension points the graph counts differently");
            return None;
        };
        // The same text, but for spacing (a reparsed `-1` prints `- 1`)
        // and the hidden names of renamed bindings.
        let mut text = crate::cfg::site_key(mac);
        for &b in &self.renamed {
            let h = Plan::hidden_ident(g, b).to_string();
            text = text.replace(&h, &g.bindings[b].ident.to_string());
        }
        if s.kind != kind || s.key != text {
            self.fail = Some("suspension points the graph orders differently");
            return None;
        }
        let (_, tokens) = scan::site_parts(&mac.tokens);
        let Ok(mut arg) = syn::parse2::<Expr>(tokens) else {
            self.fail = Some("a suspension point's argument that does not parse");
            return None;
        };
        self.visit_expr_mut(&mut arg);
        match self.e.verbatim_site(k, kind, &arg, question, &self.renamed) {
            Ok(code) => Some(Expr::Verbatim(code)),
            Err(why) => {
                self.fail = Some(why);
                None
            }
        }
    }

    // Input:  `'l: for x in xs { BODY }` taken apart as `ForLowered::Iter { it }`
    // Output: `match IntoIterator::into_iter(xs) { mut it => 'l: loop { let n = match Iterator::next(&mut it) { Some(n) => n, None => break }; let x = n; BODY } }`
    /// A `for` loop holding a suspension point as the `loop` Rust's own
    /// desugaring writes, with the iterator (or a range's cursor and bound)
    /// in the bindings the states store.
    fn for_loop(&mut self, f: &mut syn::ExprForLoop) -> Option<Expr> {
        let k = self.next_for;
        self.next_for += 1;
        let Some(lowered) = self.e.g.fors.get(k) else {
            self.fail = Some("`for` loops the graph counts differently");
            return None;
        };
        let p = &self.e.p;
        let label = &f.label;
        let attrs = &f.attrs;
        match lowered {
            ForLowered::Iter { it, pat: ids } => {
                // A binding of the pattern hidden by a `let` of its name in
                // the body, where a suspension point stores it: bound, and
                // read by the body, under its hidden name.
                for &b in ids.iter().filter(|b| self.to_rename.contains(b)) {
                    let g = self.e.g;
                    let h = Plan::hidden_ident(g, b);
                    let name = g.bindings[b].ident.to_string();
                    let body = &f.body;
                    let renamed = crate::rename::rename_free(&quote!(#body), &name, &h)
                        .and_then(|t| syn::parse2::<syn::Block>(t).ok());
                    let Some(body) = renamed else {
                        self.fail = Some(
                            "a `for` binding hidden by a local of its name, read where it cannot be renamed",
                        );
                        return None;
                    };
                    if !rename_pat_binding(&mut f.pat, &name, &h) {
                        self.fail = Some(
                            "a `for` binding hidden by a local of its name in a pattern it cannot rename",
                        );
                        return None;
                    }
                    f.body = body;
                    self.renamed.insert(b);
                }
                self.visit_expr_mut(&mut f.expr);
                self.visit_block_mut(&mut f.body);
                let (expr, pat, body) = (&f.expr, &f.pat, &f.body);
                let next = Ident::new("__ratchet_next", Span::mixed_site());
                Some(Expr::Verbatim(quote! {
                    #(#attrs)*
                    match #p::IntoIterator::into_iter(#expr) {
                        mut #it => #label loop {
                            let #next = match #p::Iterator::next(&mut #it) {
                                #p::Some(#next) => #next,
                                #p::None => break,
                            };
                            let #pat = #next;
                            #body
                        },
                    }
                }))
            }
            ForLowered::Range {
                i,
                cursor: ib,
                elem,
                start,
                end,
            } => {
                let syn::Expr::Range(r) = scan::strip(&f.expr) else {
                    self.fail = Some("a `for` range the graph reads differently");
                    return None;
                };
                let (Some(mut a), Some(mut b)) = (r.start.clone(), r.end.clone()) else {
                    self.fail = Some("a `for` range the graph reads differently");
                    return None;
                };
                self.visit_expr_mut(&mut a);
                self.visit_expr_mut(&mut b);
                // The cursor hidden by a `let` of its name deeper in the
                // body, where a suspension point stores it: bound, and read
                // by the body, under its hidden name.
                let mut i = i.clone();
                if self.to_rename.contains(ib) {
                    let h = Plan::hidden_ident(self.e.g, *ib);
                    let body = &f.body;
                    let renamed = crate::rename::rename_free(&quote!(#body), &i.to_string(), &h)
                        .and_then(|t| syn::parse2::<syn::Block>(t).ok());
                    let Some(body) = renamed else {
                        self.fail = Some(
                            "a `for` cursor hidden by a local of its name, read where it cannot be renamed",
                        );
                        return None;
                    };
                    f.body = body;
                    self.renamed.insert(*ib);
                    i = h;
                }
                self.visit_block_mut(&mut f.body);
                let (a, b) = (strip_parens(&a), strip_parens(&b));
                let body = &f.body;
                let cursor = Ident::new("__ratchet_cursor", Span::mixed_site());
                // The bounds in the order the dispatch evaluates them.
                let bounds = match start {
                    Some(s) => quote!(let #s: #elem = #a; let #end: #elem = #b; let mut #cursor: #elem = #s;),
                    None => quote!(let #end: #elem = #b; let mut #cursor: #elem = #a;),
                };
                // `cursor < end` before `cursor += 1`: the increment cannot
                // overflow. The body's `continue` comes back to the test.
                Some(Expr::Verbatim(quote! {
                    #(#attrs)*
                    {
                        #bounds
                        #label loop {
                            if #cursor < #end {} else { break; }
                            let #i: #elem = #cursor;
                            #cursor += 1;
                            #body
                        }
                    }
                }))
            }
        }
    }
}

fn strip_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip_parens(&p.expr),
        other => other,
    }
}

impl VisitMut for Walker<'_, '_> {
    fn visit_expr_mut(&mut self, ex: &mut Expr) {
        if self.fail.is_some() {
            return;
        }
        match ex {
            // Their `return`s are their own; a suspension in them is refused.
            Expr::Closure(_) | Expr::Async(_) => {}
            Expr::Return(r) => {
                if let Some(v) = &mut r.expr {
                    self.visit_expr_mut(v);
                    let span = syn::spanned::Spanned::span(&**v);
                    let done = self.e.model.done(&v.to_token_stream(), span);
                    **v = Expr::Verbatim(done);
                }
            }
            Expr::Macro(m) => {
                if let Some(kind) = scan::macro_kind(&m.mac) {
                    let mac = m.mac.clone();
                    if let Some(new) = self.site(&mac, kind, false) {
                        *ex = new;
                    }
                }
            }
            Expr::Try(t) if matches!(scan::strip(&t.expr), Expr::Macro(m) if scan::macro_kind(&m.mac).is_some()) => {
                if let Expr::Macro(m) = scan::strip(&t.expr)
                    && let Some(kind) = scan::macro_kind(&m.mac)
                {
                    let mac = m.mac.clone();
                    if let Some(new) = self.site(&mac, kind, true) {
                        *t.expr = new;
                    }
                }
            }
            // `x += call_io!(..)?`: Rust takes the place first for a type
            // that is not a primitive, which would borrow `x` while the
            // suspension moves it into the state. The place has no side
            // effects (the lowering asks for that), so the right side may
            // run first, as the dispatch runs it.
            Expr::Binary(b) if scan::is_compound_assign(&b.op) && scan::as_site(&b.right).is_some() => {
                self.visit_expr_mut(&mut b.right);
                self.visit_expr_mut(&mut b.left);
                let rhs = Ident::new("__ratchet_rhs", Span::mixed_site());
                let (left, op, right) = (&b.left, &b.op, &b.right);
                *ex = Expr::Verbatim(quote!({ let #rhs = #right; #left #op #rhs }));
            }
            Expr::ForLoop(f) if scan::expr_suspends(&Expr::ForLoop(f.clone())) => {
                if let Some(new) = self.for_loop(f) {
                    *ex = new;
                }
            }
            // A `while` whose condition suspends: the dispatch takes its
            // body apart (and hoists its items) even when the body itself
            // does not suspend.
            Expr::While(w) if scan::expr_suspends(&w.cond) => {
                strip_items(&mut w.body.stmts);
                visit_mut::visit_expr_mut(self, ex);
            }
            Expr::Block(b) if scan::expr_suspends(&Expr::Block(b.clone())) => {
                strip_items(&mut b.block.stmts);
                visit_mut::visit_expr_mut(self, ex);
            }
            _ => visit_mut::visit_expr_mut(self, ex),
        }
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        if b.stmts.iter().any(stmt_suspends) {
            strip_items(&mut b.stmts);
        }
        self.rename_hidden(&mut b.stmts);
        visit_mut::visit_block_mut(self, b);
    }

    fn visit_stmt_mut(&mut self, s: &mut Stmt) {
        if self.fail.is_some() {
            return;
        }
        if let Stmt::Macro(m) = s
            && let Some(kind) = scan::macro_kind(&m.mac)
        {
            let mac = m.mac.clone();
            let semi = m.semi_token;
            let attrs = std::mem::take(&mut m.attrs);
            if let Some(new) = self.site(&mac, kind, false) {
                // A statement `yield_io!(c);`: its `Result` is not used.
                *s = match semi {
                    Some(_) => Stmt::Expr(Expr::Verbatim(quote!(#(#attrs)* let _ = #new;)), None),
                    None => Stmt::Expr(new, None),
                };
            }
            return;
        }
        visit_mut::visit_stmt_mut(self, s);
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    fn visit_macro_mut(&mut self, _: &mut syn::Macro) {}
}

/// `x` or `mut x` in a `let`'s pattern (with its type) bound as `h`.
fn rename_pat(p: &mut syn::Pat, h: &Ident) {
    match p {
        syn::Pat::Ident(pi) => pi.ident = h.clone(),
        syn::Pat::Type(pt) => rename_pat(&mut pt.pat, h),
        _ => {}
    }
}

/// The binding `name` of a pattern bound as `h` (exactly one): whether it
/// was found.
fn rename_pat_binding(p: &mut syn::Pat, name: &str, h: &Ident) -> bool {
    struct R<'a> {
        name: &'a str,
        h: &'a Ident,
        found: usize,
    }
    impl VisitMut for R<'_> {
        fn visit_pat_ident_mut(&mut self, pi: &mut syn::PatIdent) {
            if pi.ident == self.name {
                pi.ident = self.h.clone();
                self.found += 1;
            }
            visit_mut::visit_pat_ident_mut(self, pi);
        }
        fn visit_expr_mut(&mut self, _: &mut Expr) {}
    }
    let mut r = R { name, h, found: 0 };
    r.visit_pat_mut(p);
    r.found == 1
}

fn stmt_suspends(s: &Stmt) -> bool {
    crate::attrs::stmt_suspends(s)
}
