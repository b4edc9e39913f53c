//! Awaiting a machine from a tokio task (feature `tokio`).
//!
//! A machine holds no borrow between calls, so a tokio task can run one
//! against a shared engine and hold the engine's lock only during each call,
//! never across an `.await`: the pattern an `async fn` engine cannot have
//! (its future borrows the engine until it is done).
//!
//! ```no_run
//! # #[cfg(target_os = "linux")] {
//! use std::sync::{Arc, Mutex};
//! use ratchet::{IOResult, IO, CompletionError, UringIO};
//! use ratchet::tokio::TokioIO;
//!
//! # struct Engine;
//! # impl Engine { fn get(&mut self, _st: &mut u8, _k: &[u8]) -> Result<IOResult<Option<Vec<u8>>>, CompletionError> { Ok(IOResult::Done(None)) } }
//! # async fn serve(engine: Arc<Mutex<Engine>>) -> Result<(), Box<dyn std::error::Error>> {
//! let io = TokioIO::new(Arc::new(UringIO::new()?))?;
//! let mut st = 0u8; // the request's own state (a generated `GetState`)
//! let value = ratchet::tokio::run(&io, || engine.lock().unwrap().get(&mut st, b"key")).await?;
//! # Ok(()) }
//! # }
//! ```
//!
//! How the I/O is waited for depends on the backend:
//!
//! - A backend with a readiness descriptor ([`IO::ready_fd`]; `UringIO`):
//!   after each call that returns `IO`, [`run`] hands the new operations to
//!   the kernel without waiting ([`IO::try_step`]) and the task sleeps until
//!   its completion has finished. One task of [`TokioIO`]'s own waits for the
//!   ring's eventfd through tokio's reactor (`AsyncFd`) and, when it becomes
//!   readable, delivers what finished with `try_step`, which wakes the
//!   tasks waiting on those completions. No thread per wait, no busy loop,
//!   no worker thread blocked.
//! - A backend without one (`BlockingIO`, `MemoryIO`): each call of the
//!   machine performs its syscalls inline, so on a worker thread of a
//!   multi-thread runtime it runs inside `tokio::task::block_in_place`,
//!   which hands the worker's other tasks to another thread meanwhile.
//!   Anywhere else it runs inline, blocking only the thread that runs it,
//!   as any blocking call there does: on a current-thread runtime, and on a
//!   multi-thread runtime's threads that drive a future of their own (a
//!   `block_on`'s, a `LocalSet`'s, where tokio refuses `block_in_place`).
//!   Completions that are still pending afterwards (`DeferredIO`, `SimIO`)
//!   are delivered with `try_step`.
//!
//! # io_uring's SINGLE_ISSUER and DEFER_TASKRUN
//!
//! `UringIO`'s default ring is set up with `IORING_SETUP_SINGLE_ISSUER` and
//! `IORING_SETUP_DEFER_TASKRUN`: only the first thread that steps it may
//! enter it, and completions are posted only when that thread asks. Both
//! uses are supported:
//!
//! - **One thread owns the ring**: a current-thread runtime (or a
//!   `LocalSet`) runs every task that uses the backend, and the
//!   eventfd task, on one thread. The default ring works, with its flags.
//! - **A multi-thread runtime**: tasks move between worker threads, so the
//!   ring must accept any thread: build it with
//!   `UringIO::builder().single_issuer(false).defer_taskrun(false)`. With
//!   the default ring, a step from a second thread fails with an error that
//!   says so.
//!
//! `docs/BENCHMARKS.md` ("pagekv server") compares the two.
//!
//! # When the reactor's task cannot go on
//!
//! - A callback that panics while the reactor's task delivers: the rest of
//!   the batch is delivered (see the runtime's rule for panicking
//!   callbacks), the task keeps serving, and the panic is resumed, with its
//!   payload, in the next [`run`] of this `TokioIO` that looks (every `run`
//!   looks after each call of its machine and each wait): a panic never
//!   disappears, and no later machine hangs because of it.
//! - A step that fails (the default ring stepped from a thread that does
//!   not own it, on a multi-thread runtime): no completion could be
//!   delivered any more, so the failure is sticky. Every `run` waiting and
//!   every later one returns that error (for the default ring,
//!   [`CompletionError::Unsupported`], saying to build the ring with
//!   `single_issuer(false)`), instead of waiting for a wake-up that cannot
//!   come.
//! - The runtime the `TokioIO` was made in is gone (shut down or dropped)
//!   while the `TokioIO` lives on, used from another runtime: its task went
//!   with it, and nothing delivers the backend's completions any more.
//!   Every `run` waiting, and every later one, returns
//!   [`CompletionError::Unsupported`] saying so; make a `TokioIO` in the
//!   runtime that uses it. (A backend without a descriptor has no such task,
//!   and goes on working.)

use std::any::Any;
use std::collections::BTreeMap;
use std::fs::File as StdFile;
use std::future::Future;
use std::io::{self, Read};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use ::tokio::io::unix::AsyncFd;
use ::tokio::runtime::{Handle, RuntimeFlavor};
use ::tokio::task::JoinHandle;

use crate::{Completion, CompletionError, IO, IOResult};

/// A backend shared by tokio tasks: [`run`] awaits machines on it.
///
/// Made inside a tokio runtime (it registers the backend's readiness
/// descriptor with the runtime's reactor and spawns the task that waits on
/// it), and used from tasks of that runtime: once that runtime is gone, a
/// `TokioIO` over such a backend returns an error from every [`run`]
/// instead of waiting. Cheap to share by reference; dropping it stops its
/// task.
pub struct TokioIO {
    io: Arc<dyn IO>,
    /// The task that delivers completions when the backend's descriptor
    /// becomes readable; `None` for backends without one.
    reactor: Option<JoinHandle<()>>,
    /// What the reactor's task hands to the `run`s: a panic, a failure.
    news: Arc<News>,
}

/// What the reactor's task could not handle itself (see "When the
/// reactor's task cannot go on" in the module documentation).
#[derive(Default)]
struct News {
    /// Set when `state` holds a panic or a failure, so that `run` looks at
    /// the lock only then.
    any: AtomicBool,
    state: Mutex<NewsState>,
    next_id: AtomicU64,
}

#[derive(Default)]
struct NewsState {
    /// A callback's panic caught in the reactor's task, for the next `run`.
    panic: Option<Box<dyn Any + Send>>,
    /// The step failure that stopped the reactor's task, for every `run`.
    failed: Option<CompletionError>,
    /// The `run`s waiting for a completion, woken when the task stops.
    waiting: BTreeMap<u64, Waker>,
}

impl News {
    fn lock(&self) -> MutexGuard<'_, NewsState> {
        // A panic while this lock is held leaves a consistent map behind.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Resumes a held panic, or returns the sticky failure.
    fn check(&self) -> Result<(), CompletionError> {
        if !self.any.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut st = self.lock();
        if let Some(payload) = st.panic.take() {
            drop(st);
            resume_unwind(payload);
        }
        st.failed.map_or(Ok(()), Err)
    }

    fn panicked(&self, payload: Box<dyn Any + Send>) {
        let mut st = self.lock();
        st.panic.get_or_insert(payload);
        self.any.store(true, Ordering::Release);
    }

    /// The reactor's task stops: every waiting `run` is woken to see why.
    fn failed(&self, err: CompletionError) {
        let waiting = {
            let mut st = self.lock();
            st.failed.get_or_insert(err);
            self.any.store(true, Ordering::Release);
            std::mem::take(&mut st.waiting)
        };
        for waker in waiting.into_values() {
            waker.wake();
        }
    }
}

impl std::fmt::Debug for TokioIO {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokioIO")
            .field("reactor", &self.reactor.is_some())
            .finish_non_exhaustive()
    }
}

impl TokioIO {
    /// Shares `io` with the tasks of the current tokio runtime.
    ///
    /// # Errors
    ///
    /// Outside a tokio runtime, or when the reactor refuses the backend's
    /// descriptor.
    pub fn new(io: Arc<dyn IO>) -> io::Result<TokioIO> {
        let handle = Handle::try_current().map_err(|e| io::Error::other(format!("ratchet::tokio: {e}")))?;
        let news = Arc::new(News::default());
        let reactor = match io.ready_fd() {
            None => None,
            Some(fd) => {
                // tokio deprecates `new` because for an arbitrary `T` the
                // descriptor could change or close while registered (its
                // replacement, `register`, is `unsafe`). A `File` owns its
                // descriptor: it stays open, and the same, until the
                // `AsyncFd` drops it.
                #[allow(deprecated)]
                let fd = AsyncFd::new(StdFile::from(fd.try_clone_to_owned()?))?;
                Some(handle.spawn(deliver_when_ready(io.clone(), fd, Gone(news.clone()))))
            }
        };
        Ok(TokioIO { io, reactor, news })
    }

    /// The backend.
    #[must_use]
    pub fn io(&self) -> &Arc<dyn IO> {
        &self.io
    }

    /// Runs `machine` to `Done`: see [`run`].
    ///
    /// # Errors
    ///
    /// The machine's error, or the backend's (as [`crate::IOExt::block`]),
    /// the reactor's task's included.
    ///
    /// # Panics
    ///
    /// Resumes a callback's panic caught by the reactor's task.
    pub async fn run<T, E>(&self, mut machine: impl FnMut() -> Result<IOResult<T>, E>) -> Result<T, E>
    where
        E: From<CompletionError>,
    {
        // Only a backend without a descriptor makes its syscalls inside the
        // machine's calls; see `may_block_in_place` for where they go.
        let multi_thread = self.reactor.is_none()
            && Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
        loop {
            self.news.check()?;
            // Asked before each call: a task may move between threads at
            // every `.await`.
            let step = if multi_thread && may_block_in_place() {
                ::tokio::task::block_in_place(&mut machine)?
            } else {
                machine()?
            };
            let c = match step {
                IOResult::Done(v) => return Ok(v),
                IOResult::IO(io) => io.into_completion(),
            };
            if c.is_yield() {
                // An explicit cooperative yield: to tokio's scheduler.
                ::tokio::task::yield_now().await;
                continue;
            }
            if self.reactor.is_some() {
                // Hands the operations the call started to the device (and
                // delivers what has already finished); the reactor's task
                // delivers the rest.
                if !c.finished() {
                    self.io.try_step()?;
                }
            } else {
                // Deferred and simulated backends finish completions in
                // their steps, which never wait for a device.
                while !c.finished() && self.io.try_step()? > 0 {}
            }
            finished_or_yield(&c, &self.news).await;
        }
    }
}

impl Drop for TokioIO {
    fn drop(&mut self) {
        if let Some(task) = &self.reactor {
            task.abort();
        }
    }
}

/// Whether this thread is a worker of a multi-thread runtime (the caller
/// knows the flavor), where `block_in_place` hands the worker's other tasks
/// to another thread while a call blocks.
///
/// Anywhere else on such a runtime the thread is one that drives a future of
/// its own (the thread of a `block_on`, a `LocalSet`'s, a blocking thread in
/// `Handle::block_on`): a call blocks only that thread, as on a
/// current-thread runtime, so it runs inline. Inside a `LocalSet` it must:
/// tokio refuses `block_in_place` there (it panics), and has no query for a
/// `LocalSet`. The worker's index is the query that fits, since
/// `block_in_place` itself tells a worker by the same scheduler context.
fn may_block_in_place() -> bool {
    ::tokio::runtime::worker_index().is_some()
}

/// Runs `machine` to `Done` from a tokio task, calling it again each time
/// the completion it returned has finished, and holding nothing of it
/// across an `.await`: a closure that locks an engine for each call
/// (`|| engine.lock().unwrap().get(&mut st, key)`) keeps the lock only
/// during the call.
///
/// # Errors
///
/// The machine's error, or the backend's.
///
/// # Panics
///
/// Resumes a callback's panic caught by the reactor's task (see the module
/// documentation).
pub async fn run<T, E>(io: &TokioIO, machine: impl FnMut() -> Result<IOResult<T>, E>) -> Result<T, E>
where
    E: From<CompletionError>,
{
    io.run(machine).await
}

/// What `run` returns once the runtime that ran the reactor's task is gone
/// (shut down or dropped): nothing can deliver this backend's completions
/// any more.
const REACTOR_GONE: &str = "ratchet::tokio: the runtime this TokioIO was made in is gone (shut down or dropped), \
     and its task that delivered the backend's completions with it; make a TokioIO in the runtime that uses it";

/// The reactor's task's hold on [`News`]: when the task's future is dropped
/// without having stopped on a failure of its own (its runtime shut down,
/// even before the task first ran), every `run` waiting, and every later
/// one, gets [`REACTOR_GONE`] instead of waiting for a delivery that cannot
/// come. Held in the future from its creation, so that even a task that
/// never ran drops it.
struct Gone(Arc<News>);

/// What `run` returns if the reactor's task panicked outside a callback
/// (a callback's panic is caught and handed on; see the module docs).
const REACTOR_PANICKED: &str = "ratchet::tokio: the task that delivered this TokioIO's completions panicked";

impl Drop for Gone {
    fn drop(&mut self) {
        let why = if std::thread::panicking() {
            REACTOR_PANICKED
        } else {
            REACTOR_GONE
        };
        // A failure recorded first (a step's) stays the one reported.
        self.0.failed(CompletionError::Unsupported(why));
    }
}

/// The task behind a backend's descriptor: each time it becomes readable,
/// clears it and delivers what has finished (whose callbacks wake the tasks
/// waiting on them).
async fn deliver_when_ready(io: Arc<dyn IO>, fd: AsyncFd<StdFile>, gone: Gone) {
    let news = &gone.0;
    let mut count = [0u8; 8];
    loop {
        let mut ready = match fd.readable().await {
            Ok(ready) => ready,
            Err(e) => {
                news.failed(CompletionError::Io(e.kind()));
                return;
            }
        };
        // Cleared before the step: a finish after this point makes the
        // descriptor readable again, so none is missed.
        ready.clear_ready();
        let mut counter: &StdFile = fd.get_ref();
        while let Ok(8) = counter.read(&mut count) {}
        // A callback's panic must not end this task: every later machine
        // would wait for a delivery that never comes. The batch was
        // delivered all the same; the panic goes to the next `run`.
        match catch_unwind(AssertUnwindSafe(|| io.try_step())) {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => {
                // Nothing can be delivered from here any more: the waiting
                // runs, and all later ones, get the error instead of a
                // wake-up that cannot come.
                news.failed(err);
                return;
            }
            Err(payload) => news.panicked(payload),
        }
    }
}

/// Waits for `c`; when it has finished already (a ready completion, or one
/// this task's own `try_step` delivered), yields to tokio's scheduler
/// instead, as the runtime's `Driver` treats it: a machine that keeps
/// returning finished completions must not starve the other tasks.
async fn finished_or_yield(c: &Completion, news: &Arc<News>) {
    if c.finished() {
        ::tokio::task::yield_now().await;
    } else {
        Finished::new(c, news).await;
    }
}

/// Resolves once a completion has finished (its callbacks have returned),
/// or the reactor's task has stopped (which `run` then reports).
struct Finished {
    /// `None` until the first poll registers the callback.
    slot: Option<Arc<Mutex<Slot>>>,
    c: Completion,
    news: Arc<News>,
    /// The key of this wait among `news`'s waiting ones.
    id: u64,
}

struct Slot {
    done: bool,
    waker: Option<Waker>,
}

impl Finished {
    fn new(c: &Completion, news: &Arc<News>) -> Finished {
        Finished {
            slot: None,
            c: c.clone(),
            news: news.clone(),
            id: news.next_id.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Whether the reactor's task has stopped; otherwise registers to be
    /// woken if it does.
    fn reactor_stopped(&self, cx: &Context<'_>) -> bool {
        let mut st = self.news.lock();
        if st.failed.is_some() {
            return true;
        }
        match st.waiting.get(&self.id) {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => {
                st.waiting.insert(self.id, cx.waker().clone());
            }
        }
        false
    }
}

impl Drop for Finished {
    fn drop(&mut self) {
        if self.slot.is_some() {
            self.news.lock().waiting.remove(&self.id);
        }
    }
}

impl Future for Finished {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.c.finished() {
            return Poll::Ready(());
        }
        let slot = match &self.slot {
            Some(slot) => slot.clone(),
            None => {
                let slot = Arc::new(Mutex::new(Slot {
                    done: false,
                    waker: Some(cx.waker().clone()),
                }));
                let wake = slot.clone();
                // Woken only once the completion has finished (every
                // callback returned, the result visible on every thread);
                // at once if it finished meanwhile.
                self.c.on_finished(move || {
                    let waker = {
                        let mut s = wake.lock().unwrap_or_else(PoisonError::into_inner);
                        s.done = true;
                        s.waker.take()
                    };
                    if let Some(w) = waker {
                        w.wake();
                    }
                });
                self.slot = Some(slot.clone());
                slot
            }
        };
        {
            let mut s = slot.lock().unwrap_or_else(PoisonError::into_inner);
            if s.done {
                return Poll::Ready(());
            }
            match &s.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => s.waker = Some(cx.waker().clone()),
            }
        }
        if self.reactor_stopped(cx) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}
