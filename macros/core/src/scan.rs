//! Syntax queries the other stages share: suspension points and where they
//! stand, the free variables of a piece of code (macro token streams and
//! inline format captures included), pattern bindings, divergence.
//!
//! Every visitor here stops at closures, `async` blocks and nested items
//! where the question concerns the machine's own body.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::visit::{self, Visit};
use syn::{Expr, Macro, Pat, Stmt, Type};

use crate::ctxt::Ctxt;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SiteKind {
    Yield,
    Call,
}

impl SiteKind {
    pub fn name(self) -> &'static str {
        match self {
            SiteKind::Yield => "yield_io!",
            SiteKind::Call => "call_io!",
        }
    }
}

/// Whether `mac` is `yield_io!` or `call_io!` (by its last path segment, so
/// `ratchet::yield_io!` counts too).
pub fn macro_kind(mac: &Macro) -> Option<SiteKind> {
    let last = mac.path.segments.last()?;
    if last.ident == "yield_io" {
        Some(SiteKind::Yield)
    } else if last.ident == "call_io" {
        Some(SiteKind::Call)
    } else {
        None
    }
}

// Input:  the tokens of `yield_io!(name = ReadHeader, f.pread(0, c)?)`
// Output: `(Some(ReadHeader), f.pread(0, c)?)`; without the prefix, `(None, tokens)`
/// A suspension point's own name, if the user gave one (`name = Ident,`
/// before the awaited expression, which cannot start that way), and the
/// expression.
pub fn site_parts(tokens: &TokenStream) -> (Option<proc_macro2::Ident>, TokenStream) {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    if let [
        TokenTree::Ident(key),
        TokenTree::Punct(eq),
        TokenTree::Ident(name),
        TokenTree::Punct(comma),
        rest @ ..,
    ] = trees.as_slice()
        && key == "name"
        && eq.as_char() == '='
        && comma.as_char() == ','
    {
        return (Some(name.clone()), rest.iter().cloned().collect());
    }
    (None, tokens.clone())
}

pub fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        other => other,
    }
}

/// A suspension point standing as a whole expression, optionally under `?`.
pub struct SiteRef<'a> {
    pub kind: SiteKind,
    pub mac: &'a Macro,
    pub question: Option<&'a syn::token::Question>,
}

pub fn as_site(e: &Expr) -> Option<SiteRef<'_>> {
    match strip(e) {
        Expr::Macro(m) => Some(SiteRef {
            kind: macro_kind(&m.mac)?,
            mac: &m.mac,
            question: None,
        }),
        Expr::Try(t) => match strip(&t.expr) {
            Expr::Macro(m) => Some(SiteRef {
                kind: macro_kind(&m.mac)?,
                mac: &m.mac,
                question: Some(&t.question_token),
            }),
            _ => None,
        },
        _ => None,
    }
}

struct Finder {
    found: bool,
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
    fn visit_macro(&mut self, m: &'ast Macro) {
        if macro_kind(m).is_some() {
            self.found = true;
        }
    }
}

/// Whether `e` holds a suspension point the lowering can reach (not counting
/// closures, `async` blocks, nested items and other macros' arguments, where
/// a suspension is an error).
pub fn expr_suspends(e: &Expr) -> bool {
    let mut f = Finder { found: false };
    f.visit_expr(e);
    f.found
}

/// Why a suspension cannot stand where it was found.
#[derive(Clone)]
enum Why {
    Operand,
    CallArg,
    Receiver,
    Closure,
    Async,
    NestedFn,
    Guard,
    MacroArg,
    /// In the rules of a `macro_rules!` declared in the body.
    MacroRules,
    SiteArg,
    /// The right operand of `&&` (`and`) or `||`, whose left operand is
    /// `left`; `chain` when that holds a `let` (a let chain).
    ShortCircuit {
        and: bool,
        left: String,
        /// The right operand with the suspension as `y`, when it is more
        /// than the suspension (`call_io!(f())? > 0`).
        right: Option<String>,
        chain: bool,
    },
}

/// Which condition an expression checked for misplaced suspension points
/// is, if any: where a `let` hoisted out of it would have to go to keep the
/// meaning differs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CondOf {
    /// Not a condition (or the condition of the first `if` of a chain).
    None,
    If,
    /// The condition of an `else if`: a `let` before the `if` chain would
    /// run even when an earlier branch is taken.
    ElseIf,
    /// A `while` condition, evaluated on every iteration: a `let` before the
    /// loop would run once.
    While,
}

// Input:  `call_io!`, `?`, the right operand of `&&` after `a`, in an `if` condition
// Output: "... runs only when `a` is true ...; write `let x: bool = if a { call_io!(..)? } else { false };` before the `if` ..."
fn why_message(kind: &str, q: &str, why: &Why, nested: bool, cond: CondOf, test: &str) -> String {
    let site = format!("{kind}(..){q}");
    // Where the `let` goes so that it runs exactly when the original did;
    // `test` is the condition that reads it.
    let not = |test: &str| {
        if test.chars().all(|c| c.is_alphanumeric() || c == '_') {
            format!("!{test}")
        } else {
            format!("!({test})")
        }
    };
    let place = |value: &str, test: &str| match cond {
        CondOf::While => format!(
            "a `while` evaluates its condition on every iteration, so a `let` before the loop would run it once; write the loop as `loop {{ let x = {value}; if {} {{ break; }} .. }}`",
            not(test)
        ),
        CondOf::ElseIf => format!(
            "a `let` before the `if` would run it even when an earlier branch is taken; open the `else` and test inside it: `else {{ let x = {value}; if {test} {{ .. }} else {{ .. }} }}`"
        ),
        CondOf::If => format!("write `let x = {value};` as a statement before the `if` and test `{test}`"),
        CondOf::None => format!("write `let x = {value};` as a statement before it and use `x`"),
    };
    let hoist = place(&site, test);
    match why {
        Why::ShortCircuit { .. } if nested => format!(
            "`{kind}` cannot stand in an operand of `&&` or `||` nested in another: it runs only when the operands before it let it, which moving it out would not keep; write the condition as nested `if`s, one per operand, each suspension in a condition of its own (`if a {{ if {site} {{ .. }} }}`)"
        ),
        Why::ShortCircuit {
            and,
            left,
            right,
            chain: true,
        } if *and => {
            let (first, test) = match right {
                Some(r) => (format!("let y = {site}; "), r.clone()),
                None => (String::new(), site.clone()),
            };
            let nest = match cond {
                // `!(let P = y)` is no expression: a `let`-`else` leaves.
                CondOf::While if test.starts_with("let ") => {
                    format!("`while {left} {{ {first}{test} else {{ break }}; .. }}`")
                }
                CondOf::While => format!("`while {left} {{ {first}if {} {{ break; }} .. }}`", not(&test)),
                CondOf::ElseIf => {
                    format!("`else if {left} {{ {first}if {test} {{ .. }} }}` (an `else` goes on both `if`s)")
                }
                _ => format!("`if {left} {{ {first}if {test} {{ .. }} }}` (an `else` goes on both `if`s)"),
            };
            let when = if left.starts_with("let ") || left.contains(" let ") {
                "matches, and it may read what that binds"
            } else {
                "holds"
            };
            format!(
                "`{kind}` cannot stand in the right operand of `&&` in a let chain: it runs only when `{left}` {when}; nest it: {nest}"
            )
        }
        Why::ShortCircuit { and, left, right, .. } => {
            let operand = match right {
                Some(r) => format!("let y = {site}; {r}"),
                None => site.clone(),
            };
            let (op, when, value) = if *and {
                (
                    "&&",
                    "true",
                    format!("if {left} {{ {operand} }} else {{ false }}"),
                )
            } else {
                (
                    "||",
                    "false",
                    format!("if {left} {{ true }} else {{ {operand} }}"),
                )
            };
            let fix = place(&value, test).replacen("let x =", "let x: bool =", 1);
            format!(
                "`{kind}` cannot stand in the right operand of `{op}`: it runs only when `{left}` is {when}, and moving it out as it is would run it always; keep the short circuit in an `if` that gives the value: {fix}"
            )
        }
        // Moving the suspension out alone would run it before the operands
        // that Rust evaluates first: the fix binds those first (attack
        // round 13, finding 6).
        Why::Operand => format!(
            "`{kind}` cannot stand inside a larger expression: the machine suspends only at a whole expression; {hoist} (to keep the order, bind the operands evaluated before it that have effects first, each in a `let` of its own)"
        ),
        Why::CallArg => format!(
            "`{kind}` cannot stand in a call argument: the machine suspends only at a whole expression, and the arguments before it run first; {hoist} (to keep that order, bind those arguments that have effects first, each in a `let` of its own)"
        ),
        Why::Receiver => format!(
            "`{kind}` cannot stand in a method receiver: the machine can only suspend at a whole expression; {hoist}"
        ),
        Why::Closure => format!(
            "`{kind}` cannot be used inside a closure: the closure is a separate function that cannot suspend the machine; move the suspension out of the closure, e.g. `let x = {site};` before it"
        ),
        Why::Async => format!(
            "`{kind}` cannot be used inside an `async` block: the block is its own future, not part of the machine; use `{kind}` in the function body itself"
        ),
        Why::NestedFn => format!(
            "`{kind}` cannot be used inside a nested function: it is not part of the machine; make it an #[io_state_machine] of its own and call it with `call_io!`"
        ),
        Why::Guard => format!(
            "`{kind}` cannot be used in a match guard: a guard runs only when its pattern matches, possibly for several arms; test it in the arm's body instead, `pat => {{ let x = {site}; if {test} {{ .. }} else {{ .. }} }}` (the `else` doing what the arms after it did), or, if it may run once before the `match`, write `let x = {site};` before the `match` and test `{test}` in the guard"
        ),
        Why::MacroArg => format!(
            "`{kind}` cannot be used inside another macro's arguments: the machine cannot see into them; {hoist}"
        ),
        Why::MacroRules => format!(
            "`{kind}` cannot be used inside a `macro_rules!`: the machine sees where a macro is invoked, not what it expands to, so it cannot take a suspension point in the expansion apart; suspend in the body (`let x = {site};`) and pass `x` to the macro, or make the macro's work a machine of its own called with `call_io!`"
        ),
        Why::SiteArg => format!(
            "`{kind}` cannot be nested inside another suspension point's argument; write `let x = {site};` first and pass `x`"
        ),
    }
}

struct Reject<'c> {
    cx: &'c Ctxt,
    why: Vec<Why>,
    cond: CondOf,
    /// The condition being checked, if it is one.
    whole: Option<Expr>,
    /// Where the innermost `&&`/`||` around the visit stands (its operator).
    short_at: Option<(usize, usize)>,
}

fn pos(span: Span) -> (usize, usize) {
    (span.start().line, span.start().column)
}

// Input:  `k < call_io!(n(c))?`, the position of `call_io`, `x`
// Output: `k < x`
/// `e` as text with the suspension point or the `&&`/`||` expression at
/// `at` (the position of the macro's name or of the operator) replaced by
/// `with`.
fn subst(e: &Expr, at: (usize, usize), with: &str) -> String {
    struct S<'a> {
        at: (usize, usize),
        with: &'a str,
        done: bool,
    }
    impl syn::visit_mut::VisitMut for S<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            if self.done {
                return;
            }
            let hit = match strip(e) {
                Expr::Binary(b) => {
                    matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_))
                        && pos(quote::ToTokens::to_token_stream(&b.op)
                            .into_iter()
                            .next()
                            .map_or_else(Span::call_site, |t| t.span()))
                            == self.at
                }
                _ => as_site(e).is_some_and(|s| pos(site_name_span(s.mac)) == self.at),
            };
            if hit {
                let id = syn::Ident::new(self.with, Span::call_site());
                *e = Expr::Verbatim(quote::quote!(#id));
                self.done = true;
                return;
            }
            syn::visit_mut::visit_expr_mut(self, e);
        }
    }
    let mut e2 = e.clone();
    let mut v = S {
        at,
        with,
        done: false,
    };
    syn::visit_mut::VisitMut::visit_expr_mut(&mut v, &mut e2);
    if !v.done {
        return with.to_string();
    }
    one_line(&quote::quote!(#e2).to_string())
}

impl Reject<'_> {
    fn with(&mut self, why: Why, f: impl FnOnce(&mut Self)) {
        self.why.push(why);
        f(self);
        self.why.pop();
    }

    fn report(&self, kind: &str, question: bool, span: Span) {
        // The innermost context that makes suspending impossible (closure,
        // guard, ..) explains best; then a short circuit, whose rewrite
        // differs; otherwise the innermost operand position.
        let strong = |w: &&Why| {
            !matches!(
                w,
                Why::Operand | Why::CallArg | Why::Receiver | Why::ShortCircuit { .. }
            )
        };
        let short = |w: &&Why| matches!(w, Why::ShortCircuit { .. });
        let shorts = self.why.iter().filter(short).count();
        let why = self
            .why
            .iter()
            .rev()
            .find(strong)
            .or_else(|| self.why.iter().rev().find(short))
            .or(self.why.last())
            .cloned()
            .unwrap_or(Why::Operand);
        // Below a closure or the like, the condition it stands in does not
        // decide the fix.
        let cond = if self.why.iter().any(|w| strong(&w)) {
            CondOf::None
        } else {
            self.cond
        };
        let q = if question { "?" } else { "" };
        // The condition as the fix leaves it: the short circuit, or the
        // suspension, replaced by `x`.
        let target = match &why {
            Why::ShortCircuit { .. } => self.short_at,
            _ => Some(pos(span)),
        };
        let test = match (&self.whole, target) {
            (Some(e), Some(t)) => subst(e, t, "x"),
            _ => "x".to_string(),
        };
        self.cx
            .error(span, why_message(kind, q, &why, shorts > 1, cond, &test));
    }

    fn scan_tokens(&self, tokens: &TokenStream, why: &Why) {
        let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
        for (i, tt) in trees.iter().enumerate() {
            match tt {
                TokenTree::Ident(id) if id == "yield_io" || id == "call_io" => {
                    if matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!') {
                        let kind = format!("{id}!");
                        let question = question_after(&trees[i + 1..]);
                        let q = if question { "?" } else { "" };
                        self.cx
                            .error(id.span(), why_message(&kind, q, why, false, CondOf::None, "x"));
                    }
                }
                TokenTree::Group(g) => self.scan_tokens(&g.stream(), why),
                _ => {}
            }
        }
    }
}

/// Whether `! ( .. ) ?` follows: the suspension inside another macro's
/// tokens is under `?`.
fn question_after(trees: &[TokenTree]) -> bool {
    matches!(trees.get(2), Some(TokenTree::Punct(p)) if p.as_char() == '?')
}

fn site_name_span(m: &Macro) -> Span {
    m.path
        .segments
        .last()
        .map_or_else(Span::call_site, |s| s.ident.span())
}

/// The position of the first suspension point in `e`.
fn first_site(e: &Expr) -> Option<(usize, usize)> {
    struct F(Option<(usize, usize)>);
    impl<'ast> Visit<'ast> for F {
        fn visit_macro(&mut self, m: &'ast Macro) {
            if self.0.is_none() && macro_kind(m).is_some() {
                self.0 = Some(pos(site_name_span(m)));
            }
        }
    }
    let mut f = F(None);
    f.visit_expr(e);
    f.0
}

fn holds_let(e: &Expr) -> bool {
    match strip(e) {
        Expr::Let(_) => true,
        Expr::Binary(b) => holds_let(&b.left) || holds_let(&b.right),
        _ => false,
    }
}

impl<'ast> Visit<'ast> for Reject<'_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        // `call_io!(..)?`: the fix keeps the `?`, and adds none where the
        // code has none.
        if let Expr::Try(t) = strip(e)
            && let Expr::Macro(m) = strip(&t.expr)
            && let Some(kind) = macro_kind(&m.mac)
        {
            self.report(kind.name(), true, site_name_span(&m.mac));
            return;
        }
        visit::visit_expr(self, e);
    }
    fn visit_macro(&mut self, m: &'ast Macro) {
        match macro_kind(m) {
            Some(kind) => self.report(kind.name(), false, site_name_span(m)),
            None if m.path.is_ident("macro_rules") => self.scan_tokens(&m.tokens, &Why::MacroRules),
            None => self.scan_tokens(&m.tokens, &Why::MacroArg),
        }
    }
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.with(Why::Closure, |v| visit::visit_expr_closure(v, c));
    }
    fn visit_expr_async(&mut self, a: &'ast syn::ExprAsync) {
        self.with(Why::Async, |v| visit::visit_expr_async(v, a));
    }
    fn visit_item(&mut self, i: &'ast syn::Item) {
        // A machine of its own inside the body: its attribute expands its
        // suspension points, which are not this machine's.
        if is_nested_machine(i) {
            return;
        }
        self.with(Why::NestedFn, |v| visit::visit_item(v, i));
    }
    fn visit_pat_guard(&mut self, g: &'ast syn::PatGuard) {
        self.visit_pat(&g.pat);
        let outer = self.whole.replace((*g.guard).clone());
        self.with(Why::Guard, |v| v.visit_expr(&g.guard));
        self.whole = outer;
    }
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        self.with(Why::Operand, |v| v.visit_expr(&c.func));
        self.with(Why::CallArg, |v| {
            for a in &c.args {
                v.visit_expr(a);
            }
        });
    }
    fn visit_expr_method_call(&mut self, c: &'ast syn::ExprMethodCall) {
        self.with(Why::Receiver, |v| v.visit_expr(&c.receiver));
        self.with(Why::CallArg, |v| {
            for a in &c.args {
                v.visit_expr(a);
            }
        });
    }
    fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
        match b.op {
            syn::BinOp::And(_) | syn::BinOp::Or(_) => {
                self.with(Why::Operand, |v| v.visit_expr(&b.left));
                let left = &b.left;
                let right = match as_site(&b.right) {
                    Some(_) => None,
                    None => first_site(&b.right).map(|at| subst(&b.right, at, "y")),
                };
                let short = Why::ShortCircuit {
                    and: matches!(b.op, syn::BinOp::And(_)),
                    left: one_line(&quote::quote!(#left).to_string()),
                    right,
                    // `a && let P = yield_io!(..)` is a let chain too: its
                    // `let` cannot stand in a `bool` (attack round 13,
                    // finding 6).
                    chain: holds_let(&b.left) || holds_let(&b.right),
                };
                let op_at = quote::ToTokens::to_token_stream(&b.op)
                    .into_iter()
                    .next()
                    .map(|t| pos(t.span()));
                let outer = std::mem::replace(&mut self.short_at, op_at);
                self.with(short, |v| v.visit_expr(&b.right));
                self.short_at = outer;
            }
            _ => self.with(Why::Operand, |v| visit::visit_expr_binary(v, b)),
        }
    }
}

/// Reports every suspension point in `node`: it stands where the machine
/// cannot suspend.
pub fn reject_expr(cx: &Ctxt, e: &Expr) {
    reject_cond(cx, e, CondOf::None);
}

/// [`reject_expr`] for the condition of an `if`, `else if` or `while`.
pub fn reject_cond(cx: &Ctxt, e: &Expr, cond: CondOf) {
    Reject {
        cx,
        why: Vec::new(),
        cond,
        whole: (cond != CondOf::None).then(|| e.clone()),
        short_at: None,
    }
    .visit_expr(e);
}

pub fn reject_stmt(cx: &Ctxt, s: &Stmt) {
    Reject {
        cx,
        why: Vec::new(),
        cond: CondOf::None,
        whole: None,
        short_at: None,
    }
    .visit_stmt(s);
}

pub fn reject_pat(cx: &Ctxt, p: &Pat) {
    Reject {
        cx,
        why: Vec::new(),
        cond: CondOf::None,
        whole: None,
        short_at: None,
    }
    .visit_pat(p);
}

/// Reports suspension points inside the argument of a suspension point.
pub fn reject_site_arg(cx: &Ctxt, e: &Expr) {
    Reject {
        cx,
        why: vec![Why::SiteArg],
        cond: CondOf::None,
        whole: None,
        short_at: None,
    }
    .visit_expr(e);
}

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

/// The names `pat` binds, in order.
/// Appends the names `pats` bind to `out` (a scope being walked).
pub fn push_names(out: &mut Vec<String>, pats: &[&Pat]) {
    for pat in pats {
        let mut bs = Vec::new();
        binders(pat, None, &mut bs);
        out.extend(bs.into_iter().map(|b| b.ident.to_string()));
    }
}

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

/// Whether control never reaches the end of `e` (syntactically certain
/// cases only).
pub fn diverges(e: &Expr) -> bool {
    match strip(e) {
        Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => true,
        Expr::Macro(m) => m.mac.path.segments.last().is_some_and(|s| {
            matches!(
                s.ident.to_string().as_str(),
                "panic" | "unreachable" | "todo" | "unimplemented"
            )
        }),
        Expr::Block(b) if b.label.is_none() => b.block.stmts.last().is_some_and(stmt_diverges),
        Expr::If(i) => {
            i.then_branch.stmts.last().is_some_and(stmt_diverges)
                && i.else_branch.as_ref().is_some_and(|(_, e)| diverges(e))
        }
        // No arms: the scrutinee is uninhabited, the `match` has type `!`.
        Expr::Match(m) => m.arms.iter().all(|a| diverges(&a.body)),
        Expr::Loop(l) => !contains_break(&l.body),
        _ => false,
    }
}

pub fn stmt_diverges(s: &Stmt) -> bool {
    match s {
        Stmt::Expr(e, _) => diverges(e),
        Stmt::Macro(m) => m.mac.path.segments.last().is_some_and(|s| {
            matches!(
                s.ident.to_string().as_str(),
                "panic" | "unreachable" | "todo" | "unimplemented"
            )
        }),
        _ => false,
    }
}

fn contains_break(b: &syn::Block) -> bool {
    struct B(bool);
    impl<'ast> Visit<'ast> for B {
        fn visit_expr_break(&mut self, _: &'ast syn::ExprBreak) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut v = B(false);
    v.visit_block(b);
    v.0
}

/// std macros whose string literals are format strings with captures.
pub const FORMAT_MACROS: &[&str] = &[
    "format",
    "format_args",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "unreachable",
    "todo",
    "unimplemented",
];

/// std macros besides [`FORMAT_MACROS`] that expand to expressions or
/// statements only, never to an item (a per-call-site `static`, a
/// `thread_local!`): code invoking only these may be emitted twice. Also
/// the placeholders the transform itself writes.
const OTHER_ITEM_FREE_MACROS: &[&str] = &[
    "vec",
    "matches",
    "concat",
    "stringify",
    "line",
    "column",
    "file",
    "module_path",
    "cfg",
    "env",
    "option_env",
    "dbg",
    "__ratchet_jump",
    "__ratchet_susp",
];

/// Whether `name!` is one of std's macros that expand to no item (and no
/// `break`, `continue` or `return` of the code around them).
pub fn is_item_free_macro(name: &str) -> bool {
    FORMAT_MACROS.contains(&name)
        || OTHER_ITEM_FREE_MACROS.contains(&name)
        || name.starts_with("__ratchet_trace_")
}

/// Whether `tokens` invoke a macro outside [`is_item_free_macro`]'s (and the
/// runtime's `__ratchet_trace_*` hooks), or define one.
///
/// Macros named in `known` (the body's own `macro_rules!` that write no
/// item) count as item-free too.
pub fn invokes_item_macro_except(tokens: &TokenStream, known: &[String]) -> bool {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees.iter().enumerate().any(|(i, tt)| match tt {
        TokenTree::Ident(id) => {
            let name = id.to_string();
            let bang = matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!' && p.spacing() == proc_macro2::Spacing::Alone);
            // `if !(x)` and `return !x` are operators, not invocations.
            let keyword = matches!(
                name.as_str(),
                "if" | "while" | "match" | "return" | "in" | "break" | "else" | "let" | "as" | "mut" | "move" | "yield"
            );
            let called = match trees.get(i + 2) {
                Some(TokenTree::Group(_)) => true,
                Some(TokenTree::Ident(_)) => name == "macro_rules",
                _ => false,
            };
            if !bang || !called || keyword || name.starts_with("__ratchet_trace_") {
                return false;
            }
            // `std::format!` is std's; `defmt::println!` is not, whatever
            // its last segment (defmt's write a `static` per call site).
            match path_root(&trees, i) {
                None => !is_item_free_macro(&name) && !known.contains(&name),
                Some(root) => !(matches!(root.as_str(), "std" | "core" | "alloc") && is_item_free_macro(&name)),
            }
        }
        TokenTree::Group(g) => invokes_item_macro_except(&g.stream(), known),
        _ => false,
    })
}

// Input:  the tokens of `a::b::m!(..)`, `i` at `m`
// Output: `Some("a")` (for `m!(..)`: `None`)
/// The first segment of the path that ends at `trees[i]`, when it has more
/// than one.
fn path_root(trees: &[TokenTree], i: usize) -> Option<String> {
    let colon = |k: usize| matches!(trees.get(k), Some(TokenTree::Punct(p)) if p.as_char() == ':');
    let mut at = i;
    let mut root = None;
    while at >= 3 && colon(at - 1) && colon(at - 2) {
        match &trees[at - 3] {
            TokenTree::Ident(id) => {
                root = Some(id.to_string());
                at -= 3;
            }
            _ => break,
        }
    }
    root
}

/// Attributes that write nothing beside the item they stand on (std's
/// lints, `cfg`, docs, codegen hints): any other, an attribute macro or a
/// derive outside std's, may write a `static` or an `impl`.
const INERT_ATTRIBUTES: &[&str] = &[
    "allow",
    "warn",
    "deny",
    "forbid",
    "expect",
    "cfg",
    "cfg_attr",
    "doc",
    "inline",
    "cold",
    "must_use",
    "track_caller",
    "repr",
    "non_exhaustive",
    "deprecated",
    "automatically_derived",
    "rustfmt",
    "clippy",
    "diagnostic",
    "reevaluated",
];

/// The derives of std, which write only the trait's `impl` for the type
/// they stand on.
const STD_DERIVES: &[&str] = &[
    "Debug",
    "Clone",
    "Copy",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Hash",
    "Default",
];

// Input:  the stream of `#[derive(Debug, serde::Serialize)]`'s brackets
// Output: true (`#[allow(unused)]`, `#[derive(Clone)]`: false)
/// Whether an attribute (the tokens inside `#[..]`) may write an item of
/// its own beside the one it stands on.
fn attribute_may_write_item(stream: &TokenStream) -> bool {
    let trees: Vec<TokenTree> = stream.clone().into_iter().collect();
    let Some(TokenTree::Ident(first)) = trees.first() else {
        return false;
    };
    let name = first.to_string();
    // The parts of the attribute's arguments, split at their commas.
    let args: Vec<Vec<TokenTree>> = match trees.get(1) {
        Some(TokenTree::Group(g)) => {
            let items: Vec<TokenTree> = g.stream().into_iter().collect();
            items
                .split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
                .map(<[TokenTree]>::to_vec)
                .collect()
        }
        _ => Vec::new(),
    };
    // `cfg_attr(pred, a, b)` stands for `a` and `b` (attack round 14).
    if name == "cfg_attr" {
        return args
            .iter()
            .skip(1)
            .any(|a| attribute_may_write_item(&a.iter().cloned().collect()));
    }
    if name == "derive" {
        return args.iter().any(|d| {
            let idents: Vec<String> = d
                .iter()
                .filter_map(|t| match t {
                    TokenTree::Ident(id) => Some(id.to_string()),
                    _ => None,
                })
                .collect();
            match idents.as_slice() {
                [] => false,
                [one] => !STD_DERIVES.contains(&one.as_str()),
                [root, .., last] => {
                    !(matches!(root.as_str(), "std" | "core") && STD_DERIVES.contains(&last.as_str()))
                }
            }
        });
    }
    // `unsafe(no_mangle)` and the like are found by the caller's scan.
    name != "unsafe" && !INERT_ATTRIBUTES.contains(&name.as_str())
}

// Input:  `{ static ONCE: Once = Once::new(); ONCE.call_once(f) }`, or `impl T for u32 {}`
// Output: true (for `fn f() -> &'static str { .. }`: false)
/// Whether `tokens` may declare an item that must exist once in a program:
/// a `static` (a per-call-site value), an `impl` (a second one conflicts),
/// an item whose symbol is fixed (`#[no_mangle]`, `#[export_name]`,
/// `#[link_section]`, `#[used]`), or an item under an attribute that may
/// write one (an attribute macro such as `tracing::instrument`, a derive
/// outside std's). Code that holds one cannot be written twice, as a
/// verbatim start and a resume's arm, or as a fast-path copy.
pub fn declares_unique_item(tokens: &TokenStream) -> bool {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees.iter().enumerate().any(|(i, tt)| match tt {
        TokenTree::Ident(id) => {
            let lifetime = i > 0 && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '\'');
            let name = id.to_string();
            match name.as_str() {
                "static" => !lifetime,
                "impl" | "no_mangle" | "export_name" | "link_section" => true,
                _ => false,
            }
        }
        TokenTree::Group(g) => {
            let hash = |k: usize| matches!(trees.get(k), Some(TokenTree::Punct(p)) if p.as_char() == '#');
            let bang = |k: usize| matches!(trees.get(k), Some(TokenTree::Punct(p)) if p.as_char() == '!');
            let attr = g.delimiter() == proc_macro2::Delimiter::Bracket
                && i > 0
                && (hash(i - 1) || (i > 1 && bang(i - 1) && hash(i - 2)));
            let used =
                attr && matches!(g.stream().into_iter().next(), Some(TokenTree::Ident(id)) if id == "used");
            used || (attr && attribute_may_write_item(&g.stream())) || declares_unique_item(&g.stream())
        }
        _ => false,
    })
}

// Input:  `yield_io!(\n    self.file.pwrite(pos, buf, Completion::write())?\n)` as written
// Output: `yield_io!(self.file.pwrite(pos, buf, Completion::write())?)`
/// Readable text of a suspension point for `Debug`, diagrams and messages:
/// on one line (the compiler's token printer wraps long calls), elided in
/// the middle past [`TEXT_MAX`] characters.
pub fn source_text(mac: &Macro) -> String {
    one_line(&quote::quote!(#mac).to_string())
}

/// How long a suspension point's text may be before it is elided.
pub const TEXT_MAX: usize = 72;

/// `s` with every run of whitespace one space, elided with `…` in the
/// middle past [`TEXT_MAX`] characters.
pub fn one_line(s: &str) -> String {
    let out = tidy(&s.split_whitespace().collect::<Vec<_>>().join(" "));
    let chars: Vec<char> = out.chars().collect();
    if chars.len() <= TEXT_MAX {
        return out;
    }
    let keep = TEXT_MAX.saturating_sub(1) / 2;
    let head: String = chars.iter().take(keep).collect();
    let tail: String = chars.iter().skip(chars.len() - keep).collect();
    format!("{head}…{tail}")
}

/// `yield_io ! (src . pread (i , c) ?)` -> `yield_io!(src.pread(i, c)?)`.
pub fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.get(i + 1).copied();
            // `&x` but `a && b`.
            let glue_prev = matches!(prev, Some('.' | '(' | '[' | '!' | '&' | ':')) && !out.ends_with("&&");
            let glue_next = matches!(
                next,
                Some('.' | '(' | ')' | '[' | ']' | '!' | '?' | ',' | ':' | ';')
            );
            // Keep `a = b`, `x as y`, and `match x {`.
            // `f(a, (b, c))` keeps the space after the comma.
            let glue_next = glue_next && !(prev == Some(',') && matches!(next, Some('(' | '[')));
            if glue_prev && prev != Some(':') || glue_next && next != Some(':') {
                continue;
            }
            if prev == Some(':') && next == Some(':') || prev == Some(':') && out.ends_with("::") {
                continue;
            }
            if next == Some(':') && chars.get(i + 2) == Some(&':') {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// The paths of the `yield_io!`/`call_io!` invocations in `b`, once each.
pub fn macro_paths(b: &syn::Block) -> Vec<syn::Path> {
    struct P(Vec<syn::Path>);
    impl<'ast> Visit<'ast> for P {
        fn visit_macro(&mut self, m: &'ast Macro) {
            if macro_kind(m).is_some() {
                let text = quote::ToTokens::to_token_stream(&m.path).to_string();
                if !self
                    .0
                    .iter()
                    .any(|p| quote::ToTokens::to_token_stream(p).to_string() == text)
                {
                    self.0.push(m.path.clone());
                }
            }
        }
    }
    let mut p = P(Vec::new());
    p.visit_block(b);
    // Those inside other macros' tokens (refused, but their imports count).
    let mut bare = Vec::new();
    bare_macro_idents(&quote::ToTokens::to_token_stream(b), &mut bare);
    for id in bare {
        if !p
            .0
            .iter()
            .any(|q| q.segments.last().is_some_and(|s| s.ident == id))
        {
            p.0.push(syn::Path::from(id));
        }
    }
    p.0
}

fn bare_macro_idents(ts: &TokenStream, out: &mut Vec<syn::Ident>) {
    let trees: Vec<TokenTree> = ts.clone().into_iter().collect();
    for (i, tt) in trees.iter().enumerate() {
        match tt {
            TokenTree::Ident(id) if id == "yield_io" || id == "call_io" => {
                let bang = matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                let pathed = i > 0 && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == ':');
                if bang && !pathed && !out.iter().any(|o| o == id) {
                    out.push(id.clone());
                }
            }
            TokenTree::Group(g) => bare_macro_idents(&g.stream(), out),
            _ => {}
        }
    }
}

// Input:  `#[io_state_machine(state = s)] fn inner(..) { yield_io!(c)?; .. }` in a body
// Output: `true`
/// Whether an item of a body is a machine of its own (a function under
/// `#[io_state_machine]`, an impl under `#[io_state_machines]`), whose
/// suspension points its own attribute expands.
pub fn is_nested_machine(i: &syn::Item) -> bool {
    let attrs = match i {
        syn::Item::Fn(f) => &f.attrs,
        syn::Item::Impl(im) => &im.attrs,
        _ => return false,
    };
    attrs.iter().any(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "io_state_machine" || s.ident == "io_state_machines")
    })
}

/// Whether `tokens` hold `yield_io!` or `call_io!` anywhere, closures and
/// nested macros included.
pub fn suspension_in_tokens(tokens: &TokenStream) -> bool {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees.iter().enumerate().any(|(i, t)| match t {
        TokenTree::Ident(id) => {
            (id == "yield_io" || id == "call_io")
                && matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!')
        }
        TokenTree::Group(g) => suspension_in_tokens(&g.stream()),
        _ => false,
    })
}

/// `+=`, `-=` and the other compound assignments.
pub fn is_compound_assign(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
}

#[cfg(test)]
mod tests {
    use super::{TEXT_MAX, format_captures, one_line, tidy};

    #[test]
    fn unique_items() {
        use super::declares_unique_item as u;
        let t = |s: &str| s.parse::<proc_macro2::TokenStream>().unwrap();
        assert!(u(&t("{ static ONCE: Once = Once::new(); }")));
        assert!(u(&t("f(format!(\"{}\", { static N: u8 = 0; N }))")));
        assert!(u(&t("impl Tr for u8 {}")));
        assert!(u(&t("#[unsafe(no_mangle)] extern \"C\" fn f() {}")));
        assert!(u(&t("#[export_name = \"f\"] fn f() {}")));
        assert!(u(&t("#[used] static mut X: u8 = 0;")));
        assert!(u(&t("#[unsafe(link_section = \".x\")] fn f() {}")));
        assert!(!u(&t("fn f() -> &'static str { \"\" } let used = 1;")));
        assert!(!u(&t("let s: &'static [u8] = b\"\"; x.used();")));
        assert!(u(&t("#[tracing::instrument] fn helper() {}")));
        assert!(u(&t("#[derive(Debug, pm::Registered)] struct R;")));
        assert!(u(&t("#[derive(serde::Serialize)] struct R;")));
        assert!(!u(&t("#[derive(Debug, Clone, std::hash::Hash)] struct R;")));
        assert!(!u(&t(
            "#[allow(unused_variables)] let x = 1; #![allow(dead_code)] #[cfg(test)] {}"
        )));
        assert!(!u(&t("#[rustfmt::skip] let x = 1; #[inline] fn f() {}")));
        assert!(u(&t("#[cfg_attr(all(), pm::add_static)] fn helper() {}")));
        assert!(u(&t(
            "#[cfg_attr(all(), derive(Debug, pm::Registered))] struct R;"
        )));
        assert!(u(&t(
            "#[cfg_attr(all(), cfg_attr(all(), pm::add_static))] fn helper() {}"
        )));
        assert!(!u(&t(
            "#[cfg_attr(test, derive(Debug), allow(dead_code))] struct R;"
        )));
    }

    #[test]
    fn item_macros_by_path() {
        use super::invokes_item_macro_except as m;
        let t = |s: &str| s.parse::<proc_macro2::TokenStream>().unwrap();
        assert!(!m(
            &t("format!(\"{}\", 1); std::println!(\"x\"); ::core::assert!(true);"),
            &[]
        ));
        assert!(m(&t("defmt::println!(\"x\");"), &[]));
        assert!(m(&t("fakestd::format!(\"x\");"), &[]));
        assert!(m(&t("tracing::info!(\"x\");"), &[]));
        assert!(!m(
            &t("::ratchet::__private::__ratchet_trace_pass!(at, \"x\");"),
            &[]
        ));
        assert!(!m(&t("m1!(3)"), &["m1".to_owned()]));
    }

    #[test]
    fn captures() {
        assert_eq!(
            format_captures(r#""{x} and {y:?} but not {{z}} or {0}""#),
            ["x", "y"]
        );
        assert_eq!(
            format_captures(r#""{w:>width$.prec$} {v:1$}""#),
            ["w", "width", "prec", "v"]
        );
        assert!(format_captures("'c'").is_empty());
    }

    #[test]
    fn tidies_token_text() {
        assert_eq!(
            tidy("yield_io ! (src . pread (i , c) ?)"),
            "yield_io!(src.pread(i, c)?)"
        );
        assert_eq!(
            tidy("call_io ! (self . free_page (dev , i))"),
            "call_io!(self.free_page(dev, i))"
        );
        assert_eq!(tidy("yield_io ! (a :: b (x))"), "yield_io!(a::b(x))");
        assert_eq!(
            tidy("call_io ! (f (a , (b , c) , [d]))"),
            "call_io!(f(a, (b, c), [d]))"
        );
    }

    #[test]
    fn suspension_text_is_one_line_and_elided_when_long() {
        assert_eq!(
            one_line("yield_io !\n(self . file . pwrite (pos , buf ,\n    Completion :: write ()) ?)"),
            "yield_io!(self.file.pwrite(pos, buf, Completion::write())?)"
        );
        let long = one_line(&format!("yield_io ! (f (\n{}))", "argument , ".repeat(20)));
        assert_eq!(long.chars().count(), 2 * ((TEXT_MAX - 1) / 2) + 1);
        assert!(long.starts_with("yield_io!(f(argument, "), "{long}");
        assert!(long.ends_with("argument,))"), "{long}");
        assert!(long.contains('…') && !long.contains('\n'), "{long}");
    }
}
