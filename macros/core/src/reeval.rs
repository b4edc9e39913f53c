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

use syn::visit::Visit;
use syn::{Attribute, Block, Stmt};

use crate::ctxt::Ctxt;

/// The marker's name.
const MARKER: &str = "reevaluated";

fn is_marker(a: &Attribute) -> bool {
    a.path().is_ident(MARKER)
}

// Input:  `{ #[reevaluated] let h = hdr(p)?; let n = 1; yield_io!(c)?; .. }`
// Output: `[let h = hdr(p)?;]`, the body left as `{ let n = 1; yield_io!(c)?; .. }`
/// Takes the leading marked `let` statements off `block` (the marker
/// removed) and returns them in order. A marker anywhere else, or a marked
/// statement that cannot be re-evaluated, is reported and dropped, so that
/// the rest of the pipeline sees plain Rust.
pub fn split(cx: &Ctxt, block: &mut Block) -> Vec<Stmt> {
    let mut prelude = Vec::new();
    let mut leading = true;
    for mut stmt in std::mem::take(&mut block.stmts) {
        let marked = match &mut stmt {
            Stmt::Local(local) => take_marker(&mut local.attrs),
            _ => None,
        };
        match (marked, &stmt) {
            (Some(attr), Stmt::Local(local)) if leading => {
                let waits = local.init.as_ref().is_some_and(|init| {
                    crate::scan::expr_suspends(&init.expr)
                        || init
                            .diverge
                            .as_ref()
                            .is_some_and(|(_, e)| crate::scan::expr_suspends(e))
                });
                if local.init.is_none() {
                    cx.spanned(
                        &attr,
                        "a `#[reevaluated]` binding is evaluated again on every resume, so it needs its value where it is declared: `#[reevaluated] let x = ..;`",
                    );
                } else if waits {
                    cx.spanned(
                        &attr,
                        "a `#[reevaluated]` binding is evaluated on every call that runs code, outside the machine's states, so it cannot wait: move the `yield_io!`/`call_io!` into the body and store what it gives",
                    );
                }
                prelude.push(stmt);
            }
            (Some(attr), _) => {
                cx.spanned(
                    &attr,
                    "`#[reevaluated]` goes on the `let` statements that open the body, before any other statement: they are evaluated again at the start of every call that runs code, so they must come first, where the arguments are all they can read",
                );
                block.stmts.push(stmt);
                leading = false;
            }
            (None, _) => {
                leading = false;
                block.stmts.push(stmt);
            }
        }
    }
    let mut misplaced = Misplaced { cx };
    misplaced.visit_block(block);
    for s in &prelude {
        misplaced.visit_stmt(s);
    }
    prelude
}

/// Removes the marker from `attrs`, returning it.
fn take_marker(attrs: &mut Vec<Attribute>) -> Option<Attribute> {
    let at = attrs.iter().position(is_marker)?;
    Some(attrs.remove(at))
}

/// Reports a marker left on a statement inside a nested block, which
/// `split` does not look into.
struct Misplaced<'a> {
    cx: &'a Ctxt,
}

impl<'ast> Visit<'ast> for Misplaced<'_> {
    fn visit_attribute(&mut self, a: &'ast Attribute) {
        if is_marker(a) {
            self.cx.spanned(
                a,
                "`#[reevaluated]` goes on the `let` statements that open the function's body, not inside a nested block: they are evaluated again at the start of every call that runs code",
            );
        }
    }
}

// Input:  `{ #[reevaluated] let h = hdr(p)?; .. }`
// Output: `{ let h = hdr(p)?; .. }`
/// The body with every marker removed, for the expansion of a function that
/// failed: the body is emitted as plain code there, where rustc would not
/// know the attribute.
pub fn strip_markers(block: &Block) -> Block {
    let mut block = block.clone();
    syn::visit_mut::visit_block_mut(&mut Strip, &mut block);
    block
}

struct Strip;

impl syn::visit_mut::VisitMut for Strip {
    fn visit_local_mut(&mut self, l: &mut syn::Local) {
        l.attrs.retain(|a| !is_marker(a));
        syn::visit_mut::visit_local_mut(self, l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &str) -> (Vec<String>, String, Vec<String>) {
        let cx = Ctxt::new();
        let mut block: Block = syn::parse_str(body).unwrap();
        let prelude = split(&cx, &mut block);
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
