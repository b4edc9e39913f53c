//! One behavioural suite, run against every backend.
//!
//! Each test asks `backends()` (tests/support/backends.rs) for a fresh
//! instance of every backend, each with its own temporary directory, and
//! runs the same steps on all of them; a failure names the backend.

#[path = "support/backends.rs"]
mod support_backends;
use support_backends::{each, pattern, scratch_root};

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ratchet::{
    BlockingIO, Buffer, Completion, CompletionError, CompletionGroup, DIRECT_IO_ALIGN, DeferredIO, File, IO,
    IOResult, MemoryIO, OpenOptions, io_yield_one, return_if_io,
};

#[test]
fn write_then_read_back() {
    each(|b| {
        let file = b.create("data");
        let data = pattern(10_000, 1);
        b.write(&*file, 0, &data);
        assert_eq!(file.size(), Ok(10_000), "{}", b.name);
        let (res, got) = b.read(&*file, 0, 10_000, 0);
        assert_eq!(res, Ok(10_000), "{}", b.name);
        assert_eq!(got, data, "{}", b.name);
        // An overwrite in the middle changes exactly those bytes.
        b.write(&*file, 4000, b"middle");
        let (res, got) = b.read(&*file, 3998, 10, 0);
        assert_eq!(res, Ok(10), "{}", b.name);
        assert_eq!(&got[..2], &data[3998..4000], "{}", b.name);
        assert_eq!(&got[2..8], b"middle", "{}", b.name);
        assert_eq!(&got[8..], &data[4006..4008], "{}", b.name);
    });
}

#[test]
fn read_across_eof_returns_the_bytes_that_exist_and_leaves_the_tail_untouched() {
    each(|b| {
        let file = b.create("short");
        let data = pattern(100, 7);
        b.write(&*file, 0, &data);
        let (res, got) = b.read(&*file, 40, 256, 0xEE);
        assert_eq!(res, Ok(60), "{}", b.name);
        assert_eq!(&got[..60], &data[40..], "{}", b.name);
        assert!(
            got[60..].iter().all(|&x| x == 0xEE),
            "{}: bytes past EOF were written",
            b.name
        );
    });
}

#[test]
fn read_at_or_past_eof_returns_zero_bytes() {
    each(|b| {
        let file = b.create("eof");
        b.write(&*file, 0, b"0123456789");
        for pos in [10, 11, 1 << 20] {
            let (res, got) = b.read(&*file, pos, 16, 0x55);
            assert_eq!(res, Ok(0), "{} at {pos}", b.name);
            assert!(got.iter().all(|&x| x == 0x55), "{} at {pos}", b.name);
        }
        let (res, _) = b.read(&*b.create("empty"), 0, 16, 0);
        assert_eq!(res, Ok(0), "{}: empty file", b.name);
    });
}

#[test]
fn writes_past_the_end_extend_the_file_with_zeros() {
    each(|b| {
        let file = b.create("sparse");
        b.write(&*file, 10_000, b"tail");
        assert_eq!(file.size(), Ok(10_004), "{}", b.name);
        let (res, got) = b.read(&*file, 0, 10_004, 0xAA);
        assert_eq!(res, Ok(10_004), "{}", b.name);
        assert!(
            got[..10_000].iter().all(|&x| x == 0),
            "{}: the gap is not zeros",
            b.name
        );
        assert_eq!(&got[10_000..], b"tail", "{}", b.name);
    });
}

#[test]
fn pwritev_writes_buffers_back_to_back() {
    each(|b| {
        let file = b.create("vectored");
        let parts = [
            pattern(3, 1),
            Vec::new(),
            pattern(5000, 2),
            pattern(1, 3),
            Vec::new(),
        ];
        let bufs: Vec<Arc<Buffer>> = parts
            .iter()
            .map(|p| Arc::new(Buffer::from_vec(p.clone())))
            .collect();
        let res = b.run(file.pwritev(7, bufs, Completion::write()));
        assert_eq!(res, Ok(5004), "{}", b.name);
        let (res, got) = b.read(&*file, 7, 5004, 0);
        assert_eq!(res, Ok(5004), "{}", b.name);
        assert_eq!(got, parts.concat(), "{}", b.name);
        assert_eq!(file.size(), Ok(5011), "{}", b.name);
    });
}

#[test]
fn pwritev_may_repeat_a_buffer() {
    // The same page several times, as when zero-filling: one buffer, many
    // iovecs pointing at it.
    each(|b| {
        let file = b.create("repeated");
        let page = Arc::new(Buffer::from_vec(pattern(100, 6)));
        let other = Arc::new(Buffer::from_vec(b"--".to_vec()));
        let bufs = vec![page.clone(), other.clone(), page.clone(), page.clone(), other];
        let res = b.run(file.pwritev(0, bufs, Completion::write()));
        assert_eq!(res, Ok(304), "{}", b.name);
        let (_, got) = b.read(&*file, 0, 304, 0);
        let p = pattern(100, 6);
        assert_eq!(got, [&p[..], b"--", &p, &p, b"--"].concat(), "{}", b.name);
    });
}

#[test]
fn pwritev_with_more_buffers_than_one_syscall_takes() {
    // More than IOV_MAX (1024) iovecs, of uneven lengths, some empty: a
    // backend must split them into several syscalls and continue exactly
    // where each one stopped.
    each(|b| {
        let file = b.create("many");
        let parts: Vec<Vec<u8>> = (0..2500).map(|i| pattern(i % 7, i as u8)).collect();
        let expected = parts.concat();
        let bufs = parts
            .iter()
            .map(|p| Arc::new(Buffer::from_vec(p.clone())))
            .collect();
        let res = b.run(file.pwritev(0, bufs, Completion::write()));
        assert_eq!(res, Ok(i32::try_from(expected.len()).unwrap()), "{}", b.name);
        let (_, got) = b.read(&*file, 0, expected.len(), 0);
        assert_eq!(got, expected, "{}", b.name);
    });
}

#[test]
fn sync_and_sync_data_succeed_and_keep_the_data() {
    each(|b| {
        let file = b.create("durable");
        b.write(&*file, 0, b"durable bytes");
        assert_eq!(
            b.run(file.sync(Completion::sync_data())),
            Ok(0),
            "{}: sync_data",
            b.name
        );
        b.write(&*file, 13, b"!");
        assert_eq!(b.run(file.sync(Completion::sync())), Ok(0), "{}: sync", b.name);
        let (_, got) = b.read(&*file, 0, 14, 0);
        assert_eq!(got, b"durable bytes!", "{}", b.name);
    });
}

#[test]
fn truncate_shrinks_and_grows_with_zeros() {
    each(|b| {
        let file = b.create("trunc");
        b.write(&*file, 0, &pattern(1000, 9));
        assert_eq!(
            b.run(file.truncate(10, Completion::truncate())),
            Ok(0),
            "{}",
            b.name
        );
        assert_eq!(file.size(), Ok(10), "{}", b.name);
        let (res, _) = b.read(&*file, 0, 100, 0);
        assert_eq!(res, Ok(10), "{}: read after shrink", b.name);
        assert_eq!(
            b.run(file.truncate(5000, Completion::truncate())),
            Ok(0),
            "{}",
            b.name
        );
        assert_eq!(file.size(), Ok(5000), "{}", b.name);
        let (res, got) = b.read(&*file, 0, 5000, 0xAA);
        assert_eq!(res, Ok(5000), "{}", b.name);
        assert_eq!(&got[..10], &pattern(1000, 9)[..10], "{}", b.name);
        assert!(
            got[10..].iter().all(|&x| x == 0),
            "{}: grown part is not zeros",
            b.name
        );
    });
}

#[test]
fn open_errors_match_the_file_system() {
    each(|b| {
        let missing = b.path("missing");
        let err = b.io.open_file(&missing, OpenOptions::existing()).err();
        assert_eq!(
            err.map(|e| e.kind()),
            Some(std::io::ErrorKind::NotFound),
            "{}",
            b.name
        );
        let err = b.io.open_file(&missing, OpenOptions::read_only()).err();
        assert_eq!(
            err.map(|e| e.kind()),
            Some(std::io::ErrorKind::NotFound),
            "{}",
            b.name
        );

        let first = b.create("exists");
        b.write(&*first, 0, b"x");
        let create_new = OpenOptions {
            create_new: true,
            ..OpenOptions::new()
        };
        let err = b.io.open_file(&b.path("exists"), create_new).err();
        assert_eq!(
            err.map(|e| e.kind()),
            Some(std::io::ErrorKind::AlreadyExists),
            "{}",
            b.name
        );
        let fresh =
            b.io.open_file(&b.path("fresh"), create_new)
                .expect("create_new on a new path");
        assert_eq!(fresh.size(), Ok(0), "{}", b.name);

        b.io.remove_file(&b.path("exists"))
            .expect("remove an existing file");
        let err = b.io.open_file(&b.path("exists"), OpenOptions::existing()).err();
        assert_eq!(
            err.map(|e| e.kind()),
            Some(std::io::ErrorKind::NotFound),
            "{}",
            b.name
        );
        let err = b.io.remove_file(&b.path("exists")).err();
        assert_eq!(
            err.map(|e| e.kind()),
            Some(std::io::ErrorKind::NotFound),
            "{}",
            b.name
        );
        // A handle opened before the removal still reads the old contents.
        let (res, got) = b.read(&*first, 0, 1, 0);
        assert_eq!((res, got), (Ok(1), b"x".to_vec()), "{}", b.name);
    });
}

#[test]
fn a_file_opened_twice_shares_its_contents() {
    each(|b| {
        let a = b.create("twice");
        let other = b.io.open_file(&b.path("twice"), OpenOptions::existing()).unwrap();
        b.write(&*a, 0, b"shared");
        let (_, got) = b.read(&*other, 0, 6, 0);
        assert_eq!(got, b"shared", "{}", b.name);
        let reader =
            b.io.open_file(&b.path("twice"), OpenOptions::read_only())
                .unwrap();
        assert_eq!(reader.size(), Ok(6), "{}", b.name);
    });
}

#[test]
fn writes_through_a_read_only_handle_fail_through_the_completion() {
    each(|b| {
        b.write(&*b.create("ro"), 0, b"keep");
        let file = b.io.open_file(&b.path("ro"), OpenOptions::read_only()).unwrap();
        let res = b.run(file.pwrite(
            0,
            Arc::new(Buffer::from_vec(b"lost".to_vec())),
            Completion::write(),
        ));
        assert!(matches!(res, Err(CompletionError::Io(_))), "{}: {res:?}", b.name);
        let (_, got) = b.read(&*file, 0, 4, 0);
        assert_eq!(got, b"keep", "{}", b.name);
    });
}

#[test]
fn pread_refuses_a_completion_that_is_not_a_read() {
    each(|b| {
        let file = b.create("kind");
        for c in [Completion::write(), Completion::pending(), Completion::sync()] {
            let probe = c.clone();
            let err = file.pread(0, c).err();
            assert!(
                matches!(err, Some(CompletionError::InvalidArgument(_))),
                "{}: {err:?}",
                b.name
            );
            // Refused before it started, yet nobody waiting on it is stranded.
            assert_eq!(probe.get_error(), err, "{}", b.name);
        }
    });
}

#[test]
fn callbacks_run_once_with_the_outcome() {
    each(|b| {
        let file = b.create("callbacks");
        b.write(&*file, 0, b"abc");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let buf = Arc::new(Buffer::new(8));
        let c = Completion::read(buf).with_callback(move |o| log.lock().unwrap().push(o));
        let c = file.pread(0, c).unwrap();
        if b.always_defers {
            assert!(
                seen.lock().unwrap().is_empty(),
                "{}: callback before step()",
                b.name
            );
        }
        assert_eq!(b.io.wait(&c), Ok(3), "{}", b.name);
        b.io.step().unwrap();
        assert_eq!(*seen.lock().unwrap(), vec![Ok(3)], "{}", b.name);
    });
}

/// The device keeps an aborted read's buffer until it lets go, however many
/// handles the caller drops, so the kernel never writes into freed memory.
#[test]
fn a_read_buffer_is_held_by_the_in_flight_operation_until_released() {
    each(|b| {
        let file = b.create("held");
        b.write(&*file, 0, &pattern(4096, 3));

        // With a completion handle kept as a probe.
        let buf = Arc::new(Buffer::new(4096));
        let weak = Arc::downgrade(&buf);
        let c = file.pread(0, Completion::read(buf)).unwrap();
        c.abort();
        assert!(c.finished(), "{}: an abort decides the outcome at once", b.name);
        if b.always_defers {
            assert_eq!(c.result(), Some(Err(CompletionError::Aborted)), "{}", b.name);
            assert!(!c.device_released(), "{}: released before step()", b.name);
        }
        let mut steps = 0;
        while !c.device_released() {
            assert!(weak.upgrade().is_some(), "{}: buffer freed while held", b.name);
            b.io.step().unwrap();
            steps += 1;
            assert!(steps < 10_000, "{}: the device never released the buffer", b.name);
        }
        if b.always_defers {
            assert_eq!(steps, 1, "{}", b.name);
            assert_eq!(
                c.result(),
                Some(Err(CompletionError::Aborted)),
                "{}: first outcome wins",
                b.name
            );
        }
        drop(c);
        assert!(
            weak.upgrade().is_none(),
            "{}: buffer leaked after release",
            b.name
        );

        // With no handle at all: only the backend keeps the buffer alive.
        let buf = Arc::new(Buffer::new(4096));
        let weak = Arc::downgrade(&buf);
        let c = file.pread(0, Completion::read(buf)).unwrap();
        c.abort();
        drop(c);
        if b.always_defers {
            assert!(
                weak.upgrade().is_some(),
                "{}: buffer freed while in flight",
                b.name
            );
            assert_eq!(b.io.step(), Ok(1), "{}", b.name);
        }
        let mut steps = 0;
        while weak.upgrade().is_some() {
            b.io.step().unwrap();
            steps += 1;
            assert!(steps < 10_000, "{}: the buffer was never released", b.name);
        }
    });
}

#[test]
fn a_group_of_reads_finishes_after_all_of_them() {
    each(|b| {
        let file = b.create("group");
        let data = pattern(4 * 512, 5);
        b.write(&*file, 0, &data);
        let group_outcome = Arc::new(Mutex::new(None));
        let record = group_outcome.clone();
        let mut group = CompletionGroup::new(move |o| *record.lock().unwrap() = Some(o));
        let mut reads = Vec::new();
        for i in 0..4u64 {
            let buf = Arc::new(Buffer::new(512));
            let c = file.pread(i * 512, Completion::read(buf.clone())).unwrap();
            group.add(&c);
            reads.push((c, buf));
        }
        // Finished and explicit-yield completions count at once.
        group.add(&Completion::ready());
        group.add(&Completion::yield_now());
        let all = group.build();
        if b.always_defers {
            assert!(!all.finished(), "{}: group finished before its reads", b.name);
        }
        // DESIGN rule 4: a built group's result is 0.
        assert_eq!(b.io.wait(&all), Ok(0), "{}", b.name);
        assert_eq!(group.len(), 6, "{}", b.name);
        assert_eq!(*group_outcome.lock().unwrap(), Some(Ok(0)), "{}", b.name);
        for (i, (c, buf)) in reads.iter().enumerate() {
            assert_eq!(c.result(), Some(Ok(512)), "{}: child {i}", b.name);
            assert_eq!(
                buf.to_vec(),
                &data[i * 512..(i + 1) * 512],
                "{}: child {i}",
                b.name
            );
        }
    });
}

#[test]
fn wait_on_a_completion_nothing_can_finish_is_stalled() {
    each(|b| {
        assert_eq!(
            b.io.wait(&Completion::pending()),
            Err(CompletionError::Stalled),
            "{}",
            b.name
        );
        // Finished completions need no step at all.
        assert_eq!(b.io.wait(&Completion::ready()), Ok(0), "{}", b.name);
        assert_eq!(b.io.wait(&Completion::yield_now()), Ok(0), "{}", b.name);
        assert_eq!(b.io.step(), Ok(0), "{}: nothing in flight", b.name);
    });
}

const PAGE: usize = 512;

/// A hand-written machine, the way engines write them without the attribute:
/// reads `pages` pages one at a time and sums their bytes, yielding control
/// back to its caller after every even page.
#[derive(Debug, Default)]
enum SumPages {
    #[default]
    Start,
    Next {
        page: u64,
        sum: u64,
    },
    Reading {
        page: u64,
        sum: u64,
        buf: Arc<Buffer>,
        read: Completion,
    },
    Yielded {
        page: u64,
        sum: u64,
    },
}

fn sum_pages(
    state: &mut SumPages,
    file: &dyn File,
    pages: u64,
    resumes: &AtomicUsize,
) -> Result<IOResult<u64>, CompletionError> {
    resumes.fetch_add(1, Ordering::Relaxed);
    loop {
        match std::mem::take(state) {
            SumPages::Start => *state = SumPages::Next { page: 0, sum: 0 },
            SumPages::Next { page, sum } if page == pages => return Ok(IOResult::Done(sum)),
            SumPages::Next { page, sum } => {
                let buf = Arc::new(Buffer::new(PAGE));
                let read = file.pread(page * PAGE as u64, Completion::read(buf.clone()))?;
                *state = SumPages::Reading {
                    page,
                    sum,
                    buf,
                    read: read.clone(),
                };
                if !read.finished() {
                    io_yield_one!(read);
                }
            }
            SumPages::Reading { page, sum, buf, read } => {
                if !read.finished() {
                    // Called again before the read arrived: wait again.
                    *state = SumPages::Reading {
                        page,
                        sum,
                        buf,
                        read: read.clone(),
                    };
                    io_yield_one!(read);
                }
                let n = read.result().unwrap_or(Err(CompletionError::Stalled))?;
                if n as usize != PAGE {
                    return Err(CompletionError::ShortRead {
                        expected: PAGE,
                        actual: n as usize,
                    });
                }
                let sum = sum + buf.as_slice().iter().map(|&x| u64::from(x)).sum::<u64>();
                if page % 2 == 0 {
                    *state = SumPages::Yielded { page: page + 1, sum };
                    io_yield_one!(Completion::yield_now());
                }
                *state = SumPages::Next { page: page + 1, sum };
            }
            SumPages::Yielded { page, sum } => *state = SumPages::Next { page, sum },
        }
    }
}

/// The caller of `sum_pages`, through `return_if_io!`: everything before that
/// line would run again on each resume, so it only checks the answer after.
fn checked_sum(
    state: &mut SumPages,
    file: &dyn File,
    pages: u64,
    expected: u64,
    resumes: &AtomicUsize,
) -> Result<IOResult<u64>, CompletionError> {
    let sum = return_if_io!(sum_pages(state, file, pages, resumes));
    if sum != expected {
        return Err(CompletionError::InvalidArgument("checksum mismatch"));
    }
    Ok(IOResult::Done(sum))
}

#[test]
fn block_drives_a_hand_written_machine_to_done() {
    each(|b| {
        let file = b.create("machine");
        let data = pattern(6 * PAGE, 11);
        b.write(&*file, 0, &data);
        let expected: u64 = data.iter().map(|&x| u64::from(x)).sum();
        let mut state = SumPages::default();
        let resumes = AtomicUsize::new(0);
        let sum =
            b.io.block(|| checked_sum(&mut state, &*file, 6, expected, &resumes));
        assert_eq!(sum, Ok(expected), "{}", b.name);
        // One call, plus one resume per explicit yield (pages 0, 2, 4), plus
        // one per read when every read is held until a step.
        let calls = resumes.load(Ordering::Relaxed);
        let want = if b.always_defers { 1 + 3 + 6 } else { 1 + 3 };
        if b.always_defers || !b.on_disk || b.name == "blocking" {
            assert_eq!(calls, want, "{}: resumes", b.name);
        } else {
            assert!(calls >= want, "{}: resumes {calls}", b.name);
        }

        // A machine whose read fails hands the error back through `block`.
        let mut state = SumPages::default();
        let short =
            b.io.block(|| checked_sum(&mut state, &*file, 7, expected, &resumes));
        assert_eq!(
            short,
            Err(CompletionError::ShortRead {
                expected: PAGE,
                actual: 0
            }),
            "{}",
            b.name
        );
    });
}

#[test]
fn direct_io_refuses_misaligned_arguments_with_a_clear_error() {
    each(|b| {
        let file = match b.io.open_file(&b.path("direct"), OpenOptions::new().direct(true)) {
            Ok(file) => file,
            Err(e) if b.on_disk && e.kind() == std::io::ErrorKind::InvalidInput => {
                eprintln!(
                    "{}: skipped: the file system at {:?} refuses O_DIRECT ({e})",
                    b.name,
                    b.dir.path()
                );
                return;
            }
            Err(e) => panic!("{}: open with O_DIRECT: {e}", b.name),
        };
        let aligned = || Arc::new(Buffer::new_aligned(DIRECT_IO_ALIGN));
        let misaligned_buffer = Arc::new(Buffer::with_alignment(DIRECT_IO_ALIGN + 1, 2));
        let cases: Vec<(&str, Result<Completion, CompletionError>)> = vec![
            ("offset", file.pread(100, Completion::read(aligned()))),
            (
                "length",
                file.pread(0, Completion::read(Arc::new(Buffer::new_aligned(100)))),
            ),
            ("write offset", file.pwrite(512, aligned(), Completion::write())),
            (
                "pwritev length",
                file.pwritev(
                    0,
                    vec![aligned(), Arc::new(Buffer::new_aligned(10))],
                    Completion::write(),
                ),
            ),
        ];
        for (what, res) in cases {
            assert!(
                matches!(res, Err(CompletionError::InvalidArgument(_))),
                "{}: misaligned {what}: {res:?}",
                b.name
            );
        }
        // A buffer that starts one byte past an aligned address.
        let storage_offset = usize::from(!misaligned_buffer.is_aligned_to(DIRECT_IO_ALIGN));
        if storage_offset == 1 {
            let res = file.pwrite(0, misaligned_buffer, Completion::write());
            assert!(
                matches!(res, Err(CompletionError::InvalidArgument(_))),
                "{}: {res:?}",
                b.name
            );
        }
        // And aligned ones go through.
        let data = Arc::new(Buffer::new_aligned(2 * DIRECT_IO_ALIGN));
        data.as_mut_slice()
            .copy_from_slice(&pattern(2 * DIRECT_IO_ALIGN, 4));
        assert_eq!(
            b.run(file.pwrite(0, data, Completion::write())),
            Ok(8192),
            "{}",
            b.name
        );
        let back = Arc::new(Buffer::new_aligned(2 * DIRECT_IO_ALIGN));
        assert_eq!(
            b.run(file.pread(0, Completion::read(back.clone()))),
            Ok(8192),
            "{}",
            b.name
        );
        assert_eq!(back.to_vec(), pattern(2 * DIRECT_IO_ALIGN, 4), "{}", b.name);
    });
}

/// `O_DIRECT` on a real disk: the page cache is bypassed, so this is the one
/// test that proves the flag reached the kernel and aligned I/O round-trips.
#[test]
fn blocking_direct_io_round_trips_and_stops_at_eof() {
    let root = scratch_root();
    let dir = tempfile::Builder::new()
        .prefix("ratchet-direct-")
        .tempdir_in(root)
        .unwrap();
    let io = BlockingIO::new();
    let path = dir.path().join("direct");
    let file = match io.open_file(&path, OpenOptions::new().direct(true)) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            eprintln!(
                "skipped: no file system tried ({}, /var/tmp, {}) accepts O_DIRECT here ({e}); tmpfs refuses it",
                env!("CARGO_TARGET_TMPDIR"),
                std::env::temp_dir().display()
            );
            return;
        }
        Err(e) => panic!("open with O_DIRECT: {e}"),
    };
    let data = Arc::new(Buffer::new_aligned(3 * DIRECT_IO_ALIGN));
    data.as_mut_slice()
        .copy_from_slice(&pattern(3 * DIRECT_IO_ALIGN, 8));
    let w = file
        .pwrite(DIRECT_IO_ALIGN as u64, data, Completion::write())
        .unwrap();
    assert_eq!(w.result(), Some(Ok(3 * 4096)));
    assert_eq!(file.size(), Ok(4 * 4096));

    // Read back through a buffered handle too: the bytes reached the file.
    let buffered = io.open_file(&path, OpenOptions::read_only()).unwrap();
    let check = Arc::new(Buffer::new(3 * DIRECT_IO_ALIGN));
    let r = buffered
        .pread(DIRECT_IO_ALIGN as u64, Completion::read(check.clone()))
        .unwrap();
    assert_eq!(r.result(), Some(Ok(3 * 4096)));
    assert_eq!(check.to_vec(), pattern(3 * DIRECT_IO_ALIGN, 8));

    // A read running into EOF returns what exists, even when EOF is not on
    // an alignment boundary, instead of failing with EINVAL on the way.
    let t = file
        .truncate(2 * DIRECT_IO_ALIGN as u64 + 100, Completion::truncate())
        .unwrap();
    assert_eq!(t.result(), Some(Ok(0)));
    let back = Arc::new(Buffer::new_aligned(4 * DIRECT_IO_ALIGN));
    back.as_mut_slice().fill(0xEE);
    let r = file.pread(0, Completion::read(back.clone())).unwrap();
    assert_eq!(r.result(), Some(Ok(2 * 4096 + 100)));
    let got = back.to_vec();
    assert!(got[..DIRECT_IO_ALIGN].iter().all(|&x| x == 0));
    assert_eq!(
        &got[DIRECT_IO_ALIGN..2 * DIRECT_IO_ALIGN + 100],
        &pattern(3 * DIRECT_IO_ALIGN, 8)[..DIRECT_IO_ALIGN + 100]
    );
    // The device transfers whole blocks and the kernel zero-fills the part
    // of the request past EOF, so unlike a buffered read the tail may be
    // zeroed; what must never show up is stale data, such as the bytes the
    // truncate cut off.
    let tail = &got[2 * DIRECT_IO_ALIGN + 100..];
    assert!(
        tail.iter().all(|&x| x == 0xEE || x == 0),
        "bytes past EOF hold stale data"
    );
}

/// Real short reads: a procfs file returns at most about a page per
/// `pread`, so a buffer of 256 KiB is filled only by continuing.
#[test]
fn blocking_reads_continue_after_short_reads() {
    use std::os::unix::fs::FileExt;
    const LEN: usize = 256 * 1024;
    let path = Path::new("/proc/kallsyms");
    let Ok(expected) = std::fs::read(path) else {
        eprintln!(
            "skipped: {} is not readable here, and no other file gives short reads",
            path.display()
        );
        return;
    };
    let mut probe = vec![0; LEN];
    let single = std::fs::File::open(path).and_then(|f| f.read_at(&mut probe, 0));
    if expected.len() < LEN || !matches!(single, Ok(n) if n < LEN) {
        eprintln!(
            "skipped: {} gives no short reads here ({single:?})",
            path.display()
        );
        return;
    }
    let file = BlockingIO::new()
        .open_file(path, OpenOptions::read_only())
        .unwrap();
    let buf = Arc::new(Buffer::new(LEN));
    let c = file.pread(0, Completion::read(buf.clone())).unwrap();
    assert_eq!(c.result(), Some(Ok(i32::try_from(LEN).unwrap())));
    assert_eq!(buf.to_vec(), &expected[..LEN]);
}

#[test]
fn deferred_step_delivers_what_was_held_and_counts_it() {
    let io = DeferredIO::memory();
    assert_eq!(io.step(), Ok(0), "nothing held");
    let file = io.open_file("/f".as_ref(), OpenOptions::new()).unwrap();
    let ops = [
        file.pwrite(
            0,
            Arc::new(Buffer::from_vec(b"abc".to_vec())),
            Completion::write(),
        )
        .unwrap(),
        file.sync(Completion::sync_data()).unwrap(),
        file.truncate(2, Completion::truncate()).unwrap(),
    ];
    assert_eq!(io.held(), 3);
    assert!(ops.iter().all(|c| !c.finished()));
    // The bytes landed already; only the completions are held back.
    assert_eq!(file.size(), Ok(2));
    assert_eq!(io.step(), Ok(3));
    assert_eq!(
        ops.iter().map(Completion::result).collect::<Vec<_>>(),
        [Some(Ok(3)), Some(Ok(0)), Some(Ok(0))]
    );
    assert_eq!(io.step(), Ok(0));
}

#[test]
fn deferred_operations_started_by_callbacks_wait_for_the_next_step() {
    let io = Arc::new(DeferredIO::memory());
    let file = io.open_file("/f".as_ref(), OpenOptions::new()).unwrap();
    let second: Arc<Mutex<Option<Completion>>> = Arc::default();
    let (f, slot) = (file.clone(), second.clone());
    let first = Completion::write().with_callback(move |_| {
        let c = f
            .pwrite(
                3,
                Arc::new(Buffer::from_vec(b"def".to_vec())),
                Completion::write(),
            )
            .unwrap();
        *slot.lock().unwrap() = Some(c);
    });
    let first = file
        .pwrite(0, Arc::new(Buffer::from_vec(b"abc".to_vec())), first)
        .unwrap();
    assert_eq!(io.step(), Ok(1));
    assert!(first.finished());
    let second = second.lock().unwrap().clone().expect("the callback ran");
    assert!(
        !second.finished(),
        "started during a step, so held until the next"
    );
    assert_eq!(io.step(), Ok(1));
    assert_eq!(second.result(), Some(Ok(3)));
}

#[test]
fn dropping_deferred_io_aborts_what_it_held() {
    let io = DeferredIO::new(MemoryIO::new());
    let file = io.open_file("/f".as_ref(), OpenOptions::new()).unwrap();
    let buf = Arc::new(Buffer::new(16));
    let weak = Arc::downgrade(&buf);
    let read = file.pread(0, Completion::read(buf)).unwrap();
    let mut group = CompletionGroup::default();
    group.add(&read);
    let all = group.build();
    drop(io);
    assert_eq!(read.result(), Some(Err(CompletionError::Aborted)));
    assert!(read.device_released());
    assert_eq!(
        all.result(),
        Some(Err(CompletionError::Aborted)),
        "the group is not stranded"
    );
    drop((read, all, group));
    assert!(weak.upgrade().is_none());
    // Files outlive the backend but nobody would step their operations.
    let late = file.sync(Completion::sync()).err();
    assert_eq!(late, Some(CompletionError::Aborted));
}

#[test]
fn deferred_io_wraps_a_shared_backend() {
    let shared: Arc<dyn IO> = Arc::new(MemoryIO::new());
    let io = DeferredIO::wrap(shared.clone());
    let direct = shared.open_file("/f".as_ref(), OpenOptions::new()).unwrap();
    let c = direct
        .pwrite(
            0,
            Arc::new(Buffer::from_vec(b"xyz".to_vec())),
            Completion::write(),
        )
        .unwrap();
    assert_eq!(c.result(), Some(Ok(3)));
    let file = io.open_file("/f".as_ref(), OpenOptions::existing()).unwrap();
    let buf = Arc::new(Buffer::new(3));
    let c = file.pread(0, Completion::read(buf.clone())).unwrap();
    // Read by the inner backend already, but the caller's buffer belongs to
    // the operation until it is announced.
    assert!(matches!(buf.try_as_slice(), Err(CompletionError::Busy(_))));
    assert!(!c.finished());
    assert_eq!(io.wait(&c), Ok(3));
    assert_eq!(buf.to_vec(), b"xyz");
}
