//! The checkpoint: copies the pages in the log into the data file, then
//! retires the log.
//!
//! Order, and why each crash point is safe:
//! 1. Group-commit whatever is sealed, so the log holds every page to copy.
//! 2. Copy each page's latest logged image into the data file, in batches
//!    (a `CompletionGroup` of reads from the log when the page is not cached,
//!    then one of writes). A crash here leaves torn data pages, but the
//!    header still names the old generation, so recovery replays the log
//!    over them.
//! 3. Sync the data file: the copies are durable.
//! 4. Write the header with the next generation into the slot the current
//!    one does not use, and sync. A torn slot fails its checksum and the old
//!    one wins; once the new one is durable, every frame in the log is stale
//!    (wrong generation), so the log is logically empty.
//! 5. Truncate the log and sync it: reclaims the space. A crash before it
//!    completes leaves stale frames that recovery ignores.

use std::sync::Arc;

use ratchet::{
    Buffer, Completion, CompletionError, CompletionGroup, IOResult, call_io, io_state_machine,
    io_state_machines, yield_io,
};

use super::format::{Error, FRAME_HEADER_BYTES, HEADER_SLOT_BYTES, Header, Node, PAGE_SIZE, Page, ctx};
use super::pager::Pager;

#[io_state_machines]
impl Pager {
    /// Folds the log into the data file and truncates it. Failures of writes
    /// or syncs stop the store: the log still holds everything, and reopening
    /// recovers it.
    #[io_state_machine(state = self.checkpoint_state)]
    pub fn checkpoint(&mut self) -> Result<IOResult<()>, Error> {
        self.check_usable()?;
        call_io!(self.flush())?;
        let mut pages: Vec<(u64, u64)> = self.wal_index.iter().map(|(&p, &f)| (p, f)).collect();
        pages.sort_unstable();
        let mut next: usize = 0;
        while next < pages.len() {
            let end: usize = (next + self.checkpoint_batch).min(pages.len());
            let mut images: Vec<(u64, Arc<Buffer>)> = Vec::with_capacity(end - next);
            let mut reads = CompletionGroup::new(|_| {});
            for &(no, frame) in &pages[next..end] {
                // A clean cached page is the logged image; a dirty one holds
                // uncommitted changes, so its image comes from the log.
                let cached = if self.dirty.contains(&no) {
                    None
                } else {
                    self.cache_peek(no)
                };
                match cached {
                    Some(node) => images.push((no, Arc::new(Buffer::from_vec(node.encode(no))))),
                    None => {
                        let buf = Arc::new(Buffer::new(PAGE_SIZE));
                        let c = ctx(
                            self.wal
                                .pread(frame + FRAME_HEADER_BYTES as u64, Completion::read(buf.clone())),
                            "checkpoint: reading the log",
                        )?;
                        reads.add(&c);
                        images.push((no, buf));
                    }
                }
            }
            let read_all: Completion = reads.build();
            let r: Result<i32, CompletionError> = yield_io!(read_all);
            ctx(r, "checkpoint: reading the log")?;
            let mut writes = CompletionGroup::new(|_| {});
            for (no, buf) in images {
                // Never copy an image that does not check out.
                Node::decode(&buf.as_slice(), no)
                    .map_err(|e| Error::Corrupt(format!("{}: log frame of {e}", self.data_path)))?;
                match self.data.pwrite(no * PAGE_SIZE as u64, buf, Completion::write()) {
                    Ok(c) => writes.add(&c),
                    Err(e) => {
                        writes.cancel();
                        return Err(self.fail(Error::io("checkpoint: writing the data file", e)));
                    }
                }
            }
            let write_all: Completion = writes.build();
            let w: Result<i32, CompletionError> = yield_io!(write_all);
            if let Err(e) = w {
                return Err(self.fail(Error::io("checkpoint: writing the data file", e)));
            }
            self.stats.pages_checkpointed += (end - next) as u64;
            next = end;
        }
        let synced: Result<i32, CompletionError> = match self.data.sync(Completion::sync_data()) {
            Ok(c) => yield_io!(c),
            Err(e) => Err(e),
        };
        if let Err(e) = synced {
            return Err(self.fail(Error::io("checkpoint: syncing the data file", e)));
        }
        let generation: u64 = self.generation + 1;
        let header = Header {
            generation,
            meta: self.durable_meta,
        };
        let at = (Header::slot_of(generation) * HEADER_SLOT_BYTES) as u64;
        let written: Result<i32, CompletionError> = match self.data.pwrite(
            at,
            Arc::new(Buffer::from_vec(header.encode())),
            Completion::write(),
        ) {
            Ok(c) => yield_io!(c),
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            return Err(self.fail(Error::io("checkpoint: writing the header", e)));
        }
        let synced: Result<i32, CompletionError> = match self.data.sync(Completion::sync_data()) {
            Ok(c) => yield_io!(c),
            Err(e) => Err(e),
        };
        if let Err(e) = synced {
            return Err(self.fail(Error::io("checkpoint: syncing the header", e)));
        }
        // The log is now stale as a whole: forget it before anything else can
        // be appended.
        self.generation = generation;
        self.wal_index.clear();
        self.wal_end = 0;
        // Readers that started before may still be reading frames: the log
        // is truncated (and later overwritten) only once they have their
        // bytes. New readers go to the data file. Their failures are theirs.
        let readers: Completion = self.log_reads_done();
        let _: Result<i32, CompletionError> = yield_io!(readers);
        let truncated: Result<i32, CompletionError> = match self.wal.truncate(0, Completion::truncate()) {
            Ok(c) => yield_io!(c),
            Err(e) => Err(e),
        };
        if let Err(e) = truncated {
            return Err(self.fail(Error::io("checkpoint: truncating the log", e)));
        }
        let synced: Result<i32, CompletionError> = match self.wal.sync(Completion::sync_data()) {
            Ok(c) => yield_io!(c),
            Err(e) => Err(e),
        };
        if let Err(e) = synced {
            return Err(self.fail(Error::io("checkpoint: syncing the truncated log", e)));
        }
        self.stats.checkpoints += 1;
        Ok(())
    }
}

impl Pager {
    fn cache_peek(&self, no: u64) -> Option<Arc<Page>> {
        self.cache.peek(no)
    }
}
