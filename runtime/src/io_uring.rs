//! `UringIO`: the io_uring backend, built on the `io-uring` crate.
//!
//! Operations are pushed to the submission queue (SQ) when they are issued and
//! handed to the kernel in one `io_uring_enter` by [`IO::step`], or earlier
//! when the SQ fills. Every in-flight operation lives in a slot of the ring
//! state until its completion-queue entry (CQE) arrives: the slot holds the
//! user's completion (through its [`InFlight`] guard), the buffers and the
//! file, so that nothing the kernel may still touch is freed or reused,
//! whatever the user does with their own handles meanwhile.
//!
//! This is the only module of ratchet with `unsafe` code: pushing an SQE
//! (the kernel will dereference the addresses in it) and two raw
//! `io_uring_enter` calls. Each block says why it is sound.

#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::fs;
use std::io;
use std::ops::{Deref, DerefMut};
use std::os::fd::AsRawFd;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, Weak};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use ::io_uring::{IoUring, Probe, cqueue, opcode, squeue, types};

use crate::buffer::{Buffer, DIRECT_IO_ALIGN, DeviceHold};
use crate::completion::{Completion, CompletionError, InFlight, Outcome, SyncMode};
use crate::deliver::Deliveries;
use crate::io::{File, IO, OpenOptions};
use crate::validate::{self, Mode, reject};

/// Submission-queue entries of a default ring. 256 lets a busy machine hand
/// a whole batch to the kernel in one `io_uring_enter`, while the SQE array
/// (16 KiB) still fits in L2; bigger rings buy nothing at the queue depths
/// storage engines run, and cost memory that is pinned for the ring's life.
const DEFAULT_ENTRIES: u32 = 256;

/// Completion-queue entries per submission entry by default. Requests in
/// the kernel are capped at the CQ size (so the CQ can never overflow), and
/// operations at the CQ size less the SQ size (so async cancels always find
/// room), so a larger factor lets more operations run than one SQ batch
/// holds; 4 gives 768 operations in flight for 1024 × 16 bytes of CQ.
const DEFAULT_CQ_FACTOR: u32 = 4;

/// The kernel's limits (`IORING_MAX_ENTRIES`, `IORING_MAX_CQ_ENTRIES`):
/// more SQ entries are refused with `EINVAL`, so they are refused up front
/// with a message; a derived CQ size is kept within the CQ limit.
const MAX_SQ_ENTRIES: u32 = 32_768;
const MAX_CQ_ENTRIES: u32 = 2 * MAX_SQ_ENTRIES;

/// `user_data` of async-cancel requests. Their CQEs only say whether the
/// cancel found its target; the target's own CQE does the bookkeeping.
const CANCEL_USER_DATA: u64 = u64::MAX;

/// Longest transfer one SQE carries. CQE results are `i32`, so a transfer
/// must stay below 2 GiB; longer ones continue like short reads and writes.
const MAX_TRANSFER: usize = 1 << 30;

/// CQEs copied out of the CQ at a time by `State::reap`.
const REAP_BATCH: usize = 32;

/// Iovecs one `Writev` SQE carries (Linux's `IOV_MAX`); longer vectors
/// continue like short writes.
const IOV_MAX: usize = 1024;

/// Why a step from another thread is refused.
const OTHER_THREAD: &str = "this UringIO is bound to the first thread that stepped it \
     (IORING_SETUP_SINGLE_ISSUER); build it with UringIO::builder().single_issuer(false) \
     to step it from several threads";

/// How long `step` waits for a CQE before it looks for aborted operations
/// to cancel (and then waits again). The look walks every in-flight
/// operation, so doing it before each wait would cost the hot path; waiting
/// this long first costs nothing while operations keep finishing, and delays
/// the release of an aborted operation that would never finish by at most
/// this much.
const ABORT_SCAN_AFTER: Duration = Duration::from_millis(10);

/// `IORING_ENTER_GETEVENTS`, which the `io-uring` crate does not export.
const IORING_ENTER_GETEVENTS: u32 = 1;

/// How long a step whose wait timed out lets threads blocked on the ring's
/// lock take it first, at most.
const HANDOFF: Duration = Duration::from_millis(1);

/// How long dropping a [`UringIO`] waits for the kernel to let go of the
/// operations it cancels. Operations that honour cancellation (reads of
/// pipes and sockets, anything not yet started) end within milliseconds; one
/// that does not end by then is leaked with its buffers, never freed while
/// the kernel may write them.
const DROP_DEADLINE: Duration = Duration::from_secs(5);

/// The kernel's cap on registered buffers (`IORING_MAX_REG_BUFFERS`).
const MAX_REGISTERED_BUFFERS: u32 = 1 << 14;

/// Resubmissions of one operation after `-EAGAIN`/`-EINTR` CQEs before it
/// fails. Regular files never get there; the cap turns a device that keeps
/// answering "try again" into an error instead of a busy loop.
const MAX_RETRIES: u32 = 1000;

/// How a ring is set up: what [`UringIO`] asks of the kernel.
///
/// ```no_run
/// # extern crate ratchet_runtime as ratchet;
/// use ratchet::{UringIO};
/// use ratchet::uring::UringOptions;
/// let io: UringIO = UringOptions::new().entries(512).build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UringOptions {
    entries: u32,
    cq_entries: Option<u32>,
    sqpoll_idle: Option<Duration>,
    coop_taskrun: bool,
    single_issuer: bool,
    defer_taskrun: bool,
    registered_buffers: u32,
    /// `None`: `O_DIRECT` operations only.
    submit_on_issue: Option<bool>,
}

impl Default for UringOptions {
    fn default() -> Self {
        UringOptions {
            entries: DEFAULT_ENTRIES,
            cq_entries: None,
            sqpoll_idle: None,
            coop_taskrun: true,
            single_issuer: true,
            defer_taskrun: true,
            registered_buffers: 0,
            submit_on_issue: None,
        }
    }
}

impl UringOptions {
    /// The defaults: 256 SQ entries, a CQ four times that,
    /// `COOP_TASKRUN`, `SINGLE_ISSUER` and `DEFER_TASKRUN` where the kernel accepts them, no
    /// SQPOLL.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Submission-queue entries (the kernel rounds up to a power of two); at
    /// most 32768, the kernel's limit: [`UringOptions::build`] refuses more
    /// with `ErrorKind::InvalidInput`.
    #[must_use]
    pub fn entries(self, entries: u32) -> Self {
        UringOptions {
            entries: entries.max(1),
            ..self
        }
    }

    /// Completion-queue entries; at least twice the SQ entries (smaller
    /// values are raised). Operations in flight are capped at this less the
    /// SQ entries, which leaves room for the cancels of all of them.
    #[must_use]
    pub fn cq_entries(self, cq_entries: u32) -> Self {
        UringOptions {
            cq_entries: Some(cq_entries),
            ..self
        }
    }

    /// Runs a kernel thread that polls the SQ (`IORING_SETUP_SQPOLL`), which
    /// sleeps after `idle` without work. Off by default: on a machine with
    /// few cores the polling thread competes with the application and is
    /// many times slower at low queue depth.
    #[must_use]
    pub fn sqpoll(self, idle: Option<Duration>) -> Self {
        UringOptions {
            sqpoll_idle: idle,
            ..self
        }
    }

    /// Asks for `IORING_SETUP_COOP_TASKRUN` (on by default; dropped silently
    /// where the kernel refuses it): completions are not announced by
    /// interrupting the thread, since [`IO::step`] enters the kernel anyway.
    #[must_use]
    pub fn coop_taskrun(self, on: bool) -> Self {
        UringOptions {
            coop_taskrun: on,
            ..self
        }
    }

    /// Asks for `IORING_SETUP_SINGLE_ISSUER` (on by default; dropped silently
    /// where the kernel refuses it). The ring then belongs to the first
    /// thread that submits to it, normally the first to call
    /// [`IO::step`]: operations may still be issued from any thread, but
    /// stepping from another thread fails with
    /// [`CompletionError::Unsupported`]. Switch it off to step one backend
    /// from several threads. A stepping thread may then exit while
    /// operations it submitted for others are in the kernel: the kernel
    /// cancels them, and the backend submits them again.
    #[must_use]
    pub fn single_issuer(self, on: bool) -> Self {
        UringOptions {
            single_issuer: on,
            ..self
        }
    }

    /// Asks for `IORING_SETUP_DEFER_TASKRUN` (on by default, with
    /// `SINGLE_ISSUER` and without SQPOLL; dropped silently where the kernel
    /// refuses it): the kernel finishes requests that completed
    /// asynchronously (device interrupts) only when [`IO::step`] waits, in
    /// one batch, instead of interrupting the thread for each. Requires the
    /// same thread to step the backend, which `SINGLE_ISSUER` enforces.
    #[must_use]
    pub fn defer_taskrun(self, on: bool) -> Self {
        UringOptions {
            defer_taskrun: on,
            ..self
        }
    }

    /// Hands each operation to the kernel as it is issued, in an
    /// `io_uring_enter` of its own that also collects what has finished
    /// meanwhile (as fio does), instead of in one batch at the next
    /// [`IO::step`]: `true` for every operation, `false` for none. By
    /// default, operations on files opened with `O_DIRECT` only: they wait
    /// tens of microseconds for a device, which gets each sooner (6–17% more
    /// reads per second at queue depth 32 here), while reads served from
    /// the page cache would pay a system call each (27% fewer per second);
    /// docs/BENCHMARKS.md has the figures. Only on the thread that steps the
    /// ring (any thread without `SINGLE_ISSUER`); operations issued
    /// elsewhere wait for the step as usual.
    #[must_use]
    pub fn submit_on_issue(self, on: bool) -> Self {
        UringOptions {
            submit_on_issue: Some(on),
            ..self
        }
    }

    /// Registers the buffers of `O_DIRECT` reads and writes with the kernel
    /// (`IORING_REGISTER_BUFFERS`), up to `count` at a time, and issues those
    /// operations as `READ_FIXED`/`WRITE_FIXED`: the kernel then maps each
    /// buffer's pages once instead of pinning them for every operation. Off
    /// (0) by default; the measured effect is in docs/BENCHMARKS.md.
    ///
    /// A buffer is registered the first time an `O_DIRECT` operation on this
    /// ring uses it (from the thread that steps the ring; operations issued
    /// elsewhere before that go unregistered), and the ring keeps a handle
    /// of it while it is registered: its memory is freed only when another
    /// buffer takes its place in a full table (when nothing but the table
    /// holds it any more) or when the ring is dropped. So up to `count`
    /// buffers a program has dropped may stay allocated. Where the kernel
    /// lacks sparse buffer tables (before Linux 5.19) the option is dropped
    /// silently ([`UringIO::describe`] says whether it is on). At most 16,384.
    #[must_use]
    pub fn registered_buffers(self, count: u32) -> Self {
        UringOptions {
            registered_buffers: count.min(MAX_REGISTERED_BUFFERS),
            ..self
        }
    }

    /// Sets up the ring. Fails with the reason when io_uring is unavailable.
    pub fn build(self) -> io::Result<UringIO> {
        UringIO::with_options(self)
    }

    fn cq_size(&self) -> u32 {
        let sq = self.entries.checked_next_power_of_two().unwrap_or(u32::MAX);
        self.cq_entries
            .unwrap_or_else(|| sq.saturating_mul(DEFAULT_CQ_FACTOR).min(MAX_CQ_ENTRIES))
            .max(sq.saturating_mul(2))
    }
}

/// The set-up flags the kernel accepted, and the opcodes it offers.
#[derive(Debug, Clone, Copy)]
struct RingInfo {
    sq_entries: u32,
    cq_entries: u32,
    coop_taskrun: bool,
    single_issuer: bool,
    defer_taskrun: bool,
    submit_all: bool,
    sqpoll: bool,
    /// `IORING_OP_FTRUNCATE` (Linux 6.9); without it truncation is a syscall.
    ftruncate: bool,
    /// `IORING_FEAT_EXT_ARG` (Linux 5.11): waits with a timeout.
    ext_arg: bool,
    /// Entries of the sparse registered-buffer table (0: none).
    fixed_buffers: u32,
    /// [`UringOptions::submit_on_issue`].
    submit_on_issue: Option<bool>,
}

/// Creates a ring as `opts` asks, dropping `COOP_TASKRUN`, `SINGLE_ISSUER`
/// and `SUBMIT_ALL` one after another while the kernel refuses them
/// (`EINVAL` from an older kernel), and checks the opcodes ratchet needs.
fn setup_ring(opts: &UringOptions) -> io::Result<(IoUring, RingInfo)> {
    if opts.entries > MAX_SQ_ENTRIES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "io_uring takes at most 32768 submission-queue entries (UringOptions::entries)",
        ));
    }
    // DEFER_TASKRUN needs SINGLE_ISSUER and refuses SQPOLL.
    let defer = opts.defer_taskrun && opts.single_issuer && opts.sqpoll_idle.is_none();
    let wants = [
        (opts.coop_taskrun, opts.single_issuer, defer, true),
        (opts.coop_taskrun, opts.single_issuer, false, true),
        (opts.coop_taskrun, false, false, true),
        (false, false, false, true),
        (false, false, false, false),
    ];
    let mut last_err = None;
    for (i, &(coop, single, defer, submit_all)) in wants.iter().enumerate() {
        if i > 0 && wants[i - 1] == wants[i] {
            continue;
        }
        let mut builder = IoUring::builder();
        builder.setup_cqsize(opts.cq_size());
        if let Some(idle) = opts.sqpoll_idle {
            builder.setup_sqpoll(u32::try_from(idle.as_millis()).unwrap_or(u32::MAX));
        }
        if coop {
            builder.setup_coop_taskrun();
        }
        if single {
            // Disabled until the first submission, so that the thread which
            // steps the backend (not the one that built it) is the issuer.
            builder.setup_single_issuer().setup_r_disabled();
        }
        if defer {
            builder.setup_defer_taskrun();
        }
        if coop || defer {
            // The kernel then raises IORING_SQ_TASKRUN while completions wait
            // for this task to run them, so `try_step` enters the kernel
            // only when there is something to collect.
            builder.setup_taskrun_flag();
        }
        if submit_all {
            builder.setup_submit_all();
        }
        match builder.build(opts.entries) {
            Ok(ring) => {
                let mut probe = Probe::new();
                ring.submitter()
                    .register_probe(&mut probe)
                    .map_err(|e| unavailable(&e, "IORING_REGISTER_PROBE failed"))?;
                for (code, name) in [
                    (opcode::Read::CODE, "IORING_OP_READ"),
                    (opcode::Write::CODE, "IORING_OP_WRITE"),
                    (opcode::Writev::CODE, "IORING_OP_WRITEV"),
                    (opcode::Fsync::CODE, "IORING_OP_FSYNC"),
                    (opcode::AsyncCancel::CODE, "IORING_OP_ASYNC_CANCEL"),
                ] {
                    if !probe.is_supported(code) {
                        return Err(io::Error::new(
                            io::ErrorKind::Unsupported,
                            format!("the kernel's io_uring lacks {name} (Linux 5.6 or later has it)"),
                        ));
                    }
                }
                let params = ring.params();
                let info = RingInfo {
                    sq_entries: params.sq_entries(),
                    cq_entries: params.cq_entries(),
                    coop_taskrun: coop,
                    single_issuer: single,
                    defer_taskrun: defer,
                    submit_all,
                    sqpoll: params.is_setup_sqpoll(),
                    ftruncate: probe.is_supported(opcode::Ftruncate::CODE),
                    ext_arg: params.is_feature_ext_arg(),
                    // An empty table now, filled as buffers are first used;
                    // refused by kernels before 5.19, which then go without.
                    fixed_buffers: match opts.registered_buffers {
                        0 => 0,
                        n => ring.submitter().register_buffers_sparse(n).map_or(0, |()| n),
                    },
                    submit_on_issue: opts.submit_on_issue,
                };
                return Ok((ring, info));
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => last_err = Some(e),
            Err(e) => return Err(unavailable(&e, "io_uring_setup failed")),
        }
    }
    let e = last_err.unwrap_or_else(|| io::Error::from_raw_os_error(libc::EINVAL));
    Err(unavailable(&e, "io_uring_setup failed"))
}

/// Words `err` (from setting up a ring) as a reason a person can act on.
fn unavailable(err: &io::Error, what: &str) -> io::Error {
    let disabled = fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .ok()
        .and_then(|s| s.trim().parse::<u8>().ok());
    io::Error::new(err.kind(), unavailable_reason(err, what, disabled))
}

fn unavailable_reason(err: &io::Error, what: &str, io_uring_disabled: Option<u8>) -> String {
    let why = match err.raw_os_error() {
        Some(libc::ENOSYS) => "this kernel has no io_uring (ENOSYS)".to_string(),
        Some(libc::EPERM) => match io_uring_disabled {
            Some(2) => "io_uring is switched off: sysctl kernel.io_uring_disabled=2".to_string(),
            Some(1) => {
                "io_uring is restricted to the io_uring_group: sysctl kernel.io_uring_disabled=1".to_string()
            }
            _ => "not permitted (EPERM): a seccomp filter (containers often block io_uring) \
                  or kernel.io_uring_disabled"
                .to_string(),
        },
        Some(libc::ENOMEM) => {
            "out of locked memory for the rings (ENOMEM): raise RLIMIT_MEMLOCK or use fewer entries"
                .to_string()
        }
        _ => err.to_string(),
    };
    format!("{what}: {why}")
}

/// The io_uring backend.
///
/// `Send + Sync`: the ring sits behind a mutex that is never held while a
/// completion's callback runs, so callbacks may issue more operations on the
/// same backend. Completions finish only inside [`IO::step`] (and the
/// [`IO::wait`]/[`crate::IOExt::block`] built on it).
///
/// An aborted completion (by [`Completion::abort`], a group's `cancel` or
/// [`UringIO::cancel`]) gets its result at once, but its buffers stay owned by
/// the operation until the kernel's CQE arrives; before `step` blocks, it
/// sends an async cancel for every aborted operation still in the kernel, so
/// that even a read that would never finish (an empty pipe) lets go.
pub struct UringIO {
    shared: Arc<Shared>,
}

struct Shared {
    state: RingLock<State>,
    info: RingInfo,
    /// Retired operations whose completions a step is finishing: every step
    /// looks here first, so a callback may wait on a sibling of its batch,
    /// and a step of another thread does not report "nothing in flight"
    /// while a completion it waits for is being finished.
    deliveries: Deliveries<(InFlight, Outcome)>,
    /// The write order of each file (by device and inode) opened on this
    /// ring: every handle of one file shares it, so a sync or truncate
    /// through one handle waits for the writes issued before it through any.
    orders: Mutex<HashMap<(u64, u64), Weak<WriteOrder>>>,
    /// The eventfd registered with the ring for [`IO::ready_fd`], made on
    /// first use (`None` inside when the kernel refused it).
    ready_fd: OnceLock<Option<OwnedFd>>,
}

/// What one pass under the lock achieved.
enum Progress {
    /// Operations retired: their completions are finished
    /// (`State::finished_here`) or in `State::reaped`.
    Retired,
    /// Nothing in flight.
    Idle,
    /// A wait timed out (aborted operations were looked for meanwhile):
    /// release the lock for a moment and wait again.
    TimedOut,
}

thread_local! {
    /// This thread's id, without `thread::current()`'s reference counting.
    static THREAD_ID: ThreadId = std::thread::current().id();
    /// The ring (its `Shared`'s address) this thread's last step returned
    /// from, and the ring's count of finished completions at that moment.
    static LAST_STEP: std::cell::Cell<(usize, u64)> = const { std::cell::Cell::new((0, 0)) };
}

impl Shared {
    fn lock(&self) -> RingGuard<'_, State> {
        self.state.lock()
    }

    /// Called by a step whose wait in the kernel timed out, with the lock
    /// released: lets a thread blocked on the lock meanwhile (an issuer, or
    /// another thread's step) take it before this step takes it again. A
    /// step waits in the kernel holding the lock, and the lock is not fair:
    /// the sleeper would take the lock back at once, and a thread that
    /// issues on a shared ring could wait for it round after round.
    fn let_others_in(&self) {
        let deadline = Instant::now() + HANDOFF;
        while self.state.waiting.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
            std::thread::yield_now();
        }
    }
}

/// The ring's lock: the state of a ring (its SQ and CQ, the slots of the
/// operations in flight, the queues) is changed by one thread at a time,
/// whichever issues or steps.
///
/// Not std's `Mutex`, because every read takes it on issue: taking and
/// releasing this one uncontended is one compare-and-swap and one swap with
/// a load, where `Mutex::try_lock` and its guard cost about 40 instructions
/// (an out-of-line call, the poison flag and the panic count looked at on
/// both sides; `docs/BENCHMARKS.md`, issue 16). Poisoning is not wanted
/// anyway: our critical sections run no user code and leave the state
/// consistent between statements that can panic. A thread that finds it
/// held sleeps on a condition variable (a step may hold the lock for a wait
/// in the kernel) and is counted in `waiting`, which
/// [`Shared::let_others_in`] reads.
struct RingLock<T> {
    held: AtomicBool,
    /// Threads in [`RingLock::lock_slow`].
    waiting: AtomicUsize,
    /// Guards the sleep of the waiters, not the state.
    park: Mutex<()>,
    wake: Condvar,
    state: UnsafeCell<T>,
}

// SAFETY: `state` is reached only through a `RingGuard`, which exists only
// while its thread holds `held` (taken with a compare-and-swap from false,
// given back on the guard's drop), so no two threads touch the `State` at
// once; the acquire of `held` and the release that gives it back order each
// thread's accesses after the previous holder's. `T: Send` is what handing
// the state from thread to thread needs.
unsafe impl<T: Send> Sync for RingLock<T> {}

impl<T> RingLock<T> {
    fn new(state: T) -> Self {
        RingLock {
            held: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
            park: Mutex::new(()),
            wake: Condvar::new(),
            state: UnsafeCell::new(state),
        }
    }

    #[inline]
    fn lock(&self) -> RingGuard<'_, T> {
        if self
            .held
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_slow();
        }
        RingGuard { lock: self }
    }

    /// Sleeps until `held` can be taken. The count of waiters goes up
    /// before the first try under `park`, and the holder gives the lock back
    /// before it looks at the count (all four sequentially consistent): so
    /// either the holder sees this waiter and wakes it under `park`, or this
    /// waiter's try sees the lock free. Wakes are also looked for every
    /// [`HANDOFF`], so that no mistake here could hang a thread for good.
    #[cold]
    fn lock_slow(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut park = self.park.lock().unwrap_or_else(PoisonError::into_inner);
        while self
            .held
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            park = self
                .wake
                .wait_timeout(park, HANDOFF)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        drop(park);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }

    #[inline]
    fn unlock(&self) {
        self.held.store(false, Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.wake_one();
        }
    }

    #[cold]
    fn wake_one(&self) {
        let _park = self.park.lock().unwrap_or_else(PoisonError::into_inner);
        self.wake.notify_one();
    }
}

/// A held [`RingLock`]: the ring's state, for this thread alone.
struct RingGuard<'a, T> {
    lock: &'a RingLock<T>,
}

impl<T> Deref for RingGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock (see `RingLock`'s `Sync`), so no
        // other thread has a reference to the state, and the reference
        // cannot outlive the guard.
        unsafe { &*self.lock.state.get() }
    }
}

impl<T> DerefMut for RingGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the guard's only
        // reference to the state.
        unsafe { &mut *self.lock.state.get() }
    }
}

impl<T> Drop for RingGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

/// A snapshot of a [`UringIO`]'s queues, for tests and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UringStats {
    /// Submission-queue entries of the ring.
    pub sq_entries: u32,
    /// Completion-queue entries, which cap the operations in the kernel.
    pub cq_entries: u32,
    /// Requests pushed to the ring whose CQE has not been reaped yet
    /// (cancel requests included); never more than `cq_entries`.
    pub in_kernel: usize,
    /// Requests waiting in the local overflow queues for room in the ring
    /// (cancel requests included).
    pub queued: usize,
    /// Operations not yet retired: in the kernel, queued, or syncs waiting
    /// for earlier writes.
    pub live: usize,
}

impl UringIO {
    /// A backend with the default [`UringOptions`].
    pub fn new() -> io::Result<Self> {
        Self::with_options(UringOptions::default())
    }

    /// The options builder: `UringIO::builder().entries(512).build()`.
    #[must_use]
    pub fn builder() -> UringOptions {
        UringOptions::default()
    }

    /// A backend set up as `options` asks.
    pub fn with_options(options: UringOptions) -> io::Result<Self> {
        let (ring, info) = setup_ring(&options)?;
        Ok(UringIO {
            shared: Arc::new(Shared {
                state: RingLock::new(State {
                    ring,
                    slots: Vec::new(),
                    free: Vec::new(),
                    overflow: VecDeque::new(),
                    cancels: VecDeque::new(),
                    parked: Vec::new(),
                    reaped: Vec::new(),
                    finished_here: 0,
                    in_kernel: 0,
                    cancels_in_kernel: 0,
                    live: 0,
                    cap: info.cq_entries as usize,
                    op_cap: (info.cq_entries - info.sq_entries.min(info.cq_entries / 2)) as usize,
                    closed: false,
                    ftruncate: info.ftruncate,
                    issuer: None,
                    single_issuer: info.single_issuer,
                    ext_arg: info.ext_arg,
                    fixed: (info.fixed_buffers > 0).then(|| Fixed {
                        entries: Vec::new(),
                        size: info.fixed_buffers as usize,
                        index: HashMap::new(),
                    }),
                }),
                info,
                deliveries: Deliveries::default(),
                orders: Mutex::new(HashMap::new()),
                ready_fd: OnceLock::new(),
            }),
        })
    }

    /// [`IO::step`], returning also when `waited` has finished (see
    /// [`IO::wait`] above) or, without one, when anything was finished by
    /// another thread since this thread's previous step of this ring
    /// returned: the caller looked at its completions after that return, so
    /// whatever finished later may be what it waits for.
    fn step_for(&self, waited: Option<&Completion>) -> Result<usize, CompletionError> {
        let shared = &*self.shared;
        let me = Arc::as_ptr(&self.shared).addr();
        let n = self.step_inner(waited, me);
        LAST_STEP.set((me, shared.deliveries.finished()));
        n
    }

    fn step_inner(&self, waited: Option<&Completion>, me: usize) -> Result<usize, CompletionError> {
        let shared = &*self.shared;
        // What a step still running has queued (a callback of it may wait
        // on a sibling, or another thread is delivering) comes first.
        let earlier = shared.deliveries.run(finish);
        if earlier > 0 {
            return Ok(earlier);
        }
        // Deliveries made by other threads since this step began: a waiter
        // must look at its completion again rather than be told that nothing
        // is in flight.
        let now = shared.deliveries.finished();
        let since = |seen: u64| {
            usize::try_from(shared.deliveries.finished().wrapping_sub(seen)).unwrap_or(usize::MAX)
        };
        // Before a wait in the kernel goes on, those since this thread's
        // previous step of this ring returned count too: the caller looked at
        // its completions after that return, and one finished since may be
        // what it waits for. (A count above today's is another, dropped
        // ring's at the same address.)
        let last = match LAST_STEP.get() {
            (ring, count) if ring == me => count.min(now),
            _ => now,
        };
        loop {
            let mut st = shared.lock();
            st.refuse_other_threads()?;
            match st.make_progress()? {
                Progress::Retired => {
                    let here = std::mem::take(&mut st.finished_here);
                    shared.deliveries.count(here);
                    let retired = st.reaped.len();
                    if retired == 0 {
                        return Ok(here);
                    }
                    shared.deliveries.push_all(st.reaped.drain(..));
                    drop(st);
                    let n = shared.deliveries.run(finish);
                    if n == 0 {
                        // Another thread took them: this step's caller may
                        // only look once they are finished.
                        shared.deliveries.wait_for_others();
                    }
                    return Ok(here + n.max(retired));
                }
                Progress::TimedOut => {
                    drop(st);
                    shared.let_others_in();
                    let n = shared.deliveries.run(finish);
                    if n > 0 {
                        return Ok(n);
                    }
                    match since(last) {
                        0 if waited.is_some_and(Completion::finished) => return Ok(1),
                        0 => continue,
                        n => return Ok(n),
                    }
                }
                Progress::Idle => {
                    drop(st);
                    // Nothing is in the kernel, but another step may have
                    // reaped this caller's operation and queued it without
                    // having taken it yet: finish what is queued before
                    // saying that nothing is in flight (a waiter would be
                    // told `Stalled` about a completion a moment from done).
                    let n = shared.deliveries.run(finish);
                    if n > 0 {
                        return Ok(n);
                    }
                    shared.deliveries.wait_for_others();
                    return Ok(since(now));
                }
            }
        }
    }

    /// What the kernel accepted, in one line (entries, set-up flags).
    #[must_use]
    pub fn describe(&self) -> String {
        describe(&self.shared.info)
    }

    /// The current state of the queues.
    #[must_use]
    pub fn stats(&self) -> UringStats {
        let st = self.shared.lock();
        UringStats {
            sq_entries: self.shared.info.sq_entries,
            cq_entries: self.shared.info.cq_entries,
            in_kernel: st.in_kernel,
            queued: st.overflow.len() + st.cancels.len(),
            live: st.live,
        }
    }

    /// Aborts `c` and asks the kernel to cancel its operation. The
    /// operation's buffers stay owned by the backend until its CQE arrives
    /// (a later `step` reaps it); the cancel request's own CQE is ignored,
    /// so cancelling an operation that has just finished is harmless.
    pub fn cancel(&self, c: &Completion) {
        c.abort();
        let mut st = self.shared.lock();
        let targets: Vec<u64> = st
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| match &slot.op {
                Some(op) if op.in_kernel && !op.cancel_sent && op.guard.completion().same_as(c) => {
                    Some(user_data(i, slot.generation))
                }
                _ => None,
            })
            .collect();
        for ud in targets {
            st.send_cancel(ud);
        }
    }
}

fn describe(info: &RingInfo) -> String {
    let mut flags = Vec::new();
    if info.coop_taskrun {
        flags.push("COOP_TASKRUN");
    }
    if info.single_issuer {
        flags.push("SINGLE_ISSUER");
    }
    if info.defer_taskrun {
        flags.push("DEFER_TASKRUN");
    }
    if info.submit_all {
        flags.push("SUBMIT_ALL");
    }
    if info.sqpoll {
        flags.push("SQPOLL");
    }
    let fixed = format!("{} registered buffers", info.fixed_buffers);
    if info.fixed_buffers > 0 {
        flags.push(&fixed);
    }
    match info.submit_on_issue {
        Some(true) => flags.push("submit on issue"),
        Some(false) => flags.push("submit in step"),
        None => flags.push("O_DIRECT submitted on issue"),
    }
    if flags.is_empty() {
        flags.push("no set-up flags");
    }
    format!(
        "io_uring sq={} cq={} {}; truncate by {}",
        info.sq_entries,
        info.cq_entries,
        flags.join("|"),
        if info.ftruncate {
            "IORING_OP_FTRUNCATE"
        } else {
            "ftruncate(2)"
        }
    )
}

impl fmt::Debug for UringIO {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UringIO")
            .field("ring", &self.describe())
            .field("stats", &self.stats())
            .finish()
    }
}

impl IO for UringIO {
    fn open_file(&self, path: &Path, options: OpenOptions) -> io::Result<Arc<dyn File>> {
        validate::open_options(path, options, false)?;
        let mut open = fs::OpenOptions::new();
        open.read(true)
            .write(!options.read_only)
            .create(options.create)
            .create_new(options.create_new);
        if options.direct {
            open.custom_flags(libc::O_DIRECT);
        }
        let file = open.open(path)?;
        let meta = file.metadata()?;
        let order = {
            let mut orders = self.shared.orders.lock().unwrap_or_else(|e| e.into_inner());
            orders.retain(|_, order| order.strong_count() > 0);
            let key = (meta.dev(), meta.ino());
            match orders.get(&key).and_then(Weak::upgrade) {
                Some(order) => order,
                None => {
                    let order = Arc::new(WriteOrder::default());
                    orders.insert(key, Arc::downgrade(&order));
                    order
                }
            }
        };
        let info = &self.shared.info;
        Ok(Arc::new(UringFile {
            shared: self.shared.clone(),
            eager: info.submit_on_issue.unwrap_or(options.direct),
            general_reads: info.fixed_buffers > 0 && options.direct,
            handle: Arc::new(FileHandle {
                file,
                mode: Mode {
                    read_only: options.read_only,
                    direct: options.direct,
                },
                order,
            }),
        }))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn step(&self) -> Result<usize, CompletionError> {
        self.step_for(None)
    }

    /// [`IO::wait`], with a step that also returns once `c` has finished,
    /// whoever finished it: on a shared ring another thread's step may reap
    /// `c` between this thread's look at it and its step, and a step that
    /// waited for "something else to finish" would then sleep until some
    /// other operation ended (forever, for a read of an empty pipe).
    fn wait(&self, c: &Completion) -> Result<i32, CompletionError> {
        while !c.finished() {
            if self.step_for(Some(c))? == 0 && !c.finished() {
                return Err(CompletionError::Stalled);
            }
        }
        c.result().unwrap_or(Err(CompletionError::Stalled))
    }

    /// Submits what is queued and delivers what has finished, without
    /// waiting; enters the kernel only when there is something to submit or
    /// the kernel says completions wait to be run (`IORING_SQ_TASKRUN`).
    fn try_step(&self) -> Result<usize, CompletionError> {
        let shared = &*self.shared;
        let earlier = shared.deliveries.run(finish);
        if earlier > 0 {
            return Ok(earlier);
        }
        let mut st = shared.lock();
        st.refuse_other_threads()?;
        st.poll()?;
        let here = std::mem::take(&mut st.finished_here);
        shared.deliveries.count(here);
        if st.reaped.is_empty() {
            return Ok(here);
        }
        shared.deliveries.push_all(st.reaped.drain(..));
        drop(st);
        Ok(here + shared.deliveries.run(finish))
    }

    /// An eventfd registered with the ring (`IORING_REGISTER_EVENTFD`),
    /// made on the first call and readable at once (completions that
    /// arrived earlier were never signalled): the kernel signals it as completions arrive,
    /// `DEFER_TASKRUN` ones included (it then signals that there is work for
    /// the issuer's next `try_step`). `None` when the kernel refuses it.
    fn ready_fd(&self) -> Option<BorrowedFd<'_>> {
        let shared = &*self.shared;
        shared
            .ready_fd
            .get_or_init(|| {
                let fd = rustix::event::eventfd(
                    0,
                    rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK,
                )
                .ok()?;
                let st = shared.lock();
                st.ring.submitter().register_eventfd(fd.as_raw_fd()).ok()?;
                // Readable from the start: whatever finished before this
                // call was never signalled, and a spurious wake-up costs
                // one `try_step` that finds nothing.
                rustix::io::write(&fd, &1u64.to_ne_bytes()).ok()?;
                Some(fd)
            })
            .as_ref()
            .map(AsFd::as_fd)
    }
}

/// Finishes a retired operation whose completion has a callback or a group
/// waiting (or an error to store), with no lock held. The device has let
/// go: a write's buffers and the descriptor were released when it retired,
/// a read's buffer hold is let go here just before the in-flight mark, and
/// both before the callback runs, so the callback
/// sees `device_released()` and may view or reuse the buffer at once.
fn finish((guard, outcome): (InFlight, Outcome)) {
    guard.finish(outcome);
}

impl Drop for UringIO {
    /// Cancels every operation in flight and waits, at most five seconds,
    /// for the kernel to let go of each; every outstanding
    /// completion ends [`CompletionError::Aborted`]. Files still open refuse
    /// new operations with `Aborted`. An operation the kernel has not let go
    /// of by the deadline (it ignored the cancel), or that this thread may
    /// not wait for (a `SINGLE_ISSUER` ring bound to another thread), is
    /// leaked with its buffers: they stay held, never freed while the kernel
    /// may write them.
    fn drop(&mut self) {
        let shared = &*self.shared;
        let aborted = {
            let mut st = shared.lock();
            st.shutdown()
        };
        shared.deliveries.push_all(aborted);
        shared.deliveries.run_in_drop(finish);
    }
}

/// An open file of a [`UringIO`].
struct UringFile {
    shared: Arc<Shared>,
    /// Shared with every in-flight operation on the file, so the descriptor
    /// stays open (and its number is not reused by another file) until the
    /// last CQE, even when the user drops the file first.
    handle: Arc<FileHandle>,
    /// [`UringOptions::submit_on_issue`] as it applies to this file, decided
    /// at open (the ring's options never change) rather than on each read.
    eager: bool,
    /// Reads take the general way in (the registered-buffer table applies
    /// to this file).
    general_reads: bool,
}

struct FileHandle {
    file: fs::File,
    mode: Mode,
    /// Shared by every handle of the same file on this ring.
    order: Arc<WriteOrder>,
}

/// The order of the changes to one file (writes and truncates) issued on a
/// ring. The kernel runs SQEs in any order, so a sync or truncate waits
/// until the changes issued before it have retired: "earlier writes" must be
/// on the device before a sync reports success, and a truncate must not be
/// overtaken by a write issued before it. Changed only under the ring's lock.
#[derive(Default)]
struct WriteOrder {
    /// Changes issued and not yet retired.
    in_flight: AtomicUsize,
    /// The number the next change gets, so that a sync can tell the changes
    /// issued before it (which it waits for) from later ones (which it does
    /// not: a steady stream of writes must not postpone it forever).
    next: AtomicU64,
}

impl UringFile {
    /// Takes the device's hold on `c` (refusing a completion already in
    /// flight or a busy read buffer, at the call) and queues the operation.
    fn issue(&self, c: Completion, kind: OpKind, pos: u64) -> Result<Completion, CompletionError> {
        match c.begin_io() {
            Ok(guard) => self.issue_held(c, guard, kind, pos),
            Err(err) => reject(c, err),
        }
    }

    /// Queues an operation whose holds are taken.
    fn issue_held(
        &self,
        c: Completion,
        guard: InFlight,
        kind: OpKind,
        pos: u64,
    ) -> Result<Completion, CompletionError> {
        let mut op = Op {
            guard,
            file: self.handle.clone(),
            kind,
            pos,
            done: 0,
            retries: 0,
            in_kernel: false,
            cancel_sent: false,
            order: 0,
            earlier_writes: 0,
            fixed: None,
        };
        let mut st = self.shared.lock();
        if st.closed {
            drop(st);
            drop(op);
            return reject(c, CompletionError::Aborted);
        }
        if st.fixed.is_some() && self.handle.mode.direct {
            op.fixed = match &op.kind {
                OpKind::Read => op
                    .guard
                    .completion()
                    .read_buffer()
                    .and_then(|b| st.fixed_index(b)),
                OpKind::Write(hold) => st.fixed_index(hold.buffer()),
                _ => None,
            };
        }
        let order = &self.handle.order;
        let waits_for_earlier = matches!(op.kind, OpKind::Sync(_) | OpKind::Truncate(_));
        if waits_for_earlier {
            op.earlier_writes = order.in_flight.load(Ordering::Relaxed);
        }
        if op.kind.is_change() {
            op.order = order.next.fetch_add(1, Ordering::Relaxed);
            order.in_flight.fetch_add(1, Ordering::Relaxed);
        } else {
            op.order = order.next.load(Ordering::Relaxed);
        }
        let park = op.earlier_writes > 0;
        let ud = st.insert(op);
        if park {
            st.parked.push(ud);
        } else if !st.push_now(ud) {
            st.queue(Pending::Op(ud));
        } else if self.eager {
            st.submit_issued();
        }
        Ok(c)
    }

    /// A read's way in, the hot path of a storage engine:
    /// [`UringFile::issue_held`] without what only writes, syncs, truncates
    /// and registered buffers need (the write order, parking, the table), its
    /// SQE built straight from the buffer and pushed without looking its slot
    /// up again. Anything else takes the general path.
    ///
    /// The device's hold is taken under the ring's lock, so that the guard
    /// is not kept across the lock's slow path (two atomics more under the
    /// lock; a refusal lets the lock go before the completion is failed,
    /// which may run its callbacks).
    #[inline]
    fn issue_read(&self, c: Completion, pos: u64) -> Result<Completion, CompletionError> {
        let mut st = self.shared.lock();
        let guard = match c.begin_io() {
            Ok(guard) => guard,
            Err(err) => {
                drop(st);
                return reject(c, err);
            }
        };
        let general = st.closed || self.general_reads;
        let Some(buf) = guard.filling().filter(|_| !general) else {
            drop(st);
            return self.issue_held(c, guard, OpKind::Read, pos);
        };
        let ptr = std::ptr::with_exposed_provenance_mut::<u8>(buf.device_addr());
        // `len <= i32::MAX` (validated), so it fits.
        let len = buf.len().min(MAX_TRANSFER) as u32;
        let push = st.overflow.is_empty()
            && st.in_kernel < st.cap
            && st.in_kernel - st.cancels_in_kernel < st.op_cap;
        // The record is written straight into its slot, which is vacant,
        // so there is nothing to drop first and it need not be built
        // elsewhere and copied in (`State::insert` would).
        let file = self.handle.clone();
        let (index, generation) = st.vacant();
        let ud = user_data(index, generation);
        match &mut st.slots[index].op {
            op @ None => {
                *op = Some(Op {
                    guard,
                    file,
                    kind: OpKind::Read,
                    pos,
                    done: 0,
                    retries: 0,
                    in_kernel: push,
                    cancel_sent: false,
                    order: 0,
                    earlier_writes: 0,
                    fixed: None,
                });
            }
            // Unwinding drops the guard (letting the buffer go) before any
            // SQE names it.
            Some(_) => unreachable!("ratchet bug: a free io_uring slot holds an operation"),
        }
        if push {
            let fd = types::Fd(self.handle.file.as_raw_fd());
            let entry = opcode::Read::new(fd, ptr, len).offset(pos).build().user_data(ud);
            // The operation is in its slot (`push_entry` says why that makes
            // the push sound): the SQE names its buffer and descriptor.
            if st.push_entry(&entry, false) {
                st.in_kernel += 1;
                if self.eager {
                    st.submit_issued();
                }
                return Ok(c);
            }
            if let Some((_, op)) = st.slot_of(ud) {
                op.in_kernel = false;
            }
        }
        st.queue(Pending::Op(ud));
        Ok(c)
    }

    /// A write of `bufs`, holding each for the device to read.
    fn issue_write(
        &self,
        pos: u64,
        bufs: Vec<Arc<Buffer>>,
        c: Completion,
    ) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::completion_for(&c, validate::Op::Write) {
            return reject(c, err);
        }
        let total = match validate::write(pos, &bufs, self.handle.mode) {
            Ok(total) => total,
            Err(err) => return reject(c, err),
        };
        if total == 0 {
            return finish_empty(c);
        }
        let (guard, mut holds) = match validate::hold(&c, &bufs) {
            Ok(held) => held,
            Err(err) => return reject(c, err),
        };
        let kind = if holds.len() == 1 {
            OpKind::Write(holds.pop().unwrap_or_else(|| unreachable!("one hold")))
        } else {
            OpKind::Writev(Box::new(Vectored {
                holds,
                iov: IoVecs(Vec::new()),
                total,
            }))
        };
        self.issue_held(c, guard, kind, pos)
    }
}

/// Finishes an empty transfer at the call, as an inline backend would:
/// there is nothing for the kernel to do. A completion already in flight is
/// still refused.
fn finish_empty(c: Completion) -> Result<Completion, CompletionError> {
    match c.begin_io() {
        Ok(held) => {
            drop(held);
            c.complete(0);
            Ok(c)
        }
        Err(err) => reject(c, err),
    }
}

impl File for UringFile {
    fn pread(&self, pos: u64, c: Completion) -> Result<Completion, CompletionError> {
        let checked = validate::read(pos, &c, self.handle.mode);
        match checked {
            Err(err) => reject(c, err),
            Ok(0) => finish_empty(c),
            Ok(_) => self.issue_read(c, pos),
        }
    }

    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion, CompletionError> {
        self.issue_write(pos, vec![buf], c)
    }

    fn pwritev(
        &self,
        pos: u64,
        bufs: Vec<Arc<Buffer>>,
        c: Completion,
    ) -> Result<Completion, CompletionError> {
        self.issue_write(pos, bufs, c)
    }

    fn sync(&self, c: Completion) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::completion_for(&c, validate::Op::Sync) {
            return reject(c, err);
        }
        let mode = c.sync_mode().unwrap_or(SyncMode::Full);
        self.issue(c, OpKind::Sync(mode), 0)
    }

    /// Waits for the writes issued before it through any handle of the file,
    /// like a sync; without `IORING_OP_FTRUNCATE` (Linux < 6.9) it is then
    /// made as a syscall, in the same order.
    fn truncate(&self, len: u64, c: Completion) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::completion_for(&c, validate::Op::Truncate) {
            return reject(c, err);
        }
        if let Err(err) = validate::truncate(len, self.handle.mode) {
            return reject(c, err);
        }
        self.issue(c, OpKind::Truncate(len), 0)
    }

    fn size(&self) -> Result<u64, CompletionError> {
        Ok(self.handle.file.metadata()?.len())
    }
}

/// One operation, owned by its slot from issue to CQE.
struct Op {
    /// The user's completion, marked as held by the device until this guard
    /// drops after the final CQE. It also keeps a read's buffer alive.
    guard: InFlight,
    /// Keeps the descriptor open while the kernel may use it.
    file: Arc<FileHandle>,
    kind: OpKind,
    pos: u64,
    /// Bytes transferred so far: short transfers continue from here.
    done: usize,
    /// `-EAGAIN`/`-EINTR` CQEs seen, bounded by [`MAX_RETRIES`].
    retries: u32,
    /// Its SQE is in the ring and its CQE not yet reaped.
    in_kernel: bool,
    /// An async cancel has been sent for the current submission.
    cancel_sent: bool,
    /// A write's number in its file; for a sync, the number of the first
    /// write issued after it.
    order: u64,
    /// A sync: earlier writes to its file not yet retired. It is submitted
    /// when they are.
    earlier_writes: usize,
    /// The registered-buffer table entry of its buffer
    /// ([`UringOptions::registered_buffers`]): issued as `READ_FIXED` /
    /// `WRITE_FIXED`.
    fixed: Option<u16>,
}

/// The iovec array of a `Writev`'s current submission.
struct IoVecs(Vec<libc::iovec>);

// SAFETY: the pointers in the iovecs point into `Buffer`s owned (through
// `Arc`s) by the same operation; Rust code never dereferences them, it only
// hands them to the kernel, and an operation is only touched under the ring's
// mutex.
unsafe impl Send for IoVecs {}

/// What an operation does, with the holds on the buffers it owns until its
/// final CQE: the kernel reads from or writes into them, so they must
/// outlive it even when the user has dropped every handle, and no user view
/// may conflict meanwhile (see `buffer.rs`).
///
/// With a tag of its own: the niche in `DeviceHold` would otherwise make
/// every look at the kind (several per read) decode it from the hold.
#[repr(u8)]
enum OpKind {
    /// Into the completion's own buffer (`Completion::read` owns it), which
    /// the slot holds through its `InFlight` guard: no second handle needed.
    Read,
    Write(DeviceHold),
    /// Boxed, so that the common operations stay small to move around.
    Writev(Box<Vectored>),
    Sync(SyncMode),
    Truncate(u64),
}

struct Vectored {
    holds: Vec<DeviceHold>,
    /// Rebuilt from `bufs` past `done` bytes at each submission. The kernel
    /// reads it during submission; it lives in the slot until the CQE all
    /// the same.
    iov: IoVecs,
    total: usize,
}

impl OpKind {
    /// A change to the file that later syncs and truncates wait for.
    fn is_change(&self) -> bool {
        matches!(self, OpKind::Write(_) | OpKind::Writev(_) | OpKind::Truncate(_))
    }

    fn write_len(&self) -> usize {
        match self {
            OpKind::Write(hold) => hold.buffer().len(),
            OpKind::Writev(v) => v.total,
            _ => 0,
        }
    }
}

impl Op {
    /// The SQE for the rest of this operation (all of it on first
    /// submission). Rebuilds a `Writev`'s iovecs.
    fn entry(&mut self, user_data: u64) -> squeue::Entry {
        let fd = types::Fd(self.file.file.as_raw_fd());
        let pos = self.pos + self.done as u64;
        let entry = match &mut self.kind {
            OpKind::Read => {
                let Some(buf) = self.guard.filling() else {
                    // Unreachable: `pread` only issues read completions, and
                    // `begin_io` holds their buffer for filling. A no-op ends
                    // the read with what it has.
                    return opcode::Nop::new().build().user_data(user_data);
                };
                let ptr = std::ptr::with_exposed_provenance_mut::<u8>(buf.device_addr());
                // `done < len` (a read continues only while short), and
                // `len <= i32::MAX` (validated), so both fit.
                let n = (buf.len() - self.done).min(MAX_TRANSFER);
                match self.fixed {
                    Some(i) => opcode::ReadFixed::new(fd, ptr.wrapping_add(self.done), n as u32, i)
                        .offset(pos)
                        .build(),
                    None => opcode::Read::new(fd, ptr.wrapping_add(self.done), n as u32)
                        .offset(pos)
                        .build(),
                }
            }
            OpKind::Write(hold) => {
                let ptr = std::ptr::with_exposed_provenance::<u8>(hold.addr());
                let n = (hold.buffer().len() - self.done).min(MAX_TRANSFER);
                match self.fixed {
                    Some(i) => opcode::WriteFixed::new(fd, ptr.wrapping_add(self.done), n as u32, i)
                        .offset(pos)
                        .build(),
                    None => opcode::Write::new(fd, ptr.wrapping_add(self.done), n as u32)
                        .offset(pos)
                        .build(),
                }
            }
            OpKind::Writev(v) => {
                let Vectored { holds, iov, .. } = &mut **v;
                let iov = &mut iov.0;
                iov.clear();
                let mut skip = self.done;
                let mut bytes = 0usize;
                for hold in holds.iter() {
                    let len = hold.buffer().len();
                    if skip >= len {
                        skip -= len;
                        continue;
                    }
                    let take = (len - skip).min(MAX_TRANSFER - bytes);
                    let ptr = std::ptr::with_exposed_provenance_mut::<u8>(hold.addr());
                    iov.push(libc::iovec {
                        iov_base: ptr.wrapping_add(skip).cast(),
                        iov_len: take,
                    });
                    skip = 0;
                    bytes += take;
                    if iov.len() == IOV_MAX || bytes == MAX_TRANSFER {
                        break;
                    }
                }
                opcode::Writev::new(fd, iov.as_ptr(), iov.len() as u32)
                    .offset(pos)
                    .build()
            }
            OpKind::Sync(mode) => {
                let flags = match mode {
                    SyncMode::Data => types::FsyncFlags::DATASYNC,
                    SyncMode::Full => types::FsyncFlags::empty(),
                };
                opcode::Fsync::new(fd).flags(flags).build()
            }
            // Only issued where the kernel has the opcode: elsewhere
            // `try_push` makes the syscall instead.
            OpKind::Truncate(len) => opcode::Ftruncate::new(fd, *len).build(),
        };
        entry.user_data(user_data)
    }
}

/// A request waiting for room in the ring.
#[derive(Debug, Clone, Copy)]
enum Pending {
    /// The operation with this `user_data` (its next submission).
    Op(u64),
    /// An async cancel of the operation with this `user_data`.
    Cancel(u64),
}

struct Slot {
    /// Bumped each time the slot is freed, so `user_data` (index and
    /// generation) names one operation and a stale cancel finds nothing.
    generation: u32,
    op: Option<Op>,
}

/// Whether nobody wants the operation's result any more: its completion
/// already failed (aborted, or cancelled with its group). The lock-free
/// `finished()` first, since on the hot path it is false.
fn abandoned(c: &Completion) -> bool {
    c.finished() && c.failed()
}

fn user_data(index: usize, generation: u32) -> u64 {
    (u64::from(generation) << 32) | index as u64
}

struct State {
    ring: IoUring,
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// Operations that found the ring full (or the in-flight cap reached),
    /// in issue order; no operation is pushed to the ring while it is
    /// non-empty, so the order holds.
    overflow: VecDeque<Pending>,
    /// Async cancels waiting for room: pushed before any operation, with a
    /// cap of their own, so a ring full of operations that will never finish
    /// by themselves can still be cancelled.
    cancels: VecDeque<u64>,
    /// Syncs waiting for earlier writes to the same file to retire.
    parked: Vec<u64>,
    /// Retired operations whose completions the next `step` finishes
    /// (outside the lock): those with a callback or a group waiting, or an
    /// error to store.
    reaped: Vec<(InFlight, Outcome)>,
    /// Completions finished as their operations retired, under the lock:
    /// successes with nobody waiting, whose finishing runs no user code (one
    /// compare-and-swap). Counted for `step`'s answer.
    finished_here: usize,
    /// SQEs pushed whose CQE has not been reaped (cancels included).
    in_kernel: usize,
    /// The cancels among them.
    cancels_in_kernel: usize,
    /// Occupied slots.
    live: usize,
    /// The cap on `in_kernel`: the CQ size, so the CQ cannot overflow.
    cap: usize,
    /// The cap on operations (not cancels) in the kernel: the CQ size less
    /// the SQ size (at least half the CQ), so that cancels always have room.
    op_cap: usize,
    /// Set by `UringIO`'s drop: new operations are refused.
    closed: bool,
    /// `IORING_OP_FTRUNCATE` is available; else truncates are syscalls.
    ftruncate: bool,
    /// The thread the ring was enabled for, with `SINGLE_ISSUER`.
    issuer: Option<ThreadId>,
    single_issuer: bool,
    /// `IORING_FEAT_EXT_ARG`: waits can time out (Linux 5.11).
    ext_arg: bool,
    /// The registered-buffer table, with
    /// [`UringOptions::registered_buffers`].
    fixed: Option<Fixed>,
}

/// The buffers registered with the kernel, and where.
struct Fixed {
    /// The buffer of each table entry in use. Its handle keeps it alive, so
    /// the memory the kernel has registered is never freed or reused while
    /// the registration stands.
    entries: Vec<Arc<Buffer>>,
    /// Entries of the kernel's table.
    size: usize,
    /// The entry of each registered buffer, by the address of its `Buffer`
    /// (which cannot be reused by another while `entries` holds it).
    index: HashMap<usize, u16>,
}

impl State {
    /// The registered-buffer table entry of `buf`, registering it first if
    /// it has none: in a free entry, or in place of a buffer that nothing
    /// but the table holds any more (no operation can be using it). `None`
    /// when the table is full of buffers in use, or when this thread may not
    /// register (a `SINGLE_ISSUER` ring belongs to its stepping thread).
    fn fixed_index(&mut self, buf: &Arc<Buffer>) -> Option<u16> {
        let fixed = self.fixed.as_mut()?;
        let key = Arc::as_ptr(buf).addr();
        if let Some(&i) = fixed.index.get(&key) {
            return Some(i);
        }
        if self.single_issuer
            && let Some(t) = self.issuer
            && t != THREAD_ID.with(|id| *id)
        {
            return None;
        }
        let i = if fixed.entries.len() < fixed.size {
            fixed.entries.len()
        } else {
            fixed.entries.iter().position(|b| Arc::strong_count(b) == 1)?
        };
        let iov = libc::iovec {
            iov_base: std::ptr::with_exposed_provenance_mut::<libc::c_void>(buf.device_addr()),
            iov_len: buf.len(),
        };
        let index = u16::try_from(i).ok()?;
        // SAFETY: the iovec covers the usable bytes of `buf`, whose
        // allocation never moves (buffer.rs, soundness point 1) and which
        // `entries` keeps alive for as long as this registration stands: it
        // is replaced only here, for a buffer nothing else holds (so no
        // operation uses it), and the table outlives the ring (or is leaked
        // with it: `State`'s drop). The kernel touches registered memory only
        // for the `READ_FIXED`/`WRITE_FIXED` operations that name the entry,
        // which hold the buffer as any other read or write does.
        unsafe {
            self.ring
                .submitter()
                .register_buffers_update(u32::from(index), &[iov], None)
        }
        .ok()?;
        if i < fixed.entries.len() {
            let old = std::mem::replace(&mut fixed.entries[i], buf.clone());
            fixed.index.remove(&Arc::as_ptr(&old).addr());
        } else {
            fixed.entries.push(buf.clone());
        }
        fixed.index.insert(key, index);
        Some(index)
    }

    // Inlined so that a read's record is written into its slot where it is
    // built, not copied through an argument first.
    #[inline(always)]
    fn insert(&mut self, op: Op) -> u64 {
        self.live += 1;
        if let Some(i) = self.free.pop() {
            let slot = &mut self.slots[i];
            slot.op = Some(op);
            user_data(i, slot.generation)
        } else {
            self.slots.push(Slot {
                generation: 1,
                op: Some(op),
            });
            user_data(self.slots.len() - 1, 1)
        }
    }

    /// A vacant slot for an operation about to be recorded, counted as
    /// occupied: its index and generation. Every slot on the free list is
    /// vacant (`retire` empties a slot before freeing it).
    #[inline(always)]
    fn vacant(&mut self) -> (usize, u32) {
        self.live += 1;
        if let Some(i) = self.free.pop() {
            (i, self.slots[i].generation)
        } else {
            self.slots.push(Slot {
                generation: 1,
                op: None,
            });
            (self.slots.len() - 1, 1)
        }
    }

    fn slot_of(&mut self, ud: u64) -> Option<(usize, &mut Op)> {
        let index = (ud & 0xffff_ffff) as usize;
        let generation = (ud >> 32) as u32;
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        slot.op.as_mut().map(|op| (index, op))
    }

    /// Pushes `p` to the ring, or to its overflow queue behind earlier ones.
    /// Never enters the kernel: an issuing thread that is not the stepping
    /// one must not (with `SINGLE_ISSUER` it would take the ring over), so a
    /// full SQ waits for the next step.
    fn queue(&mut self, p: Pending) {
        match p {
            Pending::Cancel(ud) => {
                if !self.cancels.is_empty() || !self.try_push(p, false) {
                    self.cancels.push_back(ud);
                }
            }
            Pending::Op(_) => {
                if !self.overflow.is_empty() || !self.try_push(p, false) {
                    self.overflow.push_back(p);
                }
            }
        }
    }

    /// Moves queued requests to the ring while there is room, cancels
    /// first; called by a step, which may submit a full SQ to make room.
    fn flush_overflow(&mut self) {
        while let Some(&ud) = self.cancels.front() {
            if !self.try_push(Pending::Cancel(ud), true) {
                break;
            }
            self.cancels.pop_front();
        }
        while let Some(&p) = self.overflow.front() {
            if !self.try_push(p, true) {
                break;
            }
            self.overflow.pop_front();
        }
    }

    /// Pushes one request if the caps and the SQ allow (submitting a full SQ
    /// first when `may_submit`). An operation aborted before it ever reached
    /// the kernel is retired instead, and a truncate on a kernel without
    /// `IORING_OP_FTRUNCATE` is made as a syscall now, in its turn. Returns
    /// whether `p` is dealt with.
    fn try_push(&mut self, p: Pending, may_submit: bool) -> bool {
        let entry = match p {
            Pending::Cancel(target) => {
                if self.in_kernel >= self.cap {
                    return false;
                }
                let entry = opcode::AsyncCancel::new(target)
                    .build()
                    .user_data(CANCEL_USER_DATA);
                if !self.push_entry(&entry, may_submit) {
                    return false;
                }
                self.in_kernel += 1;
                self.cancels_in_kernel += 1;
                return true;
            }
            Pending::Op(ud) => ud,
        };
        let ud = entry;
        let ftruncate = self.ftruncate;
        let Some((index, op)) = self.slot_of(ud) else {
            return true;
        };
        if abandoned(op.guard.completion()) {
            self.retire(index, Err(CompletionError::Aborted));
            return true;
        }
        if let (OpKind::Truncate(len), false) = (&op.kind, ftruncate) {
            let outcome = op
                .file
                .file
                .set_len(*len)
                .map(|()| 0)
                .map_err(CompletionError::from);
            self.retire(index, outcome);
            return true;
        }
        if self.in_kernel >= self.cap || self.in_kernel - self.cancels_in_kernel >= self.op_cap {
            return false;
        }
        let Some((index, op)) = self.slot_of(ud) else {
            return true;
        };
        // Marked before the push, so the slot is looked up once; a failed
        // push takes it back below.
        op.in_kernel = true;
        op.cancel_sent = false;
        let entry = op.entry(ud);
        if self.push_entry(&entry, may_submit) {
            self.in_kernel += 1;
            return true;
        }
        if let Some(op) = self.slots[index].op.as_mut() {
            op.in_kernel = false;
        }
        false
    }

    /// The common case of issuing, without the general path's checks: an
    /// operation just inserted is pushed to the ring at once when nothing
    /// waits before it and the caps allow. Returns false, changing nothing,
    /// when it must go the general way ([`State::queue`]).
    #[inline]
    fn push_now(&mut self, ud: u64) -> bool {
        if !self.overflow.is_empty()
            || self.in_kernel >= self.cap
            || self.in_kernel - self.cancels_in_kernel >= self.op_cap
        {
            return false;
        }
        let ftruncate = self.ftruncate;
        let index = (ud & 0xffff_ffff) as usize;
        let Some(op) = self.slots.get_mut(index).and_then(|s| s.op.as_mut()) else {
            return false;
        };
        if matches!(op.kind, OpKind::Truncate(_)) && !ftruncate {
            return false;
        }
        let entry = op.entry(ud);
        op.in_kernel = true;
        op.cancel_sent = false;
        if self.push_entry(&entry, false) {
            self.in_kernel += 1;
            return true;
        }
        if let Some(op) = self.slots[index].op.as_mut() {
            op.in_kernel = false;
        }
        false
    }

    fn push_entry(&mut self, entry: &squeue::Entry, may_submit: bool) -> bool {
        // SAFETY: every address in `entry` (buffer, iovec array) points into
        // memory owned by the operation's slot: `Arc<Buffer>`s whose bytes
        // never move, held by the slot's `DeviceHold`s (a write's own, a
        // read's inside the `InFlight` guard) for the access the kernel makes
        // (buffer.rs proves no Rust reference then conflicts with it), and
        // the slot's own iovec `Vec`, which is not touched until the CQE; its
        // descriptor is kept open by the slot's `Arc<FileHandle>`. A slot is
        // freed only when its CQE has been reaped (or, on drop, when the ring
        // is drained or the slots leaked), so all of it outlives the kernel's
        // use. Cancel entries carry no address.
        if unsafe { self.ring.submission().push(entry) }.is_ok() {
            return true;
        }
        // The SQ is full: hand it to the kernel to make room, then retry.
        if !may_submit || self.submit(0).is_err() {
            return false;
        }
        // SAFETY: as above.
        unsafe { self.ring.submission().push(entry) }.is_ok()
    }

    /// [`UringOptions::submit_on_issue`]: hands the SQ to the kernel now,
    /// collecting finished requests without waiting (`GETEVENTS` with no
    /// minimum: with `DEFER_TASKRUN` that is what posts their CQEs), when
    /// this thread may enter the ring. A failure changes nothing the next
    /// step does not redo.
    fn submit_issued(&mut self) {
        if self.single_issuer && self.issuer != Some(THREAD_ID.with(|id| *id)) {
            return;
        }
        let pending = self.ring.submission().len() as u32;
        // SAFETY: no argument is passed (the kernel reads no user memory for
        // it), and the SQEs handed over are sound to submit: `push_entry`
        // says why.
        let _ = unsafe {
            self.ring
                .submitter()
                .enter::<libc::sigset_t>(pending, 0, IORING_ENTER_GETEVENTS, None)
        };
    }

    /// Enables a `SINGLE_ISSUER` ring for the calling thread the first time,
    /// and refuses other threads after that.
    fn check_issuer(&mut self) -> Result<(), CompletionError> {
        if !self.single_issuer {
            return Ok(());
        }
        let me = THREAD_ID.with(|id| *id);
        match self.issuer {
            Some(t) if t == me => Ok(()),
            Some(_) => Err(CompletionError::Unsupported(OTHER_THREAD)),
            None => {
                self.ring.submitter().register_enable_rings()?;
                self.issuer = Some(me);
                Ok(())
            }
        }
    }

    /// Refuses a step from another thread than the issuer of a
    /// `SINGLE_ISSUER` ring (which could not enter the kernel anyway).
    fn refuse_other_threads(&self) -> Result<(), CompletionError> {
        match self.issuer {
            Some(t) if self.single_issuer && t != THREAD_ID.with(|id| *id) => {
                Err(CompletionError::Unsupported(OTHER_THREAD))
            }
            _ => Ok(()),
        }
    }

    /// Submits the SQ and waits for `want` CQEs: retries `EINTR`; on
    /// `EAGAIN`/`EBUSY` (the kernel is short of resources or has CQEs to
    /// post) reaps what has arrived and tries again.
    fn submit(&mut self, want: usize) -> Result<(), CompletionError> {
        self.enter(want, None).map(drop)
    }

    /// [`State::submit`] waiting for one CQE at most `timeout` (where the
    /// kernel has `IORING_FEAT_EXT_ARG`); returns whether the wait timed out.
    fn enter(&mut self, want: usize, timeout: Option<Duration>) -> Result<bool, CompletionError> {
        self.check_issuer()?;
        let ts = timeout.map(types::Timespec::from);
        loop {
            let res = match &ts {
                Some(ts) => self
                    .ring
                    .submitter()
                    .submit_with_args(want, &types::SubmitArgs::new().timespec(ts)),
                None => self.ring.submit_and_wait(want),
            };
            match res {
                Ok(_) => return Ok(false),
                Err(e) => match e.raw_os_error() {
                    Some(libc::ETIME) => return Ok(true),
                    Some(libc::EINTR) => {}
                    Some(libc::EAGAIN | libc::EBUSY) => {
                        if self.reap() == 0 {
                            std::thread::yield_now();
                        } else if want > 0 {
                            return Ok(false);
                        }
                    }
                    _ => return Err(e.into()),
                },
            }
        }
    }

    /// Submits and waits for at least one CQE. An aborted operation may
    /// never finish by itself (a read of an empty pipe), so a wait must not
    /// outlast it: where the kernel can time a wait out, a wait longer than
    /// [`ABORT_SCAN_AFTER`] looks for aborted operations to cancel and waits
    /// again; elsewhere that look happens before every wait.
    /// Returns whether the wait timed out.
    fn wait_for_one(&mut self) -> Result<bool, CompletionError> {
        if !self.ext_arg {
            self.cancel_aborted();
            return self.submit(1).map(|()| false);
        }
        let timed_out = self.enter(1, Some(ABORT_SCAN_AFTER))?;
        if timed_out {
            self.cancel_aborted();
        }
        Ok(timed_out)
    }

    /// Handles every CQE in the CQ; returns how many there were.
    ///
    /// The CQEs are copied out in batches of [`REAP_BATCH`] onto the stack
    /// (handling one may push to the SQ, which needs the ring), and batches
    /// are taken until the CQ is empty.
    fn reap(&mut self) -> usize {
        let mut batch = [const { std::mem::MaybeUninit::<cqueue::Entry>::uninit() }; REAP_BATCH];
        let mut n = 0;
        loop {
            let cqes = self.ring.completion().fill(&mut batch);
            let taken = cqes.len();
            for cqe in cqes.iter() {
                self.on_cqe(cqe.user_data(), cqe.result());
            }
            n += taken;
            if taken < REAP_BATCH {
                return n;
            }
        }
    }

    fn on_cqe(&mut self, ud: u64, res: i32) {
        self.in_kernel -= 1;
        if ud == CANCEL_USER_DATA {
            self.cancels_in_kernel -= 1;
            return;
        }
        let closed = self.closed;
        let Some((index, op)) = self.slot_of(ud) else {
            return;
        };
        op.in_kernel = false;
        // Looked at only where it changes the outcome: not for a success.
        let aborted = || abandoned(op.guard.completion());
        let outcome = if res < 0 {
            let errno = -res;
            match errno {
                libc::EAGAIN | libc::EINTR if !aborted() && op.retries < MAX_RETRIES => {
                    op.retries += 1;
                    None
                }
                // Cancelled by nobody who wanted it: the kernel cancels the
                // requests a thread submitted when that thread exits, and on
                // a shared ring a step submits every thread's operations.
                // Ours are cancelled only once aborted, or at shutdown.
                libc::ECANCELED if !closed && op.retries < MAX_RETRIES && !aborted() => {
                    op.retries += 1;
                    None
                }
                _ if aborted() => Some(Err(CompletionError::Aborted)),
                libc::ECANCELED => Some(Err(CompletionError::Aborted)),
                _ => Some(Err(CompletionError::Io(
                    io::Error::from_raw_os_error(errno).kind(),
                ))),
            }
        } else {
            let n = res as usize;
            op.done += n;
            let done = op.done;
            match &op.kind {
                OpKind::Sync(_) | OpKind::Truncate(_) => Some(Ok(0)),
                // EOF (a zero-byte read) ends a read with what has arrived.
                // With `O_DIRECT` only EOF stops a read short of a block
                // boundary, and asking again from an unaligned offset would
                // fail with `EINVAL` rather than return 0.
                OpKind::Read
                    if n == 0
                        || done >= op.guard.completion().read_buffer().map_or(0, |b| b.len())
                        || (op.file.mode.direct && done % DIRECT_IO_ALIGN != 0) =>
                {
                    Some(Ok(done as i32))
                }
                OpKind::Write(_) | OpKind::Writev(_) if done >= op.kind.write_len() => Some(Ok(done as i32)),
                OpKind::Write(_) | OpKind::Writev(_) if n == 0 => Some(Err(CompletionError::ShortWrite {
                    expected: op.kind.write_len(),
                    actual: done,
                })),
                _ if aborted() => Some(Err(CompletionError::Aborted)),
                // A short transfer: continue with the rest.
                _ => None,
            }
        };
        match outcome {
            Some(outcome) => self.retire(index, outcome),
            None => self.queue(Pending::Op(ud)),
        }
    }

    /// Frees the slot and queues the operation for its completion to be
    /// finished by `step`. Unparks syncs waiting for this write.
    ///
    /// Inline: a read's retirement is a few dozen instructions, which the
    /// call's prologue would add a quarter to; a change goes out of line
    /// ([`State::retire_change`]).
    #[inline(always)]
    fn retire(&mut self, index: usize, outcome: Outcome) {
        let slot = &mut self.slots[index];
        let Some(op) = slot.op.as_mut() else {
            return;
        };
        if op.kind.is_change() {
            self.retire_change(index, outcome);
        } else {
            // The common case (a read): finished in its slot, no write
            // order to keep, and the record dropped where it lies. A read's
            // only hold, its buffer's, is let go with the outcome: here if
            // nothing waits, else in `finish`, just before the device mark.
            let done = op.guard.finish_quiet_here(outcome);
            slot.generation = slot.generation.wrapping_add(1).max(1);
            if done {
                slot.op = None;
                self.finished_here += 1;
            } else if let Some(op) = slot.op.take() {
                self.reaped.push((op.guard, outcome));
            }
            self.free.push(index);
            self.live -= 1;
        }
    }

    /// [`State::retire`] for a write, a vectored write or a truncate: keeps
    /// the file's write order and unparks the syncs waiting for it.
    #[inline(never)]
    fn retire_change(&mut self, index: usize, outcome: Outcome) {
        let slot = &mut self.slots[index];
        let Some(op) = slot.op.take() else {
            return;
        };
        slot.generation = slot.generation.wrapping_add(1).max(1);
        self.free.push(index);
        self.live -= 1;
        if op.kind.is_change() {
            op.file.order.in_flight.fetch_sub(1, Ordering::Relaxed);
            if !self.parked.is_empty() {
                let mut parked = std::mem::take(&mut self.parked);
                parked.retain(|&ud| match self.slot_of(ud) {
                    Some((_, sync))
                        if Arc::ptr_eq(&sync.file.order, &op.file.order) && op.order < sync.order =>
                    {
                        sync.earlier_writes -= 1;
                        if sync.earlier_writes > 0 {
                            return true;
                        }
                        self.queue(Pending::Op(ud));
                        false
                    }
                    Some(_) => true,
                    None => false,
                });
                parked.append(&mut self.parked);
                self.parked = parked;
            }
        }
        // The device has let go: the buffers and the descriptor go first
        // (dropping them runs no user code), then the completion is finished
        // here if that runs no user code either; otherwise `step` finishes it
        // once the lock is released.
        let Op {
            guard, kind, file, ..
        } = op;
        drop(kind);
        drop(file);
        match guard.finish_quiet(outcome) {
            Ok(()) => self.finished_here += 1,
            Err(rest) => self.reaped.push(rest),
        }
    }

    fn send_cancel(&mut self, ud: u64) {
        if let Some((_, op)) = self.slot_of(ud) {
            op.cancel_sent = true;
            self.queue(Pending::Cancel(ud));
        }
    }

    /// Sends an async cancel for each aborted operation in the kernel that
    /// has none yet: called when a wait drags on, so that waiting cannot hang
    /// on an operation nobody wants any more.
    fn cancel_aborted(&mut self) {
        let targets: Vec<u64> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| match &slot.op {
                Some(op) if op.in_kernel && !op.cancel_sent && abandoned(op.guard.completion()) => {
                    Some(user_data(i, slot.generation))
                }
                _ => None,
            })
            .collect();
        for ud in targets {
            self.send_cancel(ud);
        }
    }

    /// `try_step`'s work under the lock: hands queued requests to the
    /// kernel and reaps what has arrived, without waiting. With
    /// `IORING_SETUP_TASKRUN_FLAG` the kernel raises `IORING_SQ_TASKRUN`
    /// while finished operations wait for this task to post them (always
    /// so with `DEFER_TASKRUN`); the submit then carries `GETEVENTS`.
    fn poll(&mut self) -> Result<(), CompletionError> {
        self.flush_overflow();
        let sq = self.ring.submission();
        let enter = !sq.is_empty() || sq.taskrun();
        drop(sq);
        if enter {
            self.submit(0)?;
        }
        self.reap();
        // Short transfers continued by the reap go out with the next step.
        self.flush_overflow();
        Ok(())
    }

    /// One `step`'s worth of work under the lock: submit, wait for at least
    /// one CQE if nothing has arrived, reap, until some operation retired,
    /// nothing is in flight, or a wait timed out.
    fn make_progress(&mut self) -> Result<Progress, CompletionError> {
        loop {
            self.flush_overflow();
            if !self.reaped.is_empty() || self.finished_here > 0 {
                // Retired on issue (aborted before submission) or by a reap
                // during a submission: deliver those first, but hand the
                // kernel what is queued.
                if !self.ring.submission().is_empty() {
                    self.submit(0)?;
                }
                if !self.ring.completion().is_empty() {
                    self.reap();
                }
                return Ok(Progress::Retired);
            }
            if self.in_kernel == 0 {
                return Ok(Progress::Idle);
            }
            if !self.ring.submission().is_empty() {
                // Hand the batch over without waiting: reads the kernel can
                // serve at once (from the page cache) complete during this
                // call, and then there is nothing to wait for. The timed wait
                // below costs the kernel a timer and two copies from user
                // space, which a cached read should not pay.
                self.submit(0)?;
            }
            if self.ring.completion().is_empty() && self.wait_for_one()? {
                return Ok(Progress::TimedOut);
            }
            self.reap();
        }
    }
}

impl State {
    /// Closes the ring for `UringIO`'s drop: refuses new operations, cancels
    /// every operation in the kernel and reaps until the kernel has let go
    /// of all of them or [`DROP_DEADLINE`] has passed, then hands back every
    /// operation not yet delivered, to be finished `Aborted` (or with the
    /// outcome it already had). What the kernel still holds is leaked.
    fn shutdown(&mut self) -> Vec<(InFlight, Outcome)> {
        self.closed = true;
        let deadline = Instant::now() + DROP_DEADLINE;
        let mut last_cancel: Option<Instant> = None;
        while self.in_kernel > 0 && Instant::now() < deadline {
            // Cancel everything in the kernel, again now and then: a cancel
            // that came too early (the request not yet started) or too late
            // (`-EALREADY`) does not end it.
            if last_cancel.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) {
                last_cancel = Some(Instant::now());
                let targets: Vec<u64> = self
                    .slots
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.op.as_ref().is_some_and(|op| op.in_kernel))
                    .map(|(i, s)| user_data(i, s.generation))
                    .collect();
                for ud in targets {
                    self.send_cancel(ud);
                }
            }
            // Nothing more is submitted: queued operations are retired below.
            self.overflow.clear();
            self.flush_overflow();
            let waited = if self.ext_arg {
                self.enter(1, Some(ABORT_SCAN_AFTER)).map(drop)
            } else {
                // Without timed waits, poll: a wait could outlast the
                // deadline.
                let r = self.submit(0);
                if self.ring.completion().is_empty() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                r
            };
            if waited.is_err() {
                // Another thread owns a `SINGLE_ISSUER` ring, or the kernel
                // refuses: nothing can be waited for.
                break;
            }
            self.reap();
        }
        let mut out: Vec<(InFlight, Outcome)> = std::mem::take(&mut self.reaped);
        for index in 0..self.slots.len() {
            let Some(op) = self.slots[index].op.take() else {
                continue;
            };
            if op.in_kernel {
                // The kernel may still write the buffers: never free them.
                // The completion is told all the same.
                let c = op.guard.completion().clone();
                std::mem::forget(op);
                c.abort();
                continue;
            }
            self.live -= 1;
            let Op { guard, .. } = op;
            out.push((guard, Err(CompletionError::Aborted)));
        }
        self.overflow.clear();
        self.parked.clear();
        out
    }
}

impl Drop for State {
    /// `UringIO`'s drop has shut the ring down already; files dropped later
    /// cannot issue. Anything the kernel might still hold is leaked, not
    /// freed: a leak is safe, a use after free is not.
    fn drop(&mut self) {
        if self.in_kernel > 0 {
            std::mem::forget(std::mem::take(&mut self.slots));
            // Registered buffers too: an operation still in the kernel may
            // be using one.
            std::mem::forget(self.fixed.take());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffer::Access;

    #[test]
    fn reasons_name_the_cause() {
        let enosys = io::Error::from_raw_os_error(libc::ENOSYS);
        assert!(unavailable_reason(&enosys, "setup", None).contains("no io_uring"));
        let eperm = io::Error::from_raw_os_error(libc::EPERM);
        assert!(unavailable_reason(&eperm, "setup", Some(2)).contains("kernel.io_uring_disabled=2"));
        assert!(unavailable_reason(&eperm, "setup", Some(0)).contains("seccomp"));
        assert!(unavailable_reason(&eperm, "setup", Some(1)).contains("io_uring_group"));
    }

    #[test]
    fn cq_is_at_least_twice_the_sq() {
        assert_eq!(UringOptions::new().cq_size(), DEFAULT_ENTRIES * DEFAULT_CQ_FACTOR);
        assert_eq!(UringOptions::new().entries(100).cq_entries(10).cq_size(), 256);
    }

    /// Threads adding under the lock lose no update: the lock excludes.
    #[test]
    fn the_ring_lock_excludes() {
        let lock = Arc::new(RingLock::new((0u64, 0u64)));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        let mut st = lock.lock();
                        // Two fields, written apart: a second thread inside
                        // would see them differ.
                        st.0 += 1;
                        assert_eq!(st.0, st.1 + 1, "two threads inside the lock");
                        st.1 += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.lock(), (80_000, 80_000));
        assert_eq!(lock.waiting.load(Ordering::SeqCst), 0);
    }

    /// A thread that finds the lock held sleeps, is counted as waiting, and
    /// gets the lock once the holder lets go, however long that takes.
    #[test]
    fn a_waiter_is_counted_and_woken() {
        let lock = Arc::new(RingLock::new(0u32));
        let held = lock.lock();
        let waiter = {
            let lock = lock.clone();
            std::thread::spawn(move || {
                *lock.lock() += 1;
            })
        };
        let start = Instant::now();
        while lock.waiting.load(Ordering::SeqCst) == 0 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the waiter was never counted"
            );
            std::thread::yield_now();
        }
        // Longer than many wake-up checks: the waiter must still be waiting.
        std::thread::sleep(HANDOFF * 20);
        assert_eq!(*held, 0);
        drop(held);
        waiter.join().unwrap();
        assert_eq!(*lock.lock(), 1);
        assert_eq!(lock.waiting.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn user_data_round_trips() {
        let ud = user_data(7, 3);
        assert_eq!(ud & 0xffff_ffff, 7);
        assert_eq!(ud >> 32, 3);
        assert_ne!(ud, CANCEL_USER_DATA);
    }

    /// A file of `len` patterned bytes, removed on drop.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str, data: &[u8]) -> TempFile {
            let path = std::env::temp_dir().join(format!("ratchet-uring-unit-{name}-{}", std::process::id()));
            fs::write(&path, data).unwrap();
            TempFile(path)
        }

        fn handle(&self) -> Arc<FileHandle> {
            let file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&self.0)
                .unwrap();
            Arc::new(FileHandle {
                file,
                mode: Mode {
                    read_only: false,
                    direct: false,
                },
                order: Arc::new(WriteOrder::default()),
            })
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = fs::remove_file(&self.0);
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }

    /// Plants `op` as if its SQE were in the kernel, then hands the state a
    /// CQE with `res` for it, as the kernel would.
    fn fake_cqe(io: &UringIO, op: Op, res: i32) {
        if op.kind.is_change() {
            op.file.order.in_flight.fetch_add(1, Ordering::Relaxed);
        }
        let mut st = io.shared.lock();
        let ud = st.insert(op);
        if let Some((_, op)) = st.slot_of(ud) {
            op.in_kernel = true;
        }
        st.in_kernel += 1;
        st.on_cqe(ud, res);
    }

    fn op(file: Arc<FileHandle>, c: &Completion, kind: OpKind, pos: u64) -> Op {
        Op {
            guard: c.begin_io().unwrap(),
            file,
            kind,
            pos,
            done: 0,
            retries: 0,
            in_kernel: false,
            cancel_sent: false,
            order: 0,
            earlier_writes: 0,
            fixed: None,
        }
    }

    #[test]
    fn a_sync_through_a_second_handle_waits_for_writes_on_the_first() {
        let Ok(io) = UringIO::new() else {
            eprintln!("skipped: io_uring unavailable");
            return;
        };
        let f = TempFile::new("two-handles", &data(4096));
        let a = io.open_file(&f.0, OpenOptions::existing()).unwrap();
        let b = io.open_file(&f.0, OpenOptions::existing()).unwrap();
        let w = a
            .pwrite(0, Arc::new(Buffer::from_vec(vec![9; 4096])), Completion::write())
            .unwrap();
        let s = b.sync(Completion::sync()).unwrap();
        assert_eq!(io.shared.lock().parked.len(), 1, "the sync waits for the write");
        assert_eq!(io.wait(&s), Ok(0));
        assert_eq!(w.result(), Some(Ok(4096)), "retired before the sync");
    }

    #[test]
    fn a_truncate_waits_for_earlier_writes_even_as_a_syscall() {
        let Ok(io) = UringIO::new() else {
            eprintln!("skipped: io_uring unavailable");
            return;
        };
        for ftruncate in [false, io.shared.info.ftruncate] {
            // As on a kernel without IORING_OP_FTRUNCATE (before 6.9).
            io.shared.lock().ftruncate = ftruncate;
            let f = TempFile::new("truncate-order", &[]);
            let file = io.open_file(&f.0, OpenOptions::existing()).unwrap();
            let w = file
                .pwrite(0, Arc::new(Buffer::new(8192)), Completion::write())
                .unwrap();
            let t = file.truncate(100, Completion::truncate()).unwrap();
            assert_eq!(io.wait(&t), Ok(0));
            assert_eq!(io.wait(&w), Ok(8192));
            assert_eq!(file.size(), Ok(100), "ftruncate op: {ftruncate}");
        }
    }

    #[test]
    fn registered_buffers_read_and_write_through_the_table() {
        let Ok(io) = UringOptions::new().registered_buffers(2).build() else {
            eprintln!("skipped: io_uring unavailable");
            return;
        };
        if io.shared.info.fixed_buffers == 0 {
            eprintln!("skipped: no sparse buffer tables on this kernel");
            return;
        }
        assert!(
            io.describe().contains("2 registered buffers"),
            "{}",
            io.describe()
        );
        let f = TempFile::new("fixed", &data(4 * 4096));
        let Ok(file) = io.open_file(&f.0, OpenOptions::existing().direct(true)) else {
            eprintln!("skipped: the temp dir refuses O_DIRECT");
            return;
        };
        // Three buffers through a table of two: the third takes the place
        // of one that nothing holds any more, never of one in use.
        let a = Arc::new(Buffer::new_aligned(4096));
        let b = Arc::new(Buffer::new_aligned(4096));
        for (i, buf) in [&a, &b].into_iter().enumerate() {
            let c = file
                .pread(i as u64 * 4096, Completion::read((*buf).clone()))
                .unwrap();
            assert_eq!(io.wait(&c), Ok(4096));
            assert_eq!(buf.to_vec(), data(4 * 4096)[i * 4096..(i + 1) * 4096]);
        }
        assert_eq!(io.shared.lock().fixed.as_ref().unwrap().index.len(), 2);
        let c = Arc::new(Buffer::new_aligned(4096));
        let r = file.pread(2 * 4096, Completion::read(c.clone())).unwrap();
        assert_eq!(io.wait(&r), Ok(4096));
        assert_eq!(
            io.shared.lock().fixed.as_ref().unwrap().index.len(),
            2,
            "a full table of buffers in use is not touched: the read went unregistered"
        );
        assert_eq!(c.to_vec(), data(4 * 4096)[2 * 4096..3 * 4096]);
        drop(a);
        let r = file.pread(2 * 4096, Completion::read(c.clone())).unwrap();
        assert_eq!(io.wait(&r), Ok(4096));
        {
            let st = io.shared.lock();
            let fixed = st.fixed.as_ref().unwrap();
            assert!(
                fixed.index.contains_key(&Arc::as_ptr(&c).addr()),
                "took the dropped buffer's entry"
            );
            assert!(fixed.index.contains_key(&Arc::as_ptr(&b).addr()));
        }
        // A write of a registered buffer (WRITE_FIXED) lands on disk.
        c.as_mut_slice().fill(0x5A);
        let w = file.pwrite(4096, c.clone(), Completion::write()).unwrap();
        assert_eq!(io.wait(&w), Ok(4096));
        let on_disk = fs::read(&f.0).unwrap();
        assert!(on_disk[4096..8192].iter().all(|&x| x == 0x5A));
        assert_eq!(&on_disk[..4096], &data(4 * 4096)[..4096]);
    }

    #[test]
    fn eagain_and_eintr_cqes_are_resubmitted() {
        let Ok(io) = UringIO::new() else {
            eprintln!("skipped: io_uring unavailable");
            return;
        };
        let f = TempFile::new("eagain", &data(8192));
        for res in [-libc::EAGAIN, -libc::EINTR] {
            let buf = Arc::new(Buffer::new(8192));
            let c = Completion::read(buf.clone());
            fake_cqe(&io, op(f.handle(), &c, OpKind::Read, 0), res);
            assert!(!c.finished(), "an {res} CQE must not finish the read");
            assert_eq!(io.wait(&c), Ok(8192));
            assert_eq!(buf.to_vec(), data(8192));
        }
        assert_eq!(io.stats().in_kernel, 0);
    }

    #[test]
    fn short_reads_and_writes_continue_with_the_rest() {
        let Ok(io) = UringIO::new() else {
            eprintln!("skipped: io_uring unavailable");
            return;
        };
        let f = TempFile::new("short", &data(10_000));
        // The kernel "read" 100 bytes: the backend asks for the other 9,900
        // at offset 100 + 100, into the buffer from byte 100 on.
        let buf = Arc::new(Buffer::from_vec(vec![0xEE; 10_000]));
        let c = Completion::read(buf.clone());
        fake_cqe(&io, op(f.handle(), &c, OpKind::Read, 100), 100);
        assert_eq!(io.wait(&c), Ok(9_900), "continued up to EOF");
        let got = buf.to_vec();
        assert!(
            got[..100].iter().all(|&x| x == 0xEE),
            "the bytes said to have arrived are not re-read"
        );
        assert_eq!(&got[100..9_900], &data(10_000)[200..]);
        assert!(got[9_900..].iter().all(|&x| x == 0xEE));

        // The kernel "wrote" 1,000 bytes of a 5,000-byte write: the rest
        // follows, at the right offset, and the result is the whole length.
        let w = Arc::new(Buffer::from_vec(vec![0x11; 5_000]));
        let c = Completion::write();
        let hold = DeviceHold::new(&w, Access::Drain).unwrap();
        fake_cqe(&io, op(f.handle(), &c, OpKind::Write(hold), 0), 1_000);
        assert_eq!(io.wait(&c), Ok(5_000));
        let on_disk = fs::read(&f.0).unwrap();
        assert_eq!(
            &on_disk[..1_000],
            &data(10_000)[..1_000],
            "the first part was not written again"
        );
        assert!(on_disk[1_000..5_000].iter().all(|&x| x == 0x11));

        // A write the device takes nothing of fails as a short write.
        let c = Completion::write();
        let w = Arc::new(Buffer::from_vec(vec![0x22; 10]));
        let hold = DeviceHold::new(&w, Access::Drain).unwrap();
        fake_cqe(&io, op(f.handle(), &c, OpKind::Write(hold), 0), 0);
        assert_eq!(
            io.wait(&c),
            Err(CompletionError::ShortWrite {
                expected: 10,
                actual: 0
            })
        );
    }
}
