//! Which capitalised identifier patterns of a body are bindings.
//!
//! In Rust a bare identifier pattern is a binding unless a constant, static,
//! unit struct or unit variant of that name is in scope, which the attribute
//! cannot see. By convention it takes a capitalised one (`None`, `MAX`) for
//! such an item. That convention alone made `let N: u32 = N + 10;` a
//! constant pattern to it: `N` was not stored, and a resume read the
//! parameter `N` instead (attack round 14, F3). A pattern that must be
//! irrefutable settles the question: in `let N = ..` (without `else`), a
//! parameter or a closure's parameter, `N` cannot be a constant (the
//! pattern would be refutable: rustc's E0005), so it is a binding there,
//! whatever else the function declares. Elsewhere (a `match` arm, an
//! `if let`), a name the function binds that way is a binding too, unless
//! the body declares a value of that name (a `const`, a `static`, a unit or
//! tuple `struct`, a `use`) or holds a glob `use`, which may make it a
//! constant in that scope: then the convention decides.
//!
//! Known limit: `let Tok = Tok;` with `Tok` a unit struct declared outside
//! the function binds nothing in Rust, but is taken for a binding here.

use std::cell::RefCell;

use syn::visit::{self, Visit};
use syn::{Block, FnArg, Pat, Signature};

thread_local! {
    /// What is known of the function being transformed; set for one
    /// function by [`Known::set`].
    static KNOWN: RefCell<State> = const { RefCell::new(State { names: Vec::new(), irrefutable: Vec::new() }) };
}

struct State {
    /// Names bound irrefutably and declared as no value of the body.
    names: Vec<String>,
    /// Where each identifier of an irrefutable pattern starts.
    irrefutable: Vec<(usize, usize)>,
}

/// Holds the names of one function while it is transformed; clears them
/// when dropped, panic included.
pub struct Known(());

impl Known {
    // Input:  `fn f(st, N: u32) { let M: u32 = N; match M { K => .. } const C: u32 = 1; }`
    // Output: `N` and `M` are bindings (`K` is not known, `C` is an item)
    /// Records which capitalised names `sig` and `block` bind irrefutably.
    pub fn set(sig: &Signature, block: &Block) -> Known {
        let mut v = Collect::default();
        for input in &sig.inputs {
            if let FnArg::Typed(pt) = input {
                v.irrefutable(&pt.pat);
            }
        }
        v.visit_block(block);
        // A glob `use` in the body may bring any name into some scope.
        let glob = v.items.iter().any(|n| n == "*");
        let names: Vec<String> = v
            .bound
            .into_iter()
            .filter(|n| !glob && !v.items.contains(n))
            .collect();
        KNOWN.with(|k| {
            *k.borrow_mut() = State {
                names,
                irrefutable: v.irrefutable,
            }
        });
        Known(())
    }
}

impl Drop for Known {
    fn drop(&mut self) {
        let _ = KNOWN.try_with(|k| {
            let mut k = k.borrow_mut();
            k.names.clear();
            k.irrefutable.clear();
        });
    }
}

/// Whether the identifier pattern `id` of the current function is a
/// binding for what the function itself shows (see the module docs).
pub fn is_known_binding(id: &syn::Ident) -> bool {
    let start = id.span().start();
    let at = (start.line, start.column);
    let name = id.to_string();
    KNOWN
        .try_with(|k| {
            k.try_borrow()
                .is_ok_and(|k| k.irrefutable.contains(&at) || k.names.contains(&name))
        })
        .unwrap_or(false)
}

#[derive(Default)]
struct Collect {
    bound: Vec<String>,
    irrefutable: Vec<(usize, usize)>,
    items: Vec<String>,
    /// Inside an item with a body of its own (a nested `fn`, an `impl`, a
    /// `mod`, a `const`'s block): its items are not in the function's scopes.
    in_item: usize,
}

impl Collect {
    fn irrefutable(&mut self, pat: &Pat) {
        struct Idents<'a>(&'a mut Collect);
        impl<'ast> Visit<'ast> for Idents<'_> {
            fn visit_pat_ident(&mut self, pi: &'ast syn::PatIdent) {
                self.0.bound.push(pi.ident.to_string());
                let start = pi.ident.span().start();
                self.0.irrefutable.push((start.line, start.column));
                visit::visit_pat_ident(self, pi);
            }
        }
        Idents(self).visit_pat(pat);
    }
}

impl<'ast> Visit<'ast> for Collect {
    fn visit_local(&mut self, l: &'ast syn::Local) {
        if l.init.as_ref().is_none_or(|i| i.diverge.is_none()) {
            self.irrefutable(&l.pat);
        }
        visit::visit_local(self, l);
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        for p in &c.inputs {
            self.irrefutable(p);
        }
        visit::visit_expr_closure(self, c);
    }

    fn visit_item(&mut self, item: &'ast syn::Item) {
        if self.in_item == 0 {
            // Only values can stand in a pattern: a braced `struct` or an
            // `enum` lives in the type namespace.
            let name = match item {
                syn::Item::Const(i) => Some(&i.ident),
                syn::Item::Static(i) => Some(&i.ident),
                syn::Item::Struct(i) if !matches!(i.fields, syn::Fields::Named(_)) => Some(&i.ident),
                _ => None,
            };
            self.items.extend(name.map(ToString::to_string));
            if let syn::Item::Use(u) = item {
                self.use_tree(&u.tree);
            }
        }
        self.in_item += 1;
        visit::visit_item(self, item);
        self.in_item -= 1;
    }
}

impl Collect {
    fn use_tree(&mut self, t: &syn::UseTree) {
        match t {
            syn::UseTree::Path(p) => self.use_tree(&p.tree),
            syn::UseTree::Name(n) => self.items.push(n.ident.to_string()),
            syn::UseTree::Rename(r) => self.items.push(r.rename.to_string()),
            // A glob may bring in anything: no capitalised name is known.
            syn::UseTree::Glob(_) => self.items.push("*".to_owned()),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| self.use_tree(t)),
        }
    }
}
