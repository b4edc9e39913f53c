//! A tiny device and driver for run-time tests of generated machines, with
//! three schedules: every completion already finished; every completion
//! pending until the next step (`DeferredIO`-style); and a seeded random
//! schedule (random completion order, spurious re-entry while pending).
#![allow(dead_code)]

use std::cell::RefCell;

use ratchet::{Completion, CompletionError, IOResult};

thread_local! {
    /// What the code under test did, in order, drops included.
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Appends `s` to this thread's log.
pub fn log(s: impl Into<String>) {
    LOG.with(|l| l.borrow_mut().push(s.into()));
}

/// This thread's log so far, which starts empty again.
pub fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// When the device finishes what it is asked.
#[derive(Clone, Copy, Debug)]
pub enum Schedule {
    /// Every completion is finished when created (the fast path).
    Ready,
    /// Every completion stays pending until the driver's next step.
    Deferred,
    /// Completions finish in a random order; the driver sometimes calls the
    /// machine again while its completion is still pending.
    Random(u64),
}

pub const SCHEDULES: [Schedule; 5] = [
    Schedule::Ready,
    Schedule::Deferred,
    Schedule::Random(1),
    Schedule::Random(7),
    Schedule::Random(0xdead_beef),
];

/// A xorshift PRNG: deterministic per seed, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// Hands out completions according to the schedule, and can be told to
/// fail the next ones.
pub struct Dev {
    pub schedule: Schedule,
    pending: RefCell<Vec<(Completion, Result<i32, CompletionError>)>>,
    fail_at: RefCell<Option<usize>>,
    issued: RefCell<usize>,
}

impl Dev {
    pub fn new(schedule: Schedule) -> Self {
        Dev {
            schedule,
            pending: RefCell::new(Vec::new()),
            fail_at: RefCell::new(None),
            issued: RefCell::new(0),
        }
    }

    /// Makes the `n`-th operation (0-based) fail with an I/O error.
    pub fn fail_op(&self, n: usize) {
        *self.fail_at.borrow_mut() = Some(n);
    }

    /// One operation: a completion finished now or later, per the schedule.
    pub fn op(&self) -> Completion {
        let n = {
            let mut i = self.issued.borrow_mut();
            *i += 1;
            *i - 1
        };
        let outcome = if *self.fail_at.borrow() == Some(n) {
            Err(CompletionError::Io(std::io::ErrorKind::Other))
        } else {
            Ok(1)
        };
        let c = Completion::pending();
        match self.schedule {
            Schedule::Ready => finish(&c, outcome),
            _ => self.pending.borrow_mut().push((c.clone(), outcome)),
        }
        c
    }

    pub fn issued(&self) -> usize {
        *self.issued.borrow()
    }

    /// Finishes every pending completion.
    pub fn finish_all(&self) {
        for (c, o) in std::mem::take(&mut *self.pending.borrow_mut()) {
            finish(&c, o);
        }
    }

    fn pending_len(&self) -> usize {
        self.pending.borrow().len()
    }

    /// Finishes all pending completions (deferred), or a random subset in
    /// random order (random).
    fn step(&self, rng: &mut Rng) {
        let mut pending = std::mem::take(&mut *self.pending.borrow_mut());
        match self.schedule {
            Schedule::Ready | Schedule::Deferred => {
                for (c, o) in pending {
                    finish(&c, o);
                }
            }
            Schedule::Random(_) => {
                let mut keep = Vec::new();
                while !pending.is_empty() {
                    let i = rng.below(pending.len() as u64) as usize;
                    let (c, o) = pending.swap_remove(i);
                    if rng.below(3) == 0 {
                        keep.push((c, o));
                    } else {
                        finish(&c, o);
                    }
                }
                self.pending.borrow_mut().extend(keep);
            }
        }
    }
}

fn finish(c: &Completion, o: Result<i32, CompletionError>) {
    match o {
        Ok(n) => c.complete(n),
        Err(e) => c.error(e),
    }
}

/// Drives `machine` to `Done` or `Err`. Every call gets a fresh trace `Vec`,
/// whose events are appended to the returned trace; a call that returned
/// `IO` while its completion was pending is re-entered spuriously under the
/// random schedule and must push nothing.
pub fn drive<T, E, Ev>(
    dev: &Dev,
    mut machine: impl FnMut(&mut Vec<Ev>) -> Result<IOResult<T>, E>,
) -> (Result<T, E>, Vec<Ev>, usize)
where
    Ev: std::fmt::Debug,
{
    let seed = match dev.schedule {
        Schedule::Random(s) => s,
        _ => 0,
    };
    let mut rng = Rng::new(seed);
    let mut trace = Vec::new();
    let mut calls = 0usize;
    loop {
        calls += 1;
        assert!(calls < 100_000, "machine does not finish");
        let mut fresh = Vec::new();
        let r = machine(&mut fresh);
        trace.extend(fresh);
        match r {
            Err(e) => return (Err(e), trace, calls),
            Ok(IOResult::Done(v)) => return (Ok(v), trace, calls),
            Ok(IOResult::IO(io)) => {
                let c = io.into_completion();
                if matches!(dev.schedule, Schedule::Random(_)) {
                    // Spurious re-entry while the completion is pending: the
                    // machine must return IO again and run nothing.
                    while !c.finished() && rng.below(2) == 0 {
                        let mut fresh = Vec::new();
                        calls += 1;
                        match machine(&mut fresh) {
                            Ok(IOResult::IO(_)) => {}
                            Ok(IOResult::Done(_)) => {
                                panic!("machine finished while its completion was pending")
                            }
                            Err(_) => panic!("machine failed while its completion was pending"),
                        }
                        assert!(fresh.is_empty(), "re-entry while pending ran code: {fresh:?}");
                    }
                }
                let mut guard = 0;
                while !c.finished() {
                    guard += 1;
                    assert!(guard < 10_000, "completion never finishes");
                    assert!(
                        dev.pending_len() > 0 || c.finished(),
                        "machine waits for a completion nobody will finish"
                    );
                    dev.step(&mut rng);
                }
            }
        }
    }
}
