//! A resumed `call_io!` point calls its callee again where the state lies,
//! before the state is taken out of its slot: while the callee is still
//! waiting (the common case in a nest of machines, where every completion
//! resumes each level down to the one that waits on it), the call returns
//! `IO` again having moved nothing. Only a finished callee (`Done` or
//! `Err`) takes the state and enters the dispatch, which then reads the
//! callee's answer instead of calling it a second time.
//!
//! Input:  `let used = call_io!(free_page(&mut inner, dev, no))?;`, stored `inner`
//! Output (before the state is taken):
//! ```text
//! let mut __ratchet_pre0 = None;
//! let mut unwind = IdleOnUnwind::new(&mut *st);
//! let io = match unwind.state() {
//!     FreePagesState::FreePage { inner, .. } => {
//!         let call = free_page(&mut (*inner), dev, no);
//!         match call_step(call) { Break(io) => Some(io), Continue(r) => { __ratchet_pre0 = Some(r); None } }
//!     }
//!     _ => None,
//! };
//! unwind.disarm();
//! if let Some(io) = io { return Ok(IO(io)); }
//! ```
//! and the dispatch's call reads `__ratchet_pre0.take()` before calling.
//!
//! The call is the same expression the dispatch would evaluate, once per
//! resume either way (rule 5), with each stored local it names read
//! through a reference into the state (`(*x)`). That is the same code where
//! the name stands under `&` or `&mut` (through fields and indexing), or
//! alone as an argument or an element, where it is a copy (a move there is
//! refused by `call_io!`'s own check, at type checking). Elsewhere (a
//! method's receiver, an operator's operand) a move would become a second
//! error, so the point keeps to the dispatch, as it does at anything the
//! check cannot see through (a macro, a closure, a block, `?`, a binding)
//! and in a machine whose resume does more before the dispatch than take
//! the state (re-evaluated bindings, by-value parameters dropped before
//! the state is written).

use std::collections::BTreeMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote};
use syn::Expr;
use syn::visit_mut::VisitMut;

use super::Emitter;
use crate::scan::SiteKind;

/// A `call_io!` point whose resume calls in place.
pub(super) struct InPlaceCall {
    /// The `Option` the prologue fills with a finished callee's answer.
    pub pre: Ident,
    /// The state's fields the call reads, each bound by reference.
    fields: Vec<(Ident, Ident)>,
    /// The call, its stored locals read through those references.
    call: TokenStream,
}

impl Emitter<'_> {
    /// The `call_io!` points whose resume calls in place (see the module's
    /// doc), by suspension index.
    pub(super) fn in_place_calls(&self) -> BTreeMap<usize, InPlaceCall> {
        let mut out = BTreeMap::new();
        if !self.reevaluated().is_empty() || !self.dropped_args().is_empty() {
            return out;
        }
        for (n, s) in self.g.susps.iter().enumerate() {
            if s.kind != SiteKind::Call || !self.live.reachable[s.block] {
                continue;
            }
            if let Some(call) = self.in_place_call(n) {
                out.insert(n, call);
            }
        }
        out
    }

    fn in_place_call(&self, n: usize) -> Option<InPlaceCall> {
        let s = &self.g.susps[n];
        let st = &self.stored[n];
        // The resume enters the block that starts with this call, so the
        // first thing the dispatch does is the call the prologue made.
        if st.resume != s.block {
            return None;
        }
        let first = self.g.blocks[s.block].pieces.first()?;
        let lit = proc_macro2::Literal::usize_unsuffixed(n);
        if first.tokens.to_string() != quote!(__ratchet_susp!(#lit)).to_string() {
            return None;
        }
        // A state in a field of `self` is borrowed where it lies while the
        // call runs: a call that reaches `self` borrows it a second time.
        if matches!(self.model.state, crate::args::StateTarget::SelfField(_)) && names_self(&s.arg) {
            return None;
        }
        let mut stored = BTreeMap::new();
        for &b in &st.fields {
            let binding = &self.g.bindings[b];
            if self.plan.hidden_susp.contains(&(n, b)) || self.field(b) != &binding.ident || binding.param {
                return None;
            }
            stored.insert(binding.ident.to_string(), b);
        }
        // Every local the call names must be one of those fields: a
        // re-created borrow or a parameter made a local is entered by the
        // dispatch, not found in the state.
        let scope: BTreeMap<&str, usize> = s.scope.iter().map(|(name, b)| (name.as_str(), *b)).collect();
        let mut expr: Expr = syn::parse2(s.arg.clone()).ok()?;
        let mut through = ThroughRefs {
            stored: &stored,
            scope: &scope,
            used: BTreeMap::new(),
            ok: true,
            at: At::Value,
        };
        through.visit_expr_mut(&mut expr);
        if !through.ok || through.used.is_empty() {
            return None;
        }
        let fields = through
            .used
            .into_iter()
            .map(|(_, (id, b))| (self.field(b).clone(), id))
            .collect();
        Some(InPlaceCall {
            pre: Ident::new(&format!("__ratchet_pre{n}"), Span::mixed_site()),
            fields,
            call: expr.to_token_stream(),
        })
    }

    /// The prologue that calls each in-place point's callee (see the
    /// module's doc); nothing when there is none.
    pub(super) fn in_place_prologue(&self) -> TokenStream {
        if self.in_place.is_empty() {
            return TokenStream::new();
        }
        let p = &self.p;
        let name = &self.model.enum_name;
        let place = self.model.place();
        let at = crate::model::trace_at();
        let unwind = Ident::new("__ratchet_unwind", Span::mixed_site());
        let io = Ident::new("__ratchet_io", Span::mixed_site());
        let call = Ident::new("__ratchet_call", Span::mixed_site());
        let done = Ident::new("__ratchet_done", Span::mixed_site());
        let pres = self.in_place.values().map(|c| &c.pre);
        let arms = self.in_place.iter().map(|(&n, c)| {
            let v = &self.plan.state_variants[n];
            let pre = &c.pre;
            let fields = c
                .fields
                .iter()
                .map(|(f, id)| if f == id { quote!(#f) } else { quote!(#f: #id) });
            let vname = v.to_string();
            let e = &c.call;
            let decl = quote::quote_spanned!(self.g.susps[n].span=> let #call = #e;);
            quote! {
                #name::#v { #(#fields,)* .. } => {
                    #decl
                    match #p::call_step(#call) {
                        #p::ControlFlow::Break(#io) => {
                            #p::__ratchet_trace_suspend!(#at, #vname, #io.completion());
                            #p::Some(#io)
                        }
                        #p::ControlFlow::Continue(#done) => {
                            #pre = #p::Some(#done);
                            #p::None
                        }
                    }
                }
            }
        });
        quote! {
            #(let mut #pres = #p::None;)*
            {
                let mut #unwind = #p::IdleOnUnwind::new(&mut #place);
                let #io = match #unwind.state() {
                    #(#arms)*
                    _ => #p::None,
                };
                #unwind.disarm();
                if let #p::Some(#io) = #io {
                    return #p::Ok(#p::IOResult::IO(#io));
                }
            }
        }
    }
}

/// Where a name stands in the call, for what reading it through a
/// reference would change.
#[derive(Clone, Copy, PartialEq)]
enum At {
    /// Under `&`/`&mut`, through field accesses and index bases: a place.
    Place,
    /// An argument, a field of a struct literal, an element of a tuple or
    /// array, alone: a copy, or a move that `call_io!`'s own check refuses
    /// at type checking (`moved_on_every_resume`, before any borrow check
    /// could see the reference).
    Operand,
    /// Anything else (a receiver, an operator's operand, a field read by
    /// value): a move through a reference would be a second error.
    Value,
}

/// Rewrites each stored local `x` of a call to `(*x)` where that reads the
/// same (see [`At`]); `ok` turns false at anything else that names one, or
/// at a construct the rewrite cannot see through.
struct ThroughRefs<'a> {
    stored: &'a BTreeMap<String, usize>,
    scope: &'a BTreeMap<&'a str, usize>,
    /// The stored locals rewritten: the user's identifier and the binding.
    used: BTreeMap<String, (Ident, usize)>,
    ok: bool,
    at: At,
}

impl ThroughRefs<'_> {
    fn visit_at(&mut self, at: At, e: &mut Expr) {
        let outer = std::mem::replace(&mut self.at, at);
        self.visit_expr_mut(e);
        self.at = outer;
    }
}

impl VisitMut for ThroughRefs<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if !self.ok {
            return;
        }
        match e {
            Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => {
                let id = &p.path.segments[0].ident;
                let name = id.to_string();
                match self.scope.get(name.as_str()) {
                    // Not a local: an argument, `self`, a constant, a function.
                    None => {}
                    Some(&b) if self.at != At::Value && self.stored.get(&name) == Some(&b) => {
                        self.used.insert(name, (id.clone(), b));
                        let id = id.clone();
                        *e = syn::parse_quote!((*#id));
                    }
                    Some(_) => self.ok = false,
                }
            }
            Expr::Path(_) | Expr::Lit(_) => {}
            Expr::Reference(r) => self.visit_at(At::Place, &mut r.expr),
            Expr::Field(f) => {
                let at = if self.at == At::Place {
                    At::Place
                } else {
                    At::Value
                };
                self.visit_at(at, &mut f.base);
            }
            Expr::Index(i) => {
                let at = if self.at == At::Place {
                    At::Place
                } else {
                    At::Value
                };
                self.visit_at(at, &mut i.expr);
                self.visit_at(At::Value, &mut i.index);
            }
            Expr::Paren(p) => self.visit_expr_mut(&mut p.expr),
            // `&mut *boxed`: a place through a place.
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) && self.at == At::Place => {
                self.visit_expr_mut(&mut u.expr);
            }
            Expr::Call(c) => {
                self.visit_at(At::Value, &mut c.func);
                for a in &mut c.args {
                    self.visit_at(At::Operand, a);
                }
            }
            Expr::MethodCall(m) => {
                self.visit_at(At::Value, &mut m.receiver);
                for a in &mut m.args {
                    self.visit_at(At::Operand, a);
                }
            }
            Expr::Tuple(t) => {
                for a in &mut t.elems {
                    self.visit_at(At::Operand, a);
                }
            }
            Expr::Array(a) => {
                for x in &mut a.elems {
                    self.visit_at(At::Operand, x);
                }
            }
            Expr::Struct(st) => {
                for f in &mut st.fields {
                    // The shorthand `S { x }` would need its name written out.
                    if f.colon_token.is_none() {
                        self.ok = false;
                        return;
                    }
                    self.visit_at(At::Operand, &mut f.expr);
                }
                if let Some(rest) = &mut st.rest {
                    self.visit_at(At::Value, rest);
                }
            }
            // A comparison borrows its operands (`PartialEq::eq(&a, &b)`);
            // `&&` and `||` take `bool`s, copies.
            Expr::Binary(b) if is_comparison(&b.op) => {
                self.visit_at(At::Place, &mut b.left);
                self.visit_at(At::Place, &mut b.right);
            }
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) => {
                self.visit_at(At::Operand, &mut b.left);
                self.visit_at(At::Operand, &mut b.right);
            }
            Expr::Binary(_) | Expr::Unary(_) | Expr::Cast(_) | Expr::Range(_) | Expr::Repeat(_) => {
                let outer = std::mem::replace(&mut self.at, At::Value);
                syn::visit_mut::visit_expr_mut(self, e);
                self.at = outer;
            }
            _ => self.ok = false,
        }
    }

    // Generic arguments and types in paths (`f::<T>`, `x as T`) name no
    // local.
    fn visit_type_mut(&mut self, _: &mut syn::Type) {}
}

/// Whether `tokens` name `self` anywhere (inside macros too).
fn names_self(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(id) => id == "self",
        proc_macro2::TokenTree::Group(g) => names_self(&g.stream()),
        _ => false,
    })
}

fn is_comparison(op: &syn::BinOp) -> bool {
    use syn::BinOp::{Eq, Ge, Gt, Le, Lt, Ne};
    matches!(op, Eq(_) | Ne(_) | Lt(_) | Le(_) | Gt(_) | Ge(_))
}
