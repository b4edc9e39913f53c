//! Stage 7, emit: the state enum users name. Takes the stored sets (per
//! suspension point, the bindings live there, see [`crate::types`]) and the
//! plan's variant names; gives the enum with its doc (the diagram, each
//! variant's locals) and one `__ratchet_state!` call that writes its impls.
//! [`state_generics`] picks the function's generics the stored types need,
//! also for a failed expansion's idle-only enum.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::visit_mut::VisitMut;
use syn::{GenericParam, Generics, Type};

use crate::cfg::BindId;
use crate::model::Model;
use crate::scan::SiteKind;
use crate::tokens::collect_idents;

use super::Emitter;
use super::diagram::{dot, mermaid};

impl Emitter<'_> {
    /// How `Debug` names a stored local: by its field, which tells two
    /// bindings of a shadowed name apart (`x`, `x_2`).
    fn local_name(&self, b: BindId) -> String {
        let name = self.field(b).to_string();
        if self.g.bindings[b].for_iter {
            "<for iterator>".to_owned()
        } else if name.starts_with("__ratchet_end") {
            "<for bound>".to_owned()
        } else {
            name
        }
    }

    fn local_description(&self, b: BindId) -> String {
        let name = self.ident(b).to_string();
        if self.g.bindings[b].for_iter {
            "The iterator of the enclosing `for` loop".to_owned()
        } else if name.starts_with("__ratchet_end") {
            "The end of the range of the enclosing `for` loop".to_owned()
        } else if self.field(b) != self.ident(b) {
            let line = self.g.bindings[b].decl_span.start().line;
            let at = if line > 0 {
                format!(" declared on line {line}")
            } else {
                String::new()
            };
            format!("The local `{name}`{at} (a different local from another `{name}`)")
        } else {
            format!("The local `{name}`")
        }
    }

    /// The stored state's fields with their types (`Self` spelled out).
    fn stored_type(&self, b: BindId) -> Type {
        let mut ty = self.g.bindings[b]
            .ty
            .clone()
            .unwrap_or_else(|| Type::Verbatim(quote!(())));
        if let Some(ic) = &self.model.impl_ctx {
            ReplaceSelf(ic).visit_type_mut(&mut ty);
        }
        ty
    }

    pub(super) fn state_generics(&self) -> Generics {
        let types: Vec<Type> = self
            .stored
            .iter()
            .flat_map(|st| st.fields.iter().map(|&b| self.stored_type(b)))
            .collect();
        state_generics(self.model, &types)
    }

    // Input:  `fill(st: &mut FillState, c)` with one `yield_io!(c.clone())` storing nothing
    // Output: `/// docs.. pub enum FillState { Idle, C { __completion: Completion } }`
    //         `__ratchet_state! { [] [FillState] [] dot ".." mermaid ".." C "C at ..", {} [__completion]; }`
    /// The state enum, and one call of the runtime's `__ratchet_state!`,
    /// which writes its `Default`, `Debug`, `is_idle`, `reset`, diagram
    /// constants and `size_report` from the per-variant table given here.
    pub(super) fn state_enum(&self) -> TokenStream {
        let p = &self.p;
        let name = &self.model.enum_name;
        let vis = &self.model.input.vis;
        let generics = self.state_generics();
        let (ig, tg, wc) = generics.split_for_impl();
        let mut variants = Vec::new();
        let mut table = Vec::new();
        let mut contents = Vec::new();
        for (i, s) in self.g.susps.iter().enumerate() {
            if !self.live.reachable.get(s.block).copied().unwrap_or(false) {
                continue;
            }
            let v = &self.plan.state_variants[i];
            let st = &self.stored[i];
            let vdoc = format!(" Suspended at `{}`.", s.text);
            let fields = st.fields.iter().map(|&b| {
                let id = self.field(b);
                let ty = self.stored_type(b);
                let fdoc = format!(
                    " {}, needed after this suspension point.",
                    self.local_description(b)
                );
                quote!(#[doc = #fdoc] #id: #ty)
            });
            let cf = &self.plan.completion;
            // Hidden: a handle the machine owns, not something to match on.
            let completion = (s.kind == SiteKind::Yield).then(|| quote!(#[doc(hidden)] #cf: #p::Completion));
            let sep = (!st.fields.is_empty() && completion.is_some()).then(|| quote!(,));
            variants.push(quote!(#[doc = #vdoc] #v { #(#fields),* #sep #completion }));
            let mut kept: Vec<String> = st
                .fields
                .iter()
                .map(|&b| {
                    let ty = crate::scan::tidy(&self.stored_type(b).to_token_stream().to_string());
                    format!("{}: {ty}", self.local_name(b))
                })
                .collect();
            if s.kind == SiteKind::Yield {
                kept.push("the awaited Completion".to_owned());
            }
            let kept = if kept.is_empty() {
                "nothing".to_owned()
            } else {
                kept.join(", ")
            };
            contents.push(format!("`{v}` at `{}` keeps {kept}", s.text));
            // The user's line and column where the compiler tells them
            // (proc_macro2 with `span-locations` on Rust 1.88+, or parsed
            // text in tests); else `line!()`/`column!()` at the point's span.
            let start = s.span.start();
            let text = format!(" `{}`", s.text);
            let pos = if start.line == 0 {
                quote_spanned!(s.span=> ::core::concat!(":", ::core::line!(), ":", ::core::column!(), #text))
            } else {
                let pos = format!(":{}:{}{text}", start.line, start.column.saturating_add(1));
                quote!(#pos)
            };
            let stored = st.fields.iter().map(|&b| {
                let id = self.field(b);
                let ty = self.stored_type(b);
                let label = self.local_name(b);
                quote!(#id: #ty = #label)
            });
            let cfield = (s.kind == SiteKind::Yield).then(|| quote!([#cf]));
            table.push(quote!(#v #pos, { #(#stored),* } #cfield;));
        }
        let max_size = self.model.max_size.map(|n| {
            if !generics.params.is_empty() {
                return quote! {
                    ::core::compile_error!("`max_size =` of #[io_state_machine] needs a state type without generic parameters (its size depends on them)");
                };
            }
            let head = format!("the state `{name}` takes ");
            let tail = format!(
                " bytes, more than `max_size = {n}`. What each suspension point keeps: {}. Box or shrink the largest of these locals (`{name}::size_report()` gives each variant's size), or raise `max_size`.",
                contents.join("; ")
            );
            quote! {
                const _: () = if ::core::mem::size_of::<#name>() > #n {
                    ::core::panic!("{}", #p::size_message(#head, ::core::mem::size_of::<#name>(), #tail).as_str());
                };
            }
        });
        let (nodes, edges) = self.diagram();
        let mermaid = mermaid(&nodes, &edges);
        let dot = dot(name, &nodes, &edges);
        let doc = self.state_doc(&mermaid);
        let mermaid_src = mermaid.join("\n") + "\n";
        let ig = ig.to_token_stream();
        let st = quote!(#name #tg);
        let wc = wc.to_token_stream();
        quote! {
            #[doc = #doc]
            // Variants differ in size by nature; boxing would cost an
            // allocation per suspension. Names come from the awaited calls;
            // fields from the user's locals, whose style rustc already
            // checks at their `let`s.
            #[allow(clippy::large_enum_variant, clippy::enum_variant_names, non_snake_case)]
            #vis enum #name #ig #wc {
                #[doc = " Not running: the next call starts at the top."]
                Idle,
                #(#variants,)*
            }
            #p::__ratchet_state! {
                [#ig] [#st] [#wc]
                dot #dot mermaid #mermaid_src
                #(#table)*
            }
            #max_size
        }
    }

    // Input:  the state `FillState` of `fill`
    // Output: one doc string: what the type is, its sizes, and its diagram as
    //         Mermaid that rustdoc pages render (a `<pre class="mermaid">` and
    //         the script that draws it)
    /// The state type's documentation, as one string. The diagram is HTML
    /// (rustdoc passes it through): Mermaid's script, loaded once per page,
    /// draws every `<pre class="mermaid">` on it, the technique of the
    /// `aquamarine` crate without a proc macro per type. Where no script
    /// runs (an IDE's hover, `cargo doc` offline) the source stays readable.
    fn state_doc(&self, mermaid: &[String]) -> String {
        let name = &self.model.enum_name;
        let fn_name = &self.model.input.sig.ident;
        // A method is not in scope beside the impl: no intra-doc link then.
        let what = match &self.model.impl_ctx {
            Some(ic) => format!(
                "`{}::{fn_name}`",
                crate::scan::tidy(&ic.self_ty.to_token_stream().to_string())
                    .replace(" < ", "<")
                    .replace(" >", ">")
            ),
            None => format!("[`{fn_name}`]"),
        };
        let html = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let graph: Vec<String> = mermaid.iter().map(|l| html(l)).collect();
        format!(
            " Where {what} is suspended and the locals it keeps there. Generated by `#[io_state_machine]`; `Default` is idle.\n\n \
             Sizes: [`{name}::size_report`] gives the bytes each suspension point's stored locals take; `#[io_state_machine(max_size = N)]` asserts a bound at compile time.\n\n \
             State diagram: the suspension points, with the conditions that lead from one to the next ([`{name}::STATE_DIAGRAM_MERMAID`] has its source, [`{name}::STATE_DIAGRAM_DOT`] the same as DOT):\n\n\
             <pre class=\"mermaid\">\n{}\n</pre>\n\
             <script type=\"module\">import m from \"https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs\"; m.initialize({{startOnLoad: true}});</script>",
            graph.join("\n")
        )
    }
}

/// The generics of the state enum (rule 10): those of the function (and
/// impl) that the stored types name, with the bounds they need. A type
/// that projects out of a parameter (`S::Key`, `<Page<T> as Tr>::Out`)
/// needs that parameter's bounds (`S: Store`) to name anything; otherwise
/// the parameters carry no bounds, as on std's own types, so a struct that
/// holds the state need not repeat the function's bounds.
pub fn state_generics(model: &Model, types: &[Type]) -> Generics {
    let mut idents: BTreeSet<String> = BTreeSet::new();
    let mut projected: BTreeSet<String> = BTreeSet::new();
    for t in types {
        collect_idents(&t.to_token_stream(), &mut idents);
        collect_projected(t, &mut projected);
    }
    let mut all: Vec<GenericParam> = Vec::new();
    let mut preds: Vec<syn::WherePredicate> = Vec::new();
    let mut generics: Vec<&Generics> = Vec::new();
    if let Some(ic) = &model.impl_ctx {
        generics.push(&ic.generics);
    }
    generics.push(&model.input.sig.generics);
    for g in generics {
        all.extend(g.params.iter().cloned());
        if let Some(wc) = &g.where_clause {
            preds.extend(wc.predicates.iter().cloned());
        }
    }
    let name_of = |p: &GenericParam| match p {
        GenericParam::Type(t) => t.ident.to_string(),
        GenericParam::Const(c) => c.ident.to_string(),
        GenericParam::Lifetime(l) => l.lifetime.to_string(),
    };
    let params: BTreeSet<String> = all.iter().map(name_of).collect();
    let kept_names: BTreeSet<String> = params.intersection(&idents).cloned().collect();
    // A bound is kept when its parameter is projected out of and every
    // parameter it names is a parameter of the state too.
    let fits = |tokens: &TokenStream| {
        let mut named = BTreeSet::new();
        collect_idents(tokens, &mut named);
        named.intersection(&params).all(|n| kept_names.contains(n))
    };
    let kept: Vec<GenericParam> = all
        .into_iter()
        .filter(|p| kept_names.contains(&name_of(p)))
        .map(|mut p| {
            let keep_bounds = projected.contains(&name_of(&p));
            match &mut p {
                GenericParam::Type(t) => {
                    t.default = None;
                    if keep_bounds {
                        t.bounds = t
                            .bounds
                            .iter()
                            .filter(|b| fits(&b.to_token_stream()))
                            .cloned()
                            .collect();
                    } else {
                        t.bounds.clear();
                    }
                    if t.bounds.is_empty() {
                        t.colon_token = None;
                    }
                }
                GenericParam::Lifetime(l) => {
                    l.bounds.clear();
                    l.colon_token = None;
                }
                GenericParam::Const(c) => c.default = None,
            }
            p
        })
        .collect();
    let kept_preds: Vec<syn::WherePredicate> = preds
        .into_iter()
        .filter(|wp| match wp {
            syn::WherePredicate::Type(pt) => {
                let mut bounded = BTreeSet::new();
                collect_idents(&pt.bounded_ty.to_token_stream(), &mut bounded);
                bounded.iter().any(|n| projected.contains(n)) && fits(&wp.to_token_stream())
            }
            _ => false,
        })
        .collect();
    let mut g = Generics::default();
    if !kept.is_empty() {
        g.lt_token = Some(Default::default());
        g.gt_token = Some(Default::default());
        g.params = kept.into_iter().collect();
    }
    if !kept_preds.is_empty() {
        g.where_clause = Some(syn::WhereClause {
            where_token: Default::default(),
            predicates: kept_preds.into_iter().collect(),
        });
    }
    g
}

/// The names a type projects associated items out of: `S` in `S::Key`,
/// every name inside `Page<T>` of `<Page<T> as Tr>::Out`.
fn collect_projected(t: &Type, out: &mut BTreeSet<String>) {
    struct V<'a>(&'a mut BTreeSet<String>);
    impl<'ast> syn::visit::Visit<'ast> for V<'_> {
        fn visit_qself(&mut self, q: &'ast syn::QSelf) {
            collect_idents(&q.ty.to_token_stream(), self.0);
            syn::visit::visit_qself(self, q);
        }
        fn visit_path(&mut self, p: &'ast syn::Path) {
            if p.segments.len() >= 2
                && p.leading_colon.is_none()
                && let Some(first) = p.segments.first()
                && first.arguments.is_none()
            {
                self.0.insert(first.ident.to_string());
            }
            syn::visit::visit_path(self, p);
        }
    }
    syn::visit::Visit::visit_type(&mut V(out), t);
}

/// `Self` spelled out for code outside the impl: `Self` is the impl's self
/// type, and `Self::X` (a type, or a constant in an array length) is
/// `<SelfTy as Trait>::X` in a trait impl and `<SelfTy>::X` otherwise.
struct ReplaceSelf<'a>(&'a crate::model::ImplCtx);

impl ReplaceSelf<'_> {
    /// `Self::X..` -> the qualified path, or `None` if `path` is not one.
    fn qualify(&self, qself: &Option<syn::QSelf>, path: &syn::Path) -> Option<(syn::QSelf, syn::Path)> {
        if qself.is_some() || path.leading_colon.is_some() || path.segments.len() < 2 {
            return None;
        }
        let first = path.segments.first()?;
        if first.ident != "Self" || !first.arguments.is_none() {
            return None;
        }
        let rest = path.segments.iter().skip(1).cloned();
        let (position, as_token, segments) = match &self.0.trait_ {
            Some(tr) => (
                tr.segments.len(),
                Some(Default::default()),
                tr.segments.iter().cloned().chain(rest).collect(),
            ),
            None => (0, None, rest.collect()),
        };
        let qself = syn::QSelf {
            lt_token: Default::default(),
            ty: Box::new(self.0.self_ty.clone()),
            position,
            as_token,
            gt_token: Default::default(),
        };
        let leading_colon = match &self.0.trait_ {
            Some(tr) => tr.leading_colon,
            None => Some(Default::default()),
        };
        Some((
            qself,
            syn::Path {
                leading_colon,
                segments,
            },
        ))
    }
}

impl VisitMut for ReplaceSelf<'_> {
    fn visit_type_mut(&mut self, t: &mut Type) {
        if let Type::Path(p) = t {
            if p.qself.is_none() && p.path.is_ident("Self") {
                *t = self.0.self_ty.clone();
                return;
            }
            if let Some((qself, path)) = self.qualify(&p.qself, &p.path) {
                p.qself = Some(qself);
                p.path = path;
                return;
            }
        }
        syn::visit_mut::visit_type_mut(self, t);
    }
    fn visit_expr_path_mut(&mut self, e: &mut syn::ExprPath) {
        if let Some((qself, path)) = self.qualify(&e.qself, &e.path) {
            e.qself = Some(qself);
            e.path = path;
            return;
        }
        syn::visit_mut::visit_expr_path_mut(self, e);
    }
}
