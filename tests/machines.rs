//! Run-time tests of generated machines: every control-flow form of the
//! issue, in free functions and methods, under three schedules (ready,
//! deferred, seeded random with spurious re-entry). Each test checks the
//! result, a side-effect trace proving exactly-once execution (pushed
//! through a fresh `&mut Vec` on every call), and that the state is idle
//! after `Done` and after `Err`.
#![allow(missing_docs)]

use std::fmt::Write as _;

use ratchet::{
    Completion, CompletionError, CompletionGroup, IOResult, call_io, io_state_machine, io_state_machines,
    yield_io,
};

mod support;
use support::{Dev, SCHEDULES, Schedule, drive};

#[derive(Debug, PartialEq)]
pub enum Error {
    Io(CompletionError),
    Corrupt(u64),
}

impl From<CompletionError> for Error {
    fn from(e: CompletionError) -> Self {
        Error::Io(e)
    }
}

type Res<T> = Result<IOResult<T>, Error>;

fn io_err() -> Error {
    Error::Io(CompletionError::Io(std::io::ErrorKind::Other))
}

// ---------------------------------------------------------------------------
// A chain walk: one page per iteration, the next page number taken from the
// data just read, early return at the end of the chain, labeled break out of
// an inner loop.

/// `pages[p]` is the next page of `p`; `u64::MAX` ends the chain; `0` marks
/// a page whose slots are scanned by the inner loop.
#[io_state_machine(state = st)]
fn chain_walk(
    st: &mut ChainWalkState,
    dev: &Dev,
    pages: &[u64],
    start: u64,
    trace: &mut Vec<String>,
) -> Res<u64> {
    let mut page: u64 = start;
    let mut hops: u64 = 0;
    'walk: loop {
        trace.push(format!("read {page}"));
        yield_io!(dev.op())?;
        let next: u64 = pages[usize::try_from(page).unwrap()];
        if next == u64::MAX {
            trace.push("end".to_owned());
            return Ok(hops);
        }
        let mut slot: u64 = 0;
        loop {
            if slot == 2 {
                break;
            }
            yield_io!(dev.op())?;
            trace.push(format!("slot {page}.{slot}"));
            if next == 0 {
                break 'walk;
            }
            slot += 1;
        }
        hops += 1;
        page = next;
    }
    trace.push("broken".to_owned());
    Ok(hops + 1000)
}

#[test]
fn chain_walk_all_schedules() {
    let pages = [3, u64::MAX, 0, 1];
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = ChainWalkState::default();
        let (r, trace, _) = drive(&dev, |t| chain_walk(&mut st, &dev, &pages, 0, t));
        assert_eq!(r, Ok(2), "{s:?}");
        assert_eq!(
            trace,
            [
                "read 0", "slot 0.0", "slot 0.1", "read 3", "slot 3.0", "slot 3.1", "read 1", "end"
            ],
            "{s:?}"
        );
        assert!(st.is_idle());
        // Labeled break out of the inner loop.
        let (r, trace, _) = drive(&dev, |t| chain_walk(&mut st, &dev, &[2, 0, 0, 0], 0, t));
        assert_eq!(r, Ok(1001), "{s:?}");
        assert_eq!(
            trace,
            ["read 0", "slot 0.0", "slot 0.1", "read 2", "slot 2.0", "broken"],
            "{s:?}"
        );
        assert!(st.is_idle());
    }
}

#[test]
fn chain_walk_error_leaves_idle() {
    for s in SCHEDULES {
        for fail in 0..6 {
            let dev = Dev::new(s);
            dev.fail_op(fail);
            let mut st = ChainWalkState::default();
            let (r, trace, _) = drive(&dev, |t| chain_walk(&mut st, &dev, &[3, u64::MAX, 0, 1], 0, t));
            assert_eq!(r, Err(io_err()), "{s:?} fail at {fail}");
            assert!(st.is_idle(), "{s:?}");
            assert_eq!(dev.issued(), fail + 1, "nothing runs after the failing op");
            assert!(trace.len() <= 8);
        }
    }
}

// ---------------------------------------------------------------------------
// Methods: a nested call in a loop with a carried index, where the callee is
// itself a machine whose state lives in `self`.

#[derive(Default)]
pub struct Pager {
    free_state: FreePageState,
    drop_state: DropAllState,
    freed: Vec<u64>,
}

#[io_state_machines]
impl Pager {
    #[io_state_machine(state = self.free_state)]
    fn free_page(&mut self, dev: &Dev, no: u64, trace: &mut Vec<String>) -> Res<()> {
        trace.push(format!("free {no}"));
        yield_io!(dev.op())?;
        yield_io!(dev.op())?;
        self.freed.push(no);
        Ok(())
    }

    #[io_state_machine(state = self.drop_state)]
    fn drop_all(&mut self, dev: &Dev, n: u64, trace: &mut Vec<String>) -> Res<usize> {
        for i in 0..n {
            call_io!(self.free_page(dev, i, trace))?;
            trace.push(format!("freed {i}"));
        }
        Ok(self.freed.len())
    }
}

#[test]
fn nested_method_calls() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut p = Pager::default();
        let (r, trace, _) = drive(&dev, |t| p.drop_all(&dev, 3, t));
        assert_eq!(r, Ok(3));
        assert_eq!(
            trace,
            ["free 0", "freed 0", "free 1", "freed 1", "free 2", "freed 2"]
        );
        assert_eq!(p.freed, [0, 1, 2]);
        assert!(p.drop_state.is_idle() && p.free_state.is_idle());
    }
}

#[test]
fn nested_method_error() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        dev.fail_op(3);
        let mut p = Pager::default();
        let (r, trace, _) = drive(&dev, |t| p.drop_all(&dev, 3, t));
        assert_eq!(r, Err(io_err()));
        assert_eq!(trace, ["free 0", "freed 0", "free 1"]);
        assert!(p.drop_state.is_idle() && p.free_state.is_idle());
    }
}

// ---------------------------------------------------------------------------
// A caller-owned sub-state stored across the suspension.

#[io_state_machine(state = st)]
fn fill(st: &mut FillState, dev: &Dev, what: u8, trace: &mut Vec<String>) -> Res<u8> {
    trace.push(format!("fill {what}"));
    yield_io!(dev.op())?;
    Ok(what * 2)
}

#[io_state_machine(state = st)]
fn outer_fill(st: &mut OuterFillState, dev: &Dev, trace: &mut Vec<String>) -> Res<u32> {
    let mut total: u32 = 0;
    let mut sub: FillState = FillState::default();
    let a = call_io!(fill(&mut sub, dev, 1, trace))?;
    total += u32::from(a);
    trace.push(format!("got {a}"));
    let b = call_io!(fill(&mut sub, dev, 5, trace))?;
    total += u32::from(b);
    assert!(sub.is_idle());
    Ok(total)
}

#[test]
fn caller_owned_sub_state() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = OuterFillState::default();
        let (r, trace, _) = drive(&dev, |t| outer_fill(&mut st, &dev, t));
        assert_eq!(r, Ok(12));
        assert_eq!(trace, ["fill 1", "got 2", "fill 5"]);
        assert!(st.is_idle());
    }
}

// ---------------------------------------------------------------------------
// Batches of writes gathered into a CompletionGroup, cancel() on the error
// path, repeated per batch inside a loop.

#[io_state_machine(state = st)]
fn write_batches(
    st: &mut WriteBatchesState,
    dev: &Dev,
    batches: u32,
    per: u32,
    trace: &mut Vec<String>,
) -> Res<u32> {
    let mut done: u32 = 0;
    let mut b: u32 = 0;
    while b < batches {
        let mut group = CompletionGroup::new(|_| {});
        for k in 0..per {
            group.add(&dev.op());
            trace.push(format!("w {b}.{k}"));
        }
        let all: Completion = group.build();
        if let Err(e) = yield_io!(all.clone()) {
            all.abort();
            trace.push(format!("cancel {b}"));
            return Err(e.into());
        }
        done += per;
        b += 1;
    }
    Ok(done)
}

#[test]
fn group_batches() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = WriteBatchesState::default();
        let (r, trace, _) = drive(&dev, |t| write_batches(&mut st, &dev, 2, 2, t));
        assert_eq!(r, Ok(4));
        assert_eq!(trace, ["w 0.0", "w 0.1", "w 1.0", "w 1.1"]);
        assert!(st.is_idle());
        let dev = Dev::new(s);
        dev.fail_op(2);
        let (r, trace, _) = drive(&dev, |t| write_batches(&mut st, &dev, 3, 2, t));
        assert_eq!(r, Err(io_err()));
        assert_eq!(trace, ["w 0.0", "w 0.1", "w 1.0", "w 1.1", "cancel 1"]);
        assert!(st.is_idle());
    }
}

// ---------------------------------------------------------------------------
// A cursor scan whose loop head suspends.

pub struct Cursor {
    pos: u32,
    len: u32,
    next_state: NextState,
}

#[io_state_machines]
impl Cursor {
    #[io_state_machine(state = self.next_state)]
    fn next(&mut self, dev: &Dev) -> Res<Option<u32>> {
        if self.pos == self.len {
            return Ok(None);
        }
        yield_io!(dev.op())?;
        self.pos += 1;
        Ok(Some(self.pos * 10))
    }
}

#[io_state_machine(state = st)]
fn scan(st: &mut ScanState, dev: &Dev, cursor: &mut Cursor, trace: &mut Vec<String>) -> Res<u32> {
    let mut sum: u32 = 0;
    while let Some(row) = call_io!(cursor.next(dev))? {
        trace.push(format!("row {row}"));
        sum += row;
    }
    Ok(sum)
}

#[test]
fn cursor_scan() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = ScanState::default();
        let mut cursor = Cursor {
            pos: 0,
            len: 3,
            next_state: NextState::default(),
        };
        let (r, trace, _) = drive(&dev, |t| scan(&mut st, &dev, &mut cursor, t));
        assert_eq!(r, Ok(60));
        assert_eq!(trace, ["row 10", "row 20", "row 30"]);
        assert!(st.is_idle() && cursor.next_state.is_idle());
    }
}

// ---------------------------------------------------------------------------
// `match` with suspensions in the scrutinee and several arms; `if let` on a
// suspension; `let-else`; `break` with a value out of a suspending `loop`;
// retry on `Err` from `yield_io!` without `?`.

#[io_state_machine(state = st)]
fn pick(st: &mut PickState, dev: &Dev, k: u8, trace: &mut Vec<String>) -> Res<u8> {
    trace.push(format!("pick {k}"));
    yield_io!(dev.op())?;
    Ok(k % 3)
}

#[io_state_machine(state = st)]
fn matcher(st: &mut MatcherState, dev: &Dev, k: u8, trace: &mut Vec<String>) -> Res<String> {
    let mut sub: PickState = PickState::default();
    let out: String = match call_io!(pick(&mut sub, dev, k, trace))? {
        0 => {
            yield_io!(dev.op())?;
            trace.push("zero".to_owned());
            "zero".to_owned()
        }
        1 => {
            let again = call_io!(pick(&mut sub, dev, k + 1, trace))?;
            format!("one then {again}")
        }
        n => format!("other {n}"),
    };
    if let Ok(_) = yield_io!(dev.op()) {
        trace.push("if-let".to_owned());
    }
    let Some(first): Option<String> = out.split(' ').next().map(str::to_owned) else {
        return Err(Error::Corrupt(0));
    };
    let tries: u32 = loop {
        let mut n: u32 = 0;
        let r = loop {
            n += 1;
            match yield_io!(dev.op()) {
                Ok(_) => break n,
                Err(_) if n < 3 => trace.push(format!("retry {n}")),
                Err(e) => return Err(e.into()),
            }
        };
        break r;
    };
    Ok(format!("{out}/{first}/{tries}"))
}

#[test]
fn match_and_friends() {
    for s in SCHEDULES {
        for k in 0..3u8 {
            let dev = Dev::new(s);
            let mut st = MatcherState::default();
            let (r, trace, _) = drive(&dev, |t| matcher(&mut st, &dev, k, t));
            let want = match k {
                0 => "zero/zero/1",
                1 => "one then 2/one/1",
                _ => "other 2/other/1",
            };
            assert_eq!(r.as_deref(), Ok(want), "{s:?} {k}");
            let mut expect = vec![format!("pick {k}")];
            match k {
                0 => expect.push("zero".into()),
                1 => expect.push("pick 2".into()),
                _ => {}
            }
            expect.push("if-let".into());
            assert_eq!(trace, expect, "{s:?}");
            assert!(st.is_idle());
        }
        // Retry: the op after the if-let fails once, then succeeds.
        let dev = Dev::new(s);
        dev.fail_op(3);
        let mut st = MatcherState::default();
        let (r, trace, _) = drive(&dev, |t| matcher(&mut st, &dev, 0, t));
        assert_eq!(r.as_deref(), Ok("zero/zero/2"));
        assert_eq!(trace, ["pick 0", "zero", "if-let", "retry 1"]);
        assert!(st.is_idle());
    }
}

// ---------------------------------------------------------------------------
// Shadowing across suspension points; a stored local used after the
// suspension only inside `format!("{name}")`, `assert!` and a tracing-style
// macro.

macro_rules! trace_event {
    ($trace:expr, $($arg:tt)*) => {
        $trace.push(format!($($arg)*))
    };
}

#[io_state_machine(state = st)]
fn shadowing(st: &mut ShadowingState, dev: &Dev, trace: &mut Vec<String>) -> Res<String> {
    let x: u32 = 7;
    yield_io!(dev.op())?;
    let x: String = format!("{}", x + 1);
    yield_io!(dev.op())?;
    let x: Vec<String> = vec![x.clone(), x];
    let name: String = "page".to_owned();
    let limit: usize = 2;
    let id: u64 = 42;
    yield_io!(dev.op())?;
    trace.push(format!("<{name}>"));
    assert!(x.len() == limit, "{limit}");
    trace_event!(trace, "id={id}");
    let mut out = String::new();
    write!(out, "{}", x.join(",")).unwrap();
    Ok(out)
}

#[test]
fn shadowing_and_macro_uses() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = ShadowingState::default();
        let (r, trace, _) = drive(&dev, |t| shadowing(&mut st, &dev, t));
        assert_eq!(r.as_deref(), Ok("8,8"));
        assert_eq!(trace, ["<page>", "id=42"]);
        assert!(st.is_idle());
    }
}

// ---------------------------------------------------------------------------
// A generic impl whose stored locals use the impl's type parameters.

pub struct Tree<K> {
    keys: Vec<K>,
    collect_state: CollectState<K>,
}

#[io_state_machines]
impl<K: Clone + std::fmt::Debug> Tree<K> {
    #[io_state_machine(state = self.collect_state)]
    fn collect(&mut self, dev: &Dev, trace: &mut Vec<String>) -> Res<Vec<K>> {
        let mut acc: Vec<K> = Vec::new();
        let mut i: usize = 0;
        while i < self.keys.len() {
            yield_io!(dev.op())?;
            let k: K = self.keys[i].clone();
            trace.push(format!("{k:?}"));
            acc.push(k);
            i += 1;
        }
        Ok(acc)
    }
}

#[test]
fn generic_impl() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut t = Tree {
            keys: vec!["a", "b"],
            collect_state: CollectState::default(),
        };
        let (r, trace, _) = drive(&dev, |tr| t.collect(&dev, tr));
        assert_eq!(r, Ok(vec!["a", "b"]));
        assert_eq!(trace, ["\"a\"", "\"b\""]);
        assert!(t.collect_state.is_idle());
    }
}

// ---------------------------------------------------------------------------
// Rule 3 and rule 4: re-entry while pending runs nothing; `yield_now`
// returns `IO` once even though it is finished.

#[io_state_machine(state = st)]
fn yields(st: &mut YieldsState, trace: &mut Vec<u32>) -> Res<u32> {
    trace.push(1);
    yield_io!(Completion::yield_now())?;
    trace.push(2);
    yield_io!(Completion::ready())?;
    trace.push(3);
    Ok(3)
}

#[test]
fn yield_now_suspends_once_and_ready_does_not() {
    let mut st = YieldsState::default();
    let mut t = Vec::new();
    let r = yields(&mut st, &mut t).unwrap();
    assert!(!r.is_done());
    assert_eq!(t, [1]);
    assert!(!st.is_idle());
    let mut t = Vec::new();
    let r = yields(&mut st, &mut t).unwrap();
    match (r, ratchet::testing::force_suspend()) {
        (IOResult::Done(3), false) => assert_eq!(t, [2, 3]),
        (IOResult::IO(_), true) => assert_eq!(t, [2]),
        _ => panic!("unexpected"),
    }
}

#[test]
fn force_suspend_switch_walks_every_resume_path() {
    let was = ratchet::set_force_suspend(true);
    let dev = Dev::new(Schedule::Ready);
    let mut st = ChainWalkState::default();
    let (r, trace, calls) = drive(&dev, |t| chain_walk(&mut st, &dev, &[3, u64::MAX, 0, 1], 0, t));
    assert_eq!(r, Ok(2));
    assert_eq!(trace.len(), 8);
    // 7 ops, each suspends once although finished: 8 calls.
    assert_eq!(calls, 8);
    ratchet::set_force_suspend(false);
    let (r, _, calls) = drive(&dev, |t| chain_walk(&mut st, &dev, &[3, u64::MAX, 0, 1], 0, t));
    assert_eq!(r, Ok(2));
    // With the `force-suspend` feature the switch cannot turn it off.
    let expected = if ratchet::testing::force_suspend() { 8 } else { 1 };
    assert_eq!(calls, expected, "the fast path runs to the end in one call");
    ratchet::set_force_suspend(was);
}

// Rule 3 at a `call_io!` point: the awaited work is the callee's. Each
// call evaluates the `call_io!` expression again (rule 5: its arguments are
// read afresh), the callee runs nothing while its completion is pending,
// and the caller's code before the point ran once.

#[io_state_machine(state = st)]
fn pending_callee(st: &mut PendingCalleeState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    trace.push(10);
    yield_io!(dev.op())?;
    trace.push(11);
    Ok(5)
}

#[io_state_machine(state = st)]
fn pending_caller(
    st: &mut PendingCallerState,
    inner: &mut PendingCalleeState,
    dev: &Dev,
    evals: &mut u32,
    trace: &mut Vec<u32>,
) -> Res<u32> {
    trace.push(1);
    let v = call_io!({
        *evals += 1;
        pending_callee(inner, dev, trace)
    })?;
    trace.push(2);
    Ok(v)
}

#[test]
fn call_io_reentry_while_the_callee_is_pending_reevaluates_only_its_expression() {
    let dev = Dev::new(Schedule::Deferred);
    let (mut st, mut inner) = (PendingCallerState::default(), PendingCalleeState::default());
    let (mut evals, mut t) = (0, Vec::new());
    let r = pending_caller(&mut st, &mut inner, &dev, &mut evals, &mut t).unwrap();
    assert!(!r.is_done());
    assert_eq!((evals, t.as_slice()), (1, &[1, 10][..]));
    for n in 2..5 {
        let mut again = Vec::new();
        let r = pending_caller(&mut st, &mut inner, &dev, &mut evals, &mut again).unwrap();
        assert!(!r.is_done(), "done while the callee's completion is pending");
        assert_eq!(evals, n, "the call_io! expression is evaluated on every call");
        assert!(again.is_empty(), "neither caller nor callee ran code: {again:?}");
    }
    assert_eq!(dev.issued(), 1, "the callee issued its operation once");
    dev.finish_all();
    let (mut t, mut calls) = (Vec::new(), 0);
    let v = loop {
        calls += 1;
        if let IOResult::Done(v) = pending_caller(&mut st, &mut inner, &dev, &mut evals, &mut t).unwrap() {
            break v;
        }
    };
    assert_eq!((v, t.as_slice()), (5, &[11, 2][..]));
    if !ratchet::testing::force_suspend() {
        assert_eq!(
            (calls, evals),
            (1, 5),
            "one call finishes once the completion has"
        );
    }
}

#[test]
fn pending_reentry_runs_nothing_and_reset_aborts() {
    let dev = Dev::new(Schedule::Deferred);
    let mut st = ChainWalkState::default();
    let mut t = Vec::new();
    assert!(
        !chain_walk(&mut st, &dev, &[u64::MAX], 0, &mut t)
            .unwrap()
            .is_done()
    );
    for _ in 0..3 {
        let mut again = Vec::new();
        let r = chain_walk(&mut st, &dev, &[u64::MAX], 0, &mut again).unwrap();
        let IOResult::IO(io) = r else {
            panic!("done while pending")
        };
        assert!(!io.completion().finished());
        assert!(again.is_empty());
    }
    let dbg = format!("{st:?}");
    assert!(
        dbg.contains("machines.rs:")
            && dbg.contains("yield_io!(dev.op())")
            && dbg.contains("[page = 0, hops = 0]"),
        "{dbg}"
    );
    st.reset();
    assert!(st.is_idle());
    assert_eq!(format!("{st:?}"), "Idle");
}

// Rule 11: a panic in the body leaves the state idle.
#[io_state_machine(state = st)]
fn panics(st: &mut PanicsState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    let n: u32 = 5;
    yield_io!(dev.op())?;
    trace.push(n);
    if n == 5 {
        panic!("boom");
    }
    Ok(n)
}

#[test]
fn panic_leaves_idle() {
    let dev = Dev::new(Schedule::Deferred);
    let mut st = PanicsState::default();
    let mut t = Vec::new();
    assert!(!panics(&mut st, &dev, &mut t).unwrap().is_done());
    assert!(!st.is_idle());
    dev.finish_all();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut t = Vec::new();
        let _ = panics(&mut st, &dev, &mut t);
    }));
    assert!(r.is_err(), "the body panicked");
    assert!(st.is_idle(), "a panic leaves the state idle");
}

// ---------------------------------------------------------------------------
// Measured for docs/BENCHMARKS.md: the size of each state next to the sum
// of the locals it stores (each distinct stored local once) plus one
// awaited `Completion`. A state holds only the locals live at one
// suspension point, so it is never bigger than that sum plus the tag.

#[test]
fn state_sizes() {
    use std::mem::size_of;
    let c = size_of::<Completion>();
    let rows: Vec<(&str, usize, &str, usize)> = vec![
        (
            "ChainWalkState",
            size_of::<ChainWalkState>(),
            "page, hops, next, slot: u64",
            4 * 8 + c,
        ),
        ("FreePageState", size_of::<FreePageState>(), "(none)", c),
        (
            "DropAllState",
            size_of::<DropAllState>(),
            "i, loop bound: u64",
            8 + 8,
        ),
        ("FillState", size_of::<FillState>(), "(none)", c),
        (
            "OuterFillState",
            size_of::<OuterFillState>(),
            "sub: FillState, total: u32",
            size_of::<FillState>() + 4,
        ),
        (
            "WriteBatchesState",
            size_of::<WriteBatchesState>(),
            "all: Completion, b, done: u32",
            c + 8 + c,
        ),
        ("NextState", size_of::<NextState>(), "(none)", c),
        ("ScanState", size_of::<ScanState>(), "sum: u32", 4),
        ("PickState", size_of::<PickState>(), "(none)", c),
        (
            "MatcherState",
            size_of::<MatcherState>(),
            "out, first: String, n: u32, sub: PickState",
            2 * size_of::<String>() + 4 + size_of::<PickState>() + c,
        ),
        (
            "ShadowingState",
            size_of::<ShadowingState>(),
            "x: u32 / String / Vec<String>, name: String, limit: usize, id: u64",
            4 + size_of::<String>() + size_of::<Vec<String>>() + size_of::<String>() + 8 + 8 + c,
        ),
        (
            "CollectState<&str>",
            size_of::<CollectState<&str>>(),
            "acc: Vec<K>, i: usize",
            size_of::<Vec<&str>>() + 8 + c,
        ),
        ("YieldsState", size_of::<YieldsState>(), "(none)", c),
        ("PanicsState", size_of::<PanicsState>(), "n: u32", 4 + c),
    ];
    println!("| state | size_of | stored locals | sum of stored locals (+ one Completion where it waits) |");
    println!("|---|---|---|---|");
    for (name, size, locals, sum) in &rows {
        println!("| `{name}` | {size} | {locals} | {sum} |");
        assert!(*size <= sum + 8, "{name}: {size} > {sum} + tag");
    }
}

// ---------------------------------------------------------------------------
// Every rule-6 position: assignment (plain and compound), `return`, the
// tail, an `if` condition, a `while` condition; labeled `continue`, an
// `else if` chain; types derived from a suffixed literal, a cast, a copy of
// a parameter and of a typed local (rule 8); borrows of arguments and of
// `self` re-created after a suspension (rule 9).

#[io_state_machine(state = st)]
fn count(st: &mut CountState, dev: &Dev, k: u32, trace: &mut Vec<String>) -> Res<u32> {
    trace.push(format!("count {k}"));
    yield_io!(dev.op())?;
    Ok(k)
}

#[io_state_machine(state = st)]
fn flag(st: &mut FlagState, dev: &Dev, v: bool, trace: &mut Vec<String>) -> Res<bool> {
    trace.push(format!("flag {v}"));
    yield_io!(dev.op())?;
    Ok(v)
}

#[io_state_machine(state = st)]
fn positions(
    st: &mut PositionsState,
    dev: &Dev,
    start: u32,
    names: &[String],
    trace: &mut Vec<String>,
) -> Res<u32> {
    let mut sub: CountState = CountState::default();
    let mut acc = start;
    let lit = 3u32;
    let wide = acc as u64;
    let copy = lit;
    acc = call_io!(count(&mut sub, dev, acc + 1, trace))?;
    acc += call_io!(count(&mut sub, dev, 10, trace))?;
    let first = names;
    let mut fl: FlagState = FlagState::default();
    if call_io!(flag(&mut fl, dev, true, trace))? {
        trace.push(format!("if {}", first[0]));
    }
    let mut rounds: u32 = 0;
    while call_io!(flag(&mut fl, dev, rounds < 2, trace))? {
        rounds += 1;
    }
    let mut outer: u32 = 0;
    'outer: while outer < 3 {
        outer += 1;
        let mut inner: u32 = 0;
        loop {
            inner += 1;
            yield_io!(dev.op())?;
            if inner == 2 {
                continue 'outer;
            } else if inner > 5 {
                break 'outer;
            } else {
                trace.push(format!("inner {outer}.{inner}"));
            }
        }
    }
    trace.push(format!("{acc} {lit} {wide} {copy} {}", first.len()));
    if acc > 1000 {
        return call_io!(count(&mut sub, dev, 0, trace));
    }
    call_io!(count(
        &mut sub,
        dev,
        acc + u32::try_from(wide).unwrap() + copy,
        trace
    ))
}

#[test]
fn every_position() {
    let names = vec!["n".to_owned()];
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = PositionsState::default();
        let (r, trace, _) = drive(&dev, |t| positions(&mut st, &dev, 5, &names, t));
        assert_eq!(r, Ok(16 + 5 + 3), "{s:?}");
        assert_eq!(
            trace,
            [
                "count 6",
                "count 10",
                "flag true",
                "if n",
                "flag true",
                "flag true",
                "flag false",
                "inner 1.1",
                "inner 2.1",
                "inner 3.1",
                "16 3 5 3 1",
                "count 24"
            ],
            "{s:?}"
        );
        assert!(st.is_idle());
    }
}

pub struct Config {
    pub label: String,
    pub limit: u32,
}

pub struct Store {
    config: Config,
    log: Vec<String>,
    touch_state: TouchState,
}

#[io_state_machines]
impl Store {
    #[io_state_machine(state = self.touch_state)]
    fn touch(&mut self, dev: &Dev, names: &[String], trace: &mut Vec<String>) -> Res<u32> {
        let cfg = &self.config;
        let limit = &cfg.limit;
        let all = names;
        let label = &self.config.label;
        trace.push(format!("{label} {limit}"));
        yield_io!(dev.op())?;
        trace.push(format!("{} {} {}", cfg.label, limit, all.len()));
        self.log.push(label.clone());
        Ok(*limit)
    }
}

#[test]
fn borrows_of_arguments_and_self_are_recreated() {
    let names = vec!["a".to_owned(), "b".to_owned()];
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut store = Store {
            config: Config {
                label: "cfg".to_owned(),
                limit: 9,
            },
            log: Vec::new(),
            touch_state: TouchState::default(),
        };
        let (r, trace, _) = drive(&dev, |t| store.touch(&dev, &names, t));
        assert_eq!(r, Ok(9));
        assert_eq!(trace, ["cfg 9", "cfg 9 2"]);
        assert_eq!(store.log, ["cfg"]);
        assert!(store.touch_state.is_idle());
    }
}

#[test]
fn reset_aborts_the_awaited_completion() {
    let dev = Dev::new(Schedule::Deferred);
    let mut st = FillState::default();
    let mut t = Vec::new();
    let IOResult::IO(io) = fill(&mut st, &dev, 1, &mut t).unwrap() else {
        panic!("done without waiting")
    };
    let c = io.into_completion();
    assert!(!c.finished());
    st.reset();
    assert_eq!(c.result(), Some(Err(CompletionError::Aborted)));
    assert!(st.is_idle());
    // The next call starts over.
    let (r, trace, _) = drive(&dev, |t| fill(&mut st, &dev, 2, t));
    assert_eq!(r, Ok(4));
    assert_eq!(trace, ["fill 2"]);
}

// ---------------------------------------------------------------------------
// A local shadowing a parameter inside a block: code after the block must
// see the parameter again, however the blocks are laid out.

#[io_state_machine(state = st)]
fn scoped(st: &mut ScopedState, dev: &Dev, n: u32, trace: &mut Vec<String>) -> Res<u32> {
    let k = n;
    {
        let n: u32 = 100;
        yield_io!(dev.op())?;
        trace.push(format!("inner {n}"));
    }
    yield_io!(dev.op())?;
    trace.push(format!("outer {n}"));
    let total: u32 = if n > 1 {
        let n: u32 = 7;
        yield_io!(dev.op())?;
        n
    } else {
        0
    };
    Ok(k + n + total)
}

#[test]
fn shadowed_parameter_comes_back() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = ScopedState::default();
        let (r, trace, _) = drive(&dev, |t| scoped(&mut st, &dev, 5, t));
        assert_eq!(r, Ok(17), "{s:?}");
        assert_eq!(trace, ["inner 100", "outer 5"]);
        assert!(st.is_idle());
    }
}

// A binding shadowed while the outer one is still needed after the
// shadowing scope ends (rule 7): nested blocks, a loop body hiding the loop's
// counter, match and `if let` patterns, and a hiding `let` that reads the
// old value. The outer values are not `Copy` where it matters (`String`,
// `Vec`), so a copy in place of a move would not compile.

#[io_state_machine(state = st)]
fn hides(st: &mut HidesState, dev: &Dev, trace: &mut Vec<String>) -> Res<String> {
    let name: String = "outer".to_owned();
    let mut n: u32 = 0;
    {
        let name: Vec<u8> = vec![1, 2];
        yield_io!(dev.op())?;
        trace.push(format!("inner {}", name.len()));
        {
            let name: u32 = 9;
            yield_io!(dev.op())?;
            trace.push(format!("innermost {name}"));
        }
        trace.push(format!("inner again {}", name.len()));
    }
    trace.push(format!("after blocks {name}"));
    loop {
        n += 1;
        if n > 2 {
            break;
        }
        let n: String = format!("iteration {n}");
        yield_io!(dev.op())?;
        trace.push(n);
    }
    let opt: Option<u32> = Some(5);
    match opt {
        Some(n) => {
            let n: u32 = n;
            yield_io!(dev.op())?;
            trace.push(format!("arm {n}"));
        }
        None => {}
    }
    if let Some(name) = opt {
        let name: u32 = name;
        yield_io!(dev.op())?;
        trace.push(format!("if let {name}"));
    }
    {
        let n: u32 = n + 10;
        yield_io!(dev.op())?;
        trace.push(format!("read old {n}"));
    }
    {
        let name: String = name.clone() + "!";
        yield_io!(dev.op())?;
        trace.push(format!("read old {name}"));
    }
    Ok(format!("{name} {n}"))
}

#[test]
fn shadowing_while_the_outer_binding_is_needed() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = HidesState::default();
        let (r, trace, _) = drive(&dev, |t| hides(&mut st, &dev, t));
        assert_eq!(r.as_deref(), Ok("outer 3"), "{s:?}");
        assert_eq!(
            trace,
            [
                "inner 2",
                "innermost 9",
                "inner again 2",
                "after blocks outer",
                "iteration 1",
                "iteration 2",
                "arm 5",
                "if let 5",
                "read old 13",
                "read old outer!",
            ],
            "{s:?}"
        );
        assert!(st.is_idle());
    }
}

#[test]
fn shadowing_error_leaves_idle() {
    // Fail each of the eight completions in turn: the trace stops just
    // before the line that completion guards.
    let kept_before = [0, 1, 4, 5, 6, 7, 8, 9];
    for s in SCHEDULES {
        for (fail, &kept) in kept_before.iter().enumerate() {
            let dev = Dev::new(s);
            dev.fail_op(fail);
            let mut st = HidesState::default();
            let (r, trace, _) = drive(&dev, |t| hides(&mut st, &dev, t));
            assert_eq!(r, Err(io_err()), "{s:?} fail at {fail}");
            assert_eq!(trace.len(), kept, "{s:?} fail at {fail}: {trace:?}");
            assert_eq!(dev.issued(), fail + 1, "nothing runs after the failing op");
            assert!(st.is_idle(), "{s:?}");
        }
    }
}

// A parameter shadowed inside a block that holds a `call_io!`, then read
// after the block only as a format capture (`"{n}"`): the code after the
// next suspension point, run in place on the fast path, must not land where
// the block's `n` is still in scope (difftest seed 0x5eed2026, program 4090).
#[io_state_machine(state = st)]
fn capture_after_block(
    st: &mut CaptureAfterBlockState,
    dev: &Dev,
    n: u32,
    trace: &mut Vec<String>,
) -> Res<u32> {
    {
        let mut sub: FillState = FillState::default();
        let _got: u8 = call_io!(fill(&mut sub, dev, 1, trace))?;
        let n: u32 = 15;
        trace.push(format!("inner {n}"));
    }
    yield_io!(dev.op())?;
    trace.push(format!("outer {n}"));
    // Ends the code run in place, so that the only `n` in it is the capture.
    yield_io!(dev.op())?;
    Ok(n)
}

#[test]
fn format_capture_after_a_shadowing_block_sees_the_parameter() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = CaptureAfterBlockState::default();
        let (r, trace, _) = drive(&dev, |t| capture_after_block(&mut st, &dev, 4, t));
        assert_eq!(r, Ok(4), "{s:?}");
        assert_eq!(trace, ["fill 1", "inner 15", "outer 4"], "{s:?}");
        assert!(st.is_idle());
    }
}

// A generic free function: the state enum is generic over the parameter its
// stored locals use.
#[io_state_machine(state = st)]
fn sum_all<T: Copy + Into<u64>>(
    st: &mut SumAllState<T>,
    dev: &Dev,
    items: &[T],
    trace: &mut Vec<u64>,
) -> Res<u64> {
    let mut seen: Vec<T> = Vec::new();
    let mut i: usize = 0;
    while i < items.len() {
        yield_io!(dev.op())?;
        seen.push(items[i]);
        trace.push(items[i].into());
        i += 1;
    }
    Ok(seen.iter().map(|v| (*v).into()).sum())
}

#[test]
fn generic_free_function() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st: SumAllState<u8> = SumAllState::default();
        let (r, trace, _) = drive(&dev, |t| sum_all(&mut st, &dev, &[1u8, 2, 3], t));
        assert_eq!(r, Ok(6));
        assert_eq!(trace, [1, 2, 3]);
        assert!(st.is_idle());
    }
}

// A `for` over a typed local that is not a range: the stored iterator is
// `<Vec<u32> as IntoIterator>::IntoIter`, not the vector.
#[io_state_machine(state = st)]
fn drain(st: &mut DrainState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    let items: Vec<u32> = vec![4, 5, 6];
    let mut sum: u32 = 0;
    for x in items {
        yield_io!(dev.op())?;
        trace.push(x);
        sum += x;
    }
    Ok(sum)
}

#[test]
fn for_over_typed_vector() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = DrainState::default();
        let (r, trace, _) = drive(&dev, |t| drain(&mut st, &dev, t));
        assert_eq!(r, Ok(15));
        assert_eq!(trace, [4, 5, 6]);
        assert!(st.is_idle());
    }
}

// Rule 10: `Debug` names the suspension point by file:line:column and
// source, and the locals stored there with their values where their types
// implement `Debug` (`..` otherwise).
const WAITER_LINE: u32 = line!() + 7;
/// Deliberately without `Debug`.
struct Opaque(u32);
#[io_state_machine(state = st)]
fn waiter(st: &mut WaiterState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    let n: u32 = 1;
    let o: Opaque = Opaque(2);
    yield_io!(dev.op())?;
    trace.push(n + o.0);
    Ok(n)
}

#[test]
fn debug_shows_where_and_what() {
    let dev = Dev::new(Schedule::Deferred);
    let mut st = WaiterState::default();
    assert_eq!(format!("{st:?}"), "Idle");
    let mut t = Vec::new();
    assert!(!waiter(&mut st, &dev, &mut t).unwrap().is_done());
    assert_eq!(
        format!("{st:?}"),
        format!("Op at tests/machines.rs:{WAITER_LINE}:5 `yield_io!(dev.op())`, storing [n = 1, o = ..]")
    );
    // The formatter's flags reach a stored value.
    assert!(format!("{st:#?}").ends_with("storing [n = 1, o = ..]"));
}

// A `break` out of a loop with a suspension point, from inside code kept
// whole (no suspension point in it) that rebinds a name the jump carries:
// the carried binding is set aside around that code.
#[io_state_machine(state = st)]
fn kept_shadow(st: &mut KeptShadowState, dev: &Dev, stop: u64, trace: &mut Vec<String>) -> Res<String> {
    let name: String = "outer".to_owned();
    let mut i: u64 = 0;
    let last: u64 = loop {
        yield_io!(dev.op())?;
        i += 1;
        match i {
            1 => {
                let name: bool = i == stop;
                if name {
                    break i * 10;
                }
            }
            _ => {
                let name: u64 = i;
                trace.push(format!("inner {name}"));
                if i >= stop {
                    break i;
                }
            }
        }
        trace.push(format!("loop {name}"));
    };
    Ok(format!("{name} {last}"))
}

#[test]
fn jump_out_of_kept_code_that_shadows_a_carried_name() {
    for s in SCHEDULES {
        for (stop, want, lines) in [
            (1, "outer 10", vec![]),
            (
                3,
                "outer 3",
                vec!["loop outer", "inner 2", "loop outer", "inner 3"],
            ),
        ] {
            let dev = Dev::new(s);
            let mut st = KeptShadowState::default();
            let (r, trace, _) = drive(&dev, |t| kept_shadow(&mut st, &dev, stop, t));
            assert_eq!(r.as_deref(), Ok(want), "{s:?} stop {stop}");
            assert_eq!(trace, lines, "{s:?} stop {stop}");
            assert!(st.is_idle());
        }
    }
}

// Kept code that reads a carried binding, changes it, then hides its name
// and jumps out of the loop: the binding is set aside before that code, and
// the code's own reads and writes of it (a method call, a format capture, the
// hiding `let`'s initializer) use the aside name.
#[io_state_machine(state = st)]
fn kept_reads_then_shadows(
    st: &mut KeptReadsThenShadowsState,
    dev: &Dev,
    stop: u64,
    trace: &mut Vec<String>,
) -> Res<String> {
    let mut name: String = "outer".to_owned();
    let mut i: u64 = 0;
    let last: u64 = 'walk: loop {
        yield_io!(dev.op())?;
        i += 1;
        {
            name.push('+');
            trace.push(format!("saw {name}"));
            let name: Vec<String> = vec![name.clone(), "x".to_owned()];
            if i >= stop {
                trace.push(format!("inner {}", name.len()));
                break 'walk i;
            }
        }
        trace.push(format!("loop {name}"));
    };
    Ok(format!("{name} {last}"))
}

// The shape the 10,000-program run found (seed 0x10c0de, program 3153): a
// counter read in the initializer of the `let` that hides it, then
// `continue` to a loop head that reads the counter.
#[io_state_machine(state = st)]
fn kept_counter_shadow(st: &mut KeptCounterShadowState, dev: &Dev, a: i64) -> Res<i64> {
    let mut c: i64 = 0;
    let v: i64 = 'l: loop {
        c += 1;
        if c > 3 {
            break 'l c * 10;
        }
        {
            let c: Vec<i64> = vec![c, a];
            if c[0] < 3 {
                continue 'l;
            }
        }
        yield_io!(dev.op())?;
    };
    Ok(v + c)
}

// The same with a `Copy` binding written in the kept code before the
// hiding `let` (in a guard, too): the value carried out is the written one.
#[io_state_machine(state = st)]
fn kept_copy_shadow(st: &mut KeptCopyShadowState, dev: &Dev, add: u64) -> Res<u64> {
    let mut n: u64 = 1;
    loop {
        yield_io!(dev.op())?;
        match add {
            k if k > 100 && n < 5 => n += 3,
            _ => {
                n += add;
                let n: bool = n > 10;
                if n {
                    break;
                }
            }
        }
    }
    Ok(n)
}

// And with a `break` value that reads the binding before the hiding `let`:
// the value is kept in the jump, apart from the code, and renamed too.
#[io_state_machine(state = st)]
fn kept_break_value(st: &mut KeptBreakValueState, dev: &Dev, stop: bool) -> Res<u64> {
    let mut n: u64 = 1;
    let v: u64 = 'w: loop {
        yield_io!(dev.op())?;
        {
            n += 10;
            if stop {
                break 'w n * 2;
            }
            let n: bool = n > 100;
            if n {
                break 'w 0;
            }
        }
    };
    Ok(v + n)
}

#[test]
fn kept_code_that_reads_then_hides_a_carried_name() {
    for s in SCHEDULES {
        for (stop, want, lines) in [
            (1, "outer+ 1", vec!["saw outer+", "inner 2"]),
            (
                3,
                "outer+++ 3",
                vec![
                    "saw outer+",
                    "loop outer+",
                    "saw outer++",
                    "loop outer++",
                    "saw outer+++",
                    "inner 2",
                ],
            ),
        ] {
            let dev = Dev::new(s);
            let mut st = KeptReadsThenShadowsState::default();
            let (r, trace, _) = drive(&dev, |t| kept_reads_then_shadows(&mut st, &dev, stop, t));
            assert_eq!(r.as_deref(), Ok(want), "{s:?} stop {stop}");
            assert_eq!(trace, lines, "{s:?} stop {stop}");
            assert!(st.is_idle());
        }
        let dev = Dev::new(s);
        let mut st = KeptCounterShadowState::default();
        let (r, _, _) = drive(&dev, |_: &mut Vec<String>| kept_counter_shadow(&mut st, &dev, 7));
        assert_eq!(r, Ok(44), "{s:?}");
        assert!(st.is_idle());
        for (add, want) in [(4, 13), (60, 61), (200, 207)] {
            let dev = Dev::new(s);
            let mut st = KeptCopyShadowState::default();
            let (r, _, _) = drive(&dev, |_: &mut Vec<String>| kept_copy_shadow(&mut st, &dev, add));
            assert_eq!(r, Ok(want), "{s:?} add {add}");
        }
        for (stop, want) in [(true, 33), (false, 101)] {
            let dev = Dev::new(s);
            let mut st = KeptBreakValueState::default();
            let (r, _, _) = drive(&dev, |_: &mut Vec<String>| kept_break_value(&mut st, &dev, stop));
            assert_eq!(r, Ok(want), "{s:?} stop {stop}");
        }
    }
}

#[test]
fn debug_tells_shadowed_locals_apart() {
    // Suspended inside the first nested block of `hides`: the outer `name`
    // (a `String`) and the inner one (a `Vec<u8>`) are both stored.
    let dev = Dev::new(Schedule::Deferred);
    let mut st = HidesState::default();
    let mut t = Vec::new();
    assert!(!hides(&mut st, &dev, &mut t).unwrap().is_done());
    let dbg = format!("{st:?}");
    assert!(dbg.contains(r#"name = "outer""#), "{dbg}");
    assert!(dbg.contains("name_2 = [1, 2]"), "{dbg}");
    assert!(dbg.contains("n = 0"), "{dbg}");
}

// ---------------------------------------------------------------------------
// Rule 11 for every machine above: make each of its operations fail in
// turn, under every schedule; whatever the outcome, the state is idle
// afterwards, and an `Err` run ran a prefix of the successful trace plus, at
// most, its own error handling.

macro_rules! err_sweep {
    ($name:literal, |$dev:ident, $t:ident| $setup:block, $call:expr, $idle:expr) => {{
        let mut runs = 0usize;
        for s in SCHEDULES {
            let $dev = Dev::new(s);
            #[allow(unused_mut)]
            let mut state = $setup;
            let (ok, full, _) = drive(&$dev, |$t| $call(&mut state, &$dev, $t));
            assert!(ok.is_ok(), "{} {s:?}", $name);
            assert!($idle(&state), "{} {s:?}: not idle after Done", $name);
            let ops = $dev.issued();
            for fail in 0..ops {
                let $dev = Dev::new(s);
                $dev.fail_op(fail);
                #[allow(unused_mut)]
                let mut state = $setup;
                let (r, trace, _) = drive(&$dev, |$t| $call(&mut state, &$dev, $t));
                runs += 1;
                assert!(
                    $idle(&state),
                    "{} {s:?} op {fail} failed: not idle after {}",
                    $name,
                    if r.is_ok() { "Done" } else { "Err" }
                );
                if r.is_err() {
                    let common = full.iter().zip(&trace).take_while(|(a, b)| a == b).count();
                    assert!(
                        trace.len() - common <= 1,
                        "{} {s:?} op {fail}: {trace:?} is not a prefix of {full:?}",
                        $name
                    );
                }
            }
        }
        runs
    }};
}

#[test]
fn every_machine_is_idle_after_err() {
    let mut runs = 0usize;
    let pages = [3, u64::MAX, 0, 1];
    runs += err_sweep!(
        "chain_walk",
        |dev, t| { ChainWalkState::default() },
        |st: &mut ChainWalkState, dev: &Dev, t: &mut Vec<String>| chain_walk(st, dev, &pages, 0, t),
        ChainWalkState::is_idle
    );
    runs += err_sweep!(
        "drop_all",
        |dev, t| { Pager::default() },
        |p: &mut Pager, dev: &Dev, t: &mut Vec<String>| p.drop_all(dev, 3, t),
        |p: &Pager| p.drop_state.is_idle() && p.free_state.is_idle()
    );
    runs += err_sweep!(
        "outer_fill",
        |dev, t| { OuterFillState::default() },
        |st: &mut OuterFillState, dev: &Dev, t: &mut Vec<String>| outer_fill(st, dev, t),
        OuterFillState::is_idle
    );
    runs += err_sweep!(
        "write_batches",
        |dev, t| { WriteBatchesState::default() },
        |st: &mut WriteBatchesState, dev: &Dev, t: &mut Vec<String>| write_batches(st, dev, 2, 3, t),
        WriteBatchesState::is_idle
    );
    runs += err_sweep!(
        "scan",
        |dev, t| {
            (
                ScanState::default(),
                Cursor {
                    pos: 0,
                    len: 3,
                    next_state: NextState::default(),
                },
            )
        },
        |s: &mut (ScanState, Cursor), dev: &Dev, t: &mut Vec<String>| scan(&mut s.0, dev, &mut s.1, t),
        |s: &(ScanState, Cursor)| s.0.is_idle() && s.1.next_state.is_idle()
    );
    for k in 0..3u8 {
        runs += err_sweep!(
            "matcher",
            |dev, t| { MatcherState::default() },
            |st: &mut MatcherState, dev: &Dev, t: &mut Vec<String>| matcher(st, dev, k, t),
            MatcherState::is_idle
        );
    }
    runs += err_sweep!(
        "shadowing",
        |dev, t| { ShadowingState::default() },
        |st: &mut ShadowingState, dev: &Dev, t: &mut Vec<String>| shadowing(st, dev, t),
        ShadowingState::is_idle
    );
    runs += err_sweep!(
        "collect",
        |dev, t| {
            Tree {
                keys: vec![1u8, 2, 3],
                collect_state: CollectState::default(),
            }
        },
        |tr: &mut Tree<u8>, dev: &Dev, t: &mut Vec<String>| tr.collect(dev, t),
        |tr: &Tree<u8>| tr.collect_state.is_idle()
    );
    let names = vec!["n".to_owned()];
    runs += err_sweep!(
        "positions",
        |dev, t| { PositionsState::default() },
        |st: &mut PositionsState, dev: &Dev, t: &mut Vec<String>| positions(st, dev, 5, &names, t),
        PositionsState::is_idle
    );
    runs += err_sweep!(
        "touch",
        |dev, t| {
            Store {
                config: Config {
                    label: "c".to_owned(),
                    limit: 1,
                },
                log: Vec::new(),
                touch_state: TouchState::default(),
            }
        },
        |s: &mut Store, dev: &Dev, t: &mut Vec<String>| s.touch(dev, &names, t),
        |s: &Store| s.touch_state.is_idle()
    );
    runs += err_sweep!(
        "scoped",
        |dev, t| { ScopedState::default() },
        |st: &mut ScopedState, dev: &Dev, t: &mut Vec<String>| scoped(st, dev, 5, t),
        ScopedState::is_idle
    );
    runs += err_sweep!(
        "sum_all",
        |dev, t| { SumAllState::<u8>::default() },
        |st: &mut SumAllState<u8>, dev: &Dev, t: &mut Vec<u64>| sum_all(st, dev, &[1u8, 2], t),
        SumAllState::is_idle
    );
    runs += err_sweep!(
        "drain",
        |dev, t| { DrainState::default() },
        |st: &mut DrainState, dev: &Dev, t: &mut Vec<u32>| drain(st, dev, t),
        DrainState::is_idle
    );
    runs += err_sweep!(
        "else_continues",
        |dev, t| { ElseContinuesState::default() },
        |st: &mut ElseContinuesState, dev: &Dev, t: &mut Vec<String>| else_continues(st, dev, 4, t),
        ElseContinuesState::is_idle
    );
    runs += err_sweep!(
        "else_breaks",
        |dev, t| { ElseBreaksState::default() },
        |st: &mut ElseBreaksState, dev: &Dev, t: &mut Vec<String>| else_breaks(st, dev, 1, 2, t),
        ElseBreaksState::is_idle
    );
    assert!(runs > 300, "only {runs} failing runs");
    println!("{runs} failing runs");
}

// ---------------------------------------------------------------------------
// The example of DESIGN.md, verbatim, on the in-memory and deferred backends.

mod design_example {
    use std::sync::Arc;

    use ratchet::{Buffer, Completion, CompletionError, File, IOResult, io_state_machine, yield_io};

    #[derive(Debug)]
    pub struct Error(#[allow(dead_code)] CompletionError);

    impl From<CompletionError> for Error {
        fn from(e: CompletionError) -> Self {
            Error(e)
        }
    }

    #[io_state_machine(state = st)]
    pub fn copy_pages(
        st: &mut CopyPagesState,
        src: &dyn File,
        dst: &dyn File,
        n: u64,
    ) -> Result<IOResult<u64>, Error> {
        let mut i: u64 = 0;
        while i < n {
            let buf: Arc<Buffer> = Arc::new(Buffer::new(4096));
            yield_io!(src.pread(i * 4096, Completion::read(buf.clone()))?)?;
            yield_io!(dst.pwrite(i * 4096, buf, Completion::write())?)?;
            i += 1;
        }
        Ok(n)
    }
}

fn copy_on<I: ratchet::IO + 'static>(io: &I) {
    use ratchet::{Buffer, IOExt, OpenOptions};
    use std::sync::Arc;
    let src = io.open_file("/src".as_ref(), OpenOptions::new()).unwrap();
    let dst = io.open_file("/dst".as_ref(), OpenOptions::new()).unwrap();
    let data: Vec<u8> = (0..3 * 4096).map(|i| (i % 251) as u8).collect();
    let w = src
        .pwrite(0, Arc::new(Buffer::from_vec(data.clone())), Completion::write())
        .unwrap();
    io.wait(&w).unwrap();
    let mut st = design_example::CopyPagesState::default();
    let n = io
        .block(|| design_example::copy_pages(&mut st, &*src, &*dst, 3))
        .unwrap();
    assert_eq!(n, 3);
    assert!(st.is_idle());
    let back = Arc::new(Buffer::new(3 * 4096));
    let r = dst.pread(0, Completion::read(back.clone())).unwrap();
    io.wait(&r).unwrap();
    assert_eq!(back.to_vec(), data);
}

#[test]
fn design_example_copies_pages() {
    copy_on(&ratchet::MemoryIO::new());
    copy_on(&ratchet::DeferredIO::new(ratchet::MemoryIO::new()));
}

// The body may shadow the state parameter's name: the state still goes to
// the parameter.
#[io_state_machine(state = st)]
fn shadows_state(st: &mut ShadowsStateState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    let st: u32 = 40;
    yield_io!(dev.op())?;
    trace.push(st);
    Ok(st + 2)
}

#[test]
fn state_parameter_may_be_shadowed() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut state = ShadowsStateState::default();
        let (r, trace, _) = drive(&dev, |t| shadows_state(&mut state, &dev, t));
        assert_eq!(r, Ok(42));
        assert_eq!(trace, [40]);
        assert!(state.is_idle());
    }
}

// A local overwritten after the suspension before it is read again is not
// stored (its old value is dead), yet each loop iteration sees the new one.
#[io_state_machine(state = st)]
fn follow(st: &mut FollowState, dev: &Dev, next: &[u32], trace: &mut Vec<u32>) -> Res<u32> {
    let mut page: u32 = 0;
    let mut hops: u32 = 0;
    loop {
        trace.push(page);
        yield_io!(dev.op())?;
        let nxt: u32 = next[usize::try_from(hops).unwrap()];
        if nxt == u32::MAX {
            return Ok(hops);
        }
        hops += 1;
        page = nxt;
    }
}

#[test]
fn overwritten_local_is_not_stored() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = FollowState::default();
        let (r, trace, _) = drive(&dev, |t| follow(&mut st, &dev, &[5, 9, u32::MAX], t));
        assert_eq!(r, Ok(2), "{s:?}");
        assert_eq!(trace, [0, 5, 9], "{s:?}");
        assert!(st.is_idle());
    }
    // Stored: `hops` and the completion; `page` is dead at the suspension.
    assert!(std::mem::size_of::<FollowState>() <= std::mem::size_of::<Completion>() + 8);
}

// A `for` over a typed range whose body suspends and `continue`s: the loop
// variable is the cursor, so `continue` must still step it.
#[io_state_machine(state = st)]
fn skip_odd(st: &mut SkipOddState, dev: &Dev, n: u32, trace: &mut Vec<u32>) -> Res<u32> {
    let mut sum: u32 = 0;
    'outer: for i in 0..n {
        yield_io!(dev.op())?;
        if i % 2 == 1 {
            continue;
        }
        for j in 0..2u32 {
            yield_io!(dev.op())?;
            if j == 1 {
                continue 'outer;
            }
            trace.push(i * 10 + j);
        }
        sum += i;
    }
    Ok(sum)
}

#[test]
fn for_range_continue_steps_the_cursor() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = SkipOddState::default();
        let (r, trace, _) = drive(&dev, |t| skip_odd(&mut st, &dev, 5, t));
        assert_eq!(r, Ok(0), "{s:?}");
        assert_eq!(trace, [0, 20, 40], "{s:?}");
        assert!(st.is_idle());
    }
    // `i`, the bound and the completion; no `Range` beside `i`.
    assert!(std::mem::size_of::<SkipOddState>() <= 4 * 4 + std::mem::size_of::<Completion>() + 8);
}

// The loop variable of a range `for` shadowed in the body (found by the
// differential tester): the next iteration still steps the loop's own.
#[io_state_machine(state = st)]
fn shadow_loop_var(st: &mut ShadowLoopVarState, dev: &Dev, trace: &mut Vec<String>) -> Res<u32> {
    let mut n: u32 = 0;
    for i in 0..3u32 {
        let i: String = format!("<{i}>");
        yield_io!(dev.op())?;
        trace.push(i);
        n += 1;
    }
    Ok(n)
}

#[test]
fn shadowed_range_variable() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = ShadowLoopVarState::default();
        let (r, trace, _) = drive(&dev, |t| shadow_loop_var(&mut st, &dev, t));
        assert_eq!(r, Ok(3), "{s:?}");
        assert_eq!(trace, ["<0>", "<1>", "<2>"], "{s:?}");
        assert!(st.is_idle());
    }
}

// An overwrite that a `break` before it may skip (found by the differential
// tester, seed 0x12f): the old value is still live at the `break`.
#[io_state_machine(state = st)]
fn early_break(st: &mut EarlyBreakState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    let mut last: u32 = 7;
    let mut n: u32 = 0;
    loop {
        yield_io!(dev.op())?;
        n += 1;
        if n == 3 {
            break;
        }
        last = n * 10;
    }
    trace.push(last);
    Ok(last)
}

#[test]
fn break_before_an_overwrite_keeps_the_old_value() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = EarlyBreakState::default();
        let (r, trace, _) = drive(&dev, |t| early_break(&mut st, &dev, t));
        assert_eq!(r, Ok(20), "{s:?}");
        assert_eq!(trace, [20]);
        assert!(st.is_idle());
    }
}

// `max_size = N` holds for a state that fits (the failing case is
// tests/ui/max_size_exceeded.rs); `size_report` gives each suspension
// point's stored bytes.
#[io_state_machine(state = st, max_size = 64)]
fn sized(st: &mut SizedState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    let a: [u32; 4] = [1, 2, 3, 4];
    yield_io!(dev.op())?;
    trace.push(a[3]);
    let b: u8 = 7;
    yield_io!(dev.op())?;
    Ok(u32::from(b))
}

#[test]
fn max_size_and_size_report() {
    let report = SizedState::size_report();
    let completion = std::mem::size_of::<Completion>();
    assert_eq!(report.len(), 2);
    assert_eq!(report[0].0, "Op");
    assert_eq!(report[0].1, size_of::<([u32; 4], Completion)>());
    assert!(report[0].1 >= 16 + completion);
    assert_eq!(report[1], ("Op2", size_of::<(u8, Completion)>()));
    assert!(std::mem::size_of::<SizedState>() <= 64);
    assert!(
        report
            .iter()
            .all(|&(_, n)| n <= std::mem::size_of::<SizedState>())
    );
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = SizedState::default();
        let (r, trace, _) = drive(&dev, |t| sized(&mut st, &dev, t));
        assert_eq!(r, Ok(7));
        assert_eq!(trace, [4]);
        assert!(st.is_idle());
    }
}

// The state diagram: `STATE_DIAGRAM_DOT` (and the Mermaid graph in the
// state's rustdoc) has `Idle`, each suspension point and `Done`, with the
// loop's condition on the edges.
#[test]
fn state_diagram_dot() {
    let dot = ChainWalkState::STATE_DIAGRAM_DOT;
    println!("{dot}");
    assert!(dot.starts_with("digraph ChainWalkState {"), "{dot}");
    assert!(dot.contains("Idle [label=\"Idle\"]"), "{dot}");
    assert!(dot.contains("yield_io!(dev.op())"), "{dot}");
    assert!(dot.contains(" -> Done"), "{dot}");
    assert!(dot.contains("Idle -> v_"), "{dot}");
}

// docs/DIAGRAMS.md shows the state diagrams of the flagship example's
// machines; it is rewritten with RATCHET_BLESS=1 and must match otherwise.
#[path = "../examples/pagekv/engine/mod.rs"]
#[allow(dead_code, unused_imports)]
mod pagekv_engine;

#[test]
fn pagekv_diagrams_doc() {
    use pagekv_engine::{btree, wal};
    let machines = [
        (
            "`Engine::put` (examples/pagekv/engine/btree.rs)",
            btree::PutState::STATE_DIAGRAM_MERMAID,
        ),
        (
            "`Pager::flush` (examples/pagekv/engine/wal.rs)",
            wal::FlushState::STATE_DIAGRAM_MERMAID,
        ),
        (
            "`Pager::recover` (examples/pagekv/engine/wal.rs)",
            wal::RecoverState::STATE_DIAGRAM_MERMAID,
        ),
    ];
    let mut doc = String::from(
        "# State diagrams\n\n\
         Every `#[io_state_machine]` state type documents its machine as a Mermaid\n\
         graph (in its rustdoc) and carries the same graph as\n\
         `STATE_DIAGRAM_MERMAID` and, for Graphviz, `STATE_DIAGRAM_DOT`\n\
         (`dot -Tsvg`). Nodes are `Idle`, each suspension point (its variant and\n\
         source text), `Done` and `Err`; an edge is a way from one to the next,\n\
         labelled with the branch conditions, loops and jumps taken on it\n\
         (conditions inside kept code are not shown: `return` and `?` there\n\
         appear as edges to `Done` and `Err`).\n\n\
         The machines of the flagship example, pagekv. This file is written by\n\
         `RATCHET_BLESS=1 cargo test --test machines pagekv_diagrams_doc`.\n",
    );
    for (name, mermaid) in machines {
        assert!(mermaid.starts_with("graph TD\n"), "{mermaid}");
        assert!(mermaid.contains("Idle -->"), "{mermaid}");
        write!(doc, "\n## {name}\n\n```mermaid\n{mermaid}```\n").unwrap();
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/DIAGRAMS.md");
    if std::env::var_os("RATCHET_BLESS").is_some() {
        std::fs::write(path, &doc).unwrap();
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        on_disk, doc,
        "docs/DIAGRAMS.md is stale: rerun with RATCHET_BLESS=1"
    );
}

// ---------------------------------------------------------------------------
// `let-else` whose `else` block suspends (rules 6 and 7): the `else` block is
// a branch of its own; the bindings of the pattern, `mut` ones included, go
// on after it, and are stored when a later suspension needs them.

#[io_state_machine(state = st)]
fn else_callee(st: &mut ElseCalleeState, dev: &Dev, k: u32, trace: &mut Vec<String>) -> Res<u32> {
    trace.push(format!("callee {k}"));
    yield_io!(dev.op())?;
    Ok(k * 2)
}

/// The `else` block returns a call's result when the awaited op fails.
#[io_state_machine(state = st)]
fn else_returns_call(st: &mut ElseReturnsCallState, dev: &Dev, a: u32, trace: &mut Vec<String>) -> Res<u32> {
    let mut s: ElseCalleeState = ElseCalleeState::default();
    trace.push("start".to_owned());
    let Ok(_) = yield_io!(dev.op()) else {
        trace.push(format!("else {a}"));
        return call_io!(else_callee(&mut s, dev, 18, trace));
    };
    trace.push("then".to_owned());
    Ok(a)
}

/// A plain scrutinee; `x` is stored across the later suspension, its type
/// read from `opt: Option<u32>`.
#[io_state_machine(state = st)]
fn else_waits(st: &mut ElseWaitsState, dev: &Dev, opt: Option<u32>, trace: &mut Vec<String>) -> Res<u32> {
    let Some(x) = opt else {
        trace.push("none".to_owned());
        yield_io!(dev.op())?;
        trace.push("waited".to_owned());
        return Ok(0);
    };
    trace.push(format!("x {x}"));
    yield_io!(dev.op())?;
    Ok(x + 1)
}

fn maybe(i: u32) -> Option<u32> {
    (i % 2 == 1).then_some(i * 10)
}

/// In a loop: a `mut` binding, stored across a suspension (typed by the
/// pattern's annotation), and `continue` after a suspension in the `else`.
#[io_state_machine(state = st)]
fn else_continues(st: &mut ElseContinuesState, dev: &Dev, n: u32, trace: &mut Vec<String>) -> Res<u32> {
    let mut sum: u32 = 0;
    let mut i: u32 = 0;
    while i < n {
        i += 1;
        let Some(mut v): Option<u32> = maybe(i) else {
            yield_io!(dev.op())?;
            trace.push(format!("skip {i}"));
            continue;
        };
        v += 1;
        yield_io!(dev.op())?;
        trace.push(format!("v {v}"));
        sum += v;
    }
    Ok(sum)
}

/// A tuple pattern; `break` with a value out of a labeled loop after a
/// suspension in the `else` block, and a `ref mut` binding used before any
/// suspension. `a` and `b` are stored, so they are rebound with their type
/// (as the diagnostic says).
#[io_state_machine(state = st)]
fn else_breaks(st: &mut ElseBreaksState, dev: &Dev, f: u32, g: u32, trace: &mut Vec<String>) -> Res<u32> {
    let mut name: Option<String> = (f > 0).then(|| "n".to_owned());
    let Some(ref mut label) = name else {
        yield_io!(dev.op())?;
        trace.push("no name".to_owned());
        return Ok(99);
    };
    label.push('!');
    trace.push(format!("label {label}"));
    let r: u32 = 'outer: loop {
        let (Some(a), Some(b)) = (maybe(f), maybe(g)) else {
            yield_io!(dev.op())?;
            trace.push("no pair".to_owned());
            break 'outer 7;
        };
        let (a, b): (u32, u32) = (a, b);
        yield_io!(dev.op())?;
        trace.push(format!("pair {a} {b}"));
        break a + b;
    };
    Ok(r)
}

#[test]
fn let_else_with_suspension_in_else() {
    for s in SCHEDULES {
        // Example 1, else path not taken, then taken (the awaited op fails).
        let dev = Dev::new(s);
        let mut st = ElseReturnsCallState::default();
        let (r, trace, _) = drive(&dev, |t| else_returns_call(&mut st, &dev, 5, t));
        assert_eq!(r, Ok(5), "{s:?}");
        assert_eq!(trace, ["start", "then"], "{s:?}");
        assert!(st.is_idle());
        let dev = Dev::new(s);
        dev.fail_op(0);
        let (r, trace, _) = drive(&dev, |t| else_returns_call(&mut st, &dev, 5, t));
        assert_eq!(r, Ok(36), "{s:?}");
        assert_eq!(trace, ["start", "else 5", "callee 18"], "{s:?}");
        assert_eq!(dev.issued(), 2);
        assert!(st.is_idle());

        // Example 2.
        let dev = Dev::new(s);
        let mut st = ElseWaitsState::default();
        let (r, trace, _) = drive(&dev, |t| else_waits(&mut st, &dev, Some(4), t));
        assert_eq!(r, Ok(5), "{s:?}");
        assert_eq!(trace, ["x 4"], "{s:?}");
        assert!(st.is_idle());
        let (r, trace, _) = drive(&dev, |t| else_waits(&mut st, &dev, None, t));
        assert_eq!(r, Ok(0), "{s:?}");
        assert_eq!(trace, ["none", "waited"], "{s:?}");
        assert_eq!(dev.issued(), 2);
        assert!(st.is_idle());

        // Example 3: odd `i` bind, even `i` take the `else` path.
        let dev = Dev::new(s);
        let mut st = ElseContinuesState::default();
        let (r, trace, _) = drive(&dev, |t| else_continues(&mut st, &dev, 4, t));
        assert_eq!(r, Ok(11 + 31), "{s:?}");
        assert_eq!(trace, ["v 11", "skip 2", "v 31", "skip 4"], "{s:?}");
        assert_eq!(dev.issued(), 4);
        assert!(st.is_idle());

        // Example 4, both ways.
        let dev = Dev::new(s);
        let mut st = ElseBreaksState::default();
        let (r, trace, _) = drive(&dev, |t| else_breaks(&mut st, &dev, 1, 3, t));
        assert_eq!(r, Ok(40), "{s:?}");
        assert_eq!(trace, ["label n!", "pair 10 30"], "{s:?}");
        assert!(st.is_idle());
        let (r, trace, _) = drive(&dev, |t| else_breaks(&mut st, &dev, 1, 2, t));
        assert_eq!(r, Ok(7), "{s:?}");
        assert_eq!(trace, ["label n!", "no pair"], "{s:?}");
        assert!(st.is_idle());
        let (r, trace, _) = drive(&dev, |t| else_breaks(&mut st, &dev, 0, 2, t));
        assert_eq!(r, Ok(99), "{s:?}");
        assert_eq!(trace, ["no name"], "{s:?}");
        assert!(st.is_idle());
    }
}

// ---------------------------------------------------------------------------
// `yield_io!` evaluates to the completion's result: the bytes a read moved.

/// Reads `len` bytes at `pos` and returns how many the read gave.
#[io_state_machine(state = st)]
fn read_count(
    st: &mut ReadCountState,
    file: &dyn ratchet::File,
    pos: u64,
    len: usize,
) -> Result<IOResult<(i32, Vec<u8>)>, CompletionError> {
    let buf: std::sync::Arc<ratchet::Buffer> = std::sync::Arc::new(ratchet::Buffer::new(len));
    let n = yield_io!(file.pread(pos, Completion::read(buf.clone()))?)?;
    let got: Vec<u8> = buf.as_slice()[..usize::try_from(n).unwrap()].to_vec();
    Ok((n, got))
}

#[test]
fn yield_io_gives_the_bytes_a_read_returned() {
    use ratchet::{Buffer, IO, OpenOptions};
    for io in [
        std::sync::Arc::new(ratchet::MemoryIO::new()) as std::sync::Arc<dyn IO>,
        std::sync::Arc::new(ratchet::DeferredIO::new(ratchet::MemoryIO::new())),
    ] {
        let file = io.open_file("/f".as_ref(), OpenOptions::new()).unwrap();
        let data = std::sync::Arc::new(Buffer::from_vec(b"0123456789".to_vec()));
        io.wait(&file.pwrite(0, data, Completion::write()).unwrap())
            .unwrap();
        let mut st = ReadCountState::default();
        // A whole read, then one that reaches the end of the file: short, not an error.
        assert_eq!(
            io.block(|| read_count(&mut st, &*file, 2, 4)),
            Ok((4, b"2345".to_vec()))
        );
        assert_eq!(
            io.block(|| read_count(&mut st, &*file, 7, 8)),
            Ok((3, b"789".to_vec()))
        );
        assert_eq!(
            io.block(|| read_count(&mut st, &*file, 20, 8)),
            Ok((0, Vec::new()))
        );
        assert!(st.is_idle());
    }
}

// ---------------------------------------------------------------------------
// Attacker-8 findings 8 and 11: a machine declared inside a machine's body
// is a machine of its own (its suspension points are not the outer one's),
// and `mut` on the state parameter is allowed.

#[io_state_machine(state = st)]
fn with_nested_machine(st: &mut WithNestedMachineState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    #[io_state_machine(state = s)]
    fn inner(s: &mut InnerState, c: &Completion, trace: &mut Vec<u32>) -> Res<u32> {
        trace.push(1);
        yield_io!(c.clone())?;
        trace.push(2);
        Ok(20)
    }
    let mut s = InnerState::default();
    let ready = Completion::ready();
    let v: u32 = match inner(&mut s, &ready, trace)? {
        IOResult::Done(v) => v,
        IOResult::IO(_) => {
            // Force-suspend: one more call finishes it.
            match inner(&mut s, &ready, trace)? {
                IOResult::Done(v) => v,
                IOResult::IO(_) => return Err(io_err()),
            }
        }
    };
    yield_io!(dev.op())?;
    trace.push(3);
    Ok(v + 1)
}

#[test]
fn a_machine_nested_in_a_machines_body_is_a_machine_of_its_own() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = WithNestedMachineState::default();
        let (r, trace, _) = drive(&dev, |t| with_nested_machine(&mut st, &dev, t));
        assert_eq!(r, Ok(21), "{s:?}");
        assert_eq!(trace, [1, 2, 3], "{s:?}");
        assert!(st.is_idle());
    }
}

#[allow(unused_mut)]
#[io_state_machine(state = st)]
fn mut_state_param(mut st: &mut MutStateParamState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    trace.push(1);
    yield_io!(dev.op())?;
    trace.push(2);
    Ok(2)
}

#[test]
fn a_mut_state_parameter_is_the_state_not_a_local() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = MutStateParamState::default();
        let (r, trace, _) = drive(&dev, |t| mut_state_param(&mut st, &dev, t));
        assert_eq!(r, Ok(2), "{s:?}");
        assert_eq!(trace, [1, 2], "{s:?}");
        assert!(st.is_idle());
    }
}

// Difftest program 463 of seed 0x13c0de: a `macro_rules!` in a block taken
// apart that names a path segment or a macro sharing a local's name
// (`i64::wrapping_sub` beside a local called `i64`) reads no local, and is
// not refused.
#[allow(clippy::just_underscores_and_digits)]
#[io_state_machine(state = st)]
fn macro_path_named_like_a_local(st: &mut MacroPathNamedLikeALocalState, dev: &Dev) -> Res<i64> {
    let i64: i64 = 30;
    let twice: i64 = 2;
    macro_rules! sub {
        ($e:expr) => {
            i64::wrapping_sub($e, twice!())
        };
    }
    macro_rules! twice {
        () => {
            4
        };
    }
    yield_io!(dev.op())?;
    Ok(sub!(i64) + twice)
}

#[test]
fn a_macro_naming_a_path_like_a_local_is_not_refused() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = MacroPathNamedLikeALocalState::default();
        let (r, _, _) = drive(&dev, |_: &mut Vec<u32>| {
            macro_path_named_like_a_local(&mut st, &dev)
        });
        assert_eq!(r, Ok(28), "{s:?}");
    }
}
