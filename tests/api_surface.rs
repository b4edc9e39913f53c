//! The everyday API, called the way users hold it (issue: "a crate people
//! can `cargo add`").
#![allow(missing_docs)]

use std::sync::Arc;

use ratchet::backend::{BackendKind, choose_io};
use ratchet::{Completion, CompletionError, IO, IOExt, IOResult, MemoryIO};

/// A machine that suspends twice on ready completions, then finishes.
fn twice() -> impl FnMut() -> Result<IOResult<u32>, CompletionError> {
    let mut calls = 0;
    move || {
        calls += 1;
        if calls < 3 {
            Ok(IOResult::IO(Completion::ready().into()))
        } else {
            Ok(IOResult::Done(calls))
        }
    }
}

#[test]
fn block_is_callable_on_every_form_of_backend() {
    let owned = MemoryIO::new();
    assert_eq!(owned.block(twice()), Ok(3));
    let by_ref: &MemoryIO = &owned;
    assert_eq!(by_ref.block(twice()), Ok(3));
    let dyn_ref: &dyn IO = &owned;
    assert_eq!(dyn_ref.block(twice()), Ok(3));
    let boxed: Box<dyn IO> = Box::new(MemoryIO::new());
    assert_eq!(boxed.block(twice()), Ok(3));
    let shared: Arc<dyn IO> = Arc::new(MemoryIO::new());
    assert_eq!(shared.block(twice()), Ok(3));
    // Through a generic function over any `IO` handle, `Arc` included.
    fn generic<I: IO>(io: &I) -> Result<u32, CompletionError> {
        io.block(twice())
    }
    assert_eq!(generic(&shared), Ok(3));
}

#[test]
fn block_on_a_trait_object_reports_a_stalled_wait() {
    let backend = MemoryIO::new();
    let io: &dyn IO = &backend;
    let nothing_finishes_it = Completion::pending();
    let r: Result<(), CompletionError> = io.block(|| Ok(IOResult::IO(nothing_finishes_it.clone().into())));
    assert_eq!(r, Err(CompletionError::Stalled));
}

#[test]
fn choose_io_says_what_it_chose_and_why() {
    let memory = choose_io(Some(BackendKind::Memory)).unwrap();
    assert_eq!(
        (memory.kind, memory.reason.as_str(), memory.fell_back),
        (BackendKind::Memory, "memory (asked for)", false)
    );
    let blocking = choose_io(Some(BackendKind::Blocking)).unwrap();
    assert_eq!(blocking.kind, BackendKind::Blocking);
    // No explicit choice: io_uring where the kernel allows it, otherwise a
    // fall back to blocking whose reason names io_uring's failure.
    let best = choose_io(None).unwrap();
    match best.kind {
        BackendKind::Uring => assert!(!best.fell_back && best.reason.starts_with("io_uring")),
        BackendKind::Blocking => {
            assert!(best.fell_back);
            assert!(best.reason.contains("io_uring unavailable"), "{}", best.reason);
        }
        BackendKind::Memory => panic!("the default is never the memory backend"),
    }
    // The chosen backend works.
    let f = best
        .io
        .open_file(
            &std::env::temp_dir().join(format!("ratchet-choose-{}", std::process::id())),
            ratchet::OpenOptions::new(),
        )
        .unwrap();
    assert_eq!(f.size().unwrap(), 0);
    let _ = best
        .io
        .remove_file(&std::env::temp_dir().join(format!("ratchet-choose-{}", std::process::id())));
}

/// The root holds what a machine author uses every day; the simulator, the
/// io_uring options, backend choice and buffer views live in modules.
#[test]
fn concepts_live_in_their_modules() {
    use ratchet::backend::{BACKEND_ENV, BackendKind, parse_backend};
    use ratchet::sim::{CrashPoint, FaultKind, SimConfig, SimEvent};
    assert_eq!(BACKEND_ENV, "RATCHET_IO");
    assert_eq!(parse_backend("memory").unwrap(), BackendKind::Memory);
    let sim = ratchet::SimIO::new(SimConfig::with_seed(1).fault_at(0, FaultKind::Eio));
    let f = sim.open_file("/x".as_ref(), ratchet::OpenOptions::new()).unwrap();
    assert!(matches!(sim.trace().first(), Some(SimEvent::Open { .. })));
    drop(f);
    assert_eq!(CrashPoint::before_step(3).step, 3);
    let was = ratchet::testing::set_force_suspend(true);
    assert!(ratchet::testing::force_suspend());
    ratchet::set_force_suspend(was);
    let _: ratchet::buffer::BufferRef<'_> = ratchet::Buffer::new(1).as_slice();
    #[cfg(target_os = "linux")]
    let _ = ratchet::uring::UringOptions::new();
}

/// Code written against the old flat paths still compiles (with a
/// deprecation warning that names the new path).
#[test]
#[allow(deprecated)]
fn the_old_flat_paths_still_work() {
    let _: ratchet::SimConfig = ratchet::SimConfig::with_seed(1);
    let _: Option<ratchet::TraceEvent> = None;
    assert_eq!(
        ratchet::parse_backend("blocking").unwrap(),
        ratchet::BackendKind::Blocking
    );
    assert_eq!(ratchet::DEFAULT_SECTOR_BYTES, ratchet::sim::DEFAULT_SECTOR_BYTES);
    assert!(!ratchet::force_suspend() || cfg!(feature = "force-suspend"));
}
