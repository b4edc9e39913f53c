//! Error collection: every stage reports into one `Ctxt`, so all errors of a
//! function reach the user together (serde_derive's `internals/ctxt.rs`).

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;

/// The errors found so far in one function.
#[derive(Default)]
pub struct Ctxt {
    errors: RefCell<Vec<syn::Error>>,
}

impl Ctxt {
    pub fn new() -> Self {
        Ctxt::default()
    }

    /// An error at `span`.
    pub fn error(&self, span: Span, msg: impl Display) {
        self.errors.borrow_mut().push(syn::Error::new(span, msg));
    }

    /// An error covering the tokens of `node`.
    pub fn spanned(&self, node: &impl ToTokens, msg: impl Display) {
        self.errors.borrow_mut().push(syn::Error::new_spanned(node, msg));
    }

    /// How many errors were found so far.
    pub fn error_count(&self) -> usize {
        self.errors.borrow().len()
    }

    /// Forgets the errors found after the first `n` (a stage run again).
    pub fn truncate(&self, n: usize) {
        self.errors.borrow_mut().truncate(n);
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.borrow().is_empty()
    }

    /// Every error, in the order they were found, leaving none behind.
    pub fn take_errors(&self) -> Vec<syn::Error> {
        std::mem::take(&mut *self.errors.borrow_mut())
    }

    /// The `compile_error!`s of every error, in the order they were found.
    pub fn to_compile_errors(&self) -> TokenStream {
        self.errors
            .borrow()
            .iter()
            .map(syn::Error::to_compile_error)
            .collect()
    }
}
