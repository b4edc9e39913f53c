//! `UringIO`'s non-blocking step and its readiness descriptor, the two
//! things an event loop (tokio's reactor) needs to drive the ring: the
//! eventfd becomes readable when an operation has finished, with every set-up
//! the backend offers (`DEFER_TASKRUN` rings post nothing until their issuer
//! enters the kernel, so the kernel must signal the eventfd for them
//! anyway), and `try_step` then delivers it without sleeping. Skips, saying
//! why, where io_uring is unavailable.
#![cfg(target_os = "linux")]
#![allow(missing_docs)]

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratchet::uring::UringOptions;
use ratchet::{Buffer, Completion, IO, OpenOptions, UringIO};

fn scratch_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("uring-ready-{name}-{}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Waits (sleeping) until `fd` has a count to read; false after 5 s.
fn readable(fd: &mut std::fs::File) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut count = [0u8; 8];
    while Instant::now() < deadline {
        match fd.read(&mut count) {
            Ok(8) => return true,
            Ok(n) => panic!("an eventfd read of {n} bytes"),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(e) => panic!("reading the eventfd: {e}"),
        }
    }
    false
}

fn check(name: &str, options: UringOptions) {
    let io = match options.build() {
        Ok(io) => io,
        Err(e) => {
            eprintln!("skipped: io_uring is unavailable here: {e}");
            return;
        }
    };
    let path = scratch_file(name, &[7u8; 8192]);
    // O_DIRECT, so that reads go to the device and finish later, by
    // interrupt, instead of from the page cache during the submit.
    let file = io.open_file(&path, OpenOptions::existing().direct(true)).unwrap();
    let mut waited = 0;
    let mut fd = std::fs::File::from(
        io.ready_fd()
            .expect("UringIO offers a readiness descriptor")
            .try_clone_to_owned()
            .unwrap(),
    );
    for round in 0..20 {
        let buf = Arc::new(Buffer::new_aligned(4096));
        let c = file
            .pread(4096 * (round % 2), Completion::read(buf.clone()))
            .unwrap();
        // Hands the read to the kernel; it may finish at once.
        io.try_step().unwrap();
        if !c.finished() {
            waited += 1;
            assert!(
                readable(&mut fd),
                "{}: the eventfd was not signalled for a finished read (round {round})",
                io.describe()
            );
            let deadline = Instant::now() + Duration::from_secs(5);
            while !c.finished() && Instant::now() < deadline {
                io.try_step().unwrap();
            }
        }
        assert_eq!(c.result(), Some(Ok(4096)), "{}", io.describe());
        assert!(buf.to_vec().iter().all(|&b| b == 7));
    }
    assert!(
        waited > 0,
        "every O_DIRECT read finished during its submit: nothing was tested"
    );
    // Nothing in flight: try_step returns at once.
    let start = Instant::now();
    assert_eq!(io.try_step(), Ok(0));
    assert!(start.elapsed() < Duration::from_secs(1));
    let _ = std::fs::remove_file(path);
}

#[test]
fn the_eventfd_signals_finished_reads_with_defer_taskrun() {
    check("defer", UringOptions::new());
}

#[test]
fn the_eventfd_signals_finished_reads_without_single_issuer() {
    check(
        "plain",
        UringOptions::new().single_issuer(false).defer_taskrun(false),
    );
}

#[test]
fn the_eventfd_signals_finished_reads_without_coop_taskrun() {
    check(
        "nocoop",
        UringOptions::new()
            .single_issuer(false)
            .defer_taskrun(false)
            .coop_taskrun(false),
    );
}

#[test]
fn try_step_does_not_sleep_while_a_read_is_in_flight() {
    let io: UringIO = match UringIO::new() {
        Ok(io) => io,
        Err(e) => {
            eprintln!("skipped: io_uring is unavailable here: {e}");
            return;
        }
    };
    // A pipe nobody writes: the read stays in flight.
    let (reader, _writer) = std::io::pipe().unwrap();
    let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&reader));
    let file = io.open_file(path.as_ref(), OpenOptions::read_only()).unwrap();
    let c = file
        .pread(0, Completion::read(Arc::new(Buffer::new(16))))
        .unwrap();
    let start = Instant::now();
    for _ in 0..100 {
        assert_eq!(io.try_step(), Ok(0));
    }
    assert!(!c.finished());
    assert!(start.elapsed() < Duration::from_secs(1), "try_step slept");
    c.abort();
    io.cancel(&c);
}
