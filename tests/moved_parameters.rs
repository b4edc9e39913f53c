//! Run-time tests for by-value parameters the body moves (issue 13's
//! leftovers, item 1). Before, a parameter that is not `Copy` moved where the
//! dispatch loop can come back to it (before or inside a loop that holds a
//! suspension point) failed with rustc's E0382 "value moved here, in
//! previous iteration of loop" at the attribute, though the plain function
//! compiles. Arguments are passed afresh on every call (rule 2): a moved
//! parameter is consumed once, on the call that runs the move; the argument
//! of a later call that the body never reads is dropped when that call
//! returns. Each machine is compared with what the plain function does,
//! under every schedule of `support`.
#![allow(missing_docs)]

use ratchet::{CompletionError, IOResult, call_io, io_state_machine, yield_io};

mod support;
use support::{Dev, SCHEDULES, drive, log, take_log};

type Res<T> = Result<IOResult<T>, CompletionError>;

/// A value that is not `Copy` and whose drop is logged with the call that
/// passed it.
#[derive(Debug)]
pub struct Arg {
    call: u32,
    items: Vec<u64>,
}

impl Drop for Arg {
    fn drop(&mut self) {
        log(format!("drop arg of call {}", self.call));
    }
}

/// Runs `machine` to the end under `s`, counting calls from 1; `machine`
/// gets the number of the call.
fn run<T, E>(dev: &Dev, mut machine: impl FnMut(u32) -> Result<IOResult<T>, E>) -> (Result<T, E>, u32) {
    let mut n = 0u32;
    let (r, _, _) = drive(dev, |_: &mut Vec<()>| {
        n += 1;
        machine(n)
    });
    (r, n)
}

// ---------------------------------------------------------------------------
// The three shapes of the finding.

#[io_state_machine(state = st)]
fn into_iter_then_loop(st: &mut IntoIterThenLoopState, dev: &Dev, v: Vec<u64>) -> Res<u64> {
    let mut t: u64 = 0;
    let it: std::vec::IntoIter<u64> = v.into_iter();
    for x in it {
        yield_io!(dev.op())?;
        t += x;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn moved_to_a_local_then_loop(st: &mut MovedToALocalThenLoopState, dev: &Dev, v: Vec<u64>) -> Res<u64> {
    let mut t: u64 = 0;
    let w: Vec<u64> = v;
    for x in w {
        t += x;
        yield_io!(dev.op())?;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn for_over_the_parameter(st: &mut ForOverTheParameterState, dev: &Dev, v: Vec<(u64, u32)>) -> Res<u64> {
    let mut t: u64 = 0;
    for item in v {
        let (a, b): (u64, u32) = item;
        yield_io!(dev.op())?;
        t += a * u64::from(b);
    }
    Ok(t)
}

#[test]
fn moved_parameter_into_iter_before_a_suspending_loop() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = IntoIterThenLoopState::default();
        let (r, _) = run(&dev, |_| into_iter_then_loop(&mut st, &dev, vec![1, 2, 3]));
        assert_eq!(r, Ok(6), "{s:?}");
        assert!(st.is_idle());
        assert_eq!(dev.issued(), 3, "{s:?}");
    }
}

#[test]
fn moved_parameter_into_a_local_before_a_suspending_loop() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = MovedToALocalThenLoopState::default();
        let (r, _) = run(&dev, |_| moved_to_a_local_then_loop(&mut st, &dev, vec![4, 5]));
        assert_eq!(r, Ok(9), "{s:?}");
        assert!(st.is_idle());
    }
}

#[test]
fn moved_parameter_as_the_iterable_of_a_suspending_for() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = ForOverTheParameterState::default();
        let (r, _) = run(&dev, |_| {
            for_over_the_parameter(&mut st, &dev, vec![(1, 2), (3, 4)])
        });
        assert_eq!(r, Ok(14), "{s:?}");
        assert!(st.is_idle());
    }
}

// ---------------------------------------------------------------------------
// Moved on the first call: the later calls' arguments are never read and
// are dropped when their call returns, without a panic.

#[io_state_machine(state = st)]
fn consumed_on_first_call(st: &mut ConsumedOnFirstCallState, dev: &Dev, a: Arg) -> Res<u64> {
    let mut t: u64 = 0;
    let held: Arg = a;
    log(format!("moved arg of call {}", held.call));
    let xs: Vec<u64> = held.items.clone();
    for x in xs {
        yield_io!(dev.op())?;
        t += x;
    }
    log("loop done");
    log(format!("end with arg of call {}", held.call));
    Ok(t)
}

#[test]
fn moved_parameter_later_arguments_are_dropped_unread() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = ConsumedOnFirstCallState::default();
        take_log();
        let (r, calls) = run(&dev, |call| {
            consumed_on_first_call(
                &mut st,
                &dev,
                Arg {
                    call,
                    items: vec![10, 20, 30],
                },
            )
        });
        assert_eq!(r, Ok(60), "{s:?}");
        assert!(st.is_idle());
        let got = take_log();
        // The first call's argument is the one moved, and lives (stored in
        // `held`) until the body ends; every other call's argument is
        // dropped at the end of its own call, after the body's locals as
        // in Rust.
        let mut want = vec!["moved arg of call 1".to_owned()];
        want.extend((2..calls).map(|c| format!("drop arg of call {c}")));
        want.push("loop done".to_owned());
        want.push("end with arg of call 1".to_owned());
        want.push("drop arg of call 1".to_owned());
        if calls > 1 {
            want.push(format!("drop arg of call {calls}"));
        }
        assert_eq!(got, want, "{s:?} ({calls} calls)");
    }
}

// ---------------------------------------------------------------------------
// Moved in one branch only; borrowed in one block and moved in a later one;
// moved into a `call_io!` whose call suspends.

#[io_state_machine(state = st)]
fn moved_in_one_branch(st: &mut MovedInOneBranchState, dev: &Dev, c: bool, a: Arg) -> Res<u64> {
    let mut t: u64 = 0;
    if c {
        let held: Arg = a;
        log(format!("moved arg of call {}", held.call));
        yield_io!(dev.op())?;
        t += held.items.len() as u64;
    } else {
        yield_io!(dev.op())?;
        t += 100;
    }
    yield_io!(dev.op())?;
    Ok(t)
}

#[test]
fn moved_parameter_in_one_branch_only() {
    for s in SCHEDULES {
        for c in [false, true] {
            let dev = Dev::new(s);
            let mut st = MovedInOneBranchState::default();
            take_log();
            let (r, calls) = run(&dev, |call| {
                moved_in_one_branch(
                    &mut st,
                    &dev,
                    c,
                    Arg {
                        call,
                        items: vec![1, 2],
                    },
                )
            });
            assert_eq!(r, Ok(if c { 2 } else { 100 }), "{s:?} {c}");
            assert!(st.is_idle());
            let got = take_log();
            // Every argument is dropped exactly once.
            for k in 1..=calls {
                let drops = got
                    .iter()
                    .filter(|l| **l == format!("drop arg of call {k}"))
                    .count();
                assert_eq!(drops, 1, "{s:?} {c}: call {k} in {got:?}");
            }
            if c {
                assert_eq!(got[0], "moved arg of call 1", "{s:?}");
            }
        }
    }
}

#[io_state_machine(state = st)]
fn borrowed_then_moved(st: &mut BorrowedThenMovedState, dev: &Dev, a: Arg, out: &mut Vec<u32>) -> Res<u64> {
    let sum: u64 = a.items.iter().sum();
    out.push(a.call);
    yield_io!(dev.op())?;
    let len: u64 = a.items.len() as u64;
    out.push(a.call);
    yield_io!(dev.op())?;
    let mut t: u64 = sum + len;
    let held: Arg = a;
    out.push(held.call);
    let xs: Vec<u64> = held.items.clone();
    for x in xs {
        yield_io!(dev.op())?;
        t += x;
    }
    Ok(t)
}

#[test]
fn moved_parameter_borrowed_in_one_block_moved_in_a_later_one() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = BorrowedThenMovedState::default();
        let mut seen = Vec::new();
        let mut calls_seen = Vec::new();
        let (r, _) = run(&dev, |call| {
            calls_seen.push(call);
            borrowed_then_moved(
                &mut st,
                &dev,
                Arg {
                    call,
                    items: vec![1, 2, 3],
                },
                &mut seen,
            )
        });
        assert_eq!(r, Ok(6 + 3 + 6), "{s:?}");
        assert!(st.is_idle());
        // Each read reads the argument of the call that runs it (rule 2),
        // the move included: so the calls seen are non-decreasing, and with
        // every completion ready all is the first call's.
        assert_eq!(seen.len(), 3, "{s:?}");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{s:?}: {seen:?}");
        if matches!(s, support::Schedule::Ready) {
            assert_eq!(seen, [1, 1, 1]);
        }
    }
    take_log();
}

fn sum_slowly(st: &mut Option<u32>, dev: &Dev, v: Vec<u64>) -> Res<u64> {
    // A hand-written machine: suspends once, then sums.
    if st.is_none() {
        *st = Some(1);
        let c = dev.op();
        if !c.finished() {
            return Ok(IOResult::IO(c.into()));
        }
    }
    *st = None;
    Ok(IOResult::Done(v.iter().sum()))
}

#[io_state_machine(state = st)]
fn moved_into_a_call(
    st: &mut MovedIntoACallState,
    dev: &Dev,
    sub: &mut Option<u32>,
    v: Vec<u64>,
) -> Res<u64> {
    let s: u64 = call_io!(sum_slowly(sub, dev, v))?;
    let mut t: u64 = s;
    for _ in 0..2u32 {
        yield_io!(dev.op())?;
        t += 1;
    }
    Ok(t)
}

#[test]
fn moved_parameter_into_a_suspending_call_io() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = MovedIntoACallState::default();
        let mut sub = None;
        let (r, _) = run(&dev, |_| moved_into_a_call(&mut st, &dev, &mut sub, vec![5, 6]));
        assert_eq!(r, Ok(13), "{s:?}");
        assert!(st.is_idle());
    }
}

// ---------------------------------------------------------------------------
// `Copy` parameters read by value: unchanged, each call reads its own
// argument, and nothing about them is stored.

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PageNo(u64);

#[io_state_machine(state = st)]
fn copy_params(
    st: &mut CopyParamsState,
    dev: &Dev,
    n: u64,
    p: PageNo,
    out: &mut Vec<(u64, u64)>,
) -> Res<u64> {
    let mut i: u64 = 0;
    while i < 3 {
        let q = p;
        let m = n;
        out.push((q.0, m));
        yield_io!(dev.op())?;
        i += 1;
    }
    Ok(i)
}

#[io_state_machine(state = st)]
fn copy_params_by_ref(
    st: &mut CopyParamsByRefState,
    dev: &Dev,
    n: &u64,
    p: &PageNo,
    out: &mut Vec<(u64, u64)>,
) -> Res<u64> {
    let mut i: u64 = 0;
    while i < 3 {
        out.push((p.0, *n));
        yield_io!(dev.op())?;
        i += 1;
    }
    Ok(i)
}

#[test]
fn moved_parameter_copy_parameters_unchanged() {
    // Same stored state as the machine that takes them by reference.
    assert_eq!(
        std::mem::size_of::<CopyParamsState>(),
        std::mem::size_of::<CopyParamsByRefState>()
    );
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = CopyParamsState::default();
        let mut out = Vec::new();
        let (r, _) = run(&dev, |call| {
            copy_params(
                &mut st,
                &dev,
                u64::from(call),
                PageNo(u64::from(call) * 10),
                &mut out,
            )
        });
        assert_eq!(r, Ok(3), "{s:?}");
        // Each read is of the argument of the call that runs it.
        assert!(out.iter().all(|&(q, m)| q == m * 10), "{s:?}: {out:?}");
        if matches!(s, support::Schedule::Deferred) {
            assert_eq!(out, [(10, 1), (20, 2), (30, 3)]);
        }
    }
}

// ---------------------------------------------------------------------------
// Item 3's variant: an argument whose `Drop` panics as a call that suspends
// returns leaves the state idle (rule 11), as a local or a temporary of the
// body does: arguments are dropped before the state is written.

pub struct Bomb(bool);

impl Drop for Bomb {
    fn drop(&mut self) {
        if self.0 {
            panic!("bomb");
        }
    }
}

#[io_state_machine(state = st)]
fn bomb_argument(st: &mut BombArgumentState, dev: &Dev, b: Bomb) -> Res<u32> {
    yield_io!(dev.op())?;
    Ok(u32::from(b.0))
}

#[io_state_machine(state = st)]
fn bomb_moved_argument(st: &mut BombMovedArgumentState, dev: &Dev, b: Bomb) -> Res<u32> {
    let kept: Vec<Bomb> = vec![b];
    for _ in 0..2u32 {
        yield_io!(dev.op())?;
    }
    Ok(u32::try_from(kept.len()).unwrap_or(0))
}

#[test]
fn argument_whose_drop_panics_at_a_suspension_leaves_the_state_idle() {
    let dev = Dev::new(support::Schedule::Deferred);
    let mut st = BombArgumentState::default();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = bomb_argument(&mut st, &dev, Bomb(true));
    }));
    assert!(r.is_err());
    assert!(st.is_idle(), "{st:?}");
    // The next run starts over.
    let (r, _) = run(&dev, |_| bomb_argument(&mut st, &dev, Bomb(false)));
    assert_eq!(r, Ok(0));

    // Moved on the first call, which suspends: a later call's argument,
    // never read, panics as it drops.
    let dev = Dev::new(support::Schedule::Deferred);
    let mut st = BombMovedArgumentState::default();
    let first = bomb_moved_argument(&mut st, &dev, Bomb(false));
    assert!(matches!(first, Ok(IOResult::IO(_))));
    dev.finish_all();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = bomb_moved_argument(&mut st, &dev, Bomb(true));
    }));
    assert!(r.is_err());
    assert!(st.is_idle(), "{st:?}");
}
