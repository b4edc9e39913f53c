//! Stage 3, statements: a block's statement list, a `let` whose initializer
//! suspends, a `let-else` whose `else` suspends, the end of a scope
//! (bindings held for their `Drop`), and the items of a block taken apart
//! (emitted once at the top of the function). Takes the body's `syn`
//! statements; gives blocks and pieces, through the builder.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident, Local, Pat, Stmt};

use super::derive::type_borrows;
use super::graph::{BindId, BlockId, Term};
use super::{Builder, Dest, TySrc, e_span, is_lowerable};
use crate::scan::{self, SiteKind, SiteRef};

impl Builder<'_> {
    pub(super) fn lower_stmts(&mut self, stmts: &[Stmt], dest: Dest) {
        let mark = self.scope.len();
        let mut tail_done = false;
        for (i, stmt) in stmts.iter().enumerate() {
            let last = i + 1 == stmts.len();
            // A statement taken apart: its attributes go with its pieces.
            // (A block's own attributes are taken where it is lowered.)
            let block = matches!(stmt, Stmt::Expr(e, _) if matches!(e, Expr::Block(_) | Expr::Unsafe(_)));
            let attrs = if crate::attrs::stmt_suspends(stmt) && !block {
                crate::attrs::carried(crate::attrs::stmt_attrs(stmt))
            } else {
                TokenStream::new()
            };
            self.with_attrs(attrs, |b| match stmt {
                Stmt::Local(l) => b.lower_local(l),
                Stmt::Expr(e, None) if last => {
                    b.lower_expr(e, dest);
                    tail_done = true;
                }
                Stmt::Expr(e, _) => b.lower_expr(e, Dest::Discard),
                Stmt::Macro(m) => match scan::macro_kind(&m.mac) {
                    Some(kind) => {
                        b.ensure_alive();
                        let site = SiteRef {
                            kind,
                            mac: &m.mac,
                            question: None,
                        };
                        let r = b.lower_site(&site);
                        if last && m.semi_token.is_none() {
                            b.keep_expr(&r, dest);
                            tail_done = true;
                        } else {
                            b.keep_discard_result(&r);
                        }
                    }
                    None => b.keep_stmt(stmt),
                },
                Stmt::Item(item) => b.hoist(item),
            });
        }
        if !tail_done {
            self.finish_unit(dest);
        }
        self.end_scope(mark);
    }

    // Input:  `{ let _g: Guard = lock(); let r = page(); yield_io!(c)?; use(&r); }` at the `}`
    // Output: `_g` marked as held for its `Drop`, its scope ending in the current block
    /// The end of a block's scope, where it falls through. Its bindings held
    /// only for their `Drop` (never read) are stored across its suspension
    /// points, but not carried by the jump that leaves it: every caller jumps
    /// out right here, and a jump that leaves a scope holding a value to drop
    /// ends its dispatch step (see `emit::leaves_scope`), so they drop when
    /// the step ends, together with the scope's other bindings and in
    /// reverse order of declaration, as Rust drops them. An explicit `drop`
    /// here would come before a later binding's own drop.
    fn end_scope(&mut self, mark: usize) {
        let declared: Vec<(String, BindId)> = self.scope.get(mark..).unwrap_or_default().to_vec();
        let alive = self.alive();
        let cur = self.cur;
        for (_, b) in &declared {
            let binding = &mut self.g.bindings[*b];
            // A value whose drop does nothing (`&T`, a number) is not held:
            // where it goes cannot be seen, and a held reference would be a
            // stored borrow.
            let at = |s: &Span| (s.start(), s.end());
            let read = binding
                .uses
                .iter()
                .any(|(_, u)| !binding.overwrites.iter().any(|o| at(o) == at(u)));
            if !binding.drop_candidate
                || read
                || binding.ty.as_ref().is_some_and(crate::types::nothing_to_drop)
            {
                continue;
            }
            binding.drop_only = true;
            if alive {
                binding.scope_ends.push(cur);
            }
        }
    }

    // Input:  `struct P;`, `use std::fmt::Write;` in a block taken apart
    // Output: both among the items at the top of the function, `P` among the body's types
    /// An item of a block taken apart: emitted at the top of the function.
    fn hoist(&mut self, item: &syn::Item) {
        scan::reject_stmt(self.cx, &Stmt::Item(item.clone()));
        let ident = match item {
            syn::Item::Struct(i) => Some(&i.ident),
            syn::Item::Enum(i) => Some(&i.ident),
            syn::Item::Union(i) => Some(&i.ident),
            syn::Item::Type(i) => Some(&i.ident),
            syn::Item::Trait(i) => Some(&i.ident),
            // Attack round 13, finding 7: `[u8; N]` was E0425 with rustc's
            // "missing a const parameter".
            syn::Item::Const(i) => Some(&i.ident),
            // Attack round 14, F10: a stored `let k: ty!() = ..` got
            // rustc's "cannot find macro".
            syn::Item::Macro(m) if m.mac.path.is_ident("macro_rules") => m.ident.as_ref(),
            _ => None,
        };
        if let Some(id) = ident {
            self.g.body_types.push((id.to_string(), id.span()));
        }
        if let syn::Item::Fn(f) = item
            && scan::is_nested_machine(item)
        {
            self.nested_machine_state(f);
        }
        if let syn::Item::Macro(m) = item
            && m.mac.path.is_ident("macro_rules")
        {
            self.refuse_macro_reading_locals(m);
        }
        // A `use` under `#[cfg]` may not exist: its paths are not spelled.
        if let syn::Item::Use(u) = item
            && u.attrs.is_empty()
            && self.attrs.is_empty()
        {
            let mut prefix = syn::Path {
                leading_colon: u.leading_colon,
                segments: syn::punctuated::Punctuated::new(),
            };
            use_paths(&mut prefix, &u.tree, &mut self.g.body_uses);
        }
        let attrs = &self.attrs;
        let is_use = matches!(item, syn::Item::Use(_));
        let item = quote!(#attrs #item);
        // The same `use` in two blocks (`use std::fmt::Write;`) is valid
        // Rust; at the top of the function once is enough (twice is E0252).
        if is_use && self.g.items.iter().any(|i| i.to_string() == item.to_string()) {
            return;
        }
        self.g.items.push(item);
    }

    // Input:  `#[io_state_machine(state = s)] fn inner(s: &mut InnerState) ..` in the body
    // Output: `InnerState` among the body's types; an error if it is the outer state's name
    /// A machine declared in the body: its state enum is declared there too,
    /// so a stored local cannot have it as its type (the outer state enum
    /// lives outside the function), and the same name would hide the outer
    /// machine's own state enum from its generated code.
    fn nested_machine_state(&mut self, f: &syn::ItemFn) {
        let named = f.attrs.iter().find_map(|a| {
            let toks: Vec<proc_macro2::TokenTree> = match &a.meta {
                syn::Meta::List(l) => l.tokens.clone().into_iter().collect(),
                _ => return None,
            };
            toks.windows(3).find_map(|w| match w {
                [
                    proc_macro2::TokenTree::Ident(k),
                    proc_macro2::TokenTree::Punct(p),
                    proc_macro2::TokenTree::Ident(v),
                ] if k == "name" && p.as_char() == '=' => Some(v.clone()),
                _ => None,
            })
        });
        let name = named.unwrap_or_else(|| crate::model::state_name(&f.sig.ident));
        if name == self.model.enum_name {
            self.cx.error(
                f.sig.ident.span(),
                format!(
                    "this machine's state enum would be `{name}`, the name of the state enum of the machine it is declared in, and would hide it there: give the inner machine another name, or its state another with `#[io_state_machine(name = ..)]`"
                ),
            );
        }
        self.g.body_types.push((name.to_string(), f.sig.ident.span()));
    }

    // Input:  `let n: u32 = 3; macro_rules! twice { () => { n * 2 } }` in a block taken apart
    // Output: an error at `n` in the macro: it moves to the top of the function, out of `n`'s scope
    /// A `macro_rules!` that names a local in scope where it is defined: it
    /// is emitted at the top of the function with the other items, where
    /// no local is in scope (a macro's locals resolve where it is defined),
    /// and rustc's "cannot find value" would not say why.
    fn refuse_macro_reading_locals(&self, m: &syn::ItemMacro) {
        fn idents(ts: TokenStream, out: &mut Vec<(String, Span)>) {
            let toks: Vec<proc_macro2::TokenTree> = ts.into_iter().collect();
            let punct = |j: usize, c: char| matches!(toks.get(j), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == c);
            for (i, t) in toks.iter().enumerate() {
                let after = |c: char| i > 0 && punct(i - 1, c);
                // A path segment (`i64::MAX`, `std::mem`) or a macro's
                // name is not a value, whatever local shares its name.
                let path = after(':') || (punct(i + 1, ':') && punct(i + 2, ':')) || punct(i + 1, '!');
                match t {
                    proc_macro2::TokenTree::Ident(id) if !after('$') && !after('.') && !path => {
                        out.push((id.to_string(), id.span()))
                    }
                    proc_macro2::TokenTree::Group(g) => idents(g.stream(), out),
                    // `format!("{n}")` in the macro's expansion reads `n`.
                    proc_macro2::TokenTree::Literal(l) => {
                        for c in scan::format_captures(&l.to_string()) {
                            out.push((c, l.span()));
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut found = Vec::new();
        idents(m.mac.tokens.clone(), &mut found);
        // A name the macro binds itself (`let n = ..` in its expansion) is
        // its own, wherever it is defined.
        let own: Vec<String> = found
            .windows(2)
            .filter(|w| w[0].0 == "let" || w[0].0 == "mut")
            .map(|w| w[1].0.clone())
            .collect();
        found.retain(|(id, _)| !own.contains(id));
        let name = m.ident.as_ref().map_or_else(String::new, ToString::to_string);
        let mut said = Vec::new();
        for (s, span) in found {
            if said.contains(&s) || !self.scope.iter().any(|(n, _)| *n == s) {
                continue;
            }
            said.push(s.clone());
            self.cx.error(
                span,
                format!("`{name}!` reads the local `{s}`, but a macro defined in a block that holds a suspension point is moved to the top of the function with the other items (so that every part of the block sees it), where no local is in scope; pass the value in: `macro_rules! {name} {{ (${s}:expr) => {{ .. ${s} .. }} }}` and `{name}!({s})`"),
            );
        }
    }

    // Input:  `__ratchet_r` (what stands for `yield_io!(c)` in `yield_io!(c);`)
    // Output: the piece `let _ = __ratchet_r;`
    /// `yield_io!(c);`: the result is dropped on purpose.
    fn keep_discard_result(&mut self, r: &Expr) {
        let uses = scan::free_vars_expr(r);
        let uses = self.resolve(uses);
        self.push_piece(quote!(let _ = #r;), uses, Vec::new());
    }

    // Input:  a block's end with its value discarded, going into `v`, returned
    // Output: nothing, `let v = ();`, `return done(Ok(()));` (ending the block)
    /// The end of a block without a tail: its value is `()`.
    pub(super) fn finish_unit(&mut self, dest: Dest) {
        if !self.alive() {
            return;
        }
        match dest {
            Dest::Discard => {}
            Dest::Value(v) => {
                let id = &self.g.bindings[v].ident;
                self.push_piece(quote!(let #id = ();), Vec::new(), vec![v]);
            }
            Dest::Return => {
                let p = &self.private;
                let ret = self.model.done(&quote!(#p::Ok(())), Span::call_site());
                self.push_piece(quote!(return #ret;), Vec::new(), Vec::new());
                self.g.blocks[self.cur].ret_expr = Some(ret);
                self.close(Term::Return);
            }
        }
    }

    // Input:  `let r = yield_io!(c)?;`
    // Output: `yield c -> AfterC`, `AfterC: let r = __ratchet_r?;` with `r: i32` (rule 4)
    fn lower_local(&mut self, l: &Local) {
        let Some(init) = &l.init else {
            self.keep_local(l, TySrc::None);
            return;
        };
        if let Some((_, els)) = &init.diverge
            && scan::expr_suspends(els)
        {
            self.lower_let_else(l, &init.expr, els);
            return;
        }
        if let Some(site) = scan::as_site(&init.expr) {
            self.ensure_alive();
            let question = site.question.is_some();
            let kind = site.kind;
            let r = self.lower_site(&site);
            let mut l2 = l.clone();
            if let Some(i) = &mut l2.init {
                *i.expr = r;
            }
            let src = if kind == SiteKind::Yield {
                TySrc::YieldResult { question }
            } else {
                TySrc::None
            };
            self.keep_local(&l2, src);
        } else if scan::expr_suspends(&init.expr) && is_lowerable(&init.expr) {
            let v = self.synth("v", None);
            self.lower_expr(&init.expr, Dest::Value(v));
            let mut l2 = l.clone();
            let vid = self.g.bindings[v].ident.clone();
            if let Some(i) = &mut l2.init {
                *i.expr = Self::ident_expr(&vid);
            }
            self.keep_local(&l2, TySrc::None);
        } else {
            self.keep_local(l, TySrc::Expr(&init.expr));
        }
    }

    // Input:  `let Some(mut x) = opt else { yield_io!(c)?; return Ok(0); }; REST`
    // Output: `match opt { Some(x) => goto LetElse, _ => goto Else }`,
    //         `Else: yield c -> AfterC`, `AfterC: r?; return done(Ok(0))`,
    //         `LetElse: let mut x = x; REST`
    /// A `let-else` whose `else` block suspends: the `else` block becomes a
    /// branch of its own. The arm binds by value without `mut` (an arm that
    /// only passes a binding on must not declare it `mut`); `let mut x = x;`
    /// follows where the user wrote `mut x`.
    fn lower_let_else(&mut self, l: &Local, init: &Expr, els: &Expr) {
        // `let Some(x) = opt` with `opt: Option<T>` gives `x: T` (rule 8).
        let init_ty = if scan::as_site(init).is_none() && !is_lowerable(init) {
            self.derive(init).0
        } else {
            None
        };
        let scrut = self.lower_operand(init);
        self.ensure_alive();
        scan::reject_expr(self.cx, &scrut);
        scan::reject_pat(self.cx, &l.pat);
        let uses = scan::free_vars_expr(&scrut);
        let uses = self.resolve(uses);
        let mut s2 = self.in_unsafe(scrut.clone());
        // `let P = (if c { a } else { b }) else { .. }` needs its parentheses
        // (an initializer may not end with `}`); a `let t: T = ..` or a
        // `match` scrutinee does not, and `unused_parens` would fire on the
        // user's (attack round 13, finding 8).
        if let Expr::Paren(p) = &s2
            && p.attrs.is_empty()
            && (matches!(l.pat, Pat::Type(_))
                || matches!(
                    &*p.expr,
                    Expr::If(_) | Expr::Match(_) | Expr::Block(_) | Expr::Loop(_)
                ))
        {
            s2 = (*p.expr).clone();
        }
        let mut scrut_tokens = self.rewrite(&mut s2, |rw, e| rw.visit_expr_mut(e));
        // A type cannot stand in an arm's pattern: it goes on the scrutinee.
        let mut arm_pat = strip_pat_type(&l.pat).clone();
        if let Pat::Type(pt) = &l.pat {
            let ty = &pt.ty;
            let t = Ident::new("__ratchet_typed", Span::mixed_site());
            scrut_tokens = quote!({ let #t: #ty = #scrut_tokens; #t });
        }
        StripMut.visit_pat_mut(&mut arm_pat);
        let from = self.cur;
        let else_b = self.new_block("Else");
        let bind_b = self.new_block("LetElse");
        let mark = self.scope.len();
        let j_else = self.jump(else_b, None, true);
        let mut bs = Vec::new();
        scan::binders(&l.pat, init_ty.as_ref(), &mut bs);
        let mut ids = Vec::new();
        let mut rebind = Vec::new();
        for b in &bs {
            let ty = b.ty.clone();
            let borrow = ty.as_ref().is_some_and(type_borrows);
            let id = self.declare_binder(b, ty, None, borrow, false);
            let binding = &mut self.g.bindings[id];
            binding.in_pattern = true;
            binding.mutable = false;
            if b.mutable && !b.by_ref {
                rebind.push((id, b));
            }
            ids.push(id);
        }
        let j_bind = self.jump(bind_b, None, true);
        let pat_tokens = self.rewrite(&mut arm_pat, |rw, p| rw.visit_pat_mut(p));
        let blk = &mut self.g.blocks[from];
        blk.term_uses.extend(uses);
        blk.term_defs.extend(ids.iter().copied());
        self.close(Term::Match {
            scrut: scrut_tokens,
            arms: vec![(pat_tokens, j_bind), (quote!(_), j_else)],
        });
        let bound = self.scope.split_off(mark);
        self.enter(else_b);
        match scan::strip(els) {
            Expr::Block(b) => {
                let stmts = diverging_last(&b.block.stmts);
                self.lower_stmts(&stmts, Dest::Discard);
            }
            other => self.lower_expr(other, Dest::Discard),
        }
        if self.alive() && self.reachable(self.cur, else_b) {
            self.cx.error(
                else_span(els),
                "the `else` block of this `let-else` holds a suspension point, so \
                 #[io_state_machine] makes it a branch of its own, and it must diverge: end it \
                 with `return`, `break`, `continue`, or a call or macro that does not return",
            );
        }
        if self.alive() {
            self.close(Term::Diverged);
        }
        self.scope.truncate(mark);
        self.scope.extend(bound);
        self.enter(bind_b);
        for (old, b) in rebind {
            let id = &b.ident;
            let ty = self.g.bindings[old].ty.clone();
            let new = self.declare_binder(b, ty, None, false, false);
            self.g.bindings[new].in_pattern = true;
            self.push_piece(quote!(let mut #id = #id;), vec![old], vec![new]);
        }
    }

    /// Whether `b` is entered by a jump or is `entry` (a block nothing
    /// enters, such as the join after two returning branches, is not).
    fn reachable(&self, b: BlockId, entry: BlockId) -> bool {
        b == entry || self.g.jumps.iter().any(|j| j.target == b)
    }
}

// Input:  `use std::{fmt, io::Write as W, collections::*};`
// Output: `[("fmt", std::fmt), ("W", std::io::Write)]`
/// The names a `use` brings in, each with the path it stands for; none
/// for a glob, `_` or `self`.
fn use_paths(prefix: &mut syn::Path, tree: &syn::UseTree, out: &mut Vec<(String, syn::Path)>) {
    let with = |prefix: &syn::Path, id: &Ident| {
        let mut p = prefix.clone();
        p.segments.push(syn::PathSegment::from(id.clone()));
        p
    };
    match tree {
        syn::UseTree::Path(p) => {
            prefix.segments.push(syn::PathSegment::from(p.ident.clone()));
            use_paths(prefix, &p.tree, out);
            prefix.segments.pop();
        }
        syn::UseTree::Name(n) if n.ident != "self" => out.push((n.ident.to_string(), with(prefix, &n.ident))),
        syn::UseTree::Rename(r) if r.rename != "_" && r.ident != "self" => {
            out.push((r.rename.to_string(), with(prefix, &r.ident)));
        }
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_paths(prefix, t, out)),
        _ => {}
    }
}

// Input:  the statements of a `let-else`'s `else` block: `yield_io!(c)?; give_up();`
// Output: `yield_io!(c)?; let never: Infallible = { give_up(); }; match never {}`
/// Statements that must diverge: the `else` block of a `let-else`, and a
/// body whose value is not `()` and that ends with a statement. The macro
/// cannot see that a call returning `!` or another macro (`bail!(..)`)
/// does: the last statement then gives its value to an `Infallible`
/// binding, which only a diverging statement can (rustc refuses the rest,
/// as it refuses such code in a plain function), and an empty `match` on
/// it ends the block.
pub(super) fn diverging_last(stmts: &[Stmt]) -> Vec<Stmt> {
    let mut out = stmts.to_vec();
    let Some(last) = out.pop() else {
        return out;
    };
    let plain = match &last {
        Stmt::Expr(e, _) => !scan::expr_suspends(e) && !scan::diverges(e),
        Stmt::Macro(m) => scan::macro_kind(&m.mac).is_none() && !scan::stmt_diverges(&last),
        Stmt::Local(_) | Stmt::Item(_) => false,
    };
    if !plain {
        out.push(last);
        return out;
    }
    let span = syn::spanned::Spanned::span(&last);
    let never = Ident::new("__ratchet_never", Span::mixed_site());
    let checked: Vec<Stmt> = syn::parse::Parser::parse2(
        syn::Block::parse_within,
        quote_spanned! {span=>
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            let #never: ::core::convert::Infallible = { #last };
            #[allow(unreachable_code)]
            match #never {}
        },
    )
    .unwrap_or_default();
    if checked.is_empty() {
        out.push(last);
    } else {
        out.extend(checked);
    }
    out
}

fn strip_pat_type(p: &Pat) -> &Pat {
    match p {
        Pat::Type(t) => &t.pat,
        other => other,
    }
}

fn else_span(e: &Expr) -> Span {
    match scan::strip(e) {
        Expr::Block(b) => b.block.brace_token.span.join(),
        other => e_span(other),
    }
}

/// Removes `mut` from by-value bindings of a pattern (`ref mut` stays).
struct StripMut;

impl VisitMut for StripMut {
    fn visit_pat_ident_mut(&mut self, pi: &mut syn::PatIdent) {
        if pi.by_ref.is_none() {
            pi.mutability = None;
        }
        visit_mut::visit_pat_ident_mut(self, pi);
    }
}
