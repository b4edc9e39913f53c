//! Lints (rule 14): machines expanded under `clippy::pedantic` (checked by
//! `cargo clippy --all-targets -- -D warnings`, as `.ci/run` does), in a crate
//! that also shadows the prelude.
#![deny(warnings, clippy::pedantic)]
#![allow(missing_docs, dead_code)]

include!("hygiene/machines.rs");
