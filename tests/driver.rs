//! `Driver`: many machine instances in flight on one thread over one backend,
//! sharing one context by `&mut`.
//!
//! The reference for every check is the same requests run one by one with
//! `IOExt::block` on `MemoryIO`: under `DeferredIO`, `SimIO` random schedules
//! (latency, reordering) and force-suspend, with capacities from 1 to more
//! than the number of requests, each request's result and its own
//! exactly-once trace (pushed by the machine as it runs) must be the same,
//! and the shared context must have counted the same side effects. Then the
//! driver's own promises: fairness, the capacity bound, `Stalled` instead of
//! a hang, a panicking instance, stale wake-ups.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;

use ratchet::sim::{Latency, SimConfig};
use ratchet::{
    Buffer, Completion, CompletionError, DeferredIO, Driver, File, IO, IOResult, Machine, MemoryIO,
    OpenOptions, SimIO, call_io, io_state_machine, yield_io,
};

/// Pages in the shared file; each holds its own number in every byte (mod 256).
const PAGES: u64 = 64;
const PAGE: usize = 512;

/// The context all requests share: a file, and counters of what they did.
struct Shelf {
    file: Arc<dyn File>,
    /// Statements with a side effect that ran, over all requests.
    effects: u64,
    /// Requests between their first statement and their end.
    active: u32,
    /// The most requests active at once.
    most_active: u32,
}

impl Shelf {
    fn open(io: &dyn IO) -> Shelf {
        let file = io.open_file("/shelf".as_ref(), OpenOptions::new()).unwrap();
        let bytes: Vec<u8> = (0..PAGES).flat_map(|p| vec![p as u8; PAGE]).collect();
        let c = file
            .pwrite(0, Arc::new(Buffer::from_vec(bytes)), Completion::write())
            .unwrap();
        io.wait(&c).unwrap();
        Shelf {
            file,
            effects: 0,
            active: 0,
            most_active: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Error {
    Io(CompletionError),
    /// A page number past the file.
    NoPage(u64),
}

impl From<CompletionError> for Error {
    fn from(e: CompletionError) -> Self {
        Error::Io(e)
    }
}

/// Reads page `no`; its first byte.
#[io_state_machine(state = st)]
fn read_page(
    st: &mut ReadPageState,
    cx: &mut Shelf,
    no: u64,
    trace: &mut Vec<String>,
) -> Result<IOResult<u8>, Error> {
    if no >= PAGES {
        trace.push(format!("refuse {no}"));
        return Err(Error::NoPage(no));
    }
    cx.effects += 1;
    trace.push(format!("read {no}"));
    let buf: Arc<Buffer> = Arc::new(Buffer::new(PAGE));
    yield_io!(cx.file.pread(no * PAGE as u64, Completion::read(buf.clone()))?)?;
    let b = buf.as_slice()[0];
    trace.push(format!("got {no}={b}"));
    Ok(b)
}

/// Follows `hops` pages from `start` (each page's next is a function of its
/// byte), yielding now and then, and sums their bytes. Nested machine,
/// cooperative yields, an error path (a hop past the end).
#[io_state_machine(state = st)]
fn walk(
    st: &mut WalkState,
    cx: &mut Shelf,
    start: u64,
    hops: u32,
    trace: &mut Vec<String>,
) -> Result<IOResult<u64>, Error> {
    cx.active += 1;
    cx.most_active = cx.most_active.max(cx.active);
    cx.effects += 1;
    trace.push("start".to_owned());
    let mut sum: u64 = 0;
    let mut no: u64 = start;
    let mut i: u32 = 0;
    let mut inner: ReadPageState = ReadPageState::default();
    while i < hops {
        let got: Result<u8, Error> = call_io!(read_page(&mut inner, cx, no, trace));
        let b: u8 = match got {
            Ok(b) => b,
            Err(e) => {
                cx.active -= 1;
                return Err(e);
            }
        };
        sum += u64::from(b);
        if b.is_multiple_of(3) {
            trace.push("yield".to_owned());
            yield_io!(Completion::yield_now())?;
        }
        no = (u64::from(b) * 7 + 3) % (PAGES + 2);
        i += 1;
    }
    cx.effects += 1;
    cx.active -= 1;
    trace.push(format!("done {sum}"));
    Ok(sum)
}

/// One request: its arguments, its own state and its own trace.
struct Walk {
    id: u32,
    start: u64,
    hops: u32,
    st: WalkState,
    trace: Vec<String>,
}

impl Machine<Shelf> for Walk {
    type Output = u64;
    type Error = Error;

    fn resume(&mut self, cx: &mut Shelf) -> Result<IOResult<u64>, Error> {
        walk(&mut self.st, cx, self.start, self.hops, &mut self.trace)
    }
}

fn requests(n: u32, seed: u64) -> Vec<Walk> {
    let mut x = seed | 1;
    (0..n)
        .map(|id| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Walk {
                id,
                start: x % PAGES,
                hops: (x >> 20) as u32 % 9,
                st: WalkState::default(),
                trace: Vec::new(),
            }
        })
        .collect()
}

/// The error of a `next` that must fail (the driver's instances need no `Debug`).
fn stalled<T>(r: Result<T, CompletionError>) -> CompletionError {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

type Outcomes = BTreeMap<u32, (Result<u64, Error>, Vec<String>)>;

/// The reference: one by one, each to the end, on `MemoryIO`.
fn one_by_one(n: u32, seed: u64) -> (Outcomes, u64) {
    let io = MemoryIO::new();
    let mut shelf = Shelf::open(&io);
    let mut out = Outcomes::new();
    for mut w in requests(n, seed) {
        let r = io.block(|| w.resume(&mut shelf));
        out.insert(w.id, (r, w.trace));
    }
    assert_eq!(shelf.active, 0);
    (out, shelf.effects)
}

/// All `n` requests through a driver of `capacity` on `io`.
fn driven(io: &dyn IO, n: u32, seed: u64, capacity: usize) -> (Outcomes, Shelf) {
    let mut shelf = Shelf::open(io);
    let mut driver = Driver::new(capacity);
    let mut out = Outcomes::new();
    driver
        .run(io, &mut shelf, requests(n, seed), |w, r| {
            assert!(w.st.is_idle(), "request {} handed back with a busy state", w.id);
            assert!(
                out.insert(w.id, (r, w.trace)).is_none(),
                "request {} finished twice",
                w.id
            );
        })
        .unwrap();
    assert!(driver.is_empty());
    assert!(
        shelf.most_active as usize <= capacity,
        "{} active at once with capacity {capacity}",
        shelf.most_active
    );
    assert_eq!(shelf.active, 0);
    (out, shelf)
}

fn assert_same(what: &str, got: &Outcomes, want: &Outcomes) {
    assert_eq!(got.len(), want.len(), "{what}: requests finished");
    for (id, w) in want {
        assert_eq!(
            got.get(id),
            Some(w),
            "{what}: request {id} differs from its run alone"
        );
    }
}

const N: u32 = 40;

#[test]
fn deferred_matches_one_by_one() {
    for seed in [1, 2, 3] {
        let (want, effects) = one_by_one(N, seed);
        assert!(want.values().any(|(r, _)| r.is_err()), "some requests fail");
        for capacity in [1, 3, 16, 64] {
            let io = DeferredIO::memory();
            let (got, shelf) = driven(&io, N, seed, capacity);
            assert_same(
                &format!("deferred, seed {seed}, capacity {capacity}"),
                &got,
                &want,
            );
            assert_eq!(shelf.effects, effects);
            if capacity >= 3 {
                assert!(
                    shelf.most_active >= 3,
                    "requests were in flight together: {}",
                    shelf.most_active
                );
            }
        }
    }
}

#[test]
fn sim_random_schedules_match_one_by_one() {
    for seed in 0..24u64 {
        let (want, effects) = one_by_one(N, seed);
        let io = SimIO::new(
            SimConfig::with_seed(seed)
                .latency(Latency::Uniform {
                    min_ns: 1_000,
                    max_ns: 200_000,
                })
                .reorder_probability(0.3),
        );
        let capacity = 1 + (seed as usize * 5) % 20;
        let (got, shelf) = driven(&io, N, seed, capacity);
        assert_same(&format!("SimIO seed {seed}, capacity {capacity}"), &got, &want);
        assert_eq!(shelf.effects, effects, "seed {seed}");
        // Each read the requests made was submitted exactly once.
        let reads = want
            .values()
            .flat_map(|(_, t)| t)
            .filter(|e| e.starts_with("read "))
            .count();
        assert_eq!(
            io.ops_submitted(),
            1 + reads as u64,
            "seed {seed}: the setup write and the reads"
        );
    }
}

#[test]
fn force_suspend_matches_one_by_one() {
    let (want, effects) = one_by_one(N, 7);
    let before = ratchet::set_force_suspend(true);
    let runs: Vec<(Outcomes, Shelf)> = [1, 5, 64]
        .iter()
        .flat_map(|&capacity| {
            [
                driven(&MemoryIO::new(), N, 7, capacity),
                driven(&DeferredIO::memory(), N, 7, capacity),
            ]
        })
        .collect();
    ratchet::set_force_suspend(before);
    for (got, shelf) in &runs {
        assert_same("force-suspend", got, &want);
        assert_eq!(shelf.effects, effects);
    }
}

/// The regression this guards: an instance that keeps yielding (its
/// completion is always finished) must not keep the driver from delivering
/// another instance's I/O, which on an asynchronous backend arrives only
/// through a step.
#[test]
fn a_yielding_instance_does_not_starve_one_waiting_for_io() {
    enum Req {
        Spin { spins: u32 },
        Read { st: ReadPageState, trace: Vec<String> },
    }
    struct Cx {
        shelf: Shelf,
        read_done: bool,
    }
    impl Machine<Cx> for Req {
        type Output = u32;
        type Error = Error;
        fn resume(&mut self, cx: &mut Cx) -> Result<IOResult<u32>, Error> {
            match self {
                Req::Spin { spins } => {
                    if cx.read_done || *spins == 10_000 {
                        return Ok(IOResult::Done(*spins));
                    }
                    *spins += 1;
                    Ok(IOResult::IO(Completion::yield_now().into()))
                }
                Req::Read { st, trace } => read_page(st, &mut cx.shelf, 5, trace).map(|r| r.map(u32::from)),
            }
        }
    }
    let io = DeferredIO::memory();
    let mut cx = Cx {
        shelf: Shelf::open(&io),
        read_done: false,
    };
    let mut driver = Driver::new(4);
    assert!(driver.start(Req::Spin { spins: 0 }).is_ok());
    assert!(
        driver
            .start(Req::Read {
                st: ReadPageState::default(),
                trace: Vec::new()
            })
            .is_ok()
    );
    let (first, r) = driver.next(&io, &mut cx).unwrap().unwrap();
    assert!(matches!(first, Req::Read { .. }), "the read finished first");
    assert_eq!(r, Ok(5));
    cx.read_done = true;
    let (_, spins) = driver.next(&io, &mut cx).unwrap().unwrap();
    let spins = spins.unwrap();
    assert!(
        spins < 5,
        "the spinner ran {spins} rounds before the read was delivered"
    );
    assert!(driver.next(&io, &mut cx).unwrap().is_none());
}

#[test]
fn start_refuses_past_capacity_and_a_finished_slot_is_reused() {
    let io = DeferredIO::memory();
    let mut shelf = Shelf::open(&io);
    let mut driver: Driver<Shelf, Walk> = Driver::new(2);
    let mut reqs = requests(3, 9).into_iter();
    assert!(driver.start(reqs.next().unwrap()).is_ok());
    assert!(driver.start(reqs.next().unwrap()).is_ok());
    assert!(driver.is_full());
    let third = driver.start(reqs.next().unwrap()).unwrap_err();
    assert_eq!(third.id, 2, "the refused request comes back");
    let (done, _) = driver.next(&io, &mut shelf).unwrap().unwrap();
    assert!(done.id < 2);
    assert!(driver.start(third).is_ok(), "a finished request frees its slot");
    let mut ids = vec![done.id];
    while let Some((w, _)) = driver.next(&io, &mut shelf).unwrap() {
        ids.push(w.id);
    }
    ids.sort_unstable();
    assert_eq!(ids, [0, 1, 2]);
}

#[test]
fn waiting_on_what_nothing_can_finish_is_stalled_not_a_hang() {
    let io = MemoryIO::new();
    let never = Completion::pending();
    let mut driver = Driver::new(2);
    let waits = never.clone();
    assert!(
        driver
            .start(move |_: &mut ()| {
                if waits.finished() {
                    Ok::<_, CompletionError>(IOResult::Done(()))
                } else {
                    Ok(IOResult::IO(waits.clone().into()))
                }
            })
            .is_ok()
    );
    assert_eq!(stalled(driver.next(&io, &mut ())), CompletionError::Stalled);
    assert_eq!(driver.len(), 1, "the instance stays in the driver");
    // Finished by hand, the instance runs again and ends.
    never.complete(0);
    assert!(driver.next(&io, &mut ()).unwrap().is_some());
    assert!(driver.next(&io, &mut ()).unwrap().is_none());
}

#[test]
fn a_panicking_instance_frees_its_slot() {
    let io = DeferredIO::memory();
    let mut shelf = Shelf::open(&io);
    type Req = Box<dyn FnMut(&mut Shelf) -> Result<IOResult<u32>, Error>>;
    let mut driver: Driver<Shelf, Req> = Driver::new(1);
    assert!(driver.start(Box::new(|_| panic!("boom"))).is_ok());
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        driver.next(&io, &mut shelf).map(|_| ())
    }));
    assert!(caught.is_err());
    assert!(driver.is_empty(), "the panicking instance is gone");
    assert!(driver.start(Box::new(|_| Ok(IOResult::Done(7)))).is_ok());
    let (_, r) = driver.next(&io, &mut shelf).unwrap().unwrap();
    assert_eq!(r, Ok(7));
}

/// Two instances waiting on one completion (two requests sharing one page
/// read) are both woken by it, each exactly once.
#[test]
fn two_instances_waiting_on_one_completion_both_wake_once() {
    let io = MemoryIO::new();
    let shared = Completion::pending();
    type Waiter = Box<dyn FnMut(&mut Vec<u32>) -> Result<IOResult<u32>, CompletionError>>;
    let mut driver: Driver<Vec<u32>, Waiter> = Driver::new(4);
    for id in 0..2u32 {
        let c = shared.clone();
        let mut waited = false;
        assert!(
            driver
                .start(Box::new(move |calls: &mut Vec<u32>| {
                    calls.push(id);
                    if waited {
                        assert!(
                            c.finished(),
                            "instance {id} called while its completion was pending"
                        );
                        return Ok(IOResult::Done(id));
                    }
                    waited = true;
                    Ok(IOResult::IO(c.clone().into()))
                }))
                .is_ok()
        );
    }
    let mut calls = Vec::new();
    assert_eq!(stalled(driver.next(&io, &mut calls)), CompletionError::Stalled);
    assert_eq!(calls, [0, 1]);
    shared.complete(0);
    let mut done: Vec<u32> = std::iter::from_fn(|| driver.next(&io, &mut calls).unwrap())
        .map(|(_, r)| r.unwrap())
        .collect();
    done.sort_unstable();
    assert_eq!(done, [0, 1]);
    assert_eq!(calls, [0, 1, 0, 1]);
}
