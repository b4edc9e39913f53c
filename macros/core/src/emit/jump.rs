//! Stage 7, emit: terminators. Takes a jump or a suspension point by id;
//! gives its code: a transition (`pc = Variant {..}`, or the target's code
//! in place), a yield (its fast path, or a break out with the state to
//! store), a `call_io!` step. `subst` puts them in place of the
//! `__ratchet_jump!(n)` and `__ratchet_susp!(n)` placeholders of the graph's
//! code.

use proc_macro2::{Group, Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};

use crate::cfg::JumpId;

use super::Emitter;

impl Emitter<'_> {
    // Input:  jump 2, ending `AfterOp`, to `Loop`, which carries `i`
    // Output: `__ratchet_pc = __RatchetPc::Loop { i };` (an inlined target: its code in place)
    pub(super) fn jump(&self, j: JumpId) -> TokenStream {
        let jump = &self.g.jumps[j];
        let pc = &self.pc;
        let pce = &self.pc_enum;
        let target = jump.target;
        let v = &self.plan.block_variants[target];
        let val = Ident::new("__ratchet_val", Span::mixed_site());
        let supplied = jump
            .value
            .as_ref()
            .and_then(|(s, _)| *s)
            .filter(|s| self.live.live_in[target].contains(s));
        let value = jump
            .value
            .as_ref()
            .map(|(_, v)| self.subst(self.plan.renamed_values.get(&j).unwrap_or(v)));
        if jump.tail && self.inline.get(target).copied().unwrap_or(false) {
            let bind = match (value, supplied) {
                (Some(value), Some(s)) => {
                    let id = self.ident(s);
                    quote!(let #id = #value;)
                }
                (Some(value), None) => quote!(let _ = #value;),
                (None, _) => quote!(),
            };
            let code = self.block_code(target);
            return quote!(#bind #code);
        }
        // A break value is computed before the carried bindings move.
        let fields = self.live.live_in[target].iter().map(|&b| {
            if Some(b) == supplied {
                let f = self.field(b);
                quote!(#f: #val)
            } else {
                self.field_init(b, self.plan.hidden_jump.contains(&(j, b)))
            }
        });

        if target == self.cur_arm.get()
            && supplied.is_none()
            && jump.value.is_none()
            && !self.plan.tainted[target]
        {
            // Back to the top of this arm: the carried bindings are the
            // arm's own, already in place.
            self.self_jump.set(true);
            let again = syn::Lifetime::new("'__ratchet_again", Span::mixed_site());
            return quote!({ continue #again; });
        }
        let src = self.jump_src.get(j).copied().unwrap_or(0);
        if jump.tail
            && jump.value.is_none()
            && self.call_blocks.get(target).copied().unwrap_or(false)
            && !self.leaves_scope(j)
            && self.may_duplicate(src, target)
        {
            // A `call_io!` reached from here runs in place; a resume
            // re-enters it through its own arm.
            self.dup_depth.set(self.dup_depth.get() + 1);
            let here = self.scope_at.get(src).cloned().unwrap_or_default();
            self.dup_scopes.borrow_mut().push(here);
            self.dup_at.borrow_mut().push(src);
            let code = self.block_code(target);
            self.dup_scopes.borrow_mut().pop();
            self.dup_at.borrow_mut().pop();
            self.dup_depth.set(self.dup_depth.get() - 1);
            return code;
        }
        // Dead bindings still in scope there, to drop at its end.
        let xs = self.held.borrow()[target].clone();
        let held: Vec<TokenStream> = xs.iter().map(|&x| self.held_init(j, target, x)).collect();
        let fields = fields.chain(held);
        let assign = quote!(#pc = #pce::#v { #(#fields),* };);
        let body = match value {
            Some(value) if supplied.is_some() => quote!(let #val = #value; #assign),
            Some(value) => quote!(let _ = #value; #assign),
            None => assign,
        };
        if jump.tail && !self.in_self_loop.get() {
            body
        } else {
            self.needs_label.set(true);
            let l = &self.label;
            quote!({ #body continue #l; })
        }
    }

    // Input:  `Yield(disk.read(i)) -> AfterRead` storing `i`
    // Output: `let c = disk.read(i); if must_suspend(&c) { break 'd (S::Read { i, __completion: c.clone() }, io(c)) } <AfterRead code>`
    pub(super) fn yield_term(&self, susp: usize, jump: JumpId) -> TokenStream {
        let p = &self.p;
        let s = &self.g.susps[susp];
        let st = &self.stored[susp];
        let name = &self.model.enum_name;
        let v = &self.plan.state_variants[susp];
        let c = &self.c;
        let cf = &self.plan.completion;
        let arg = self.subst(&s.arg);
        let fields = st
            .fields
            .iter()
            .map(|&b| self.field_init(b, self.plan.hidden_susp.contains(&(susp, b))));
        let target = self.g.jumps[jump].target;
        let j = if self.may_duplicate(s.block, target) {
            // The fast path runs the continuation in place; resuming enters
            // it through its own arm.
            let r = self.ident(s.result);
            let bind = if self.live.live_in[target].contains(&s.result) {
                quote!(let #r = #p::yield_result(&#c);)
            } else {
                quote!()
            };
            self.dup_depth.set(self.dup_depth.get() + 1);
            let here = self.scope_at.get(s.block).cloned().unwrap_or_default();
            self.dup_scopes.borrow_mut().push(here);
            self.dup_at.borrow_mut().push(s.block);
            let code = self.block_code(target);
            self.dup_scopes.borrow_mut().pop();
            self.dup_at.borrow_mut().pop();
            self.dup_depth.set(self.dup_depth.get() - 1);
            quote!(#bind #code)
        } else {
            self.jump(jump)
        };
        let span = s.span;
        let arg_span = syn::spanned::Spanned::span(&s.arg);
        let ty = quote_spanned!(arg_span=> #p::Completion);
        let decl = quote_spanned!(span=> let #c: #ty = #arg;);
        let from = crate::model::trace_at();
        let vname = v.to_string();
        let l = self.suspend_label();
        quote! {
            #decl
            if #p::must_suspend(&#c) {
                #p::__ratchet_trace_suspend!(#from, #vname, &#c);
                break #l (#name::#v { #(#fields,)* #cf: #p::Clone::clone(&#c) }, #p::io(#c));
            }
            #p::__ratchet_trace_pass!(#from, #vname);
            #j
        }
    }

    // Input:  `call_io!(self.free_page(i))` storing `i`
    // Output: `let call = self.free_page(i); let r = match call_step(call) { Continue(v) => v, Break(io) => break 'd (S::FreePage { i }, io) };`
    fn call(&self, susp: usize) -> TokenStream {
        let p = &self.p;
        let s = &self.g.susps[susp];
        let st = &self.stored[susp];
        let name = &self.model.enum_name;
        let v = &self.plan.state_variants[susp];
        let arg = self.subst(&s.arg);
        let fields = st
            .fields
            .iter()
            .map(|&b| self.field_init(b, self.plan.hidden_susp.contains(&(susp, b))));
        let r = self.ident(s.result);
        let call = Ident::new("__ratchet_call", Span::mixed_site());
        let done = Ident::new("__ratchet_done", Span::mixed_site());
        let io = Ident::new("__ratchet_io", Span::mixed_site());
        let decl = quote_spanned!(s.span=> let #call = #arg;);
        let from = crate::model::trace_at();
        let vname = v.to_string();
        let l = self.suspend_label();
        let step = quote! {
            match #p::call_step(#call) {
                #p::ControlFlow::Continue(#done) => #done,
                #p::ControlFlow::Break(#io) => {
                    #p::__ratchet_trace_suspend!(#from, #vname, #io.completion());
                    break #l (#name::#v { #(#fields),* }, #io);
                }
            }
        };
        quote! {
            #decl
            let #r = #step;
            #p::__ratchet_trace_pass!(#from, #vname);
        }
    }

    /// A suspension leaves the dispatch loop with the state to store and
    /// what to return: the arm's dead locals drop on the way out, before the
    /// state is written, so a `Drop` that panics leaves it idle (rule 11).
    pub(super) fn suspend_label(&self) -> &syn::Lifetime {
        self.needs_label.set(true);
        self.breaks_out.set(true);
        &self.label
    }

    // Input:  `if i >= 5 { __ratchet_jump!(3); }` (jump 3 to `EndLoop`, from inside kept code)
    // Output: `if i >= 5 { { __ratchet_pc = __RatchetPc::EndLoop { i }; continue '__ratchet_dispatch; }; }`
    /// Fills in `__ratchet_jump!(n)` and `__ratchet_susp!(n)`.
    pub(super) fn subst(&self, tokens: &TokenStream) -> TokenStream {
        let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
        let mut out = TokenStream::new();
        let mut i = 0;
        while i < trees.len() {
            if let TokenTree::Ident(id) = &trees[i]
                && (id == "__ratchet_jump" || id == "__ratchet_susp")
                && let (Some(TokenTree::Punct(bang)), Some(TokenTree::Group(g))) =
                    (trees.get(i + 1), trees.get(i + 2))
                && bang.as_char() == '!'
                && let Ok(n) = g.stream().to_string().trim().parse::<usize>()
            {
                let generated = if id == "__ratchet_jump" {
                    if n < self.g.jumps.len() {
                        self.jump(n)
                    } else {
                        quote!()
                    }
                } else if n < self.g.susps.len() {
                    self.call(n)
                } else {
                    quote!()
                };
                out.extend(generated);
                i += 3;
                continue;
            }
            match &trees[i] {
                TokenTree::Group(g) => {
                    let mut ng = Group::new(g.delimiter(), self.subst(&g.stream()));
                    ng.set_span(g.span());
                    out.extend([TokenTree::Group(ng)]);
                }
                other => out.extend([other.clone()]),
            }
            i += 1;
        }
        out
    }
}
