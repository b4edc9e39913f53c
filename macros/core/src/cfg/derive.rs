//! Stage 3, type derivation (rules 8 and 9): the type of a local the code
//! does not spell, from its initializer (a literal, a cast, a range, a
//! typed name), and whether it is a borrow that can be re-created after a
//! suspension or one that cannot be stored. Takes an expression or a type;
//! gives a type, a re-borrow expression, or a yes or no. Stage 5 (`types`)
//! checks what the graph's bindings carry; it shares [`type_borrows`].

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{Expr, Ident, Type};

use super::Builder;
use crate::scan;

impl Builder<'_> {
    // Input:  `5u32`, `&self.cfg`, `0u64..n`, `buf` (a local typed `Vec<u8>`)
    // Output: `(Some(u32), None, false)`, `(None, Some(&self.cfg), false)`,
    //         `(Some(Range<u64>), None, false)`, `(Some(Vec<u8>), None, false)`
    /// Rule 8 and 9: the type of `let x = e;`, a re-creatable borrow, or
    /// whether it is a borrow that cannot be stored.
    pub(super) fn derive(&self, e: &Expr) -> (Option<Type>, Option<TokenStream>, bool) {
        match scan::strip(e) {
            Expr::Lit(l) => (lit_type(&l.lit), None, false),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => match scan::strip(&u.expr) {
                Expr::Lit(l) => (lit_type(&l.lit), None, false),
                _ => (None, None, false),
            },
            Expr::Cast(c) => ((*c.ty).clone().into(), None, type_borrows(&c.ty)),
            // A struct or variant literal names its type without generic
            // arguments (`Wrapper { v: 5u32 }` may be a `Wrapper<u32>`), and
            // `a::B { .. }` may be a struct or an enum's variant: only
            // `Self { .. }` and `Self::V { .. }` say which type they build.
            Expr::Struct(s)
                if s.qself.is_none()
                    && s.path.segments.first().is_some_and(|f| f.ident == "Self")
                    && s.path.segments.len() <= 2 =>
            {
                (syn::parse2(quote!(Self)).ok(), None, false)
            }
            Expr::Path(p) if p.qself.is_none() => {
                let Some(id) = p.path.get_ident() else {
                    return (None, None, false);
                };
                let name = id.to_string();
                if let Some(&(_, b)) = self.scope.iter().rev().find(|(n, _)| *n == name) {
                    let b = &self.g.bindings[b];
                    // A copy of a parameter made a local is a value.
                    let reborrow = if b.param { None } else { b.reborrow.clone() };
                    return (b.ty.clone(), reborrow, b.borrow);
                }
                match self.model.param_type(&name) {
                    Some(Type::Reference(_)) => (None, Some(e.to_token_stream()), false),
                    Some(t) => (Some(t.clone()), None, type_borrows(t)),
                    None => (None, None, false),
                }
            }
            Expr::Reference(r) => match self.arg_place(&r.expr) {
                Some(place) => {
                    let mut r2 = r.clone();
                    *r2.expr = place;
                    (None, Some(r2.to_token_stream()), false)
                }
                None => (None, None, true),
            },
            Expr::Range(r) => {
                let elem = r
                    .start
                    .as_ref()
                    .and_then(|s| self.derive(s).0)
                    .or_else(|| r.end.as_ref().and_then(|s| self.derive(s).0));
                let p = &self.private;
                let ty = elem.and_then(|t| match r.limits {
                    syn::RangeLimits::HalfOpen(_) if r.start.is_some() && r.end.is_some() => {
                        syn::parse2(quote!(#p::Range<#t>)).ok()
                    }
                    syn::RangeLimits::Closed(_) if r.start.is_some() && r.end.is_some() => {
                        syn::parse2(quote!(#p::RangeInclusive<#t>)).ok()
                    }
                    _ => None,
                });
                (ty, None, false)
            }
            _ => (None, None, false),
        }
    }

    /// `self.a.b`, `param`, `param.field`: places rooted at an argument,
    /// which every call passes again, or at a local that re-borrows one (its
    /// root then becomes that local's own re-borrow). Returns the place to
    /// evaluate after a suspension.
    fn arg_place(&self, e: &Expr) -> Option<Expr> {
        match scan::strip(e) {
            Expr::Field(f) => {
                let base = self.arg_place(&f.base)?;
                let mut f2 = f.clone();
                *f2.base = base;
                Some(Expr::Field(f2))
            }
            Expr::Path(p) => {
                let id = p.path.get_ident()?;
                let name = id.to_string();
                if let Some(&(_, b)) = self.scope.iter().rev().find(|(n, _)| *n == name) {
                    // A parameter made a local lives in the program counter,
                    // which a borrow of it cannot outlive.
                    if self.g.bindings[b].param {
                        return None;
                    }
                    let rb = self.g.bindings[b].reborrow.as_ref()?;
                    return Some(Expr::Verbatim(quote!((#rb))));
                }
                (id == "self" || self.model.param_type(&name).is_some() || self.model.is_reevaluated(&name))
                    .then(|| e.clone())
            }
            _ => None,
        }
    }
}

// Input:  `5u32`, `'c'`, `"s"`, `5`
// Output: `u32`, `char`, `&'static str`, none (an unsuffixed number's type is inferred)
fn lit_type(l: &syn::Lit) -> Option<Type> {
    let ts: TokenStream = match l {
        syn::Lit::Int(i) if !i.suffix().is_empty() => {
            let s = Ident::new(i.suffix(), Span::call_site());
            quote!(#s)
        }
        syn::Lit::Float(f) if !f.suffix().is_empty() => {
            let s = Ident::new(f.suffix(), Span::call_site());
            quote!(#s)
        }
        syn::Lit::Bool(_) => quote!(bool),
        syn::Lit::Char(_) => quote!(char),
        syn::Lit::Str(_) => quote!(&'static str),
        syn::Lit::Byte(_) => quote!(u8),
        _ => return None,
    };
    syn::parse2(ts).ok()
}

/// `Range<u64>` -> `u64`.
pub(super) fn range_elem(t: &Type) -> Option<Type> {
    let Type::Path(p) = t else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Range" && last.ident != "RangeInclusive" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(ab) = &last.arguments else {
        return None;
    };
    match ab.args.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

// Input:  `&'static str`, `&[u8]`, `Cow<'a, str>`, `std::slice::Iter<u32>`, `Vec<u8>`
// Output: false, true, true, true, false
/// Whether a type is or holds a borrow (references, lifetimes other than
/// `'static`).
pub fn type_borrows(t: &Type) -> bool {
    struct V(bool);
    impl<'ast> syn::visit::Visit<'ast> for V {
        fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
            if r.lifetime.as_ref().is_none_or(|l| l.ident != "static") {
                self.0 = true;
            }
            syn::visit::visit_type_reference(self, r);
        }
        fn visit_lifetime(&mut self, l: &'ast syn::Lifetime) {
            if l.ident != "static" {
                self.0 = true;
            }
        }
    }
    let mut v = V(false);
    syn::visit::Visit::visit_type(&mut v, t);
    v.0 || holds_elided_lifetime(t)
}

/// A primitive type, `Copy` whatever the code around it.
pub(super) fn primitive(t: &Type) -> bool {
    const NAMES: &[&str] = &[
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32", "f64",
        "bool", "char",
    ];
    matches!(t, Type::Path(p) if p.qself.is_none() && p.path.get_ident().is_some_and(|i| NAMES.iter().any(|n| i == n)))
}

// Input:  `std::slice::Iter<u32>`, `Ref<T>`, `Iter<u32>`, `Ref<'a, T>`
// Output: true, true, false (maybe the user's own `Iter`), false (the lifetime is written)
/// std types with a lifetime parameter, written without it
/// (`std::slice::Iter<u32>`, `Ref<T>`): each is a borrow. Names common
/// enough to be a user's own type (`Iter`, `Drain`) count only under a std
/// module path; the others count as written.
fn holds_elided_lifetime(t: &Type) -> bool {
    const STD_ONLY: &[&str] = &[
        "Ref",
        "RefMut",
        "MutexGuard",
        "RwLockReadGuard",
        "RwLockWriteGuard",
        "Cow",
        "Chars",
        "CharIndices",
        "SplitWhitespace",
        "Formatter",
        "Arguments",
    ];
    const UNDER_STD: &[&str] = &[
        "Iter",
        "IterMut",
        "Drain",
        "Keys",
        "Values",
        "ValuesMut",
        "Bytes",
        "Lines",
        "Split",
        "SplitN",
        "Windows",
        "Chunks",
        "ChunksExact",
        "ChunksMut",
        "Entry",
        "Components",
        "Display",
    ];
    const STD_PATHS: &[&str] = &[
        "std",
        "core",
        "alloc",
        "slice",
        "str",
        "vec",
        "collections",
        "hash_map",
        "hash_set",
        "btree_map",
        "btree_set",
        "vec_deque",
        "binary_heap",
        "cell",
        "sync",
        "borrow",
        "fmt",
        "path",
    ];
    struct V(bool);
    impl<'ast> syn::visit::Visit<'ast> for V {
        fn visit_type_path(&mut self, tp: &'ast syn::TypePath) {
            let segs = &tp.path.segments;
            if let Some(last) = segs.last() {
                let name = last.ident.to_string();
                let lifetime_given = matches!(&last.arguments, syn::PathArguments::AngleBracketed(ab)
                    if ab.args.iter().any(|a| matches!(a, syn::GenericArgument::Lifetime(_))));
                let std_path = segs
                    .iter()
                    .take(segs.len() - 1)
                    .any(|s| STD_PATHS.contains(&s.ident.to_string().as_str()));
                let known =
                    STD_ONLY.contains(&name.as_str()) || (std_path && UNDER_STD.contains(&name.as_str()));
                if known && !lifetime_given {
                    self.0 = true;
                }
            }
            syn::visit::visit_type_path(self, tp);
        }
    }
    let mut v = V(false);
    syn::visit::Visit::visit_type(&mut v, t);
    v.0
}
