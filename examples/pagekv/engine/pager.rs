//! The pager: where each page's current image lives (page cache, write-ahead
//! log or data file), the page cache itself, page allocation, and sealing
//! a transaction's dirty pages into log frames.
//!
//! Many reads may be in flight at once, each driven by its own request's
//! [`ReadState`]. A page has at most one device read in flight
//! ([`PageRead`]): a second request that misses on it waits for the same
//! read. Each waiter waits on a completion of its own that follows the
//! device's, so one request's `reset()` aborts only its own wait, never the
//! read the others wait on. A write of the page makes its read stale: the
//! late image is neither cached nor returned (the reader looks again), so a
//! read that lands after a writer changed the page never overwrites the
//! newer one.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use ratchet::completion::Outcome;
use ratchet::{
    Buffer, Completion, CompletionError, File, IOResult, io_state_machine, io_state_machines, yield_io,
};

use super::checkpoint::CheckpointState;
use super::format::{Error, FRAME_HEADER_BYTES, Meta, Node, PAGE_SIZE, Page, ctx};
use super::wal::{FlushState, RecoverState};

/// Counters shown in the example's summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    /// Page lookups answered by the cache.
    pub cache_hits: u64,
    /// Page lookups the cache did not answer.
    pub cache_misses: u64,
    /// Device reads of pages started (a miss on a page already being read
    /// waits for that read instead).
    pub page_reads: u64,
    /// Misses that waited for a read another request had started.
    pub shared_reads: u64,
    /// Page reads whose image was stale when it arrived (a writer changed
    /// the page meanwhile): the lookup looked again.
    pub stale_reads: u64,
    /// Descents of the tree begun again because it changed while they waited.
    pub restarts: u64,
    /// Transactions sealed by `commit`.
    pub txns: u64,
    /// Group commits: log writes of one or more transactions and one sync.
    pub group_commits: u64,
    /// Frames appended to the log.
    pub frames: u64,
    /// Checkpoints completed.
    pub checkpoints: u64,
    /// Pages copied from the log into the data file by checkpoints.
    pub pages_checkpointed: u64,
}

/// A transaction sealed by `commit` and not yet written to the log: the page
/// images as of its end, and the tree after it.
pub struct SealedTxn {
    /// Its number.
    pub txn: u64,
    /// Page images, in page order.
    pub pages: Vec<(u64, Vec<u8>)>,
    /// The tree after it.
    pub meta: Meta,
}

struct CacheEntry {
    node: Arc<Page>,
    /// Second-chance bit of the clock.
    referenced: bool,
    /// Whether the page is in the clock. A sweep takes pinned pages out, so
    /// that a transaction pinning most of the cache does not make every
    /// insertion walk all of it; `unpin` puts them back.
    in_clock: bool,
}

/// The page cache: decoded nodes under a clock replacement policy. Pages that
/// exist nowhere else (modified in the open transaction, or sealed and not
/// yet in the log) are pinned and never evicted.
pub struct Cache {
    entries: HashMap<u64, CacheEntry>,
    clock: VecDeque<u64>,
    capacity: usize,
}

impl Cache {
    fn new(capacity: usize) -> Cache {
        Cache {
            entries: HashMap::new(),
            clock: VecDeque::new(),
            capacity: capacity.max(8),
        }
    }

    fn get(&mut self, no: u64) -> Option<Arc<Page>> {
        let e = self.entries.get_mut(&no)?;
        e.referenced = true;
        Some(e.node.clone())
    }

    fn insert(&mut self, no: u64, node: Arc<Page>, pinned: &dyn Fn(u64) -> bool) {
        match self.entries.get_mut(&no) {
            Some(e) => {
                e.node = node;
                e.referenced = true;
            }
            None => {
                self.entries.insert(
                    no,
                    CacheEntry {
                        node,
                        referenced: true,
                        in_clock: true,
                    },
                );
                self.clock.push_back(no);
            }
        }
        // Evict down to capacity; when only pinned pages are left the cache
        // grows instead of spinning.
        let mut budget = 2 * self.clock.len();
        while self.entries.len() > self.capacity && budget > 0 {
            budget -= 1;
            let Some(victim) = self.clock.pop_front() else {
                break;
            };
            match self.entries.get_mut(&victim) {
                None => {}
                Some(e) if pinned(victim) => e.in_clock = false,
                Some(_) if victim == no => self.clock.push_back(victim),
                Some(e) if e.referenced => {
                    e.referenced = false;
                    self.clock.push_back(victim);
                }
                Some(_) => {
                    self.entries.remove(&victim);
                }
            }
        }
    }

    /// Makes `pages`, no longer pinned, candidates for eviction again.
    fn unpin(&mut self, pages: impl IntoIterator<Item = u64>) {
        for no in pages {
            if let Some(e) = self.entries.get_mut(&no)
                && !e.in_clock
            {
                e.in_clock = true;
                self.clock.push_back(no);
            }
        }
    }

    /// The cached node, without touching its reference bit.
    pub fn peek(&self, no: u64) -> Option<Arc<Page>> {
        self.entries.get(&no).map(|e| e.node.clone())
    }
}

/// Where the pages are and what is durable.
pub struct Pager {
    /// The data file: header page, then node pages at `no * PAGE_SIZE`.
    pub data: Arc<dyn File>,
    /// The handle page reads of the data file go through: `data` itself, or
    /// a second handle opened `O_DIRECT` ([`Options::direct`]).
    pub data_reads: Arc<dyn File>,
    /// The write-ahead log: frames of page images.
    pub wal: Arc<dyn File>,
    /// The data file's name, for messages.
    pub data_path: String,
    pub(super) cache: Cache,
    /// Pages modified by the open transaction.
    pub(super) dirty: BTreeSet<u64>,
    /// Pages of sealed transactions not yet in the log.
    pub(super) sealed_pages: HashSet<u64>,
    /// Sealed transactions waiting for the next group commit.
    pub(super) sealed: Vec<SealedTxn>,
    /// For each page in the log: the offset of its latest committed frame.
    pub(super) wal_index: HashMap<u64, u64>,
    /// Where the next frame goes.
    pub(super) wal_end: u64,
    /// The checkpoint generation, stamped into every frame.
    pub(super) generation: u64,
    /// The tree including the open transaction.
    pub meta: Meta,
    /// The tree as of the last sealed transaction.
    pub(super) sealed_meta: Meta,
    /// The tree as of the last transaction in the log (acknowledged).
    pub(super) durable_meta: Meta,
    /// Set by a failed write or sync: the disk may no longer match memory.
    pub(super) failed: Option<String>,
    /// A deliberate bug, off by default: a group commit whose log sync fails
    /// syncs again and, if that succeeds, acknowledges. Linux forgets dirty
    /// pages whose writeback failed, so the retry proves nothing; the crash
    /// test turns this on to show that it catches the loss.
    #[doc(hidden)]
    pub retry_failed_sync: bool,
    /// Log size in bytes that makes `sync` run a checkpoint afterwards.
    pub checkpoint_bytes: u64,
    /// Pages per write batch of a checkpoint.
    pub checkpoint_batch: usize,
    /// Counters.
    pub stats: Stats,
    /// The device read in flight (or finished and not yet taken) of each
    /// page; a write of the page removes it and marks it stale.
    pub(super) inflight: HashMap<u64, Arc<PageRead>>,
    /// Device reads of the log that may still be in flight: a checkpoint
    /// waits for them before it truncates the log under them.
    pub(super) log_reads: Vec<Completion>,
    /// Bumped by every change of a page in memory: a lookup that waited for
    /// I/O and finds it changed descends again.
    pub version: u64,
    pub(super) flush_state: FlushState,
    pub(super) recover_state: RecoverState,
    pub(super) checkpoint_state: CheckpointState,
}

/// Tuning of a store.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Pages the cache holds (pinned pages may exceed it briefly).
    pub cache_pages: usize,
    /// Log size that triggers a checkpoint after a group commit.
    pub checkpoint_bytes: u64,
    /// Pages per checkpoint write batch.
    pub checkpoint_batch: usize,
    /// Read pages of the data file with `O_DIRECT`, bypassing the
    /// operating system's cache, so that a miss of the page cache reaches
    /// the device (writes still go through the page cache).
    pub direct: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cache_pages: 2048,
            checkpoint_bytes: 32 << 20,
            checkpoint_batch: 64,
            direct: false,
        }
    }
}

/// One device read of a page, shared by every request that misses on the
/// page while it is in flight.
pub struct PageRead {
    no: u64,
    from_log: bool,
    /// The device's completion; it owns the buffer.
    device: Completion,
    buf: Arc<Buffer>,
    /// Set when a writer changed the page after the read began.
    stale: AtomicBool,
    /// The image decoded, once, by the first waiter to look.
    node: OnceLock<Result<Arc<Page>, Error>>,
}

impl PageRead {
    /// A completion that finishes with the device's outcome, for one waiter
    /// to wait on: aborting it (a `reset()` of that waiter) leaves the
    /// device read and the other waiters alone.
    fn follow(&self) -> Completion {
        if self.device.finished() {
            // Finished: an abort of it is ignored, so it can be shared.
            return self.device.clone();
        }
        let mine = Completion::pending();
        let finish = mine.clone();
        drop(self.device.clone().with_callback(move |o: Outcome| match o {
            Ok(n) => finish.complete(n),
            Err(e) => finish.error(e),
        }));
        mine
    }

    /// The page as read, decoded once. `outcome` is the device's, as the
    /// waiter's own completion got it: on a backend that finishes
    /// completions on another thread, the device's completion may still be
    /// running its callbacks (so `finished()` is not yet true of it) when a
    /// waiter resumes. The device's error, or a page that is missing or
    /// fails its checks, is an error.
    fn node(&self, outcome: Result<i32, CompletionError>, data_path: &str) -> Result<Arc<Page>, Error> {
        self.node
            .get_or_init(|| {
                let n = ctx(outcome, "reading a page")?;
                if n as usize != PAGE_SIZE {
                    return Err(Error::Corrupt(format!(
                        "{data_path}: page {} is missing ({n} bytes read{})",
                        self.no,
                        if self.from_log { " from the log" } else { "" }
                    )));
                }
                Page::parse(&self.buf.as_slice(), self.no)
                    .map(Arc::new)
                    .map_err(|e| Error::Corrupt(format!("{data_path}: {e}")))
            })
            .clone()
    }
}

/// A completion that finishes once every one of `cs` has, whatever their
/// outcomes, and whose abort aborts none of them (unlike a group's).
pub(super) fn after_all(cs: Vec<Completion>) -> Completion {
    if cs.is_empty() {
        return Completion::ready();
    }
    let all = Completion::pending();
    let left = Arc::new(AtomicUsize::new(cs.len()));
    for c in cs {
        let (all, left) = (all.clone(), left.clone());
        drop(c.with_callback(move |_| {
            if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                all.complete(0);
            }
        }));
    }
    all
}

impl Pager {
    /// A pager over open files; nothing is read until `recover`.
    pub fn new(
        data: Arc<dyn File>,
        data_reads: Arc<dyn File>,
        wal: Arc<dyn File>,
        data_path: String,
        options: Options,
    ) -> Pager {
        Pager {
            data,
            data_reads,
            wal,
            data_path,
            cache: Cache::new(options.cache_pages),
            dirty: BTreeSet::new(),
            sealed_pages: HashSet::new(),
            sealed: Vec::new(),
            wal_index: HashMap::new(),
            wal_end: 0,
            generation: 0,
            meta: Meta::default(),
            sealed_meta: Meta::default(),
            durable_meta: Meta::default(),
            failed: None,
            retry_failed_sync: false,
            checkpoint_bytes: options.checkpoint_bytes,
            checkpoint_batch: options.checkpoint_batch.max(1),
            stats: Stats::default(),
            inflight: HashMap::new(),
            log_reads: Vec::new(),
            version: 0,
            flush_state: FlushState::default(),
            recover_state: RecoverState::default(),
            checkpoint_state: CheckpointState::default(),
        }
    }

    /// Refuses work after a failed write or sync.
    pub fn check_usable(&self) -> Result<(), Error> {
        match &self.failed {
            Some(why) => Err(Error::Failed(why.clone())),
            None => Ok(()),
        }
    }

    /// Records that the disk may no longer match memory, and passes `e` on.
    pub(super) fn fail(&mut self, e: Error) -> Error {
        if self.failed.is_none() {
            self.failed = Some(e.to_string());
        }
        e
    }

    fn is_pinned(dirty: &BTreeSet<u64>, sealed: &HashSet<u64>, no: u64) -> bool {
        dirty.contains(&no) || sealed.contains(&no)
    }

    /// Installs a new version of page `no` in the open transaction.
    pub fn write(&mut self, no: u64, node: Node) {
        debug_assert!(node.fits(), "a node that does not fit was written");
        self.version += 1;
        if let Some(read) = self.inflight.remove(&no) {
            read.stale.store(true, Ordering::Release);
        }
        self.dirty.insert(no);
        let (dirty, sealed) = (&self.dirty, &self.sealed_pages);
        self.cache.insert(no, Arc::new(Page::from_node(node)), &|p| {
            Self::is_pinned(dirty, sealed, p)
        });
    }

    /// A fresh page number for the open transaction.
    pub fn allocate(&mut self) -> u64 {
        let no = self.meta.page_count;
        self.meta.page_count += 1;
        no
    }

    /// Whether the open transaction has changed anything.
    pub fn has_changes(&self) -> bool {
        !self.dirty.is_empty() || self.meta != self.sealed_meta
    }

    /// Seals the open transaction: snapshots its pages for the log and gives
    /// it the next transaction number. Returns the number of the last sealed
    /// transaction (unchanged when there was nothing to seal).
    pub fn commit(&mut self) -> Result<u64, Error> {
        self.check_usable()?;
        if !self.has_changes() {
            return Ok(self.sealed_meta.txn);
        }
        let txn = self.sealed_meta.txn + 1;
        let dirty = std::mem::take(&mut self.dirty);
        let mut pages = Vec::with_capacity(dirty.len());
        for no in dirty {
            let Some(node) = self.cache.entries.get(&no).map(|e| e.node.clone()) else {
                // Pinned pages are never evicted.
                unreachable!("dirty page {no} missing from the cache");
            };
            pages.push((no, node.encode(no)));
            self.sealed_pages.insert(no);
        }
        self.meta.txn = txn;
        self.sealed_meta = self.meta;
        self.sealed.push(SealedTxn {
            txn,
            pages,
            meta: self.meta,
        });
        self.stats.txns += 1;
        Ok(txn)
    }

    /// The last transaction sealed.
    pub fn last_sealed(&self) -> u64 {
        self.sealed_meta.txn
    }

    /// The last transaction acknowledged durable.
    pub fn last_durable(&self) -> u64 {
        self.durable_meta.txn
    }

    /// Bytes in the log.
    pub fn wal_bytes(&self) -> u64 {
        self.wal_end
    }

    /// Sealed pages are in the log now: the cache may evict them.
    pub(super) fn unpin_sealed(&mut self) {
        let pages = std::mem::take(&mut self.sealed_pages);
        self.cache.unpin(pages);
    }

    /// Caches a clean page image just read.
    fn install_clean(&mut self, no: u64, node: Arc<Page>) {
        let (dirty, sealed) = (&self.dirty, &self.sealed_pages);
        self.cache
            .insert(no, node, &|p| Self::is_pinned(dirty, sealed, p));
    }
}

impl Pager {
    /// The read of page `no` in flight, or a new one.
    fn page_read(&mut self, no: u64) -> Result<Arc<PageRead>, Error> {
        if let Some(read) = self.inflight.get(&no)
            && !read.device.failed()
        {
            self.stats.shared_reads += 1;
            return Ok(read.clone());
        }
        let buf = Arc::new(Buffer::new_aligned(PAGE_SIZE));
        let from_log = self.wal_index.contains_key(&no);
        let device = if let Some(&frame) = self.wal_index.get(&no) {
            let c = ctx(
                self.wal
                    .pread(frame + FRAME_HEADER_BYTES as u64, Completion::read(buf.clone())),
                "reading a page from the log",
            )?;
            // Forget the log reads that have finished, now and then, so the
            // list stays as short as the reads in flight.
            if self.log_reads.len() >= 64 {
                self.log_reads.retain(|c| !c.finished());
            }
            self.log_reads.push(c.clone());
            c
        } else {
            ctx(
                self.data_reads
                    .pread(no * PAGE_SIZE as u64, Completion::read(buf.clone())),
                "reading a page from the data file",
            )?
        };
        self.stats.page_reads += 1;
        let read = Arc::new(PageRead {
            no,
            from_log,
            device,
            buf,
            stale: AtomicBool::new(false),
            node: OnceLock::new(),
        });
        self.inflight.insert(no, read.clone());
        Ok(read)
    }

    /// After a waiter of `read` resumed: the read leaves the pager (the
    /// first waiter to get here takes it) and its image goes into the cache
    /// unless a newer one is there.
    fn retire_read(&mut self, read: &Arc<PageRead>, node: Option<&Arc<Page>>) {
        let no = read.no;
        if self.inflight.get(&no).is_some_and(|r| Arc::ptr_eq(r, read)) {
            self.inflight.remove(&no);
            if let Some(node) = node
                && self.cache.peek(no).is_none()
            {
                self.install_clean(no, node.clone());
            }
        }
    }

    /// A completion that finishes once every read of the log that may be in
    /// flight has finished.
    pub(super) fn log_reads_done(&mut self) -> Completion {
        let pending: Vec<Completion> = std::mem::take(&mut self.log_reads)
            .into_iter()
            .filter(|c| !c.finished())
            .collect();
        after_all(pending)
    }
}

#[io_state_machines]
impl Pager {
    /// The current version of page `no`: from the cache, else its latest
    /// frame in the log, else the data file. `st` is the calling request's
    /// own: many reads may be in flight at once.
    #[io_state_machine(state = st)]
    pub fn read(&mut self, st: &mut ReadState, no: u64) -> Result<IOResult<Arc<Page>>, Error> {
        loop {
            if let Some(node) = self.cache.get(no) {
                self.stats.cache_hits += 1;
                return Ok(node);
            }
            self.stats.cache_misses += 1;
            if no == 0 || no >= self.meta.page_count {
                return Err(Error::Corrupt(format!(
                    "{}: reference to page {no}, beyond the {} pages in use",
                    self.data_path, self.meta.page_count
                )));
            }
            let read: Arc<PageRead> = self.page_read(no)?;
            let wait: Completion = read.follow();
            let outcome: Result<i32, CompletionError> = yield_io!(wait);
            if read.stale.load(Ordering::Acquire) {
                // A writer changed the page while it was read: its new image
                // is in the cache (or, evicted since, in the log).
                self.stats.stale_reads += 1;
                continue;
            }
            let node = read.node(outcome, &self.data_path);
            self.retire_read(&read, node.as_ref().ok());
            return node;
        }
    }
}
