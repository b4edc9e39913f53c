//! `Driver`: many machine instances in flight on one thread, sharing one
//! context (an engine) by `&mut` between calls.
//!
//! [`crate::IOExt::block`] runs one machine to the end. A server has many requests at
//! once, each a machine waiting for its own I/O; because a machine stores no
//! borrow, all of them can be suspended against the same engine, and each call
//! re-borrows it. The driver is that loop: it calls an instance only when the
//! completion it waits for has finished (a callback on the completion queues
//! it), runs the queued instances in the order they became ready, hands each
//! result back as it arrives, and sleeps in [`IO::step`] when none is ready.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;

use crate::completion::{Completion, CompletionError};
use crate::io::IO;
use crate::result::IOResult;
use crate::sync::{Arc, Mutex, lock};

/// One instance of a machine, resumable against a context `C` it does not
/// own: each call gets the context afresh.
///
/// Closures `FnMut(&mut C) -> Result<IOResult<T>, E>` are machines, so an
/// instance is usually a closure that owns its request's state and
/// arguments:
///
/// ```
/// # extern crate ratchet_runtime as ratchet;
/// # use ratchet::{CompletionError, IOResult, Machine};
/// # struct Engine;
/// # impl Engine { fn get(&mut self, _st: &mut u8, _k: &[u8]) -> Result<IOResult<u32>, CompletionError> { Ok(IOResult::Done(1)) } }
/// let key = b"k".to_vec();
/// let mut st = 0u8; // the request's own machine state (a generated `GetState`)
/// let mut request = move |e: &mut Engine| e.get(&mut st, &key);
/// # assert!(matches!(Machine::resume(&mut request, &mut Engine), Ok(IOResult::Done(1))));
/// ```
///
/// An enum of request kinds implements it by hand. Boxed trait objects are
/// machines too (`Box<dyn Machine<C, Output = T, Error = E>>`, with or
/// without `+ Send`, and `&mut dyn Machine<..>`), so one [`Driver`] can run
/// instances of different types. A `&mut` to a closure is a closure, hence
/// a machine; a `&mut` to another machine type is made one by coercing it
/// to `&mut dyn Machine<..>`.
pub trait Machine<C: ?Sized> {
    /// The value of a finished run.
    type Output;
    /// The error of a failed run.
    type Error: From<CompletionError>;

    /// Runs the instance until it finishes or must wait: the calling
    /// convention of `#[io_state_machine]` functions.
    fn resume(&mut self, cx: &mut C) -> Result<IOResult<Self::Output>, Self::Error>;
}

impl<C, T, E, F> Machine<C> for F
where
    C: ?Sized,
    E: From<CompletionError>,
    F: FnMut(&mut C) -> Result<IOResult<T>, E>,
{
    type Output = T;
    type Error = E;

    fn resume(&mut self, cx: &mut C) -> Result<IOResult<T>, E> {
        self(cx)
    }
}

// The impls name `dyn Machine` rather than any `M: Machine`: a generic
// `Box<M>` or `&mut M` would overlap the closures' impl above (a boxed or
// borrowed closure is a closure too, E0119), while a trait object of
// `Machine` never is one.

impl<C: ?Sized, T, E: From<CompletionError>> Machine<C> for Box<dyn Machine<C, Output = T, Error = E> + '_> {
    type Output = T;
    type Error = E;

    fn resume(&mut self, cx: &mut C) -> Result<IOResult<T>, E> {
        (**self).resume(cx)
    }
}

impl<C: ?Sized, T, E: From<CompletionError>> Machine<C>
    for Box<dyn Machine<C, Output = T, Error = E> + Send + '_>
{
    type Output = T;
    type Error = E;

    fn resume(&mut self, cx: &mut C) -> Result<IOResult<T>, E> {
        (**self).resume(cx)
    }
}

impl<C: ?Sized, T, E: From<CompletionError>> Machine<C>
    for &mut (dyn Machine<C, Output = T, Error = E> + '_)
{
    type Output = T;
    type Error = E;

    fn resume(&mut self, cx: &mut C) -> Result<IOResult<T>, E> {
        (**self).resume(cx)
    }
}

impl<C: ?Sized, T, E: From<CompletionError>> Machine<C>
    for &mut (dyn Machine<C, Output = T, Error = E> + Send + '_)
{
    type Output = T;
    type Error = E;

    fn resume(&mut self, cx: &mut C) -> Result<IOResult<T>, E> {
        (**self).resume(cx)
    }
}

/// A slot's index and the generation it had when a wake-up was queued for
/// it: a wake-up for an instance that has finished since (its slot reused)
/// is recognised and dropped.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    index: u32,
    generation: u32,
}

/// Within a round, the driver hands the I/O queued so far to the backend
/// ([`IO::try_step`]) after this many instances have started waiting, when
/// the round has more instances to run. Otherwise the reads of a round of 32
/// wait for the end of the round (about 35 µs on average in pagekv's bench)
/// while the device has nothing new to do. 4 keeps the extra entries into
/// the kernel to one per four reads; a round of one never makes one.
const SUBMIT_EVERY: usize = 4;

/// Wake-ups queued by completion callbacks. They run wherever the backend
/// finishes completions (inside `step`, on this thread, for the backends of
/// this crate), so the queue is shared and locked.
type Woken = Arc<Mutex<Vec<Key>>>;

struct Slot<M> {
    generation: u32,
    machine: Option<M>,
    /// The completion the instance waits for, while it waits.
    waiting: Option<Completion>,
}

/// Runs many instances of machines concurrently over one backend, on the
/// calling thread, sharing one context `C` by `&mut`.
///
/// - **Each instance owns its state**; the context is lent to one call at a
///   time and never stored.
/// - **An instance is called again only once the completion it returned has
///   finished**: a callback on that completion queues it. With nothing
///   queued, [`next`](Self::next) sleeps in [`IO::step`] (no busy polling).
/// - **Fairness**: queued instances run in rounds, in the order they became
///   ready; an instance that yields (an already finished completion, such as
///   [`Completion::yield_now`]) goes to the back of the next round. Between
///   rounds the driver finishes I/O that has arrived without waiting
///   ([`IO::try_step`]), so instances waiting for I/O are not starved by
///   instances that keep yielding.
/// - **Prompt submission**: within a long round, the driver also hands the
///   I/O queued so far to the backend after every few instances that
///   started waiting, so that a device is not left idle while the rest of
///   the round runs.
/// - **Bounded**: at most `capacity` instances are in flight;
///   [`start`](Self::start) refuses more.
/// - **Results**: `next` returns each instance with its `Done` value or its
///   `Err` as soon as it has one, and frees its slot for the next request.
///
/// - **Completions finished on another thread** (a custom event source's
///   [`Completion::pending`]): the instance is queued at once, once the
///   completion has finished, but a driver asleep in [`IO::step`] notices
///   only when that step returns. `UringIO`'s step sleeps in the kernel
///   until one of the ring's own operations completes, and the other
///   backends' steps, with nothing of theirs in flight, return 0, which the
///   driver reports as [`CompletionError::Stalled`]. No backend can be woken
///   from another thread, so finish such completions on the driver's thread
///   (between calls of `next`), or deliver the event through the backend (a
///   read of a pipe, whose completion ends the step), or await the machines
///   from tokio tasks (`ratchet::tokio`), whose wake-ups work from any thread.
///
/// An instance that panics is dropped (its slot freed) and the panic
/// continues to the caller of `next`. Dropping the driver drops the
/// instances still in flight.
///
/// ```
/// # extern crate ratchet_runtime as ratchet;
/// use std::sync::Arc;
/// use ratchet::{Buffer, Completion, CompletionError, DeferredIO, Driver, File, IOResult, IO,
///                       OpenOptions};
///
/// /// The context every request shares: a file, and a count of reads started.
/// struct Store { file: Arc<dyn File>, reads: u32 }
///
/// /// A hand-written machine (an `#[io_state_machine]` is the same to the
/// /// driver): reads the byte at `at`, then returns it.
/// fn read_byte(at: u64) -> impl FnMut(&mut Store) -> Result<IOResult<u8>, CompletionError> {
///     let mut waiting: Option<Completion> = None;
///     move |store: &mut Store| {
///         if let Some(c) = waiting.take() {
///             c.result().unwrap_or(Err(CompletionError::Stalled))?;
///             return Ok(IOResult::Done(c.read_buffer().unwrap().to_vec()[0]));
///         }
///         store.reads += 1;
///         let c = store.file.pread(at, Completion::read(Arc::new(Buffer::new(1))))?;
///         waiting = Some(c.clone());
///         Ok(IOResult::IO(c.into()))
///     }
/// }
///
/// // DeferredIO holds every read until the next step: all eight requests
/// // are suspended at once, four at a time, against the one `Store`.
/// let io = DeferredIO::memory();
/// let file = io.open_file("/data".as_ref(), OpenOptions::new()).unwrap();
/// io.wait(&file.pwrite(0, Arc::new(Buffer::from_vec((10..18).collect())), Completion::write()).unwrap())
///     .unwrap();
/// let mut store = Store { file, reads: 0 };
/// let mut driver = Driver::new(4);
/// let mut bytes = Vec::new();
/// driver.run(&io, &mut store, (0..8).map(read_byte), |_, r| bytes.push(r.unwrap())).unwrap();
/// bytes.sort();
/// assert_eq!(bytes, (10..18).collect::<Vec<u8>>());
/// assert_eq!(store.reads, 8);
/// ```
pub struct Driver<C: ?Sized, M> {
    slots: Vec<Slot<M>>,
    free: Vec<u32>,
    capacity: usize,
    /// Instances in slots.
    running: usize,
    /// Instances waiting for a completion that has not finished.
    waiting: usize,
    /// Queued by callbacks, not yet taken into `ready`.
    woken: Woken,
    /// Instances to run, in order.
    ready: VecDeque<Key>,
    /// How many entries at the front of `ready` belong to the current round.
    round_left: usize,
    /// Instances that started waiting since the backend was last stepped:
    /// their I/O may still be queued in it, not yet on the device.
    unsubmitted: usize,
    _cx: PhantomData<fn(&mut C)>,
}

impl<C: ?Sized, M> fmt::Debug for Driver<C, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("capacity", &self.capacity)
            .field("running", &self.running)
            .field("waiting", &self.waiting)
            .field("ready", &self.ready.len())
            .finish_non_exhaustive()
    }
}

/// Frees an instance's slot if its `resume` panics.
struct Unwinding<'a, C: ?Sized, M> {
    driver: &'a mut Driver<C, M>,
    index: u32,
}

impl<C: ?Sized, M> Drop for Unwinding<'_, C, M> {
    fn drop(&mut self) {
        self.driver.release(self.index);
    }
}

impl<C: ?Sized, M> Driver<C, M> {
    /// Frees the slot of an instance that finished (or panicked).
    fn release(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        slot.machine = None;
        if slot.waiting.take().is_some() {
            self.waiting -= 1;
        }
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.running -= 1;
    }
}

impl<C: ?Sized, M: Machine<C>> Driver<C, M> {
    /// A driver that runs at most `capacity` instances at once: at least 1,
    /// and at most `u32::MAX` (slots are indexed by `u32`), so
    /// [`capacity`](Self::capacity) returns the value clamped to that range.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, u32::MAX as usize);
        Driver {
            slots: Vec::new(),
            free: Vec::new(),
            capacity,
            running: 0,
            waiting: 0,
            woken: Arc::new(Mutex::new(Vec::new())),
            ready: VecDeque::new(),
            round_left: 0,
            unsubmitted: 0,
            _cx: PhantomData,
        }
    }

    /// The most instances in flight at once.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Instances in flight (started and not yet returned by `next`).
    #[must_use]
    pub fn len(&self) -> usize {
        self.running
    }

    /// Whether no instance is in flight.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.running == 0
    }

    /// Whether [`start`](Self::start) would refuse another instance.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.running >= self.capacity
    }

    /// Adds an instance; it first runs in the next round of
    /// [`next`](Self::next), after the instances already queued. Gives the
    /// instance back when `capacity` instances are in flight.
    pub fn start(&mut self, machine: M) -> Result<(), M> {
        if self.is_full() {
            return Err(machine);
        }
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    machine: None,
                    waiting: None,
                });
                // `capacity` fits in u32, and there are never more slots.
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.machine = Some(machine);
        self.running += 1;
        self.ready.push_back(Key {
            index,
            generation: slot.generation,
        });
        Ok(())
    }

    /// Runs instances until one finishes, and returns it with its result.
    /// `Ok(None)` when none is in flight.
    ///
    /// # Errors
    ///
    /// An error of the backend's `step`, or [`CompletionError::Stalled`] when
    /// instances wait for completions that nothing in flight can finish. The
    /// instances stay in the driver.
    #[allow(clippy::type_complexity)]
    pub fn next<I: IO + ?Sized>(
        &mut self,
        io: &I,
        cx: &mut C,
    ) -> Result<Option<(M, Result<M::Output, M::Error>)>, CompletionError> {
        loop {
            if self.round_left == 0 && !self.start_round(io)? {
                return Ok(None);
            }
            self.round_left -= 1;
            let Some(key) = self.ready.pop_front() else {
                continue;
            };
            if let Some(done) = self.resume(key, cx) {
                return Ok(Some(done));
            }
            if self.unsubmitted >= SUBMIT_EVERY && self.round_left > 0 {
                // Completions this delivers wake their instances for the next
                // round, as between rounds.
                self.unsubmitted = 0;
                io.try_step()?;
                self.take_woken();
            }
        }
    }

    /// Keeps the driver full from `requests` and hands every instance with
    /// its result to `on_done`, until `requests` is exhausted and every
    /// instance has finished.
    ///
    /// # Errors
    ///
    /// As [`next`](Self::next); the instances in flight stay in the driver.
    pub fn run<I: IO + ?Sized>(
        &mut self,
        io: &I,
        cx: &mut C,
        requests: impl IntoIterator<Item = M>,
        mut on_done: impl FnMut(M, Result<M::Output, M::Error>),
    ) -> Result<(), CompletionError> {
        let mut requests = requests.into_iter();
        loop {
            while !self.is_full() {
                match requests.next() {
                    Some(m) => {
                        // Not full, so it is taken.
                        let _ = self.start(m);
                    }
                    None => break,
                }
            }
            match self.next(io, cx)? {
                Some((m, result)) => on_done(m, result),
                None => return Ok(()),
            }
        }
    }

    /// Begins a round: the instances that became ready since the last one, in
    /// that order. Sleeps in `step` while none is ready. Returns false when
    /// nothing is in flight.
    fn start_round<I: IO + ?Sized>(&mut self, io: &I) -> Result<bool, CompletionError> {
        // Every path below steps the backend, or finds nothing in flight.
        self.unsubmitted = 0;
        self.take_woken();
        if self.ready.is_empty() {
            loop {
                if self.running == 0 {
                    return Ok(false);
                }
                let finished = io.step()?;
                self.take_woken();
                if !self.ready.is_empty() {
                    break;
                }
                if finished == 0 {
                    // Nothing in flight in the backend, and our instances
                    // still wait: nothing will ever wake them.
                    return Err(CompletionError::Stalled);
                }
            }
        } else if self.waiting > 0 {
            // Some instances are ready (yielded, or just started) while
            // others wait for I/O: deliver what has arrived without waiting,
            // so that the waiting ones join this round instead of starving.
            io.try_step()?;
            self.take_woken();
        }
        self.round_left = self.ready.len();
        Ok(true)
    }

    /// Moves the wake-ups queued by callbacks into `ready`.
    fn take_woken(&mut self) {
        let mut woken = lock(&self.woken);
        for key in woken.drain(..) {
            let Some(slot) = self.slots.get_mut(key.index as usize) else {
                continue;
            };
            // A stale wake-up (the instance finished or was dropped since) or
            // a second one for the same wait is ignored.
            if slot.generation == key.generation && slot.waiting.take().is_some() {
                self.waiting -= 1;
                self.ready.push_back(key);
            }
        }
    }

    /// Calls the instance of `key`; returns it with its result if it
    /// finished.
    #[allow(clippy::type_complexity)]
    fn resume(&mut self, key: Key, cx: &mut C) -> Option<(M, Result<M::Output, M::Error>)> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation || slot.waiting.is_some() {
            return None;
        }
        let mut machine = slot.machine.take()?;
        let guard = Unwinding {
            driver: self,
            index: key.index,
        };
        let outcome = machine.resume(cx);
        std::mem::forget(guard);
        match outcome {
            Ok(IOResult::Done(v)) => {
                self.release(key.index);
                Some((machine, Ok(v)))
            }
            Err(e) => {
                self.release(key.index);
                Some((machine, Err(e)))
            }
            Ok(IOResult::IO(io)) => {
                let c = io.into_completion();
                let slot = &mut self.slots[key.index as usize];
                slot.machine = Some(machine);
                if c.finished() {
                    // A yield (or force-suspend): to the back of the queue,
                    // where it runs in the next round.
                    self.ready.push_back(key);
                } else {
                    slot.waiting = Some(c.clone());
                    self.waiting += 1;
                    self.unsubmitted += 1;
                    let woken = self.woken.clone();
                    // Queued only once `c` has finished (every callback
                    // returned, the result visible), whichever thread
                    // finishes it; at once if it finished meanwhile.
                    c.on_finished(move || lock(&woken).push(key));
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::{Buffer, DeferredIO, File, OpenOptions};

    /// A backend that counts the reads started since it was last stepped,
    /// and keeps the most it ever saw at a step: the longest a device could
    /// have waited for reads that a driver had already started.
    struct Counting {
        io: DeferredIO,
        started: Arc<AtomicUsize>,
        most_at_a_step: AtomicUsize,
    }

    impl Counting {
        fn stepping(&self) {
            let n = self.started.swap(0, Ordering::Relaxed);
            self.most_at_a_step.fetch_max(n, Ordering::Relaxed);
        }
    }

    impl IO for Counting {
        fn open_file(&self, path: &Path, options: OpenOptions) -> std::io::Result<Arc<dyn File>> {
            self.io.open_file(path, options)
        }
        fn remove_file(&self, path: &Path) -> std::io::Result<()> {
            self.io.remove_file(path)
        }
        fn step(&self) -> Result<usize, CompletionError> {
            self.stepping();
            self.io.step()
        }
        fn try_step(&self) -> Result<usize, CompletionError> {
            self.stepping();
            self.io.try_step()
        }
    }

    #[test]
    fn a_long_round_hands_its_reads_to_the_backend_as_it_goes() {
        let io = Counting {
            io: DeferredIO::memory(),
            started: Arc::new(AtomicUsize::new(0)),
            most_at_a_step: AtomicUsize::new(0),
        };
        let file = io.open_file("/f".as_ref(), OpenOptions::new()).unwrap();
        io.wait(
            &file
                .pwrite(0, Arc::new(Buffer::from_vec(vec![1; 64])), Completion::write())
                .unwrap(),
        )
        .unwrap();
        io.stepping();
        io.most_at_a_step.store(0, Ordering::Relaxed);
        let started = io.started.clone();
        // 64 one-read requests, 32 in flight: every round runs up to 32
        // instances, each starting a read.
        let requests = (0..64u64).map(|i| {
            let mut waiting: Option<Completion> = None;
            let started = started.clone();
            move |f: &mut Arc<dyn File>| -> Result<IOResult<u64>, CompletionError> {
                if let Some(c) = waiting.take() {
                    return c
                        .result()
                        .unwrap_or(Err(CompletionError::Stalled))
                        .map(|_| IOResult::Done(i));
                }
                started.fetch_add(1, Ordering::Relaxed);
                let c = f.pread(i, Completion::read(Arc::new(Buffer::new(1))))?;
                waiting = Some(c.clone());
                Ok(IOResult::IO(c.into()))
            }
        });
        let mut file = file;
        let mut done = Vec::new();
        Driver::new(32)
            .run(&io, &mut file, requests, |_, r| done.push(r.unwrap()))
            .unwrap();
        done.sort_unstable();
        assert_eq!(done, (0..64).collect::<Vec<u64>>());
        let most = io.most_at_a_step.load(Ordering::Relaxed);
        // Without the mid-round steps a round's 32 reads all wait for its end.
        assert!(
            most <= 4,
            "{most} reads were started before the backend was stepped (at most 4 expected)"
        );
    }
}
