//! pagekv: a small key-value storage engine whose every I/O path is an
//! `#[io_state_machine]`.
//!
//! - [`format`]: page size, CRC-32, the data-file header (magic, version,
//!   page size, checkpoint generation, two checksummed slots), WAL frames
//!   and B+tree node pages (each with a checksum).
//! - [`pager`]: the page cache (clock replacement, pinned dirty pages), page
//!   allocation, sealing a transaction into log frames, and the `read`
//!   machine that finds a page in the cache, the log or the data file.
//! - [`wal`]: group commit (`flush`: a `CompletionGroup` of log writes and
//!   one sync) and recovery (`recover`: replay up to the last intact commit).
//! - [`checkpoint`]: copies logged pages into the data file in batches and
//!   retires the log, crash-safe at every step.
//! - [`btree`]: lookups, inserts with splits, deletes and scans.
//!
//! Durability contract: [`Engine::commit`] seals the changes made since the
//! last commit into a transaction; [`Engine::sync`] makes every sealed
//! transaction durable and returns the last one. After a crash, reopening
//! recovers exactly the state after some transaction `t` with
//! `last acknowledged <= t <= last sealed`: nothing acknowledged is lost and
//! no partial transaction is visible.

pub mod btree;
pub mod checkpoint;
pub mod format;
pub mod pager;
pub mod wal;

use std::path::Path;
use std::sync::Arc;

use ratchet::{File, IO, IOExt, IOResult, OpenOptions, call_io, io_state_machine, io_state_machines};

pub use format::{Error, PAGE_SIZE};
pub use pager::{Options, Pager, Stats};
pub use wal::RecoverReport;

use btree::{DeleteState, PutState};
pub use btree::{GetState, ScanState};

/// The data file's name inside a store's directory.
pub const DATA_FILE: &str = "pagekv.db";

/// The log's name inside a store's directory.
pub const WAL_FILE: &str = "pagekv.wal";

/// An open store.
pub struct Engine {
    /// Pages, cache, log and checkpoint.
    pub pager: Pager,
    /// The state of [`Engine::get`] and [`Engine::scan`], the forms for one
    /// request at a time.
    get_state: GetState,
    put_state: PutState,
    delete_state: DeleteState,
    scan_state: ScanState,
    open_state: OpenState,
    sync_state: SyncState,
    store_checkpoint_state: StoreCheckpointState,
}

impl Engine {
    /// Opens (with `create`, creating) the store's files in `dir`. Reads
    /// nothing: run [`Engine::open`] next, or use [`Engine::open_blocking`].
    pub fn open_files(io: &dyn IO, dir: &Path, create: bool, options: Options) -> Result<Engine, Error> {
        let data_path = dir.join(DATA_FILE);
        let wal_path = dir.join(WAL_FILE);
        let how = if create {
            OpenOptions::new()
        } else {
            OpenOptions::existing()
        };
        let data: Arc<dyn File> = io.open_file(&data_path, how).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound && !create {
                Error::Open(format!(
                    "no pagekv store in {} ({} not found)",
                    dir.display(),
                    DATA_FILE
                ))
            } else {
                Error::Open(format!("cannot open {}: {e}", data_path.display()))
            }
        })?;
        // A missing log is an empty one.
        let wal = io
            .open_file(&wal_path, OpenOptions::new())
            .map_err(|e| Error::Open(format!("cannot open {}: {e}", wal_path.display())))?;
        let data_reads = if options.direct {
            io.open_file(&data_path, OpenOptions::existing().direct(true))
                .map_err(|e| Error::Open(format!("cannot open {} with O_DIRECT: {e}", data_path.display())))?
        } else {
            data.clone()
        };
        Ok(Engine {
            pager: Pager::new(data, data_reads, wal, data_path.display().to_string(), options),
            get_state: GetState::default(),
            put_state: PutState::default(),
            delete_state: DeleteState::default(),
            scan_state: ScanState::default(),
            open_state: OpenState::default(),
            sync_state: SyncState::default(),
            store_checkpoint_state: StoreCheckpointState::default(),
        })
    }

    /// Opens the files and recovers the store, driving the machine with `io`.
    pub fn open_blocking<I: IO>(
        io: &I,
        dir: &Path,
        create: bool,
        options: Options,
    ) -> Result<(Engine, RecoverReport), Error> {
        let mut engine = Engine::open_files(io, dir, create, options)?;
        let report = io.block(|| engine.open(create))?;
        Ok((engine, report))
    }

    /// Seals the changes since the last commit into a transaction and returns
    /// its number (the last sealed one's if nothing changed). Durable only
    /// after [`Engine::sync`].
    pub fn commit(&mut self) -> Result<u64, Error> {
        self.pager.commit()
    }

    /// The last transaction sealed by `commit`.
    pub fn last_sealed(&self) -> u64 {
        self.pager.last_sealed()
    }

    /// The last transaction acknowledged durable by `sync`.
    pub fn last_durable(&self) -> u64 {
        self.pager.last_durable()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.pager.stats
    }

    /// [`Engine::get_with`] with a state the engine keeps, for callers that
    /// run one request at a time (`io.block(|| engine.get(key))`).
    pub fn get(&mut self, key: &[u8]) -> Result<IOResult<Option<Vec<u8>>>, Error> {
        let mut st = std::mem::take(&mut self.get_state);
        let r = self.get_with(&mut st, key);
        self.get_state = st;
        r
    }

    /// [`Engine::scan_with`] with a state the engine keeps, for callers that
    /// run one request at a time.
    pub fn scan(&mut self) -> Result<IOResult<Vec<btree::Entry>>, Error> {
        let mut st = std::mem::take(&mut self.scan_state);
        let r = self.scan_with(&mut st);
        self.scan_state = st;
        r
    }
}

#[io_state_machines]
impl Engine {
    /// Recovers the store from its files: header, log replay, and (when the
    /// log held anything) a checkpoint, so every open starts a fresh log
    /// generation.
    #[io_state_machine(state = self.open_state)]
    pub fn open(&mut self, create: bool) -> Result<IOResult<RecoverReport>, Error> {
        let report: RecoverReport = call_io!(self.pager.recover(create))?;
        if report.log_bytes > 0 {
            call_io!(self.pager.checkpoint())?;
        }
        Ok(report)
    }

    /// Group commit of every sealed transaction; runs a checkpoint afterwards
    /// when the log has grown past [`Options::checkpoint_bytes`]. Returns the
    /// last durable transaction.
    #[io_state_machine(state = self.sync_state)]
    pub fn sync(&mut self) -> Result<IOResult<u64>, Error> {
        let durable: u64 = call_io!(self.pager.flush())?;
        if self.pager.wal_bytes() >= self.pager.checkpoint_bytes {
            call_io!(self.pager.checkpoint())?;
        }
        Ok(durable)
    }

    /// Makes every sealed transaction durable and folds the log into the data
    /// file.
    #[io_state_machine(state = self.store_checkpoint_state, name = StoreCheckpointState)]
    pub fn checkpoint(&mut self) -> Result<IOResult<()>, Error> {
        call_io!(self.pager.checkpoint())
    }
}
