//! Regression tests of the differential tester (tests/difftest.rs).
//!
//! Every file in `tests/difftest_regressions/` is a reduced reproducer the
//! tester saved: a machine, its direct twin and a `main` that checks them
//! against each other under every schedule. Each must compile and exit 0,
//! checked through trybuild, so one that stops compiling fails its own case
//! instead of this whole test crate.
//!
//! The tests below also check the tester's own scheduler on a hand-written
//! direct program, so a broken harness cannot pass silently.

// The support module serves the generated crate too; this file uses part of it.
#[allow(dead_code)]
#[path = "difftest/support.rs"]
mod support;

use std::path::PathBuf;

use ratchet::{Completion, CompletionError, IOResult};
use support::{
    E, Mode, Sched, Schedule, base_schedules, check_direct, check_machine, inject_schedule, run_direct,
};

fn rust_files(dir: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "rs"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Fixed findings: each must build and its machine agree with its twin.
#[test]
fn reproducers_compile_and_agree() {
    let files = rust_files("tests/difftest_regressions");
    if files.is_empty() {
        return;
    }
    let t = trybuild::TestCases::new();
    for f in &files {
        t.pass(f);
    }
}

/// Open findings, pinned: `compile_*` must still fail to build with the
/// checked-in `.stderr`, `runtime_*` must build and still diverge. Once the
/// macro is fixed, the case fails and says to move the file up one directory
/// (refresh with `TRYBUILD=overwrite`).
#[test]
fn open_findings_are_pinned() {
    let files = rust_files("tests/difftest_regressions/open");
    if files.is_empty() {
        return;
    }
    let t = trybuild::TestCases::new();
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if name.starts_with("compile_") {
            t.compile_fail(f);
        } else {
            assert!(
                name.starts_with("runtime_"),
                "{name}: open findings are compile_* or runtime_*"
            );
            t.pass(f);
        }
    }
}

/// A direct program with a loop, a group and an error branch.
fn program(io: &Sched, t: &mut Vec<String>) -> Result<i64, E> {
    let mut sum: i64 = 0;
    for i in 0..3i64 {
        io.wait_direct(io.op())?;
        t.push(format!("i{i}"));
        sum += i;
    }
    if let Err(e) = io.wait_direct(io.group(2)) {
        t.push(format!("group failed: {e:?}"));
        return Ok(-1);
    }
    io.wait_direct(Completion::yield_now())?;
    t.push("end".to_string());
    Ok(sum)
}

#[test]
fn the_direct_program_agrees_with_itself_under_every_schedule() {
    let verdict = check_direct(7, &program);
    assert!(verdict.divergence.is_none(), "{:?}", verdict.divergence);
    // 16 base schedules plus one error at each of the 5 completions.
    assert_eq!(verdict.schedules, 16 + 5);
}

#[test]
fn an_injected_error_fails_exactly_that_completion() {
    for k in 0..5 {
        let got = run_direct(inject_schedule(3, k), &program);
        match k {
            0..=2 => {
                assert_eq!(
                    got.result,
                    Ok(Err(E::Io(CompletionError::Io(std::io::ErrorKind::Other))))
                );
                assert_eq!(
                    got.trace.len(),
                    k as usize,
                    "stops before the trace of iteration {k}"
                );
            }
            _ => {
                assert_eq!(got.result, Ok(Ok(-1)), "a group child failing fails the group");
                assert_eq!(
                    got.trace.last().map(String::as_str),
                    Some("group failed: Io(Other)")
                );
            }
        }
        let created = if k < 3 { k + 1 } else { 5 };
        assert_eq!(
            got.ops, created,
            "an error returns before later completions are created"
        );
    }
    let clean = run_direct(base_schedules(3)[0], &program);
    assert_eq!(clean.result, Ok(Ok(3)));
    assert_eq!(clean.trace, ["i0", "i1", "i2", "end"]);
}

#[test]
fn deferred_holds_every_completion_until_waited_for() {
    let sched = Sched::new(Schedule {
        mode: Mode::Deferred,
        force: false,
        spurious_pct: 0,
        inject: Some(1),
        seed: 1,
    });
    let (a, b) = (sched.op(), sched.op());
    assert!(!a.finished() && !b.finished());
    assert!(sched.wait(&a));
    assert!(a.succeeded());
    assert!(b.failed(), "deferred finishes everything pending at once");
    assert!(
        !sched.wait(&Completion::pending()),
        "nothing pending can finish it"
    );
}

#[test]
fn random_schedules_finish_in_varied_orders() {
    let mut orders = std::collections::BTreeSet::new();
    for seed in 0..20u64 {
        let sched = Sched::new(Schedule {
            mode: Mode::Random { now_pct: 0 },
            force: false,
            spurious_pct: 0,
            inject: None,
            seed,
        });
        let cs: Vec<Completion> = (0..4).map(|_| sched.op()).collect();
        let mut order = Vec::new();
        while order.len() < 4 {
            let last = cs.iter().rposition(|c| !c.finished()).expect("one pending");
            assert!(sched.wait(&cs[last]));
            for (i, c) in cs.iter().enumerate() {
                if c.finished() && !order.contains(&i) {
                    order.push(i);
                }
            }
        }
        orders.insert(order);
    }
    assert!(
        orders.len() > 3,
        "random schedules finish completions in different orders: {orders:?}"
    );
}

/// A hand-written machine for `program2`: one completion, then a trace.
/// With `bug`, it pushes its first trace line again on every call, the
/// classic hand-written-machine mistake the attribute exists to prevent.
#[derive(Default)]
struct HandState {
    waiting: Option<Completion>,
}

impl HandState {
    fn is_idle(&self) -> bool {
        self.waiting.is_none()
    }
}

fn program2(io: &Sched, t: &mut Vec<String>) -> Result<i64, E> {
    t.push("start".to_string());
    io.wait_direct(io.op())?;
    t.push("end".to_string());
    Ok(1)
}

fn hand_machine(st: &mut HandState, io: &Sched, t: &mut Vec<String>, bug: bool) -> Result<IOResult<i64>, E> {
    let c = match st.waiting.take() {
        None => {
            t.push("start".to_string());
            let c = io.op();
            if !c.finished() || ratchet::testing::force_suspend() {
                st.waiting = Some(c.clone());
                return Ok(IOResult::IO(c.into()));
            }
            c
        }
        Some(c) => {
            if bug {
                t.push("start".to_string());
            }
            if !c.finished() {
                st.waiting = Some(c.clone());
                return Ok(IOResult::IO(c.into()));
            }
            c
        }
    };
    if let Some(e) = c.get_error() {
        return Err(e.into());
    }
    t.push("end".to_string());
    Ok(IOResult::Done(1))
}

#[test]
fn a_correct_hand_written_machine_agrees() {
    let mut st = HandState::default();
    let verdict = check_machine(
        9,
        &program2,
        &mut st,
        &|st: &mut HandState, io: &Sched, t: &mut Vec<String>| hand_machine(st, io, t, false),
        &|st: &HandState| st.is_idle(),
    );
    assert!(verdict.divergence.is_none(), "{:?}", verdict.divergence);
}

#[test]
fn a_machine_that_reruns_a_statement_diverges() {
    let mut st = HandState::default();
    let verdict = check_machine(
        9,
        &program2,
        &mut st,
        &|st: &mut HandState, io: &Sched, t: &mut Vec<String>| hand_machine(st, io, t, true),
        &|st: &HandState| st.is_idle(),
    );
    let d = verdict
        .divergence
        .expect("the re-run statement shows in the trace");
    assert!(
        d.details
            .iter()
            .any(|l| l.contains("trace differs") || l.contains("ran code")),
        "{d:?}"
    );
}
