//! Runtime support of the differential tester, shared by the generated crate
//! (the driver copies this file into it) and by the checked-in regression
//! tests (`tests/difftest_regressions.rs` includes it).
//!
//! `Sched` hands out completions and finishes them according to a
//! `Schedule`. The outcome of the k-th completion a run creates depends only on
//! k (it fails when k is the injected index), never on the order in which
//! completions finish, so a machine and its direct twin see the same outcomes
//! whatever the schedule does to the machine's resume path.

use std::cell::RefCell;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use ratchet::{Completion, CompletionError, CompletionGroup, IOResult};

/// The error type of every generated function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum E {
    /// A failed completion, through `?`.
    Io(CompletionError),
    /// An error of the program itself (from [`chk`] or an explicit `Err`).
    User(i64),
}

impl From<CompletionError> for E {
    fn from(e: CompletionError) -> Self {
        E::Io(e)
    }
}

/// A direct twin, run with its arguments bound.
pub type Direct = dyn Fn(&Sched, &mut Vec<String>) -> Result<i64, E>;

/// A machine, run with its arguments bound and its state passed in.
pub type Machine<S> = dyn Fn(&mut S, &Sched, &mut Vec<String>) -> Result<IOResult<i64>, E>;

/// A machine bound to its state, behind which the driver is not generic:
/// the generated crate holds a thousand programs, and a driver instantiated
/// per state type was a twelfth of the code rustc had to generate.
pub trait Subject {
    /// Calls the machine once.
    fn call(&mut self, sched: &Sched, trace: &mut Vec<String>) -> Result<IOResult<i64>, E>;
    /// Whether its state is idle.
    fn idle(&self) -> bool;
}

struct Bound<'a, S> {
    st: &'a mut S,
    machine: &'a Machine<S>,
    is_idle: &'a dyn Fn(&S) -> bool,
}

impl<S> Subject for Bound<'_, S> {
    fn call(&mut self, sched: &Sched, trace: &mut Vec<String>) -> Result<IOResult<i64>, E> {
        (self.machine)(self.st, sched, trace)
    }
    fn idle(&self) -> bool {
        (self.is_idle)(self.st)
    }
}

/// Records `v` at trace site `site` (after the drops since the last entry).
pub fn tr(t: &mut Vec<String>, site: u32, v: &dyn fmt::Debug) {
    flush_drops(t);
    ENTRIES.with(|n| n.set(n.get() + 1));
    t.push(format!("s{site}:{v:?}"));
}

/// Records a formatted entry (after the drops since the last entry).
pub fn tp(t: &mut Vec<String>, entry: String) {
    flush_drops(t);
    ENTRIES.with(|n| n.set(n.get() + 1));
    t.push(entry);
}

thread_local! {
    /// Drops of [`Dg`] values since the last trace entry.
    static DROPS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// Every drop of a value the body reads (`~dN`), in order, with the
    /// number of the machine call it happened in (0 outside the driver) and
    /// the number of trace entries made before it.
    static DROP_CALLS: RefCell<Vec<(String, u64, u64)>> = const { RefCell::new(Vec::new()) };
    /// The number of trace entries made so far (by [`tr`] and [`tp`]).
    static ENTRIES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// The number of the driver's current call of the machine.
    static CALL: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Moves the drops recorded since the last trace entry into the trace, in
/// a fixed order: several values dropped at one point of the code (at a
/// `return`, at the end of a block) may drop in any order.
pub fn flush_drops(t: &mut Vec<String>) {
    let mut batch = DROPS.with(|d| std::mem::take(&mut *d.borrow_mut()));
    batch.sort();
    t.extend(batch);
}

fn clear_drops() {
    DROPS.with(|d| d.borrow_mut().clear());
    DROP_CALLS.with(|d| d.borrow_mut().clear());
    CALL.with(|c| c.set(0));
    ENTRIES.with(|n| n.set(0));
}

/// A value whose drop is traced. One the body never reads (`dgx`, the
/// `let _g = ..` idiom, and `let _ = ..`) is dropped exactly where Rust
/// drops it on every schedule: its drop is the entry `~g<id>`. One the body
/// reads (`dg`) may be dropped earlier, once no longer read (the rule in the
/// crate docs, rule 8): its entry `~d<id>` is checked against that window
/// by [`compare`].
pub struct Dg(pub u32, u8);

/// A [`Dg`] the body reads by reference: `~d<id>`.
const BY_REF: u8 = 0;
/// A [`Dg`] held only for its `Drop`: `~g<id>`, exact on every schedule.
const HELD: u8 = 1;
/// A [`Dg`] the body reads by value, through a method or a field, or
/// moves (`dgv`): `~v<id>`. After a resume the dispatch may drop it when
/// the step that last read it ends, also at a suspension point whose
/// completion is ready (rule 8); before the first real suspension it
/// drops exactly as in Rust.
const BY_VALUE: u8 = 2;

impl fmt::Debug for Dg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dg({})", self.0)
    }
}

impl Drop for Dg {
    fn drop(&mut self) {
        let entry = if self.1 == HELD {
            format!("~g{}", self.0)
        } else {
            let e = if self.1 == BY_VALUE {
                format!("~v{}", self.0)
            } else {
                format!("~d{}", self.0)
            };
            let at = (
                CALL.with(std::cell::Cell::get),
                ENTRIES.with(std::cell::Cell::get),
            );
            DROP_CALLS.with(|d| d.borrow_mut().push((e.clone(), at.0, at.1)));
            e
        };
        DROPS.with(|d| d.borrow_mut().push(entry));
    }
}

/// A traced value the body reads.
pub fn dg(id: u32) -> Dg {
    Dg(id, BY_REF)
}

/// A traced value the body reads by value or moves (see [`BY_VALUE`]).
pub fn dgv(id: u32) -> Dg {
    Dg(id, BY_VALUE)
}

impl Dg {
    /// A read through a method: the value as `tr` records it.
    pub fn touch(&self) -> String {
        format!("Dg({})", self.0)
    }
}

/// Takes a traced value by value: records it, then drops it.
pub fn eat(t: &mut Vec<String>, site: u32, d: Dg) {
    tr(t, site, &d);
}

/// A traced value held only for its `Drop`.
pub fn dgx(id: u32) -> Dg {
    Dg(id, HELD)
}

/// A non-primitive accumulator: `acc += call_io!(..)?` follows Rust's order
/// for non-primitive compound assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acc(pub i64);

impl std::ops::AddAssign<i64> for Acc {
    fn add_assign(&mut self, rhs: i64) {
        self.0 = self.0.wrapping_add(rhs);
    }
}

/// A place with a side effect: traces `slot<site>` and gives `acc`.
pub fn slot<'a>(t: &mut Vec<String>, site: u32, acc: &'a mut Acc) -> &'a mut Acc {
    tp(t, format!("slot{site}"));
    acc
}

thread_local! {
    /// Per (program module, site, whether a machine runs it): the address
    /// of the first `static` seen there.
    static SITE_STATICS: RefCell<std::collections::HashMap<(&'static str, u32, bool), usize>> =
        RefCell::new(std::collections::HashMap::new());
}

/// The entry of a per-call-site `static` (feature `items`): `o<site>` when
/// `s` is the one static this site of this program has had in the
/// function that runs it (the direct twin, or the machine), else
/// `o<site>:another static`: code that declares an item written twice in
/// the expansion (a log-once that fires again).
pub fn once_mark(site: u32, module: &'static str, s: &'static std::sync::atomic::AtomicU8) -> String {
    let key = (module, site, CALL.with(std::cell::Cell::get) > 0);
    let addr = std::ptr::from_ref(s) as usize;
    let first = SITE_STATICS.with(|m| *m.borrow_mut().entry(key).or_insert(addr));
    if first == addr {
        format!("o{site}")
    } else {
        format!("o{site}:another static")
    }
}

/// [`once_mark`] as a trace entry.
pub fn once_site(
    t: &mut Vec<String>,
    site: u32,
    module: &'static str,
    s: &'static std::sync::atomic::AtomicU8,
) {
    tp(t, once_mark(site, module, s));
}

/// A bound with a side effect: traces `b<site>` and gives `v`.
pub fn bnd(t: &mut Vec<String>, site: u32, v: i64) -> i64 {
    tp(t, format!("b{site}"));
    v
}

/// A struct for literals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pt {
    /// First.
    pub x: i64,
    /// Second.
    pub y: i64,
}

/// An enum for variant literals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// A struct variant.
    A {
        /// Its value.
        v: i64,
    },
    /// A tuple variant.
    B(i64),
    /// A unit variant.
    C,
}

/// A generic struct for literals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wr<T> {
    /// The value.
    pub v: T,
}

/// A source with an associated type, for generic helpers whose stored
/// locals name it (`S::Item`).
pub trait Src {
    /// What it gives.
    type Item: Copy + Into<i64> + fmt::Debug;
    /// The item for `k`.
    fn get(&self, k: i64) -> Self::Item;
}

/// The source the generated programs use.
pub struct SrcI;

impl Src for SrcI {
    type Item = i32;
    fn get(&self, k: i64) -> i32 {
        i32::try_from(k.rem_euclid(1000)).unwrap_or(0)
    }
}

/// A fallible helper for `?` outside suspension points: fails for some values.
pub fn chk(v: i64) -> Result<i64, E> {
    if v.rem_euclid(11) == 5 {
        Err(E::User(v))
    } else {
        Ok(v)
    }
}

/// How `Sched` finishes the completions it hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every completion is finished before it is handed out.
    Immediate,
    /// Every completion stays pending until the caller waits; then all
    /// pending ones finish, oldest first.
    Deferred,
    /// Each completion finishes at once with probability `now_pct` percent;
    /// waiting finishes pending ones in random order until the awaited one is.
    Random {
        /// Percent of completions finished before they are handed out.
        now_pct: u32,
    },
}

/// One schedule: a mode, force-suspend, spurious re-entry and error injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// How completions finish.
    pub mode: Mode,
    /// `ratchet::set_force_suspend` during the run.
    pub force: bool,
    /// Percent of suspensions on a pending completion at which the driver
    /// calls the machine again before the completion has finished.
    pub spurious_pct: u32,
    /// The index of the completion that fails, if any.
    pub inject: Option<u64>,
    /// Seed of the random choices.
    pub seed: u64,
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mode {
            Mode::Immediate => write!(f, "immediate")?,
            Mode::Deferred => write!(f, "deferred")?,
            Mode::Random { now_pct } => write!(f, "random(now={now_pct}%, seed={:#x})", self.seed)?,
        }
        if self.force {
            write!(f, " force-suspend")?;
        }
        if self.spurious_pct > 0 {
            write!(f, " spurious={}%", self.spurious_pct)?;
        }
        if let Some(k) = self.inject {
            write!(f, " error-at={k}")?;
        }
        Ok(())
    }
}

/// The base schedules every program runs under, before error injection: all
/// finished, force-suspend, deferred (with and without force-suspend and
/// spurious re-entry) and twelve seeded random ones with spurious re-entry.
pub fn base_schedules(seed: u64) -> Vec<Schedule> {
    let plain = Schedule {
        mode: Mode::Immediate,
        force: false,
        spurious_pct: 0,
        inject: None,
        seed,
    };
    let mut out = vec![
        plain,
        Schedule { force: true, ..plain },
        Schedule {
            mode: Mode::Deferred,
            ..plain
        },
        Schedule {
            mode: Mode::Deferred,
            force: true,
            spurious_pct: 100,
            ..plain
        },
    ];
    for i in 0..12u64 {
        out.push(Schedule {
            mode: Mode::Random {
                now_pct: [0, 25, 50, 75][(i % 4) as usize],
            },
            force: i % 3 == 2,
            spurious_pct: [30, 60, 100][(i % 3) as usize],
            inject: None,
            seed: splitmix(seed ^ (i + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        });
    }
    out
}

/// The schedule that fails completion `k`, cycling through the modes so that
/// errors arrive on the fast path, on resume and under force-suspend.
pub fn inject_schedule(seed: u64, k: u64) -> Schedule {
    let (mode, force) = match k % 4 {
        0 => (Mode::Immediate, false),
        1 => (Mode::Deferred, false),
        2 => (Mode::Random { now_pct: 50 }, false),
        _ => (Mode::Immediate, true),
    };
    Schedule {
        mode,
        force,
        spurious_pct: if k.is_multiple_of(2) { 50 } else { 0 },
        inject: Some(k),
        seed: splitmix(seed ^ k.wrapping_add(0x51_7cc1_b727_220a)),
    }
}

/// One step of splitmix64.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

struct Inner {
    schedule: Schedule,
    rng: u64,
    created: u64,
    pending: Vec<(u64, Completion)>,
}

impl Inner {
    fn next(&mut self) -> u64 {
        self.rng = splitmix(self.rng);
        self.rng
    }

    fn outcome(&self, index: u64, c: &Completion) {
        if self.schedule.inject == Some(index) {
            c.error(CompletionError::Io(std::io::ErrorKind::Other));
        } else {
            // A result that differs between completions, so that a machine
            // handing `yield_io!` the wrong completion's value is caught.
            c.complete(i32::try_from(index % 1000).unwrap_or(0));
        }
    }
}

/// The test scheduler: hands out completions and finishes them per schedule.
pub struct Sched {
    inner: RefCell<Inner>,
}

impl Sched {
    /// A scheduler for one run under `schedule`.
    pub fn new(schedule: Schedule) -> Self {
        Sched {
            inner: RefCell::new(Inner {
                schedule,
                rng: schedule.seed,
                created: 0,
                pending: Vec::new(),
            }),
        }
    }

    /// A new completion, the next in creation order.
    pub fn op(&self) -> Completion {
        let mut inner = self.inner.borrow_mut();
        let index = inner.created;
        inner.created += 1;
        let c = Completion::pending();
        let now = match inner.schedule.mode {
            Mode::Immediate => true,
            Mode::Deferred => false,
            Mode::Random { now_pct } => inner.next() % 100 < u64::from(now_pct),
        };
        if now {
            inner.outcome(index, &c);
        } else {
            inner.pending.push((index, c.clone()));
        }
        c
    }

    /// A built group of `n` new completions.
    pub fn group(&self, n: usize) -> Completion {
        let mut g = CompletionGroup::new(|_| {});
        for _ in 0..n {
            g.add(&self.op());
        }
        g.build()
    }

    /// How many completions this run has created.
    pub fn created(&self) -> u64 {
        self.inner.borrow().created
    }

    /// Whether the driver should re-enter a machine whose completion is
    /// still pending.
    pub fn spurious(&self) -> bool {
        let mut inner = self.inner.borrow_mut();
        let pct = inner.schedule.spurious_pct;
        pct > 0 && inner.next() % 100 < u64::from(pct)
    }

    /// Finishes pending completions until `c` has finished; `false` if `c`
    /// can never finish (nothing pending is left).
    pub fn wait(&self, c: &Completion) -> bool {
        while !c.finished() {
            let mut inner = self.inner.borrow_mut();
            if inner.pending.is_empty() {
                return false;
            }
            let batch: Vec<(u64, Completion)> = match inner.schedule.mode {
                Mode::Random { .. } => {
                    let i = (inner.next() % inner.pending.len() as u64) as usize;
                    vec![inner.pending.swap_remove(i)]
                }
                _ => std::mem::take(&mut inner.pending),
            };
            for (index, p) in &batch {
                inner.outcome(*index, p);
            }
        }
        true
    }

    /// What the direct twin does at a suspension point: wait, then take the
    /// value `yield_io!` would give.
    pub fn wait_direct(&self, c: Completion) -> Result<i32, CompletionError> {
        self.wait(&c);
        match c.result() {
            Some(Ok(n)) => Ok(n),
            Some(Err(e)) => Err(e),
            None => Err(CompletionError::Stalled),
        }
    }
}

/// Everything one run of a program shows: its result, its trace and how many
/// completions it created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The result, or the panic message.
    pub result: Result<Result<i64, E>, String>,
    /// The side effects, in order.
    pub trace: Vec<String>,
    /// Completions created.
    pub ops: u64,
    /// Whether some call of the machine returned `IO` (a suspension that
    /// really suspends); always `false` for the direct twin.
    pub suspended: bool,
    /// Per drop of a value the body reads (`~dN`, `~vN`), in order: whether
    /// it happened at a suspension that really suspends (in a call of the
    /// machine that returned `IO`, after that call's last trace entry) or,
    /// for a value read by value (`~vN`), in code run after a resume (a
    /// later call).
    pub drops_at_suspension: Vec<(String, bool)>,
}

/// Runs the direct twin under `schedule`.
pub fn run_direct(schedule: Schedule, direct: &Direct) -> Observed {
    let prev = ratchet::set_force_suspend(schedule.force);
    let sched = Sched::new(schedule);
    let mut trace = Vec::new();
    clear_drops();
    let result = catch_unwind(AssertUnwindSafe(|| direct(&sched, &mut trace))).map_err(panic_text);
    flush_drops(&mut trace);
    ratchet::set_force_suspend(prev);
    Observed {
        result,
        trace,
        ops: sched.created(),
        suspended: false,
        drops_at_suspension: Vec::new(),
    }
}

/// Re-entries while the awaited completion is pending, at most, per
/// suspension.
pub const SPURIOUS_MAX: usize = 2;

/// Upper bound on the calls of one machine run: far above what any generated
/// program needs, so hitting it means the machine does not make progress.
pub const MAX_CALLS: usize = 100_000;

/// Runs the machine under `schedule` (its state is the one `subject`
/// holds); returns what it showed and the contract violations the driver
/// saw on the way.
pub fn run_subject(schedule: Schedule, subject: &mut dyn Subject) -> (Observed, Vec<String>) {
    let prev = ratchet::set_force_suspend(schedule.force);
    let sched = Sched::new(schedule);
    let mut trace = Vec::new();
    let mut violations = Vec::new();
    let mut suspending: Vec<(u64, u64)> = Vec::new();
    clear_drops();
    let result = catch_unwind(AssertUnwindSafe(|| {
        drive(&sched, subject, &mut trace, &mut violations, &mut suspending)
    }))
    .map_err(panic_text);
    flush_drops(&mut trace);
    let drops_at_suspension = DROP_CALLS
        .with(|d| std::mem::take(&mut *d.borrow_mut()))
        .into_iter()
        .map(|(e, call, entries)| {
            // At a suspension that really suspends; for a value read by
            // value (`~v`), also in code run after a resume (a call after
            // one that returned `IO`), where the dispatch may drop it once
            // its step ends (rule 8).
            let resumed = e.starts_with("~v") && suspending.iter().any(|&(c, _)| c < call);
            (e, suspending.contains(&(call, entries)) || resumed)
        })
        .collect();
    CALL.with(|c| c.set(0));
    ratchet::set_force_suspend(prev);
    let result = match result {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err("gave up (see violations)".to_string()),
        Err(p) => Err(p),
    };
    (
        Observed {
            result,
            trace,
            ops: sched.created(),
            suspended: !suspending.is_empty(),
            drops_at_suspension,
        },
        violations,
    )
}

fn drive(
    sched: &Sched,
    subject: &mut dyn Subject,
    trace: &mut Vec<String>,
    violations: &mut Vec<String>,
    suspending: &mut Vec<(u64, u64)>,
) -> Option<Result<i64, E>> {
    for _ in 0..MAX_CALLS {
        let call = CALL.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        let c = match subject.call(sched, trace) {
            Ok(IOResult::Done(v)) => return Some(Ok(v)),
            Err(e) => return Some(Err(e)),
            Ok(IOResult::IO(io)) => io.into_completion(),
        };
        // A suspension that really suspends: the drops made in this call
        // after its last trace entry (where it suspended) may be earlier
        // than the direct twin's (rule 8).
        suspending.push((call, ENTRIES.with(std::cell::Cell::get)));
        // At most a few re-entries per suspension: each must return IO again.
        for _ in 0..SPURIOUS_MAX {
            if c.finished() || !sched.spurious() {
                break;
            }
            let before = trace.len();
            match subject.call(sched, trace) {
                Ok(IOResult::IO(again)) => {
                    if !again.completion().same_as(&c) {
                        violations
                            .push("spurious re-entry returned IO with a different completion".to_string());
                    }
                }
                other => {
                    violations.push(format!(
                        "spurious re-entry while the completion was pending returned {other:?} instead of IO"
                    ));
                    return None;
                }
            }
            if trace.len() != before {
                violations.push(format!(
                    "spurious re-entry while the completion was pending ran code: {:?}",
                    &trace[before..]
                ));
                return None;
            }
        }
        if !sched.wait(&c) {
            violations.push(format!(
                "the machine returned IO with a completion that can never finish: {c:?}"
            ));
            return None;
        }
    }
    violations.push(format!("no Done after {MAX_CALLS} calls"));
    None
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".to_string());
    format!("panic: {msg}")
}

/// The schedules of one program: the base ones, then one failing each
/// completion index the program reaches when nothing fails.
pub fn schedules_for(seed: u64, direct: &Direct) -> Vec<Schedule> {
    let mut out = base_schedules(seed);
    let ops = run_direct(out[0], direct).ops;
    for k in 0..ops {
        out.push(inject_schedule(seed, k));
    }
    out
}

/// The first disagreement of one program, if any.
#[derive(Debug)]
pub struct Divergence {
    /// Index of the schedule in [`schedules_for`].
    pub index: usize,
    /// The schedule.
    pub schedule: Schedule,
    /// What differed, one item a line.
    pub details: Vec<String>,
}

/// What checking one program found.
#[derive(Debug)]
pub struct Verdict {
    /// Schedules run.
    pub schedules: usize,
    /// The first divergence, if any.
    pub divergence: Option<Divergence>,
}

/// Checks the direct twin against itself: under every schedule it must give
/// what it gives with the same injected error and nothing else going on. This
/// is the harness's own self-test (and all there is before a machine exists).
pub fn check_direct(seed: u64, direct: &Direct) -> Verdict {
    let schedules = schedules_for(seed, direct);
    for (index, &schedule) in schedules.iter().enumerate() {
        let got = run_direct(schedule, direct);
        let reference = run_direct(
            Schedule {
                mode: Mode::Immediate,
                force: false,
                spurious_pct: 0,
                ..schedule
            },
            direct,
        );
        let mut details = compare(&reference, &got);
        if let Err(p) = &reference.result {
            details.push(format!("direct twin panicked: {p}"));
        }
        if !details.is_empty() {
            return Verdict {
                schedules: schedules.len(),
                divergence: Some(Divergence {
                    index,
                    schedule,
                    details,
                }),
            };
        }
    }
    Verdict {
        schedules: schedules.len(),
        divergence: None,
    }
}

/// Checks the machine against its direct twin under every schedule, with one
/// state reused across schedules (so a state left non-idle shows).
pub fn check_machine<S>(
    seed: u64,
    direct: &Direct,
    st: &mut S,
    machine: &Machine<S>,
    is_idle: &dyn Fn(&S) -> bool,
) -> Verdict {
    check_subject(seed, direct, &mut Bound { st, machine, is_idle })
}

fn check_subject(seed: u64, direct: &Direct, subject: &mut dyn Subject) -> Verdict {
    let schedules = schedules_for(seed, direct);
    for (index, &schedule) in schedules.iter().enumerate() {
        let reference = run_direct(schedule, direct);
        let (got, violations) = run_subject(schedule, subject);
        let mut details = compare(&reference, &got);
        details.extend(violations);
        if let Err(p) = &reference.result {
            details.push(format!("direct twin panicked: {p}"));
        }
        if got.result.is_ok() && !subject.idle() {
            details.push("state not idle after the run ended".to_string());
        }
        if !details.is_empty() {
            return Verdict {
                schedules: schedules.len(),
                divergence: Some(Divergence {
                    index,
                    schedule,
                    details,
                }),
            };
        }
    }
    Verdict {
        schedules: schedules.len(),
        divergence: None,
    }
}

/// A trace without the drops of values the body reads (`~d<id>`), and
/// those drops with the number of other entries before each.
fn split_drops(trace: &[String]) -> (Vec<String>, Vec<(String, usize)>) {
    let mut fixed = Vec::new();
    let mut floating = Vec::new();
    for e in trace {
        if e.starts_with("~d") || e.starts_with("~v") {
            floating.push((e.clone(), fixed.len()));
        } else {
            fixed.push(e.clone());
        }
    }
    (fixed, floating)
}

// Input:  direct `[s1:Dg(4), s2, ~d4, s3]`, machine `[s1:Dg(4), ~d4, s2, s3]`, `~d4` in a call that returned `IO`
// Output: no difference (dropped after its last read, at a real suspension, not later than in Rust)
/// The drops of values the body reads, on a schedule that really suspends,
/// checked against the rule: each happens exactly as often as in the direct
/// twin, after the value's last read (an entry showing `Dg(<id>)`) before
/// the direct twin's drop, not after the direct twin's drop, and where it
/// happens earlier, at a suspension that really suspends (in a call of the
/// machine that returned `IO`, after that call's last trace entry).
fn compare_floating_drops(
    fixed: &[String],
    direct: &[(String, usize)],
    machine: &[(String, usize, bool)],
) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (id, _) in direct {
        if seen.contains(&id.as_str()) {
            continue;
        }
        seen.push(id);
        let d: Vec<usize> = direct.iter().filter(|(e, _)| e == id).map(|(_, p)| *p).collect();
        let m: Vec<(usize, bool)> = machine
            .iter()
            .filter(|(e, _, _)| e == id)
            .map(|(_, p, at)| (*p, *at))
            .collect();
        if d.len() != m.len() {
            out.push(format!(
                "drop {id}: {} times in the direct twin, {} in the machine",
                d.len(),
                m.len()
            ));
            continue;
        }
        let read = format!("Dg({})", &id[2..]);
        for (k, (&pd, &(pm, at_suspension))) in d.iter().zip(&m).enumerate() {
            let last_read = fixed[..pd]
                .iter()
                .rposition(|e| e.contains(&read))
                .map_or(0, |r| r + 1);
            if pm > pd || pm < last_read {
                out.push(format!(
                    "drop {id} (#{k}) after {pm} trace entries in the machine: allowed from {last_read} (its last read) to {pd} (where the direct twin drops it)"
                ));
            } else if pm < pd && !at_suspension {
                out.push(format!(
                    "drop {id} (#{k}) after {pm} trace entries in the machine, earlier than the direct twin's ({pd}), but not at a suspension that really suspends (nor, for a value read by value, after a resume)"
                ));
            }
        }
    }
    if machine.iter().any(|(e, _, _)| !seen.contains(&e.as_str())) {
        out.push("the machine drops a value the direct twin never drops".to_string());
    }
    out
}

/// The machine's drops of values the body reads, with the number of other
/// entries before each and whether it happened in a call that returned `IO`.
fn machine_drops(got: &Observed) -> Vec<(String, usize, bool)> {
    let (_, floating) = split_drops(&got.trace);
    let mut seen: Vec<(String, usize)> = Vec::new();
    floating
        .into_iter()
        .map(|(e, pos)| {
            // The k-th drop of this value in the trace is its k-th drop.
            let k = seen.iter().filter(|(s, _)| *s == e).count();
            seen.push((e.clone(), pos));
            let at = got
                .drops_at_suspension
                .iter()
                .filter(|(s, _)| *s == e)
                .nth(k)
                .is_some_and(|&(_, at)| at);
            (e, pos, at)
        })
        .collect()
}

/// Compares a run with the direct twin's. Where the machine never really
/// suspended (every completion ready, no cooperative yield, no
/// force-suspend) every drop must stand where the direct twin's does (rule
/// 8: then nothing drops earlier than in the plain function); otherwise the
/// drops of values the body reads are checked against rule 8's window (see
/// [`compare_floating_drops`]), which lets one drop earlier only at a
/// suspension that really suspends, or, for a value read by value (`~v`),
/// in the code run after a resume (the dispatch's steps; before the first
/// real suspension the machine runs the body verbatim, where every drop is
/// Rust's).
fn compare(reference: &Observed, got: &Observed) -> Vec<String> {
    let exact = !got.suspended;
    let mut out = Vec::new();
    if reference.result != got.result {
        out.push(format!(
            "result: direct {:?}, machine {:?}",
            reference.result, got.result
        ));
    }
    let got_trace = got.trace.clone();
    let (ref_fixed, ref_floating) = if exact {
        (reference.trace.clone(), Vec::new())
    } else {
        split_drops(&reference.trace)
    };
    let (got_fixed, _) = if exact {
        (got_trace.clone(), Vec::new())
    } else {
        split_drops(&got_trace)
    };
    if ref_fixed == got_fixed && !exact {
        out.extend(compare_floating_drops(
            &ref_fixed,
            &ref_floating,
            &machine_drops(got),
        ));
    }
    if ref_fixed != got_fixed {
        let first = ref_fixed
            .iter()
            .zip(&got_fixed)
            .position(|(a, b)| a != b)
            .unwrap_or(ref_fixed.len().min(got_fixed.len()));
        let what = if exact {
            "(every completion ready: drops included)"
        } else {
            "(drops of values the body reads aside)"
        };
        out.push(format!(
            "trace differs at entry {first} {what}: direct {:?}, machine {:?}",
            ref_fixed.get(first),
            got_fixed.get(first)
        ));
        out.push(format!("direct trace:  {:?}", reference.trace));
        out.push(format!("machine trace: {:?}", got.trace));
    }
    if reference.ops != got.ops {
        out.push(format!(
            "completions created: direct {}, machine {}",
            reference.ops, got.ops
        ));
    }
    out
}

/// Panics with the divergence, for the checked-in regression tests.
pub fn assert_agrees(name: &str, verdict: &Verdict) {
    if let Some(d) = &verdict.divergence {
        panic!(
            "{name}: machine and direct twin diverge under schedule #{} ({}):\n  {}",
            d.index,
            d.schedule,
            d.details.join("\n  ")
        );
    }
    assert!(
        verdict.schedules >= 16,
        "{name}: only {} schedules",
        verdict.schedules
    );
}

/// For a pinned open finding: panics once the machine agrees with its twin,
/// so the fixed reproducer moves to the regressions that must agree.
pub fn assert_diverges(name: &str, verdict: &Verdict) {
    assert!(
        verdict.divergence.is_some(),
        "{name}: the machine now agrees with its direct twin under all {} schedules: \
         move this file from tests/difftest_regressions/open/ to tests/difftest_regressions/ \
         and switch main to `assert_agrees`",
        verdict.schedules
    );
}
