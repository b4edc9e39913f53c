//! `tests/ready_drops.rs`, compiled as edition 2021: every completion
//! ready, each machine drops its values where the plain function does in
//! this edition (the body's tail temporaries after its locals).

#[path = "../../ready_drops.rs"]
mod ready_drops;
