//! Stage 3, expressions taken apart: one that holds a suspension point
//! becomes blocks: `if`, `match`, `loop`, `while`, `for` (a typed range's
//! `for` with its cursor stored), labeled and `unsafe` blocks, and the
//! assignment, `?` or `return` around a suspension. Takes the `syn`
//! expression and where its value goes ([`Dest`]); gives blocks ending in
//! branches and jumps.

use proc_macro2::Span;
use quote::{ToTokens, quote};
use syn::visit_mut::VisitMut;
use syn::{Expr, Ident, Pat, Type};

use super::derive::range_elem;
use super::graph::{BindId, BlockId, ForLowered, Term};
use super::{Builder, Dest, LoopCtx, collect_lets, is_lowerable, strip_pat};
use crate::scan::{self, Binder, SiteKind};

impl Builder<'_> {
    pub(super) fn lower_expr(&mut self, e: &Expr, dest: Dest) {
        self.ensure_alive();
        if !scan::expr_suspends(e) {
            self.keep_expr(e, dest);
            return;
        }
        if let Some(site) = scan::as_site(e) {
            let r = self.lower_site(&site);
            self.keep_expr(&r, dest);
            return;
        }
        match scan::strip(e) {
            Expr::If(i) => self.lower_if(i, dest),
            Expr::Match(m) => self.lower_match(m, dest),
            Expr::Loop(l) => self.lower_loop(l, dest),
            Expr::While(w) => self.lower_while(w, dest),
            Expr::ForLoop(f) => self.lower_for(f, dest),
            // Attributes of a block taken apart go with its pieces (those of
            // a statement are on its expression: `lower_stmts` took them).
            Expr::Block(b) => {
                let attrs = crate::attrs::carried(&b.attrs);
                self.with_attrs(attrs, |s| s.lower_block_expr(b, dest));
            }
            Expr::Unsafe(u) => {
                let attrs = crate::attrs::carried(&u.attrs);
                let allow = quote!(#[allow(unused_unsafe)]);
                self.with_attrs(quote!(#attrs #allow), |s| {
                    let outer = std::mem::replace(&mut s.unsafe_span, u.unsafe_token.span);
                    s.unsafe_depth += 1;
                    let b = syn::ExprBlock {
                        attrs: Vec::new(),
                        label: None,
                        block: u.block.clone(),
                    };
                    s.lower_block_expr(&b, dest);
                    s.unsafe_depth -= 1;
                    s.unsafe_span = outer;
                });
            }
            Expr::Return(r) if r.expr.is_some() => {
                if let Some(inner) = &r.expr {
                    self.lower_expr(inner, Dest::Return);
                }
            }
            Expr::Assign(a) if !scan::expr_suspends(&a.left) => {
                let rhs = self.lower_operand(&a.right);
                let mut a2 = a.clone();
                a2.right = Box::new(rhs);
                self.keep_expr(&Expr::Assign(a2), dest);
            }
            Expr::Binary(b) if scan::is_compound_assign(&b.op) && !scan::expr_suspends(&b.left) => {
                if !is_plain_place(&b.left) {
                    let op = b.op.to_token_stream();
                    let text = |e: &Expr| {
                        let t = scan::one_line(&e.to_token_stream().to_string());
                        t.strip_prefix("* ")
                            .map_or_else(|| t.clone(), |r| format!("*{r}"))
                    };
                    let (place, right) = (text(&b.left), text(&b.right));
                    self.cx.spanned(
                        &b.left,
                        format!(
                            "the place `{place}` of this `{op}` may have side effects (a call, or an index: `IndexMut` and its bounds check) and the right side is a suspension point: Rust evaluates the place first when the type is not a primitive and the right side first when it is, and #[io_state_machine] cannot keep a place across a suspension point; write the order you mean, e.g. `let r = {right}; {place} {op} r;`"
                        ),
                    );
                }
                let rhs = self.lower_operand(&b.right);
                let mut b2 = b.clone();
                b2.right = Box::new(rhs);
                self.keep_expr(&Expr::Binary(b2), dest);
            }
            Expr::Try(t) if is_lowerable(&t.expr) => {
                let inner = self.lower_operand(&t.expr);
                let mut t2 = t.clone();
                t2.expr = Box::new(inner);
                self.keep_expr(&Expr::Try(t2), dest);
            }
            _ => self.keep_expr(e, dest),
        }
    }

    // Input:  `yield_io!(c)?`, `if a { yield_io!(c)? } else { 0 }`, `x + 1`
    // Output: `__ratchet_r?` (after the yield), `__ratchet_v` (the branches give it its value), `x + 1`
    /// Lowers an expression standing where a suspension may stand (whole,
    /// or a construct with suspensions inside) and returns what replaces it.
    pub(super) fn lower_operand(&mut self, e: &Expr) -> Expr {
        if let Some(site) = scan::as_site(e) {
            return self.lower_site(&site);
        }
        if is_lowerable(e) {
            let v = self.synth("v", None);
            self.lower_expr(e, Dest::Value(v));
            self.ensure_alive();
            let id = self.g.bindings[v].ident.clone();
            return Self::ident_expr(&id);
        }
        e.clone()
    }

    // Input:  `let Some(x) = call_io!(next())?`
    // Output: `let Some(x) = __ratchet_r?`, in the call's own block (`CallNext`)
    /// The condition of `if`/`while`: a suspension as the whole condition
    /// or as the scrutinee of `if let`/`while let` is lowered first.
    fn lower_cond(&mut self, cond: &Expr) -> Expr {
        match scan::strip(cond) {
            Expr::Let(l) if scan::as_site(&l.expr).is_some() || is_lowerable(&l.expr) => {
                let r = self.lower_operand(&l.expr);
                let mut l2 = l.clone();
                l2.expr = Box::new(r);
                Expr::Let(l2)
            }
            _ if scan::as_site(cond).is_some() => self.lower_operand(cond),
            _ => cond.clone(),
        }
    }

    // Input:  `let Some(x) = opt` (an `if let`'s condition), the blocks `Then` and `Else`
    // Output: the block ends in `if let Some(x) = opt { goto Then } else { goto Else }`; `x` is declared
    /// Emits `if cond { then } else { els }` as the terminator of the current
    /// block; the bindings of `let`s in `cond` are visible in `then`.
    fn branch(&mut self, cond: &Expr, at: scan::CondOf, then: BlockId, els: BlockId) -> Vec<BindId> {
        self.ensure_alive();
        scan::reject_cond(self.cx, cond, at);
        let uses = scan::free_vars_expr(cond);
        let uses = self.resolve(uses);
        let mut c2 = self.cond_in_unsafe(cond.clone());
        let cond_tokens = self.rewrite(&mut c2, |rw, e| rw.visit_expr_mut(e));
        let j_else = self.jump(els, None, true);
        let mut defs = Vec::new();
        collect_lets(cond, &mut |pat| defs.push(pat.clone()));
        let mut ids = Vec::new();
        for pat in &defs {
            ids.extend(self.declare_pat(pat, None));
        }
        let j_then = self.jump(then, None, true);
        let blk = &mut self.g.blocks[self.cur];
        blk.term_uses.extend(uses);
        blk.term_defs.extend(ids.iter().copied());
        self.close(Term::If {
            cond: cond_tokens,
            then: j_then,
            els: j_else,
        });
        ids
    }

    // Input:  `if call_io!(f())? { yield_io!(c)?; } else { x += 1; }`
    // Output: `CallF: r = f()..; if r? { goto Then } else { goto Else }`, `Then: yield c -> ..`, `Else: x += 1; goto EndIf`
    fn lower_if(&mut self, i: &syn::ExprIf, dest: Dest) {
        let at = if std::mem::take(&mut self.else_if) {
            scan::CondOf::ElseIf
        } else {
            scan::CondOf::If
        };
        let before = self.g.susps.len();
        let cond = self.lower_cond(&i.cond);
        let mut scrutinees = Vec::new();
        let_scrutinees(&cond, &mut scrutinees);
        let temporaries = scrutinees.iter().any(|e| self.scrutinee_temporaries(e, before));
        let then_b = self.new_block("Then");
        let else_b = self.new_block("Else");
        let join = self.new_block("EndIf");
        self.g.blocks[join].after_scrutinee = temporaries;
        let mark = self.scope.len();
        self.branch(&cond, at, then_b, else_b);
        self.enter(then_b);
        self.lower_stmts(&i.then_branch.stmts, dest);
        self.goto(join);
        self.scope.truncate(mark);
        self.enter(else_b);
        match &i.else_branch {
            Some((_, e)) => {
                self.else_if = matches!(**e, Expr::If(_));
                self.lower_expr(e, dest);
                self.else_if = false;
            }
            None => self.finish_unit(dest),
        }
        self.goto(join);
        self.enter(join);
    }

    // Input:  `guard().len()`, `call_io!(f())?`, `x.y`, `yield_io!(c)?` (as lowered)
    // Output: `true`, `true`, `false`, `false`
    /// Whether a `match`'s or `if let`'s scrutinee, as lowered (`before`:
    /// the number of suspension points before it), may hold temporaries,
    /// which Rust drops at the end of the `match` or `if let`: anything but
    /// a plain place or a `yield_io!`'s value (an `i32` or an error).
    fn scrutinee_temporaries(&self, scrut: &Expr, before: usize) -> bool {
        let new = &self.g.susps[before..];
        if new.iter().any(|s| s.kind == SiteKind::Call) {
            return true;
        }
        new.is_empty() && !is_plain_place(scrut)
    }

    // Input:  `match call_io!(f())? { 0 => yield_io!(c)?, n => g(n) }`
    // Output: `CallF: match r? { 0 => goto Arm, n => goto Arm2 }`, each arm a block ending in `goto EndMatch`
    fn lower_match(&mut self, m: &syn::ExprMatch, dest: Dest) {
        let before = self.g.susps.len();
        let scrut = self.lower_operand(&m.expr);
        let temporaries = self.scrutinee_temporaries(&scrut, before);
        self.ensure_alive();
        scan::reject_expr(self.cx, &scrut);
        let uses = scan::free_vars_expr(&scrut);
        let uses = self.resolve(uses);
        let mut s2 = self.in_unsafe(scrut.clone());
        let scrut_tokens = self.rewrite(&mut s2, |rw, e| rw.visit_expr_mut(e));
        let join = self.new_block("EndMatch");
        self.g.blocks[join].after_scrutinee = temporaries;
        let from = self.cur;
        let mut arms = Vec::new();
        let mut targets = Vec::new();
        let mut term_uses = uses;
        let mut term_defs = Vec::new();
        for arm in &m.arms {
            scan::reject_pat(self.cx, &arm.pat);
            // The names an `if let` guard binds are in scope in the arm but
            // are not declared here, so the arm would read a carried binding
            // of the same name instead: refused until they are.
            if let Pat::Guard(g) = &arm.pat {
                let mut guard_let = None;
                collect_lets(&g.guard, &mut |p| {
                    guard_let.get_or_insert_with(|| syn::spanned::Spanned::span(p));
                });
                if let Some(span) = guard_let {
                    self.cx.error(
                        span,
                        "an `if let` guard in a `match` that has a suspension point is not supported yet; test the value inside the arm (`_ => if let .. { .. }`) or bind it before the `match`",
                    );
                }
            }
            let guard_uses = scan::free_vars_pat_guard(&arm.pat);
            let mark = self.scope.len();
            let ids = self.declare_pat(&arm.pat, None);
            let guard_uses = self.resolve(guard_uses);
            term_uses.extend(guard_uses.into_iter().filter(|u| !ids.contains(u)));
            term_defs.extend(ids.iter().copied());
            let b = self.new_block("Arm");
            let j = self.jump(b, None, true);
            let mut pat = arm.pat.clone();
            if let Pat::Guard(g) = &mut pat {
                *g.guard = self.in_unsafe((*g.guard).clone());
            }
            let pat_tokens = self.rewrite(&mut pat, |rw, p| rw.visit_pat_mut(p));
            let arm_attrs = crate::attrs::carried(&arm.attrs);
            let pat_tokens = quote!(#arm_attrs #pat_tokens);
            arms.push((pat_tokens, j));
            targets.push((b, self.scope.clone()));
            self.scope.truncate(mark);
        }
        let blk = &mut self.g.blocks[from];
        blk.term_uses.extend(term_uses);
        blk.term_defs.extend(term_defs);
        self.close(Term::Match {
            scrut: scrut_tokens,
            arms,
        });
        for (arm, (b, scope)) in m.arms.iter().zip(targets) {
            let saved = std::mem::replace(&mut self.scope, scope);
            self.enter(b);
            self.lower_expr(&arm.body, dest);
            self.goto(join);
            self.scope = saved;
        }
        self.enter(join);
    }

    /// `loop`s and labeled blocks: where a `break` value goes.
    fn value_dest(&mut self, dest: Dest) -> (Option<BindId>, bool) {
        match dest {
            Dest::Value(v) => (Some(v), false),
            Dest::Discard => (None, false),
            Dest::Return => (Some(self.synth("v", None)), true),
        }
    }

    fn after_value(&mut self, value: Option<BindId>, returns: bool) {
        if returns
            && self.alive()
            && let Some(v) = value
        {
            let id = self.g.bindings[v].ident.clone();
            let ret = self.model.done(&id.to_token_stream(), Span::call_site());
            let t = quote!(return #ret;);
            self.push_piece(t, vec![v], Vec::new());
            self.close(Term::Return);
        }
    }

    // Input:  `let v = loop { yield_io!(c)?; break 7; };`
    // Output: `Loop: yield c -> AfterC`, `AfterC: r?; { v = 7; goto EndLoop }`, `EndLoop: let v = v;`
    fn lower_loop(&mut self, l: &syn::ExprLoop, dest: Dest) {
        let (value, returns) = self.value_dest(dest);
        let head = self.new_block("Loop");
        let after = self.new_block("EndLoop");
        self.mark_loop(l.label.as_ref(), "loop".to_owned(), &[head], after);
        self.goto(head);
        self.enter(head);
        self.loops.push(LoopCtx {
            label: l.label.as_ref().map(|l| l.name.ident.to_string()),
            is_block: false,
            break_to: after,
            continue_to: Some(head),
            value,
        });
        let mark = self.scope.len();
        self.lower_stmts(&l.body.stmts, Dest::Discard);
        self.goto(head);
        self.scope.truncate(mark);
        self.loops.pop();
        self.enter(after);
        self.after_value(value, returns);
    }

    // Input:  `{ let t = f(); yield_io!(c)?; t }`, its value going into `v`
    // Output: `let t = f(); yield c -> AfterC`, `AfterC: r?; let v = t; goto EndBlock`, `EndBlock: ..`
    fn lower_block_expr(&mut self, b: &syn::ExprBlock, dest: Dest) {
        let (value, returns) = self.value_dest(dest);
        let after = self.new_block("EndBlock");
        let inner = match value {
            Some(v) => Dest::Value(v),
            None => Dest::Discard,
        };
        if let Some(label) = &b.label {
            self.loops.push(LoopCtx {
                label: Some(label.name.ident.to_string()),
                is_block: true,
                break_to: after,
                continue_to: None,
                value,
            });
        }
        let mark = self.scope.len();
        self.lower_stmts(&b.block.stmts, inner);
        // The jump out stands where the block's own bindings are still
        // visible in the emitted code: check names against that scope.
        self.goto(after);
        self.scope.truncate(mark);
        if b.label.is_some() {
            self.loops.pop();
        }
        self.enter(after);
        self.after_value(value, returns);
    }

    // Input:  `while let Some(row) = call_io!(cur.next())? { sum += row; }`
    // Output: `While: goto CallNext`, `CallNext: r = cur.next()..; if let Some(row) = r? { goto WhileBody } else { goto EndWhile }`
    fn lower_while(&mut self, w: &syn::ExprWhile, dest: Dest) {
        let head = self.new_block("While");
        let body = self.new_block("WhileBody");
        let after = self.new_block("EndWhile");
        let cond = &w.cond;
        self.mark_loop(
            w.label.as_ref(),
            format!("while {}", quote!(#cond)),
            &[head],
            after,
        );
        self.goto(head);
        self.enter(head);
        let cond = self.lower_cond(&w.cond);
        if self.cur != head
            && let Some(h) = self.g.loop_heads.get(&head).cloned()
        {
            // A suspension in the condition: the branch is taken in the
            // block after it, which the diagram then names by the loop too.
            self.g.loop_heads.insert(self.cur, (h.0, false, true));
        }
        let mark = self.scope.len();
        self.branch(&cond, scan::CondOf::While, body, after);
        self.loops.push(LoopCtx {
            label: w.label.as_ref().map(|l| l.name.ident.to_string()),
            is_block: false,
            break_to: after,
            continue_to: Some(head),
            value: None,
        });
        self.enter(body);
        self.lower_stmts(&w.body.stmts, Dest::Discard);
        self.goto(head);
        self.loops.pop();
        self.scope.truncate(mark);
        self.enter(after);
        self.finish_unit(dest);
    }

    // Input:  `for i in 0..n { call_io!(self.free(i))?; }`
    // Output: `let mut iter: Range<u64> = 0..n; goto For`, `For: match iter.next() { Some(i) => goto ForBody, None => goto EndFor }`
    fn lower_for(&mut self, f: &syn::ExprForLoop, dest: Dest) {
        self.ensure_alive();
        scan::reject_expr(self.cx, &f.expr);
        let (expr_ty, _, _) = self.derive(&f.expr);
        if let (Expr::Range(r), Pat::Ident(pi), Some(elem)) = (
            scan::strip(&f.expr),
            strip_pat(&f.pat),
            expr_ty.as_ref().and_then(range_elem),
        ) && matches!(r.limits, syn::RangeLimits::HalfOpen(_))
            && pi.by_ref.is_none()
            && pi.mutability.is_none()
            && pi.subpat.is_none()
            && let (Some(start), Some(end)) = (&r.start, &r.end)
            && !f
                .body
                .stmts
                .iter()
                .any(|st| scan::names_bound_in(st).iter().any(|n| pi.ident == n))
        {
            self.lower_for_range(f, &pi.ident, start, end, elem, dest);
            return;
        }
        let p = self.private.clone();
        let elem_ty = expr_ty
            .as_ref()
            .and_then(|t| range_elem(t).or_else(|| syn::parse2(quote!(<#t as #p::IntoIterator>::Item)).ok()));
        // What the loop stores is the iterator of the expression, which for
        // a typed local `v: Vec<T>` is not `Vec<T>`.
        let iter_ty = expr_ty.and_then(|t| {
            if range_elem(&t).is_some() {
                Some(t)
            } else {
                syn::parse2(quote!(<#t as #p::IntoIterator>::IntoIter)).ok()
            }
        });
        let it = self.synth("iter", iter_ty);
        self.g.bindings[it].mutable = true;
        self.g.bindings[it].for_iter = true;
        self.g.bindings[it].decl_span = f.for_token.span;
        let uses = scan::free_vars_expr(&f.expr);
        let uses = self.resolve(uses);
        let mut e2 = self.in_unsafe((*f.expr).clone());
        let etoks = self.rewrite(&mut e2, |rw, e| rw.visit_expr_mut(e));
        let itid = self.g.bindings[it].ident.clone();
        let at = self.g.fors.len();
        self.g.fors.push(ForLowered::Iter {
            it: itid.clone(),
            pat: Vec::new(),
        });
        self.push_piece(
            quote!(let mut #itid = #p::IntoIterator::into_iter(#etoks);),
            uses,
            vec![it],
        );
        let head = self.new_block("For");
        let body = self.new_block("ForBody");
        let after = self.new_block("EndFor");
        let (pat, expr) = (&f.pat, &f.expr);
        self.mark_loop(
            f.label.as_ref(),
            format!("for {} in {}", quote!(#pat), quote!(#expr)),
            &[head],
            after,
        );
        self.goto(head);
        self.enter(head);
        let mark = self.scope.len();
        self.g.bindings[it].uses.push((head, f.for_token.span));
        let j_none = self.jump(after, None, true);
        let ids = self.declare_pat(&f.pat, elem_ty);
        if let Some(ForLowered::Iter { pat, .. }) = self.g.fors.get_mut(at) {
            pat.clone_from(&ids);
        }
        let j_some = self.jump(body, None, true);
        let pat = &f.pat;
        let blk = &mut self.g.blocks[head];
        blk.term_uses.push(it);
        blk.term_defs.extend(ids);
        self.close(Term::Match {
            scrut: quote!(#p::Iterator::next(&mut #itid)),
            arms: vec![(quote!(#p::Some(#pat)), j_some), (quote!(#p::None), j_none)],
        });
        self.loops.push(LoopCtx {
            label: f.label.as_ref().map(|l| l.name.ident.to_string()),
            is_block: false,
            break_to: after,
            continue_to: Some(head),
            value: None,
        });
        self.enter(body);
        self.lower_stmts(&f.body.stmts, Dest::Discard);
        self.goto(head);
        self.loops.pop();
        self.scope.truncate(mark);
        self.enter(after);
        self.finish_unit(dest);
    }
}

impl Builder<'_> {
    // Input:  `for i in a..b { call_io!(self.free(i))?; }` (typed bounds, plain `i`)
    // Output: `let __end: T = b; let mut i: T = a; goto For`,
    //         `For: if i < __end { goto ForBody } else { goto EndFor }`,
    //         `ForBody: .. goto ForNext`, `ForNext: i += 1; goto For`.
    // The loop variable is the cursor: a suspension in the body stores `i`
    // and the bound, not a `Range` beside `i` (as a hand-written machine
    // would). `i` cannot be assigned in the body (it is not `mut`) nor
    // shadowed there (the caller checks: the step after the body must see
    // the cursor), and `i < end` before `i += 1` means the increment cannot
    // overflow.
    fn lower_for_range(
        &mut self,
        f: &syn::ExprForLoop,
        i: &Ident,
        start: &Expr,
        end: &Expr,
        elem: Type,
        dest: Dest,
    ) {
        let mark = self.scope.len();
        // The bounds run in source order, each once: a start with side
        // effects is evaluated first, into a binding of its own. The
        // parentheses of `0..(n as u32)` would be unnecessary around a
        // `let`'s value.
        let start = strip_parens(start);
        let early_start = if matches!(scan::strip(start), Expr::Lit(_) | Expr::Path(_)) {
            None
        } else {
            let start_b = self.synth("start", Some(elem.clone()));
            let start_id = self.g.bindings[start_b].ident.clone();
            let uses = scan::free_vars_expr(start);
            let uses = self.resolve(uses);
            let mut s2 = self.in_unsafe(start.clone());
            let stoks = self.rewrite(&mut s2, |rw, e| rw.visit_expr_mut(e));
            self.push_piece(quote!(let #start_id: #elem = #stoks;), uses, vec![start_b]);
            Some((start_b, start_id))
        };
        let end_b = self.synth("end", Some(elem.clone()));
        let end_id = self.g.bindings[end_b].ident.clone();
        let uses = scan::free_vars_expr(end);
        let uses = self.resolve(uses);
        let mut e2 = self.in_unsafe(strip_parens(end).clone());
        let etoks = self.rewrite(&mut e2, |rw, e| rw.visit_expr_mut(e));
        self.push_piece(quote!(let #end_id: #elem = #etoks;), uses, vec![end_b]);
        let (uses, stoks) = match &early_start {
            Some((b, id)) => (vec![*b], id.to_token_stream()),
            None => {
                let uses = scan::free_vars_expr(start);
                let uses = self.resolve(uses);
                let mut s2 = self.in_unsafe(start.clone());
                (uses, self.rewrite(&mut s2, |rw, e| rw.visit_expr_mut(e)))
            }
        };
        let cursor = Binder {
            ident: i.clone(),
            mutable: true,
            by_ref: false,
            ty: Some(elem.clone()),
        };
        let ib = self.declare_binder(&cursor, Some(elem.clone()), None, false, false);
        self.g.fors.push(ForLowered::Range {
            i: i.clone(),
            cursor: ib,
            elem: Box::new(elem.clone()),
            start: early_start.as_ref().map(|(_, id)| id.clone()),
            end: end_id.clone(),
        });
        self.push_piece(quote!(let mut #i: #elem = #stoks;), uses, vec![ib]);
        let head = self.new_block("For");
        let body = self.new_block("ForBody");
        let next = self.new_block("ForNext");
        let after = self.new_block("EndFor");
        let (pat, expr) = (&f.pat, &f.expr);
        self.mark_loop(
            f.label.as_ref(),
            format!("for {} in {}", quote!(#pat), quote!(#expr)),
            &[head, next],
            after,
        );
        self.goto(head);
        self.enter(head);
        let j_then = self.jump(body, None, true);
        let j_else = self.jump(after, None, true);
        let blk = &mut self.g.blocks[head];
        blk.term_uses.extend([ib, end_b]);
        self.close(Term::If {
            cond: quote!(#i < #end_id),
            then: j_then,
            els: j_else,
        });
        self.loops.push(LoopCtx {
            label: f.label.as_ref().map(|l| l.name.ident.to_string()),
            is_block: false,
            break_to: after,
            continue_to: Some(next),
            value: None,
        });
        self.enter(body);
        let body_mark = self.scope.len();
        self.lower_stmts(&f.body.stmts, Dest::Discard);
        self.goto(next);
        self.scope.truncate(body_mark);
        self.loops.pop();
        self.enter(next);
        self.push_piece(quote!(#i += 1;), vec![ib], Vec::new());
        self.goto(head);
        self.scope.truncate(mark);
        self.enter(after);
        self.finish_unit(dest);
    }
}

/// `(e)` -> `e`, through any number of parentheses.
fn strip_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip_parens(&p.expr),
        other => other,
    }
}

// Input:  `self.total`, `*acc`, `v[i]`
// Output: true, true, false
/// A place whose evaluation has no side effects (a local, a field or a
/// dereference of such a place), so that whether it is evaluated before or
/// after the right side of a compound assignment cannot be told. Not an
/// index: for a type that is not a primitive Rust runs `IndexMut` and its
/// bounds check before the right side, which may also change the index
/// (attack round 13).
/// The scrutinees of the `let`s of a condition (`let P = e`, a chain of
/// them with `&&`).
fn let_scrutinees<'e>(cond: &'e Expr, out: &mut Vec<&'e Expr>) {
    match scan::strip(cond) {
        Expr::Let(l) => out.push(&l.expr),
        Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            let_scrutinees(&b.left, out);
            let_scrutinees(&b.right, out);
        }
        _ => {}
    }
}

fn is_plain_place(e: &Expr) -> bool {
    match scan::strip(e) {
        Expr::Path(_) => true,
        Expr::Field(f) => is_plain_place(&f.base),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => is_plain_place(&u.expr),
        _ => false,
    }
}
