//! Rule 8's fix (stage 5's messages) for a pattern that binds stored
//! names: its type written out (`(A, B)`, `Option<(A, B)>`) where the
//! pattern is made of tuples, names and `_`, or each name rebound with its
//! type after it. Takes the pattern and the names to type; gives the text.

use syn::Pat;
use syn::visit::Visit;

use super::text::text_skipping;
use super::{names_of, pos};

/// How a pattern binds a name: `mut n`, `ref n`, `ref mut n`.
#[derive(Clone, Copy, Default)]
pub(super) struct Mode {
    pub(super) by_ref: bool,
    pub(super) mutable: bool,
    /// Where the binding's `mut` starts.
    mut_at: Option<(usize, usize)>,
    /// Where its `ref` starts.
    ref_at: Option<(usize, usize)>,
}

/// The binding mode of every name `pat` binds.
pub(super) fn modes(pat: &Pat) -> Vec<(String, Mode)> {
    struct M(Vec<(String, Mode)>);
    impl<'ast> Visit<'ast> for M {
        fn visit_pat_ident(&mut self, pi: &'ast syn::PatIdent) {
            let mode = Mode {
                by_ref: pi.by_ref.is_some(),
                mutable: pi.mutability.is_some(),
                mut_at: pi.mutability.map(|m| pos(m.span)),
                ref_at: pi.by_ref.map(|r| pos(r.span)),
            };
            self.0.push((pi.ident.to_string(), mode));
            syn::visit::visit_pat_ident(self, pi);
        }
    }
    let mut m = M(Vec::new());
    m.visit_pat(pat);
    m.0
}

/// The rebinding form of a fix: `pat` as written but for the `mut` of the
/// names it rebinds (the rebinding carries it, so no `mut` is left unused),
/// and `let mut n: N = n;` for each name.
pub(super) struct Rebind {
    pub(super) pat: String,
    pub(super) lets: String,
}

// Input:  `P { mut a, ref b, c }` rebinding `a`, `b`
// Output: `P { a, ref b, c }` and `let mut a: A = a; let b: &B = b;`
/// `unref`: names bound by `ref` that the fix binds by value.
pub(super) fn rebind(pat: &Pat, names: &[String], unref: &[String]) -> Rebind {
    let ms = modes(pat);
    let mode = |n: &str| {
        let mut m = ms
            .iter()
            .find(|(m, _)| m == n)
            .map_or_else(Mode::default, |(_, mode)| *mode);
        m.by_ref &= !unref.iter().any(|u| u == n);
        m
    };
    let mut skip = unref_skips(pat, unref);
    skip.extend(
        ms.iter()
            .filter(|(n, _)| names.contains(n) && !mode(n).by_ref)
            .filter_map(|(_, mode)| mode.mut_at),
    );
    let lets = names
        .iter()
        .map(|n| {
            let t = crate::model::camel(n);
            // A `ref` binding is a reference into the matched value: its
            // rebinding has the reference's type (such a binding is a
            // borrow, which the borrow rule reports before it gets here).
            match mode(n) {
                Mode {
                    by_ref: true,
                    mutable: true,
                    ..
                } => format!("let {n}: &mut {t} = {n};"),
                Mode {
                    by_ref: true,
                    mutable: false,
                    ..
                } => format!("let {n}: &{t} = {n};"),
                Mode { mutable: true, .. } => format!("let mut {n}: {t} = {n};"),
                Mode { .. } => format!("let {n}: {t} = {n};"),
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    Rebind {
        pat: text_skipping(pat, &skip),
        lets,
    }
}

/// Where the `ref` of each of `unref` starts: the fix binds them by value.
pub(super) fn unref_skips(pat: &Pat, unref: &[String]) -> Vec<(usize, usize)> {
    modes(pat)
        .into_iter()
        .filter(|(n, _)| unref.contains(n))
        .filter_map(|(_, m)| m.ref_at)
        .collect()
}

/// `(a, (b, _))` -> `(A, (B, _))`: the pattern's type with a placeholder
/// per name, when the pattern is made of tuples, names and `_` only.
pub(super) fn skeleton(pat: &Pat, holders: &mut Vec<String>) -> Option<String> {
    match pat {
        Pat::Ident(pi) if pi.subpat.is_none() => {
            let t = crate::model::camel(&pi.ident.to_string());
            holders.push(format!("`{t}`"));
            Some(t)
        }
        // `whole @ (a, b)` has the type of `(a, b)`; `n @ 1..=9` its own.
        Pat::Ident(pi) => {
            let sub = &pi.subpat.as_ref()?.1;
            let mark = holders.len();
            skeleton(sub, holders).or_else(|| {
                holders.truncate(mark);
                names_of(sub).is_empty().then(|| {
                    let t = crate::model::camel(&pi.ident.to_string());
                    holders.push(format!("`{t}`"));
                    t
                })
            })
        }
        Pat::Wild(_) => Some("_".to_owned()),
        Pat::Paren(p) => skeleton(&p.pat, holders),
        Pat::Tuple(t) => {
            let parts: Option<Vec<String>> = t
                .elems
                .iter()
                .map(|p| match p {
                    Pat::Rest(_) => None,
                    p => skeleton(p, holders),
                })
                .collect();
            let parts = parts?;
            Some(if parts.len() == 1 {
                format!("({},)", parts[0])
            } else {
                format!("({})", parts.join(", "))
            })
        }
        _ => None,
    }
}

/// `Some(h)` -> `Option<H>`, `Ok(v)` -> `Result<V, E>`: the type a
/// `let-else` pattern of one variant can carry.
pub(super) fn variant_type(pat: &Pat, holders: &mut Vec<String>) -> Option<String> {
    let ts = match pat {
        Pat::TupleStruct(ts) => ts,
        // `x @ Some(y)`: `x` is the `Option` itself.
        Pat::Ident(pi) => return variant_type(&pi.subpat.as_ref()?.1, holders),
        _ => return None,
    };
    if ts.elems.len() != 1 || ts.qself.is_some() {
        return None;
    }
    let inner = skeleton(&ts.elems[0], holders)?;
    match ts.path.segments.last()?.ident.to_string().as_str() {
        "Some" => Some(format!("Option<{inner}>")),
        "Ok" => Some(format!("Result<{inner}, E>")),
        _ => None,
    }
}
