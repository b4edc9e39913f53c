//! Placeholder until the backend lands.
use std::sync::Arc;
use crate::{Completion, CompletionError, File, IO, OpenOptions};
/// Placeholder.
#[derive(Debug, Default)]
pub struct DeferredIO;
impl DeferredIO {
    /// Placeholder.
    #[must_use]
    pub fn new() -> Self { DeferredIO }
}
impl IO for DeferredIO {
    fn open_file(&self, _: &std::path::Path, _: OpenOptions) -> std::io::Result<Arc<dyn File>> { Err(std::io::ErrorKind::Unsupported.into()) }
    fn remove_file(&self, _: &std::path::Path) -> std::io::Result<()> { Ok(()) }
    fn step(&self) -> Result<usize, CompletionError> { let _ = Completion::ready(); Ok(0) }
}
