//! Nests of machines through `call_io!`: the caller's results under every
//! schedule, the stored locals the call reads (a sub-state under `&mut`,
//! boxed, a buffer, a copy), rule 11 after a callee's error or panic, and
//! the shapes attack round 17 found broken by an in-place resume that was
//! tried and taken out (docs/BENCHMARKS.md, "In-place `call_io!` resume:
//! tried, measured, taken out"): a callee's result that borrows a stored
//! local, the drop order of the caller's locals when the callee panics, and
//! a statement's lint attributes over its call.
#![allow(missing_docs)]
#![deny(deprecated)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use ratchet::{CompletionError, IOResult, call_io, io_state_machine, yield_io};

mod support;
use support::{Dev, SCHEDULES, Schedule, drive, log, take_log};

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
fn a_nest_gives_the_plain_functions_result() {
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
fn a_boxed_callee_state_reached_through_a_deref() {
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
fn a_callee_failing_on_a_resume_leaves_the_caller_idle() {
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
fn a_callee_panicking_on_a_resume_leaves_the_caller_idle() {
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
    // The resume calls the leaf, which panics.
    let panicked = catch_unwind(AssertUnwindSafe(|| nest(&mut st, &dev, 1, 1, &mut trace)));
    assert!(panicked.is_err());
    assert!(st.is_idle(), "after a panic the state is idle (rule 11): {st:?}");
    // And the next call starts over.
    trace.clear();
    let (r, trace, _) = drive(&dev, |t: &mut Vec<String>| nest(&mut st, &dev, 2, 0, t));
    assert_eq!(r.unwrap(), nest_plain(2).0);
    assert_eq!(trace, nest_plain(2).1);
}

/// The state in a field of `self`, and a call that needs `&mut self`.
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

// ---------------------------------------------------------------------------
// Attack round 17's findings against the in-place resume, kept as
// regression tests for whatever resume comes next.

/// A lookup whose result borrows the buffer it is given.
#[io_state_machine(state = st)]
fn pick<'a>(st: &mut PickState, dev: &Dev, v: &'a [u64]) -> Res<&'a u64> {
    yield_io!(dev.op())?;
    Ok(&v[0])
}

/// F5: the callee's result borrows a stored local (`&v`), used before the
/// next suspension point. Did not compile with the in-place resume (E0505
/// at the attribute).
#[io_state_machine(state = st)]
fn picks(st: &mut PicksState, dev: &Dev) -> Res<u64> {
    let v: Vec<u64> = vec![7, 8];
    let mut sub: PickState = PickState::default();
    let x = call_io!(pick(&mut sub, dev, &v))?;
    let y: u64 = *x + 1;
    yield_io!(dev.op())?;
    Ok(y + v[1])
}

/// A cursor whose step returns a reference to its current row.
#[derive(Default)]
struct Cursor {
    rows: Vec<u32>,
    at: usize,
}

fn cursor_next<'a>(cur: &'a mut Cursor, dev: &Dev) -> Res<Option<&'a u32>> {
    let _ = dev;
    let row = cur.rows.get(cur.at);
    cur.at += 1;
    Ok(IOResult::Done(row))
}

/// F5 again, the realistic shape: `while let` over a cursor's borrowed rows.
#[io_state_machine(state = st)]
fn sum_rows(st: &mut SumRowsState, dev: &Dev) -> Res<u32> {
    let mut cur: Cursor = Cursor {
        rows: vec![1, 2, 3],
        at: 0,
    };
    let mut total: u32 = 0;
    while let Some(row) = call_io!(cursor_next(&mut cur, dev))? {
        total += *row;
        yield_io!(dev.op())?;
    }
    Ok(total)
}

#[test]
fn a_callee_result_borrowing_a_stored_local_compiles_and_runs() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = PicksState::default();
        let (r, _, _) = drive(&dev, |_: &mut Vec<()>| picks(&mut st, &dev));
        assert_eq!(r.unwrap(), 16, "{s:?}");
        let mut st = SumRowsState::default();
        let (r, _, _) = drive(&dev, |_: &mut Vec<()>| sum_rows(&mut st, &dev));
        assert_eq!(r.unwrap(), 6, "{s:?}");
    }
}

/// A value whose drop is recorded.
struct Noted(&'static str);

impl Drop for Noted {
    fn drop(&mut self) {
        log(self.0);
    }
}

/// F1: two stored locals with `Drop` beside a callee that panics on its
/// resume. Rust drops them in reverse order of declaration.
#[io_state_machine(state = st)]
fn guarded(st: &mut GuardedState, dev: &Dev, boom_at: u32) -> Res<u32> {
    let a: Noted = Noted("a");
    let b: Noted = Noted("b");
    let mut sub: LeafState = LeafState::default();
    let mut buf: Vec<u32> = Vec::new();
    let mut trace: Vec<String> = Vec::new();
    let v = call_io!(leaf(&mut sub, dev, 1, &mut buf, boom_at, &mut trace))?;
    Ok(v + u32::from(a.0 == b.0))
}

#[test]
fn a_callee_panic_on_a_resume_drops_the_callers_locals_in_reverse_order() {
    let dev = Dev::new(Schedule::Deferred);
    let mut st = GuardedState::default();
    assert!(matches!(guarded(&mut st, &dev, 1), Ok(IOResult::IO(_))));
    dev.finish_all();
    take_log();
    let panicked = catch_unwind(AssertUnwindSafe(|| guarded(&mut st, &dev, 1)));
    assert!(panicked.is_err());
    assert_eq!(take_log(), ["b", "a"]);
    assert!(st.is_idle());
}

#[deprecated(note = "for the lint-attribute test below")]
fn old_tag() -> u32 {
    0
}

/// F6: a statement's lint attributes cover all code made from its call
/// (this file denies `deprecated`, and this function warns of truncating
/// casts, which CI's clippy turns into errors).
#[warn(clippy::cast_possible_truncation)]
#[io_state_machine(state = st)]
fn linted(st: &mut LintedState, dev: &Dev, big: u64) -> Res<u32> {
    let mut sub: LeafState = LeafState::default();
    let mut buf: Vec<u32> = Vec::new();
    let mut trace: Vec<String> = Vec::new();
    #[allow(deprecated)]
    let x: u32 = call_io!(leaf(&mut sub, dev, old_tag(), &mut buf, 99, &mut trace))?;
    #[allow(clippy::cast_possible_truncation)]
    let y = call_io!(leaf(&mut sub, dev, big as u32, &mut buf, 99, &mut trace))?;
    Ok(x + y)
}

#[test]
fn a_statements_lint_attributes_cover_its_call_on_every_resume() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = LintedState::default();
        let (r, _, _) = drive(&dev, |_: &mut Vec<()>| linted(&mut st, &dev, 3));
        assert_eq!(r.unwrap(), 30, "{s:?}");
    }
}

fn note(s: &'static str) {
    log(s);
}

/// A callee that waits once and gives a guard.
#[io_state_machine(state = st)]
fn get_guard(st: &mut GetGuardState, dev: &Dev, name: u32) -> Res<Noted> {
    yield_io!(dev.op())?;
    Ok(Noted(if name == 1 { "drop g1" } else { "drop g2" }))
}

/// Attack round 17, F2: a `call_io!`'s value is a temporary, as the call
/// is: `let _ =` drops it at once, and a `match` on it at the `match`'s end.
#[io_state_machine(state = st)]
fn guards(st: &mut GuardsState, dev: &Dev) -> Res<()> {
    let mut sub: GetGuardState = GetGuardState::default();
    let _ = call_io!(get_guard(&mut sub, dev, 1));
    note("after let _");
    match call_io!(get_guard(&mut sub, dev, 2))? {
        _ => note("arm"),
    }
    note("after match");
    Ok(())
}

#[test]
fn a_call_results_guard_drops_where_rusts_temporary_would() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = GuardsState::default();
        take_log();
        let (r, _, _) = drive(&dev, |_: &mut Vec<()>| guards(&mut st, &dev));
        r.unwrap();
        assert_eq!(
            take_log(),
            ["drop g1", "after let _", "arm", "drop g2", "after match"],
            "{s:?}"
        );
    }
}

#[test]
fn reset_at_a_call_point_aborts_the_callees_completion() {
    // Attack round 17, F4: `reset()` of a caller waiting at a `call_io!`
    // point aborts the completion its callee waits on (rule 10), through
    // each level of the nest.
    let dev = Dev::new(Schedule::Deferred);
    let mut st = NestState::default();
    let mut trace = Vec::new();
    let Ok(IOResult::IO(io)) = nest(&mut st, &dev, 2, 0, &mut trace) else {
        panic!("the nest waits on its leaf's first completion");
    };
    let c = io.into_completion();
    assert!(!c.finished());
    st.reset();
    assert!(st.is_idle());
    assert!(c.finished(), "the leaf's completion is aborted");
    assert!(
        matches!(c.result(), Some(Err(CompletionError::Aborted))),
        "{:?}",
        c.result()
    );
}

/// A scrutinee's temporaries live to the end of its `match` or `if let`,
/// as in Rust, also after a resume where the code after it would be
/// emitted inside the one arm that reaches it (the general case of F2).
#[io_state_machine(state = st)]
fn scrutinee_temporaries(st: &mut ScrutineeTemporariesState, dev: &Dev, k: u32) -> Res<()> {
    yield_io!(dev.op())?;
    match Noted("drop m").0.len() + k as usize {
        0 => {
            yield_io!(dev.op())?;
            return Ok(());
        }
        _ => note("arm"),
    }
    note("after match");
    if let Some(_) = Noted("drop i").0.get(..1) {
        note("then");
    } else {
        yield_io!(dev.op())?;
        return Ok(());
    }
    note("after if let");
    Ok(())
}

#[test]
fn a_scrutinees_temporaries_drop_at_its_end_after_a_resume() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = ScrutineeTemporariesState::default();
        take_log();
        let (r, _, _) = drive(&dev, |_: &mut Vec<()>| scrutinee_temporaries(&mut st, &dev, 1));
        r.unwrap();
        assert_eq!(
            take_log(),
            ["arm", "drop m", "after match", "then", "drop i", "after if let"],
            "{s:?}"
        );
    }
}
