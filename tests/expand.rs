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
#[path = "expand/loop_break_value.rs"]
mod loop_break_value;
#[path = "expand/match_arms.rs"]
mod match_arms;
#[path = "expand/shadowing.rs"]
mod shadowing;
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

fn done<T>(r: Result<IOResult<T>, ratchet::CompletionError>) -> T {
    match r {
        Ok(IOResult::Done(v)) => v,
        _ => panic!("not done"),
    }
}

#[test]
fn expanded_machines_run() {
    let c = Completion::ready();
    let disk = chain_walk::Disk {
        next: vec![2, u64::MAX, 1],
    };
    assert_eq!(
        done(chain_walk::walk(&mut chain_walk::WalkState::default(), &disk, 0)),
        2
    );
    let mut pager = for_method_call::Pager::default();
    assert_eq!(done(pager.clear(3)), 3);
    assert_eq!(
        done(group_batches::flush(
            &mut group_batches::FlushState::default(),
            2,
            3
        )),
        6
    );
    assert!(done(if_let::try_twice(&mut if_let::TryTwiceState::default(), &c)));
    assert_eq!(
        done(labeled_block::probe(
            &mut labeled_block::Probe::default(),
            &c,
            false
        )),
        2
    );
    assert_eq!(
        done(labeled_block::probe(
            &mut labeled_block::Probe::default(),
            &c,
            true
        )),
        1
    );
    assert_eq!(done(let_else::get(&mut let_else::GetState::default(), &c, 4)), 8);
    assert_eq!(done(let_else::get(&mut let_else::GetState::default(), &c, 0)), 0);
    assert_eq!(
        done(loop_break_value::retry(
            &mut loop_break_value::RetryState::default(),
            &c,
            3
        )),
        1
    );
    assert_eq!(
        done(match_arms::classify(
            &mut match_arms::ClassifyState::default(),
            &c
        )),
        21
    );
    assert_eq!(
        done(shadowing::render(&mut shadowing::RenderState::default(), &c)),
        "8"
    );
    assert_eq!(
        done(straight_line::add(&mut straight_line::AddState::default(), 1, 2)),
        3
    );
    assert_eq!(
        done(sub_state::fill_twice(
            &mut sub_state::FillTwiceState::default(),
            &c
        )),
        3
    );
    let mut cursor_state = while_let_cursor::SumState::default();
    let _ = &mut cursor_state;
    assert_eq!(
        done(while_loop::copy_pages(
            &mut while_loop::CopyPagesState::default(),
            &while_loop::Disk,
            3
        )),
        3
    );
    let mut st = yield_now::CooperativeState::default();
    let mut calls = 0;
    loop {
        calls += 1;
        if let IOResult::Done(n) = yield_now::cooperative(&mut st, 3).unwrap() {
            assert_eq!(n, 3);
            break;
        }
    }
    assert_eq!(calls, 4);
}
