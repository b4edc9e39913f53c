//! Rule 8, "Drops", with every completion ready (issue 13 item 2): a machine
//! that never suspends drops every value exactly where the plain function
//! drops it, whatever the body does with the value: reads it through a
//! method or a field, moves it on one path, assigns it after its `let`,
//! reassigns it in a loop that suspends, keeps it across the join after a
//! branch that suspends or across a loop's head, or holds a temporary in
//! the scrutinee of a `match` whose scrutinee is a suspension point.
//!
//! Straight-line shapes pass three suspension points in a row: the
//! dispatch's fast path ran at most two continuations in one step.
//!
//! Each machine is compared with its plain twin (the same body, each
//! suspension point replaced by its ready result). Ready: the logs are
//! equal. With force-suspend (every suspension point really suspends): the
//! crate docs' rule — the same entries, every value dropped once, no drop
//! later than the plain function's, and none before the value's last use.
//!
//! Before the verbatim fast path (the body run in Rust's own structure from
//! `Idle`), each of these dropped a value early in ready mode, at the end
//! of a dispatch step.
#![allow(missing_docs, clippy::unnecessary_wraps, clippy::needless_late_init)]

use ratchet::{Completion, CompletionError, IOResult, MemoryIO, io_state_machine, yield_io};

mod support;
use support::{log, take_log};

type Res<T> = Result<IOResult<T>, CompletionError>;

/// A value whose drop is logged.
pub struct G(pub u32);

impl G {
    fn new(n: u32) -> G {
        log(format!("new {n}"));
        G(n)
    }
    fn touch(&self) {
        log(format!("touch {}", self.0));
    }
}

impl Drop for G {
    fn drop(&mut self) {
        log(format!("drop {}", self.0));
    }
}

fn eat(g: G) {
    log(format!("eat {}", g.0));
}

/// A ready completion, logged where it is made.
fn op(tag: &str) -> Completion {
    log(format!("op {tag}"));
    Completion::ready()
}

/// A ready completion made while `_t` (a temporary of the caller) lives.
fn op_with(_t: &G) -> Completion {
    op("with")
}

fn is_drop(e: &str) -> bool {
    e.starts_with("drop ")
}

/// The crate docs' rule where a machine really suspends: the same entries
/// apart from drops, every drop once, none later than in the plain
/// function (counted in entries that are not drops) and none before the
/// last entry naming the value.
fn within_rule(plain: &[String], machine: &[String]) {
    let fixed = |log: &[String]| -> Vec<String> { log.iter().filter(|e| !is_drop(e)).cloned().collect() };
    assert_eq!(fixed(plain), fixed(machine), "entries other than drops");
    let at = |log: &[String], d: &str| -> usize {
        let i = log
            .iter()
            .position(|e| e == d)
            .unwrap_or_else(|| panic!("{d} missing in {log:?}"));
        log[..i].iter().filter(|e| !is_drop(e)).count()
    };
    let mut drops_p: Vec<&String> = plain.iter().filter(|e| is_drop(e)).collect();
    let mut drops_m: Vec<&String> = machine.iter().filter(|e| is_drop(e)).collect();
    drops_p.sort();
    drops_m.sort();
    assert_eq!(drops_p, drops_m, "the values dropped, each once");
    for d in drops_p {
        let n = &d["drop ".len()..];
        let (p, m) = (at(plain, d), at(machine, d));
        assert!(
            m <= p,
            "{d} later than in the plain function: {machine:?} vs {plain:?}"
        );
        let fixed_m = fixed(machine);
        let last_use = fixed_m
            .iter()
            .rposition(|e| e.split(' ').nth(1) == Some(n))
            .map_or(0, |i| i + 1);
        assert!(m >= last_use, "{d} before its last use: {machine:?}");
    }
}

/// Runs the machine to the end ready and with force-suspend, comparing
/// each log with the plain twin's.
fn check<T: PartialEq + std::fmt::Debug>(
    plain: impl Fn() -> Result<T, CompletionError>,
    mut machine: impl FnMut() -> Res<T>,
) {
    let io = MemoryIO::new();
    take_log();
    let want = plain();
    let plain_log = take_log();
    let was = ratchet::set_force_suspend(false);
    let got = io.block(&mut machine);
    let ready_log = take_log();
    ratchet::set_force_suspend(true);
    let forced = io.block(&mut machine);
    let forced_log = take_log();
    ratchet::set_force_suspend(was);
    assert_eq!(want, got);
    assert_eq!(want, forced);
    if ratchet::testing::force_suspend() {
        // The `force-suspend` feature: no run is ready.
        within_rule(&plain_log, &ready_log);
    } else {
        assert_eq!(
            plain_log, ready_log,
            "every completion ready: the plain function's drops"
        );
    }
    within_rule(&plain_log, &forced_log);
}

// ---------------------------------------------------------------------------
// Read through a method: `g` is dead after `touch`, in scope to the end.

#[io_state_machine(state = st)]
fn by_method(st: &mut ByMethodState) -> Res<u32> {
    let g: G = G::new(1);
    g.touch();
    yield_io!(op("a"))?;
    yield_io!(op("b"))?;
    yield_io!(op("c"))?;
    let h: G = G::new(2);
    h.touch();
    Ok(0)
}

fn by_method_plain() -> Result<u32, CompletionError> {
    let g: G = G::new(1);
    g.touch();
    let _ = op("a");
    let _ = op("b");
    let _ = op("c");
    let h: G = G::new(2);
    h.touch();
    Ok(0)
}

#[test]
fn a_value_read_through_a_method_drops_at_the_end_of_its_scope() {
    let mut st = ByMethodState::default();
    check(by_method_plain, || by_method(&mut st));
}

// A field read by value (`g.0`): the value itself is not moved.

#[io_state_machine(state = st)]
fn by_field(st: &mut ByFieldState) -> Res<u32> {
    let g: G = G::new(1);
    let n: u32 = g.0;
    yield_io!(op("a"))?;
    yield_io!(op("b"))?;
    yield_io!(op("c"))?;
    let _h: G = G::new(2);
    log(format!("n is {n}"));
    Ok(n)
}

fn by_field_plain() -> Result<u32, CompletionError> {
    let g: G = G::new(1);
    let n: u32 = g.0;
    let _ = op("a");
    let _ = op("b");
    let _ = op("c");
    let _h: G = G::new(2);
    log(format!("n is {n}"));
    Ok(n)
}

#[test]
fn a_value_whose_field_is_read_drops_at_the_end_of_its_scope() {
    let mut st = ByFieldState::default();
    check(by_field_plain, || by_field(&mut st));
}

// Moved on one path: where it is not moved, it drops at the end.

#[io_state_machine(state = st)]
fn moved_on_one_path(st: &mut MovedOnOnePathState, c: bool) -> Res<u32> {
    let g: G = G::new(1);
    if c {
        eat(g);
    }
    yield_io!(op("a"))?;
    yield_io!(op("b"))?;
    yield_io!(op("c"))?;
    let _h: G = G::new(2);
    Ok(0)
}

fn moved_on_one_path_plain(c: bool) -> Result<u32, CompletionError> {
    let g: G = G::new(1);
    if c {
        eat(g);
    }
    let _ = op("a");
    let _ = op("b");
    let _ = op("c");
    let _h: G = G::new(2);
    Ok(0)
}

#[test]
fn a_value_moved_on_one_path_drops_at_the_end_on_the_other() {
    for c in [false, true] {
        let mut st = MovedOnOnePathState::default();
        check(|| moved_on_one_path_plain(c), || moved_on_one_path(&mut st, c));
    }
}

// Late initialization (`let _g: G; .. _g = ..;`), then a guard of the same
// name hiding it (lateguard A of the round-10 attack).

#[io_state_machine(state = st)]
fn late_then_shadowed(st: &mut LateThenShadowedState) -> Res<()> {
    let _g: G;
    _g = G::new(1);
    let _h: G = G::new(2);
    yield_io!(op("a"))?;
    let _g: G = G::new(3);
    yield_io!(op("b"))?;
    log("end");
    Ok(())
}

fn late_then_shadowed_plain() -> Result<(), CompletionError> {
    let _g: G;
    _g = G::new(1);
    let _h: G = G::new(2);
    let _ = op("a");
    let _g: G = G::new(3);
    let _ = op("b");
    log("end");
    Ok(())
}

#[test]
fn a_late_initialized_guard_hidden_by_another_drops_last() {
    let mut st = LateThenShadowedState::default();
    check(late_then_shadowed_plain, || late_then_shadowed(&mut st));
}

// A guard slot reassigned in a loop that suspends (lateguard B).

#[io_state_machine(state = st)]
fn reassigned_in_loop(st: &mut ReassignedInLoopState) -> Res<()> {
    let mut _slot: G = G::new(1);
    for i in 0..2u32 {
        yield_io!(op("a"))?;
        _slot = G::new(10 + i);
    }
    let _after: G = G::new(3);
    yield_io!(op("b"))?;
    log("end");
    Ok(())
}

fn reassigned_in_loop_plain() -> Result<(), CompletionError> {
    let mut _slot: G = G::new(1);
    for i in 0..2u32 {
        let _ = op("a");
        _slot = G::new(10 + i);
    }
    let _after: G = G::new(3);
    let _ = op("b");
    log("end");
    Ok(())
}

#[test]
fn a_guard_reassigned_in_a_suspending_loop_drops_in_order() {
    let mut st = ReassignedInLoopState::default();
    check(reassigned_in_loop_plain, || reassigned_in_loop(&mut st));
}

// Late initialization alone (lateguard C).

#[io_state_machine(state = st)]
fn late_guard(st: &mut LateGuardState) -> Res<()> {
    let _g: G;
    _g = G::new(1);
    yield_io!(op("a"))?;
    yield_io!(op("b"))?;
    yield_io!(op("c"))?;
    log("after the suspension point");
    Ok(())
}

fn late_guard_plain() -> Result<(), CompletionError> {
    let _g: G;
    _g = G::new(1);
    let _ = op("a");
    let _ = op("b");
    let _ = op("c");
    log("after the suspension point");
    Ok(())
}

#[test]
fn a_late_initialized_guard_lives_to_the_end() {
    let mut st = LateGuardState::default();
    check(late_guard_plain, || late_guard(&mut st));
}

// Across the join after an `if` with a suspension point in one branch.

#[io_state_machine(state = st)]
fn across_join(st: &mut AcrossJoinState, c: bool) -> Res<u32> {
    let g: G = G::new(1);
    g.touch();
    if c {
        yield_io!(op("a"))?;
    }
    log("join");
    let _h: G = G::new(2);
    Ok(1)
}

fn across_join_plain(c: bool) -> Result<u32, CompletionError> {
    let g: G = G::new(1);
    g.touch();
    if c {
        let _ = op("a");
    }
    log("join");
    let _h: G = G::new(2);
    Ok(1)
}

#[test]
fn a_value_in_scope_across_a_join_drops_at_the_end() {
    for c in [false, true] {
        let mut st = AcrossJoinState::default();
        check(|| across_join_plain(c), || across_join(&mut st, c));
    }
}

// Across the head of a loop that suspends.

#[io_state_machine(state = st)]
fn across_loop_head(st: &mut AcrossLoopHeadState) -> Res<u32> {
    let g: G = G::new(1);
    g.touch();
    let mut i: u32 = 0;
    while i < 2 {
        yield_io!(op("a"))?;
        i += 1;
    }
    log("after the loop");
    let _h: G = G::new(2);
    Ok(i)
}

fn across_loop_head_plain() -> Result<u32, CompletionError> {
    let g: G = G::new(1);
    g.touch();
    let mut i: u32 = 0;
    while i < 2 {
        let _ = op("a");
        i += 1;
    }
    log("after the loop");
    let _h: G = G::new(2);
    Ok(i)
}

#[test]
fn a_value_in_scope_across_a_loop_head_drops_at_the_end() {
    let mut st = AcrossLoopHeadState::default();
    check(across_loop_head_plain, || across_loop_head(&mut st));
}

// A temporary of the scrutinee of a `match` that is a suspension point
// lives through the arms, as in Rust.

#[io_state_machine(state = st)]
fn scrutinee_temporary(st: &mut ScrutineeTemporaryState) -> Res<i32> {
    let n = match yield_io!(op_with(&G::new(7)))? {
        0 => {
            log("arm 0");
            0
        }
        n => {
            log("arm n");
            n
        }
    };
    log("after the match");
    Ok(n)
}

fn scrutinee_temporary_plain() -> Result<i32, CompletionError> {
    let n = match ready(op_with(&G::new(7)))? {
        0 => {
            log("arm 0");
            0
        }
        n => {
            log("arm n");
            n
        }
    };
    log("after the match");
    Ok(n)
}

fn ready(c: Completion) -> Result<i32, CompletionError> {
    match c.result() {
        Some(r) => r,
        None => Err(CompletionError::Aborted),
    }
}

#[test]
fn a_temporary_of_a_suspending_scrutinee_lives_through_the_arms() {
    let mut st = ScrutineeTemporaryState::default();
    check(scrutinee_temporary_plain, || scrutinee_temporary(&mut st));
}

// The verbatim start keeps the states' bindings for every construct the
// dispatch takes apart: a `mut` parameter hidden by a local of its name, a
// `for` over a typed range (cursor and bound stored) and over an iterator
// (the iterator stored), a `while let` whose scrutinee suspends.

#[io_state_machine(state = st)]
fn hidden_param(st: &mut HiddenParamState, mut n: u32) -> Res<u32> {
    n += 1;
    let g: G = G::new(n);
    let n: u32 = n * 10;
    yield_io!(op("a"))?;
    g.touch();
    log(format!("n is {n}"));
    Ok(n)
}

fn hidden_param_plain(mut n: u32) -> Result<u32, CompletionError> {
    n += 1;
    let g: G = G::new(n);
    let n: u32 = n * 10;
    let _ = op("a");
    g.touch();
    log(format!("n is {n}"));
    Ok(n)
}

#[test]
fn a_mut_parameter_hidden_by_a_local_keeps_its_value() {
    let mut st = HiddenParamState::default();
    check(|| hidden_param_plain(4), || hidden_param(&mut st, 4));
}

#[io_state_machine(state = st)]
fn for_loops(st: &mut ForLoopsState, items: &[u32]) -> Res<u32> {
    let mut sum: u32 = 0;
    let keep: G = G::new(1);
    for i in 0..3u32 {
        let g: G = G::new(10 + i);
        yield_io!(op("range"))?;
        g.touch();
        sum += i;
    }
    let v: Vec<u32> = items.to_vec();
    for x in v {
        yield_io!(op("iter"))?;
        sum += x;
        if x == 7 {
            continue;
        }
        log(format!("x is {x}"));
    }
    keep.touch();
    Ok(sum)
}

fn for_loops_plain(items: &[u32]) -> Result<u32, CompletionError> {
    let mut sum: u32 = 0;
    let keep: G = G::new(1);
    for i in 0..3u32 {
        let g: G = G::new(10 + i);
        let _ = op("range");
        g.touch();
        sum += i;
    }
    let v: Vec<u32> = items.to_vec();
    for x in v {
        let _ = op("iter");
        sum += x;
        if x == 7 {
            continue;
        }
        log(format!("x is {x}"));
    }
    keep.touch();
    Ok(sum)
}

#[test]
fn for_loops_over_a_range_and_an_iterator_drop_in_place() {
    let mut st = ForLoopsState::default();
    check(|| for_loops_plain(&[3, 7, 9]), || for_loops(&mut st, &[3, 7, 9]));
}

// Items in the body of a `while` whose condition suspends: the dispatch
// declares them once at the top of the function; the verbatim start must
// not declare them again (an `impl` twice is E0592).

pub struct Counter(u32);

#[io_state_machine(state = st)]
fn items_in_a_suspending_while(st: &mut ItemsInASuspendingWhileState) -> Res<u32> {
    let mut c: Counter = Counter(0);
    while let Ok(0) = yield_io!(op("cond")) {
        // Rust's lint asks for the `impl` beside the type; it stands here
        // as code a user may write.
        #[allow(non_local_definitions)]
        impl Counter {
            fn bump(&mut self) {
                self.0 += 1;
            }
        }
        c.bump();
        if c.0 == 3 {
            break;
        }
    }
    Ok(c.0)
}

fn items_in_a_suspending_while_plain() -> Result<u32, CompletionError> {
    let mut c: Counter = Counter(0);
    while let Ok(0) = ready(op("cond")) {
        c.0 += 1;
        if c.0 == 3 {
            break;
        }
    }
    Ok(c.0)
}

#[test]
fn items_in_the_body_of_a_while_whose_condition_suspends_exist_once() {
    let mut st = ItemsInASuspendingWhileState::default();
    check(items_in_a_suspending_while_plain, || {
        items_in_a_suspending_while(&mut st)
    });
}

// The body's tail makes a temporary (`G::new(2)`) while a local (`g`)
// lives: in edition 2021 the temporary drops after the locals, in 2024
// before them. The verbatim start keeps the tail in the body's own braces,
// so each edition gets its own order (this file also runs as edition 2021,
// in `tests/edition2021`).

#[io_state_machine(state = st)]
fn tail_temporary(st: &mut TailTemporaryState) -> Res<u32> {
    let g: G = G::new(1);
    yield_io!(op("a"))?;
    g.touch();
    Ok(G::new(2).0 + 1)
}

fn tail_temporary_plain() -> Result<u32, CompletionError> {
    let g: G = G::new(1);
    let _ = op("a");
    g.touch();
    Ok(G::new(2).0 + 1)
}

#[test]
fn a_temporary_of_the_tail_drops_as_the_edition_says() {
    let mut st = TailTemporaryState::default();
    check(tail_temporary_plain, || tail_temporary(&mut st));
}

// Items in code a resume runs that the dispatch keeps whole (a nested
// block, a nested `fn`, a format argument): the verbatim start and the
// resume's arm would each declare them, so a per-call-site `static`
// existed twice (a log-once fired again after a resume) and an `impl` was
// E0119 (attack round 12, findings 1 and 2; a `#[no_mangle]` function, a
// duplicate symbol, is `scan::declares_unique_item`'s unit test). Such a
// body starts with the dispatch.

pub trait Site {
    fn site() -> u32;
}

/// A macro with std's name `format` that writes a per-call-site `static`
/// (as `defmt::println!` does): called by its path, it is not std's
/// (attack round 13, finding 2).
mod fake {
    macro_rules! format {
        () => {{
            static HITS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            HITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        }};
    }
    pub(crate) use format;
}

#[io_state_machine(state = st)]
fn unique_items(st: &mut UniqueItemsState) -> Res<()> {
    yield_io!(op("a"))?;
    {
        static HITS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        log(format!(
            "block {}",
            HITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
    }
    fn helper() -> u32 {
        static HITS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        HITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
    log(format!("fn {}", helper()));
    log(format!("fmt {}", {
        static HITS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        HITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }));
    {
        #[allow(non_local_definitions)]
        impl Site for u8 {
            fn site() -> u32 {
                8
            }
        }
        log(format!("impl {}", <u8 as Site>::site()));
    }
    Ok(())
}

#[test]
fn items_in_code_a_resume_runs_exist_once() {
    let io = MemoryIO::new();
    let mut st = UniqueItemsState::default();
    take_log();
    let was = ratchet::set_force_suspend(false);
    io.block(|| unique_items(&mut st)).unwrap();
    let ready_log = take_log();
    ratchet::set_force_suspend(true);
    io.block(|| unique_items(&mut st)).unwrap();
    let forced_log = take_log();
    ratchet::set_force_suspend(was);
    // One static per site, whichever path runs the code: the second run
    // counts on from the first.
    for (log, n) in [(&ready_log, 0), (&forced_log, 1)] {
        assert_eq!(
            log.iter()
                .filter(|e| !e.starts_with("op "))
                .cloned()
                .collect::<Vec<_>>(),
            vec![
                format!("block {n}"),
                format!("fn {n}"),
                format!("fmt {n}"),
                "impl 8".to_owned(),
            ],
        );
    }
}

#[io_state_machine(state = st)]
fn std_named_macro(st: &mut StdNamedMacroState) -> Res<()> {
    yield_io!(op("a"))?;
    log(format!("path {}", fake::format!()));
    Ok(())
}

#[test]
fn a_macro_named_like_std_s_called_by_its_path_exists_once() {
    let io = MemoryIO::new();
    let mut st = StdNamedMacroState::default();
    take_log();
    let was = ratchet::set_force_suspend(false);
    io.block(|| std_named_macro(&mut st)).unwrap();
    ratchet::set_force_suspend(true);
    io.block(|| std_named_macro(&mut st)).unwrap();
    ratchet::set_force_suspend(was);
    let log: Vec<String> = take_log().into_iter().filter(|e| !e.starts_with("op ")).collect();
    assert_eq!(log, ["path 0", "path 1"], "one static for the call site");
}
