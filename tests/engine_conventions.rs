//! Conventions an engine's own code meets when it adopts generated machines
//! (issue: real engine code): a driver that stops on a failed completion,
//! `reset()` at a `call_io!` point, and a result kept past `Done`. The guide
//! (`ratchet::guide::migration`) shows the same code.
#![allow(missing_docs)]

use ratchet::{
    Completion, CompletionError, IO, IOResult, MemoryIO, call_io, io_state_machine, io_state_machines,
    yield_io,
};

/// Turso's `IOExt::block`: a failed completion's error is returned at once,
/// without calling the machine again.
fn turso_block<T>(
    io: &dyn IO,
    mut machine: impl FnMut() -> Result<IOResult<T>, CompletionError>,
) -> Result<T, CompletionError> {
    loop {
        match machine()? {
            IOResult::Done(v) => return Ok(v),
            IOResult::IO(c) => {
                io.wait(c.completion())?;
            }
        }
    }
}

/// Waits on `first`, then on `second`, and returns `tag`.
#[io_state_machine(state = st)]
fn two_waits(
    st: &mut TwoWaitsState,
    first: &Completion,
    second: &Completion,
    tag: u32,
    log: &mut Vec<u32>,
) -> Result<IOResult<u32>, CompletionError> {
    log.push(tag);
    yield_io!(first.clone())?;
    yield_io!(second.clone())?;
    Ok(tag)
}

#[test]
fn a_driver_that_stops_on_a_failed_completion_must_reset_the_machine() {
    let io = MemoryIO::new();
    let failed = Completion::pending();
    failed.error(CompletionError::Io(std::io::ErrorKind::Other));
    let ok = Completion::ready();
    let mut st = TwoWaitsState::default();
    let mut log = Vec::new();
    // ratchet's own driver calls the machine again: it sees the error at its
    // `yield_io!`, and the `?` there leaves it idle.
    let err = io.block(|| two_waits(&mut st, &failed, &ok, 1, &mut log));
    assert_eq!(err, Err(CompletionError::Io(std::io::ErrorKind::Other)));
    assert!(st.is_idle());

    // Turso's driver returns the error without calling the machine again,
    // so the machine is still suspended at the failed completion. Force the
    // suspension (a finished completion is otherwise passed on the fast path).
    let was = ratchet::set_force_suspend(true);
    let err = turso_block(&io, || two_waits(&mut st, &failed, &ok, 2, &mut log));
    assert_eq!(err, Err(CompletionError::Io(std::io::ErrorKind::Other)));
    assert!(!st.is_idle(), "left suspended at the failed completion");
    // Without a reset, the next run resumes the old one: it starts nothing
    // new (no `3` in the log) and reports the stale error.
    let stale = turso_block(&io, || two_waits(&mut st, &ok, &ok, 3, &mut log));
    assert_eq!(stale, Err(CompletionError::Io(std::io::ErrorKind::Other)));
    assert_eq!(log, [1, 2], "the stale run started nothing new");
    // The convention: a driver that stops on a failed completion resets the
    // machine it was driving. The next run then starts at the top.
    let err = turso_block(&io, || two_waits(&mut st, &failed, &ok, 4, &mut log));
    assert!(err.is_err() && !st.is_idle());
    st.reset();
    assert!(st.is_idle());
    assert_eq!(
        turso_block(&io, || two_waits(&mut st, &ok, &ok, 5, &mut log)),
        Ok(5)
    );
    ratchet::set_force_suspend(was);
    assert_eq!(log, [1, 2, 4, 5]);
    assert!(st.is_idle());
}

// ---------------------------------------------------------------------------
// `reset()` at a `call_io!` point: the caller's stored locals are dropped (a
// callee state stored as a local goes with them); a callee state that lives
// elsewhere is not the caller's to reset.

#[derive(Default)]
struct Pager {
    freed: Vec<u64>,
    free_page_state: FreePageState,
    free_run_state: FreeRunState,
    count_state: CountState,
    /// `count`'s result, kept past `Done` (hand-written machines often keep
    /// it in a final state variant; a generated state is idle after `Done`).
    count_result: Option<u64>,
    counted: u32,
}

#[io_state_machines]
impl Pager {
    #[io_state_machine(state = self.free_page_state)]
    fn free_page(&mut self, no: u64, c: &Completion) -> Result<IOResult<()>, CompletionError> {
        yield_io!(c.clone())?;
        self.freed.push(no);
        Ok(())
    }

    #[io_state_machine(state = self.free_run_state)]
    fn free_run(&mut self, first: u64, n: u64, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
        for no in first..first + n {
            call_io!(self.free_page(no, c))?;
        }
        Ok(n)
    }

    /// Counts once, then answers from the kept result.
    #[io_state_machine(state = self.count_state)]
    fn count(&mut self, c: &Completion) -> Result<IOResult<u64>, CompletionError> {
        if let Some(n) = self.count_result {
            return Ok(n);
        }
        yield_io!(c.clone())?;
        self.counted += 1;
        let n = self.freed.len() as u64;
        self.count_result = Some(n);
        Ok(n)
    }
}

#[test]
fn reset_at_a_call_point_leaves_a_callee_state_in_self_to_its_owner() {
    let io = MemoryIO::new();
    let mut pager = Pager::default();
    let pending = Completion::pending();
    // Suspended inside free_page(10), called from free_run(10, 3).
    assert!(matches!(pager.free_run(10, 3, &pending), Ok(IOResult::IO(_))));
    assert!(!pager.free_run_state.is_idle() && !pager.free_page_state.is_idle());
    pager.free_run_state.reset();
    // The callee's state lives in another field: still suspended. Resetting
    // only the caller would let the next run resume the callee's old run
    // (freeing page 10 for a call that asked for page 20); reset both.
    assert!(!pager.free_page_state.is_idle());
    pager.free_page_state.reset();
    assert!(
        pending.failed(),
        "reset aborts the completion the callee waited on"
    );
    let ready = Completion::ready();
    assert_eq!(io.block(|| pager.free_run(20, 2, &ready)), Ok(2));
    assert_eq!(pager.freed, [20, 21]);
}

/// A callee state stored as a local of the caller is dropped with it.
#[io_state_machine(state = st)]
fn free_two(
    st: &mut FreeTwoState,
    pager: &mut Pager,
    c: &Completion,
) -> Result<IOResult<()>, CompletionError> {
    let mut sub: FreeLocalState = FreeLocalState::default();
    call_io!(free_local(&mut sub, pager, 1, c))?;
    call_io!(free_local(&mut sub, pager, 2, c))?;
    Ok(())
}

#[io_state_machine(state = st)]
fn free_local(
    st: &mut FreeLocalState,
    pager: &mut Pager,
    no: u64,
    c: &Completion,
) -> Result<IOResult<()>, CompletionError> {
    yield_io!(c.clone())?;
    pager.freed.push(no);
    Ok(())
}

#[test]
fn reset_at_a_call_point_drops_a_callee_state_stored_as_a_local() {
    let io = MemoryIO::new();
    let mut pager = Pager::default();
    let mut st = FreeTwoState::default();
    let pending = Completion::pending();
    assert!(matches!(
        free_two(&mut st, &mut pager, &pending),
        Ok(IOResult::IO(_))
    ));
    st.reset();
    assert!(st.is_idle());
    let ready = Completion::ready();
    assert_eq!(io.block(|| free_two(&mut st, &mut pager, &ready)), Ok(()));
    assert_eq!(pager.freed, [1, 2], "the new run started both callees afresh");
}

#[test]
fn a_result_kept_past_done_is_answered_without_io() {
    let io = MemoryIO::new();
    let mut pager = Pager {
        freed: vec![1, 2, 3],
        ..Pager::default()
    };
    let pending = Completion::pending();
    assert!(matches!(pager.count(&pending), Ok(IOResult::IO(_))));
    pending.complete(0);
    assert_eq!(io.block(|| pager.count(&pending)), Ok(3));
    // Answered from the kept result: no I/O (a pending completion would
    // suspend), no second count.
    let never = Completion::pending();
    assert!(matches!(pager.count(&never), Ok(IOResult::Done(3))));
    assert_eq!(pager.counted, 1);
    assert!(pager.count_state.is_idle());
}
