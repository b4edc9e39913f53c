//! The pagekv engine (`examples/pagekv/engine/`) end to end on MemoryIO,
//! DeferredIO (every completion waits for a step, so every resume path runs)
//! and SimIO: load, read back, delete, reopen, verify; with a small cache
//! and log so that evictions, page reads from the log and the data file,
//! splits up to a new root, and checkpoints all happen. Then the errors a
//! user can meet: a foreign file, a corrupt header or page, another format
//! version, a missing store, and a full disk, which must surface with
//! context, stop the store, and lose nothing acknowledged.
#![allow(missing_docs)]

#[path = "../examples/pagekv/engine/mod.rs"]
#[allow(dead_code)]
mod engine;

use std::path::Path;
use std::sync::Arc;

use engine::format::{HEADER_SLOT_BYTES, crc32};
use engine::{DATA_FILE, Engine, Error, Options, PAGE_SIZE};
use ratchet::sim::{FaultKind, SimConfig};
use ratchet::{Buffer, Completion, CompletionError, DeferredIO, IO, IOExt, MemoryIO, OpenOptions, SimIO};

const DIR: &str = "/kv";

fn small() -> Options {
    Options {
        cache_pages: 16,
        checkpoint_bytes: 40 * PAGE_SIZE as u64,
        checkpoint_batch: 5,
        direct: false,
    }
}

fn key(i: u64) -> Vec<u8> {
    format!("key-{:08}", i * 7919 % 100_003).into_bytes()
}

fn value(i: u64, round: u64) -> Vec<u8> {
    let mut v = format!("v{round}-{i}-").into_bytes();
    v.resize(20 + (i % 180) as usize, b'0' + (i % 10) as u8);
    v
}

fn write_file(io: &dyn IO, path: &Path, pos: u64, bytes: &[u8]) {
    let f = io.open_file(path, OpenOptions::new()).unwrap();
    let c = f
        .pwrite(
            pos,
            Arc::new(Buffer::from_vec(bytes.to_vec())),
            Completion::write(),
        )
        .unwrap();
    assert_eq!(io.wait(&c), Ok(bytes.len() as i32));
}

fn read_file(io: &dyn IO, path: &Path, pos: u64, len: usize) -> Vec<u8> {
    let f = io.open_file(path, OpenOptions::existing()).unwrap();
    let buf = Arc::new(Buffer::new(len));
    let c = f.pread(pos, Completion::read(buf.clone())).unwrap();
    io.wait(&c).unwrap();
    buf.to_vec()
}

/// Load, read back, delete, reopen, verify, on `io`.
fn end_to_end<I: IO>(io: &I) {
    let dir = Path::new(DIR);
    let n = 1500;
    let (mut e, report) = Engine::open_blocking(io, dir, true, small()).unwrap();
    assert!(report.created);
    for i in 0..n {
        io.block(|| e.put(&key(i), &value(i, 0))).unwrap();
        if i % 100 == 99 {
            e.commit().unwrap();
        }
        if i % 300 == 299 {
            let d = io.block(|| e.sync()).unwrap();
            assert_eq!(d, e.last_sealed());
        }
    }
    // Overwrite some, with longer values, in the same session.
    for i in (0..n).step_by(3) {
        io.block(|| e.put(&key(i), &value(i, 1))).unwrap();
    }
    e.commit().unwrap();
    io.block(|| e.sync()).unwrap();
    let expect = |i: u64| value(i, if i.is_multiple_of(3) { 1 } else { 0 });
    for i in (0..n).rev() {
        assert_eq!(io.block(|| e.get(&key(i))).unwrap(), Some(expect(i)), "key {i}");
    }
    for i in (0..n).filter(|i| i % 4 == 1) {
        assert!(io.block(|| e.delete(&key(i))).unwrap());
    }
    assert!(!io.block(|| e.delete(b"absent")).unwrap());
    e.commit().unwrap();
    let durable = io.block(|| e.sync()).unwrap();
    let stats = e.stats();
    assert!(
        stats.checkpoints > 0,
        "the small log forces checkpoints: {stats:?}"
    );
    assert!(
        stats.cache_misses > 0,
        "the small cache forces page reads: {stats:?}"
    );
    assert!(e.pager.meta.page_count > 40, "a tree of several levels");
    // Uncommitted changes are not durable: this one is lost on reopen.
    io.block(|| e.put(b"uncommitted", b"x")).unwrap();
    drop(e);

    let (mut e, report) = Engine::open_blocking(io, dir, false, small()).unwrap();
    assert!(!report.created);
    assert_eq!(report.txn, durable);
    for i in 0..n {
        let want = (i % 4 != 1).then(|| expect(i));
        assert_eq!(
            io.block(|| e.get(&key(i))).unwrap(),
            want,
            "key {i} after reopening"
        );
    }
    assert_eq!(io.block(|| e.get(b"uncommitted")).unwrap(), None);
    let all = io.block(|| e.scan()).unwrap();
    assert_eq!(all.len() as u64, (0..n).filter(|i| i % 4 != 1).count() as u64);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
    // A clean close (checkpoint) leaves an empty log, and a reopen needs
    // nothing from it.
    io.block(|| e.checkpoint()).unwrap();
    assert_eq!(e.pager.wal_bytes(), 0);
    drop(e);
    let (mut e, report) = Engine::open_blocking(io, dir, false, small()).unwrap();
    assert_eq!((report.log_bytes, report.txn), (0, durable));
    assert_eq!(io.block(|| e.scan()).unwrap(), all);
}

#[test]
fn end_to_end_on_memory() {
    end_to_end(&MemoryIO::new());
}

#[test]
fn end_to_end_on_deferred() {
    end_to_end(&DeferredIO::memory());
}

#[test]
fn end_to_end_on_sim_with_spurious_wakeups() {
    // `IOExt::block` on a SimIO re-enters each machine while its completion is
    // pending and checks that it starts nothing.
    let io = SimIO::new(
        SimConfig::with_seed(11)
            .reorder_probability(0.3)
            .spurious_wakeup_probability(0.3),
    );
    end_to_end(&io);
}

#[test]
fn a_log_left_by_a_crash_is_replayed() {
    let io = SimIO::new(SimConfig::with_seed(3));
    let dir = Path::new(DIR);
    let (mut e, _) = Engine::open_blocking(&io, dir, true, Options::default()).unwrap();
    for i in 0..300 {
        io.block(|| e.put(&key(i), &value(i, 0))).unwrap();
        if i % 50 == 49 {
            e.commit().unwrap();
            io.block(|| e.sync()).unwrap();
        }
    }
    io.block(|| e.put(b"unsynced", b"x")).unwrap();
    e.commit().unwrap();
    let acked = e.last_durable();
    io.crash();
    let (mut e, report) = Engine::open_blocking(&io, dir, false, Options::default()).unwrap();
    assert_eq!(report.txns_replayed, 6);
    assert_eq!(report.txn, acked);
    assert!(report.frames_replayed >= 6);
    for i in 0..300 {
        assert_eq!(io.block(|| e.get(&key(i))).unwrap(), Some(value(i, 0)));
    }
    assert_eq!(io.block(|| e.get(b"unsynced")).unwrap(), None);
    // Recovery checkpointed: the log is empty and the data file complete.
    assert_eq!(e.pager.wal_bytes(), 0);
    assert_eq!(
        io.durable_contents(&dir.join(engine::WAL_FILE)).map(|c| c.len()),
        Some(0)
    );
}

fn open_err(io: &MemoryIO, create: bool) -> Error {
    match Engine::open_blocking(io, Path::new(DIR), create, small()) {
        Ok(_) => panic!("opened a store that is not valid"),
        Err(e) => e,
    }
}

#[test]
fn a_foreign_file_is_refused() {
    let io = MemoryIO::new();
    let path = Path::new(DIR).join(DATA_FILE);
    write_file(&io, &path, 0, &b"SQLite format 3\0 but not really".repeat(100));
    let e = open_err(&io, true);
    assert!(matches!(e, Error::Foreign(_)), "{e:?}");
    assert!(e.to_string().contains("not a pagekv data file"), "{e}");
    // And the file was not touched.
    assert_eq!(&read_file(&io, &path, 0, 15), b"SQLite format 3");

    let io = MemoryIO::new();
    write_file(&io, &path, 0, b"");
    let e = open_err(&io, false);
    assert!(
        e.to_string()
            .contains("not a pagekv data file (the file is empty"),
        "{e}"
    );

    // Zeros no longer than a page are what a crash during creation leaves:
    // refused without `create`, created over with it.
    let io = MemoryIO::new();
    write_file(&io, &path, 0, &[0; 1024]);
    let e = open_err(&io, false);
    assert!(e.to_string().contains("the file is empty"), "{e}");
    let (_, report) = Engine::open_blocking(&io, Path::new(DIR), true, small()).unwrap();
    assert!(report.created);
    // Zeros beyond a page are not: that file held something else.
    let io = MemoryIO::new();
    write_file(&io, &path, 0, &[0; 2 * PAGE_SIZE]);
    let e = open_err(&io, true);
    assert!(matches!(e, Error::Foreign(_)), "{e:?}");

    let io = MemoryIO::new();
    let e = open_err(&io, false);
    assert!(matches!(e, Error::Open(_)), "{e:?}");
    assert!(e.to_string().contains("no pagekv store in /kv"), "{e}");
}

/// A store with a few committed keys, closed cleanly.
fn make_store(io: &MemoryIO) {
    let (mut e, _) = Engine::open_blocking(io, Path::new(DIR), true, small()).unwrap();
    for i in 0..200 {
        io.block(|| e.put(&key(i), &value(i, 0))).unwrap();
    }
    e.commit().unwrap();
    io.block(|| e.checkpoint()).unwrap();
}

#[test]
fn a_corrupt_header_is_refused() {
    let io = MemoryIO::new();
    make_store(&io);
    let path = Path::new(DIR).join(DATA_FILE);
    // Damage a byte inside both slots (the magic stays, the checksums fail).
    write_file(&io, &path, 20, &[0xFF]);
    write_file(&io, &path, (HEADER_SLOT_BYTES + 20) as u64, &[0xFF]);
    let e = open_err(&io, true);
    assert!(matches!(e, Error::Corrupt(_)), "{e:?}");
    assert!(e.to_string().contains("corrupt pagekv data file"), "{e}");
}

#[test]
fn one_damaged_header_slot_falls_back_to_the_other() {
    let io = MemoryIO::new();
    make_store(&io);
    let path = Path::new(DIR).join(DATA_FILE);
    // The checkpoint wrote generation 2 into slot 0; slot 1 still holds
    // generation 1, the empty store.
    write_file(&io, &path, 20, &[0xFF]);
    let (mut e, report) = Engine::open_blocking(&io, Path::new(DIR), false, small()).unwrap();
    assert_eq!(report.txn, 0);
    assert_eq!(io.block(|| e.get(&key(1))).unwrap(), None);
}

#[test]
fn another_version_is_refused() {
    let io = MemoryIO::new();
    make_store(&io);
    let path = Path::new(DIR).join(DATA_FILE);
    for slot in 0..2 {
        let at = slot * HEADER_SLOT_BYTES;
        let mut h = read_file(&io, &path, at as u64, 52);
        h[8..12].copy_from_slice(&9u32.to_le_bytes());
        let crc = crc32(&h[..48]);
        h[48..52].copy_from_slice(&crc.to_le_bytes());
        write_file(&io, &path, at as u64, &h);
    }
    let e = open_err(&io, false);
    assert!(matches!(e, Error::Unsupported(_)), "{e:?}");
    assert!(e.to_string().contains("format version 9"), "{e}");
}

#[test]
fn a_corrupt_page_is_reported_not_trusted() {
    let io = MemoryIO::new();
    make_store(&io);
    let path = Path::new(DIR).join(DATA_FILE);
    let (e, _) = Engine::open_blocking(&io, Path::new(DIR), false, small()).unwrap();
    let root = e.pager.meta.root;
    drop(e);
    write_file(&io, &path, root * PAGE_SIZE as u64 + 100, b"garbage");
    let (mut e, _) = Engine::open_blocking(&io, Path::new(DIR), false, small()).unwrap();
    let err = io.block(|| e.get(&key(3))).unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("page {root}: checksum mismatch")),
        "{err}"
    );
    // Writes are refused too, without damaging anything further.
    assert!(io.block(|| e.put(&key(3), b"x")).is_err());
}

#[test]
fn oversized_keys_and_values_are_refused() {
    let io = MemoryIO::new();
    let (mut e, _) = Engine::open_blocking(&io, Path::new(DIR), true, small()).unwrap();
    let err = io.block(|| e.put(&[b'k'; 200], b"v")).unwrap_err();
    assert!(err.to_string().contains("keys must be 1 to 128 bytes"), "{err}");
    let err = io.block(|| e.put(b"k", &[0; 600])).unwrap_err();
    assert!(
        err.to_string().contains("values must be at most 512 bytes"),
        "{err}"
    );
    // Largest entries still split cleanly.
    for i in 0..100u64 {
        let k = format!("{i:0>128}").into_bytes();
        io.block(|| e.put(&k, &[i as u8; 512])).unwrap();
    }
    assert_eq!(io.block(|| e.scan()).unwrap().len(), 100);
}

#[test]
fn a_full_disk_stops_the_store_and_loses_nothing_acknowledged() {
    let dir = Path::new(DIR);
    // Find the index of the first log write of the second group commit, by
    // running the same workload once without faults.
    let workload = |io: &SimIO, e: &mut Engine, from: u64| -> Result<u64, Error> {
        for i in from..from + 50 {
            io.block(|| e.put(&key(i), &value(i, 0)))?;
        }
        e.commit()?;
        io.block(|| e.sync())
    };
    let probe = SimIO::new(SimConfig::with_seed(5));
    let (mut e, _) = Engine::open_blocking(&probe, dir, true, Options::default()).unwrap();
    workload(&probe, &mut e, 0).unwrap();
    let second = probe.ops_submitted();

    let io = SimIO::new(SimConfig::with_seed(5).fault_at(second, FaultKind::NoSpace));
    let (mut e, _) = Engine::open_blocking(&io, dir, true, Options::default()).unwrap();
    let acked = workload(&io, &mut e, 0).unwrap();
    let err = workload(&io, &mut e, 50).unwrap_err();
    assert_eq!(
        err,
        Error::Io {
            context: "appending to the log",
            source: CompletionError::Io(std::io::ErrorKind::StorageFull)
        }
    );
    assert!(
        err.to_string().starts_with("appending to the log: I/O error"),
        "{err}"
    );
    // The store refuses further work, saying why.
    let again = io.block(|| e.put(b"more", b"x")).unwrap_err();
    assert!(matches!(again, Error::Failed(_)), "{again:?}");
    assert!(again.to_string().contains("reopen it"), "{again}");
    drop(e);
    // Reopening recovers exactly the acknowledged state.
    io.crash();
    let (mut e, report) = Engine::open_blocking(&io, dir, false, Options::default()).unwrap();
    assert_eq!(report.txn, acked);
    let all = io.block(|| e.scan()).unwrap();
    assert_eq!(all.len(), 50);
    for i in 0..50 {
        assert_eq!(io.block(|| e.get(&key(i))).unwrap(), Some(value(i, 0)));
    }
}

#[test]
fn replay_stops_at_the_first_torn_frame() {
    // Three transactions, each synced; then the first frame of the second
    // is damaged, as a crash can leave an unsynced log whose later writes
    // landed while an earlier one did not. The third transaction's frames
    // are intact, yet must not be replayed without the second.
    let io = MemoryIO::new();
    let dir = Path::new(DIR);
    let (mut e, _) = Engine::open_blocking(&io, dir, true, Options::default()).unwrap();
    let mut ends = Vec::new();
    for t in 0..3u64 {
        for i in 0..40 {
            io.block(|| e.put(&key(i), &value(i, t))).unwrap();
        }
        io.block(|| e.put(format!("only-in-{t}").as_bytes(), b"x"))
            .unwrap();
        e.commit().unwrap();
        io.block(|| e.sync()).unwrap();
        ends.push(e.pager.wal_bytes());
    }
    drop(e);
    let wal = dir.join(engine::WAL_FILE);
    write_file(&io, &wal, ends[0] + 200, b"torn");
    let (mut e, report) = Engine::open_blocking(&io, dir, false, Options::default()).unwrap();
    assert_eq!((report.txn, report.txns_replayed), (1, 1));
    for i in 0..40 {
        assert_eq!(io.block(|| e.get(&key(i))).unwrap(), Some(value(i, 0)));
    }
    assert_eq!(io.block(|| e.get(b"only-in-0")).unwrap(), Some(b"x".to_vec()));
    assert_eq!(io.block(|| e.get(b"only-in-2")).unwrap(), None);
    // The recovery checkpoint retired the old log: a new second transaction
    // is not confused with the old third one.
    io.block(|| e.put(b"new-2", b"y")).unwrap();
    assert_eq!(e.commit().unwrap(), 2);
    io.block(|| e.sync()).unwrap();
    drop(e);
    let (mut e, report) = Engine::open_blocking(&io, dir, false, Options::default()).unwrap();
    assert_eq!(report.txn, 2);
    assert_eq!(io.block(|| e.get(b"new-2")).unwrap(), Some(b"y".to_vec()));
    assert_eq!(io.block(|| e.get(b"only-in-1")).unwrap(), None);
    assert_eq!(io.block(|| e.get(b"only-in-2")).unwrap(), None);
}
