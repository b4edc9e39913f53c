//! ratchet: straight-line cooperative I/O state machines for storage engines.
//!
//! See the README for now; this page becomes the guide as the transform lands.

pub use ratchet_macros::*;
pub use ratchet_runtime::*;
