//! Stage 3, kept code: an expression, statement or `let` that holds no
//! suspension point (any more) is kept whole, as one piece of the current
//! block. Takes the syntax node; gives the piece (its tokens rewritten by
//! `rewriter`, the bindings it reads and declares) and, for a `let` or a
//! pattern, the bindings it declares with their types (see `derive`).

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::visit_mut::VisitMut;
use syn::{Expr, Ident, Local, Pat, Stmt, Type};

use super::derive::type_borrows;
use super::graph::{BindId, Binding, BlockId, Jump, SplitLet, Term};
use super::{Builder, Dest, TySrc, e_span, needs_semi, strip_pat};
use crate::scan::{self, Binder};

impl Builder<'_> {
    // Input:  `x + 1` into `v`, `Ok(n)` as the body's value, `f(x)` discarded
    // Output: the pieces `let v = x + 1;`, `return done(Ok(n));` (ending the block), `f(x);`
    pub(super) fn keep_expr(&mut self, e: &Expr, dest: Dest) {
        self.ensure_alive();
        scan::reject_expr(self.cx, e);
        let uses = scan::free_vars_expr(e);
        let uses = self.resolve(uses);
        self.mark_overwrites(|t| syn::visit::Visit::visit_expr(t, e));
        let mut e2 = self.in_unsafe(e.clone());
        let tokens = self.rewrite(&mut e2, |rw, e| rw.visit_expr_mut(e));
        let div = scan::diverges(e);
        match dest {
            Dest::Value(v) if !div => {
                let id = self.g.bindings[v].ident.clone();
                let t = self.catch_macro_jumps_in_value(&id, tokens);
                self.push_piece(t, uses, vec![v]);
            }
            Dest::Return if !div => {
                let ret = self.model.done(&tokens, e_span(e));
                self.push_piece(quote!(return #ret;), uses, Vec::new());
                self.g.blocks[self.cur].ret_expr = Some(ret);
                self.close(Term::Return);
            }
            _ => {
                let t = if needs_semi(e) { quote!(#tokens;) } else { tokens };
                // The loop that catches a macro's jumps would hide from
                // rustc that `x = m!(..)` gives a `let x;` its value.
                let first_value = self
                    .overwritten_binding(e)
                    .is_some_and(|b| self.g.bindings[b].uninit);
                let t = if first_value {
                    t
                } else {
                    self.catch_macro_jumps(t, div)
                };
                match self.overwritten(e) {
                    Some((b, right_uses)) => {
                        self.push_piece(t, right_uses, Vec::new());
                        if let Some(p) = self.g.blocks[self.cur].pieces.last_mut() {
                            p.assigns.push(b);
                        }
                    }
                    None => self.push_piece(t, uses, Vec::new()),
                }
            }
        }
        if div && self.alive() {
            self.close(Term::Diverged);
        }
    }

    // Input:  `stop!();` (a macro expanding to `break`) in a loop taken apart
    // Output: `{ let mut flow = 0; loop { if flow != 0 { flow = 2; break; } flow = 1;
    //         stop!(); flow = 3; break; } if flow == 1 { <break> } else if flow == 2 { <continue> } }`
    /// A statement (kept code just rewritten) that invokes a macro which may
    /// expand to `break` or `continue` of the loop taken apart around it,
    /// which no longer exists as a Rust loop: the statement runs inside a
    /// loop of its own that catches them, and each becomes a jump of the
    /// machine. (A `return` such a macro writes cannot be caught: see the
    /// crate docs.) Other statements are returned as they are.
    fn catch_macro_jumps(&mut self, tokens: TokenStream, diverges: bool) -> TokenStream {
        self.macro_jump_loop(tokens.clone(), diverges).unwrap_or(tokens)
    }

    // Input:  `v`, `if c { stop!(); }` (a block's value, in a loop taken apart)
    // Output: `let mut slot = None; <the loop of catch_macro_jumps around
    //         `slot = Some(if c { stop!(); });`> let v = slot.unwrap();`
    /// [`Self::catch_macro_jumps`] for an expression whose value becomes the
    /// binding `v`: the value leaves the catching loop through an `Option`
    /// declared before it, which keeps it initialized for rustc (the jumps
    /// leave before it is read).
    fn catch_macro_jumps_in_value(&mut self, v: &Ident, tokens: TokenStream) -> TokenStream {
        self.caught_value(&quote!(let #v), &tokens, &TokenStream::new())
            .unwrap_or_else(|| quote!(let #v = #tokens;))
    }

    /// `head = value tail;` (`head` is `let PAT` with its attributes, `tail`
    /// a `let`-`else`'s `else { .. }` or nothing) with `value` inside the
    /// loop that catches a macro's jumps, or `None` where none is needed
    /// (see [`Self::catch_macro_jumps_in_value`]).
    fn caught_value(
        &mut self,
        head: &TokenStream,
        value: &TokenStream,
        tail: &TokenStream,
    ) -> Option<TokenStream> {
        let slot = Ident::new("__ratchet_slot", Span::mixed_site());
        let caught = self.macro_jump_loop(quote!(#slot = ::core::option::Option::Some(#value);), false)?;
        Some(quote! {
            let mut #slot = ::core::option::Option::None;
            #caught
            #head = ::core::option::Option::unwrap(#slot) #tail;
        })
    }

    /// The statements `tokens` inside the loop that catches jumps, or
    /// `None` where no catching is needed or possible. Code that
    /// `diverges` (`return ..`) ends its block, so its path past the loop
    /// must diverge too (it cannot be taken): otherwise rustc would see the
    /// dispatch go on with the state it moved out.
    fn macro_jump_loop(&mut self, tokens: TokenStream, diverges: bool) -> Option<TokenStream> {
        if !self.foreign_macro {
            return None;
        }
        let lp = self.loops.iter().rev().find(|l| !l.is_block).cloned()?;
        let (Some(continue_to), None) = (lp.continue_to, lp.value) else {
            return None;
        };
        let at = self.g.blocks[self.cur].pieces.len();
        let placeholder = |target: BlockId, b: &mut Self| {
            b.g.jumps.push(Jump {
                piece: Some(at),
                target,
                value: None,
                scope: b.scope.clone(),
                shadowed: Vec::new(),
                tail: false,
            });
            let id = b.g.jumps.len() - 1;
            b.g.blocks[b.cur].jumps.push(id);
            let n = proc_macro2::Literal::usize_unsuffixed(id);
            quote!(__ratchet_jump!(#n))
        };
        let brk = placeholder(lp.break_to, self);
        let cont = placeholder(continue_to, self);
        let flow = Ident::new("__ratchet_flow", Span::mixed_site());
        let unreachable = diverges.then(|| quote!(::core::unreachable!();));
        Some(quote! {
            #[allow(unused_assignments, unreachable_code, clippy::never_loop)]
            {
                let mut #flow: u8 = 0;
                loop {
                    if #flow != 0 {
                        #flow = 2;
                        break;
                    }
                    #flow = 1;
                    #tokens
                    #flow = 3;
                    break;
                }
                if #flow == 1 {
                    #brk
                } else if #flow == 2 {
                    #cont
                }
                #unreachable
            }
        })
    }

    /// The binding `x = e` assigns whole, if `e` is that.
    fn overwritten_binding(&self, e: &Expr) -> Option<BindId> {
        let Expr::Assign(a) = scan::strip(e) else {
            return None;
        };
        let Expr::Path(p) = scan::strip(&a.left) else {
            return None;
        };
        let name = p.path.get_ident()?.to_string();
        self.scope.iter().rev().find(|(n, _)| *n == name).map(|&(_, b)| b)
    }

    /// `x = e` where `e` does not read `x`: the binding and what `e` reads.
    fn overwritten(&mut self, e: &Expr) -> Option<(BindId, Vec<BindId>)> {
        let b = self.overwritten_binding(e)?;
        let Expr::Assign(a) = scan::strip(e) else {
            return None;
        };
        let name = self.g.bindings[b].ident.to_string();
        let right = scan::free_vars_expr(&a.right);
        if right.iter().any(|u| u.name == name) {
            return None;
        }
        Some((b, self.resolve(right)))
    }

    pub(super) fn keep_stmt(&mut self, s: &Stmt) {
        self.ensure_alive();
        scan::reject_stmt(self.cx, s);
        let uses = scan::free_vars_stmt(s);
        let uses = self.resolve(uses);
        self.mark_overwrites(|t| syn::visit::Visit::visit_stmt(t, s));
        let mut s2 = match s {
            Stmt::Expr(e, semi) if self.unsafe_depth > 0 => Stmt::Expr(self.in_unsafe(e.clone()), *semi),
            Stmt::Macro(m) if self.unsafe_depth > 0 => {
                let e = Expr::Macro(syn::ExprMacro {
                    attrs: m.attrs.clone(),
                    mac: m.mac.clone(),
                });
                Stmt::Expr(self.in_unsafe(e), m.semi_token)
            }
            other => other.clone(),
        };
        let tokens = self.rewrite(&mut s2, |rw, s| rw.visit_stmt_mut(s));
        let tokens = self.catch_macro_jumps(tokens, scan::stmt_diverges(s));
        self.push_piece(tokens, uses, Vec::new());
        if scan::stmt_diverges(s) && self.alive() {
            self.close(Term::Diverged);
        }
    }

    // Input:  `let n = 5u32;`
    // Output: the piece `let n = 5u32;`, declaring `n` with the type `u32` (see `derive`)
    /// A `let` whose initializer does not suspend (any more).
    pub(super) fn keep_local(&mut self, local: &Local, ty_src: TySrc<'_>) {
        self.ensure_alive();
        let s = Stmt::Local(local.clone());
        scan::reject_stmt(self.cx, &s);
        let uses = scan::free_vars_stmt(&s);
        let uses = self.resolve(uses);
        let mut l2 = local.clone();
        if self.unsafe_depth > 0
            && let Some(init) = &mut l2.init
        {
            *init.expr = self.in_unsafe((*init.expr).clone());
            if let Some((_, els)) = &mut init.diverge {
                // `else` takes a block, not an `unsafe` block.
                let wrapped = self.in_unsafe((**els).clone());
                **els = Expr::Block(syn::ExprBlock {
                    attrs: Vec::new(),
                    label: None,
                    block: syn::Block {
                        brace_token: Default::default(),
                        stmts: vec![Stmt::Expr(wrapped, None)],
                    },
                });
            }
        }
        let tokens = self.rewrite(&mut l2, |rw, l| rw.visit_local_mut(l));
        // A macro in the initializer may write a `break` or `continue` for a
        // loop taken apart (`let v: u32 = skip_none!(x);`, a `let`-`else`'s
        // too): caught as for a statement, the value leaving through a slot
        // (attack rounds 18 and 19: the `continue` restarted the dispatch
        // arm forever).
        let caught = l2.init.as_ref().and_then(|init| {
            let (attrs, pat, e) = (&l2.attrs, &l2.pat, &init.expr);
            let els = init.diverge.as_ref().map(|(_, els)| quote!(else #els));
            self.caught_value(&quote!(#(#attrs)* let #pat), &e.to_token_stream(), &quote!(#els))
        });
        let split = l2
            .init
            .as_ref()
            .filter(|i| i.diverge.is_none() && caught.is_none())
            .map(|i| {
                let attrs = &l2.attrs;
                SplitLet {
                    attrs: quote!(#(#attrs)*),
                    pat: l2.pat.to_token_stream(),
                    ty: match &l2.pat {
                        Pat::Type(pt) => Some((*pt.ty).clone()),
                        _ => None,
                    },
                    init: i.expr.to_token_stream(),
                }
            });
        // The initializer's type is the type of a bare name only; through
        // `Some(x)`, `(x,)` and the like it reaches the names `binders` can
        // follow.
        let bare = matches!(strip_pat(&local.pat), Pat::Ident(pi) if pi.subpat.is_none());
        let init_ty = match ty_src {
            TySrc::Expr(e) if !bare => self.derive(e).0,
            _ => None,
        };
        let mut bs = Vec::new();
        scan::binders(&local.pat, init_ty.as_ref(), &mut bs);
        let single = bs.len() == 1 && bare;
        let mut defs = Vec::new();
        for b in bs {
            let (ty, reborrow, borrow) = if !single || b.by_ref {
                (
                    b.ty.clone(),
                    None,
                    b.ty.as_ref().is_some_and(type_borrows) || b.by_ref,
                )
            } else if let Some(t) = &b.ty {
                // Rule 9 with a spelled type (`let hits: &mut Vec<u32> =
                // &mut self.hits;`): re-created as that type, so that a
                // coercion the annotation asks for (`&Vec<u8>` to `&[u8]`)
                // happens again.
                let rb = match ty_src {
                    TySrc::Expr(e) if type_borrows(t) => self.derive(e).1,
                    _ => None,
                };
                match rb {
                    Some(rb) => {
                        let tmp = Ident::new("__ratchet_reborrow", Span::mixed_site());
                        (Some(t.clone()), Some(quote!({ let #tmp: #t = #rb; #tmp })), false)
                    }
                    None => (Some(t.clone()), None, type_borrows(t)),
                }
            } else {
                match ty_src {
                    TySrc::Expr(e) => self.derive(e),
                    TySrc::YieldResult { question } => {
                        let p = &self.private;
                        // Rule 4: the completion's result.
                        if question {
                            (syn::parse2(quote!(i32)).ok(), None, false)
                        } else {
                            (
                                syn::parse2(quote!(#p::Result<i32, #p::CompletionError>)).ok(),
                                None,
                                false,
                            )
                        }
                    }
                    TySrc::None => (None, None, false),
                }
            };
            // A `mut` binding can be pointed at another place before the
            // suspension (`r = &self.b;`, through `&mut r`, a closure or a
            // macro); re-creating it from its initializer would silently
            // read the first place again.
            let mut_reborrow = match (&reborrow, ty_src) {
                (Some(_), TySrc::Expr(e)) if b.mutable => {
                    Some(scan::one_line(&e.to_token_stream().to_string()))
                }
                _ => None,
            };
            let (reborrow, borrow) = if mut_reborrow.is_some() {
                (None, true)
            } else {
                (reborrow, borrow)
            };
            let id = self.declare_binder(&b, ty, reborrow, borrow, local.init.is_none());
            self.g.bindings[id].mut_reborrow = mut_reborrow;
            self.g.bindings[id].drop_candidate = local.init.is_some();
            defs.push(id);
        }
        self.push_piece(caught.unwrap_or(tokens), uses, defs);
        if let Some(p) = self.g.blocks[self.cur].pieces.last_mut() {
            p.split_let = split;
            p.uninit_decl = local.init.is_none();
        }
    }

    pub(super) fn declare_binder(
        &mut self,
        b: &Binder,
        ty: Option<Type>,
        reborrow: Option<TokenStream>,
        borrow: bool,
        uninit: bool,
    ) -> BindId {
        self.declare(Binding {
            mutable: b.mutable,
            reborrow,
            borrow: borrow || b.by_ref,
            uninit,
            ..Binding::plain(b.ident.clone(), ty, b.ident.span())
        })
    }

    /// Declares the bindings of a pattern matched by a terminator (arm,
    /// `if let`, `for`): their types are unknown unless spelled.
    pub(super) fn declare_pat(&mut self, pat: &Pat, elem_ty: Option<Type>) -> Vec<BindId> {
        let mut bs = Vec::new();
        scan::binders(pat, None, &mut bs);
        let single = bs.len() == 1 && matches!(strip_pat(pat), Pat::Ident(_));
        let mut out = Vec::new();
        for b in bs {
            let ty =
                b.ty.clone()
                    .or_else(|| if single { elem_ty.clone() } else { None });
            let borrow = ty.as_ref().is_some_and(type_borrows);
            let id = self.declare_binder(&b, ty, None, borrow, false);
            self.g.bindings[id].in_pattern = true;
            out.push(id);
        }
        out
    }
}
