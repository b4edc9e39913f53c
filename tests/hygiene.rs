//! Hygiene (rule 14): generated code names everything by absolute path, so
//! a crate shadowing the prelude still compiles its machines, without a
//! single warning.
#![deny(warnings)]
#![allow(missing_docs, dead_code)]

include!("hygiene/machines.rs");
