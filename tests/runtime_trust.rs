//! Regression tests of the runtime-trust findings (issue 12): each test is
//! named after what was found, failed on the code before the fix, and runs on
//! every backend where the finding concerns them all.
//!
//! A test that could hang on a broken runtime runs under a watchdog
//! ([`within`]), which turns the hang into a failure naming the test.

#[path = "support/backends.rs"]
mod support_backends;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ratchet::sim::SimConfig;
use ratchet::{
    Buffer, Completion, CompletionError, CompletionGroup, DIRECT_IO_ALIGN, File, IO, OpenOptions, SimIO,
};
use support_backends::{Backend, backends, each, scratch_root, within};

/// A fresh directory on the file system the backends use, for io_uring
/// tests that need FIFOs or real files.
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("ratchet-trust-{name}-"))
        .tempdir_in(scratch_root())
        .unwrap()
}

#[cfg(target_os = "linux")]
fn uring(options: ratchet::uring::UringOptions) -> Option<ratchet::UringIO> {
    match options.build() {
        Ok(io) => Some(io),
        Err(e) => {
            eprintln!("skipped: io_uring unavailable here: {e}");
            None
        }
    }
}

fn fifo(dir: &Path) -> Option<PathBuf> {
    let path = dir.join("fifo");
    match std::process::Command::new("mkfifo").arg(&path).status() {
        Ok(s) if s.success() => Some(path),
        other => {
            eprintln!("skipped: cannot create a FIFO with mkfifo: {other:?}");
            None
        }
    }
}

// ---------------------------------------------------------------------------
// 1. Unchecked size arithmetic

#[test]
fn unchecked_alignment_overflow_is_refused() {
    // `len + align - 1` wrapped to 100 bytes of storage for a buffer that
    // claimed a length near usize::MAX.
    // It must be refused, in release builds too, with a message that says
    // why (not an arithmetic-overflow panic of a debug build).
    let made = catch_unwind(|| Buffer::with_alignment(100usize.wrapping_sub(4095), 4096));
    match made {
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            assert!(msg.contains("exceeds isize::MAX"), "unclear refusal: {msg}");
        }
        Ok(buf) => panic!(
            "Buffer::with_alignment accepted an impossible size: it claims {} bytes",
            buf.len()
        ),
    }
    // (Buffer::try_with_alignment returns the refusal as an error.)
    assert!(catch_unwind(|| Buffer::with_alignment(16, usize::MAX)).is_err());
    // Lengths that sum past what a completion can report are refused at the
    // call on every backend, whatever the sum would wrap to.
    each(|b| {
        let file = b.create("long");
        let mib = Arc::new(Buffer::new(1 << 20));
        let c = Completion::write();
        let r = file.pwritev(0, vec![mib; 2049], c.clone());
        assert!(
            matches!(r, Err(CompletionError::InvalidArgument(_))),
            "{}: {r:?}",
            b.name
        );
        assert_eq!(c.result(), Some(Err(r.unwrap_err())), "{}", b.name);
        assert_eq!(file.size(), Ok(0), "{}", b.name);
    });
}

// ---------------------------------------------------------------------------
// 2. A view changing under its guard

#[test]
fn a_view_of_a_buffer_being_read_into_never_changes() {
    for b in backends() {
        let name = b.name;
        within(name, 30, move || {
            let file = b.create("data");
            b.write(&*file, 0, &[0xab; 64]);
            let buf = Arc::new(Buffer::new(64));
            let c = file.pread(0, Completion::read(buf.clone())).unwrap();
            // Either the view is refused while the read is in flight, or the
            // read has already finished and the view never changes.
            let seen = catch_unwind(AssertUnwindSafe(|| {
                let view = buf.as_slice();
                let before = view.to_vec();
                let _ = b.io.wait(&c);
                (before, view.to_vec())
            }));
            if let Ok((before, after)) = seen {
                assert_eq!(before, after, "{name}: a view changed under its guard");
            }
            assert_eq!(b.io.wait(&c), Ok(64), "{name}");
            assert_eq!(buf.to_vec(), vec![0xab; 64], "{name}");
        });
    }
}

// ---------------------------------------------------------------------------
// 3. pwrite of a buffer the caller is reading

#[test]
fn pwrite_of_a_buffer_being_read_does_not_deadlock() {
    for b in backends() {
        let name = b.name;
        within(name, 30, move || {
            let file = b.create("page");
            let page = Arc::new(Buffer::from_vec(b"0123456789".to_vec()));
            // Checksumming the page while it is written out.
            let view = page.as_slice();
            let c = file.pwrite(0, page.clone(), Completion::write()).unwrap();
            assert_eq!(b.io.wait(&c), Ok(10), "{name}");
            assert_eq!(&*view, b"0123456789");
            drop(view);
            let (res, got) = b.read(&*file, 0, 10, 0);
            assert_eq!((res, got), (Ok(10), b"0123456789".to_vec()), "{name}");
        });
    }
}

// ---------------------------------------------------------------------------
// 4. Cancel of a full ring

#[cfg(target_os = "linux")]
#[test]
fn cancel_of_1024_pending_reads_ends() {
    within("cancel_of_1024_pending_reads_ends", 60, || {
        let Some(io) = uring(ratchet::uring::UringOptions::new()) else {
            return;
        };
        let dir = scratch("cancel1024");
        let Some(path) = fifo(dir.path()) else { return };
        let file = io.open_file(&path, OpenOptions::existing()).unwrap();
        let probe = io
            .open_file(&dir.path().join("other"), OpenOptions::new())
            .unwrap();
        // A write, then the reads: the step that finishes the write hands
        // the kernel as many reads as the ring takes, which never finish.
        let round = |byte: u8| {
            let w = probe
                .pwrite(0, Arc::new(Buffer::from_vec(vec![byte])), Completion::write())
                .unwrap();
            let reads: Vec<Completion> = (0..1024)
                .map(|_| {
                    file.pread(0, Completion::read(Arc::new(Buffer::new(16))))
                        .unwrap()
                })
                .collect();
            assert_eq!(io.wait(&w), Ok(1));
            reads
        };
        let reads = round(b'x');
        for r in &reads {
            r.abort();
        }
        while reads.iter().any(|r| !r.device_released()) {
            io.step().unwrap();
        }
        assert_eq!(io.stats().live, 0);
        // And again, dropped without aborting or stepping: the drop ends,
        // and aborts every read.
        let more = round(b'y');
        drop(io);
        for r in &more {
            assert_eq!(r.result(), Some(Err(CompletionError::Aborted)));
            assert!(r.device_released());
        }
    });
}

// ---------------------------------------------------------------------------
// 5. SINGLE_ISSUER theft

#[cfg(target_os = "linux")]
#[test]
fn a_thread_that_only_issues_never_takes_the_ring() {
    within("a_thread_that_only_issues_never_takes_the_ring", 60, || {
        let Some(io) = uring(ratchet::uring::UringOptions::new()) else {
            return;
        };
        let io = Arc::new(io);
        let dir = scratch("issuer");
        let path = dir.path().join("data");
        std::fs::write(&path, vec![7u8; 4096]).unwrap();
        let file = io.open_file(&path, OpenOptions::existing()).unwrap();
        // More reads than the submission queue holds, from a thread that
        // never steps.
        let reads = std::thread::spawn(move || {
            (0..257)
                .map(|_| {
                    file.pread(0, Completion::read(Arc::new(Buffer::new(4096))))
                        .unwrap()
                })
                .collect::<Vec<_>>()
        })
        .join()
        .unwrap();
        for r in &reads {
            assert_eq!(io.wait(r), Ok(4096));
        }
    });
}

// ---------------------------------------------------------------------------
// 6. A panicking callback

/// Three reads with callbacks, the second of which panics; a group over all
/// three. Returns them and the count of callbacks that ran.
fn three_reads_one_panicking(file: &dyn File, ran: &Arc<AtomicUsize>) -> (Vec<Completion>, Completion, bool) {
    let mut group = CompletionGroup::default();
    let mut reads = Vec::new();
    let mut panicked_at_call = false;
    for i in 0..3 {
        let ran = ran.clone();
        let c = Completion::read(Arc::new(Buffer::new(8))).with_callback(move |_| {
            ran.fetch_add(1, Ordering::SeqCst);
            assert_ne!(i, 1, "callback 1 panics");
        });
        group.add(&c);
        // Inline backends run the callback inside the call.
        match catch_unwind(AssertUnwindSafe(|| file.pread(0, c.clone()))) {
            Ok(r) => {
                r.unwrap();
            }
            Err(_) => panicked_at_call = true,
        }
        reads.push(c);
    }
    (reads, group.build(), panicked_at_call)
}

#[test]
fn a_panicking_callback_loses_no_completion() {
    for b in backends() {
        let name = b.name;
        within(name, 30, move || {
            let file = b.create("data");
            b.write(&*file, 0, &[1; 8]);
            let ran = Arc::new(AtomicUsize::new(0));
            let (reads, all, panicked_at_call) = three_reads_one_panicking(&*file, &ran);
            let stepped = catch_unwind(AssertUnwindSafe(|| b.io.wait(&all)));
            assert!(
                panicked_at_call || stepped.is_err(),
                "{name}: the panic must reach the caller"
            );
            if stepped.is_err() {
                // The rest of the batch may need another step.
                while !all.finished() {
                    b.io.step().unwrap();
                }
            }
            assert_eq!(ran.load(Ordering::SeqCst), 3, "{name}: every callback ran");
            for (i, r) in reads.iter().enumerate() {
                assert_eq!(r.result(), Some(Ok(8)), "{name}: read {i}");
            }
            assert_eq!(all.result(), Some(Ok(0)), "{name}: the group finished");
            assert_eq!(b.io.step(), Ok(0), "{name}: nothing left in flight");
        });
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_panicking_callback_leaves_no_delivery_counted_on_a_shared_ring() {
    within("a_panicking_callback_leaves_no_delivery_counted", 30, || {
        let Some(io) = uring(ratchet::uring::UringOptions::new().single_issuer(false)) else {
            return;
        };
        let io = Arc::new(io);
        let dir = scratch("panic-shared");
        let file = io.open_file(&dir.path().join("f"), OpenOptions::new()).unwrap();
        let c = file
            .pwrite(
                0,
                Arc::new(Buffer::new(8)),
                Completion::write().with_callback(|_| panic!("callback panics")),
            )
            .unwrap();
        assert!(catch_unwind(AssertUnwindSafe(|| io.wait(&c))).is_err());
        assert!(c.finished());
        // Another thread's step must not wait for a delivery that ended.
        let other = io.clone();
        std::thread::spawn(move || assert_eq!(other.step(), Ok(0)))
            .join()
            .unwrap();
    });
}

// ---------------------------------------------------------------------------
// 7. One answer per bad input

/// Where an error was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The call returned it (and finished the completion with it).
    Call,
    /// The completion finished with it.
    Completion,
}

type Row = (
    &'static str,
    fn(&Backend) -> Result<Completion, CompletionError>,
    Result<i32, CompletionError>,
    Place,
);

fn rw(b: &Backend) -> Arc<dyn File> {
    b.create("rw")
}

fn ro(b: &Backend) -> Arc<dyn File> {
    drop(b.create("ro"));
    b.io.open_file(&b.path("ro"), OpenOptions::read_only()).unwrap()
}

fn buf(len: usize) -> Arc<Buffer> {
    Arc::new(Buffer::new(len))
}

const PAST_MAX: CompletionError =
    CompletionError::InvalidArgument("file offset beyond the largest the kernel accepts (i64::MAX)");
const TOO_LONG: CompletionError =
    CompletionError::InvalidArgument("a single operation may transfer at most i32::MAX bytes; split it");
const NOT_A_READ: CompletionError = CompletionError::InvalidArgument(
    "pread needs a read completion: create it with `Completion::read(buffer)`",
);
const READ_ONLY: CompletionError = CompletionError::Io(std::io::ErrorKind::PermissionDenied);
const TOO_LARGE: CompletionError = CompletionError::Io(std::io::ErrorKind::FileTooLarge);

const ROWS: &[Row] = &[
    (
        "pread 4096 B @ i64::MAX-10",
        |b| rw(b).pread(i64::MAX as u64 - 10, Completion::read(buf(4096))),
        Err(PAST_MAX),
        Place::Call,
    ),
    (
        "pread 1 B @ u64::MAX",
        |b| rw(b).pread(u64::MAX, Completion::read(buf(1))),
        Err(PAST_MAX),
        Place::Call,
    ),
    (
        "pwrite 0 B @ u64::MAX",
        |b| rw(b).pwrite(u64::MAX, buf(0), Completion::write()),
        Err(PAST_MAX),
        Place::Call,
    ),
    (
        "pwrite 1 B @ i64::MAX",
        |b| rw(b).pwrite(i64::MAX as u64, buf(1), Completion::write()),
        Err(PAST_MAX),
        Place::Call,
    ),
    (
        "pwrite through a read-only handle",
        |b| ro(b).pwrite(0, buf(4), Completion::write()),
        Err(READ_ONLY),
        Place::Call,
    ),
    (
        "pwritev through a read-only handle",
        |b| ro(b).pwritev(0, vec![buf(4), buf(4)], Completion::write()),
        Err(READ_ONLY),
        Place::Call,
    ),
    (
        "truncate through a read-only handle",
        |b| ro(b).truncate(0, Completion::truncate()),
        Err(READ_ONLY),
        Place::Call,
    ),
    (
        "truncate(u64::MAX)",
        |b| rw(b).truncate(u64::MAX, Completion::truncate()),
        Err(PAST_MAX),
        Place::Call,
    ),
    (
        "truncate(i64::MAX)",
        |b| rw(b).truncate(i64::MAX as u64, Completion::truncate()),
        Err(TOO_LARGE),
        Place::Completion,
    ),
    (
        "pwrite 1 B @ i64::MAX-1",
        |b| rw(b).pwrite(i64::MAX as u64 - 1, buf(1), Completion::write()),
        Err(TOO_LARGE),
        Place::Completion,
    ),
    (
        "pread with a write completion",
        |b| rw(b).pread(0, Completion::write()),
        Err(NOT_A_READ),
        Place::Call,
    ),
    (
        "pwritev of 2049 MiB",
        |b| rw(b).pwritev(0, vec![buf(1 << 20); 2049], Completion::write()),
        Err(TOO_LONG),
        Place::Call,
    ),
    (
        "pread 0 B @ 0",
        |b| rw(b).pread(0, Completion::read(buf(0))),
        Ok(0),
        Place::Completion,
    ),
    (
        "pwrite 0 B @ i64::MAX",
        |b| rw(b).pwrite(i64::MAX as u64, buf(0), Completion::write()),
        Ok(0),
        Place::Completion,
    ),
    (
        "pwritev of no buffers",
        |b| rw(b).pwritev(0, Vec::new(), Completion::write()),
        Ok(0),
        Place::Completion,
    ),
    (
        "pread through a read-only handle",
        |b| ro(b).pread(0, Completion::read(buf(4))),
        Ok(0),
        Place::Completion,
    ),
];

/// Runs `row` on `b`: the outcome, and where it was reported.
fn outcome(b: &Backend, row: &Row) -> (Result<i32, CompletionError>, Place) {
    match (row.1)(b) {
        Err(e) => (Err(e), Place::Call),
        Ok(c) => (b.io.wait(&c), Place::Completion),
    }
}

#[test]
fn backends_agree_on_bad_input() {
    let mut disagreements = Vec::new();
    for b in backends() {
        for row in ROWS {
            let got = outcome(&b, row);
            if got != (row.2, row.3) {
                disagreements.push(format!(
                    "{}: {}: got {:?}, expected {:?}",
                    b.name,
                    row.0,
                    got,
                    (row.2, row.3)
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn o_direct_misalignment_gets_one_answer_everywhere() {
    for b in backends() {
        let path = b.path("direct");
        drop(b.create("direct"));
        let Ok(file) = b.io.open_file(&path, OpenOptions::existing().direct(true)) else {
            eprintln!("{}: O_DIRECT refused by this file system", b.name);
            continue;
        };
        let aligned = Arc::new(Buffer::new_aligned(DIRECT_IO_ALIGN));
        let cases: [(&str, Result<Completion, CompletionError>, &str); 3] = [
            (
                "offset",
                file.pwrite(1, aligned.clone(), Completion::write()),
                "offset",
            ),
            (
                "length",
                file.pwrite(0, Arc::new(Buffer::new_aligned(100)), Completion::write()),
                "lengths",
            ),
            (
                "address",
                file.pread(0, Completion::read(Arc::new(unaligned()))),
                "aligned buffers",
            ),
        ];
        for (what, r, says) in cases {
            match r {
                Err(CompletionError::InvalidArgument(m)) if m.contains(says) => {}
                other => panic!("{}: misaligned {what}: {other:?}", b.name),
            }
        }
    }
}

/// A buffer at an address that is not a multiple of `DIRECT_IO_ALIGN` (the
/// allocator rarely hands out such an address for 4 KiB; those it does are
/// kept until one is not).
fn unaligned() -> Buffer {
    let mut aligned_ones = Vec::new();
    loop {
        let b = Buffer::new(DIRECT_IO_ALIGN);
        if !b.is_aligned_to(DIRECT_IO_ALIGN) {
            return b;
        }
        aligned_ones.push(b);
    }
}

// ---------------------------------------------------------------------------
// 8. The device-holds mark

#[test]
fn a_completion_already_in_flight_is_refused() {
    for b in backends()
        .into_iter()
        .filter(|b| b.always_defers || b.name == "uring")
    {
        let file = b.create("data");
        b.write(&*file, 0, b"abcd");
        let c = Completion::read(buf(4));
        let first = file.pread(0, c.clone());
        assert!(first.is_ok(), "{}", b.name);
        if c.finished() {
            // io_uring may have finished a cached read at once.
            continue;
        }
        let second = file.pread(0, c.clone());
        assert!(
            matches!(second, Err(CompletionError::InvalidArgument(m)) if m.contains("already in flight")),
            "{}: {second:?}",
            b.name
        );
        assert!(!c.finished(), "{}: the refusal left the first read alone", b.name);
        assert_eq!(b.io.wait(&c), Ok(4), "{}", b.name);
        assert!(c.device_released(), "{}", b.name);
        assert_eq!(b.io.step(), Ok(0), "{}: no second read in flight", b.name);
    }
}

// ---------------------------------------------------------------------------
// 9. add after cancel

#[test]
fn add_after_cancel_aborts_the_new_child() {
    let group = Arc::new(Mutex::new(CompletionGroup::default()));
    let late = Completion::pending();
    let g = group.clone();
    let l = late.clone();
    let first = Completion::new(move |_| {
        // The callback of a child runs while the group is cancelled, and
        // starts more work in the same group.
        g.lock().unwrap().cancel();
        g.lock().unwrap().add(&l);
    });
    let all = {
        let mut g = group.lock().unwrap();
        g.add(&first);
        g.build()
    };
    first.complete(1);
    assert_eq!(late.result(), Some(Err(CompletionError::Aborted)));
    assert_eq!(all.result(), Some(Err(CompletionError::Aborted)));
}

// ---------------------------------------------------------------------------
// 10. wait inside a callback

#[test]
fn wait_inside_a_callback_on_a_sibling_works() {
    let mut list = backends();
    // Inline backends run the first callback before the second write is
    // even issued; equal latencies make the sim deliver both in one step.
    list.retain(|b| b.always_defers && b.name != "sim" || b.name == "uring");
    let sim_dir = tempfile::tempdir().unwrap();
    list.push(Backend {
        name: "sim(fixed latency)",
        io: Arc::new(SimIO::new(
            SimConfig::with_seed(3).latency(ratchet::sim::Latency::Fixed(1000)),
        )),
        dir: sim_dir,
        always_defers: true,
        on_disk: false,
    });
    for b in list {
        let name = b.name;
        within(name, 30, move || {
            let file = b.create("data");
            let second = Completion::write();
            let seen = Arc::new(Mutex::new(None));
            let (io, s2, out) = (b.io.clone(), second.clone(), seen.clone());
            let first = Completion::write().with_callback(move |_| {
                *out.lock().unwrap() = Some(io.wait(&s2));
            });
            file.pwrite(0, buf(4), first.clone()).unwrap();
            file.pwrite(4, buf(4), second.clone()).unwrap();
            assert_eq!(b.io.wait(&first), Ok(4), "{name}");
            assert_eq!(*seen.lock().unwrap(), Some(Ok(4)), "{name}: wait on a sibling");
            assert_eq!(b.io.wait(&second), Ok(4), "{name}");
        });
    }
}

// ---------------------------------------------------------------------------
// Also examined: two threads stepping one ring

#[cfg(target_os = "linux")]
#[test]
fn two_threads_stepping_one_ring_miss_no_wakeup() {
    within("two_threads_stepping_one_ring_miss_no_wakeup", 60, || {
        let Some(io) = uring(ratchet::uring::UringOptions::new().single_issuer(false)) else {
            return;
        };
        let io = Arc::new(io);
        let dir = scratch("two-steppers");
        let Some(path) = fifo(dir.path()) else { return };
        let pipe = io.open_file(&path, OpenOptions::existing()).unwrap();
        let file = io.open_file(&dir.path().join("f"), OpenOptions::new()).unwrap();
        // An operation that never finishes by itself, waited on by a second
        // thread that keeps stepping (and so reaps this thread's
        // completions too).
        let never = pipe.pread(0, Completion::read(buf(16))).unwrap();
        let (other, n) = (io.clone(), never.clone());
        let stepper = std::thread::spawn(move || other.wait(&n));
        for i in 0..200u64 {
            let w = file.pwrite(i, buf(1), Completion::write()).unwrap();
            assert_eq!(io.wait(&w), Ok(1), "write {i}");
        }
        io.cancel(&never);
        assert_eq!(stepper.join().unwrap(), Err(CompletionError::Aborted));
    });
}

/// The lost wake-up behind the test above, made deterministic: another
/// thread reaps this thread's write after this thread's last step returned
/// and before its next one began. That step must return (the caller looks
/// at its completion again) rather than wait in the kernel for something
/// else to finish, here a read of an empty pipe that never does. It waited
/// for ever: the step only counted what others finished after it began.
#[cfg(target_os = "linux")]
#[test]
fn a_step_sees_what_another_thread_reaped_meanwhile() {
    within("a_step_sees_what_another_thread_reaped_meanwhile", 60, || {
        let Some(io) = uring(ratchet::uring::UringOptions::new().single_issuer(false)) else {
            return;
        };
        let io = Arc::new(io);
        let dir = scratch("step-after-reap");
        let Some(path) = fifo(dir.path()) else { return };
        let pipe = io.open_file(&path, OpenOptions::existing()).unwrap();
        let file = io.open_file(&dir.path().join("f"), OpenOptions::new()).unwrap();
        let never = pipe.pread(0, Completion::read(buf(16))).unwrap();
        let first = file.pwrite(0, buf(1), Completion::write()).unwrap();
        assert_eq!(io.wait(&first), Ok(1));
        let second = file.pwrite(1, buf(1), Completion::write()).unwrap();
        let (other, w) = (io.clone(), second.clone());
        std::thread::spawn(move || assert_eq!(other.wait(&w), Ok(1)))
            .join()
            .unwrap();
        assert!(second.finished());
        assert!(
            io.step().unwrap() > 0,
            "a completion was finished since the last step"
        );
        io.cancel(&never);
        assert_eq!(io.wait(&never), Err(CompletionError::Aborted));
    });
}

// ---------------------------------------------------------------------------
// Found by the model test: a stepping thread that exits

/// The kernel cancels the requests a thread submitted when that thread
/// exits. On a shared ring any thread's step submits everyone's
/// operations, so a thread that stepped once and ended took others'
/// operations with it: they ended `Aborted` though nobody aborted them
/// (3 of 800,000 runs of the model test, all `uring(shared)`). The backend
/// now submits such an operation again.
#[cfg(target_os = "linux")]
#[test]
fn an_operation_outlives_the_thread_that_submitted_it() {
    within("an_operation_outlives_the_thread_that_submitted_it", 60, || {
        let Some(io) = uring(ratchet::uring::UringOptions::new().single_issuer(false)) else {
            return;
        };
        let io = Arc::new(io);
        let dir = scratch("submitter-exits");
        let Some(path) = fifo(dir.path()) else { return };
        let pipe = io.open_file(&path, OpenOptions::existing()).unwrap();
        let file = io.open_file(&dir.path().join("f"), OpenOptions::new()).unwrap();
        let buf = Arc::new(Buffer::new(4));
        let read = pipe.pread(0, Completion::read(buf.clone())).unwrap();
        // Another thread steps (submitting the read too) and exits.
        let (other, f) = (io.clone(), file.clone());
        std::thread::spawn(move || {
            let w = f
                .pwrite(0, Arc::new(Buffer::new(1)), Completion::write())
                .unwrap();
            assert_eq!(other.wait(&w), Ok(1));
        })
        .join()
        .unwrap();
        // Give the kernel's cancellation at thread exit time to land.
        std::thread::sleep(Duration::from_millis(50));
        let mut writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        std::io::Write::write_all(&mut writer, b"data").unwrap();
        assert_eq!(io.wait(&read), Ok(4), "the read was not aborted by anyone");
        assert_eq!(buf.to_vec(), b"data");
    });
}
