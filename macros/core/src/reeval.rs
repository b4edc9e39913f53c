//! Re-evaluated bindings (DESIGN rule 8, last sentence; issue 15 item 2).
//!
//! `#[reevaluated] let header = HeaderRefMut::from_pager(pager)?;` at the
//! top of a body is not a local of the machine: it is evaluated again from
//! the arguments at the start of the run and after every real resume, so it
//! may hold a borrow of them (an engine's header guard), and it is never
//! stored. The pipeline takes such statements off the body before it builds
//! the graph, so their names are free names there, as parameters are; the
//! emitter puts them back after the pending check, where every call that
//! runs code passes (a re-entry while the completion is still pending runs
//! nothing, rule 3).

use proc_macro2::TokenStream;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Attribute, Block, Expr, Stmt};

use crate::ctxt::Ctxt;

/// The marker's name.
const MARKER: &str = "reevaluated";

fn is_marker(a: &Attribute) -> bool {
    a.path().is_ident(MARKER)
}

/// `#[cfg_attr(P, reevaluated)]` (at any depth of `cfg_attr`): a marker
/// only rustc could tell applies, after the attribute has run.
fn is_conditional_marker(a: &Attribute) -> bool {
    fn names_marker(ts: TokenStream) -> bool {
        ts.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == MARKER,
            proc_macro2::TokenTree::Group(g) => names_marker(g.stream()),
            _ => false,
        })
    }
    match &a.meta {
        syn::Meta::List(l) if a.path().is_ident("cfg_attr") => names_marker(l.tokens.clone()),
        _ => false,
    }
}

const CONDITIONAL: &str = "`#[reevaluated]` cannot be applied through `cfg_attr`: #[io_state_machine] decides which bindings are re-evaluated when it expands, before rustc evaluates the `cfg_attr`, so it cannot tell whether the marker applies; write `#[reevaluated]` itself, or put the function under `#[cfg(..)]` twice, once with the marker and once without";

/// What `split` found: the bindings, and whether a marker was misused (the
/// errors about the bindings' types then leave out their `#[reevaluated]`
/// hint, which the marker's own error covers).
pub struct Split {
    pub prelude: Vec<Stmt>,
    pub misused: bool,
}

// Input:  `{ #[reevaluated] let h = hdr(p)?; let n = 1; yield_io!(c)?; .. }`
// Output: `[let h = hdr(p)?;]`, the body left as `{ let n = 1; yield_io!(c)?; .. }`
/// Takes the leading marked `let` statements off `block` (items may stand
/// among them: they are visible in the whole body) and returns them in
/// order, markers removed. A marker anywhere else, or a marked statement
/// that cannot be re-evaluated, is reported and removed, so that the rest
/// of the pipeline and rustc see plain Rust.
pub fn split(cx: &Ctxt, block: &mut Block) -> Split {
    let before = cx.error_count();
    let mut prelude = Vec::new();
    let mut leading = true;
    for mut stmt in std::mem::take(&mut block.stmts) {
        let marked = take_markers(cx, stmt_attrs(&mut stmt));
        match (marked, &stmt) {
            (Some(attr), Stmt::Local(local)) if leading => {
                if local.init.is_none() {
                    cx.spanned(
                        &attr,
                        "a `#[reevaluated]` binding is evaluated again on every resume, so it needs its value where it is declared: `#[reevaluated] let x = ..;`",
                    );
                } else if crate::scan::suspension_in_tokens(&quote::ToTokens::to_token_stream(&stmt)) {
                    cx.spanned(
                        &attr,
                        "a `#[reevaluated]` binding is evaluated on every call that runs code, outside the machine's states, so it cannot wait, not even in a closure: move the `yield_io!`/`call_io!` into the body and store what it gives",
                    );
                }
                prelude.push(stmt);
            }
            (Some(attr), Stmt::Local(_)) => {
                cx.spanned(
                    &attr,
                    "`#[reevaluated]` goes on the `let` statements that open the body, before any other statement (items aside): they are evaluated again at the start of every call that runs code, so they must come first, where the arguments are all they can read",
                );
                block.stmts.push(stmt);
                leading = false;
            }
            (Some(attr), _) => {
                cx.spanned(&attr, NOT_A_LET);
                leading &= matches!(stmt, Stmt::Item(_));
                block.stmts.push(stmt);
            }
            (None, _) => {
                leading &= matches!(stmt, Stmt::Item(_));
                block.stmts.push(stmt);
            }
        }
    }
    let mut misplaced = Misplaced { cx };
    misplaced.visit_block_mut(block);
    for s in &mut prelude {
        misplaced.visit_stmt_mut(s);
    }
    Split {
        prelude,
        misused: cx.error_count() > before,
    }
}

const NOT_A_LET: &str = "`#[reevaluated]` marks a `let` binding among the statements that open the body (`#[reevaluated] let header = pager.header()?;`), not another statement or an item";

/// A statement's outer attributes (an expression statement's are its
/// expression's).
fn stmt_attrs(stmt: &mut Stmt) -> Option<&mut Vec<Attribute>> {
    match stmt {
        Stmt::Local(l) => Some(&mut l.attrs),
        Stmt::Macro(m) => Some(&mut m.attrs),
        Stmt::Item(i) => item_attrs(i),
        Stmt::Expr(e, _) => expr_attrs(e),
    }
}

fn item_attrs(i: &mut syn::Item) -> Option<&mut Vec<Attribute>> {
    match i {
        syn::Item::Const(x) => Some(&mut x.attrs),
        syn::Item::Enum(x) => Some(&mut x.attrs),
        syn::Item::Fn(x) => Some(&mut x.attrs),
        syn::Item::Impl(x) => Some(&mut x.attrs),
        syn::Item::Macro(x) => Some(&mut x.attrs),
        syn::Item::Mod(x) => Some(&mut x.attrs),
        syn::Item::Static(x) => Some(&mut x.attrs),
        syn::Item::Struct(x) => Some(&mut x.attrs),
        syn::Item::Trait(x) => Some(&mut x.attrs),
        syn::Item::Type(x) => Some(&mut x.attrs),
        syn::Item::Union(x) => Some(&mut x.attrs),
        syn::Item::Use(x) => Some(&mut x.attrs),
        _ => None,
    }
}

fn expr_attrs(e: &mut Expr) -> Option<&mut Vec<Attribute>> {
    // syn keeps an expression statement's outer attributes in the node
    // that starts it.
    match e {
        Expr::Array(x) => Some(&mut x.attrs),
        Expr::Assign(x) => Some(&mut x.attrs),
        Expr::Async(x) => Some(&mut x.attrs),
        Expr::Await(x) => Some(&mut x.attrs),
        Expr::Binary(x) => Some(&mut x.attrs),
        Expr::Block(x) => Some(&mut x.attrs),
        Expr::Break(x) => Some(&mut x.attrs),
        Expr::Call(x) => Some(&mut x.attrs),
        Expr::Cast(x) => Some(&mut x.attrs),
        Expr::Closure(x) => Some(&mut x.attrs),
        Expr::Continue(x) => Some(&mut x.attrs),
        Expr::Field(x) => Some(&mut x.attrs),
        Expr::ForLoop(x) => Some(&mut x.attrs),
        Expr::If(x) => Some(&mut x.attrs),
        Expr::Index(x) => Some(&mut x.attrs),
        Expr::Loop(x) => Some(&mut x.attrs),
        Expr::Macro(x) => Some(&mut x.attrs),
        Expr::Match(x) => Some(&mut x.attrs),
        Expr::MethodCall(x) => Some(&mut x.attrs),
        Expr::Paren(x) => Some(&mut x.attrs),
        Expr::Path(x) => Some(&mut x.attrs),
        Expr::Return(x) => Some(&mut x.attrs),
        Expr::Try(x) => Some(&mut x.attrs),
        Expr::Unary(x) => Some(&mut x.attrs),
        Expr::Unsafe(x) => Some(&mut x.attrs),
        Expr::While(x) => Some(&mut x.attrs),
        _ => None,
    }
}

/// Removes every marker from `attrs`: the first is returned; one written
/// twice or with arguments is reported.
fn take_markers(cx: &Ctxt, attrs: Option<&mut Vec<Attribute>>) -> Option<Attribute> {
    let attrs = attrs?;
    let mut found: Option<Attribute> = None;
    let mut kept = Vec::with_capacity(attrs.len());
    for a in attrs.drain(..) {
        if is_conditional_marker(&a) {
            // Reported and dropped, so that rustc does not look for the
            // marker as an attribute of its own.
            cx.spanned(&a, CONDITIONAL);
            continue;
        }
        if !is_marker(&a) {
            kept.push(a);
            continue;
        }
        if !matches!(a.meta, syn::Meta::Path(_)) {
            cx.spanned(&a, "`#[reevaluated]` takes no arguments");
        }
        if found.is_some() {
            cx.spanned(
                &a,
                "`#[reevaluated]` is written twice on this binding; once is enough",
            );
        } else {
            found = Some(a);
        }
    }
    *attrs = kept;
    found
}

/// Reports and removes a marker that `split` did not take: one inside a
/// nested block or on a part of a statement.
struct Misplaced<'a> {
    cx: &'a Ctxt,
}

impl VisitMut for Misplaced<'_> {
    fn visit_local_mut(&mut self, l: &mut syn::Local) {
        if let Some(a) = take_markers(self.cx, Some(&mut l.attrs)) {
            self.cx.spanned(
                &a,
                "`#[reevaluated]` goes on the `let` statements that open the function's body, not inside a nested block: they are evaluated again at the start of every call that runs code",
            );
        }
        syn::visit_mut::visit_local_mut(self, l);
    }
    fn visit_attributes_mut(&mut self, attrs: &mut Vec<Attribute>) {
        if let Some(a) = take_markers(self.cx, Some(attrs)) {
            self.cx.spanned(&a, NOT_A_LET);
        }
    }
}

// Input:  `let v = match o { Some(v) => v, None => return Ok(0) };`
// Output: `let v = match o { Some(v) => v, None => return done(Ok(0)) };`
/// Rewrites each `return e` of `stmt` (not those of closures, async
/// blocks or nested items, which return from themselves) with `done`.
pub fn map_returns(stmt: &mut Stmt, done: &dyn Fn(&Expr) -> TokenStream) {
    struct Returns<'a>(&'a dyn Fn(&Expr) -> TokenStream);
    impl VisitMut for Returns<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            match e {
                Expr::Closure(_) | Expr::Async(_) => {}
                Expr::Return(r) => {
                    if let Some(v) = &mut r.expr {
                        self.visit_expr_mut(v);
                        **v = Expr::Verbatim((self.0)(v));
                    }
                }
                _ => syn::visit_mut::visit_expr_mut(self, e),
            }
        }
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    Returns(done).visit_stmt_mut(stmt);
}

/// The names the prelude binds.
pub fn bound_names(prelude: &[Stmt]) -> Vec<String> {
    let mut out = Vec::new();
    for s in prelude {
        out.extend(crate::scan::names_bound_in(s));
    }
    out
}

// Input:  bindings `[n]`, body `{ n += 1; yield_io!(c)?; .. }`
// Output: an error at `n += 1`
/// Refuses a change to a re-evaluated binding itself (an assignment, a
/// compound assignment, `drop(x)`), which the next real resume would undo.
/// A name the body binds again is left alone: the change may be to that.
pub fn refuse_changes(cx: &Ctxt, prelude: &[Stmt], body: &Block) {
    // One without a value was refused already.
    let valued: Vec<Stmt> = prelude
        .iter()
        .filter(|s| matches!(s, Stmt::Local(l) if l.init.is_some()))
        .cloned()
        .collect();
    let names = bound_names(&valued);
    let mut rebound = Vec::new();
    for s in &body.stmts {
        collect_bound(s, &mut rebound);
    }
    let watched: Vec<String> = names.into_iter().filter(|n| !rebound.contains(n)).collect();
    if watched.is_empty() {
        return;
    }
    struct Changes<'a> {
        cx: &'a Ctxt,
        watched: &'a [String],
    }
    impl Changes<'_> {
        fn report(&self, node: &Expr, name: &str, what: &str) {
            let fix = if what.contains("drop") {
                "to let go of it for the rest of the run, do not mark it `#[reevaluated]`: borrow where needed instead".to_owned()
            } else {
                format!(
                    "keep what changes in a local of its own (`let mut count = {name};`), or change what it points to, not the binding"
                )
            };
            self.cx.spanned(
                node,
                format!("`{name}` is `#[reevaluated]`: it is evaluated again from the arguments after every resume, which would undo {what}; {fix}"),
            );
        }
    }
    impl<'ast> Visit<'ast> for Changes<'_> {
        fn visit_expr(&mut self, e: &'ast Expr) {
            let target = |x: &Expr| match crate::scan::strip(x) {
                Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
                _ => None,
            };
            match e {
                Expr::Assign(a) => {
                    if let Some(n) = target(&a.left).filter(|n| self.watched.contains(n)) {
                        self.report(e, &n, "this assignment");
                    }
                }
                Expr::Binary(b) if crate::scan::is_compound_assign(&b.op) => {
                    if let Some(n) = target(&b.left).filter(|n| self.watched.contains(n)) {
                        self.report(e, &n, "this change");
                    }
                }
                Expr::Call(c) if c.args.len() == 1 => {
                    let is_drop = matches!(crate::scan::strip(&c.func), Expr::Path(p)
                        if p.path.segments.last().is_some_and(|s| s.ident == "drop"));
                    if is_drop && let Some(n) = target(&c.args[0]).filter(|n| self.watched.contains(n)) {
                        self.report(e, &n, "this `drop`");
                    }
                }
                _ => {}
            }
            syn::visit::visit_expr(self, e);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    Changes {
        cx,
        watched: &watched,
    }
    .visit_block(body);
}

/// Every name a pattern in `s` binds, at any depth (closures' parameters
/// included): a conservative list of what may shadow a prelude binding.
fn collect_bound(s: &Stmt, out: &mut Vec<String>) {
    struct Pats<'a>(&'a mut Vec<String>);
    impl<'ast> Visit<'ast> for Pats<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }
    }
    Pats(out).visit_stmt(s);
}

// Input:  `{ #[reevaluated] let h = hdr(p)?; .. }`
// Output: `{ let h = hdr(p)?; .. }`
/// The body with every marker removed, for the expansion of a function that
/// failed: the body is emitted as plain code there, where rustc would not
/// know the attribute.
pub fn strip_markers(block: &Block) -> Block {
    let mut block = block.clone();
    Strip.visit_block_mut(&mut block);
    block
}

struct Strip;

impl VisitMut for Strip {
    fn visit_attributes_mut(&mut self, attrs: &mut Vec<Attribute>) {
        attrs.retain(|a| !is_marker(a) && !is_conditional_marker(a));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &str) -> (Vec<String>, String, Vec<String>) {
        let cx = Ctxt::new();
        let mut block: Block = syn::parse_str(body).unwrap();
        let prelude = split(&cx, &mut block).prelude;
        let texts = prelude.iter().map(|s| quote::quote!(#s).to_string()).collect();
        let rest = quote::quote!(#block).to_string();
        let errors = cx.take_errors().iter().map(ToString::to_string).collect();
        (texts, rest, errors)
    }

    #[test]
    fn leading_marked_lets_are_taken_off_in_order() {
        let (prelude, rest, errors) =
            run("{ #[reevaluated] let h = hdr(p)?; #[reevaluated] let mut g = h.page(); let n = 1; f(n); }");
        assert_eq!(prelude, ["let h = hdr (p) ? ;", "let mut g = h . page () ;"]);
        assert_eq!(rest, "{ let n = 1 ; f (n) ; }");
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn a_marker_after_another_statement_is_refused() {
        let (prelude, _, errors) = run("{ let n = 1; #[reevaluated] let h = hdr(p); }");
        assert!(prelude.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("before any other statement"), "{errors:?}");
    }

    #[test]
    fn a_marker_in_a_nested_block_is_refused() {
        let (_, _, errors) = run("{ { #[reevaluated] let h = hdr(p); } }");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("nested block"), "{errors:?}");
    }

    #[test]
    fn a_marked_let_that_waits_or_has_no_value_is_refused() {
        let (_, _, errors) = run("{ #[reevaluated] let h = yield_io!(c)?; #[reevaluated] let g; }");
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("cannot wait"), "{errors:?}");
        assert!(errors[1].contains("needs its value"), "{errors:?}");
    }

    #[test]
    fn strip_markers_leaves_plain_rust() {
        let block: Block = syn::parse_str("{ #[reevaluated] #[allow(unused)] let h = 1; }").unwrap();
        let out = strip_markers(&block);
        assert_eq!(
            quote::quote!(#out).to_string(),
            "{ # [allow (unused)] let h = 1 ; }"
        );
    }
}
