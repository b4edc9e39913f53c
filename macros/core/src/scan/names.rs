//! Shared syntax queries: names. The bindings a pattern introduces
//! ([`Binder`], with the type the pattern spells, if any) and the free
//! variables a piece of code reads ([`Use`]: macro tokens and inline format
//! captures included, minus what the code binds itself). Takes patterns,
//! expressions and statements; gives names with their spans.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::visit::{self, Visit};
use syn::{Expr, Macro, Pat, Stmt, Type};

use super::{macro_kind, site_parts};

/// A name bound by a pattern.
#[derive(Clone)]
pub struct Binder {
    pub ident: syn::Ident,
    pub mutable: bool,
    pub by_ref: bool,
    /// The type when the pattern spells it (`x: u64`, or a position in a
    /// typed tuple pattern).
    pub ty: Option<Type>,
}

/// Whether a bare identifier pattern is a binding (and not a unit struct,
/// enum variant or constant such as `None`): by Rust's naming conventions,
/// unless the function binds the name where it must be a binding (see
/// [`crate::bindnames`]).
fn is_binding_ident(pi: &syn::PatIdent) -> bool {
    let name = pi.ident.to_string();
    pi.by_ref.is_some()
        || pi.mutability.is_some()
        || pi.subpat.is_some()
        || !name
            .trim_start_matches('_')
            .starts_with(|c: char| c.is_uppercase())
        || crate::bindnames::is_known_binding(&pi.ident)
}

/// Appends the names `pats` bind to `out` (a scope being walked).
pub fn push_names(out: &mut Vec<String>, pats: &[&Pat]) {
    for pat in pats {
        let mut bs = Vec::new();
        binders(pat, None, &mut bs);
        out.extend(bs.into_iter().map(|b| b.ident.to_string()));
    }
}

// Input:  `(a, mut b): (u32, u64)`
// Output: `[a: u32, mut b: u64]`
/// The names `pat` binds, in order.
pub fn binders(pat: &Pat, ty: Option<&Type>, out: &mut Vec<Binder>) {
    match pat {
        Pat::Ident(pi) => {
            if is_binding_ident(pi) {
                out.push(Binder {
                    ident: pi.ident.clone(),
                    mutable: pi.mutability.is_some(),
                    by_ref: pi.by_ref.is_some(),
                    ty: ty.cloned(),
                });
            }
            // `whole @ (a, b): (A, B)`: the sub-pattern matches the same value.
            if let Some((_, sub)) = &pi.subpat {
                binders(sub, ty, out);
            }
        }
        Pat::Type(pt) => binders(&pt.pat, Some(&pt.ty), out),
        Pat::Tuple(t) => {
            let tys: Option<Vec<&Type>> = match ty {
                Some(Type::Tuple(tt)) if tt.elems.len() == t.elems.len() => Some(tt.elems.iter().collect()),
                _ => None,
            };
            for (i, p) in t.elems.iter().enumerate() {
                binders(p, tys.as_ref().and_then(|v| v.get(i).copied()), out);
            }
        }
        Pat::TupleStruct(t) => {
            // `Some(x): Option<T>` and `Ok(x): Result<T, E>` give `x: T`.
            let inner = ty.and_then(|ty| {
                let Type::Path(tp) = ty else { return None };
                let last = tp.path.segments.last()?;
                let variant = t.path.segments.last()?.ident.to_string();
                let fits = matches!(
                    (variant.as_str(), last.ident.to_string().as_str()),
                    ("Some", "Option") | ("Ok", "Result")
                );
                let syn::PathArguments::AngleBracketed(ab) = &last.arguments else {
                    return None;
                };
                match ab.args.first()? {
                    syn::GenericArgument::Type(inner) if fits && t.elems.len() == 1 => Some(inner),
                    _ => None,
                }
            });
            t.elems.iter().for_each(|p| binders(p, inner, out));
        }
        Pat::Struct(s) => s.fields.iter().for_each(|f| binders(&f.pat, None, out)),
        Pat::Slice(s) => {
            // `[a, b]: [u32; 2]` gives each element pattern `u32`; the
            // binding of a rest pattern (`tail @ ..`) gets no type.
            let elem = match ty {
                Some(Type::Array(a)) => Some(&*a.elem),
                _ => None,
            };
            for p in &s.elems {
                let rest = match p {
                    Pat::Rest(_) => true,
                    Pat::Ident(pi) => pi
                        .subpat
                        .as_ref()
                        .is_some_and(|(_, sub)| matches!(**sub, Pat::Rest(_))),
                    _ => false,
                };
                binders(p, if rest { None } else { elem }, out);
            }
        }
        Pat::Reference(r) => binders(&r.pat, None, out),
        Pat::Paren(p) => binders(&p.pat, ty, out),
        Pat::Guard(g) => binders(&g.pat, ty, out),
        Pat::Or(o) => {
            if let Some(first) = o.cases.first() {
                binders(first, ty, out);
            }
        }
        _ => {}
    }
}

/// A use of a name that the code does not bind itself.
pub struct Use {
    pub name: String,
    pub span: Span,
}

/// Free variables: single-segment paths the code reads, names in macro
/// tokens and inline format captures, minus what the code binds itself.
struct FreeVars {
    bound: Vec<String>,
    out: Vec<Use>,
}

impl FreeVars {
    fn push_pat(&mut self, p: &Pat) {
        let mut b = Vec::new();
        binders(p, None, &mut b);
        self.bound.extend(b.into_iter().map(|b| b.ident.to_string()));
    }

    fn use_name(&mut self, name: String, span: Span) {
        if !self.bound.contains(&name) {
            self.out.push(Use { name, span });
        }
    }

    fn tokens(&mut self, tokens: &TokenStream) {
        let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
        for (i, tt) in trees.iter().enumerate() {
            match tt {
                TokenTree::Ident(id) => {
                    let after_dot =
                        i > 0 && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '.');
                    let before_bang_or_path = matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!' || p.as_char() == ':' && matches!(trees.get(i + 2), Some(TokenTree::Punct(q)) if q.as_char() == ':'));
                    if !after_dot && !before_bang_or_path {
                        self.use_name(id.to_string(), id.span());
                    }
                }
                TokenTree::Literal(lit) => {
                    for name in format_captures(&lit.to_string()) {
                        self.use_name(name, lit.span());
                    }
                }
                TokenTree::Group(g) => {
                    if g.delimiter() != Delimiter::None || !g.stream().is_empty() {
                        self.tokens(&g.stream());
                    }
                }
                TokenTree::Punct(_) => {}
            }
        }
    }
}

/// `"{x} and {y:?} but not {{z}} or {0}, {w:>width$}"` -> `["x", "y", "w", "width"]`.
pub fn format_captures(lit: &str) -> Vec<String> {
    if !(lit.starts_with('"') || lit.starts_with("r\"") || lit.starts_with("r#")) {
        return Vec::new();
    }
    let body = lit;
    let mut out = Vec::new();
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '{' {
            if chars.get(i + 1) == Some(&'{') {
                i += 2;
                continue;
            }
            let mut j = i + 1;
            let mut name = String::new();
            while let Some(&c) = chars.get(j) {
                if c.is_alphanumeric() || c == '_' {
                    name.push(c);
                    j += 1;
                } else {
                    break;
                }
            }
            if !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && matches!(chars.get(j), Some('}' | ':'))
            {
                out.push(name);
            }
            // Width and precision arguments: `{x:>width$.prec$}`.
            if chars.get(j) == Some(&':') {
                let mut word = String::new();
                while let Some(&c) = chars.get(j) {
                    if c == '}' {
                        break;
                    }
                    if c.is_alphanumeric() || c == '_' {
                        word.push(c);
                    } else {
                        if c == '$' && !word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit()) {
                            out.push(std::mem::take(&mut word));
                        }
                        word.clear();
                    }
                    j += 1;
                }
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

impl<'ast> Visit<'ast> for FreeVars {
    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if p.qself.is_none()
            && let Some(id) = p.path.get_ident()
        {
            self.use_name(id.to_string(), id.span());
        }
    }
    fn visit_macro(&mut self, m: &'ast Macro) {
        if macro_kind(m).is_some() {
            self.tokens(&site_parts(&m.tokens).1);
        } else {
            self.tokens(&m.tokens);
        }
    }
    fn visit_block(&mut self, b: &'ast syn::Block) {
        let mark = self.bound.len();
        for s in &b.stmts {
            self.visit_stmt(s);
        }
        self.bound.truncate(mark);
    }
    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let Some(init) = &l.init {
            self.visit_expr(&init.expr);
            if let Some((_, d)) = &init.diverge {
                self.visit_expr(d);
            }
        }
        self.push_pat(&l.pat);
    }
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        let mark = self.bound.len();
        for p in &c.inputs {
            self.push_pat(p);
        }
        self.visit_expr(&c.body);
        self.bound.truncate(mark);
    }
    fn visit_arm(&mut self, a: &'ast syn::Arm) {
        let mark = self.bound.len();
        self.push_pat(&a.pat);
        if let Pat::Guard(g) = &a.pat {
            self.visit_expr(&g.guard);
        }
        self.visit_expr(&a.body);
        self.bound.truncate(mark);
    }
    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        self.visit_expr(&f.expr);
        let mark = self.bound.len();
        self.push_pat(&f.pat);
        self.visit_block(&f.body);
        self.bound.truncate(mark);
    }
    fn visit_expr_if(&mut self, i: &'ast syn::ExprIf) {
        let mark = self.bound.len();
        self.cond(&i.cond);
        self.visit_block(&i.then_branch);
        self.bound.truncate(mark);
        if let Some((_, e)) = &i.else_branch {
            self.visit_expr(e);
        }
    }
    fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
        let mark = self.bound.len();
        self.cond(&w.cond);
        self.visit_block(&w.body);
        self.bound.truncate(mark);
    }
    fn visit_expr_let(&mut self, l: &'ast syn::ExprLet) {
        self.visit_expr(&l.expr);
        self.push_pat(&l.pat);
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

impl FreeVars {
    /// A condition with `let` chains: the bindings stay for the body.
    fn cond(&mut self, e: &Expr) {
        self.visit_expr(e);
    }
}

// Input:  `a + f(b, |c| c + d)`
// Output: `a`, `f`, `b`, `d` (`c` is bound by the closure)
pub fn free_vars_expr(e: &Expr) -> Vec<Use> {
    let mut f = FreeVars {
        bound: Vec::new(),
        out: Vec::new(),
    };
    f.visit_expr(e);
    f.out
}

pub fn free_vars_stmt(s: &Stmt) -> Vec<Use> {
    let mut f = FreeVars {
        bound: Vec::new(),
        out: Vec::new(),
    };
    f.visit_stmt(s);
    f.out
}

pub fn free_vars_pat_guard(p: &Pat) -> Vec<Use> {
    let mut f = FreeVars {
        bound: Vec::new(),
        out: Vec::new(),
    };
    if let Pat::Guard(g) = p {
        f.push_pat(&g.pat);
        f.visit_expr(&g.guard);
    }
    f.out
}

/// All names bound anywhere inside `e` (used to refuse a jump out of code
/// that shadows a name the jump must carry).
pub fn names_bound_in(s: &Stmt) -> Vec<String> {
    struct All(Vec<String>);
    impl<'ast> Visit<'ast> for All {
        fn visit_pat(&mut self, p: &'ast Pat) {
            let mut b = Vec::new();
            binders(p, None, &mut b);
            self.0.extend(b.into_iter().map(|b| b.ident.to_string()));
            visit::visit_pat(self, p);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut a = All(Vec::new());
    a.visit_stmt(s);
    a.0
}
