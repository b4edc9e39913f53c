//! The guide: chapters beyond the crate's front page, each with examples
//! that run as doctests.
//!
//! - [`migration`]: from a hand-written state enum to a generated one, and
//!   the conventions of a Turso-style engine beside ratchet's.

#[doc = include_str!("migration.md")]
pub mod migration {}
