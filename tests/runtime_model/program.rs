//! One program of the runtime model test: operations chosen at random from a
//! seed, run on a backend one by one, each checked against the reference
//! model as it runs and at the end.
//!
//! The choice of the next operation depends only on the seed and on the
//! operations chosen so far (which completions the program has waited for,
//! which buffers it has handed out), never on timing, so the same seed gives
//! the same operations on every backend and in every run: a failure of a
//! thread of a multi-threaded program is replayed by running that thread's
//! seed alone (see the driver).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ratchet::completion::Outcome;
use ratchet::{Buffer, Completion, CompletionError, CompletionGroup, File, IO, OpenOptions};

use super::model::{FileModel, Landing, SPAN};

const ALREADY_DECIDED: CompletionError = CompletionError::InvalidArgument(
    "this completion already has its outcome (finished, aborted, `ready()` or `yield_now()`): give each operation a new one",
);
const A_GROUP: CompletionError = CompletionError::InvalidArgument(
    "a group's completion finishes when its children do: give the operation a completion of its own kind and add that to the group",
);

/// The payload of a callback's planned panic, told apart from a real one.
pub const PLANNED: &str = "runtime model: planned panic of a callback";

/// xorshift64*, seeded through splitmix64.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> Option<T> {
        if xs.is_empty() {
            None
        } else {
            Some(xs[self.below(xs.len() as u64) as usize])
        }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Counts shared by every thread of one program run: planned panics that a
/// call surfaced, and completions with a panicking callback that finished.
#[derive(Default)]
pub struct Shared {
    pub panics_caught: AtomicUsize,
}

/// What a callback does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cb {
    None,
    Record,
    Panic,
    /// Issues a write to the callback file, at a region of its own.
    Issue,
}

/// One operation in flight from the program's point of view: issued, and
/// not yet settled (waited for until the device let go).
struct Open {
    c: Completion,
    what: Op,
    /// Buffers it holds (a read's one, a write's several).
    bufs: Vec<usize>,
    /// Where the file changes or is read: `(file, start, end)`.
    range: Option<(usize, usize, usize)>,
    /// `abort()` or a group's `cancel()` reached it.
    aborted: bool,
    /// Issue order, for "in flight at the same time".
    issued: u64,
    cb: Cb,
    record: Arc<Mutex<Vec<Outcome>>>,
    /// For groups: the children.
    children: Vec<usize>,
}

#[derive(Clone, Debug)]
enum Op {
    Read {
        file: usize,
        pos: usize,
        buf: usize,
    },
    Write {
        file: usize,
        pos: usize,
        bufs: Vec<usize>,
    },
    Sync,
    Truncate {
        file: usize,
        len: usize,
    },
    Group,
}

/// A buffer and what the model knows of its bytes.
struct Buf {
    buf: Arc<Buffer>,
    /// The bytes, when known (a failed read leaves them unknown).
    known: Option<Vec<u8>>,
}

/// A settled write, kept for "in flight at the same time": its interval and
/// bytes.
struct Settled {
    file: usize,
    pos: usize,
    data: Vec<u8>,
    certain: bool,
    settled: u64,
}

/// A write a callback issued: its completion, offset and bytes.
type CallbackWrite = (Completion, usize, Vec<u8>);

/// One program run: the backend, the model, the log.
pub struct Run<'a> {
    /// `None` once the program dropped the backend.
    io: Option<Arc<dyn IO>>,
    dir: &'a std::path::Path,
    /// A prefix for this thread's file names.
    tag: String,
    rng: Rng,
    pub log: String,
    files: Vec<FileModel>,
    handles: Vec<(usize, bool, Arc<dyn File>)>,
    bufs: Vec<Buf>,
    open: BTreeMap<usize, Open>,
    next_id: usize,
    clock: u64,
    settled: Vec<Settled>,
    shared: &'a Shared,
    /// Completions with a panicking callback that finished, and whether one
    /// is open (at most one at a time, so that no batch holds two).
    pub panics_planned: usize,
    panic_open: bool,
    cb_file: Arc<dyn File>,
    cb_issued: Arc<Mutex<Vec<CallbackWrite>>>,
    cb_next: Arc<AtomicUsize>,
    /// Multi-threaded: another thread may surface this thread's planned
    /// panics, and a call here may surface another's.
    threaded: bool,
    dropped: bool,
    /// Buffers with a live view held by `op_view`: not read into or filled.
    viewed: Vec<usize>,
}

const FILES: usize = 3;
const BUFFERS: usize = 8;

fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut r = Rng::new(seed);
    // Never 0, so a byte the model expects from a buffer is told apart from
    // the zeros a file grows with.
    (0..len).map(|_| (r.next() % 255 + 1) as u8).collect()
}

impl<'a> Run<'a> {
    pub fn new(
        io: Arc<dyn IO>,
        dir: &'a std::path::Path,
        tag: &str,
        seed: u64,
        shared: &'a Shared,
        threaded: bool,
    ) -> Run<'a> {
        let mut rng = Rng::new(seed);
        let bufs = (0..BUFFERS)
            .map(|i| {
                let len = match rng.below(6) {
                    0 => 0,
                    1 => 1 + rng.below(16) as usize,
                    _ => 1 + rng.below(2048) as usize,
                };
                let data = pattern(seed ^ (i as u64) << 32, len);
                Buf {
                    buf: Arc::new(Buffer::from_vec(data.clone())),
                    known: Some(data),
                }
            })
            .collect();
        let cb_file = io
            .open_file(&dir.join(format!("{tag}cb")), OpenOptions::new())
            .expect("open the callback file");
        let mut run = Run {
            io: Some(io),
            dir,
            tag: tag.to_owned(),
            rng,
            log: String::new(),
            files: vec![FileModel::default(); FILES],
            handles: Vec::new(),
            bufs,
            open: BTreeMap::new(),
            next_id: 0,
            clock: 0,
            settled: Vec::new(),
            shared,
            panics_planned: 0,
            panic_open: false,
            cb_file,
            cb_issued: Arc::new(Mutex::new(Vec::new())),
            cb_next: Arc::new(AtomicUsize::new(0)),
            threaded,
            dropped: false,
            viewed: Vec::new(),
        };
        for f in 0..FILES {
            run.open_handle(f, false);
        }
        run
    }

    fn io(&self) -> &Arc<dyn IO> {
        self.io.as_ref().expect("the backend is still there")
    }

    /// Drops this run's handle of the backend (the last one, in a
    /// single-threaded program): a planned panic it surfaces is counted.
    pub fn drop_backend(&mut self) -> Result<(), String> {
        let io = self.io.take();
        self.guarded("dropping the backend", move || drop(io))?;
        Ok(())
    }

    fn path(&self, file: usize) -> std::path::PathBuf {
        self.dir.join(format!("{}f{file}", self.tag))
    }

    fn open_handle(&mut self, file: usize, ro: bool) {
        let options = if ro {
            OpenOptions::read_only()
        } else {
            OpenOptions::new()
        };
        let _ = writeln!(self.log, "open f{file}{}", if ro { " read-only" } else { "" });
        let h = self.io().open_file(&self.path(file), options).expect("open");
        self.handles.push((file, ro, h));
    }

    /// Runs a call that may run callbacks, counting planned panics it
    /// surfaces; a panic of any other kind is a divergence.
    fn guarded<T>(&self, what: &str, f: impl FnOnce() -> T) -> Result<Option<T>, String> {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => Ok(Some(v)),
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                if msg == PLANNED {
                    self.shared.panics_caught.fetch_add(1, Ordering::SeqCst);
                    Ok(None)
                } else {
                    Err(format!("{what}: unexpected panic: {msg}"))
                }
            }
        }
    }

    fn callback(&mut self, c: Completion, allow_panic: bool) -> (Completion, Cb, Arc<Mutex<Vec<Outcome>>>) {
        let record = Arc::new(Mutex::new(Vec::new()));
        let cb = match self.rng.below(10) {
            0..=4 => Cb::None,
            5..=7 => Cb::Record,
            8 if allow_panic && !self.panic_open => Cb::Panic,
            _ => Cb::Issue,
        };
        let c = match cb {
            Cb::None => c,
            Cb::Record => {
                let r = record.clone();
                c.with_callback(move |o| r.lock().unwrap().push(o))
            }
            Cb::Panic => {
                self.panic_open = true;
                let r = record.clone();
                // The recorder is chained after the callback that panics:
                // it must run all the same, once (round 2, finding 1).
                c.with_callback(move |_| std::panic::panic_any(PLANNED))
                    .with_callback(move |o| r.lock().unwrap().push(o))
            }
            Cb::Issue => {
                let r = record.clone();
                let (file, issued, next) =
                    (self.cb_file.clone(), self.cb_issued.clone(), self.cb_next.clone());
                c.with_callback(move |o| {
                    r.lock().unwrap().push(o);
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let data = pattern(k as u64 ^ 0xcb, 32);
                    if let Ok(w) = file.pwrite(
                        (k * 64) as u64,
                        Arc::new(Buffer::from_vec(data.clone())),
                        Completion::write(),
                    ) {
                        issued.lock().unwrap().push((w, k * 64, data));
                    }
                })
            }
        };
        (c, cb, record)
    }

    /// Buffers no open operation holds (and, unless `viewable`, that no
    /// live view of the program has).
    fn idle_bufs(&self, viewable: bool) -> Vec<usize> {
        (0..self.bufs.len())
            .filter(|b| !self.open.values().any(|o| o.bufs.contains(b)))
            .filter(|b| viewable || !self.viewed.contains(b))
            .collect()
    }

    /// Whether `[start, end)` of `file` is free of open operations that
    /// conflict with a new one (`write`: it changes the file).
    fn free(&self, file: usize, start: usize, end: usize, write: bool) -> bool {
        self.open.values().all(|o| match (&o.what, o.range) {
            (Op::Truncate { file: f, .. }, _) => *f != file,
            (Op::Write { .. }, Some((f, s, e))) => f != file || e <= start || end <= s,
            (Op::Read { .. }, Some((f, s, e))) => !write || f != file || e <= start || end <= s,
            _ => true,
        })
    }

    fn file_idle(&self, file: usize) -> bool {
        self.open
            .values()
            .all(|o| o.range.is_none_or(|(f, _, _)| f != file))
    }

    fn issue(
        &mut self,
        c: Completion,
        what: Op,
        bufs: Vec<usize>,
        range: Option<(usize, usize, usize)>,
        cb: Cb,
        record: Arc<Mutex<Vec<Outcome>>>,
    ) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        self.clock += 1;
        self.open.insert(
            id,
            Open {
                c,
                what,
                bufs,
                range,
                aborted: false,
                issued: self.clock,
                cb,
                record,
                children: Vec::new(),
            },
        );
        id
    }

    /// A call's result: `Ok(c)` as expected, or the divergence.
    fn started(
        &self,
        what: &str,
        r: Option<Result<Completion, CompletionError>>,
    ) -> Result<Option<Completion>, String> {
        match r {
            // A planned panic surfaced by an inline backend: the completion
            // finished inside the call.
            None => Ok(None),
            Some(Ok(c)) => Ok(Some(c)),
            Some(Err(e)) => Err(format!("{what}: refused with {e:?}")),
        }
    }

    /// Runs the program: `ops` operations, then settles everything (or drops
    /// the backend, when the program says so). Returns whether the backend
    /// was dropped.
    pub fn run(&mut self, ops: usize, may_drop_backend: bool) -> Result<bool, String> {
        for _ in 0..ops {
            self.one(may_drop_backend)?;
            if self.dropped {
                return Ok(true);
            }
        }
        let ids: Vec<usize> = self.open.keys().copied().collect();
        for id in ids {
            if self.open.contains_key(&id) {
                self.settle(id)?;
            }
        }
        self.settle_callback_writes()?;
        Ok(false)
    }

    fn one(&mut self, may_drop_backend: bool) -> Result<(), String> {
        let dice = self.rng.below(100);
        match dice {
            0..=17 => self.op_read(),
            18..=37 => self.op_write(),
            38..=41 => self.op_sync(),
            42..=45 => self.op_truncate(),
            46..=51 => self.op_abort(),
            52..=56 => self.op_group(),
            57..=69 => {
                let _ = writeln!(self.log, "step");
                match self.guarded("step", || self.io().step())? {
                    Some(Err(e)) => Err(format!("step: {e:?}")),
                    _ => Ok(()),
                }
            }
            70..=84 => {
                let ids: Vec<usize> = self.open.keys().copied().collect();
                match self.rng.pick(&ids) {
                    Some(id) => self.settle(id),
                    None => Ok(()),
                }
            }
            85..=89 => self.op_view(),
            90..=92 => self.op_fill(),
            93..=94 => self.op_handle(),
            95..=97 => self.op_bad(),
            _ if may_drop_backend && self.rng.chance(30) => {
                self.dropped = true;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn handle(&mut self, writable: bool) -> Option<usize> {
        let ok: Vec<usize> = (0..self.handles.len())
            .filter(|&h| !writable || !self.handles[h].1)
            .collect();
        self.rng.pick(&ok)
    }

    fn op_read(&mut self) -> Result<(), String> {
        let Some(h) = self.handle(false) else {
            return Ok(());
        };
        let Some(buf) = self.rng.pick(&self.idle_bufs(false)) else {
            return Ok(());
        };
        let file = self.handles[h].0;
        let len = self.bufs[buf].buf.len();
        let pos = self.rng.below(SPAN as u64) as usize;
        // A read also races a write that would move the end of file into
        // its range: the conflict ranges of writes start at the old length.
        if !self.free(file, pos, pos + len.max(1), false) {
            return Ok(());
        }
        let _ = writeln!(self.log, "pread h{h} pos {pos} len {len} buf {buf}");
        let (c, cb, record) = self.callback(Completion::read(self.bufs[buf].buf.clone()), true);
        let fh = self.handles[h].2.clone();
        let r = self.guarded("pread", || fh.pread(pos as u64, c.clone()))?;
        self.started("pread", r)?;
        self.issue(
            c,
            Op::Read { file, pos, buf },
            vec![buf],
            Some((file, pos, pos + len.max(1))),
            cb,
            record,
        );
        Ok(())
    }

    fn op_write(&mut self) -> Result<(), String> {
        let Some(h) = self.handle(true) else { return Ok(()) };
        let idle = self.idle_bufs(true);
        let known: Vec<usize> = idle
            .into_iter()
            .filter(|&b| self.bufs[b].known.is_some())
            .collect();
        let n = if self.rng.chance(30) {
            1 + self.rng.below(3) as usize
        } else {
            1
        };
        let bufs: Vec<usize> = (0..n).filter_map(|_| self.rng.pick(&known)).collect();
        if bufs.is_empty() {
            return Ok(());
        }
        let file = self.handles[h].0;
        let len: usize = bufs.iter().map(|&b| self.bufs[b].buf.len()).sum();
        let pos = self.rng.below(SPAN as u64) as usize;
        // The range a write may change: from the old end of file (the
        // zero-filled gap) to its own end.
        let start = pos.min(self.files[file].len_lo);
        if !self.free(file, start, pos + len.max(1), true) {
            return Ok(());
        }
        let vectored = bufs.len() > 1 || self.rng.chance(20);
        let _ = writeln!(
            self.log,
            "{} h{h} pos {pos} bufs {bufs:?}",
            if vectored { "pwritev" } else { "pwrite" }
        );
        let (c, cb, record) = self.callback(Completion::write(), true);
        let fh = self.handles[h].2.clone();
        let arcs: Vec<Arc<Buffer>> = bufs.iter().map(|&b| self.bufs[b].buf.clone()).collect();
        let r = if vectored {
            self.guarded("pwritev", || fh.pwritev(pos as u64, arcs, c.clone()))?
        } else {
            self.guarded("pwrite", || fh.pwrite(pos as u64, arcs[0].clone(), c.clone()))?
        };
        self.started("pwrite", r)?;
        self.issue(
            c,
            Op::Write {
                file,
                pos,
                bufs: bufs.clone(),
            },
            bufs,
            Some((file, start, pos + len.max(1))),
            cb,
            record,
        );
        Ok(())
    }

    fn op_sync(&mut self) -> Result<(), String> {
        let Some(h) = self.handle(false) else {
            return Ok(());
        };
        let _ = writeln!(self.log, "sync h{h}");
        let c = if self.rng.chance(50) {
            Completion::sync()
        } else {
            Completion::sync_data()
        };
        let (c, cb, record) = self.callback(c, true);
        let fh = self.handles[h].2.clone();
        let r = self.guarded("sync", || fh.sync(c.clone()))?;
        self.started("sync", r)?;
        self.issue(c, Op::Sync, Vec::new(), None, cb, record);
        Ok(())
    }

    fn op_truncate(&mut self) -> Result<(), String> {
        let Some(h) = self.handle(true) else { return Ok(()) };
        let file = self.handles[h].0;
        if !self.file_idle(file) {
            return Ok(());
        }
        let len = self.rng.below(SPAN as u64) as usize;
        let _ = writeln!(self.log, "truncate h{h} len {len}");
        let (c, cb, record) = self.callback(Completion::truncate(), true);
        let fh = self.handles[h].2.clone();
        let r = self.guarded("truncate", || fh.truncate(len as u64, c.clone()))?;
        self.started("truncate", r)?;
        self.issue(
            c,
            Op::Truncate { file, len },
            Vec::new(),
            Some((file, 0, SPAN + 8192)),
            cb,
            record,
        );
        Ok(())
    }

    fn op_abort(&mut self) -> Result<(), String> {
        let ids: Vec<usize> = self.open.keys().copied().collect();
        let Some(id) = self.rng.pick(&ids) else {
            return Ok(());
        };
        let _ = writeln!(self.log, "abort #{id}");
        let c = self.open[&id].c.clone();
        self.guarded("abort", || c.abort())?;
        self.mark_aborted(id);
        Ok(())
    }

    fn mark_aborted(&mut self, id: usize) {
        let children = match self.open.get_mut(&id) {
            Some(o) => {
                o.aborted = true;
                o.children.clone()
            }
            None => return,
        };
        for child in children {
            self.mark_aborted(child);
        }
    }

    fn op_group(&mut self) -> Result<(), String> {
        let ids: Vec<usize> = self
            .open
            .iter()
            .filter(|(_, o)| !matches!(o.what, Op::Group))
            .map(|(&id, _)| id)
            .collect();
        let n = self.rng.below(4) as usize;
        let mut children: Vec<usize> = (0..n).filter_map(|_| self.rng.pick(&ids)).collect();
        children.sort_unstable();
        children.dedup();
        let cancel = self.rng.chance(30);
        let _ = writeln!(
            self.log,
            "group of {children:?}{}",
            if cancel { ", cancelled" } else { "" }
        );
        let record = Arc::new(Mutex::new(Vec::new()));
        let r = record.clone();
        let mut group = CompletionGroup::new(move |o| r.lock().unwrap().push(o));
        for &child in &children {
            group.add(&self.open[&child].c);
        }
        let built = group.build();
        let id = self.issue(built, Op::Group, Vec::new(), None, Cb::Record, record);
        self.open.get_mut(&id).unwrap().children = children;
        if cancel {
            self.guarded("cancel", || group.cancel())?;
            self.mark_aborted(id);
        }
        Ok(())
    }

    /// Takes a view of a buffer and holds it over a few operations: the
    /// bytes must not change under it, and must be what the model says.
    fn op_view(&mut self) -> Result<(), String> {
        let b = self.rng.below(self.bufs.len() as u64) as usize;
        let holder = self
            .open
            .iter()
            .find(|(_, o)| o.bufs.contains(&b))
            .map(|(&id, o)| (id, o.c.clone(), matches!(o.what, Op::Read { .. })));
        let released_before = holder.as_ref().is_none_or(|(_, c, _)| c.device_released());
        let buf = self.bufs[b].buf.clone();
        let inner = 1 + self.rng.below(4) as usize;
        let _ = writeln!(self.log, "view buf {b} over {inner} operations {{");
        let view = buf.try_as_slice();
        match (&view, &holder) {
            (Err(CompletionError::Busy(_)), Some((_, _, true))) => {
                if released_before {
                    return Err(format!("view of buf {b}: refused after the read let go of it"));
                }
            }
            (Err(e), _) => {
                return Err(format!(
                    "view of buf {b}: refused ({e:?}) though no read holds it"
                ));
            }
            (Ok(_), Some((_, c, true))) => {
                if !c.device_released() {
                    return Err(format!(
                        "view of buf {b} granted while a read into it is in flight"
                    ));
                }
            }
            (Ok(v), _) => {
                if let Some(known) = &self.bufs[b].known
                    && &**v != known.as_slice()
                {
                    return Err(format!("buf {b} does not hold what the model says"));
                }
            }
        }
        let before = view.as_ref().ok().map(|v| v.to_vec());
        self.viewed.push(b);
        for _ in 0..inner {
            self.one(false)?;
        }
        self.viewed.pop();
        if let (Ok(v), Some(before)) = (&view, before)
            && **v != before[..]
        {
            return Err(format!("buf {b} changed under a live view"));
        }
        drop(view);
        let _ = writeln!(self.log, "}}");
        Ok(())
    }

    /// Refills an idle buffer with new bytes.
    fn op_fill(&mut self) -> Result<(), String> {
        let Some(b) = self.rng.pick(&self.idle_bufs(false)) else {
            return Ok(());
        };
        let buf = self.bufs[b].buf.clone();
        let data = pattern(self.rng.next(), buf.len());
        let _ = writeln!(self.log, "fill buf {b}");
        match buf.try_as_mut_slice() {
            Ok(mut m) => m.copy_from_slice(&data),
            // The program has settled every operation on it: nothing holds it.
            Err(e) => return Err(format!("fill of idle buf {b}: {e:?}")),
        }
        self.bufs[b].known = Some(data);
        Ok(())
    }

    fn op_handle(&mut self) -> Result<(), String> {
        if self.rng.chance(50) && self.handles.len() > 1 {
            let h = self.rng.below(self.handles.len() as u64) as usize;
            let _ = writeln!(self.log, "drop h{h}");
            // Operations in flight on it go on.
            self.handles.remove(h);
        } else {
            let file = self.rng.below(FILES as u64) as usize;
            let ro = self.rng.chance(30);
            self.open_handle(file, ro);
        }
        Ok(())
    }

    /// A call with bad input: the exact error, at the call, on every backend.
    fn op_bad(&mut self) -> Result<(), String> {
        let Some(h) = self.handle(false) else {
            return Ok(());
        };
        let (file, ro, fh) = (self.handles[h].0, self.handles[h].1, self.handles[h].2.clone());
        let _ = file;
        let kind = self.rng.below(8);
        let _ = writeln!(self.log, "bad input {kind} on h{h}");
        let past =
            CompletionError::InvalidArgument("file offset beyond the largest the kernel accepts (i64::MAX)");
        let (c, expected, r) = match kind {
            0 => {
                let c = Completion::read(Arc::new(Buffer::new(1)));
                let r = fh.pread(u64::MAX, c.clone());
                (c, past, r)
            }
            1 => {
                let c = Completion::truncate();
                let r = fh.truncate(u64::MAX, c.clone());
                (
                    c,
                    if ro {
                        CompletionError::Io(std::io::ErrorKind::PermissionDenied)
                    } else {
                        past
                    },
                    r,
                )
            }
            2 => {
                let c = Completion::write();
                let r = fh.pread(0, c.clone());
                (
                    c,
                    CompletionError::InvalidArgument(
                        "pread needs a read completion: create it with `Completion::read(buffer)`",
                    ),
                    r,
                )
            }
            // Completions that stand for no operation (round 2, findings
            // 4, 5 and 15), checked before the arguments and the handle's
            // mode.
            4 | 5 => {
                let c = if kind == 4 {
                    let c = Completion::write();
                    c.abort();
                    c
                } else {
                    Completion::ready()
                };
                let r = fh.pwrite(0, Arc::new(Buffer::new(4)), c.clone());
                return match r {
                    // Refused; it keeps the outcome it had.
                    Err(e)
                        if e == ALREADY_DECIDED
                            && c.result()
                                == Some(if kind == 4 {
                                    Err(CompletionError::Aborted)
                                } else {
                                    Ok(0)
                                }) =>
                    {
                        Ok(())
                    }
                    other => Err(format!(
                        "bad input {kind}: {other:?}, completion {:?}",
                        c.result()
                    )),
                };
            }
            6 => {
                let c = Completion::write();
                let r = fh.sync(c.clone());
                (
                    c,
                    CompletionError::InvalidArgument(
                        "sync needs a sync completion: create it with `Completion::sync()` or `Completion::sync_data()`",
                    ),
                    r,
                )
            }
            7 => {
                // An open group's completion: refused, and left to finish
                // when its children do (its settling checks that).
                let groups: Vec<usize> = self
                    .open
                    .iter()
                    .filter(|(_, o)| matches!(o.what, Op::Group))
                    .map(|(&id, _)| id)
                    .collect();
                let Some(g) = self.rng.pick(&groups) else {
                    return Ok(());
                };
                let c = self.open[&g].c.clone();
                let r = if self.rng.chance(50) {
                    fh.truncate(0, c)
                } else {
                    fh.pwrite(0, Arc::new(Buffer::new(4)), c)
                };
                return match r {
                    Err(e) if e == A_GROUP => Ok(()),
                    other => Err(format!("bad input {kind} (group #{g}): {other:?}")),
                };
            }
            _ => {
                let c = Completion::write();
                let r = fh.pwrite(i64::MAX as u64, Arc::new(Buffer::new(4)), c.clone());
                (
                    c,
                    if ro {
                        CompletionError::Io(std::io::ErrorKind::PermissionDenied)
                    } else {
                        past
                    },
                    r,
                )
            }
        };
        match r {
            Err(e) if e == expected && c.result() == Some(Err(e)) => Ok(()),
            other => Err(format!(
                "bad input {kind}: {other:?}, completion {:?}, expected {expected:?} at the call",
                c.result()
            )),
        }
    }

    /// Waits for `id` until its device let go, then checks it against the
    /// model and applies it.
    fn settle(&mut self, id: usize) -> Result<(), String> {
        let _ = writeln!(self.log, "wait #{id}");
        let c = self.open[&id].c.clone();
        loop {
            match self.guarded("wait", || self.io().wait(&c))? {
                Some(Err(CompletionError::Stalled)) | None => {}
                Some(_) => {}
            }
            if c.finished() {
                break;
            }
            if self.threaded {
                // Another thread may be finishing it.
                std::thread::yield_now();
                continue;
            }
            if let Some(Ok(0)) = self.guarded("step", || self.io().step())?
                && !c.finished()
            {
                return Err(format!("#{id} stalled: pending with nothing in flight"));
            }
        }
        while !c.device_released() {
            match self.guarded("step", || self.io().step())? {
                Some(Ok(0)) if !c.device_released() && !self.threaded => {
                    return Err(format!("#{id}: finished, but the device never lets go of it"));
                }
                Some(Err(e)) => return Err(format!("step: {e:?}")),
                _ => {}
            }
        }
        let o = self.open.remove(&id).unwrap();
        self.clock += 1;
        self.check_outcome(id, &o)
    }

    fn check_outcome(&mut self, id: usize, o: &Open) -> Result<(), String> {
        let outcome = o.c.result().ok_or(format!("#{id}: no outcome after waiting"))?;
        if o.cb != Cb::None {
            let seen = o.record.lock().unwrap().clone();
            if seen != [outcome] {
                return Err(format!(
                    "#{id}: its callback saw {seen:?}, the completion holds {outcome:?}"
                ));
            }
        }
        if o.cb == Cb::Panic {
            self.panics_planned += 1;
            self.panic_open = false;
        }
        let aborted_ok = |e: &CompletionError| o.aborted && *e == CompletionError::Aborted;
        match &o.what {
            Op::Read { file, pos, buf } => {
                let len = self.bufs[*buf].buf.len();
                match outcome {
                    Ok(n) => {
                        let n = n as usize;
                        let got = self.bufs[*buf].buf.to_vec();
                        self.files[*file]
                            .read(*pos, &got[..n.min(len)], len)
                            .map_err(|e| format!("#{id}: {e}"))?;
                        let known = match &self.bufs[*buf].known {
                            Some(old) => {
                                if got[n..] != old[n..] {
                                    return Err(format!(
                                        "#{id}: a read of {n} bytes changed the buffer past them"
                                    ));
                                }
                                Some(got)
                            }
                            None => None,
                        };
                        self.bufs[*buf].known = known;
                    }
                    Err(e) if aborted_ok(&e) => self.bufs[*buf].known = None,
                    Err(e) => return Err(format!("#{id} (read): {e:?}")),
                }
            }
            Op::Write { file, pos, bufs } => {
                let data: Vec<u8> = bufs
                    .iter()
                    .flat_map(|&b| self.bufs[b].known.clone().unwrap())
                    .collect();
                let certain = match outcome {
                    Ok(n) if n as usize == data.len() => true,
                    Err(e) if aborted_ok(&e) => false,
                    other => return Err(format!("#{id} (write of {}): {other:?}", data.len())),
                };
                let concurrent: Vec<Landing<'_>> = self
                    .settled
                    .iter()
                    .filter(|s| s.file == *file && s.settled > o.issued)
                    .map(|s| Landing {
                        pos: s.pos,
                        data: &s.data,
                        certain: s.certain,
                    })
                    .collect();
                self.files[*file].write(
                    &Landing {
                        pos: *pos,
                        data: &data,
                        certain,
                    },
                    &concurrent,
                );
                self.settled.push(Settled {
                    file: *file,
                    pos: *pos,
                    data,
                    certain,
                    settled: self.clock,
                });
                // Only writes still open can be in flight with a later one.
                let oldest = self.open.values().map(|o| o.issued).min().unwrap_or(u64::MAX);
                self.settled.retain(|s| s.settled > oldest);
            }
            Op::Sync => match outcome {
                Ok(0) => {}
                Err(e) if aborted_ok(&e) => {}
                other => return Err(format!("#{id} (sync): {other:?}")),
            },
            Op::Truncate { file, len } => match outcome {
                Ok(0) => self.files[*file].truncate(*len, true),
                Err(e) if aborted_ok(&e) => self.files[*file].truncate(*len, false),
                other => return Err(format!("#{id} (truncate): {other:?}")),
            },
            Op::Group => match outcome {
                // DESIGN rule 4: a built group's result is 0.
                Ok(0) => {}
                Err(CompletionError::Aborted) => {}
                other => return Err(format!("#{id} (group of {}): {other:?}", o.children.len())),
            },
        }
        Ok(())
    }

    /// Waits for `c` (no callback of this program's own can panic then, but
    /// in a threaded program another thread's planned panic may surface).
    fn wait_quietly(&self, c: &Completion) -> Result<(), String> {
        while !c.finished() {
            match self.guarded("wait", || self.io().wait(c))? {
                Some(Err(CompletionError::Stalled)) if !self.threaded && !c.finished() => {
                    return Err("stalled: pending with nothing in flight".to_owned());
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn settle_callback_writes(&mut self) -> Result<(), String> {
        let issued: Vec<CallbackWrite> = std::mem::take(&mut *self.cb_issued.lock().unwrap());
        for (c, _, _) in &issued {
            self.wait_quietly(c)
                .map_err(|e| format!("a write issued by a callback: {e}"))?;
        }
        for (c, at, data) in &issued {
            if c.result() != Some(Ok(data.len() as i32)) {
                return Err(format!("a write issued by a callback ended {:?}", c.result()));
            }
            let buf = Arc::new(Buffer::new(data.len()));
            let r = self
                .cb_file
                .pread(*at as u64, Completion::read(buf.clone()))
                .map_err(|e| format!("{e:?}"))?;
            self.wait_quietly(&r)?;
            if r.result() != Some(Ok(data.len() as i32)) || buf.to_vec() != *data {
                return Err(format!(
                    "the callback file does not hold a callback's write at {at}"
                ));
            }
        }
        Ok(())
    }

    /// Reads every file back through a fresh handle and checks it.
    pub fn check_files(&mut self) -> Result<(), String> {
        for f in 0..FILES {
            let h = self
                .io()
                .open_file(&self.path(f), OpenOptions::existing())
                .map_err(|e| format!("reopen f{f}: {e}"))?;
            let len = h.size().map_err(|e| format!("size of f{f}: {e:?}"))? as usize;
            let buf = Arc::new(Buffer::new(len));
            let c = h
                .pread(0, Completion::read(buf.clone()))
                .map_err(|e| format!("{e:?}"))?;
            self.wait_quietly(&c)?;
            if c.result() != Some(Ok(len as i32)) {
                return Err(format!("reading f{f} back: {:?}", c.result()));
            }
            self.files[f]
                .check_final(&buf.to_vec())
                .map_err(|e| format!("f{f}: {e}"))?;
        }
        Ok(())
    }

    /// After the backend was dropped: every completion finished, every
    /// device let go; on-disk files hold what the model allows.
    pub fn check_after_drop(&mut self, on_disk: bool) -> Result<(), String> {
        let ids: Vec<usize> = self.open.keys().copied().collect();
        for id in ids {
            let o = self.open.remove(&id).unwrap();
            if !o.c.finished() || !o.c.device_released() {
                return Err(format!(
                    "#{id} left unfinished or held after the backend was dropped"
                ));
            }
            // Aborted by the drop, or finished before it.
            let mut o = o;
            if o.c.result() == Some(Err(CompletionError::Aborted)) {
                o.aborted = true;
            }
            self.clock += 1;
            self.check_outcome(id, &o)?;
        }
        for (c, _, _) in self.cb_issued.lock().unwrap().iter() {
            if !c.finished() {
                return Err("a callback's write left unfinished after the backend was dropped".to_owned());
            }
        }
        if on_disk {
            for f in 0..FILES {
                let contents = std::fs::read(self.path(f)).unwrap_or_default();
                self.files[f]
                    .check_final(&contents)
                    .map_err(|e| format!("f{f} after the drop: {e}"))?;
            }
        }
        Ok(())
    }
}
