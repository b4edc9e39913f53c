//! The everyday API, called the way users hold it (issue: "a crate people
//! can `cargo add`").
#![allow(missing_docs)]

use std::sync::Arc;

use ratchet::{BackendKind, Completion, CompletionError, IO, IOExt, IOResult, MemoryIO, choose_io};

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
