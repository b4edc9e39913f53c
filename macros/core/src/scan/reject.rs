//! Shared syntax queries: where a suspension point may not stand. Takes
//! code the graph builder (stage 3) keeps whole, or does not take apart
//! (an expression, a statement, a pattern, a condition, a suspension's own
//! argument); gives one error through [`Ctxt`] per suspension point found
//! there, saying why it cannot be taken apart and what to write instead.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::visit::{self, Visit};
use syn::{Expr, Macro, Pat, Stmt};

use super::{as_site, is_nested_machine, macro_kind, one_line, strip};
use crate::ctxt::Ctxt;

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
