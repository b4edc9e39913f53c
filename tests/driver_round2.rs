//! `Driver` and `Completion`, second round: what a hostile tester found
//! (issue 17). Each test is named after its finding.
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ratchet::{
    Buffer, Completion, CompletionError, DeferredIO, Driver, File, IO, IOResult, Machine, MemoryIO,
    OpenOptions,
};

type M = Box<dyn FnMut(&mut ()) -> Result<IOResult<i32>, CompletionError>>;

/// Finding 2: a completion finished on another thread (with a slow callback
/// of its own) while the driver runs rounds (another instance keeps
/// yielding). The waiting instance must be called again only once its
/// completion has finished: `result()` is never `None` then.
#[test]
fn finding_2_waiter_called_only_once_finished() {
    let io = MemoryIO::new();
    for _ in 0..300 {
        let mut d: Driver<(), M> = Driver::new(2);
        let c = Completion::pending()
            .with_callback(|_| std::thread::sleep(std::time::Duration::from_micros(200)));
        let cc = c.clone();
        let mut waiting: Option<Completion> = None;
        d.start(Box::new(move |_: &mut ()| {
            if let Some(c) = waiting.take() {
                let n = c.result().unwrap_or(Err(CompletionError::Stalled))?;
                return Ok(IOResult::Done(n));
            }
            waiting = Some(cc.clone());
            Ok(IOResult::IO(cc.clone().into()))
        }))
        .ok()
        .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        d.start(Box::new(move |_: &mut ()| {
            if st.load(Ordering::SeqCst) {
                return Ok(IOResult::Done(-1));
            }
            Ok(IOResult::IO(Completion::yield_now().into()))
        }))
        .ok()
        .unwrap();
        let h = std::thread::spawn(move || c.complete(7));
        let (_, r) = d.next(&io, &mut ()).unwrap().unwrap();
        assert_eq!(r, Ok(7), "the waiter saw its completion unfinished");
        stop.store(true, Ordering::SeqCst);
        h.join().unwrap();
        while d.next(&io, &mut ()).unwrap().is_some() {}
    }
}

/// Finding 2, at the completion: a notification added while a callback runs
/// on another thread runs only once `finished()` is true.
#[test]
fn finding_2_on_finished_waits_for_every_callback() {
    let entered = Arc::new(AtomicBool::new(false));
    let e = entered.clone();
    let c = Completion::pending().with_callback(move |_| {
        e.store(true, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(50));
    });
    let finisher = {
        let c = c.clone();
        std::thread::spawn(move || c.complete(3))
    };
    while !entered.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    let seen = Arc::new(std::sync::Mutex::new(None));
    let (s, c2) = (seen.clone(), c.clone());
    c.on_finished(move || *s.lock().unwrap() = Some((c2.finished(), c2.result())));
    finisher.join().unwrap();
    assert_eq!(*seen.lock().unwrap(), Some((true, Some(Ok(3)))));
}

fn shared_waiters(n: usize) {
    let io = MemoryIO::new();
    let shared = Completion::pending();
    let mut d: Driver<(), M> = Driver::new(n + 1);
    for _ in 0..n {
        let c = shared.clone();
        let mut first = true;
        d.start(Box::new(move |_: &mut ()| {
            if first {
                first = false;
                return Ok(IOResult::IO(c.clone().into()));
            }
            assert!(c.finished());
            Ok(IOResult::Done(1))
        }))
        .ok()
        .unwrap();
    }
    let c = shared.clone();
    let mut first = true;
    d.start(Box::new(move |_: &mut ()| {
        if first {
            first = false;
            return Ok(IOResult::IO(Completion::yield_now().into()));
        }
        c.complete(1);
        Ok(IOResult::Done(0))
    }))
    .ok()
    .unwrap();
    let mut done = 0;
    while let Some((_, r)) = d.next(&io, &mut ()).unwrap() {
        r.unwrap();
        done += 1;
    }
    assert_eq!(done, n + 1);
}

/// Finding 3: 200,000 instances waiting on one shared completion (a debug
/// test thread overflowed its stack at about 9,000 before).
#[test]
fn finding_3_many_waiters_on_one_completion() {
    shared_waiters(200_000);
}

/// Finding 3: a long `with_callback` chain, completed and dropped unfinished.
#[test]
fn finding_3_long_callback_chain() {
    let hits = Arc::new(AtomicUsize::new(0));
    let c = Completion::pending();
    for _ in 0..300_000 {
        let h = hits.clone();
        drop(c.clone().with_callback(move |_| {
            h.fetch_add(1, Ordering::Relaxed);
        }));
    }
    c.complete(1);
    assert_eq!(hits.load(Ordering::Relaxed), 300_000);
    let dropped = Completion::pending();
    for _ in 0..300_000 {
        let h = hits.clone();
        drop(dropped.clone().with_callback(move |_| {
            h.fetch_add(1, Ordering::Relaxed);
        }));
    }
    drop(dropped);
    assert_eq!(
        hits.load(Ordering::Relaxed),
        300_000,
        "an unfinished completion's callbacks never run"
    );
}

/// The context the instances of `finding_10_boxed_machines_of_different_types`
/// share: a file of bytes 0, 1, 2, ... and a count of reads started.
struct Store {
    file: Arc<dyn File>,
    reads: u32,
}

/// What each instance returns: its own number and its value.
type Out = (usize, u32);

fn read_one(store: &mut Store, at: u64) -> Result<Completion, CompletionError> {
    store.reads += 1;
    store.file.pread(at, Completion::read(Arc::new(Buffer::new(1))))
}

fn byte_of(c: &Completion) -> Result<u32, CompletionError> {
    c.result().unwrap_or(Err(CompletionError::Stalled))?;
    Ok(u32::from(c.read_buffer().unwrap().to_vec()[0]))
}

/// A closure machine: the byte at `at`.
fn read_byte(id: usize, at: u64) -> impl FnMut(&mut Store) -> Result<IOResult<Out>, CompletionError> {
    let mut waiting: Option<Completion> = None;
    move |store: &mut Store| {
        if let Some(c) = waiting.take() {
            return Ok(IOResult::Done((id, byte_of(&c)?)));
        }
        let c = read_one(store, at)?;
        waiting = Some(c.clone());
        Ok(IOResult::IO(c.into()))
    }
}

/// Another closure machine, of another type: yields `n` times, then
/// returns `n`, reading nothing.
fn yielder(id: usize, n: u32) -> impl FnMut(&mut Store) -> Result<IOResult<Out>, CompletionError> {
    let mut left = n;
    move |_: &mut Store| {
        if left == 0 {
            return Ok(IOResult::Done((id, n)));
        }
        left -= 1;
        Ok(IOResult::IO(Completion::yield_now().into()))
    }
}

/// A hand-written machine: the sum of `len` bytes from `from`, read one at
/// a time (one suspension per byte).
struct SumBytes {
    id: usize,
    from: u64,
    len: u64,
    next: u64,
    sum: u32,
    waiting: Option<Completion>,
}

impl SumBytes {
    fn new(id: usize, from: u64, len: u64) -> SumBytes {
        SumBytes {
            id,
            from,
            len,
            next: 0,
            sum: 0,
            waiting: None,
        }
    }
}

impl Machine<Store> for SumBytes {
    type Output = Out;
    type Error = CompletionError;

    fn resume(&mut self, store: &mut Store) -> Result<IOResult<Out>, CompletionError> {
        if let Some(c) = self.waiting.take() {
            self.sum += byte_of(&c)?;
            self.next += 1;
        }
        if self.next == self.len {
            return Ok(IOResult::Done((self.id, self.sum)));
        }
        let c = read_one(store, self.from + self.next)?;
        self.waiting = Some(c.clone());
        Ok(IOResult::IO(c.into()))
    }
}

type Boxed = Box<dyn Machine<Store, Output = Out, Error = CompletionError>>;
type BoxedSend = Box<dyn Machine<Store, Output = Out, Error = CompletionError> + Send>;

/// Instance `id` of the mix: three machine types in turn.
fn mixed(id: usize) -> BoxedSend {
    let at = (id * 7 % 200) as u64;
    match id % 3 {
        0 => Box::new(read_byte(id, at)),
        1 => Box::new(yielder(id, (id % 5) as u32)),
        _ => Box::new(SumBytes::new(id, at, 1 + (id % 4) as u64)),
    }
}

fn store(io: &DeferredIO) -> Store {
    let file = io.open_file("/bytes".as_ref(), OpenOptions::new()).unwrap();
    let bytes: Vec<u8> = (0..=255).collect();
    io.wait(
        &file
            .pwrite(0, Arc::new(Buffer::from_vec(bytes)), Completion::write())
            .unwrap(),
    )
    .unwrap();
    Store { file, reads: 0 }
}

/// Finding 10: `Box<dyn Machine<..>>` (with or without `Send`) and `&mut dyn
/// Machine<..>` are machines, so one `Driver` runs instances of different
/// types: two kinds of closure and a hand-written machine, suspended together
/// on a deferred backend. Results and reads are those of running each
/// instance alone.
#[test]
fn finding_10_boxed_machines_of_different_types() {
    const N: usize = 60;
    let io = DeferredIO::memory();

    // Each instance alone, to the end, before the next.
    let mut alone = store(&io);
    let mut want = Vec::new();
    for id in 0..N {
        let mut m = mixed(id);
        want.push(io.block(|| m.resume(&mut alone)).unwrap());
    }

    // All of them through one driver, eight in flight.
    let mut together = store(&io);
    let mut got = Vec::new();
    let mut d: Driver<Store, BoxedSend> = Driver::new(8);
    d.run(&io, &mut together, (0..N).map(mixed), |_, r| got.push(r.unwrap()))
        .unwrap();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(together.reads, alone.reads);

    // Without `Send`: a machine holding an `Rc`.
    let rc = std::rc::Rc::new(5u32);
    let mut d: Driver<Store, Boxed> = Driver::new(2);
    d.start(Box::new(move |_: &mut Store| Ok(IOResult::Done((0, *rc)))))
        .ok()
        .unwrap();
    d.start(Box::new(read_byte(1, 9))).ok().unwrap();
    let mut got = Vec::new();
    while let Some((_, r)) = d.next(&io, &mut together).unwrap() {
        got.push(r.unwrap());
    }
    got.sort();
    assert_eq!(got, vec![(0, 5), (1, 9)]);

    // Borrowed: the machines stay the caller's, and their state is there to
    // see afterwards.
    let mut sums: Vec<SumBytes> = (0..5).map(|i| SumBytes::new(i, 10 * i as u64, 3)).collect();
    let mut d: Driver<Store, &mut dyn Machine<Store, Output = Out, Error = CompletionError>> = Driver::new(5);
    let mut got = Vec::new();
    d.run(
        &io,
        &mut together,
        sums.iter_mut()
            .map(|m| m as &mut dyn Machine<Store, Output = Out, Error = CompletionError>),
        |_, r| got.push(r.unwrap()),
    )
    .unwrap();
    got.sort();
    let want: Vec<Out> = (0..5).map(|i| (i, (30 * i + 3) as u32)).collect();
    assert_eq!(got, want);
    assert!(sums.iter().all(|m| m.next == 3 && m.waiting.is_none()));
}
