//! A resumed `call_io!` point calls its callee where the caller's state
//! lies, before taking the state (issue 14, pending mode): while the callee
//! still waits nothing moves. These tests hold what that must not change:
//! the caller's results under every schedule, the stored locals the call
//! reads, and rule 11 (a panic leaves the caller idle).
#![allow(missing_docs)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use ratchet::{CompletionError, IOResult, call_io, io_state_machine, yield_io};

mod support;
use support::{Dev, SCHEDULES, Schedule, drive};

type Res<T> = Result<IOResult<T>, CompletionError>;

/// Two waits, then ten times `k`; panics after the first wait when `k` is
/// `boom_at`.
#[io_state_machine(state = st)]
fn leaf(
    st: &mut LeafState,
    dev: &Dev,
    k: u32,
    buf: &mut Vec<u32>,
    boom_at: u32,
    trace: &mut Vec<String>,
) -> Res<u32> {
    trace.push(format!("leaf {k} starts"));
    yield_io!(dev.op())?;
    assert!(k != boom_at, "leaf {k} panics on its resume");
    buf.push(k);
    trace.push(format!("leaf {k} pushed"));
    yield_io!(dev.op())?;
    Ok(k * 10)
}

/// Calls `leaf` in a loop with a stored state, a stored buffer under
/// `&mut`, and a stored counter passed alone (a copy).
#[io_state_machine(state = st)]
fn nest(
    st: &mut NestState,
    dev: &Dev,
    rounds: u32,
    boom_at: u32,
    trace: &mut Vec<String>,
) -> Res<(u32, Vec<u32>)> {
    let mut sub: LeafState = LeafState::default();
    let mut buf: Vec<u32> = Vec::new();
    let mut k: u32 = 0;
    let mut total: u32 = 0;
    while k < rounds {
        k += 1;
        total += call_io!(leaf(&mut sub, dev, k, &mut buf, boom_at, trace))?;
        trace.push(format!("nest got {total}"));
    }
    Ok((total, buf))
}

/// `nest` with the leaf's state boxed, reached as `&mut *sub` (the shape
/// under test, which auto-deref would also give).
#[allow(clippy::explicit_auto_deref)]
#[io_state_machine(state = st)]
fn boxed_nest(
    st: &mut BoxedNestState,
    dev: &Dev,
    rounds: u32,
    trace: &mut Vec<String>,
) -> Res<(u32, Vec<u32>)> {
    let mut sub: Box<LeafState> = Box::default();
    let mut buf: Vec<u32> = Vec::new();
    let mut k: u32 = 0;
    let mut total: u32 = 0;
    while k < rounds {
        k += 1;
        total += call_io!(leaf(&mut *sub, dev, k, &mut buf, 0, trace))?;
        trace.push(format!("nest got {total}"));
    }
    Ok((total, buf))
}

/// `nest` written as a plain function, for the expected trace.
fn nest_plain(rounds: u32) -> ((u32, Vec<u32>), Vec<String>) {
    let mut trace = Vec::new();
    let mut buf = Vec::new();
    let mut total = 0;
    for k in 1..=rounds {
        trace.push(format!("leaf {k} starts"));
        buf.push(k);
        trace.push(format!("leaf {k} pushed"));
        total += k * 10;
        trace.push(format!("nest got {total}"));
    }
    ((total, buf), trace)
}

#[test]
fn a_nested_call_resumed_in_place_gives_the_plain_functions_result() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = NestState::default();
        let (r, trace, _) = drive(&dev, |t: &mut Vec<String>| nest(&mut st, &dev, 4, 0, t));
        let (want, want_trace) = nest_plain(4);
        assert_eq!(r.unwrap(), want, "{s:?}");
        assert_eq!(trace, want_trace, "{s:?}");
        assert!(st.is_idle(), "{s:?}");
    }
}

#[test]
fn a_boxed_callee_state_reached_through_a_deref_resumes_in_place() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = BoxedNestState::default();
        let (r, trace, _) = drive(&dev, |t: &mut Vec<String>| boxed_nest(&mut st, &dev, 3, t));
        let (want, want_trace) = nest_plain(3);
        assert_eq!(r.unwrap(), want, "{s:?}");
        assert_eq!(trace, want_trace, "{s:?}");
    }
}

#[test]
fn a_callee_failing_on_a_resume_in_place_leaves_the_caller_idle() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        // Operations 0 and 1 are the first leaf's; 2 is the second leaf's
        // first wait, whose error it returns on its resume.
        dev.fail_op(2);
        let mut st = NestState::default();
        let (r, trace, _) = drive(&dev, |t: &mut Vec<String>| nest(&mut st, &dev, 3, 0, t));
        assert!(matches!(r, Err(CompletionError::Io(_))), "{s:?}: {r:?}");
        assert_eq!(
            trace,
            ["leaf 1 starts", "leaf 1 pushed", "nest got 10", "leaf 2 starts"],
            "{s:?}"
        );
        assert!(st.is_idle(), "{s:?}");
    }
}

#[test]
fn a_callee_panicking_on_a_resume_in_place_leaves_the_caller_idle() {
    let dev = Dev::new(Schedule::Deferred);
    let mut st = NestState::default();
    let mut trace = Vec::new();
    // The first call starts the leaf, which waits: the caller suspends at
    // its `call_io!` point, storing the leaf's state.
    assert!(matches!(
        nest(&mut st, &dev, 1, 1, &mut trace),
        Ok(IOResult::IO(_))
    ));
    assert!(!st.is_idle());
    dev.finish_all();
    // The resume calls the leaf in place; the leaf panics.
    let panicked = catch_unwind(AssertUnwindSafe(|| nest(&mut st, &dev, 1, 1, &mut trace)));
    assert!(panicked.is_err());
    assert!(st.is_idle(), "after a panic the state is idle (rule 11): {st:?}");
    // And the next call starts over.
    trace.clear();
    let (r, trace, _) = drive(&dev, |t: &mut Vec<String>| nest(&mut st, &dev, 2, 0, t));
    assert_eq!(r.unwrap(), nest_plain(2).0);
    assert_eq!(trace, nest_plain(2).1);
}

/// The state in a field of `self`, and a call that needs `&mut self`: the
/// resume cannot call in place (the state would be borrowed twice) and
/// takes the state first, as before.
struct Pager {
    state: CountState,
    calls: u32,
}

#[ratchet::io_state_machines]
impl Pager {
    #[io_state_machine(state = self.state)]
    fn count(&mut self, dev: &Dev, n: u32) -> Res<u32> {
        let mut sub: LeafState = LeafState::default();
        let mut buf: Vec<u32> = Vec::new();
        let mut trace: Vec<String> = Vec::new();
        let got = call_io!(self.leaf_of(&mut sub, dev, n, &mut buf, &mut trace))?;
        Ok(got + buf.len() as u32)
    }

    fn leaf_of(
        &mut self,
        sub: &mut LeafState,
        dev: &Dev,
        n: u32,
        buf: &mut Vec<u32>,
        trace: &mut Vec<String>,
    ) -> Res<u32> {
        self.calls += 1;
        leaf(sub, dev, n, buf, 0, trace)
    }
}

#[test]
fn a_call_that_borrows_self_beside_a_state_in_self_still_resumes() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut pager = Pager {
            state: CountState::default(),
            calls: 0,
        };
        let (r, _, calls) = drive(&dev, |_: &mut Vec<()>| pager.count(&dev, 7));
        assert_eq!(r.unwrap(), 71, "{s:?}");
        // One call of the leaf per call of the machine, not one more.
        assert_eq!(pager.calls as usize, calls, "{s:?}");
    }
}
