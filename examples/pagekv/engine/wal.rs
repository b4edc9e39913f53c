//! The write-ahead log: group commit of sealed transactions (a
//! `CompletionGroup` of log writes, then one sync), and recovery, which
//! replays the log up to its last intact commit.
//!
//! A frame is valid when its magic and checksum match, it belongs to the
//! data file's current checkpoint generation, and its transaction number is
//! the one expected next. The scan stops at the first frame that is not:
//! everything after a torn or stale frame was never acknowledged, because a
//! transaction is acknowledged only once its frames and the sync after them
//! have completed, and frames are appended in order.

use std::sync::Arc;

use ratchet::{
    Buffer, Completion, CompletionError, CompletionGroup, IOResult, io_state_machine, io_state_machines,
    yield_io,
};

use super::format::{Error, FRAME_BYTES, FrameHeader, HEADER_SLOT_BYTES, Header, Meta, PAGE_SIZE, ctx};
use super::pager::{Pager, SealedTxn};

/// Frames read per request during recovery.
const SCAN_FRAMES: u64 = 64;

/// What recovery found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecoverReport {
    /// Whether the data file was created (or its interrupted creation
    /// redone) by this open.
    pub created: bool,
    /// Bytes in the log when it was opened.
    pub log_bytes: u64,
    /// Committed transactions replayed from the log.
    pub txns_replayed: u64,
    /// Frames of those transactions.
    pub frames_replayed: u64,
    /// The last transaction recovered: the store's state is exactly the one
    /// after it.
    pub txn: u64,
}

#[io_state_machines]
impl Pager {
    /// Group commit: appends the frames of every sealed transaction to the
    /// log (one write per transaction, all in one `CompletionGroup`), waits
    /// for all of them, then syncs the log once. Returns the last
    /// transaction now durable. A failure stops the store (see
    /// [`Error::Failed`]).
    #[io_state_machine(state = self.flush_state)]
    pub fn flush(&mut self) -> Result<IOResult<u64>, Error> {
        self.check_usable()?;
        if self.sealed.is_empty() {
            return Ok(self.durable_meta.txn);
        }
        let txns: Vec<SealedTxn> = std::mem::take(&mut self.sealed);
        let mut index: Vec<(u64, u64)> = Vec::new();
        let mut end: u64 = self.wal_end;
        let mut group = CompletionGroup::new(|_| {});
        for t in &txns {
            let start = end;
            let mut bytes = Vec::with_capacity(t.pages.len() * FRAME_BYTES);
            for (i, (no, image)) in t.pages.iter().enumerate() {
                let header = FrameHeader {
                    generation: self.generation,
                    txn: t.txn,
                    page: *no,
                    commit: (i + 1 == t.pages.len()).then_some(t.meta),
                };
                header.encode_into(image, &mut bytes);
                index.push((*no, end));
                end += FRAME_BYTES as u64;
            }
            match self
                .wal
                .pwrite(start, Arc::new(Buffer::from_vec(bytes)), Completion::write())
            {
                Ok(c) => group.add(&c),
                Err(e) => {
                    group.cancel();
                    return Err(self.fail(Error::io("appending to the log", e)));
                }
            }
        }
        let all: Completion = group.build();
        let written: Result<i32, CompletionError> = yield_io!(all.clone());
        if let Err(e) = written {
            all.abort();
            return Err(self.fail(Error::io("appending to the log", e)));
        }
        // Only now: a sync covers the writes that completed before it.
        let mut synced: Result<i32, CompletionError> = match self.wal.sync(Completion::sync_data()) {
            Ok(c) => yield_io!(c),
            Err(e) => Err(e),
        };
        if synced.is_err() && self.retry_failed_sync {
            // The "fsyncgate" bug, kept only so that the crash test can show
            // it catches it: after a failed fsync Linux marks the pages clean,
            // so this retry succeeds without making the frames durable.
            synced = match self.wal.sync(Completion::sync_data()) {
                Ok(c) => yield_io!(c),
                Err(e) => Err(e),
            };
        }
        // A failed sync is fatal for everything it covered: the frames may
        // be gone from the disk while reads still see them, and no later
        // sync can tell. The store stops; reopening recovers from what the
        // disk holds.
        if let Err(e) = synced {
            return Err(self.fail(Error::io("syncing the log", e)));
        }
        for (no, frame) in index {
            self.wal_index.insert(no, frame);
        }
        self.stats.frames += (end - self.wal_end) / FRAME_BYTES as u64;
        self.stats.group_commits += 1;
        self.wal_end = end;
        if let Some(last) = txns.last() {
            self.durable_meta = last.meta;
        }
        self.unpin_sealed();
        Ok(self.durable_meta.txn)
    }

    /// Opens the store: creates the data file's header if the file is empty
    /// and `create` is set, reads the header, and replays the log up to its
    /// last intact commit. The log itself is left for a checkpoint to fold
    /// in and truncate.
    #[io_state_machine(state = self.recover_state)]
    pub fn recover(&mut self, create: bool) -> Result<IOResult<RecoverReport>, Error> {
        let mut report: RecoverReport = RecoverReport::default();
        let size = ctx(self.data.size(), "reading the data file's size")?;
        // A creation cut short by a crash leaves a file of zeros no longer
        // than a page (the header sector either landed whole, and checks
        // out, or did not): that is still an empty store.
        let mut fresh: bool = size == 0;
        if size > 0 && size <= PAGE_SIZE as u64 {
            let first: Arc<Buffer> = Arc::new(Buffer::new(size as usize));
            let c = ctx(
                self.data.pread(0, Completion::read(first.clone())),
                "reading the data file header",
            )?;
            let r: Result<i32, CompletionError> = yield_io!(c);
            ctx(r, "reading the data file header")?;
            fresh = first.as_slice().iter().all(|&b| b == 0);
        }
        if fresh {
            if !create {
                return Err(Error::Foreign(format!(
                    "{}: not a pagekv data file (the file is empty: a store never created)",
                    self.data_path
                )));
            }
            let header = Header {
                generation: 1,
                meta: Meta {
                    root: 0,
                    page_count: 1,
                    txn: 0,
                },
            };
            let mut page = vec![0u8; PAGE_SIZE];
            let at = Header::slot_of(1) * HEADER_SLOT_BYTES;
            page[at..at + HEADER_SLOT_BYTES].copy_from_slice(&header.encode());
            let w = ctx(
                self.data
                    .pwrite(0, Arc::new(Buffer::from_vec(page)), Completion::write()),
                "creating the data file",
            )?;
            let r: Result<i32, CompletionError> = yield_io!(w);
            ctx(r, "creating the data file")?;
            let s = ctx(
                self.data.sync(Completion::sync_data()),
                "syncing the new data file",
            )?;
            let r: Result<i32, CompletionError> = yield_io!(s);
            ctx(r, "syncing the new data file")?;
            report.created = true;
        }
        let head: Arc<Buffer> = Arc::new(Buffer::new(2 * HEADER_SLOT_BYTES));
        let c = ctx(
            self.data.pread(0, Completion::read(head.clone())),
            "reading the data file header",
        )?;
        let r: Result<i32, CompletionError> = yield_io!(c);
        ctx(r, "reading the data file header")?;
        let header = Header::decode_page(&head.as_slice(), &self.data_path)?;
        self.generation = header.generation;
        self.meta = header.meta;

        // Replay the log.
        let log_bytes: u64 = ctx(self.wal.size(), "reading the log's size")?;
        report.log_bytes = log_bytes;
        let mut off: u64 = 0;
        let mut txn_pages: Vec<(u64, u64)> = Vec::new();
        'scan: while off + FRAME_BYTES as u64 <= log_bytes {
            let frames: u64 = SCAN_FRAMES.min((log_bytes - off) / FRAME_BYTES as u64);
            let chunk: Arc<Buffer> = Arc::new(Buffer::new(frames as usize * FRAME_BYTES));
            let c: Completion = ctx(
                self.wal.pread(off, Completion::read(chunk.clone())),
                "reading the log",
            )?;
            let r: Result<i32, CompletionError> = yield_io!(c);
            let got = ctx(r, "reading the log")? as usize / FRAME_BYTES;
            let bytes = chunk.as_slice();
            for i in 0..got {
                let at = off + (i * FRAME_BYTES) as u64;
                let frame = FrameHeader::decode(&bytes[i * FRAME_BYTES..(i + 1) * FRAME_BYTES]);
                let Some(f) = frame else { break 'scan };
                if f.generation != self.generation || f.txn != self.meta.txn + 1 || f.page == 0 {
                    break 'scan;
                }
                txn_pages.push((f.page, at));
                if let Some(meta) = f.commit {
                    if meta.root >= meta.page_count {
                        break 'scan;
                    }
                    report.frames_replayed += txn_pages.len() as u64;
                    report.txns_replayed += 1;
                    for (no, frame) in txn_pages.drain(..) {
                        self.wal_index.insert(no, frame);
                    }
                    self.meta = meta;
                    self.wal_end = at + FRAME_BYTES as u64;
                }
            }
            if got < frames as usize {
                break;
            }
            off += frames * FRAME_BYTES as u64;
        }
        self.sealed_meta = self.meta;
        self.durable_meta = self.meta;
        report.txn = self.meta.txn;
        Ok(report)
    }
}
