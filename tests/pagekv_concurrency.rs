//! pagekv with many requests in flight on one engine (`examples/pagekv/`):
//! each get carries its own machine state, and a `ratchet::Driver` keeps
//! dozens suspended at once against the one `&mut Engine`.
//!
//! Checked: results equal to one-by-one gets under `DeferredIO`, `SimIO`
//! random schedules and force-suspend; each device read submitted once;
//! two misses of one page share one read; one waiter's `reset()` does not
//! cancel the read another waits on; a read that lands after a writer
//! changed the page never overwrites the newer page; a checkpoint does not
//! truncate the log under a read of it that is still in flight.
#![allow(missing_docs)]

#[path = "../examples/pagekv/engine/mod.rs"]
#[allow(dead_code, unused_imports)]
mod engine;

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use engine::pager::ReadState;
use engine::{Engine, Error, GetState, Options, WAL_FILE};
use ratchet::sim::{Latency, SimConfig};
use ratchet::{
    Completion, CompletionError, DeferredIO, Driver, File, IO, IOExt, IOResult, Machine, MemoryIO,
    OpenOptions, SimIO,
};

const DIR: &str = "/kv";
const KEYS: u64 = 1200;

fn options() -> Options {
    Options {
        cache_pages: 12,
        checkpoint_bytes: 1 << 40,
        checkpoint_batch: 8,
        direct: false,
    }
}

fn key(i: u64) -> Vec<u8> {
    format!("key-{:08}", i * 7919 % 100_003).into_bytes()
}

fn value(i: u64) -> Vec<u8> {
    let mut v = format!("v-{i}-").into_bytes();
    v.resize(20 + (i % 150) as usize, b'a' + (i % 26) as u8);
    v
}

/// Item `i`'s value after the load: every fifth is deleted.
fn expected(i: u64) -> Option<Vec<u8>> {
    (i % 5 != 3).then(|| value(i))
}

/// Loads `KEYS` keys, deletes every fifth, syncs; no checkpoint, so pages
/// live in the log, and the small cache holds few of them.
fn load<I: IO>(io: &I) -> Engine {
    let (mut e, _) = Engine::open_blocking(io, Path::new(DIR), true, options()).unwrap();
    for i in 0..KEYS {
        io.block(|| e.put(&key(i), &value(i))).unwrap();
        if i % 200 == 199 {
            e.commit().unwrap();
            io.block(|| e.sync()).unwrap();
        }
    }
    for i in (0..KEYS).filter(|i| i % 5 == 3) {
        assert!(io.block(|| e.delete(&key(i))).unwrap());
    }
    e.commit().unwrap();
    io.block(|| e.sync()).unwrap();
    e
}

/// One client's get: the item, and the request's own state.
struct Get {
    item: u64,
    key: Vec<u8>,
    st: GetState,
}

impl Get {
    fn new(item: u64) -> Get {
        Get {
            item,
            key: key(item),
            st: GetState::default(),
        }
    }
}

impl Machine<Engine> for Get {
    type Output = Option<Vec<u8>>;
    type Error = Error;

    fn resume(&mut self, e: &mut Engine) -> Result<IOResult<Option<Vec<u8>>>, Error> {
        e.get_with(&mut self.st, &self.key)
    }
}

/// Random items, some repeated so that misses of one page meet.
fn items(n: usize, seed: u64) -> Vec<u64> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % (KEYS + 10)
        })
        .collect()
}

/// Runs the gets of `items` with `clients` in flight and checks every
/// result; returns the engine's counters over the run.
fn concurrent_gets(io: &dyn IO, e: &mut Engine, items: &[u64], clients: usize) -> engine::Stats {
    let before = e.stats();
    let mut driver = Driver::new(clients);
    let mut done = 0;
    driver
        .run(io, e, items.iter().map(|&i| Get::new(i)), |get, r| {
            assert!(get.st.is_idle());
            let want = if get.item < KEYS { expected(get.item) } else { None };
            assert_eq!(r.unwrap(), want, "item {}", get.item);
            done += 1;
        })
        .unwrap();
    assert_eq!(done, items.len());
    let after = e.stats();
    engine::Stats {
        cache_misses: after.cache_misses - before.cache_misses,
        page_reads: after.page_reads - before.page_reads,
        shared_reads: after.shared_reads - before.shared_reads,
        ..after
    }
}

#[test]
fn many_gets_in_flight_on_deferred_io() {
    let io = DeferredIO::memory();
    let mut e = load(&io);
    let s = concurrent_gets(&io, &mut e, &items(3000, 1), 32);
    assert!(s.page_reads > 100, "the small cache makes gets read pages: {s:?}");
    assert!(s.shared_reads > 0, "32 gets in flight met on some page: {s:?}");
    assert_eq!(s.cache_misses, s.page_reads + s.shared_reads, "{s:?}");
}

#[test]
fn many_gets_in_flight_on_sim_random_schedules() {
    for seed in 0..8u64 {
        let io = SimIO::new(
            SimConfig::with_seed(seed)
                .latency(Latency::Uniform {
                    min_ns: 10_000,
                    max_ns: 400_000,
                })
                .reorder_probability(0.3),
        );
        let mut e = load(&io);
        let submitted = io.ops_submitted();
        let s = concurrent_gets(&io, &mut e, &items(1500, seed), 1 + seed as usize * 9);
        // Gets only read, and each device read is submitted exactly once.
        assert_eq!(io.ops_submitted() - submitted, s.page_reads, "seed {seed}");
    }
}

#[test]
fn many_gets_in_flight_with_force_suspend() {
    let io = DeferredIO::memory();
    let mut e = load(&io);
    let before = ratchet::set_force_suspend(true);
    let s = concurrent_gets(&io, &mut e, &items(2000, 3), 16);
    ratchet::set_force_suspend(before);
    assert!(s.shared_reads > 0, "{s:?}");
}

#[test]
fn two_misses_on_one_page_share_one_read() {
    let io = DeferredIO::memory();
    let mut e = load(&io);
    // Cold caches: reopen twice, one get alone, then two of the same key.
    io.block(|| e.checkpoint()).unwrap();
    drop(e);
    let (mut e, _) = Engine::open_blocking(&io, Path::new(DIR), false, options()).unwrap();
    let alone = concurrent_gets(&io, &mut e, &[7], 2);
    drop(e);
    let (mut e, _) = Engine::open_blocking(&io, Path::new(DIR), false, options()).unwrap();
    let twice = concurrent_gets(&io, &mut e, &[7, 7], 2);
    assert!(alone.page_reads >= 2, "a tree of two levels at least: {alone:?}");
    assert_eq!(
        twice.page_reads, alone.page_reads,
        "no page read twice: {twice:?}"
    );
    assert_eq!(
        twice.shared_reads, alone.page_reads,
        "the second get waited on each read: {twice:?}"
    );
}

/// Two requests wait on one read of a page; the first is reset (a client
/// gone). Its abort must reach only its own wait: the second still gets the
/// page. Fails if waiters wait on the device's completion itself.
#[test]
fn a_reset_reader_does_not_cancel_the_read_another_waits_on() {
    let io = DeferredIO::memory();
    let mut e = load(&io);
    // A page that is not cached: reading it suspends.
    let (mut a, mut b) = (ReadState::default(), ReadState::default());
    let no = (1..e.pager.meta.page_count)
        .rev()
        .find(|&no| !e.pager.read(&mut a, no).unwrap().is_done())
        .expect("the small cache holds few pages");
    let reads = e.stats().page_reads;
    assert!(matches!(e.pager.read(&mut b, no), Ok(IOResult::IO(_))));
    assert_eq!(
        e.stats().page_reads,
        reads,
        "the second reader waits on the first's read"
    );
    a.reset();
    while io.step().unwrap() > 0 {}
    let node = match e.pager.read(&mut b, no) {
        Ok(IOResult::Done(node)) => node,
        Ok(IOResult::IO(c)) => panic!("still waiting: {:?}", c.completion().result()),
        Err(err) => panic!("the other reader failed: {err}"),
    };
    assert!(node.node().fits());
    assert_eq!(e.stats().page_reads, reads);
}

/// A get waits for a leaf; meanwhile a put of the same key changes that
/// leaf. When the get's read lands, its (older) image must not replace the
/// newer page in the cache: the put's change would be lost on commit. The
/// get itself returns the new value (it descends again after the change).
#[test]
fn a_read_that_lands_after_a_write_never_overwrites_the_newer_page() {
    let io = DeferredIO::memory();
    let mut e = load(&io);
    io.block(|| e.checkpoint()).unwrap();
    drop(e);
    // Reopened with a cache that holds the whole tree, then warmed with a
    // few gets: every interior page is cached, most leaves are not, so a
    // get that suspends waits for its leaf.
    let roomy = Options {
        cache_pages: 1024,
        ..options()
    };
    let (mut e, _) = Engine::open_blocking(&io, Path::new(DIR), false, roomy).unwrap();
    for i in (0..KEYS).step_by(300) {
        io.block(|| e.get(&key(i))).unwrap();
    }
    let mut get = GetState::default();
    let (item, mut first) = (0..KEYS)
        .filter(|i| i % 5 != 3)
        .find_map(|i| {
            get = GetState::default();
            let r = e.get_with(&mut get, &key(i)).unwrap();
            (!r.is_done()).then_some((i, r))
        })
        .expect("some leaf is not cached");
    // The put joins the read of the leaf, finishes first, and changes it.
    io.block(|| e.put(&key(item), b"newer")).unwrap();
    while let IOResult::IO(c) = first {
        io.wait(c.completion()).unwrap();
        first = e.get_with(&mut get, &key(item)).unwrap();
    }
    let IOResult::Done(got) = first else {
        unreachable!()
    };
    assert_eq!(got.as_deref(), Some(&b"newer"[..]), "the get saw the write");
    assert!(e.stats().restarts > 0, "the get descended again after the change");
    // The newer page is what the cache holds, and what commits.
    assert_eq!(
        io.block(|| e.get(&key(item))).unwrap().as_deref(),
        Some(&b"newer"[..])
    );
    e.commit().unwrap();
    io.block(|| e.sync()).unwrap();
    drop(e);
    let (mut e, _) = Engine::open_blocking(&io, Path::new(DIR), false, options()).unwrap();
    assert_eq!(
        io.block(|| e.get(&key(item))).unwrap().as_deref(),
        Some(&b"newer"[..])
    );
    for i in (0..KEYS).filter(|&i| i != item) {
        assert_eq!(io.block(|| e.get(&key(i))).unwrap(), expected(i), "item {i}");
    }
}

/// A backend whose log reads can be held: while the gate is closed, a read
/// of the log is recorded and only performed (on the file as it is then)
/// when the test releases it, as a slow device would.
struct Gated {
    inner: MemoryIO,
    gate: Arc<Mutex<Gate>>,
}

#[derive(Default)]
struct Gate {
    closed: bool,
    held: Vec<(Arc<dyn File>, u64, Completion)>,
}

impl Gated {
    /// Performs the held reads now.
    fn release(&self) -> usize {
        let held = std::mem::take(&mut self.gate.lock().unwrap().held);
        let n = held.len();
        for (file, pos, c) in held {
            let buf = c.read_buffer().unwrap().clone();
            let inner = file.pread(pos, Completion::read(buf)).unwrap();
            match self.inner.wait(&inner) {
                Ok(n) => c.complete(n),
                Err(err) => c.error(err),
            }
        }
        n
    }
}

struct GatedFile {
    inner: Arc<dyn File>,
    gate: Arc<Mutex<Gate>>,
}

impl File for GatedFile {
    fn pread(&self, pos: u64, c: Completion) -> Result<Completion, CompletionError> {
        let mut gate = self.gate.lock().unwrap();
        if gate.closed {
            gate.held.push((self.inner.clone(), pos, c.clone()));
            return Ok(c);
        }
        drop(gate);
        self.inner.pread(pos, c)
    }
    fn pwrite(
        &self,
        pos: u64,
        buf: Arc<ratchet::Buffer>,
        c: Completion,
    ) -> Result<Completion, CompletionError> {
        self.inner.pwrite(pos, buf, c)
    }
    fn pwritev(
        &self,
        pos: u64,
        bufs: Vec<Arc<ratchet::Buffer>>,
        c: Completion,
    ) -> Result<Completion, CompletionError> {
        self.inner.pwritev(pos, bufs, c)
    }
    fn sync(&self, c: Completion) -> Result<Completion, CompletionError> {
        self.inner.sync(c)
    }
    fn truncate(&self, len: u64, c: Completion) -> Result<Completion, CompletionError> {
        self.inner.truncate(len, c)
    }
    fn size(&self) -> Result<u64, CompletionError> {
        self.inner.size()
    }
}

impl IO for Gated {
    fn open_file(&self, path: &Path, options: OpenOptions) -> io::Result<Arc<dyn File>> {
        let inner = self.inner.open_file(path, options)?;
        if path.file_name().is_some_and(|n| n == WAL_FILE) {
            return Ok(Arc::new(GatedFile {
                inner,
                gate: self.gate.clone(),
            }));
        }
        Ok(inner)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.inner.remove_file(path)
    }
    fn step(&self) -> Result<usize, CompletionError> {
        self.inner.step()
    }
}

/// A get reads a page from the log, slowly; a checkpoint runs meanwhile.
/// It must not truncate the log until that read has its bytes: a read that
/// lands on a truncated log finds the page missing.
#[test]
fn a_checkpoint_waits_for_a_log_read_in_flight() {
    let io = Gated {
        inner: MemoryIO::new(),
        gate: Arc::default(),
    };
    let mut e = load(&io);
    // A get whose leaf is read from the log.
    io.gate.lock().unwrap().closed = true;
    let mut get = GetState::default();
    let item = (0..KEYS)
        .filter(|i| i % 5 != 3)
        .find(|&i| {
            get = GetState::default();
            !e.get_with(&mut get, &key(i)).unwrap().is_done()
        })
        .expect("some leaf is only in the log");
    assert_eq!(io.gate.lock().unwrap().held.len(), 1, "one log read held");
    io.gate.lock().unwrap().closed = false;
    // The checkpoint runs until it can go no further; only then is the read
    // released.
    let mut released = false;
    loop {
        match e.checkpoint().unwrap() {
            IOResult::Done(()) => break,
            IOResult::IO(c) => {
                let c = c.into_completion();
                while !c.finished() {
                    if io.step().unwrap() == 0 && !c.finished() {
                        assert!(!released, "the checkpoint waits for something else");
                        assert_eq!(io.release(), 1);
                        released = true;
                    }
                }
            }
        }
    }
    assert!(released, "the checkpoint finished while a log read was in flight");
    assert_eq!(e.pager.wal_bytes(), 0, "the log was truncated after the read");
    let got = loop {
        match e.get_with(&mut get, &key(item)).unwrap() {
            IOResult::Done(v) => break v,
            IOResult::IO(c) => {
                io.release();
                io.wait(c.completion()).unwrap();
            }
        }
    };
    assert_eq!(got, expected(item));
}

/// A writer that inserts keys one after another (splitting leaves and
/// interior pages as the tree grows), as one request among the gets.
struct Inserts {
    next: u64,
    end: u64,
}

/// Requests of the mixed test: the writer, or a get.
enum Mixed {
    Writer(Inserts),
    Get(Get),
}

impl Machine<Engine> for Mixed {
    type Output = Option<Vec<u8>>;
    type Error = Error;

    fn resume(&mut self, e: &mut Engine) -> Result<IOResult<Option<Vec<u8>>>, Error> {
        match self {
            Mixed::Get(get) => get.resume(e),
            Mixed::Writer(w) => {
                while w.next < w.end {
                    if let IOResult::IO(c) = e.put(&key(w.next), &value(w.next))? {
                        return Ok(IOResult::IO(c));
                    }
                    w.next += 2;
                    if w.next % 64 == 1 {
                        e.commit()?;
                    }
                }
                Ok(IOResult::Done(None))
            }
        }
    }
}

/// Gets of keys the writer does not touch, in flight while it inserts
/// others and splits the pages around them, on three schedules.
#[test]
fn gets_see_every_key_while_a_writer_splits_pages() {
    let schedules: Vec<Arc<dyn IO>> = vec![
        Arc::new(DeferredIO::memory()),
        Arc::new(SimIO::new(
            SimConfig::with_seed(5)
                .latency(Latency::Uniform {
                    min_ns: 1_000,
                    max_ns: 300_000,
                })
                .reorder_probability(0.5),
        )),
        Arc::new(SimIO::new(SimConfig::with_seed(6).reorder_probability(0.5))),
    ];
    for io in &schedules {
        let tiny = Options {
            cache_pages: 8,
            ..options()
        };
        let (mut e, _) = Engine::open_blocking(io, Path::new(DIR), true, tiny).unwrap();
        // Even items first.
        for i in (0..4000).step_by(2) {
            io.block(|| e.put(&key(i), &value(i))).unwrap();
        }
        e.commit().unwrap();
        io.block(|| e.sync()).unwrap();
        let mut driver = Driver::new(24);
        let mut requests = vec![Mixed::Writer(Inserts { next: 1, end: 4000 })];
        requests.extend(
            items(6000, 9)
                .into_iter()
                .map(|i| Mixed::Get(Get::new(i % 4000 / 2 * 2))),
        );
        let mut gets = 0;
        driver
            .run(&**io, &mut e, requests, |m, r| {
                if let Mixed::Get(get) = m {
                    assert_eq!(r.unwrap(), Some(value(get.item)), "item {}", get.item);
                    gets += 1;
                } else {
                    r.unwrap();
                }
            })
            .unwrap();
        assert_eq!(gets, 6000);
        for i in 0..4000 {
            assert_eq!(io.block(|| e.get(&key(i))).unwrap(), Some(value(i)), "item {i}");
        }
    }
}

/// A get waits for the root (not cached) while the leaf under it is cached;
/// a put waits for the same read, resumes first and splits that leaf,
/// moving the get's key to a new page and changing the root. The get then
/// holds the root as it was before the split: following it to the cached
/// leaf (as it is after) would miss the key. It must descend again.
#[test]
fn a_get_holding_a_page_from_before_a_split_descends_again() {
    let io = DeferredIO::memory();
    let big = |i: u64| -> Vec<u8> { vec![b'a' + (i % 26) as u8; 400] };
    let (mut e, _) = Engine::open_blocking(&io, Path::new(DIR), true, options()).unwrap();
    for i in 0..60 {
        io.block(|| e.put(&key(i), &big(i))).unwrap();
    }
    e.commit().unwrap();
    io.block(|| e.sync()).unwrap();
    io.block(|| e.checkpoint()).unwrap();
    // The root, a leaf under it that is not the last, and that leaf's last key.
    let root = e.pager.meta.root;
    let mut st = ReadState::default();
    let engine::format::Node::Interior { children, .. } =
        io.block(|| e.pager.read(&mut st, root)).unwrap().node().clone()
    else {
        panic!("a tree of two levels");
    };
    let leaf = children[0];
    let engine::format::Node::Leaf { keys, .. } =
        io.block(|| e.pager.read(&mut st, leaf)).unwrap().node().clone()
    else {
        panic!("a tree of two levels");
    };
    let (first, last) = (keys[0].to_vec(), keys[keys.len() - 1].to_vec());
    drop(e);
    // Cold cache; then the leaf alone is read into it.
    let (mut e, _) = Engine::open_blocking(&io, Path::new(DIR), false, options()).unwrap();
    io.block(|| e.pager.read(&mut st, leaf)).unwrap();
    let mut get = GetState::default();
    let mut got = e.get_with(&mut get, &last).unwrap();
    assert!(!got.is_done(), "the get waits for the root");
    // The writer's first put waits for the same read of the root.
    let pages = e.pager.meta.page_count;
    let mut n = 0u64;
    let extra = |n: u64| {
        let mut k = first.clone();
        k.extend_from_slice(format!("~{n:04}").as_bytes());
        k
    };
    let mut put = e.put(&extra(n), &big(n)).unwrap();
    assert!(!put.is_done(), "the put waits for the root too");
    while io.step().unwrap() > 0 {}
    // The put resumes first, then more puts into the leaf until it splits.
    while e.pager.meta.page_count == pages {
        match put {
            IOResult::IO(c) => {
                io.wait(c.completion()).unwrap();
                put = e.put(&extra(n), &big(n)).unwrap();
            }
            IOResult::Done(()) => {
                n += 1;
                put = e.put(&extra(n), &big(n)).unwrap();
            }
        }
    }
    assert!(put.is_done());
    let v = loop {
        match got {
            IOResult::Done(v) => break v,
            IOResult::IO(c) => {
                io.wait(c.completion()).unwrap();
                got = e.get_with(&mut get, &last).unwrap();
            }
        }
    };
    assert!(v.is_some(), "the get missed a key that a split moved");
    assert!(e.stats().restarts > 0);
}

/// A device completion runs its callbacks in order: first the one that
/// finishes a waiter's own completion, then later ones. A waiter resumed
/// from a later callback (another thread's step, on a multi-thread runtime)
/// finds its own completion finished while the device's is still running
/// callbacks: it must take the outcome from its own completion. (Reading
/// the device's gave `Stalled`, "reading a page: ..." in the tokio test on
/// a multi-thread runtime.)
#[test]
fn a_waiter_resumed_while_the_read_runs_its_callbacks_gets_the_page() {
    let io = Gated {
        inner: MemoryIO::new(),
        gate: Arc::default(),
    };
    let e = load(&io);
    io.gate.lock().unwrap().closed = true;
    let engine = Arc::new(Mutex::new(e));
    let get = Arc::new(Mutex::new(GetState::default()));
    let item = (0..KEYS)
        .filter(|i| i % 5 != 3)
        .find(|&i| {
            *get.lock().unwrap() = GetState::default();
            let mut e = engine.lock().unwrap();
            !e.get_with(&mut get.lock().unwrap(), &key(i)).unwrap().is_done()
        })
        .expect("some leaf is only in the log");
    io.gate.lock().unwrap().closed = false;
    let (file, pos, device) = io.gate.lock().unwrap().held.pop().expect("one log read held");
    // Resumes the get from a callback of the device's completion that runs
    // after the waiter's own completion has finished.
    let resumed = Arc::new(Mutex::new(None));
    let (e2, get2, resumed2) = (engine.clone(), get.clone(), resumed.clone());
    drop(device.clone().with_callback(move |_| {
        let r = e2.lock().unwrap().get_with(&mut get2.lock().unwrap(), &key(item));
        *resumed2.lock().unwrap() = Some(r.map(|r| r.is_done()));
    }));
    let inner = file
        .pread(pos, Completion::read(device.read_buffer().unwrap().clone()))
        .unwrap();
    device.complete(io.inner.wait(&inner).unwrap());
    let resumed = resumed.lock().unwrap().take().expect("the callback ran");
    assert!(resumed.is_ok(), "the resumed get failed: {resumed:?}");
    let mut e = engine.lock().unwrap();
    let mut get = get.lock().unwrap();
    let got = loop {
        match e.get_with(&mut get, &key(item)).unwrap() {
            IOResult::Done(v) => break v,
            IOResult::IO(c) => {
                io.release();
                io.wait(c.completion()).unwrap();
            }
        }
    };
    assert_eq!(got, expected(item));
}
