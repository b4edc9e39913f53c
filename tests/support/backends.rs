//! Every backend, fresh, each with its own temporary directory: the list the
//! behavioural suite (`tests/backends.rs`), the runtime-trust regressions
//! (`tests/runtime_trust.rs`) and the model test (`tests/runtime_model.rs`)
//! run against. A new backend joins by adding one line to [`backends`]. The
//! io_uring backend joins by itself as soon as
//! `io_for(Some(BackendKind::Uring))` can build it on this machine.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Once, OnceLock};

use ratchet::backend::{BackendKind, io_for};
use ratchet::{BlockingIO, Buffer, Completion, CompletionError, DeferredIO, File, IO, MemoryIO, OpenOptions};
use tempfile::TempDir;

/// One backend under test.
pub struct Backend {
    pub name: &'static str,
    pub io: Arc<dyn IO>,
    /// Where this backend's files go; removed when the test ends.
    pub dir: TempDir,
    /// Every completion stays pending until `step()` (DeferredIO): the suite
    /// then also checks that nothing finishes early.
    pub always_defers: bool,
    /// Files are real files, which `O_DIRECT` may refuse on some file systems.
    pub on_disk: bool,
}

impl Backend {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn create(&self, name: &str) -> Arc<dyn File> {
        self.io
            .open_file(&self.path(name), OpenOptions::new())
            .unwrap_or_else(|e| panic!("{}: open {name}: {e}", self.name))
    }

    /// Writes `data` at `pos` and waits for it.
    pub fn write(&self, file: &dyn File, pos: u64, data: &[u8]) {
        let c = file
            .pwrite(
                pos,
                Arc::new(Buffer::from_vec(data.to_vec())),
                Completion::write(),
            )
            .unwrap();
        if self.always_defers {
            assert!(!c.finished(), "{}: a write finished before step()", self.name);
        }
        assert_eq!(
            self.io.wait(&c),
            Ok(i32::try_from(data.len()).unwrap()),
            "{}",
            self.name
        );
    }

    /// Reads `len` bytes at `pos` into a buffer pre-filled with `fill`;
    /// returns the result and the whole buffer.
    pub fn read(
        &self,
        file: &dyn File,
        pos: u64,
        len: usize,
        fill: u8,
    ) -> (Result<i32, CompletionError>, Vec<u8>) {
        let buf = Arc::new(Buffer::from_vec(vec![fill; len]));
        let c = file.pread(pos, Completion::read(buf.clone())).unwrap();
        if self.always_defers {
            assert!(!c.finished(), "{}: a read finished before step()", self.name);
        }
        (self.io.wait(&c), buf.to_vec())
    }

    /// Runs `op`'s completion to the end and returns its outcome.
    pub fn run(&self, c: Result<Completion, CompletionError>) -> Result<i32, CompletionError> {
        let c = c?;
        if self.always_defers {
            assert!(
                !c.finished(),
                "{}: an operation finished before step()",
                self.name
            );
        }
        self.io.wait(&c)
    }
}

/// A fresh instance of every backend, each with its own temporary directory.
pub fn backends() -> Vec<Backend> {
    let mut all = vec![
        backend("blocking", Arc::new(BlockingIO::new()), false, true),
        backend("memory", Arc::new(MemoryIO::new()), false, false),
        backend("deferred(memory)", Arc::new(DeferredIO::memory()), true, false),
        backend(
            "deferred(blocking)",
            Arc::new(DeferredIO::new(BlockingIO::new())),
            true,
            true,
        ),
        backend("sim", Arc::new(ratchet::SimIO::default()), true, false),
    ];
    match io_for(Some(BackendKind::Uring)) {
        Ok(io) => {
            all.push(backend("uring", io, false, true));
            // DeferredIO over a backend that finishes asynchronously: its
            // step() must drive the inner backend until results arrive.
            if let Ok(inner) = io_for(Some(BackendKind::Uring)) {
                all.push(backend(
                    "deferred(uring)",
                    Arc::new(DeferredIO::wrap(inner)),
                    true,
                    true,
                ));
            }
        }
        Err(reason) => {
            static SAID: Once = Once::new();
            SAID.call_once(|| eprintln!("backends: io_uring not tested here: {reason}"));
        }
    }
    all
}

pub fn backend(name: &'static str, io: Arc<dyn IO>, always_defers: bool, on_disk: bool) -> Backend {
    let dir = tempfile::Builder::new()
        .prefix("ratchet-backends-")
        .tempdir_in(scratch_root())
        .expect("create a temporary directory");
    Backend {
        name,
        io,
        dir,
        always_defers,
        on_disk,
    }
}

/// Runs `test` on every backend, naming each first so a failure's captured
/// output says which backend it was.
pub fn each(test: impl Fn(&Backend)) {
    for b in backends() {
        eprintln!("--- {}", b.name);
        test(&b);
    }
}

/// A directory for temporary files, preferring one on a file system that
/// accepts `O_DIRECT` (tmpfs refuses it with `EINVAL` at open): the target
/// directory's scratch space first, then `/var/tmp`, then the system default.
pub fn scratch_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let candidates = [
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
            PathBuf::from("/var/tmp"),
            std::env::temp_dir(),
        ];
        candidates
            .iter()
            .find(|dir| accepts_direct_io(dir))
            .unwrap_or(&candidates[2])
            .clone()
    })
}

pub fn accepts_direct_io(dir: &Path) -> bool {
    let Ok(probe) = tempfile::Builder::new()
        .prefix("ratchet-direct-probe-")
        .tempdir_in(dir)
    else {
        return false;
    };
    BlockingIO::new()
        .open_file(&probe.path().join("probe"), OpenOptions::new().direct(true))
        .is_ok()
}

/// Deterministic, position-dependent bytes, so a misplaced byte is caught.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Runs `body` on another thread and fails if it has not returned within
/// `secs` seconds: a hang becomes a failure instead of a stuck test run. A
/// panic of `body` is a failure too.
pub fn within(what: &str, secs: u64, body: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        let _ = tx.send(r.is_ok());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(true) => worker.join().unwrap(),
        Ok(false) => {
            // The worker's panic message is already printed.
            let _ = worker.join();
            panic!("{what}: failed (see the panic above)");
        }
        Err(_) => panic!("{what}: did not finish within {secs} s: it hangs"),
    }
}
