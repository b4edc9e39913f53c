//! Which capitalised identifier patterns of a body are bindings.
//!
//! In Rust a bare identifier pattern is a binding unless a constant, static,
//! unit struct or unit variant of that name is in scope, which the attribute
//! cannot see. By convention it takes a capitalised one (`None`, `MAX`) for
//! such an item. That convention alone made `let N: u32 = N + 10;` a
//! constant pattern to it: `N` was not stored, and a resume read the
//! parameter `N` instead (attack round 14, F3). A pattern that must be
//! irrefutable settles the question: `let N = ..` (without `else`), a
//! parameter or a closure's parameter cannot name a constant in scope (the
//! pattern would be refutable: rustc's E0005), so in that function `N` is
//! no such item and every `N` pattern is a binding. An item of the body
//! that declares the name takes it back.

use std::cell::RefCell;

use syn::visit::{self, Visit};
use syn::{Block, FnArg, Pat, Signature};

thread_local! {
    /// The capitalised names known to be bindings in the function being
    /// transformed; set for one function by [`Known::set`].
    static KNOWN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
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
        KNOWN.with(|k| *k.borrow_mut() = names);
        Known(())
    }
}

impl Drop for Known {
    fn drop(&mut self) {
        let _ = KNOWN.try_with(|k| k.borrow_mut().clear());
    }
}

/// Whether `name` is bound irrefutably somewhere in the current function.
pub fn is_known_binding(name: &str) -> bool {
    KNOWN
        .try_with(|k| k.try_borrow().is_ok_and(|k| k.iter().any(|n| n == name)))
        .unwrap_or(false)
}

#[derive(Default)]
struct Collect {
    bound: Vec<String>,
    items: Vec<String>,
}

impl Collect {
    fn irrefutable(&mut self, pat: &Pat) {
        struct Idents<'a>(&'a mut Vec<String>);
        impl<'ast> Visit<'ast> for Idents<'_> {
            fn visit_pat_ident(&mut self, pi: &'ast syn::PatIdent) {
                self.0.push(pi.ident.to_string());
                visit::visit_pat_ident(self, pi);
            }
        }
        Idents(&mut self.bound).visit_pat(pat);
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
        let name = match item {
            syn::Item::Const(i) => Some(&i.ident),
            syn::Item::Static(i) => Some(&i.ident),
            syn::Item::Struct(i) => Some(&i.ident),
            syn::Item::Enum(i) => Some(&i.ident),
            syn::Item::Fn(i) => Some(&i.sig.ident),
            _ => None,
        };
        self.items.extend(name.map(ToString::to_string));
        if let syn::Item::Use(u) = item {
            self.use_tree(&u.tree);
        }
        visit::visit_item(self, item);
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
