//! The simulator: [`SimIO`], a seeded backend with latency, reordering,
//! faults and a crash model, with its configuration ([`SimConfig`],
//! [`FaultKind`], [`Latency`]), its event log ([`SimEvent`]) and the driver
//! that crashes it in the middle of a machine ([`SimIO::run_until_crash`]).
//! The model is documented on [`SimIO`].

pub use crate::sim_drive::{CrashPoint, CrashRun};
pub use crate::validate::SIMULATED_MAX_FILE_BYTES;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::buffer::{Buffer, DeviceHold};
use crate::completion::{Completion, CompletionError, InFlight, Outcome};
use crate::deliver::Deliveries;
use crate::io::{File, IO, OpenOptions};
use crate::validate::{self, Mode, reject};

/// The sector size of [`SimConfig::default`]: the smallest unit a disk writes
/// atomically on the devices ratchet targets, so the granularity at which a
/// crash or a torn write splits a write.
pub const DEFAULT_SECTOR_BYTES: usize = 512;

/// `EIO` on the Unix systems ratchet runs on (Linux, the BSDs, macOS).
const EIO: i32 = 5;

/// How long an operation takes, in simulated nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Latency {
    /// Always this many nanoseconds: operations submitted together are due
    /// together, which exercises tie-breaking.
    Fixed(u64),
    /// Uniform between the bounds, both included.
    Uniform {
        /// The shortest latency.
        min_ns: u64,
        /// The longest latency.
        max_ns: u64,
    },
    /// Exponentially distributed with this mean: mostly short, sometimes long,
    /// like a device with a queue.
    Exponential {
        /// The mean latency.
        mean_ns: u64,
    },
}

impl Latency {
    fn sample(&self, rng: &mut SimRng) -> u64 {
        match *self {
            Latency::Fixed(ns) => ns,
            Latency::Uniform { min_ns, max_ns } if max_ns <= min_ns => min_ns,
            Latency::Uniform { min_ns, max_ns } => {
                // `max - min + 1` wraps to 0 only for the full range, where
                // any u64 will do.
                match (max_ns - min_ns).checked_add(1) {
                    Some(span) => min_ns + rng.below(span),
                    None => rng.next_u64(),
                }
            }
            Latency::Exponential { mean_ns } => {
                // Inverse transform sampling; `1 - u` is in (0, 1], so the
                // logarithm is finite. `as` saturates on overflow.
                let u = rng.next_f64();
                (-(1.0 - u).ln() * mean_ns as f64) as u64
            }
        }
    }
}

/// Per-operation probabilities of each fault, each in `[0, 1]`.
///
/// One uniform draw per operation picks at most one fault: a read checks
/// `read_eio` then `short_read`; a write `write_eio`, `torn_write`,
/// `short_write`, `no_space`; a sync `sync_eio` then `sync_drops_dirty`; a
/// truncate `torn_truncate`. So `1.0` for one kind makes every operation of
/// its type fail that way.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FaultProbabilities {
    /// A read fails with `EIO`.
    pub read_eio: f64,
    /// A write (`pwrite` or `pwritev`) fails with `EIO`, writing nothing.
    pub write_eio: f64,
    /// A sync fails with `EIO`, making nothing durable.
    pub sync_eio: f64,
    /// A read stops early: [`FaultKind::ShortRead`].
    pub short_read: f64,
    /// A write stops early: [`FaultKind::ShortWrite`].
    pub short_write: f64,
    /// A write lands in part: [`FaultKind::TornWrite`].
    pub torn_write: f64,
    /// A write finds the device full: [`FaultKind::NoSpace`].
    pub no_space: f64,
    /// A sync fails and forgets what it covered:
    /// [`FaultKind::SyncDropsDirty`].
    pub sync_drops_dirty: f64,
    /// A truncate stops part-way: [`FaultKind::TornTruncate`].
    pub torn_truncate: f64,
}

impl FaultProbabilities {
    fn all(&self) -> [f64; 9] {
        [
            self.read_eio,
            self.write_eio,
            self.sync_eio,
            self.short_read,
            self.short_write,
            self.torn_write,
            self.no_space,
            self.sync_drops_dirty,
            self.torn_truncate,
        ]
    }
}

/// A fault the simulation injects into one operation. See the module
/// documentation for what each does to the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Fails with [`SimIO::eio`]; nothing happens. Fits every operation.
    Eio,
    /// A read delivers a prefix of the bytes and fails with
    /// [`CompletionError::ShortRead`].
    ShortRead,
    /// A write lands a strict prefix and fails with
    /// [`CompletionError::ShortWrite`].
    ShortWrite,
    /// A write lands some of its sectors and fails with [`SimIO::eio`].
    TornWrite,
    /// Fails with `Io(ErrorKind::StorageFull)`; a write lands a strict
    /// prefix of its data first (possibly none), as a real `ENOSPC` does.
    NoSpace,
    /// Fails with this error; nothing happens. Fits every operation.
    Error(CompletionError),
    /// A sync fails with [`SimIO::eio`] and the changes it covered are
    /// marked clean: some sectors of them reached the disk, the others are
    /// forgotten. Reads still see them until a crash, and a later sync
    /// succeeds without making them durable (Linux's behaviour after a
    /// failed writeback, the PostgreSQL "fsyncgate" lesson: a retried fsync
    /// proves nothing). Fits syncs.
    SyncDropsDirty,
    /// A truncate stops part-way: the length ends strictly between the old
    /// and the new one, at a sector boundary (unchanged when there is none),
    /// and it fails with [`SimIO::eio`]. Fits truncates.
    TornTruncate,
}

impl FaultKind {
    /// The fault as it applies to an operation of `op`: a kind that cannot
    /// happen to it (a short read of a write, say) becomes [`FaultKind::Eio`],
    /// so "fail operation k" always fails operation k.
    fn fit(self, op: OpKind) -> FaultKind {
        let fits = match self {
            FaultKind::Eio | FaultKind::Error(_) => true,
            FaultKind::ShortRead => op == OpKind::Read,
            FaultKind::ShortWrite | FaultKind::TornWrite => op == OpKind::Write,
            FaultKind::NoSpace => op != OpKind::Read,
            FaultKind::SyncDropsDirty => op == OpKind::Sync,
            FaultKind::TornTruncate => op == OpKind::Truncate,
        };
        if fits { self } else { FaultKind::Eio }
    }
}

/// Everything a [`SimIO`] run depends on besides the calls made to it.
///
/// A plain struct: set fields directly (`SimConfig { reorder_probability:
/// 0.1, ..SimConfig::with_seed(seed) }`) or chain the builder methods.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// The seed every random choice derives from.
    pub seed: u64,
    /// The latency of an operation.
    pub latency: Latency,
    /// The probability that an operation also gets [`SimConfig::tail_latency`]
    /// on top: the rare slow request of a real device.
    pub tail_latency_probability: f64,
    /// The extra latency of the slow operations.
    pub tail_latency: Latency,
    /// The probability that a step delivers one operation that is due later
    /// ahead of the earliest ones.
    pub reorder_probability: f64,
    /// The probability that [`SimIO::spurious_wakeup`] says yes, so that
    /// [`SimIO::block_with_spurious`] calls a machine again while its
    /// completion is pending.
    pub spurious_wakeup_probability: f64,
    /// Faults injected at random.
    pub faults: FaultProbabilities,
    /// Faults injected at chosen operations: `(index, kind)` fails the
    /// operation with that index (0 for the first submitted; the `op` of
    /// [`SimEvent::Submit`]). Takes precedence over random faults.
    pub faults_at: Vec<(u64, FaultKind)>,
    /// Whether a crash lets some sectors of unsynced writes reach the durable
    /// image; without it a crash drops every unsynced write whole.
    pub crash_tearing: bool,
    /// The atomic unit of the simulated disk, in bytes (at least 1).
    pub sector_bytes: usize,
}

impl Default for SimConfig {
    /// Seed 0; latency uniform between 10 µs and 200 µs; no tail, reordering,
    /// spurious wake-ups or faults; crash tearing on, at 512-byte sectors.
    fn default() -> Self {
        SimConfig {
            seed: 0,
            latency: Latency::Uniform {
                min_ns: 10_000,
                max_ns: 200_000,
            },
            tail_latency_probability: 0.0,
            tail_latency: Latency::Fixed(10_000_000),
            reorder_probability: 0.0,
            spurious_wakeup_probability: 0.0,
            faults: FaultProbabilities::default(),
            faults_at: Vec::new(),
            crash_tearing: true,
            sector_bytes: DEFAULT_SECTOR_BYTES,
        }
    }
}

impl SimConfig {
    /// [`SimConfig::default`] with `seed`.
    #[must_use]
    pub fn with_seed(seed: u64) -> Self {
        SimConfig {
            seed,
            ..Self::default()
        }
    }

    /// Sets [`SimConfig::latency`].
    #[must_use]
    pub fn latency(mut self, latency: Latency) -> Self {
        self.latency = latency;
        self
    }

    /// Sets [`SimConfig::tail_latency_probability`] and
    /// [`SimConfig::tail_latency`].
    #[must_use]
    pub fn tail_latency(mut self, probability: f64, extra: Latency) -> Self {
        self.tail_latency_probability = probability;
        self.tail_latency = extra;
        self
    }

    /// Sets [`SimConfig::reorder_probability`].
    #[must_use]
    pub fn reorder_probability(mut self, probability: f64) -> Self {
        self.reorder_probability = probability;
        self
    }

    /// Sets [`SimConfig::spurious_wakeup_probability`].
    #[must_use]
    pub fn spurious_wakeup_probability(mut self, probability: f64) -> Self {
        self.spurious_wakeup_probability = probability;
        self
    }

    /// Sets [`SimConfig::faults`].
    #[must_use]
    pub fn faults(mut self, faults: FaultProbabilities) -> Self {
        self.faults = faults;
        self
    }

    /// Fails the operation with index `op` with `kind` (see
    /// [`SimConfig::faults_at`]).
    #[must_use]
    pub fn fault_at(mut self, op: u64, kind: FaultKind) -> Self {
        self.faults_at.push((op, kind));
        self
    }

    /// Sets [`SimConfig::crash_tearing`].
    #[must_use]
    pub fn crash_tearing(mut self, on: bool) -> Self {
        self.crash_tearing = on;
        self
    }

    /// Sets [`SimConfig::sector_bytes`].
    #[must_use]
    pub fn sector_bytes(mut self, bytes: usize) -> Self {
        self.sector_bytes = bytes;
        self
    }

    /// Panics with the name of the first setting that makes no sense.
    fn validate(&self) {
        let probabilities = [
            ("tail_latency_probability", self.tail_latency_probability),
            ("reorder_probability", self.reorder_probability),
            ("spurious_wakeup_probability", self.spurious_wakeup_probability),
        ];
        for (name, p) in probabilities {
            assert!(
                (0.0..=1.0).contains(&p),
                "SimConfig::{name} must be in [0, 1], not {p}"
            );
        }
        for p in self.faults.all() {
            assert!(
                (0.0..=1.0).contains(&p),
                "SimConfig::faults: {p} is not a probability in [0, 1]"
            );
        }
        assert!(
            self.sector_bytes > 0,
            "SimConfig::sector_bytes must be at least 1"
        );
        for (name, latency) in [("latency", self.latency), ("tail_latency", self.tail_latency)] {
            if let Latency::Uniform { min_ns, max_ns } = latency {
                assert!(
                    min_ns <= max_ns,
                    "SimConfig::{name}: Latency::Uniform needs min_ns <= max_ns, not {min_ns} > {max_ns}"
                );
            }
        }
    }
}

/// The type of a simulated operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// `pread`.
    Read,
    /// `pwrite` or `pwritev`.
    Write,
    /// `sync`, either mode.
    Sync,
    /// `truncate`.
    Truncate,
}

/// One thing that happened in a simulation, in the order it happened.
///
/// Two runs with the same seed and the same calls produce equal traces;
/// `Display` prints one line per event for a failing test to show.
#[derive(Debug, Clone, PartialEq)]
pub enum SimEvent {
    /// A file was opened; later events name it by `file`.
    Open {
        /// The simulated time.
        time_ns: u64,
        /// The path as given.
        path: PathBuf,
        /// The file's number, stable for the life of the simulation.
        file: u64,
        /// Whether `open_file` created it.
        created: bool,
    },
    /// A file's name was removed.
    Remove {
        /// The simulated time.
        time_ns: u64,
        /// The path as given.
        path: PathBuf,
    },
    /// An operation was submitted.
    Submit {
        /// The simulated time.
        time_ns: u64,
        /// The operation's index, counted from 0 in submission order.
        op: u64,
        /// The file's number.
        file: u64,
        /// The operation.
        kind: OpKind,
        /// The offset (the new length, for a truncate; 0 for a sync).
        pos: u64,
        /// Bytes to transfer (0 for syncs and truncates).
        len: u64,
        /// When it is due.
        due_ns: u64,
        /// The fault it will suffer, if any.
        fault: Option<FaultKind>,
    },
    /// An operation was delivered, or aborted by a crash.
    Deliver {
        /// The simulated time.
        time_ns: u64,
        /// The operation's index.
        op: u64,
        /// What the device reported. The completion keeps an earlier outcome
        /// if it had one (an abort by the user, say).
        outcome: Outcome,
    },
    /// [`SimIO::spurious_wakeup`] said yes.
    Spurious {
        /// The simulated time.
        time_ns: u64,
    },
    /// [`SimIO::crash`] ran.
    Crash {
        /// The simulated time.
        time_ns: u64,
        /// Pending operations it aborted.
        aborted: usize,
        /// Unsynced or in-flight changes it found (writes and truncates).
        unsynced: usize,
        /// Sectors of those that reached the durable image anyway.
        sectors_kept: usize,
        /// Sectors of those that were lost.
        sectors_lost: usize,
    },
}

impl fmt::Display for SimEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimEvent::Open {
                time_ns,
                path,
                file,
                created,
            } => {
                let how = if *created { "create" } else { "open" };
                write!(f, "{time_ns:>12}ns {how} {} as file {file}", path.display())
            }
            SimEvent::Remove { time_ns, path } => {
                write!(f, "{time_ns:>12}ns remove {}", path.display())
            }
            SimEvent::Submit {
                time_ns,
                op,
                file,
                kind,
                pos,
                len,
                due_ns,
                fault,
            } => {
                write!(
                    f,
                    "{time_ns:>12}ns submit #{op} {kind:?} file {file} pos {pos} len {len} due {due_ns}ns"
                )?;
                match fault {
                    Some(fault) => write!(f, " fault {fault:?}"),
                    None => Ok(()),
                }
            }
            SimEvent::Deliver { time_ns, op, outcome } => {
                write!(f, "{time_ns:>12}ns deliver #{op} {outcome:?}")
            }
            SimEvent::Spurious { time_ns } => write!(f, "{time_ns:>12}ns spurious wake-up"),
            SimEvent::Crash {
                time_ns,
                aborted,
                unsynced,
                sectors_kept,
                sectors_lost,
            } => write!(
                f,
                "{time_ns:>12}ns CRASH: {aborted} aborted, {unsynced} unsynced changes, \
                 {sectors_kept} sectors kept, {sectors_lost} lost"
            ),
        }
    }
}

/// A seeded, single-threaded simulation of a storage device, for
/// finding the bugs of a machine that only show up under unlucky timing,
/// failing hardware or a power cut.
///
/// One `u64` seed decides everything the simulation chooses, so a failing run
/// is reproduced by running it again with the same seed (and the same calls).
/// Each kind of choice draws from its own stream derived from that seed
/// (latency, delivery order, faults, spurious wake-ups, crash tearing), so
/// turning faults on does not change the latencies a run sees, and so on.
/// There is no wall time anywhere: the clock is simulated and only moves
/// when [`IO::step`] delivers an operation.
///
/// # The model
///
/// - **Latency.** Each operation gets a due time `now + latency` when it is
///   submitted, with the latency drawn from [`SimConfig::latency`] (plus,
///   rarely, [`SimConfig::tail_latency`]). Nothing ever finishes inside the
///   call that submits it: every completion waits for a `step()`.
/// - **Delivery.** `step()` moves the clock to the earliest due time and
///   delivers every operation due then, in an order drawn from the order
///   stream. With [`SimConfig::reorder_probability`] it sometimes delivers one
///   later operation ahead of them instead, out of time order.
/// - **Effects at delivery.** A read sees the file as it is when the read is
///   delivered, and a write lands when it is delivered, not when it is
///   submitted: overlapping operations in flight together race the way they
///   do on a real device, and a machine that reads its own unacknowledged
///   write may not see it.
/// - **Two images per file.** Each file has a volatile image (what reads see)
///   and a durable image (what survives [`SimIO::crash`]). A successful `sync`
///   makes durable exactly the changes *delivered before the sync was
///   submitted*: POSIX promises no more for writes that finish while the
///   `fsync` runs, so the simulation grants no more. A failed sync
///   ([`FaultKind::Eio`]) makes nothing durable; the changes stay volatile
///   for a later sync to cover. [`FaultKind::SyncDropsDirty`] is what Linux
///   does instead: the changes are marked clean, some of their sectors on
///   the disk and the rest forgotten, and a later sync succeeds without
///   them.
/// - **Crash.** [`SimIO::crash`] aborts every pending operation, keeps the
///   durable images, and (with [`SimConfig::crash_tearing`]) lets each sector
///   of each unsynced or in-flight write reach the durable image or not, at
///   random, and each unsynced or in-flight truncate be lost, land, or stop
///   part-way (a length between the old and the new, at a sector boundary). Handles opened before the crash are dead: their operations fail
///   with [`CompletionError::Aborted`]. Reopen the files through the same
///   `SimIO` to recover from the durable images.
/// - **Namespace.** Creating and removing files is durable at once (as if
///   every directory were synced), so crash tests exercise file contents.
///   A removed file stays readable through handles opened before.
///
/// # Faults
///
/// Faults are decided when an operation is submitted (by probability, from
/// [`SimConfig::faults`], or by operation index, from [`SimConfig::faults_at`])
/// and recorded in the trace. What each does is what a real backend reports
/// after its own retry loop has given up:
///
/// - [`FaultKind::Eio`]: nothing happens; the operation fails with
///   [`SimIO::eio`], the error `BlockingIO` reports for a real `EIO`.
/// - [`FaultKind::ShortRead`]: a prefix of the available bytes arrives; the
///   read fails with [`CompletionError::ShortRead`]. (A real backend continues
///   short reads, so a shortfall it reports is an error, never a smaller
///   count: a smaller count means EOF.)
/// - [`FaultKind::ShortWrite`]: a strict prefix of the data lands; the write
///   fails with [`CompletionError::ShortWrite`], as `BlockingIO` and
///   `UringIO` report a device whose `write` returns 0. Real file systems
///   rarely do that: a write they cannot finish lands a prefix and then
///   fails with an error, which [`FaultKind::NoSpace`] models.
/// - [`FaultKind::TornWrite`]: some sectors of the write land and others do
///   not (a non-empty strict subset when the write spans two sectors or more;
///   a one-sector write lands whole); the write fails with [`SimIO::eio`].
/// - [`FaultKind::NoSpace`]: a write lands a strict prefix of its data
///   (possibly none), then fails with
///   `CompletionError::Io(ErrorKind::StorageFull)`, as a real `ENOSPC` does
///   after the file system took what fit (measured: 64 KiB of a 100 KiB
///   write on a full tmpfs); a sync or truncate changes nothing and fails
///   with it.
/// - [`FaultKind::Error`]: nothing happens; the operation fails with the
///   given error.
/// - [`FaultKind::SyncDropsDirty`]: the sync fails with [`SimIO::eio`], and
///   the changes it covered are marked clean: random sectors of them reach
///   the durable image, the rest are lost at the next crash, though reads
///   see them until then; a retried sync succeeds and proves nothing.
/// - [`FaultKind::TornTruncate`]: the truncate fails with [`SimIO::eio`],
///   leaving a length strictly between the old and the new one, at a sector
///   boundary (unchanged when none lies between).
///
/// ```
/// # extern crate ratchet_runtime as ratchet;
/// use std::sync::Arc;
/// use ratchet::{Buffer, Completion, IO, OpenOptions, SimIO};
/// use ratchet::sim::{FaultKind, SimConfig};
///
/// let config = SimConfig::with_seed(7).fault_at(1, FaultKind::Eio).crash_tearing(false);
/// let io = SimIO::new(config);
/// let file = io.open_file("/db".as_ref(), OpenOptions::new()).unwrap();
/// let w = file.pwrite(0, Arc::new(Buffer::from_vec(b"page".to_vec())), Completion::write()).unwrap();
/// assert!(!w.finished()); // every operation waits for a step
/// assert_eq!(io.wait(&w), Ok(4));
/// let s = file.sync(Completion::sync()).unwrap(); // operation 1: fails
/// assert_eq!(io.wait(&s), Err(SimIO::eio()));
/// io.crash(); // the write was never made durable
/// let file = io.open_file("/db".as_ref(), OpenOptions::existing()).unwrap();
/// assert_eq!(file.size(), Ok(0));
/// ```
///
/// Clones share one simulation. It is `Send + Sync` like every backend, but a
/// run is only reproducible when one thread drives it.
#[derive(Clone)]
pub struct SimIO {
    shared: Arc<Shared>,
    _owner: Arc<Owner>,
}

struct Shared {
    config: SimConfig,
    state: Mutex<State>,
    /// Delivered or aborted operations whose completions are being finished.
    deliveries: Deliveries<(InFlight, Outcome)>,
}

/// Shared by the `SimIO` handles (not by files): when the last handle drops,
/// the simulation closes.
struct Owner(Arc<Shared>);

impl Drop for Owner {
    /// Aborts every pending operation, so no completion is left waiting for
    /// a step nobody can make; files still open then refuse new operations.
    fn drop(&mut self) {
        let pending = {
            let mut st = lock(&self.0.state);
            st.closed = true;
            std::mem::take(&mut st.pending)
        };
        self.0.deliveries.push_all(
            pending
                .into_iter()
                .map(|op| (op.held, Err(CompletionError::Aborted))),
        );
        self.0.deliveries.run_in_drop(finish);
    }
}

/// Everything that changes, under one lock: the simulation is sequential by
/// design, so finer locking would buy nothing but ways to be nondeterministic.
struct State {
    /// Every `SimIO` handle has been dropped.
    closed: bool,
    now_ns: u64,
    /// Bumped by each crash; a handle from an older epoch is dead.
    epoch: u64,
    next_op: u64,
    /// File names, ordered so that nothing depends on hash order.
    names: BTreeMap<PathBuf, usize>,
    /// Every file ever created, by number; kept after removal for the handles
    /// still open on it.
    nodes: Vec<Node>,
    /// Submitted and not yet delivered, in submission order.
    pending: Vec<PendingOp>,
    trace: Vec<SimEvent>,
    faults_at: BTreeMap<u64, FaultKind>,
    latency_rng: SimRng,
    order_rng: SimRng,
    fault_rng: SimRng,
    spurious_rng: SimRng,
    crash_rng: SimRng,
}

/// One file's contents.
#[derive(Default)]
struct Node {
    /// What reads see: the durable image with every change since applied.
    volatile: Vec<u8>,
    /// What a crash leaves.
    durable: Vec<u8>,
    /// Changes applied to `volatile` and not yet to `durable`, in the order
    /// they were applied, so a sync can make a prefix of them durable.
    unsynced: Vec<Change>,
    /// The sequence number the next change gets.
    next_seq: u64,
}

struct Change {
    seq: u64,
    what: Mutation,
}

enum Mutation {
    Write { pos: usize, data: Vec<u8> },
    Truncate { len: usize },
}

impl Mutation {
    fn apply(&self, image: &mut Vec<u8>) {
        match self {
            Mutation::Write { pos, data } => write_into(image, *pos, data),
            Mutation::Truncate { len } => image.resize(*len, 0),
        }
    }
}

impl Node {
    /// Applies `what` to the volatile image and remembers it for a sync.
    fn change(&mut self, what: Mutation) {
        what.apply(&mut self.volatile);
        self.unsynced.push(Change {
            seq: self.next_seq,
            what,
        });
        self.next_seq += 1;
    }
}

/// An operation between submission and delivery.
struct PendingOp {
    op: u64,
    node: usize,
    due_ns: u64,
    kind: Pending,
    fault: Option<FaultKind>,
    /// Random bits for the fault to use at delivery (how short, which sectors).
    fault_bits: u64,
    /// An error decided at submission (a write past the largest file the
    /// simulation holds), reported at delivery like the kernel's would be.
    forced: Option<CompletionError>,
    /// Keeps the completion (and so a read's buffer) alive, unviewable and
    /// `device_released()` false until delivery, however the user aborts or
    /// drops their handles: the simulated device still owns the buffer.
    held: InFlight,
    /// A write's buffers, held as a device sending them holds them; the data
    /// is gathered from them at delivery, when the device would read it.
    writes: Vec<DeviceHold>,
}

enum Pending {
    /// `len` bytes into the completion's buffer, filled at delivery.
    Read {
        pos: u64,
        len: usize,
    },
    Write {
        pos: u64,
        bufs: Vec<Arc<Buffer>>,
    },
    /// Covers the changes with a sequence number below `upto`: those delivered
    /// before the sync was submitted.
    Sync {
        upto: u64,
    },
    Truncate {
        len: u64,
    },
}

impl Pending {
    fn kind(&self) -> OpKind {
        match self {
            Pending::Read { .. } => OpKind::Read,
            Pending::Write { .. } => OpKind::Write,
            Pending::Sync { .. } => OpKind::Sync,
            Pending::Truncate { .. } => OpKind::Truncate,
        }
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while the lock is held can only come from the simulator's own
    // short critical sections (callbacks run unlocked); carrying on lets a
    // test report its own failure instead of a cascade of poison errors.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The tags that make each random stream of one seed independent.
mod stream {
    pub const LATENCY: u64 = 1;
    pub const ORDER: u64 = 2;
    pub const FAULT: u64 = 3;
    pub const SPURIOUS: u64 = 4;
    pub const CRASH: u64 = 5;
}

impl SimIO {
    /// A simulation with no files, at time 0.
    ///
    /// # Panics
    ///
    /// If a probability in `config` lies outside `[0, 1]`, or
    /// `sector_bytes` is 0.
    #[must_use]
    pub fn new(config: SimConfig) -> Self {
        config.validate();
        let seed = config.seed;
        let state = State {
            closed: false,
            now_ns: 0,
            epoch: 0,
            next_op: 0,
            names: BTreeMap::new(),
            nodes: Vec::new(),
            pending: Vec::new(),
            trace: Vec::new(),
            // Later entries for the same index win, as with repeated calls
            // to `inject_fault`.
            faults_at: config.faults_at.iter().copied().collect(),
            latency_rng: SimRng::new(seed, stream::LATENCY),
            order_rng: SimRng::new(seed, stream::ORDER),
            fault_rng: SimRng::new(seed, stream::FAULT),
            spurious_rng: SimRng::new(seed, stream::SPURIOUS),
            crash_rng: SimRng::new(seed, stream::CRASH),
        };
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(state),
            deliveries: Deliveries::default(),
        });
        SimIO {
            _owner: Arc::new(Owner(shared.clone())),
            shared,
        }
    }

    /// The error a simulated `EIO` reports: the one `BlockingIO` reports for a
    /// real `EIO` (`io::Error::from_raw_os_error(EIO).kind()`).
    #[must_use]
    pub fn eio() -> CompletionError {
        CompletionError::Io(io::Error::from_raw_os_error(EIO).kind())
    }

    /// The configuration this simulation runs with.
    #[must_use]
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// The simulated time, in nanoseconds since the start.
    #[must_use]
    pub fn now_ns(&self) -> u64 {
        self.state().now_ns
    }

    /// How many operations have been submitted: the index the next one gets.
    #[must_use]
    pub fn ops_submitted(&self) -> u64 {
        self.state().next_op
    }

    /// How many operations are submitted and not yet delivered.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.state().pending.len()
    }

    /// A copy of everything recorded so far.
    #[must_use]
    pub fn trace(&self) -> Vec<SimEvent> {
        self.state().trace.clone()
    }

    /// Fails the operation with index `op` with `kind`, like
    /// [`SimConfig::fault_at`], for a test that decides during the run. Has no
    /// effect on an operation already submitted.
    pub fn inject_fault(&self, op: u64, kind: FaultKind) {
        self.state().faults_at.insert(op, kind);
    }

    /// Draws from the spurious wake-up stream: whether a driver should call its
    /// machine again now, although the completion it waits for is pending.
    /// Always false with a probability of 0, without drawing. A yes is
    /// recorded in the trace.
    pub fn spurious_wakeup(&self) -> bool {
        let p = self.shared.config.spurious_wakeup_probability;
        if p <= 0.0 {
            return false;
        }
        let mut st = self.state();
        let yes = st.spurious_rng.chance(p);
        if yes {
            let time_ns = st.now_ns;
            st.trace.push(SimEvent::Spurious { time_ns });
        }
        yes
    }

    /// Simulates a power cut, between two steps.
    ///
    /// Every pending operation is aborted: its completion finishes with
    /// [`CompletionError::Aborted`] (unless it had finished already) and its
    /// buffers are released. Each file's volatile image is replaced by its
    /// durable image; with [`SimConfig::crash_tearing`], each sector of each
    /// unsynced change (including writes in flight) first reaches the durable
    /// image or not, at random from the crash stream, and an unsynced or
    /// in-flight truncate is lost, persists, or stops part-way. Every handle opened before is dead; reopen
    /// the files to recover. The clock and the operation count go on.
    pub fn crash(&self) {
        let mut guard = self.state();
        let st = &mut *guard;
        let pending = std::mem::take(&mut st.pending);
        let tearing = self.shared.config.crash_tearing;
        let sector = self.shared.config.sector_bytes;
        let (mut unsynced, mut kept, mut lost) = (0, 0, 0);
        for (index, node) in st.nodes.iter_mut().enumerate() {
            let mut changes: Vec<Mutation> = std::mem::take(&mut node.unsynced)
                .into_iter()
                .map(|c| c.what)
                .collect();
            // Writes and truncates in flight may have reached the disk as
            // well: the device got them, nobody was told.
            for op in pending.iter().filter(|op| op.node == index) {
                if let Pending::Truncate { len } = &op.kind
                    && let Ok(len) = usize::try_from(*len)
                    && op.forced.is_none()
                {
                    changes.push(Mutation::Truncate { len });
                }
                if let Pending::Write { pos, .. } = &op.kind
                    && let Ok(pos) = usize::try_from(*pos)
                    && op.forced.is_none()
                {
                    changes.push(Mutation::Write {
                        pos,
                        data: gather(&op.writes),
                    });
                }
            }
            unsynced += changes.len();
            for change in changes {
                match change {
                    Mutation::Write { pos, data } => {
                        for (at, chunk) in sectors(pos, &data, sector) {
                            if tearing && st.crash_rng.chance(0.5) {
                                write_into(&mut node.durable, at, chunk);
                                kept += 1;
                            } else {
                                lost += 1;
                            }
                        }
                    }
                    Mutation::Truncate { len } => {
                        // Not applied, applied, or stopped part-way (a
                        // length between the old and the new one).
                        if tearing {
                            let old = node.durable.len();
                            match st.crash_rng.below(3) {
                                0 => {}
                                1 => node.durable.resize(len, 0),
                                _ => {
                                    let bits = st.crash_rng.next_u64();
                                    let torn = torn_length(old, len, sector, bits).unwrap_or(len);
                                    node.durable.resize(torn, 0);
                                }
                            }
                        }
                    }
                }
            }
            node.volatile = node.durable.clone();
        }
        st.epoch += 1;
        let time_ns = st.now_ns;
        st.trace.push(SimEvent::Crash {
            time_ns,
            aborted: pending.len(),
            unsynced,
            sectors_kept: kept,
            sectors_lost: lost,
        });
        for op in &pending {
            st.trace.push(SimEvent::Deliver {
                time_ns,
                op: op.op,
                outcome: Err(CompletionError::Aborted),
            });
        }
        // Queued under the lock, so a step cannot deliver anything before
        // these aborts; finished unlocked: callbacks may submit (to dead
        // handles).
        self.shared.deliveries.push_all(
            pending
                .into_iter()
                .map(|op| (op.held, Err(CompletionError::Aborted))),
        );
        drop(guard);
        self.shared.deliveries.run(finish);
    }

    /// The durable image of the file at `path`: what a crash now would leave
    /// (before tearing). `None` if no file has that name.
    #[must_use]
    pub fn durable_contents(&self, path: &Path) -> Option<Vec<u8>> {
        let st = self.state();
        st.names.get(path).map(|&n| st.nodes[n].durable.clone())
    }

    /// The volatile image of the file at `path`: what a read delivered now
    /// would see. `None` if no file has that name.
    #[must_use]
    pub fn volatile_contents(&self, path: &Path) -> Option<Vec<u8>> {
        let st = self.state();
        st.names.get(path).map(|&n| st.nodes[n].volatile.clone())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }
}

impl Default for SimIO {
    /// A simulation with [`SimConfig::default`]: seed 0, no faults.
    fn default() -> Self {
        SimIO::new(SimConfig::default())
    }
}

impl fmt::Debug for SimIO {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state();
        f.debug_struct("SimIO")
            .field("seed", &self.shared.config.seed)
            .field("now_ns", &st.now_ns)
            .field("ops_submitted", &st.next_op)
            .field("pending", &st.pending.len())
            .finish_non_exhaustive()
    }
}

impl IO for SimIO {
    fn open_file(&self, path: &Path, options: OpenOptions) -> io::Result<Arc<dyn File>> {
        validate::open_options(path, options, true)?;
        let mut st = self.state();
        let st = &mut *st;
        let (node, created) = match st.names.get(path) {
            Some(_) if options.create_new => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{}: file exists", path.display()),
                ));
            }
            Some(&node) => (node, false),
            None if options.create || options.create_new => {
                if options.read_only {
                    // What the kernel (and so std) says to O_CREAT without
                    // write access.
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "creating a file needs write access",
                    ));
                }
                st.nodes.push(Node::default());
                let node = st.nodes.len() - 1;
                st.names.insert(path.to_owned(), node);
                (node, true)
            }
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{}: no such file", path.display()),
                ));
            }
        };
        st.trace.push(SimEvent::Open {
            time_ns: st.now_ns,
            path: path.to_owned(),
            file: node as u64,
            created,
        });
        Ok(Arc::new(SimFile {
            sim: self.shared.clone(),
            node,
            epoch: st.epoch,
            mode: Mode {
                read_only: options.read_only,
                direct: options.direct,
            },
        }))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut st = self.state();
        if st.names.remove(path).is_none() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no such file", path.display()),
            ));
        }
        let time_ns = st.now_ns;
        st.trace.push(SimEvent::Remove {
            time_ns,
            path: path.to_owned(),
        });
        Ok(())
    }

    /// Moves the clock to the earliest due time and delivers every operation
    /// due then, in an order from the order stream; or, with the reorder
    /// probability, one operation due later instead. Callbacks run after the
    /// simulation's lock is released, so they may submit more; what they
    /// submit waits for a later step.
    fn step(&self) -> Result<usize, CompletionError> {
        let shared = &*self.shared;
        // What a step still running has queued (a callback of it may wait
        // on a sibling) comes first.
        let earlier = shared.deliveries.run(finish);
        if earlier > 0 {
            return Ok(earlier);
        }
        let mut guard = self.state();
        let st = &mut *guard;
        if st.pending.is_empty() {
            drop(guard);
            shared.deliveries.wait_for_others();
            return Ok(0);
        }
        let batch = st.pick_batch(shared.config.reorder_probability);
        let mut slots: Vec<Option<PendingOp>> =
            std::mem::take(&mut st.pending).into_iter().map(Some).collect();
        let ops: Vec<PendingOp> = batch.iter().filter_map(|&i| slots[i].take()).collect();
        st.pending = slots.into_iter().flatten().collect();
        let mut delivered = Vec::with_capacity(ops.len());
        for op in ops {
            st.now_ns = st.now_ns.max(op.due_ns);
            let outcome = st.deliver(&op, shared.config.sector_bytes);
            st.trace.push(SimEvent::Deliver {
                time_ns: st.now_ns,
                op: op.op,
                outcome,
            });
            // The device lets go of the write's buffers with the delivery.
            drop(op.writes);
            delivered.push((op.held, outcome));
        }
        let count = delivered.len();
        shared.deliveries.push_all(delivered);
        // Callbacks run unlocked: they may submit more.
        drop(guard);
        shared.deliveries.run(finish);
        Ok(count)
    }
}

/// Finishes a delivered or aborted operation, with no lock held: its callback
/// may submit more. The device lets go of the buffer before the completion
/// finishes, so a callback already sees `device_released()`.
fn finish((held, outcome): (InFlight, Outcome)) {
    let c = held.completion().clone();
    drop(held);
    c.finish(outcome);
}

impl State {
    /// Indices into `pending` of what the next step delivers, in delivery
    /// order.
    fn pick_batch(&mut self, reorder_probability: f64) -> Vec<usize> {
        let earliest = self.pending.iter().map(|op| op.due_ns).min().unwrap_or(0);
        if reorder_probability > 0.0 && self.order_rng.chance(reorder_probability) {
            let later: Vec<usize> = (0..self.pending.len())
                .filter(|&i| self.pending[i].due_ns > earliest)
                .collect();
            if !later.is_empty() {
                return vec![later[self.order_rng.below_usize(later.len())]];
            }
        }
        let mut batch: Vec<usize> = (0..self.pending.len())
            .filter(|&i| self.pending[i].due_ns == earliest)
            .collect();
        // Fisher–Yates: ties arrive in any order the stream picks.
        for i in (1..batch.len()).rev() {
            let j = self.order_rng.below_usize(i + 1);
            batch.swap(i, j);
        }
        batch
    }

    /// Performs `op` on its file and says what the device reports.
    fn deliver(&mut self, op: &PendingOp, sector: usize) -> Outcome {
        if let Some(err) = op.forced {
            return Err(err);
        }
        let node = &mut self.nodes[op.node];
        match &op.kind {
            Pending::Read { pos, .. } => match op.held.read_buffer_mut() {
                Some(mut buf) => deliver_read(node, *pos, &mut buf, op.fault, op.fault_bits),
                None => Err(validate::NOT_A_READ),
            },
            Pending::Write { pos, .. } => {
                let data = gather(&op.writes);
                // Checked at submission: the end is within MAX_FILE_BYTES.
                let pos = usize::try_from(*pos).unwrap_or(usize::MAX);
                deliver_write(node, pos, data, op.fault, op.fault_bits, sector)
            }
            Pending::Sync { upto } => match op.fault {
                Some(FaultKind::SyncDropsDirty) => {
                    // Linux after a failed writeback: the pages are marked
                    // clean, so what did not reach the disk is forgotten;
                    // reads still see it until a crash, and a later sync
                    // succeeds without it.
                    let split = node.unsynced.partition_point(|c| c.seq < *upto);
                    let mut rng = SimRng::new(op.fault_bits, 0);
                    let dropped: Vec<Change> = node.unsynced.drain(..split).collect();
                    // Which sectors (and truncates) reached the disk before
                    // the failure: at least one did not, or nothing failed.
                    let pieces: usize = dropped
                        .iter()
                        .map(|c| match &c.what {
                            Mutation::Write { pos, data } => sectors(*pos, data, sector).len(),
                            Mutation::Truncate { .. } => 1,
                        })
                        .sum();
                    let mut landed: Vec<bool> = (0..pieces).map(|_| rng.chance(0.5)).collect();
                    if pieces > 0 && landed.iter().all(|&l| l) {
                        landed[rng.below_usize(pieces)] = false;
                    }
                    let mut landed = landed.into_iter();
                    for change in dropped {
                        match change.what {
                            Mutation::Write { pos, data } => {
                                for (at, chunk) in sectors(pos, &data, sector) {
                                    if landed.next() == Some(true) {
                                        write_into(&mut node.durable, at, chunk);
                                    }
                                }
                            }
                            truncate @ Mutation::Truncate { .. } => {
                                if landed.next() == Some(true) {
                                    truncate.apply(&mut node.durable);
                                }
                            }
                        }
                    }
                    Err(SimIO::eio())
                }
                Some(FaultKind::NoSpace) => Err(CompletionError::Io(io::ErrorKind::StorageFull)),
                Some(FaultKind::Error(e)) => Err(e),
                Some(_) => Err(SimIO::eio()),
                None => {
                    let split = node.unsynced.partition_point(|c| c.seq < *upto);
                    for change in node.unsynced.drain(..split) {
                        change.what.apply(&mut node.durable);
                    }
                    Ok(0)
                }
            },
            Pending::Truncate { len } => match op.fault {
                Some(FaultKind::TornTruncate) => {
                    let old = node.volatile.len();
                    let new = usize::try_from(*len).unwrap_or(usize::MAX);
                    if let Some(between) = torn_length(old, new, sector, op.fault_bits) {
                        node.change(Mutation::Truncate { len: between });
                    }
                    Err(SimIO::eio())
                }
                Some(FaultKind::NoSpace) => Err(CompletionError::Io(io::ErrorKind::StorageFull)),
                Some(FaultKind::Error(e)) => Err(e),
                Some(_) => Err(SimIO::eio()),
                None => {
                    let len = usize::try_from(*len).unwrap_or(usize::MAX);
                    node.change(Mutation::Truncate { len });
                    Ok(0)
                }
            },
        }
    }

    /// The fault for operation `op` of type `kind`: a chosen one if any, else
    /// one drawn from the fault stream.
    fn draw_fault(&mut self, config: &SimConfig, op: u64, kind: OpKind) -> Option<FaultKind> {
        let p = &config.faults;
        let candidates: &[(f64, FaultKind)] = match kind {
            OpKind::Read => &[(p.read_eio, FaultKind::Eio), (p.short_read, FaultKind::ShortRead)],
            OpKind::Write => &[
                (p.write_eio, FaultKind::Eio),
                (p.torn_write, FaultKind::TornWrite),
                (p.short_write, FaultKind::ShortWrite),
                (p.no_space, FaultKind::NoSpace),
            ],
            OpKind::Sync => &[
                (p.sync_eio, FaultKind::Eio),
                (p.sync_drops_dirty, FaultKind::SyncDropsDirty),
            ],
            OpKind::Truncate => &[(p.torn_truncate, FaultKind::TornTruncate)],
        };
        let mut drawn = None;
        // No draw when no fault is possible, so a fault-free configuration
        // leaves the stream untouched.
        if candidates.iter().any(|&(p, _)| p > 0.0) {
            let u = self.fault_rng.next_f64();
            let mut acc = 0.0;
            for &(p, fault) in candidates {
                acc += p;
                if u < acc {
                    drawn = Some(fault);
                    break;
                }
            }
        }
        self.faults_at.get(&op).map(|f| f.fit(kind)).or(drawn)
    }
}

fn deliver_read(node: &Node, pos: u64, buf: &mut [u8], fault: Option<FaultKind>, bits: u64) -> Outcome {
    let len = buf.len();
    let available = usize::try_from(pos)
        .ok()
        .map_or(0, |pos| node.volatile.len().saturating_sub(pos))
        .min(len);
    let mut fill = |n: usize| {
        if n > 0 {
            // `available > 0` means `pos` is inside the image, so it fits.
            let pos = pos as usize;
            buf[..n].copy_from_slice(&node.volatile[pos..pos + n]);
        }
    };
    match fault {
        // Nothing to cut short: the read is at or past EOF, and a real
        // backend reports exactly what it does here.
        Some(FaultKind::ShortRead) if available == 0 => Ok(0),
        Some(FaultKind::ShortRead) => {
            let actual = (bits % available as u64) as usize;
            fill(actual);
            Err(CompletionError::ShortRead {
                expected: len,
                actual,
            })
        }
        Some(FaultKind::Error(e)) => Err(e),
        Some(_) => Err(SimIO::eio()),
        None => {
            fill(available);
            count(available)
        }
    }
}

fn deliver_write(
    node: &mut Node,
    pos: usize,
    data: Vec<u8>,
    fault: Option<FaultKind>,
    bits: u64,
    sector: usize,
) -> Outcome {
    let len = data.len();
    match fault {
        // A zero-length write has nothing to shorten or tear.
        Some(FaultKind::ShortWrite | FaultKind::TornWrite) if len == 0 => Ok(0),
        Some(FaultKind::ShortWrite) => {
            let actual = (bits % len as u64) as usize;
            if actual > 0 {
                node.change(Mutation::Write {
                    pos,
                    data: data[..actual].to_vec(),
                });
            }
            Err(CompletionError::ShortWrite {
                expected: len,
                actual,
            })
        }
        Some(FaultKind::TornWrite) => {
            let chunks = sectors(pos, &data, sector);
            let mut rng = SimRng::new(bits, 0);
            let mut land: Vec<bool> = chunks.iter().map(|_| rng.chance(0.5)).collect();
            if chunks.len() >= 2 {
                // A tear keeps some and loses some, or it is not a tear.
                if land.iter().all(|&l| l) {
                    land[rng.below_usize(chunks.len())] = false;
                } else if !land.iter().any(|&l| l) {
                    land[rng.below_usize(chunks.len())] = true;
                }
            } else {
                land.fill(true);
            }
            for ((at, chunk), _) in chunks.into_iter().zip(land).filter(|(_, l)| *l) {
                node.change(Mutation::Write {
                    pos: at,
                    data: chunk.to_vec(),
                });
            }
            Err(SimIO::eio())
        }
        Some(FaultKind::NoSpace) => {
            // As on a real disk: the file system takes what fits (here any
            // prefix, possibly none, possibly all but the last byte), and
            // the write that finds no room fails with ENOSPC.
            let landed = (bits % len.max(1) as u64) as usize;
            if landed > 0 {
                node.change(Mutation::Write {
                    pos,
                    data: data[..landed].to_vec(),
                });
            }
            Err(CompletionError::Io(io::ErrorKind::StorageFull))
        }
        Some(FaultKind::Error(e)) => Err(e),
        Some(FaultKind::Eio | FaultKind::ShortRead | FaultKind::SyncDropsDirty | FaultKind::TornTruncate) => {
            Err(SimIO::eio())
        }
        None => {
            if len > 0 {
                node.change(Mutation::Write { pos, data });
            }
            count(len)
        }
    }
}

/// A length strictly between `old` and `new` at a multiple of `sector`,
/// where there is one: how far a truncate got when it stopped part-way
/// (file systems free or allocate the blocks of a length change one by
/// one). Chosen from `bits`.
fn torn_length(old: usize, new: usize, sector: usize, bits: u64) -> Option<usize> {
    let (lo, hi) = (old.min(new), old.max(new));
    let first = lo / sector + 1;
    let last = hi.saturating_sub(1) / sector;
    if first > last {
        return None;
    }
    let span = (last - first + 1) as u64;
    Some((first + (bits % span) as usize) * sector)
}

/// Writes `data` at `pos`, zero-filling any gap past the end.
fn write_into(image: &mut Vec<u8>, pos: usize, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let end = pos + data.len();
    if image.len() < end {
        image.resize(end, 0);
    }
    image[pos..end].copy_from_slice(data);
}

/// `data`, written at `pos`, cut at the sector boundaries of the file: each
/// piece with its offset.
fn sectors(pos: usize, data: &[u8], sector: usize) -> Vec<(usize, &[u8])> {
    let mut pieces = Vec::new();
    let mut done = 0;
    while done < data.len() {
        let at = pos + done;
        let room = sector - at % sector;
        let n = room.min(data.len() - done);
        pieces.push((at, &data[done..done + n]));
        done += n;
    }
    pieces
}

/// The bytes of a write's buffers, back to back.
fn gather(holds: &[DeviceHold]) -> Vec<u8> {
    let mut data = Vec::with_capacity(holds.iter().map(|h| h.buffer().len()).sum());
    for hold in holds {
        data.extend_from_slice(&hold.bytes());
    }
    data
}

/// A byte count as a completion result; lengths were checked at submission.
fn count(n: usize) -> Outcome {
    validate::byte_count(n)
}

/// An open file of a [`SimIO`].
struct SimFile {
    /// The simulation, without keeping it open: a file outliving every
    /// `SimIO` handle refuses operations instead of stranding them.
    sim: Arc<Shared>,
    node: usize,
    /// The crash epoch it was opened in: a handle does not survive a crash.
    epoch: u64,
    /// Checked by `validate`, as every backend does, so code tested on the
    /// sim does not fail on a real disk.
    mode: Mode,
}

impl SimFile {
    /// Queues an operation: draws its latency and fault and takes the
    /// device's hold on its completion and buffers.
    fn submit(&self, c: Completion, mut kind: Pending) -> Result<Completion, CompletionError> {
        let config = &self.sim.config;
        let mut guard = lock(&self.sim.state);
        let st = &mut *guard;
        if st.epoch != self.epoch || st.closed {
            // The abort's callbacks run unlocked.
            drop(guard);
            return reject(c, CompletionError::Aborted);
        }
        let sends: &[Arc<Buffer>] = match &kind {
            Pending::Write { bufs, .. } => bufs,
            _ => &[],
        };
        let (held, writes) = match validate::hold(&c, sends) {
            Ok(held) => held,
            Err(err) => {
                drop(guard);
                return reject(c, err);
            }
        };
        let op = st.next_op;
        st.next_op += 1;
        if let Pending::Sync { upto } = &mut kind {
            *upto = st.nodes[self.node].next_seq;
        }
        let op_kind = kind.kind();
        let (pos, len, end) = match &kind {
            Pending::Read { pos, len } => (*pos, *len as u64, 0),
            // An empty write changes nothing, so no limit applies to it.
            Pending::Write { pos, bufs } => {
                let len: u64 = bufs.iter().map(|b| b.len() as u64).sum();
                (*pos, len, if len == 0 { 0 } else { pos.saturating_add(len) })
            }
            Pending::Sync { .. } => (0, 0, 0),
            Pending::Truncate { len } => (*len, 0, *len),
        };
        // A storage limit, not an argument error: reported at delivery, in
        // the completion, as the kernel's `EFBIG` would be.
        let forced = validate::simulated_end(end).err();
        let mut latency = config.latency.sample(&mut st.latency_rng);
        if config.tail_latency_probability > 0.0 && st.latency_rng.chance(config.tail_latency_probability) {
            latency = latency.saturating_add(config.tail_latency.sample(&mut st.latency_rng));
        }
        let due_ns = st.now_ns.saturating_add(latency);
        let fault = st.draw_fault(config, op, op_kind);
        let fault_bits = if fault.is_some() {
            st.fault_rng.next_u64()
        } else {
            0
        };
        st.trace.push(SimEvent::Submit {
            time_ns: st.now_ns,
            op,
            file: self.node as u64,
            kind: op_kind,
            pos,
            len,
            due_ns,
            fault,
        });
        st.pending.push(PendingOp {
            op,
            node: self.node,
            due_ns,
            kind,
            fault,
            fault_bits,
            forced,
            held,
            writes,
        });
        Ok(c)
    }
}

impl File for SimFile {
    fn pread(&self, pos: u64, c: Completion) -> Result<Completion, CompletionError> {
        match validate::read(pos, &c, self.mode) {
            Ok(len) => self.submit(c, Pending::Read { pos, len }),
            Err(err) => reject(c, err),
        }
    }

    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::completion_for(&c, validate::Op::Write) {
            return reject(c, err);
        }
        if let Err(err) = validate::transfer(pos, &[&buf], self.mode, true) {
            return reject(c, err);
        }
        self.submit(c, Pending::Write { pos, bufs: vec![buf] })
    }

    fn pwritev(
        &self,
        pos: u64,
        bufs: Vec<Arc<Buffer>>,
        c: Completion,
    ) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::completion_for(&c, validate::Op::Write) {
            return reject(c, err);
        }
        if let Err(err) = validate::write(pos, &bufs, self.mode) {
            return reject(c, err);
        }
        self.submit(c, Pending::Write { pos, bufs })
    }

    /// Both sync modes make the same changes durable: the simulation keeps no
    /// metadata apart from the length, which both cover.
    fn sync(&self, c: Completion) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::completion_for(&c, validate::Op::Sync) {
            return reject(c, err);
        }
        // `submit` fills in `upto` under the lock that orders it after every
        // change delivered so far.
        self.submit(c, Pending::Sync { upto: 0 })
    }

    fn truncate(&self, len: u64, c: Completion) -> Result<Completion, CompletionError> {
        if let Err(err) = validate::completion_for(&c, validate::Op::Truncate) {
            return reject(c, err);
        }
        if let Err(err) = validate::truncate(len, self.mode) {
            return reject(c, err);
        }
        self.submit(c, Pending::Truncate { len })
    }

    /// The length of the volatile image: changes delivered so far count,
    /// pending writes do not.
    fn size(&self) -> Result<u64, CompletionError> {
        let st = lock(&self.sim.state);
        if st.epoch != self.epoch || st.closed {
            return Err(CompletionError::Aborted);
        }
        Ok(st.nodes[self.node].volatile.len() as u64)
    }
}

/// xoshiro256** seeded through splitmix64: small, fast, and good enough that
/// schedules do not repeat; written here so that a run's choices never change
/// with a dependency's version.
#[derive(Debug, Clone)]
struct SimRng {
    s: [u64; 4],
}

impl SimRng {
    /// The generator of stream `stream` of `seed`: streams with different tags
    /// start from unrelated states.
    fn new(seed: u64, stream: u64) -> Self {
        let mut x = seed ^ splitmix64(&mut stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let s = [
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
        ];
        SimRng { s }
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)`, from the top 53 bits.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`; always draws, so the stream's position does
    /// not depend on `p`.
    fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// Uniform in `[0, n)` for `n > 0`, by multiply-and-shift (Lemire) rather
    /// than `%`, whose bias towards small values shows for large `n`.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    fn below_usize(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
}

/// One step of splitmix64: the recommended seeder for xoshiro, which turns
/// similar seeds (0, 1, 2, ...) into unrelated states.
fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_of_one_seed_differ_and_seeds_reproduce() {
        let mut a = SimRng::new(42, stream::LATENCY);
        let mut b = SimRng::new(42, stream::ORDER);
        let mut again = SimRng::new(42, stream::LATENCY);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| again.next_u64()).collect();
        assert_ne!(xs, ys);
        assert_eq!(xs, zs);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = SimRng::new(1, 9);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let v = rng.below_usize(7);
            seen[v] = true;
        }
        assert!(seen.iter().all(|&s| s));
        for _ in 0..1000 {
            let f = rng.next_f64();
            assert!((0.0..1.0).contains(&f));
        }
    }

    #[test]
    fn sectors_cut_at_file_boundaries() {
        let data = vec![1u8; 1000];
        let pieces: Vec<(usize, usize)> = sectors(100, &data, 512)
            .iter()
            .map(|(at, d)| (*at, d.len()))
            .collect();
        assert_eq!(pieces, [(100, 412), (512, 512), (1024, 76)]);
        assert!(sectors(0, &[], 512).is_empty());
    }

    #[test]
    fn latency_distributions_stay_in_bounds() {
        let mut rng = SimRng::new(3, 3);
        for _ in 0..1000 {
            let v = Latency::Uniform { min_ns: 5, max_ns: 9 }.sample(&mut rng);
            assert!((5..=9).contains(&v));
        }
        let mean = (0..10_000)
            .map(|_| Latency::Exponential { mean_ns: 1000 }.sample(&mut rng))
            .sum::<u64>()
            / 10_000;
        assert!((900..1100).contains(&mean), "mean {mean}");
        assert_eq!(Latency::Fixed(77).sample(&mut rng), 77);
        let full = Latency::Uniform {
            min_ns: 0,
            max_ns: u64::MAX,
        };
        let _ = full.sample(&mut rng);
    }
}
