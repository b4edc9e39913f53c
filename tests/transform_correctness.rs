//! Run-time tests for the transform-correctness findings (issue 13): shapes
//! the difftest generator did not produce, each compared with what the plain
//! function does, under the schedules of `support` (ready, deferred, random
//! with spurious re-entry). Each test is named after its finding; each
//! failed (or did not compile) before its fix. Compile-time refusals and
//! diagnostics of the same issue are ui fixtures in `tests/ui/`.
#![allow(missing_docs)]

use std::num::Wrapping;

use ratchet::{CompletionError, IOResult, call_io, io_state_machine, io_state_machines, yield_io};

mod support;
use support::{Dev, SCHEDULES, Schedule, drive, log, take_log};

type Res<T> = Result<IOResult<T>, CompletionError>;

/// A value whose drop is logged: a page pin, a lock guard.
#[derive(Debug)]
pub struct Guard(u32);

impl Drop for Guard {
    fn drop(&mut self) {
        log(format!("drop {}", self.0));
    }
}

fn pin(page: u32) -> Guard {
    log(format!("pin {page}"));
    Guard(page)
}

/// Runs `machine` to the end under `s`, for machines that log instead of
/// tracing through the driver.
fn run<T, E>(dev: &Dev, mut machine: impl FnMut() -> Result<IOResult<T>, E>) -> Result<T, E> {
    drive(dev, |_: &mut Vec<()>| machine()).0
}

// ---------------------------------------------------------------------------
// 1. A `mut` parameter assigned before a suspension is a local: a resume
//    must not read the caller's argument again.

#[io_state_machine(state = st)]
fn countdown(st: &mut CountdownState, dev: &Dev, mut n: u32, trace: &mut Vec<u32>) -> Res<u32> {
    let mut steps: u32 = 0;
    while n > 0 {
        yield_io!(dev.op())?;
        n -= 1;
        steps += 1;
        trace.push(n);
    }
    Ok(steps)
}

#[test]
fn mut_parameter_assigned_before_a_suspension_is_not_reset_on_resume() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = CountdownState::default();
        // Every call passes 3 again: only the first call's argument counts.
        let (r, trace, _) = drive(&dev, |t| countdown(&mut st, &dev, 3, t));
        assert_eq!(r, Ok(3), "{s:?}");
        assert_eq!(trace, [2, 1, 0], "{s:?}");
        assert!(st.is_idle());
    }
}

// ---------------------------------------------------------------------------
// 2. Drops: a binding held only for its `Drop` lives to the end of its
//    scope on every path.

#[io_state_machine(state = st)]
fn pinned(st: &mut PinnedState, dev: &Dev, page: u32) -> Res<u32> {
    let _g: Guard = pin(page);
    log("before io");
    yield_io!(dev.op())?;
    log("after io");
    Ok(page)
}

#[test]
fn drop_guard_held_for_its_drop_lives_across_the_suspension() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = PinnedState::default();
        assert_eq!(run(&dev, || pinned(&mut st, &dev, 7)), Ok(7));
        assert_eq!(take_log(), ["pin 7", "before io", "after io", "drop 7"], "{s:?}");
    }
}

#[io_state_machine(state = st)]
fn scoped_guards(st: &mut ScopedGuardsState, dev: &Dev, c: bool) -> Res<u32> {
    let g: Guard = pin(1);
    log(format!("read {}", g.0));
    // Rebound to a name the body never reads: kept to the end of its scope.
    let _keep: Guard = g;
    {
        let _inner: Guard = pin(2);
        if c {
            yield_io!(dev.op())?;
        }
        log("end of inner block");
    }
    log("after inner block");
    loop {
        let _it: Guard = pin(3);
        yield_io!(dev.op())?;
        if c {
            log("break");
            break;
        }
        log("next");
        if !c {
            break;
        }
    }
    log("after loop");
    Ok(1)
}

#[test]
fn drop_guard_dead_after_a_branch_drops_at_the_end_of_its_scope() {
    for s in SCHEDULES {
        for c in [false, true] {
            let dev = Dev::new(s);
            let mut st = ScopedGuardsState::default();
            assert_eq!(run(&dev, || scoped_guards(&mut st, &dev, c)), Ok(1));
            let middle: &[&str] = if c { &["break"] } else { &["next"] };
            let want: Vec<&str> = [
                "pin 1",
                "read 1",
                "pin 2",
                "end of inner block",
                "drop 2",
                "after inner block",
                "pin 3",
            ]
            .into_iter()
            .chain(middle.iter().copied())
            .chain(["drop 3", "after loop", "drop 1"])
            .collect();
            assert_eq!(take_log(), want, "{s:?} c={c}");
        }
    }
}

// ---------------------------------------------------------------------------
// 3. Attributes stay on the code they belong to: a `#[cfg]`d-out statement
//    that suspends does not run, and its bindings are absent after it.

#[io_state_machine(state = st)]
fn cfgd(st: &mut CfgdState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    trace.push(1);
    #[cfg(not(test))]
    yield_io!(dev.op())?;
    #[cfg(not(test))]
    loop {
        yield_io!(dev.op())?;
        trace.push(9);
        break;
    }
    #[cfg(test)]
    loop {
        yield_io!(dev.op())?;
        trace.push(2);
        break;
    }
    #[cfg(not(test))]
    let started: u32 = 5;
    yield_io!(dev.op())?;
    #[cfg(not(test))]
    trace.push(started);
    Ok(3)
}

pub struct CfgMethod {
    st: CountedState,
    n: u32,
}

#[io_state_machines]
impl CfgMethod {
    // A method: its versions are methods of the impl, their states beside it.
    #[io_state_machine(state = self.st)]
    fn counted(&mut self, dev: &Dev) -> Res<u32> {
        #[cfg(not(test))]
        yield_io!(dev.op())?;
        self.n += 1;
        #[cfg(test)]
        yield_io!(dev.op())?;
        Ok(self.n)
    }
}

#[test]
fn cfg_on_a_statement_that_suspends_is_kept() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut m = CfgMethod {
            st: CountedState::default(),
            n: 0,
        };
        assert_eq!(run(&dev, || m.counted(&dev)), Ok(1), "{s:?}");
        assert_eq!(dev.issued(), 1, "{s:?}");
    }
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = CfgdState::default();
        let (r, trace, _) = drive(&dev, |t| cfgd(&mut st, &dev, t));
        assert_eq!(r, Ok(3), "{s:?}");
        assert_eq!(trace, [1, 2], "{s:?}");
        assert_eq!(dev.issued(), 2, "{s:?}: the cfg'd-out suspensions must not run");
    }
}

// ---------------------------------------------------------------------------
// 4. Compound assignment whose right side suspends: through a place without
//    side effects it runs (a place with side effects is refused:
//    tests/ui/compound-assignment-place-with-side-effects.rs).

#[io_state_machine(state = st)]
fn five(st: &mut FiveState, dev: &Dev) -> Res<Wrapping<u32>> {
    yield_io!(dev.op())?;
    Ok(Wrapping(5))
}

pub struct Slots {
    v: Vec<Wrapping<u32>>,
    total: Wrapping<u32>,
}

#[io_state_machine(state = st)]
fn add_five(st: &mut AddFiveState, dev: &Dev, slots: &mut Slots) -> Res<u32> {
    let mut sub: FiveState = FiveState::default();
    let mut w: Wrapping<u32> = Wrapping(u32::MAX);
    w += call_io!(five(&mut sub, dev))?;
    slots.total += call_io!(five(&mut sub, dev))?;
    // An index is refused (Rust runs `IndexMut` first for this type): the
    // order is written out.
    let r: Wrapping<u32> = call_io!(five(&mut sub, dev))?;
    slots.v[1] += r;
    Ok(w.0 + slots.total.0 + slots.v[1].0)
}

#[test]
fn compound_assignment_of_a_non_primitive_through_a_plain_place() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = AddFiveState::default();
        let mut slots = Slots {
            v: vec![Wrapping(0), Wrapping(10)],
            total: Wrapping(1),
        };
        assert_eq!(run(&dev, || add_five(&mut st, &dev, &mut slots)), Ok(4 + 6 + 15));
    }
}

// ---------------------------------------------------------------------------
// 5. The bounds of a `for` range run in source order.

fn bound(name: &str, v: i64) -> i64 {
    log(name);
    v
}

#[io_state_machine(state = st)]
fn ranged(st: &mut RangedState, dev: &Dev) -> Res<u32> {
    let mut n: u32 = 0;
    for i in (bound("a", 0) as u32)..(bound("b", 3) as u32) {
        yield_io!(dev.op())?;
        n += i + 1;
    }
    Ok(n)
}

#[test]
fn range_bounds_run_in_source_order() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = RangedState::default();
        assert_eq!(run(&dev, || ranged(&mut st, &dev)), Ok(6));
        assert_eq!(take_log(), ["a", "b"], "{s:?}");
    }
}

// ---------------------------------------------------------------------------
// 6. A macro with a per-call-site `static` exists once: the fast path does
//    not copy code that invokes a macro outside std's item-free ones.

static ONCE_FIRES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

macro_rules! log_once {
    () => {{
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            ONCE_FIRES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
    }};
}

#[io_state_machine(state = st)]
fn logs_once(st: &mut LogsOnceState, dev: &Dev) -> Res<u32> {
    yield_io!(dev.op())?;
    log_once!();
    Ok(1)
}

#[test]
fn per_call_site_static_in_a_macro_exists_once() {
    // The ready schedule takes the fast path, the others resume: both paths
    // must reach the same call site.
    for s in [
        Schedule::Ready,
        Schedule::Deferred,
        Schedule::Ready,
        Schedule::Random(3),
    ] {
        let dev = Dev::new(s);
        let mut st = LogsOnceState::default();
        assert_eq!(run(&dev, || logs_once(&mut st, &dev)), Ok(1));
    }
    assert_eq!(ONCE_FIRES.load(std::sync::atomic::Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------
// 7. The state is generic over what its stored types use, with the bounds
//    they need: an associated type of a bounded parameter, in a free
//    function and in a generic impl, and `Self::Out` / `[bool; Self::PAGES]`
//    in a trait impl.

pub trait Store {
    type Key: Clone + std::fmt::Debug + PartialEq;
    fn key(&self) -> Self::Key;
}

pub struct Pages;

impl Store for Pages {
    type Key = u32;
    fn key(&self) -> u32 {
        4
    }
}

#[io_state_machine(state = st)]
fn keyed<S: Store>(st: &mut KeyedState<S>, dev: &Dev, s: &S) -> Res<S::Key> {
    let k: S::Key = s.key();
    yield_io!(dev.op())?;
    Ok(k)
}

pub struct Holder<S: Store> {
    s: S,
    st: HeldKeyState<S>,
}

#[io_state_machines]
impl<S: Store> Holder<S> {
    #[io_state_machine(state = self.st)]
    fn held_key(&mut self, dev: &Dev) -> Res<S::Key> {
        let k: S::Key = self.s.key();
        yield_io!(dev.op())?;
        Ok(k)
    }
}

pub trait Scan {
    type Out;
    const PAGES: usize;
    fn scan(&mut self, dev: &Dev) -> Res<Self::Out>;
}

pub struct Scanner {
    st: ScanState,
}

#[io_state_machines]
impl Scan for Scanner {
    type Out = u32;
    const PAGES: usize = 3;
    #[io_state_machine(state = self.st)]
    fn scan(&mut self, dev: &Dev) -> Res<Self::Out> {
        let base: Self::Out = 5;
        let mut seen: [bool; Self::PAGES] = [false; Self::PAGES];
        yield_io!(dev.op())?;
        seen[1] = true;
        Ok(base + seen.iter().filter(|s| **s).count() as u32 + seen.len() as u32)
    }
}

#[test]
fn stored_associated_types_keep_the_bounds_they_need() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = KeyedState::default();
        assert_eq!(run(&dev, || keyed(&mut st, &dev, &Pages)), Ok(4));
        let mut h = Holder {
            s: Pages,
            st: HeldKeyState::default(),
        };
        assert_eq!(run(&dev, || h.held_key(&dev)), Ok(4));
        let mut sc = Scanner {
            st: ScanState::default(),
        };
        assert_eq!(run(&dev, || sc.scan(&dev)), Ok(9));
    }
}

// ---------------------------------------------------------------------------
// 8. Items declared in the body are visible in the whole body.

#[io_state_machine(state = st)]
fn items_in_body(st: &mut ItemsInBodyState, dev: &Dev, trace: &mut Vec<String>) -> Res<u32> {
    use std::fmt::Write as _;
    const K: u32 = 7;
    fn helper(x: u32) -> u32 {
        x * 2
    }
    struct Pair {
        v: u32,
    }
    macro_rules! twice {
        ($e:expr) => {
            $e + $e
        };
    }
    yield_io!(dev.op())?;
    let mut s = String::new();
    write!(s, "{}", helper(K)).map_err(|_| CompletionError::Aborted)?;
    trace.push(s);
    let p = Pair { v: twice!(K) };
    let v: u32 = p.v;
    yield_io!(dev.op())?;
    Ok(v + K)
}

#[test]
fn items_declared_in_the_body_are_visible_after_a_suspension() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = ItemsInBodyState::default();
        let (r, trace, _) = drive(&dev, |t| items_in_body(&mut st, &dev, t));
        assert_eq!(r, Ok(21), "{s:?}");
        assert_eq!(trace, ["14"], "{s:?}");
    }
}

// ---------------------------------------------------------------------------
// 9. `break` and `continue` written by another macro inside a loop that
//    suspends.

macro_rules! stop {
    () => {
        break
    };
}

macro_rules! skip {
    () => {
        continue
    };
}

#[io_state_machine(state = st)]
fn macro_jumps(st: &mut MacroJumpsState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    let mut i: u32 = 0;
    loop {
        yield_io!(dev.op())?;
        i += 1;
        if i == 2 {
            skip!();
        }
        trace.push(i);
        if i == 4 {
            stop!();
        }
    }
    let mut j: u32 = 0;
    while j < 10 {
        j += 1;
        yield_io!(dev.op())?;
        if j == 2 {
            stop!();
        }
    }
    Ok(i * 10 + j)
}

macro_rules! plus_one {
    ($e:expr) => {
        $e + 1
    };
}

// Found by the 10,000-program run: statements holding a foreign macro that
// the jump-catching loop must leave alone, a first value of a `let x;`
// and a `return`.
#[io_state_machine(state = st)]
fn macro_in_first_value_and_return(st: &mut MacroInFirstValueAndReturnState, dev: &Dev, n: u32) -> Res<u32> {
    let mut i: u32 = 0;
    while i < 5 {
        i += 1;
        let x;
        yield_io!(dev.op())?;
        x = plus_one!(i);
        if x > n {
            return Ok(plus_one!(x));
        }
    }
    Ok(0)
}

// A macro's `break` in a `match` arm kept whole that also returns (found by
// the second 10,000-program run), and in a block's value.
#[io_state_machine(state = st)]
fn macro_break_in_a_block_value(
    st: &mut MacroBreakInABlockValueState,
    dev: &Dev,
    trace: &mut Vec<u32>,
) -> Res<u32> {
    let mut i: u32 = 0;
    loop {
        i += 1;
        let kept: u32 = {
            if i > 8 {
                return Ok(99);
            }
            if i == 6 {
                stop!();
            }
            i
        };
        match kept % 2 {
            0 => {
                trace.push(i);
                if i == 40 {
                    return Ok(40);
                }
                if i == 4 {
                    stop!();
                }
            }
            _ => {
                yield_io!(dev.op())?;
            }
        }
    }
    Ok(i)
}

#[test]
fn break_and_continue_written_by_a_macro_in_a_suspending_loop() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = MacroBreakInABlockValueState::default();
        let (r, trace, _) = drive(&dev, |t| macro_break_in_a_block_value(&mut st, &dev, t));
        assert_eq!((r, trace), (Ok(4), vec![2, 4]), "{s:?}");
    }
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = MacroInFirstValueAndReturnState::default();
        assert_eq!(
            run(&dev, || macro_in_first_value_and_return(&mut st, &dev, 3)),
            Ok(5),
            "{s:?}"
        );
    }
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = MacroJumpsState::default();
        let (r, trace, _) = drive(&dev, |t| macro_jumps(&mut st, &dev, t));
        assert_eq!(r, Ok(42), "{s:?}");
        assert_eq!(trace, [1, 3, 4], "{s:?}");
    }
}

// ---------------------------------------------------------------------------
// 11. A suspension inside an attributed block or an `unsafe` block.

#[io_state_machine(state = st)]
fn attributed_block(st: &mut AttributedBlockState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    #[allow(unused_mut)]
    {
        let mut x: u32 = 1;
        yield_io!(dev.op())?;
        trace.push(x);
    }
    Ok(2)
}

// The block holds no unsafe operation (the workspace allows unsafe code only
// in the io_uring backend); what is tested is that a suspension inside
// `unsafe { .. }` is lowered, with the user's `unsafe` re-created around the
// pieces made from the block.
#[allow(unsafe_code, unused_unsafe)]
#[io_state_machine(state = st)]
fn unsafe_block(st: &mut UnsafeBlockState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    let v: u32 = unsafe {
        trace.push(1);
        yield_io!(dev.op())?;
        trace.push(2);
        3
    };
    Ok(v)
}

#[test]
fn suspension_in_an_attributed_block_and_in_an_unsafe_block() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = AttributedBlockState::default();
        let (r, trace, _) = drive(&dev, |t| attributed_block(&mut st, &dev, t));
        assert_eq!((r, trace), (Ok(2), vec![1]), "{s:?}");
        let mut st = UnsafeBlockState::default();
        let (r, trace, _) = drive(&dev, |t| unsafe_block(&mut st, &dev, t));
        assert_eq!((r, trace), (Ok(3), vec![1, 2]), "{s:?}");
    }
}

// ---------------------------------------------------------------------------
// 13, 23. `let x;` before a suspension, and a range bound in parentheses,
//    compile without warnings (the module denies them).

#[deny(warnings)]
mod warning_free {
    use super::{Dev, Res};
    use ratchet::{io_state_machine, yield_io};

    #[io_state_machine(state = st)]
    pub fn late(st: &mut LateState, dev: &Dev, k: u32) -> Res<u32> {
        let x;
        yield_io!(dev.op())?;
        x = k * 2;
        Ok(x)
    }

    #[io_state_machine(state = st)]
    pub fn late_typed(st: &mut LateTypedState, dev: &Dev, k: u32) -> Res<u32> {
        let x: u32;
        yield_io!(dev.op())?;
        x = k * 2;
        Ok(x)
    }

    // The shape under test: a value given after the declaration.
    #[allow(clippy::needless_late_init)]
    #[io_state_machine(state = st)]
    pub fn early(st: &mut EarlyState, dev: &Dev, k: u32) -> Res<u32> {
        let x: u32;
        x = k * 3;
        yield_io!(dev.op())?;
        Ok(x)
    }

    #[io_state_machine(state = st)]
    pub fn parenthesized_bound(st: &mut ParenthesizedBoundState, dev: &Dev, len: u64) -> Res<u32> {
        let mut n: u32 = 0;
        for i in 0..(len as u32) {
            yield_io!(dev.op())?;
            n += i;
        }
        Ok(n)
    }
}

#[test]
fn uninitialized_let_before_a_suspension_assigned_after() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = warning_free::LateState::default();
        assert_eq!(run(&dev, || warning_free::late(&mut st, &dev, 4)), Ok(8));
        let mut st = warning_free::LateTypedState::default();
        assert_eq!(run(&dev, || warning_free::late_typed(&mut st, &dev, 4)), Ok(8));
        // Assigned before the suspension: stored with its type.
        let mut st = warning_free::EarlyState::default();
        assert_eq!(run(&dev, || warning_free::early(&mut st, &dev, 4)), Ok(12));
    }
}

#[test]
fn parenthesized_range_bound_compiles_without_warnings() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = warning_free::ParenthesizedBoundState::default();
        assert_eq!(
            run(&dev, || warning_free::parenthesized_bound(&mut st, &dev, 4)),
            Ok(6)
        );
    }
}

// ---------------------------------------------------------------------------
// 12. A typed array pattern gives each element its type.

#[io_state_machine(state = st)]
fn array_pattern(st: &mut ArrayPatternState, dev: &Dev, v: [u32; 2]) -> Res<u32> {
    let [a, b]: [u32; 2] = v;
    yield_io!(dev.op())?;
    Ok(a * 10 + b)
}

#[test]
fn typed_array_pattern_binding_is_stored() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = ArrayPatternState::default();
        assert_eq!(run(&dev, || array_pattern(&mut st, &dev, [3, 4])), Ok(34));
    }
}

// ---------------------------------------------------------------------------
// 14. A raw identifier shadowed across a suspension (the macro panicked).

#[io_state_machine(state = st)]
fn raw_identifiers(st: &mut RawIdentifiersState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    let r#type: u32 = 1;
    {
        let r#type: u32 = 2;
        yield_io!(dev.op())?;
        trace.push(r#type);
    }
    yield_io!(dev.op())?;
    Ok(r#type)
}

#[test]
fn raw_identifier_shadowed_across_a_suspension() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = RawIdentifiersState::default();
        let (r, trace, _) = drive(&dev, |t| raw_identifiers(&mut st, &dev, t));
        assert_eq!((r, trace), (Ok(1), vec![2]), "{s:?}");
    }
}

// ---------------------------------------------------------------------------
// 22. A user local named like a generated field (`__completion`).

#[io_state_machine(state = st)]
fn completion_named_local(st: &mut CompletionNamedLocalState, dev: &Dev) -> Res<u32> {
    let __completion: u32 = 4;
    yield_io!(dev.op())?;
    Ok(__completion)
}

#[test]
fn local_named_like_a_generated_field_does_not_collide() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = CompletionNamedLocalState::default();
        assert_eq!(run(&dev, || completion_named_local(&mut st, &dev)), Ok(4));
    }
}

// ---------------------------------------------------------------------------
// 24. A `pub` machine in a module that denies `missing_docs`: every
//     generated public item has its documentation.

#[deny(missing_docs)]
pub mod documented {
    //! A public machine, documented.
    use super::{Dev, Res};
    use ratchet::{io_state_machine, yield_io};

    /// Counts to two.
    #[io_state_machine(state = st)]
    pub fn two(st: &mut TwoState, dev: &Dev) -> Res<u32> {
        let x: u32 = 1;
        yield_io!(dev.op())?;
        Ok(x + 1)
    }
}

#[test]
fn pub_machine_in_a_missing_docs_module() {
    let dev = Dev::new(Schedule::Deferred);
    let mut st = documented::TwoState::default();
    assert_eq!(run(&dev, || documented::two(&mut st, &dev)), Ok(2));
    assert_eq!(documented::TwoState::size_report().len(), 1);
}

// ---------------------------------------------------------------------------
// Found by the generator's `macro_jumps`: the `else` block of a `let-else`
// that suspends, ending with a macro that returns or a call returning `!`
// (refused: the macro could not see that they diverge); and a body ending
// with such a macro (item 9: a second error, the body's end read as
// `Ok(())`).

macro_rules! bail {
    ($e:expr) => {
        return Err($e)
    };
}

fn never_returns() -> ! {
    panic!("never_returns was called")
}

#[io_state_machine(state = st)]
fn let_else_ends_in_macro(
    st: &mut LetElseEndsInMacroState,
    dev: &Dev,
    opt: Option<u32>,
    trace: &mut Vec<u32>,
) -> Res<u32> {
    let Some(v) = opt else {
        yield_io!(dev.op())?;
        trace.push(1);
        bail!(CompletionError::Aborted);
    };
    let Some(w) = opt.map(|x| x + 1) else {
        yield_io!(dev.op())?;
        never_returns();
    };
    Ok(v + w)
}

#[io_state_machine(state = st)]
// The value type spelled out: through an alias (`Res<u32>`) the macro
// cannot see that it is not `()`, and a `()` body may end with a statement.
fn body_ends_in_macro(
    st: &mut BodyEndsInMacroState,
    dev: &Dev,
    fail: bool,
) -> Result<IOResult<u32>, CompletionError> {
    yield_io!(dev.op())?;
    if !fail {
        return Ok(7);
    }
    bail!(CompletionError::Aborted);
}

#[test]
fn let_else_block_ending_in_a_macro_or_a_call_that_diverges() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = BodyEndsInMacroState::default();
        assert_eq!(run(&dev, || body_ends_in_macro(&mut st, &dev, false)), Ok(7));
        assert_eq!(
            run(&dev, || body_ends_in_macro(&mut st, &dev, true)),
            Err(CompletionError::Aborted)
        );
    }
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = LetElseEndsInMacroState::default();
        let (r, trace, _) = drive(&dev, |t| let_else_ends_in_macro(&mut st, &dev, Some(2), t));
        assert_eq!((r, trace), (Ok(5), vec![]), "{s:?}");
        let (r, trace, _) = drive(&dev, |t| let_else_ends_in_macro(&mut st, &dev, None, t));
        assert_eq!((r, trace), (Err(CompletionError::Aborted), vec![1]), "{s:?}");
        assert!(st.is_idle());
    }
}

// ---------------------------------------------------------------------------
// Issue 15 item 3 and attacker8 #1: a borrow of a field of `self` or of an
// argument is re-created after a suspension (rule 9), typed or not, `&` or
// `&mut`, through nested fields; a shadowing binding re-creates its own
// place. (A `mut` one, which could be pointed elsewhere, is refused: ui
// fixtures `recreated-borrow-reassigned*`.)

pub struct Stats {
    hits: Vec<u32>,
    misses: Vec<u32>,
}

pub struct Engine {
    stats: Stats,
    name: Vec<u8>,
    st: EngineCountState,
    st2: EngineShadowState,
}

#[io_state_machines]
impl Engine {
    #[io_state_machine(state = self.st)]
    fn engine_count(&mut self, dev: &Dev) -> Res<usize> {
        let hits: &mut Vec<u32> = &mut self.stats.hits;
        hits.push(1);
        yield_io!(dev.op())?;
        hits.push(2);
        // Typed as a slice: re-created through the same coercion.
        let name: &[u8] = &self.name;
        yield_io!(dev.op())?;
        Ok(name.len() + self.stats.hits.len())
    }

    #[io_state_machine(state = self.st2)]
    fn engine_shadow(&mut self, dev: &Dev, second: bool) -> Res<u32> {
        let r = &self.stats.hits;
        let before: usize = r.len();
        yield_io!(dev.op())?;
        let after: usize = r.len();
        let r = &self.stats.misses;
        if second {
            yield_io!(dev.op())?;
        }
        log(format!("{before} {after} {}", r.len()));
        Ok(r.iter().sum())
    }
}

#[io_state_machine(state = st)]
fn param_field_borrow(st: &mut ParamFieldBorrowState, dev: &Dev, stats: &mut Stats) -> Res<u32> {
    let m: &mut Vec<u32> = &mut stats.misses;
    m.push(5);
    yield_io!(dev.op())?;
    m.push(6);
    let h = &stats.hits;
    yield_io!(dev.op())?;
    Ok(h.iter().sum::<u32>() + stats.misses.iter().sum::<u32>())
}

#[test]
fn field_borrow_of_self_or_an_argument_is_recreated_typed_or_not() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut e = Engine {
            stats: Stats {
                hits: vec![],
                misses: vec![7],
            },
            name: b"abc".to_vec(),
            st: EngineCountState::default(),
            st2: EngineShadowState::default(),
        };
        assert_eq!(run(&dev, || e.engine_count(&dev)), Ok(5), "{s:?}");
        assert_eq!(e.stats.hits, [1, 2], "{s:?}");
        assert!(e.st.is_idle());
        // The shadowing `r` re-creates its own place, not the first one.
        assert_eq!(run(&dev, || e.engine_shadow(&dev, true)), Ok(7), "{s:?}");
        assert_eq!(take_log(), ["2 2 1"], "{s:?}");
        let mut st = ParamFieldBorrowState::default();
        let mut stats = Stats {
            hits: vec![1, 2],
            misses: vec![],
        };
        assert_eq!(
            run(&dev, || param_field_borrow(&mut st, &dev, &mut stats)),
            Ok(14),
            "{s:?}"
        );
        assert_eq!(stats.misses, [5, 6], "{s:?}");
    }
}

// ---------------------------------------------------------------------------
// Issue 15 item 7 / attacker8 #10: the rewrites the messages suggest for a
// suspension in a short-circuit operand, a let chain, an `else if` and a
// `while` condition (ui fixture `suspend-in-short-circuit-rewrites`) are
// accepted and keep the meaning: the call runs exactly when the original
// condition would have evaluated it.

fn probe(v: u32) -> Res<u32> {
    log(format!("probe {v}"));
    Ok(IOResult::Done(v))
}

#[io_state_machine(state = st)]
fn rewrites(st: &mut RewritesState, dev: &Dev, a: bool, o: Option<u32>) -> Res<u32> {
    let mut k: u32 = 0;
    // `if a && probe(1) > 0`
    let x: bool = if a {
        let y = call_io!(probe(1))?;
        y > 0
    } else {
        false
    };
    if x {
        k += 1;
    }
    // `if a || probe(2) > 0`
    let x: bool = if a {
        true
    } else {
        let y = call_io!(probe(2))?;
        y > 0
    };
    if x {
        k += 10;
    }
    // `if let Some(v) = o && probe(v) > 3`
    if let Some(v) = o {
        let v: u32 = v;
        let y = call_io!(probe(v))?;
        if y > 3 {
            k += 100;
        }
    }
    // `if a { .. } else if probe(5) > 2 { .. }`
    if a {
        k += 1000;
    } else {
        let x = call_io!(probe(5))?;
        if x > 2 {
            k += 2000;
        }
    }
    // `while k % 7 != 0 && probe(6) > 0 { k += 1 }` (`&&` in a `while`)
    loop {
        let x: bool = if k % 7 != 0 {
            let y = call_io!(probe(6))?;
            y > 0
        } else {
            false
        };
        if !x {
            break;
        }
        k += 1;
    }
    yield_io!(dev.op())?;
    Ok(k)
}

fn rewrites_plain(a: bool, o: Option<u32>) -> u32 {
    let p = |v: u32| {
        log(format!("probe {v}"));
        v
    };
    let mut k = 0;
    if a && p(1) > 0 {
        k += 1;
    }
    if a || p(2) > 0 {
        k += 10;
    }
    if let Some(v) = o
        && p(v) > 3
    {
        k += 100;
    }
    if a {
        k += 1000;
    } else if p(5) > 2 {
        k += 2000;
    }
    while k % 7 != 0 && p(6) > 0 {
        k += 1;
    }
    k
}

#[test]
fn suggested_rewrites_of_short_circuits_and_conditions_keep_the_meaning() {
    for s in SCHEDULES {
        for (a, o) in [(true, None), (false, Some(9)), (false, Some(1)), (true, Some(4))] {
            let want = rewrites_plain(a, o);
            let want_log = take_log();
            let dev = Dev::new(s);
            let mut st = RewritesState::default();
            assert_eq!(
                run(&dev, || rewrites(&mut st, &dev, a, o)),
                Ok(want),
                "{s:?} {a} {o:?}"
            );
            assert_eq!(take_log(), want_log, "{s:?} {a} {o:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// attacker8 #2: a `Drop` that panics where the machine suspends (a local dead
// across the suspension point, dropped as the call returns `IO`; a temporary
// of the awaited expression) leaves the state idle, as after any panic in
// the body (rule 11), on every schedule.

pub struct Bomb(bool);

impl Drop for Bomb {
    fn drop(&mut self) {
        if self.0 {
            panic!("bomb");
        }
    }
}

impl Bomb {
    fn op(&self, dev: &Dev) -> ratchet::Completion {
        dev.op()
    }
}

#[io_state_machine(state = st)]
fn bomb_dead_local(st: &mut BombDeadLocalState, dev: &Dev, armed: bool) -> Res<u32> {
    let b = Bomb(armed);
    log(format!("armed {}", b.0));
    yield_io!(dev.op())?;
    Ok(1)
}

#[io_state_machine(state = st)]
fn bomb_temporary(st: &mut BombTemporaryState, dev: &Dev, armed: bool) -> Res<u32> {
    yield_io!(Bomb(armed).op(dev))?;
    Ok(2)
}

#[test]
fn drop_that_panics_at_a_suspension_leaves_the_state_idle() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = BombDeadLocalState::default();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = bomb_dead_local(&mut st, &dev, true);
        }));
        assert!(r.is_err(), "{s:?}");
        assert!(st.is_idle(), "{s:?}: {st:?}");
        // The next call starts over.
        assert_eq!(
            run(&dev, || bomb_dead_local(&mut st, &dev, false)),
            Ok(1),
            "{s:?}"
        );
        take_log();
        let dev = Dev::new(s);
        let mut st = BombTemporaryState::default();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = bomb_temporary(&mut st, &dev, true);
        }));
        assert!(r.is_err(), "{s:?}");
        assert!(st.is_idle(), "{s:?}: {st:?}");
        assert_eq!(run(&dev, || bomb_temporary(&mut st, &dev, false)), Ok(2), "{s:?}");
    }
}

// ---------------------------------------------------------------------------
// attacker8 #5: a `mut` by-value parameter that is not `Copy`, mutated
// around a suspending loop, compiles (it was rustc's E0382 at the
// attribute: the parameter was moved inside the dispatch loop) and is a
// local initialized from the first call's argument; one moved in a
// `return` inside such a loop, too.

#[io_state_machine(state = st)]
fn grow(st: &mut GrowState, dev: &Dev, mut v: Vec<u32>) -> Res<usize> {
    let mut i: u32 = 0;
    while i < 3 {
        v.push(i);
        yield_io!(dev.op())?;
        i += 1;
    }
    log(format!("{v:?}"));
    Ok(v.len())
}

fn consume(v: Vec<u32>) -> usize {
    v.len()
}

#[io_state_machine(state = st)]
fn consume_in_loop(st: &mut ConsumeInLoopState, dev: &Dev, v: Vec<u32>) -> Res<usize> {
    let mut i: u32 = 0;
    loop {
        yield_io!(dev.op())?;
        i += 1;
        if i == 3 {
            return Ok(consume(v) + i as usize);
        }
    }
}

// Shadowed in a branch of the start block (difftest seed 0x5eed2026,
// program 141): the start block still names the parameter's local.
#[io_state_machine(state = st)]
fn grow_shadowed(st: &mut GrowShadowedState, dev: &Dev, k: bool, mut v: Vec<u32>) -> Res<usize> {
    v.push(1);
    if k {
        let v: u32 = call_io!(probe(3))?;
        log(format!("inner {v}"));
    }
    yield_io!(dev.op())?;
    v.push(2);
    Ok(v.len())
}

#[test]
fn mut_parameter_not_copy_mutated_around_a_suspending_loop() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = GrowShadowedState::default();
        assert_eq!(
            run(&dev, || grow_shadowed(&mut st, &dev, true, vec![0])),
            Ok(3),
            "{s:?}"
        );
        assert_eq!(take_log(), ["probe 3", "inner 3"], "{s:?}");
    }
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = GrowState::default();
        // Every call passes `[9]` again: only the first call's counts.
        assert_eq!(run(&dev, || grow(&mut st, &dev, vec![9])), Ok(4), "{s:?}");
        assert_eq!(take_log(), ["[9, 0, 1, 2]"], "{s:?}");
        let mut st = ConsumeInLoopState::default();
        assert_eq!(
            run(&dev, || consume_in_loop(&mut st, &dev, vec![1, 2])),
            Ok(5),
            "{s:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// 2 (ready mode). With every completion ready nothing drops earlier than in
//    the plain function: a value read only by reference and dead after a
//    branch, a block holding a suspension or a loop's body is carried,
//    dead, through the dispatch's transitions (never stored: the state does
//    not grow) and dropped at the end of its scope. On schedules that
//    really suspend it may drop at the suspension (rule 8, crate docs); it
//    is never dropped later than in the plain function, nor twice.

/// The log of the plain function `plain`, then of the machine under every
/// schedule: exactly the same with every completion ready; elsewhere the
/// same but for where drops stand, each drop no later than in the plain
/// function.
fn same_drops_when_ready<T: PartialEq + std::fmt::Debug + Clone>(
    name: &str,
    plain: impl Fn() -> T,
    mut machine: impl FnMut(&Dev) -> Result<T, CompletionError>,
) {
    let want_v = plain();
    let want = take_log();
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let got_v = machine(&dev);
        let got = take_log();
        assert_eq!(got_v, Ok(want_v.clone()), "{name} {s:?}");
        if matches!(s, Schedule::Ready) {
            assert_eq!(got, want, "{name}: ready-mode drop order");
            continue;
        }
        let strip =
            |l: &[String]| -> Vec<String> { l.iter().filter(|e| !e.starts_with("drop")).cloned().collect() };
        assert_eq!(strip(&got), strip(&want), "{name} {s:?}");
        for d in want.iter().filter(|e| e.starts_with("drop")) {
            let before = |l: &[String]| l.iter().position(|e| e == d).map(|i| strip(&l[..i]).len());
            assert!(
                before(&got) <= before(&want),
                "{name} {s:?}: {d} later than in the plain function: {got:?}"
            );
            assert_eq!(got.iter().filter(|e| *e == d).count(), 1, "{name} {s:?}: {got:?}");
        }
    }
}

#[io_state_machine(state = st)]
fn dead_after_branch(st: &mut DeadAfterBranchState, dev: &Dev, c: bool) -> Res<u32> {
    let g = pin(1);
    if c {
        log(format!("read {:?}", &g));
    }
    {
        let h = pin(3);
        log(format!("read {h:?}"));
        yield_io!(dev.op())?;
        log("end of inner block");
    }
    log("after inner block");
    Ok(2)
}

fn dead_after_branch_plain(c: bool) -> u32 {
    let g = pin(1);
    if c {
        log(format!("read {:?}", &g));
    }
    {
        let h = pin(3);
        log(format!("read {h:?}"));
        log("end of inner block");
    }
    log("after inner block");
    2
}

#[test]
fn ready_mode_drops_a_value_dead_after_a_branch_at_scope_end() {
    for c in [false, true] {
        same_drops_when_ready(
            &format!("c={c}"),
            || dead_after_branch_plain(c),
            |dev| {
                let mut st = DeadAfterBranchState::default();
                run(dev, || dead_after_branch(&mut st, dev, c))
            },
        );
    }
}

// Attack round 11, g4: a value overwritten after a suspension point. The
// fast path ran the continuation in place and declared the binding again
// there, so the old value lived on beside the new one to the end of the arm
// (dropped later than in Rust: three values alive at once).
#[io_state_machine(state = st)]
fn reassigned_after_a_suspension(st: &mut ReassignedAfterASuspensionState, dev: &Dev) -> Res<u32> {
    let mut g: Guard = pin(1);
    log(format!("read {g:?}"));
    yield_io!(dev.op())?;
    g = pin(2);
    log(format!("read {g:?}"));
    yield_io!(dev.op())?;
    g = pin(3);
    log(format!("read {g:?}"));
    Ok(g.0)
}

fn reassigned_after_a_suspension_plain() -> u32 {
    let mut g: Guard = pin(1);
    log(format!("read {g:?}"));
    g = pin(2);
    log(format!("read {g:?}"));
    g = pin(3);
    log(format!("read {g:?}"));
    g.0
}

#[test]
fn an_overwritten_value_drops_at_the_assignment_not_at_the_end_of_the_step() {
    same_drops_when_ready("reassigned", reassigned_after_a_suspension_plain, |dev| {
        let mut st = ReassignedAfterASuspensionState::default();
        run(dev, || reassigned_after_a_suspension(&mut st, dev))
    });
}

// Attack round 11, d4: a guard never read, overwritten in a loop that holds
// a suspension point. Its overwrite counted as a read, so it was not held:
// each iteration declared it again and the last value dropped at the loop's
// exit, before the code after the loop, in every mode.
#[io_state_machine(state = st)]
fn guard_overwritten_in_a_loop(st: &mut GuardOverwrittenInALoopState, dev: &Dev) -> Res<u32> {
    let mut _g: Guard = pin(100);
    let mut i: u32 = 0;
    while i < 3 {
        yield_io!(dev.op())?;
        _g = pin(i);
        i += 1;
    }
    log("after the loop");
    Ok(i)
}

fn guard_overwritten_in_a_loop_plain() -> u32 {
    let mut _g: Guard = pin(100);
    let mut i: u32 = 0;
    while i < 3 {
        _g = pin(i);
        i += 1;
    }
    log("after the loop");
    i
}

#[test]
fn a_guard_only_ever_overwritten_lives_to_its_scope_end_on_every_schedule() {
    let want_v = guard_overwritten_in_a_loop_plain();
    let want = take_log();
    assert_eq!(want.last().map(String::as_str), Some("drop 2"), "{want:?}");
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = GuardOverwrittenInALoopState::default();
        assert_eq!(
            run(&dev, || guard_overwritten_in_a_loop(&mut st, &dev)),
            Ok(want_v),
            "{s:?}"
        );
        assert_eq!(take_log(), want, "{s:?}");
    }
}

// Attack round 11, d3/d20/e20c: a guard declared without a value and
// given one later, on some paths. Rust keeps it to the end of its scope
// once assigned; it was not stored, so a suspension that really suspended
// dropped it there. It is now an `Option` the state holds.
#[io_state_machine(state = st)]
fn late_guard(st: &mut LateGuardState, dev: &Dev, early: bool, late: bool) -> Res<u32> {
    let _g: Guard;
    if early {
        _g = pin(1);
    }
    yield_io!(dev.op())?;
    let _h: Guard;
    if late {
        _h = pin(2);
        log("assigned");
    }
    yield_io!(dev.op())?;
    log("end");
    Ok(0)
}

fn late_guard_plain(early: bool, late: bool) -> u32 {
    let _g: Guard;
    if early {
        _g = pin(1);
    }
    let _h: Guard;
    if late {
        _h = pin(2);
        log("assigned");
    }
    log("end");
    0
}

#[test]
fn a_guard_assigned_after_its_let_lives_to_its_scope_end_on_every_schedule() {
    for (early, late) in [(true, true), (true, false), (false, true), (false, false)] {
        let want_v = late_guard_plain(early, late);
        let want = take_log();
        for s in SCHEDULES {
            let dev = Dev::new(s);
            let mut st = LateGuardState::default();
            assert_eq!(
                run(&dev, || late_guard(&mut st, &dev, early, late)),
                Ok(want_v),
                "{s:?}"
            );
            assert_eq!(take_log(), want, "{s:?} early={early} late={late}");
        }
    }
}

#[io_state_machine(state = st)]
fn dead_before_block(st: &mut DeadBeforeBlockState, dev: &Dev, c: bool) -> Res<u32> {
    let a = pin(1);
    let b = pin(2);
    log(format!("read {a:?} {:?}", &b));
    if c {
        let h: Guard = pin(3);
        yield_io!(dev.op())?;
        log(format!("then {:?}", &h));
    } else {
        yield_io!(dev.op())?;
        log("else");
    }
    log("after if");
    {
        let k: Guard = pin(4);
        yield_io!(dev.op())?;
        log(format!("{:?}", &k));
    }
    log("end");
    Ok(2)
}

fn dead_before_block_plain(c: bool) -> u32 {
    let a = pin(1);
    let b = pin(2);
    log(format!("read {a:?} {:?}", &b));
    if c {
        let h = pin(3);
        log(format!("then {:?}", &h));
    } else {
        log("else");
    }
    log("after if");
    {
        let k = pin(4);
        log(format!("{:?}", &k));
    }
    log("end");
    2
}

#[test]
fn ready_mode_drops_values_dead_before_inner_blocks_with_suspensions_at_scope_end() {
    for c in [false, true] {
        same_drops_when_ready(
            &format!("c={c}"),
            || dead_before_block_plain(c),
            |dev| {
                let mut st = DeadBeforeBlockState::default();
                run(dev, || dead_before_block(&mut st, dev, c))
            },
        );
    }
}

#[io_state_machine(state = st)]
fn dead_in_loop_body(st: &mut DeadInLoopBodyState, dev: &Dev, n: u32) -> Res<u32> {
    let outer = pin(100);
    log(format!("{:?}", &outer));
    let mut i: u32 = 0;
    while i < n {
        let g = pin(i);
        log(format!("{g:?}"));
        {
            let h: Guard = pin(10 + i);
            yield_io!(dev.op())?;
            log(format!("{:?}", &h));
        }
        log("after block");
        i += 1;
        if i == 2 {
            log("break");
            break;
        }
    }
    log("after loop");
    Ok(i)
}

fn dead_in_loop_body_plain(n: u32) -> u32 {
    let outer = pin(100);
    log(format!("{:?}", &outer));
    let mut i: u32 = 0;
    while i < n {
        let g = pin(i);
        log(format!("{g:?}"));
        {
            let h = pin(10 + i);
            log(format!("{:?}", &h));
        }
        log("after block");
        i += 1;
        if i == 2 {
            log("break");
            break;
        }
    }
    log("after loop");
    i
}

#[test]
fn ready_mode_drops_a_value_dead_in_a_loop_body_at_the_end_of_each_iteration() {
    for n in [0, 1, 3] {
        same_drops_when_ready(
            &format!("n={n}"),
            || dead_in_loop_body_plain(n),
            |dev| {
                let mut st = DeadInLoopBodyState::default();
                run(dev, || dead_in_loop_body(&mut st, dev, n))
            },
        );
    }
}

fn fails(c: bool) -> Result<u32, CompletionError> {
    if c { Err(CompletionError::Aborted) } else { Ok(1) }
}

#[io_state_machine(state = st)]
fn dead_on_early_exit(st: &mut DeadOnEarlyExitState, dev: &Dev, ret: bool, err: bool) -> Res<u32> {
    let g = pin(1);
    log(format!("{:?}", &g));
    {
        let h: Guard = pin(2);
        yield_io!(dev.op())?;
        log(format!("{:?}", &h));
    }
    let k = pin(3);
    if ret {
        log("return");
        return Ok(7);
    }
    let v = fails(err)?;
    log(format!("{k:?} {v}"));
    Ok(v)
}

fn dead_on_early_exit_plain(ret: bool, err: bool) -> Result<u32, CompletionError> {
    let g = pin(1);
    log(format!("{:?}", &g));
    {
        let h = pin(2);
        log(format!("{:?}", &h));
    }
    let k = pin(3);
    if ret {
        log("return");
        return Ok(7);
    }
    let v = fails(err)?;
    log(format!("{k:?} {v}"));
    Ok(v)
}

#[test]
fn ready_mode_drops_a_dead_value_on_an_early_return_or_question_mark_in_rust_order() {
    for (ret, err) in [(false, false), (true, false), (false, true)] {
        let want_v = dead_on_early_exit_plain(ret, err);
        let want = take_log();
        for s in SCHEDULES {
            let dev = Dev::new(s);
            let mut st = DeadOnEarlyExitState::default();
            let got_v = run(&dev, || dead_on_early_exit(&mut st, &dev, ret, err));
            let got = take_log();
            assert_eq!(got_v, want_v, "{s:?}");
            if matches!(s, Schedule::Ready) {
                assert_eq!(got, want, "ret={ret} err={err}: ready-mode drop order");
            }
        }
    }
}

#[io_state_machine(state = st)]
fn dead_and_shadowed(st: &mut DeadAndShadowedState, dev: &Dev, c: bool) -> Res<u32> {
    let g = pin(1);
    log(format!("{:?}", &g));
    let g: Guard = pin(2);
    if c {
        let h: Guard = pin(3);
        yield_io!(dev.op())?;
        log(format!("{:?}", &h));
    }
    log("after if");
    {
        let k: Guard = pin(4);
        yield_io!(dev.op())?;
        log(format!("{:?}", &k));
    }
    log(format!("end {:?}", &g));
    Ok(2)
}

fn dead_and_shadowed_plain(c: bool) -> u32 {
    let g = pin(1);
    log(format!("{:?}", &g));
    let g: Guard = pin(2);
    if c {
        let h: Guard = pin(3);
        log(format!("{:?}", &h));
    }
    log("after if");
    {
        let k: Guard = pin(4);
        log(format!("{:?}", &k));
    }
    log(format!("end {:?}", &g));
    2
}

#[test]
fn ready_mode_drops_a_shadowed_dead_value_at_scope_end() {
    for c in [false, true] {
        same_drops_when_ready(
            &format!("c={c}"),
            || dead_and_shadowed_plain(c),
            |dev| {
                let mut st = DeadAndShadowedState::default();
                run(dev, || dead_and_shadowed(&mut st, dev, c))
            },
        );
    }
}

// Read by reference in the `else` block of another binding's `let .. else`
// (difftest seed 0x13c0de, programs 702 and 1958): that block diverges, so
// the read cannot be kept in the new binding; the value is still carried.
#[io_state_machine(state = st)]
fn read_in_let_else(st: &mut ReadInLetElseState, dev: &Dev, o: Option<u32>) -> Res<u32> {
    let g: Guard = pin(1);
    let Some(v) = o else {
        log(format!("else {:?}", &g));
        return Ok(0);
    };
    let Ok(_) = yield_io!(dev.op()) else {
        log(format!("failed {:?}", &g));
        return Ok(1);
    };
    {
        let h: Guard = pin(3);
        yield_io!(dev.op())?;
        log(format!("read {:?}", &h));
    }
    log("after inner block");
    Ok(v)
}

fn read_in_let_else_plain(o: Option<u32>) -> u32 {
    let g = pin(1);
    let Some(v) = o else {
        log(format!("else {:?}", &g));
        return 0;
    };
    {
        let h = pin(3);
        log(format!("read {:?}", &h));
    }
    log("after inner block");
    v
}

#[test]
fn ready_mode_drops_a_value_read_in_a_let_else_block_at_scope_end() {
    for o in [None, Some(7)] {
        same_drops_when_ready(
            &format!("o={o:?}"),
            || read_in_let_else_plain(o),
            |dev| {
                let mut st = ReadInLetElseState::default();
                run(dev, || read_in_let_else(&mut st, dev, o))
            },
        );
    }
}

// Read by reference in kept code that declares a local of its own (a `let`
// inside an `if` block, difftest seed 0x13c0de, program 711): that local
// ends with the block, before any transition; the value is still carried.
#[io_state_machine(state = st)]
fn read_beside_nested_let(st: &mut ReadBesideNestedLetState, dev: &Dev, c: bool) -> Res<u32> {
    let g: Guard = pin(1);
    {
        let h: Guard = pin(3);
        yield_io!(dev.op())?;
        if c {
            log(format!("read {:?} {:?}", &g, &h));
            let _ = pin(9);
            let k = 4;
            log(format!("k {k}"));
        }
    }
    log("after inner block");
    Ok(2)
}

fn read_beside_nested_let_plain(c: bool) -> u32 {
    let g = pin(1);
    {
        let h = pin(3);
        if c {
            log(format!("read {:?} {:?}", &g, &h));
            let _ = pin(9);
            let k = 4;
            log(format!("k {k}"));
        }
    }
    log("after inner block");
    2
}

#[test]
fn ready_mode_drops_a_value_read_beside_a_nested_let_at_scope_end() {
    for c in [false, true] {
        same_drops_when_ready(
            &format!("c={c}"),
            || read_beside_nested_let_plain(c),
            |dev| {
                let mut st = ReadBesideNestedLetState::default();
                run(dev, || read_beside_nested_let(&mut st, dev, c))
            },
        );
    }
}

// A guard kept only for its `Drop`, then a value read after the suspension,
// both in an inner block (a fresh-context attack, round 9, d15): Rust drops
// the later one first at the block's end. The guard was dropped by an
// explicit `drop` at the `}`, before the value, on every schedule.
#[io_state_machine(state = st)]
fn guard_then_value_in_block(st: &mut GuardThenValueInBlockState, dev: &Dev, by_value: bool) -> Res<u32> {
    {
        let _k: Guard = pin(1);
        let r: Guard = pin(2);
        yield_io!(dev.op())?;
        if by_value {
            consume_guard(r);
        } else {
            log(format!("read {:?}", &r));
        }
        log("block end");
    }
    log("after block");
    Ok(1)
}

fn consume_guard(g: Guard) {
    log(format!("consume {g:?}"));
}

fn guard_then_value_in_block_plain(by_value: bool) -> u32 {
    {
        let _k = pin(1);
        let r = pin(2);
        if by_value {
            consume_guard(r);
        } else {
            log(format!("read {:?}", &r));
        }
        log("block end");
    }
    log("after block");
    1
}

#[test]
fn a_guard_in_an_inner_block_drops_after_the_blocks_later_locals() {
    for by_value in [false, true] {
        let want_v = guard_then_value_in_block_plain(by_value);
        let want = take_log();
        for s in SCHEDULES {
            let dev = Dev::new(s);
            let mut st = GuardThenValueInBlockState::default();
            let got_v = run(&dev, || guard_then_value_in_block(&mut st, &dev, by_value));
            // Both are stored across the suspension (the guard is held, the
            // value read after it), so the order is Rust's on every schedule.
            assert_eq!(got_v, Ok(want_v), "by_value={by_value} {s:?}");
            assert_eq!(take_log(), want, "by_value={by_value} {s:?}: drop order");
        }
    }
}

// The rewrite the refusal of `(mut a, b): (u32, u32)` suggests (ui
// mut-binding-in-a-parameter-pattern): destructured first thing in the body,
// `a` is a local the machine keeps, whatever later calls pass.
#[io_state_machine(state = st)]
fn pattern_param_destructured(
    st: &mut PatternParamDestructuredState,
    dev: &Dev,
    arg: (u32, u32),
) -> Res<u32> {
    let (mut a, b) = arg;
    a += b;
    yield_io!(dev.op())?;
    Ok(a)
}

#[test]
fn a_parameter_pattern_destructured_in_the_body_keeps_its_mut_binding() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = PatternParamDestructuredState::default();
        let mut calls = 0u32;
        // Each call passes a different argument: only the first one's counts.
        let got = run(&dev, || {
            calls += 1;
            pattern_param_destructured(&mut st, &dev, (calls, 2 * calls))
        });
        assert_eq!(got, Ok(3), "{s:?}");
    }
}

// A typed reference never read again, in scope across a suspension point
// (hints2's finding): its drop does nothing, so it is not held for it, and
// not refused as a stored borrow.
#[io_state_machine(state = st)]
fn unread_reference(st: &mut UnreadReferenceState, dev: &Dev, v: &[u32]) -> Res<u32> {
    let _first: &u32 = &v[0];
    let n: u32 = 3;
    yield_io!(dev.op())?;
    Ok(n)
}

#[test]
fn an_unread_reference_in_scope_across_a_suspension_is_not_stored() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = UnreadReferenceState::default();
        assert_eq!(
            run(&dev, || unread_reference(&mut st, &dev, &[7])),
            Ok(3),
            "{s:?}"
        );
    }
    // Only `n` and the completion are kept: the same bytes as without it.
    assert_eq!(
        UnreadReferenceState::size_report()[0].1,
        WithoutTheReferenceState::size_report()[0].1
    );
}

#[io_state_machine(state = st)]
fn without_the_reference(st: &mut WithoutTheReferenceState, dev: &Dev) -> Res<u32> {
    let n: u32 = 3;
    yield_io!(dev.op())?;
    Ok(n)
}

// The same `use` in two blocks that hold suspension points (valid Rust):
// both move to the top of the function, which keeps one (E0252 before,
// round 10 of the fresh-context attack). A path ending in a block item's
// name (`inner::K`) does not name it: not refused.
mod inner {
    pub const K: u32 = 7;
}

#[io_state_machine(state = st)]
fn same_use_in_two_blocks(st: &mut SameUseInTwoBlocksState, dev: &Dev) -> Res<String> {
    let mut out: String = String::new();
    {
        use std::fmt::Write;
        yield_io!(dev.op())?;
        write!(out, "a").unwrap();
    }
    {
        use std::fmt::Write;
        const K: u32 = 1;
        yield_io!(dev.op())?;
        write!(out, "b{}", K + inner::K).unwrap();
    }
    Ok(out)
}

// Attack round 11, f2/f4: a `let x;` given its value in both branches of an
// `if` after a suspension point. Nothing can have assigned it at the
// suspension, yet it was stored there (E0425 where its declaration was left
// out; untyped, it was asked for a type).
#[io_state_machine(state = st)]
fn assigned_in_branches(st: &mut AssignedInBranchesState, dev: &Dev, flag: bool) -> Res<u32> {
    let x: u32;
    let y;
    yield_io!(dev.op())?;
    if flag {
        x = 1;
        y = 10;
    } else {
        yield_io!(dev.op())?;
        x = 2;
        y = 20;
    }
    Ok(x + y)
}

#[test]
fn a_let_without_a_value_assigned_in_both_branches_after_a_suspension_compiles() {
    for s in SCHEDULES {
        for flag in [true, false] {
            let dev = Dev::new(s);
            let mut st = AssignedInBranchesState::default();
            let want = if flag { 11 } else { 22 };
            assert_eq!(
                run(&dev, || assigned_in_branches(&mut st, &dev, flag)),
                Ok(want),
                "{s:?} {flag}"
            );
        }
    }
}

mod pages {
    pub struct Page(pub u32);
}

// Attack round 11, u1/u2/u4: a stored local whose type is named through a
// `use` of the body (at its top, in a block, renamed). The state enum lives
// outside the function, where the `use` is not in scope: E0425 there. The
// macro now spells the type out with the `use`'s path.
#[io_state_machine(state = st)]
fn types_named_through_a_body_use(st: &mut TypesNamedThroughABodyUseState, dev: &Dev) -> Res<u32> {
    use std::collections::BTreeMap;

    use self::pages::Page as Pg;
    let mut m: BTreeMap<u32, u32> = BTreeMap::new();
    m.insert(1, 2);
    let p: Pg = Pg(3);
    let n: u32 = {
        use std::collections::BTreeSet as Set;
        let mut s: Set<u32> = Set::new();
        s.insert(4);
        yield_io!(dev.op())?;
        s.len() as u32
    };
    yield_io!(dev.op())?;
    Ok(m[&1] * 100 + p.0 * 10 + n)
}

#[test]
fn a_stored_type_named_through_a_use_of_the_body_compiles() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = TypesNamedThroughABodyUseState::default();
        assert_eq!(
            run(&dev, || types_named_through_a_body_use(&mut st, &dev)),
            Ok(231),
            "{s:?}"
        );
    }
}

// Attack round 10, q2: a block's `fn cnt` beside a local `cnt` declared
// after the block. The later `cnt` means the local wherever the function
// moves, so the move is harmless; it was refused.
#[io_state_machine(state = st)]
fn block_fn_beside_a_later_local(st: &mut BlockFnBesideALaterLocalState, dev: &Dev) -> Res<u32> {
    let a: u32 = {
        fn cnt() -> u32 {
            2
        }
        yield_io!(dev.op())?;
        cnt()
    };
    let cnt: u32 = 30;
    Ok(a + cnt)
}

#[test]
fn a_block_fn_and_a_later_local_of_its_name_compile() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = BlockFnBesideALaterLocalState::default();
        assert_eq!(
            run(&dev, || block_fn_beside_a_later_local(&mut st, &dev)),
            Ok(32),
            "{s:?}"
        );
    }
}

#[test]
fn the_same_use_in_two_blocks_and_a_path_ending_in_a_block_items_name_compile() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = SameUseInTwoBlocksState::default();
        assert_eq!(
            run(&dev, || same_use_in_two_blocks(&mut st, &dev)),
            Ok("ab8".to_owned()),
            "{s:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Attack round 14, F4: `r#x` is the identifier `x`. The transform compared
// spellings, so a block's `let r#x` did not hide the outer `x` after a resume,
// and `let r#x ..; yield; x` did not compile.

#[io_state_machine(state = st)]
fn raw_shadow(st: &mut RawShadowState, dev: &Dev, n: u32) -> Res<u32> {
    let x: u32 = n + 1;
    yield_io!(dev.op())?;
    let r: u32 = {
        let r#x: u32 = x * 100;
        yield_io!(dev.op())?;
        x
    };
    Ok(r + r#x)
}

#[io_state_machine(state = st)]
fn raw_then_plain(st: &mut RawThenPlainState, dev: &Dev, n: u32) -> Res<u32> {
    let r#x: u32 = n + 1;
    let y: u32 = 7;
    yield_io!(dev.op())?;
    Ok(x * 10 + r#y)
}

#[test]
fn a_raw_identifier_is_the_same_name_as_its_plain_spelling() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = RawShadowState::default();
        // The plain function: x = 2, the block's x = 200, its tail reads it.
        assert_eq!(run(&dev, || raw_shadow(&mut st, &dev, 1)), Ok(202), "{s:?}");
        let mut st = RawThenPlainState::default();
        assert_eq!(run(&dev, || raw_then_plain(&mut st, &dev, 1)), Ok(27), "{s:?}");
    }
}

// ---------------------------------------------------------------------------
// Attack round 14, F3: a capitalised binding (`let N`, an arm `N =>`, a guard
// `_G`) was taken for a constant pattern by convention, so it was not stored
// and a resume read the parameter of that name. An irrefutable pattern
// (a `let`, a parameter) binding the name settles that it is no constant.

#[allow(non_snake_case)]
#[io_state_machine(state = st)]
fn upper_let(st: &mut UpperLetState, dev: &Dev, N: u32) -> Res<u32> {
    let r: u32 = {
        let N: u32 = N + 10;
        yield_io!(dev.op())?;
        N
    };
    Ok(r + N)
}

#[allow(non_snake_case)]
#[io_state_machine(state = st)]
fn upper_arm(st: &mut UpperArmState, dev: &Dev, N: u32) -> Res<u32> {
    match N + 10 {
        N => {
            let N: u32 = N;
            yield_io!(dev.op())?;
            Ok(N)
        }
    }
}

#[allow(non_snake_case)]
#[io_state_machine(state = st)]
fn upper_local(st: &mut UpperLocalState, dev: &Dev, n: u32) -> Res<u32> {
    let M: u32 = n + 1;
    yield_io!(dev.op())?;
    Ok(M)
}

#[allow(non_snake_case)]
#[io_state_machine(state = st)]
fn upper_guard(st: &mut UpperGuardState, dev: &Dev, page: u32) -> Res<u32> {
    let _G: Guard = pin(page);
    yield_io!(dev.op())?;
    log("after io");
    Ok(page)
}

#[test]
fn a_capitalised_binding_is_stored_like_any_other() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = UpperLetState::default();
        assert_eq!(run(&dev, || upper_let(&mut st, &dev, 1)), Ok(12), "{s:?}");
        let mut st = UpperArmState::default();
        assert_eq!(run(&dev, || upper_arm(&mut st, &dev, 1)), Ok(11), "{s:?}");
        let mut st = UpperLocalState::default();
        assert_eq!(run(&dev, || upper_local(&mut st, &dev, 1)), Ok(2), "{s:?}");
        let mut st = UpperGuardState::default();
        assert_eq!(run(&dev, || upper_guard(&mut st, &dev, 4)), Ok(4), "{s:?}");
        assert_eq!(take_log(), ["pin 4", "after io", "drop 4"], "{s:?}");
    }
}

// ---------------------------------------------------------------------------
// Attack round 15, F4 and F5: a suspension point's variant is named after
// what it waits on; `_0`, `_2fast()` and `self_` would make `0`, `2fast`
// and `Self`, which are no variant names (an internal error; rustc's parse
// error in the generated enum). They get the default names.

fn _2fast(dev: &Dev) -> ratchet::Completion {
    dev.op()
}

#[io_state_machine(state = st)]
fn odd_names(st: &mut OddNamesState, dev: &Dev) -> Res<u32> {
    let _0 = dev.op();
    yield_io!(_0)?;
    yield_io!(_2fast(dev))?;
    let self_ = dev.op();
    yield_io!(self_)?;
    Ok(3)
}

#[test]
fn suspension_points_named_after_odd_names_get_default_names() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = OddNamesState::default();
        assert_eq!(run(&dev, || odd_names(&mut st, &dev)), Ok(3), "{s:?}");
    }
    let names: Vec<&str> = OddNamesState::size_report().iter().map(|r| r.0).collect();
    assert_eq!(names, ["Wait", "Wait2", "Wait3"]);
}

// ---------------------------------------------------------------------------
// Attack round 15, F1 and F2: round 14's F3 fix was undone by any item of
// the binding's name anywhere in the body (a nested fn's `const`, a braced
// `struct`, a sibling block's `static`) or any glob `use`: the `let` was
// taken for a constant pattern again. A `let` without `else` binds, whatever
// else the body declares.

#[allow(non_snake_case, clippy::items_after_statements)]
#[io_state_machine(state = st)]
fn upper_beside_items(st: &mut UpperBesideItemsState, dev: &Dev, N: u32) -> Res<u32> {
    fn helper() -> u32 {
        const N: u32 = 1;
        N
    }
    #[allow(dead_code)]
    struct K {
        a: u32,
    }
    let K: u32 = N + 10;
    let N: u32 = N + 100;
    yield_io!(dev.op())?;
    let s: u32 = {
        static K: u32 = 3;
        K
    };
    Ok(N + K + helper() + s)
}

#[allow(non_snake_case)]
#[io_state_machine(state = st)]
fn upper_beside_a_glob(st: &mut UpperBesideAGlobState, dev: &Dev, N: u32, o: std::cmp::Ordering) -> Res<u32> {
    #[allow(unused_imports)]
    use std::cmp::Ordering::*;
    let _G: Guard = pin(N);
    let N: u32 = N + 10;
    let r: u32 = match o {
        Less => 1,
        Equal => 2,
        Greater => 3,
    };
    yield_io!(dev.op())?;
    log("after io");
    Ok(N * 10 + r)
}

#[test]
fn a_capitalised_let_binds_beside_items_and_globs_of_its_name() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = UpperBesideItemsState::default();
        // N = 101, K = 11, helper() = 1, s = 3.
        assert_eq!(
            run(&dev, || upper_beside_items(&mut st, &dev, 1)),
            Ok(116),
            "{s:?}"
        );
        let mut st = UpperBesideAGlobState::default();
        let got = run(&dev, || {
            upper_beside_a_glob(&mut st, &dev, 1, std::cmp::Ordering::Greater)
        });
        assert_eq!(got, Ok(113), "{s:?}");
        assert_eq!(take_log(), ["pin 1", "after io", "drop 1"], "{s:?}");
    }
}

// ---------------------------------------------------------------------------
// Difftest seed 0x13c0de, programs 2896, 5387 and 9212: a local set aside
// under a hidden name (a later block hides it and suspends) was read as
// `S { v: c }` inside a `call_io!` after that block; the renaming of macro
// tokens took the `c` after a single `:` for a path segment and left it,
// and the machine did not compile (E0425).

#[io_state_machine(state = st)]
fn give_back(st: &mut GiveBackState, dev: &Dev, v: i64) -> Res<i64> {
    yield_io!(dev.op())?;
    Ok(v)
}

struct Field {
    v: i64,
}

#[io_state_machine(state = st)]
fn field_after_a_hiding_block(st: &mut FieldAfterAHidingBlockState, dev: &Dev, k: bool) -> Res<i64> {
    let mut c: i64 = 1;
    c += 1;
    if k {
        let c: Result<i32, CompletionError> = yield_io!(dev.op());
        yield_io!(dev.op())?;
        log(format!("inner {}", c.is_ok()));
    } else {
        let mut gs: GiveBackState = GiveBackState::default();
        let got: i64 = call_io!(give_back(&mut gs, dev, Field { v: c }.v))?;
        log(format!("got {got}"));
    }
    Ok(c)
}

#[test]
fn a_struct_literal_in_a_call_reads_a_local_set_aside_under_its_hidden_name() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = FieldAfterAHidingBlockState::default();
        assert_eq!(
            run(&dev, || field_after_a_hiding_block(&mut st, &dev, false)),
            Ok(2),
            "{s:?}"
        );
        assert_eq!(take_log(), ["got 2"], "{s:?}");
        let mut st = FieldAfterAHidingBlockState::default();
        assert_eq!(
            run(&dev, || field_after_a_hiding_block(&mut st, &dev, true)),
            Ok(2),
            "{s:?}"
        );
        assert_eq!(take_log(), ["inner true"], "{s:?}");
    }
}

// The never-panic fuzzer: a machine named `_0` made the state enum `0State`,
// which is no identifier (the macro panicked). Its state is `State0`.
#[io_state_machine(state = st)]
fn _0(st: &mut State0, dev: &Dev) -> Res<u32> {
    yield_io!(dev.op())?;
    Ok(7)
}

#[test]
fn a_machine_whose_name_starts_with_a_digit_after_underscores_has_a_state() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = State0::default();
        assert_eq!(run(&dev, || _0(&mut st, &dev)), Ok(7), "{s:?}");
    }
}

// A `macro_rules!` that writes no jump does not make a same-named macro of
// the body that writes `continue` jump-free: that `continue` must still be
// caught where the loop around it is taken apart (it restarted the dispatch
// arm, with the state the arm started from, forever). The other definition
// is a nested `fn`'s own.
#[io_state_machine(state = st)]
fn macro_named_like_a_nested_fns(
    st: &mut MacroNamedLikeANestedFnsState,
    dev: &Dev,
    trace: &mut Vec<u32>,
) -> Res<u32> {
    macro_rules! again {
        () => {
            continue
        };
    }
    fn step(x: u32) -> u32 {
        macro_rules! again {
            () => {};
        }
        again!();
        x + 1
    }
    let mut i: u32 = 0;
    loop {
        yield_io!(dev.op())?;
        i = step(i);
        trace.push(i);
        // Bounds the run where the `continue` goes astray.
        if trace.len() > 20 {
            return Ok(0);
        }
        if i < 3 {
            again!();
        }
        if i >= 5 {
            break;
        }
    }
    Ok(i * 10)
}

/// The same body as a plain function.
fn macro_named_like_a_nested_fns_plain(trace: &mut Vec<u32>) -> u32 {
    macro_rules! again {
        () => {
            continue
        };
    }
    fn step(x: u32) -> u32 {
        macro_rules! again {
            () => {};
        }
        again!();
        x + 1
    }
    let mut i: u32 = 0;
    loop {
        i = step(i);
        trace.push(i);
        if trace.len() > 20 {
            return 0;
        }
        if i < 3 {
            again!();
        }
        if i >= 5 {
            break;
        }
    }
    i * 10
}

#[test]
fn a_nested_fns_macro_does_not_make_a_same_named_body_macro_jump_free() {
    let mut want = Vec::new();
    let r = macro_named_like_a_nested_fns_plain(&mut want);
    assert_eq!((r, &want[..]), (50, &[1, 2, 3, 4, 5][..]));
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = MacroNamedLikeANestedFnsState::default();
        let (got, trace, _) = drive(&dev, |t| macro_named_like_a_nested_fns(&mut st, &dev, t));
        assert_eq!((got, trace), (Ok(r), want.clone()), "{s:?}");
        assert!(st.is_idle(), "{s:?}");
    }
}

// A body macro that writes no jump itself but invokes one that does
// (`again!` -> `skip!` -> `continue`) is not jump-free either: its
// `continue` must be caught where the loop around it is taken apart.
#[io_state_machine(state = st)]
fn macro_calling_a_jumping_macro(
    st: &mut MacroCallingAJumpingMacroState,
    dev: &Dev,
    trace: &mut Vec<u32>,
) -> Res<u32> {
    macro_rules! skip {
        () => {
            continue
        };
    }
    macro_rules! again {
        () => {
            skip!()
        };
    }
    let mut i: u32 = 0;
    loop {
        yield_io!(dev.op())?;
        i += 1;
        trace.push(i);
        // Bounds the run where the `continue` goes astray.
        if trace.len() > 20 {
            return Ok(0);
        }
        if i < 3 {
            again!();
        }
        if i >= 5 {
            break;
        }
    }
    Ok(i * 10)
}

#[test]
fn a_body_macro_invoking_a_jumping_macro_is_not_jump_free() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = MacroCallingAJumpingMacroState::default();
        let (got, trace, _) = drive(&dev, |t| macro_calling_a_jumping_macro(&mut st, &dev, t));
        assert_eq!((got, trace), (Ok(50), vec![1, 2, 3, 4, 5]), "{s:?}");
        assert!(st.is_idle(), "{s:?}");
    }
}

// Attack round 18, F1: a `continue` that a macro writes inside a `let`'s
// initializer, in a loop taken apart, must reach the loop's head (it
// restarted the dispatch arm forever after a resume). One macro of the
// body, one of the file.
macro_rules! skip_none_outer {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => continue,
        }
    };
}

#[io_state_machine(state = st)]
fn let_from_a_jumping_macro(st: &mut LetFromAJumpingMacroState, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    macro_rules! skip_none {
        ($e:expr) => {
            match $e {
                Some(v) => v,
                None => continue,
            }
        };
    }
    let mut n: u32 = 0;
    for i in 0..6u32 {
        yield_io!(dev.op())?;
        trace.push(i);
        // Bounds the run where the `continue` goes astray.
        if trace.len() > 20 {
            return Ok(0);
        }
        let v: u32 = skip_none!(if i % 2 == 0 { Some(i + 1) } else { None });
        let w: u32 = skip_none_outer!(if i % 4 == 0 { Some(10) } else { None });
        // A `let`-`else`'s initializer too (attack round 19, F1).
        let Some(x): Option<u32> = skip_none_outer!(if i == 4 { None } else { Some(Some(1)) }) else {
            return Ok(99);
        };
        n += v + w + x;
    }
    Ok(n)
}

#[test]
fn a_continue_a_macro_writes_in_a_let_reaches_the_loop_head() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = LetFromAJumpingMacroState::default();
        let (got, trace, _) = drive(&dev, |t| let_from_a_jumping_macro(&mut st, &dev, t));
        // Even i pass the first macro; of those, 0 and 4 the second; 4
        // skips at the third, so only i = 0 adds: 1 + 10 + 1.
        assert_eq!((got, trace), (Ok(12), vec![0, 1, 2, 3, 4, 5]), "{s:?}");
        assert!(st.is_idle(), "{s:?}");
    }
}
