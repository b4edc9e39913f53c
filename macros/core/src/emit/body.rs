//! Stage 7, emit: the function's body. Takes the emitter (graph, liveness,
//! plan, inlining, held fields); gives the body: the state bound and taken
//! out of its slot, the local `__RatchetPc` enum, and one `loop { match .. }`
//! with an arm per block not inlined (its pattern, then its code).

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};

use crate::cfg::{BindId, BlockId, Term};
use crate::lower::Plan;
use crate::scan::SiteKind;
use crate::tokens::{collect_idents, error_conversion, respan};

use super::Emitter;
use super::{copies_kept, verbatim_off};

impl Emitter<'_> {
    /// `__ratchet_trace_span!(..)`: a span per call with the state it starts
    /// in; the runtime expands it to nothing without its `tracing` feature.
    fn trace_span(&self, waiting: bool) -> TokenStream {
        let p = &self.p;
        let place = self.model.place();
        let machine = self.model.input.sig.ident.to_string();
        let from = crate::model::trace_at();
        let state = if waiting {
            quote!(#p::MachineState::variant(&#place))
        } else {
            quote!("Idle")
        };
        quote!(#p::__ratchet_trace_span!(#from, #machine, #state);)
    }

    // Input:  `state = self.s.borrow_mut()` of `FreePageState`
    // Output: `let __ratchet_state: &mut FreePageState = &mut self.s.borrow_mut();`
    /// Binds where the state lives for this call. An expression is
    /// evaluated once, here: `&mut` of a place is the state itself, of a
    /// guard (`RefMut`, `MutexGuard`) it derefs to it by the typed binding's
    /// coercion, and the guard, a temporary of this `let`, lives to the end
    /// of the call. The `&mut` and the type carry the expression's span, so
    /// rustc's error for an expression that does not deref to the state
    /// points at it.
    fn bind_state(&self) -> TokenStream {
        let crate::args::StateTarget::Expr(e) = &self.model.state else {
            return self.model.bind_state();
        };
        let name = &self.model.enum_name;
        let generics = self.state_generics();
        let (_, tg, _) = generics.split_for_impl();
        let st = crate::model::state_binding();
        let span = syn::spanned::Spanned::span(&**e);
        let bare = matches!(
            &**e,
            syn::Expr::MethodCall(_)
                | syn::Expr::Field(_)
                | syn::Expr::Index(_)
                | syn::Expr::Path(_)
                | syn::Expr::Call(_)
                | syn::Expr::Paren(_)
                | syn::Expr::Unary(_)
                | syn::Expr::Macro(_)
        );
        let guard_like = gives_a_guard(e);
        let e = if bare { quote!(#e) } else { quote!((#e)) };
        // All of it at the expression, so that rustc's "expected `&mut
        // FooState`" does not stretch to the state's name elsewhere.
        let ty = respan(quote!(&mut #name #tg), span);
        if guard_like {
            // A call's value is a guard to deref, never the state itself:
            // held in a local for the call, and asked for `DerefMut` so that
            // a state made afresh by each call is refused.
            let p = &self.p;
            let guard = proc_macro2::Ident::new(
                "__ratchet_guard",
                span.resolved_at(proc_macro2::Span::mixed_site()),
            );
            // One span for the whole call, the guard's own, so that rustc's
            // error for a fresh value points at the user's expression.
            let span = guard.span();
            let mut_guard = quote_spanned!(span=> &mut #guard);
            let state_in = respan(quote!(#p::state_in), span);
            let deref = quote_spanned!(span=> #state_in(#mut_guard));
            return quote! {
                let mut #guard = #e;
                let #st: #ty = #deref;
            };
        }
        let borrow = quote_spanned!(span=> &mut #e);
        quote!(let #st: #ty = #borrow;)
    }

    pub(super) fn body(&self) -> TokenStream {
        let p = &self.p;
        let place = self.model.place();
        let bind_state = self.bind_state();
        let assert_err = self.model.err_ty.as_ref().map(|e| {
            let conv = error_conversion(p, e);
            quote!(let _ = #conv;)
        });
        let reachable: Vec<BlockId> = self.live.order.clone();
        let paths = &self.g.macro_paths;
        let items = &self.g.items;
        let assert_err = quote!(#(#items)* #assert_err #(#paths!(__ratchet_seen);)*);
        if self.g.susps.iter().all(|s| !self.live.reachable[s.block]) && reachable == [0] {
            let b = &self.g.blocks[0];
            let n = b.pieces.len();
            let mut pieces: Vec<TokenStream> = b.pieces.iter().map(|pc| self.subst(&pc.tokens)).collect();
            let tail = match (&b.term, &b.ret_expr) {
                (Term::Return, Some(r)) if n > 0 => {
                    pieces.truncate(n - 1);
                    Some(self.subst(r))
                }
                _ => None,
            };
            let span = self.trace_span(false);
            let reevaluated = self.reevaluated();
            return quote! {
                #assert_err
                #bind_state
                let _ = &#place;
                #span
                #(#reevaluated)*
                #(#pieces)*
                #tail
            };
        }
        let name = &self.model.enum_name;
        let pc = &self.pc;
        let pce = &self.pc_enum;
        // The start from `Idle` runs the body verbatim where it can (see
        // `verbatim`); the dispatch keeps only the arms a resume reaches.
        let verbatim = if verbatim_off() {
            None
        } else {
            self.verbatim_arm().ok()
        };
        self.verbatim_start.set(verbatim.is_some() && !copies_kept());
        let reachable: Vec<BlockId> = match &verbatim {
            Some(_) => {
                let resumed = self.resumed_blocks();
                reachable.into_iter().filter(|&b| b == 0 || resumed[b]).collect()
            }
            None => reachable,
        };

        // The local program-counter enum: one variant per block, generic
        // over the types of the bindings it carries (rustc infers them).
        // One parameter per binding, shared by every variant that carries
        // it: a binding has one type, and a parameter per variant field made
        // rustc's inference quadratic (a 90-block machine had 363
        // parameters, each construction of the enum 363 fresh variables).
        let mut tparams: Vec<Ident> = Vec::new();
        let mut tparam_of: BTreeMap<BindId, Ident> = BTreeMap::new();
        let mut held_tparam_of: BTreeMap<BindId, Ident> = BTreeMap::new();
        let mut pc_variants = Vec::new();
        for &b in reachable.iter().filter(|&&b| !self.inline[b]) {
            let v = &self.plan.block_variants[b];
            let fields: Vec<TokenStream> = self.live.live_in[b]
                .iter()
                .map(|&x| {
                    let t = tparam_of.entry(x).or_insert_with(|| {
                        let t = format_ident!("T{}", tparams.len());
                        tparams.push(t.clone());
                        t
                    });
                    let id = self.field(x);
                    quote!(#id: #t)
                })
                .collect();
            let held: Vec<TokenStream> = self.held.borrow()[b]
                .iter()
                .map(|&x| {
                    let t = held_tparam_of.entry(x).or_insert_with(|| {
                        let t = format_ident!("T{}", tparams.len());
                        tparams.push(t.clone());
                        t
                    });
                    let id = self.held_ident(x);
                    quote!(#id: #t)
                })
                .collect();
            pc_variants.push(quote!(#v { #(#fields,)* #(#held),* }));
        }
        let tgen = if tparams.is_empty() {
            quote!()
        } else {
            quote!(<#(#tparams),*>)
        };

        let arms: Vec<TokenStream> = reachable
            .iter()
            .filter(|&&b| !self.inline[b])
            .map(|&b| match &verbatim {
                Some(arm) if b == 0 => arm.clone(),
                _ => self.arm(b),
            })
            .collect();

        // Re-entry while the awaited completion is pending runs nothing.
        let mut waits = false;
        let mut resumes = Vec::new();
        let c = &self.c;
        for (i, s) in self.g.susps.iter().enumerate() {
            if !self.live.reachable[s.block] {
                continue;
            }
            let v = &self.plan.state_variants[i];
            let st = &self.stored[i];
            let fields: Vec<&Ident> = st.fields.iter().map(|&b| self.field(b)).collect();
            let target = st.resume;
            let tv = &self.plan.block_variants[target];
            let inits: Vec<TokenStream> = self.live.live_in[target]
                .iter()
                .map(|&b| {
                    let id = self.field(b);
                    if b == s.result {
                        quote!(#id: #p::yield_result(&#c))
                    } else if self.g.bindings[b].param {
                        // A moved parameter: this call's argument.
                        let arg = &self.g.bindings[b].ident;
                        if id == arg {
                            quote!(#arg)
                        } else {
                            quote!(#id: #arg)
                        }
                    } else if let Some(rb) = &self.g.bindings[b].reborrow {
                        quote!(#id: #rb)
                    } else {
                        quote!(#id)
                    }
                })
                .collect();
            // A held binding was dropped at the suspension (rule 8).
            let inits: Vec<TokenStream> = inits
                .into_iter()
                .chain(self.held.borrow()[target].iter().map(|&x| {
                    let f = self.held_ident(x);
                    quote!(#f: #p::None)
                }))
                .collect();
            match s.kind {
                SiteKind::Yield => {
                    let cf = &self.plan.completion;
                    waits = true;
                    let cpat = if self.live.live_in[target].contains(&s.result) {
                        quote!(#c)
                    } else {
                        quote!(_)
                    };
                    resumes.push(quote!(#name::#v { #(#fields,)* #cf: #cpat } => #pce::#tv { #(#inits),* }));
                }
                SiteKind::Call => {
                    resumes.push(quote!(#name::#v { #(#fields),* } => #pce::#tv { #(#inits),* }));
                }
            }
        }
        let at = crate::model::trace_at();
        let waited = Ident::new("__ratchet_waited", Span::mixed_site());
        let pending = if !waits {
            quote!(#p::__ratchet_trace_resume!(#at, #p::None);)
        } else {
            quote! {
                // By `ref`, not by matching `&place`: where the state's
                // type cannot be resolved (a field of a type named wrong),
                // rustc's one error says so and this match adds none.
                let #waited = #p::MachineState::waited(&#place);
                if let #p::Some(__ratchet_io) = #p::pending_io(#waited) {
                    #p::__ratchet_trace_suspend!(#at, __ratchet_io.completion());
                    return #p::Ok(#p::IOResult::IO(__ratchet_io));
                }
                #p::__ratchet_trace_resume!(#at, #waited);
            }
        };
        let span = self.trace_span(true);
        // After the state is taken, so that an error they return leaves
        // the machine idle (rule 11), as any error of the body does.
        let reevaluated = self.reevaluated();
        let start = &self.plan.block_variants[0];
        // The `mut` and moved parameters, moved in (see `cfg::build`);
        // `&mut` marks a parameter's own `mut` used.
        let start_fields = self.live.live_in[0].iter().map(|&b| {
            let (f, id) = (self.field(b), self.ident(b));
            if self.g.bindings[b].mutable {
                quote!(#f: { let _ = &mut #id; #id })
            } else if f == id {
                quote!(#id)
            } else {
                quote!(#f: #id)
            }
        });
        let label = self.needs_label.get().then(|| {
            let l = &self.label;
            quote!(#l:)
        });
        let take = quote!(#p::mem::take(&mut #place));
        let resume = |from: &TokenStream| {
            quote! {
                let mut #pc = match #from {
                    #name::Idle => #pce::#start { #(#start_fields),* },
                    #(#resumes,)*
                };
            }
        };
        // Re-evaluated bindings come after the state is taken, so that an
        // error they return leaves the machine idle (rule 11), and before
        // the stored locals are resumed, whose re-created borrows may read
        // them (rule 9); and they live in the block of the dispatch, so that
        // they are dropped before the state is written back (one may borrow
        // all of `self`, whose field the state is).
        let (taken, dispatch) = if reevaluated.is_empty() {
            (resume(&take), quote!(#label loop { match #pc { #(#arms)* } }))
        } else {
            let t = Ident::new("__ratchet_taken", Span::mixed_site());
            let resume = resume(&quote!(#t));
            (
                quote!(let #t = #take;),
                quote!({ #(#reevaluated)* #resume #label loop { match #pc { #(#arms)* } } }),
            )
        };
        let (next, io) = (
            Ident::new("__ratchet_next", Span::mixed_site()),
            Ident::new("__ratchet_io", Span::mixed_site()),
        );
        let (taken, dispatch) = if self.breaks_out.get() {
            // The by-value arguments are moved into the block that leaves
            // with the state to store, so that they drop, after the body's
            // locals as in Rust, before the state is written: one whose
            // `Drop` panics leaves the state idle (rule 11).
            let args = self.dropped_args();
            if args.is_empty() {
                (
                    taken,
                    quote!(let (#next, #io) = #dispatch; #place = #next; #p::Ok(#p::IOResult::IO(#io))),
                )
            } else {
                (
                    quote!(),
                    quote! {
                        let (#next, #io) = { let (#(#args,)*) = (#(#args,)*); #taken #dispatch };
                        #place = #next;
                        #p::Ok(#p::IOResult::IO(#io))
                    },
                )
            }
        } else {
            (taken, dispatch)
        };
        quote! {
            #[allow(clippy::enum_variant_names, clippy::large_enum_variant)]
            enum #pce #tgen {
                #(#pc_variants,)*
            }
            #assert_err
            #bind_state
            #span
            #pending
            #taken
            #dispatch
        }
    }

    // Input:  `fn f(st, dev: &Dev, n: u64, mut m: Vec<u8>, a: Arg)`
    // Output: `[a]`
    /// The by-value parameters that may need dropping, each moved into the
    /// dispatch's block (see `body`): not a `mut` one (moved into the
    /// machine on the first call, and its `mut` must stay used), not one of
    /// a type that is `Copy` whatever the code, and not one the `state =`
    /// expression reads (it may borrow it for the whole call).
    pub(super) fn dropped_args(&self) -> Vec<&Ident> {
        let state_idents: BTreeSet<String> = {
            let mut out = BTreeSet::new();
            if let crate::args::StateTarget::Expr(e) = &self.model.state {
                collect_idents(&e.to_token_stream(), &mut out);
            }
            out
        };
        self.model
            .params
            .iter()
            .filter(|p| !p.mutable && !crate::liveness::copy_whatever(&p.ty))
            .filter(|p| !state_idents.contains(&p.ident.to_string()))
            .map(|p| &p.ident)
            .collect()
    }

    // Input:  `#[reevaluated] let v = match o { Some(v) => v, None => return Ok(0) };`
    // Output: `let v = match o { Some(v) => v, None => return p::done(Ok(0)) };`
    /// The re-evaluated bindings (see `reeval`), their `return`s made the
    /// machine's (rule 1), as the body's are.
    pub(super) fn reevaluated(&self) -> Vec<syn::Stmt> {
        let mut stmts = self.model.reevaluated.clone();
        for s in &mut stmts {
            crate::reeval::map_returns(s, &|e| {
                self.model
                    .done(&e.to_token_stream(), syn::spanned::Spanned::span(e))
            });
        }
        stmts
    }

    // Input:  block `AfterOp` carrying `i`, its code `__ratchet_r1?; i = step(i); __ratchet_jump!(2)`
    // Output: `__RatchetPc::AfterOp { mut i, __ratchet_r1 } => { __ratchet_r1?; i = step(i); __ratchet_pc = __RatchetPc::Loop { i }; }`
    fn arm(&self, b: BlockId) -> TokenStream {
        let pce = &self.pc_enum;
        let v = &self.plan.block_variants[b];
        self.cur_arm.set(b);
        self.arm_mut.set(false);
        self.self_jump.set(false);
        self.in_self_loop.set(false);
        let pats = self.arm_pats(b);
        let mut code = self.block_code(b);
        if self.self_jump.get() {
            // The arm jumps back to itself: a real loop, as written by hand;
            // its other exits leave through the dispatch.
            self.in_self_loop.set(true);
            let again = syn::Lifetime::new("'__ratchet_again", Span::mixed_site());
            let inner = self.block_code(b);
            code = quote!(#again: loop { #inner });
            self.in_self_loop.set(false);
        }
        // Locals declared `mut` are bound `mut` in every block that carries
        // them, including blocks that only pass them on.
        let allow = self.arm_mut.get().then(|| quote!(#[allow(unused_mut)]));
        quote! {
            #allow
            #pce::#v { #(#pats),* } => {
                #code
            }
        }
    }

    /// The patterns of an arm's fields: the bindings it carries in (and
    /// the held ones), each under the name its code reads.
    pub(super) fn arm_pats(&self, b: BlockId) -> Vec<TokenStream> {
        // In declaration order: a `return` drops the pattern's bindings
        // in reverse order of the pattern, as Rust drops the locals.
        let held = self.held.borrow()[b].clone();
        let mut order: Vec<BindId> = self.live.live_in[b]
            .iter()
            .copied()
            .chain(held.iter().copied())
            .collect();
        order.sort_unstable();
        order
            .iter()
            .map(|&x| {
                if held.contains(&x) {
                    let f = self.held_ident(x);
                    return quote!(#f);
                }
                let id = self.ident(x);
                let f = self.field(x);
                // A binding held only for its `Drop` is never read: where the
                // arm ends its scope, the pattern's binding is all there is,
                // and `unused_variables` would fire where the user allowed it
                // on the `let` (attack round 14, F7), or, without that, a
                // second time beside the `let`'s own warning.
                let allow = self.g.bindings[x]
                    .drop_only
                    .then(|| quote!(#[allow(unused_variables)]));
                let pat = if self.plan.hidden_in.contains(&(b, x)) {
                    let h = Plan::hidden_ident(self.g, x);
                    quote!(#f: #h)
                } else if self.g.bindings[x].mutable {
                    self.arm_mut.set(true);
                    if f == id {
                        quote!(mut #id)
                    } else {
                        quote!(#f: mut #id)
                    }
                } else if f == id {
                    quote!(#id)
                } else {
                    quote!(#f: #id)
                };
                quote!(#allow #pat)
            })
            .collect()
    }

    /// The code of a block: its pieces, then its terminator.
    pub(super) fn block_code(&self, block: BlockId) -> TokenStream {
        let blk = &self.g.blocks[block];
        if blk
            .pieces
            .iter()
            .flat_map(|p| &p.defs)
            .any(|&d| self.g.bindings[d].mutable)
        {
            self.arm_mut.set(true);
        }
        // Inside the arm of a block that carries the binding in, the arm's
        // own variable is the one to overwrite (a jump back to the top of
        // the arm keeps it).
        let arm_live = &self.live.live_in[self.cur_arm.get()];
        let late: Vec<BindId> = self
            .late_decls(block)
            .into_iter()
            .filter(|b| !arm_live.contains(b) && !self.declared_around(*b))
            .collect();
        let decls = late.iter().map(|&b| {
            let binding = &self.g.bindings[b];
            let id = &binding.ident;
            let m = binding.mutable.then(|| {
                self.arm_mut.set(true);
                quote!(mut)
            });
            // Declared here because the block gives it its value: the
            // declaration may stand right before that assignment.
            let allow = quote!(#[allow(clippy::needless_late_init)]);
            match &binding.ty {
                Some(ty) => quote!(#allow let #m #id: #ty;),
                None => quote!(#allow let #m #id;),
            }
        });
        let decls: Vec<TokenStream> = decls.collect();
        // Moves a binding to its hidden name: `saves` when a `let` hides
        // it while it is still needed, `pre_saves` when a jump inside kept
        // code that rebinds its name must carry it (it takes its name back
        // after that code, `restores`). Spanned at the hiding binding: a
        // use-after-move error (the hiding `let` reading a non-`Copy` old
        // value) points there. Kept code whose references were renamed to
        // the hidden name may also write it, so there it is as `mut` as the
        // binding.
        let aside = |map: &BTreeMap<(BlockId, usize), Vec<(BindId, BindId)>>, k: usize| -> TokenStream {
            let moved = map.get(&(block, k)).map_or(&[][..], Vec::as_slice);
            let renamed = self.plan.renamed.contains_key(&(block, k));
            moved
                .iter()
                .map(|&(b, by)| {
                    let h = Plan::hidden_ident(self.g, b);
                    // A clone keeps a raw identifier (`r#type`) raw.
                    let mut id = self.ident(b).clone();
                    id.set_span(self.g.bindings[by].decl_span);
                    if renamed && self.g.bindings[b].mutable {
                        quote!(#[allow(unused_mut)] let mut #h = #id;)
                    } else {
                        quote!(let #h = #id;)
                    }
                })
                .collect()
        };
        let save = |k: usize| aside(&self.plan.saves, k);
        let pre_save = |k: usize| aside(&self.plan.pre_saves, k);
        let restore = |k: usize| -> TokenStream {
            let back = self.plan.restores.get(&(block, k)).map_or(&[][..], Vec::as_slice);
            back.iter()
                .map(|&b| {
                    let h = Plan::hidden_ident(self.g, b);
                    let id = self.ident(b);
                    let m = self.g.bindings[b].mutable.then(|| quote!(mut));
                    quote!(#[allow(unused_variables, unused_mut)] let #m #id = #h;)
                })
                .collect()
        };
        let pieces: Vec<TokenStream> = blk
            .pieces
            .iter()
            .enumerate()
            .map(|(k, pc)| {
                let (pre, post) = (pre_save(k), restore(k));
                let mut saves = save(k);
                let p = &self.p;
                for x in self.held_aside(block, k) {
                    let (f, id) = (self.held_ident(x), self.ident(x));
                    saves.extend(quote!(let #f = #p::Some(#id);));
                }
                let carried = &pc.attrs;
                match &pc.split_let {
                    // `let x = f(&x);` hiding an `x` still needed: `f(&x)`
                    // runs first, then the old `x` moves aside.
                    Some(split) if !saves.is_empty() => {
                        let init = Ident::new("__ratchet_init", Span::mixed_site());
                        let (attrs, pat) = (&split.attrs, &split.pat);
                        let ty = split.ty.as_ref().map(|t| quote!(: #t));
                        let value = self.subst(&split.init);
                        quote!(#pre #carried let #init #ty = #value; #saves #carried #attrs let #pat = #init; #post)
                    }
                    _ if pc.uninit_decl && !self.assigned_later(block, k) => quote!(#pre #saves #post),
                    _ => {
                        let code = self.plan.renamed.get(&(block, k)).unwrap_or(&pc.tokens);
                        let code = with_attrs(carried, self.subst(code));
                        quote!(#pre #saves #code #post)
                    }
                }
            })
            .collect();
        let before_term = {
            let (pre, saves) = (pre_save(blk.pieces.len()), save(blk.pieces.len()));
            quote!(#pre #saves)
        };
        // The attributes of a taken-apart statement (`#[allow(..)] if ..`)
        // stay on its terminator's code.
        let attrs = &blk.term_attrs;
        let mine = self.declared_by(block, &late);
        self.declared.borrow_mut().push(mine);
        let term = match &blk.term {
            Term::Open | Term::Diverged | Term::Return => quote!(),
            Term::Goto(j) => self.jump(*j),
            Term::If { cond, then, els } => {
                let cond = self.subst(cond);
                let t = self.jump(*then);
                let e = self.jump(*els);
                with_attrs(attrs, quote!(if #cond { #t } else { #e }))
            }
            Term::Match { scrut, arms } => {
                let scrut = self.subst(scrut);
                let arms = arms.iter().map(|(pat, j)| {
                    let pat = self.subst(pat);
                    let j = self.jump(*j);
                    quote!(#pat => { #j })
                });
                with_attrs(attrs, quote!(match #scrut { #(#arms)* }))
            }
            Term::Yield { susp, jump } => {
                let code = self.yield_term(*susp, *jump);
                quote!(#attrs #code)
            }
        };
        self.declared.borrow_mut().pop();
        quote!(#(#decls)* #(#pieces)* #before_term #term)
    }

    // Input:  `let mut g = D(1); yield_io!(c)?; g = D(2);`, the yield's continuation run in place
    // Output: `true` for `g`: the continuation assigns it, with no second `let mut g: D;`
    /// Whether binding `b` is declared by a block around the code being
    /// emitted (see `declared`), and no binding of its name declared after
    /// it there hides it.
    fn declared_around(&self, b: BindId) -> bool {
        let frames = self.declared.borrow();
        let name = &self.g.bindings[b].ident;
        frames
            .iter()
            .flatten()
            .rev()
            .find(|&&d| self.g.bindings[d].ident == *name)
            .is_some_and(|&d| d == b)
    }

    /// What block `block` declares for the code emitted inside its
    /// terminator: its late declarations and its `let`s (an uninitialized
    /// one only where it is emitted, see `assigned_later`).
    fn declared_by(&self, block: BlockId, late: &[BindId]) -> Vec<BindId> {
        let blk = &self.g.blocks[block];
        let mut out = late.to_vec();
        for (k, pc) in blk.pieces.iter().enumerate() {
            if pc.uninit_decl && !self.assigned_later(block, k) {
                continue;
            }
            out.extend(pc.defs.iter().copied());
        }
        out
    }

    /// Whether the bindings of the uninitialized `let` at piece `k` of a
    /// block get a value in that block's own code, which then declares
    /// them there (elsewhere, the block assigning one declares it).
    fn assigned_later(&self, block: BlockId, k: usize) -> bool {
        let blk = &self.g.blocks[block];
        let Some(decl) = blk.pieces.get(k) else {
            return false;
        };
        let later = &blk.pieces[k + 1..];
        decl.defs.iter().any(|d| {
            later.iter().any(|p| p.uses.contains(d) || p.assigns.contains(d)) || blk.term_uses.contains(d)
        })
    }
}

// Input:  `#[allow(x)]`, `if c { .. } else { .. }`
// Output: `#[allow(x)] { if c { .. } else { .. } }`
/// Statements with the attributes of the taken-apart statement they come
/// from: a `let` (or an item, or code already ending in `;` as one
/// statement) takes them directly; an expression, which may be an `if`
/// (where attributes are not allowed) or the tail of a block (where
/// expressions take none), goes into a block that takes them.
fn with_attrs(attrs: &TokenStream, code: TokenStream) -> TokenStream {
    if attrs.is_empty() {
        return code;
    }
    let first = code.clone().into_iter().next();
    let is_let = matches!(&first, Some(TokenTree::Ident(i)) if i == "let");
    let is_attr = matches!(&first, Some(TokenTree::Punct(p)) if p.as_char() == '#');
    if is_let || is_attr {
        quote!(#attrs #code)
    } else {
        quote!(#attrs { #code })
    }
}

/// Whether a `state =` expression gives a value (a call, or `?` on one)
/// rather than naming a place (`self.s`, `self.states[i]`, `*guard`).
fn gives_a_guard(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Paren(p) => gives_a_guard(&p.expr),
        syn::Expr::Call(_) | syn::Expr::MethodCall(_) | syn::Expr::Try(_) => true,
        _ => false,
    }
}
