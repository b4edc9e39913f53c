//! The pager: where each page's current image lives (page cache, write-ahead
//! log or data file), the page cache itself, page allocation, and sealing
//! a transaction's dirty pages into log frames.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use ratchet::{Buffer, Completion, File, IOResult, io_state_machine, io_state_machines, yield_io};

use super::checkpoint::CheckpointState;
use super::format::{Error, FRAME_HEADER_BYTES, Meta, Node, PAGE_SIZE, ctx};
use super::wal::{FlushState, RecoverState};

/// Counters shown in the example's summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    /// Page lookups answered by the cache.
    pub cache_hits: u64,
    /// Page lookups that read the log or the data file.
    pub cache_misses: u64,
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
    node: Arc<Node>,
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

    fn get(&mut self, no: u64) -> Option<Arc<Node>> {
        let e = self.entries.get_mut(&no)?;
        e.referenced = true;
        Some(e.node.clone())
    }

    fn insert(&mut self, no: u64, node: Arc<Node>, pinned: &dyn Fn(u64) -> bool) {
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
    pub fn peek(&self, no: u64) -> Option<Arc<Node>> {
        self.entries.get(&no).map(|e| e.node.clone())
    }
}

/// Where the pages are and what is durable.
pub struct Pager {
    /// The data file: header page, then node pages at `no * PAGE_SIZE`.
    pub data: Arc<dyn File>,
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
    pub(super) read_state: ReadState,
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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cache_pages: 2048,
            checkpoint_bytes: 32 << 20,
            checkpoint_batch: 64,
        }
    }
}

impl Pager {
    /// A pager over open files; nothing is read until `recover`.
    pub fn new(data: Arc<dyn File>, wal: Arc<dyn File>, data_path: String, options: Options) -> Pager {
        Pager {
            data,
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
            read_state: ReadState::default(),
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
        self.dirty.insert(no);
        let (dirty, sealed) = (&self.dirty, &self.sealed_pages);
        self.cache
            .insert(no, Arc::new(node), &|p| Self::is_pinned(dirty, sealed, p));
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
    fn install_clean(&mut self, no: u64, node: Arc<Node>) {
        let (dirty, sealed) = (&self.dirty, &self.sealed_pages);
        self.cache
            .insert(no, node, &|p| Self::is_pinned(dirty, sealed, p));
    }
}

#[io_state_machines]
impl Pager {
    /// The current version of page `no`: from the cache, else its latest
    /// frame in the log, else the data file.
    #[io_state_machine(state = self.read_state)]
    pub fn read(&mut self, no: u64) -> Result<IOResult<Arc<Node>>, Error> {
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
        let buf: Arc<Buffer> = Arc::new(Buffer::new(PAGE_SIZE));
        let from_log: bool = self.wal_index.contains_key(&no);
        let c: Completion = if let Some(&frame) = self.wal_index.get(&no) {
            ctx(
                self.wal
                    .pread(frame + FRAME_HEADER_BYTES as u64, Completion::read(buf.clone())),
                "reading a page from the log",
            )?
        } else {
            ctx(
                self.data
                    .pread(no * PAGE_SIZE as u64, Completion::read(buf.clone())),
                "reading a page from the data file",
            )?
        };
        let r: Result<i32, ratchet::CompletionError> = yield_io!(c);
        let n = ctx(r, "reading a page")?;
        if n as usize != PAGE_SIZE {
            return Err(Error::Corrupt(format!(
                "{}: page {no} is missing ({} bytes read{})",
                self.data_path,
                n,
                if from_log { " from the log" } else { "" }
            )));
        }
        let node = Arc::new(
            Node::decode(&buf.as_slice(), no)
                .map_err(|e| Error::Corrupt(format!("{}: {e}", self.data_path)))?,
        );
        self.install_clean(no, node.clone());
        Ok(node)
    }
}
