//! The inputs of the expansion snapshots (`tests/expand/*.rs`) compile and
//! run. The snapshots themselves are checked by
//! `cargo test -p ratchet-macros-core --test expand`.
#![allow(missing_docs, dead_code)]

#[path = "expand/chain_walk.rs"]
mod chain_walk;
#[path = "expand/for_method_call.rs"]
mod for_method_call;
#[path = "expand/generic_impl.rs"]
mod generic_impl;
#[path = "expand/group_batches.rs"]
mod group_batches;
#[path = "expand/if_let.rs"]
mod if_let;
#[path = "expand/labeled_block.rs"]
mod labeled_block;
#[path = "expand/let_else.rs"]
mod let_else;
#[path = "expand/let_else_suspend_in_else.rs"]
mod let_else_suspend_in_else;
#[path = "expand/loop_break_value.rs"]
mod loop_break_value;
#[path = "expand/match_arms.rs"]
mod match_arms;
#[path = "expand/ready_drop.rs"]
mod ready_drop;
#[path = "expand/shadowing.rs"]
mod shadowing;
#[path = "expand/state_behind_refcell.rs"]
mod state_behind_refcell;
#[path = "expand/straight_line.rs"]
mod straight_line;
#[path = "expand/sub_state.rs"]
mod sub_state;
#[path = "expand/while_let_cursor.rs"]
mod while_let_cursor;
#[path = "expand/while_loop.rs"]
mod while_loop;
#[path = "expand/yield_now.rs"]
mod yield_now;

use ratchet::{Completion, IOResult};

/// Calls the machine until it is done (its completions are all ready, so
/// it only returns `IO` under force-suspend or at a cooperative yield).
fn done<T>(mut machine: impl FnMut() -> Result<IOResult<T>, ratchet::CompletionError>) -> T {
    for _ in 0..100 {
        if let IOResult::Done(v) = machine().expect("no error") {
            return v;
        }
    }
    panic!("not done after 100 calls")
}

#[test]
fn expanded_machines_run() {
    let c = Completion::ready();
    let disk = chain_walk::Disk {
        next: vec![2, u64::MAX, 1],
    };
    let mut st = chain_walk::WalkState::default();
    assert_eq!(done(|| chain_walk::walk(&mut st, &disk, 0)), 2);
    let mut pager = for_method_call::Pager::default();
    assert_eq!(done(|| pager.clear(3)), 3);
    let mut st = group_batches::FlushState::default();
    assert_eq!(done(|| group_batches::flush(&mut st, 2, 3)), 6);
    let mut st = if_let::TryTwiceState::default();
    assert!(done(|| if_let::try_twice(&mut st, &c)));
    let mut st = labeled_block::Probe::default();
    assert_eq!(done(|| labeled_block::probe(&mut st, &c, false)), 2);
    assert_eq!(done(|| labeled_block::probe(&mut st, &c, true)), 1);
    let mut st = let_else::GetState::default();
    assert_eq!(done(|| let_else::get(&mut st, &c, 4)), 8);
    assert_eq!(done(|| let_else::get(&mut st, &c, 0)), 0);
    let mut st = loop_break_value::RetryState::default();
    assert_eq!(done(|| loop_break_value::retry(&mut st, &c, 3)), 1);
    let mut st = match_arms::ClassifyState::default();
    assert_eq!(done(|| match_arms::classify(&mut st, &c)), 21);
    let mut st = shadowing::RenderState::default();
    assert_eq!(done(|| shadowing::render(&mut st, &c)), "<8>");
    let mut st = straight_line::AddState::default();
    assert_eq!(done(|| straight_line::add(&mut st, 1, 2)), 3);
    let mut st = sub_state::FillTwiceState::default();
    assert_eq!(done(|| sub_state::fill_twice(&mut st, &c)), 3);
    let mut st = while_loop::CopyPagesState::default();
    assert_eq!(done(|| while_loop::copy_pages(&mut st, &while_loop::Disk, 3)), 3);
    // A cooperative yield returns `IO` once per round even though finished.
    let mut st = yield_now::CooperativeState::default();
    let mut calls = 0;
    assert_eq!(
        done(|| {
            calls += 1;
            yield_now::cooperative(&mut st, 3)
        }),
        3
    );
    assert_eq!(calls, 4);
    let mut st = ready_drop::MatchedState::default();
    let mut out = Vec::new();
    assert_eq!(done(|| ready_drop::matched(&mut st, true, &mut out)), 2);
    assert_eq!(out, [1, 3, 4, 5]);
}
