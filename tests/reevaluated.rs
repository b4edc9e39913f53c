//! `#[reevaluated] let`: a binding evaluated again from the arguments at the
//! start of the run and after every real resume, never stored, so it may
//! hold a borrow (DESIGN rule 8's last sentence; issue 15 item 2, Turso's
//! `let header = HeaderRefMut::from_pager(pager)?` held for the whole
//! function). Each test counts the evaluations against the calls that ran
//! code.
#![allow(missing_docs)]

use std::cell::{Cell, RefCell, RefMut};

use ratchet::{CompletionError, IOResult, call_io, io_state_machine, io_state_machines, yield_io};

mod support;
use support::{Dev, SCHEDULES, Schedule, drive};

type Res<T> = Result<IOResult<T>, CompletionError>;

#[derive(Default)]
pub struct Header {
    pub count: u32,
}

/// A pager whose header is behind a `RefCell`: the guard borrows the pager.
#[derive(Default)]
pub struct Pager {
    header: RefCell<Header>,
    evaluations: Cell<u32>,
    /// The evaluation (1-based) that fails, if any.
    fail_at: Cell<Option<u32>>,
}

impl Pager {
    fn header_mut(&self) -> Result<RefMut<'_, Header>, CompletionError> {
        let n = self.evaluations.get() + 1;
        self.evaluations.set(n);
        if self.fail_at.get() == Some(n) {
            return Err(CompletionError::Io(std::io::ErrorKind::Other));
        }
        Ok(self.header.borrow_mut())
    }
}

#[io_state_machine(state = st)]
fn bump(st: &mut BumpState, pager: &Pager, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    #[reevaluated]
    let mut header = pager.header_mut()?;
    header.count += 1;
    trace.push(header.count);
    yield_io!(dev.op())?;
    header.count += 10;
    trace.push(header.count);
    yield_io!(dev.op())?;
    Ok(header.count)
}

#[test]
fn a_reevaluated_guard_runs_at_the_start_and_after_each_real_resume() {
    let (pager, dev) = (Pager::default(), Dev::new(Schedule::Deferred));
    let mut st = BumpState::default();
    let mut t = Vec::new();
    assert!(!bump(&mut st, &pager, &dev, &mut t).unwrap().is_done());
    assert_eq!((pager.evaluations.get(), t.as_slice()), (1, &[1][..]));
    // The guard was dropped when the call returned: the pager is free.
    assert!(pager.header.try_borrow_mut().is_ok());
    // A re-entry while the completion is pending runs nothing, not even
    // the re-evaluated binding (rule 3).
    for _ in 0..3 {
        let mut again = Vec::new();
        assert!(!bump(&mut st, &pager, &dev, &mut again).unwrap().is_done());
        assert!(again.is_empty());
    }
    assert_eq!(pager.evaluations.get(), 1);
    dev.finish_all();
    let mut t = Vec::new();
    assert!(!bump(&mut st, &pager, &dev, &mut t).unwrap().is_done());
    assert_eq!((pager.evaluations.get(), t.as_slice()), (2, &[11][..]));
    dev.finish_all();
    let r = bump(&mut st, &pager, &dev, &mut Vec::new()).unwrap();
    assert!(matches!(r, IOResult::Done(11)), "{r:?}");
    assert_eq!(pager.evaluations.get(), 3);
    assert!(st.is_idle());
}

#[test]
fn a_reevaluated_guard_gives_the_plain_result_on_every_schedule() {
    for s in SCHEDULES {
        let (pager, dev) = (Pager::default(), Dev::new(s));
        let mut st = BumpState::default();
        let (r, trace, calls) = drive(&dev, |t| bump(&mut st, &pager, &dev, t));
        assert_eq!(r, Ok(11), "{s:?}");
        assert_eq!(trace, [1, 11], "{s:?}");
        assert!(pager.evaluations.get() as usize <= calls, "{s:?}");
        if matches!(s, Schedule::Ready) && !ratchet::testing::force_suspend() {
            assert_eq!(
                pager.evaluations.get(),
                1,
                "with every completion ready there is no resume"
            );
        }
        assert!(st.is_idle());
    }
}

#[test]
fn an_error_of_a_reevaluated_binding_after_a_resume_leaves_the_state_idle() {
    let (pager, dev) = (Pager::default(), Dev::new(Schedule::Deferred));
    pager.fail_at.set(Some(2));
    let mut st = BumpState::default();
    assert!(!bump(&mut st, &pager, &dev, &mut Vec::new()).unwrap().is_done());
    dev.finish_all();
    let mut t = Vec::new();
    let r = bump(&mut st, &pager, &dev, &mut t);
    assert!(matches!(r, Err(CompletionError::Io(_))), "{r:?}");
    assert!(t.is_empty(), "the body did not go on after the error: {t:?}");
    assert!(st.is_idle(), "rule 11: after an error the state is idle");
    // The next call starts a new run.
    pager.fail_at.set(None);
    let mut t = Vec::new();
    assert!(!bump(&mut st, &pager, &dev, &mut t).unwrap().is_done());
    assert_eq!(t, [2]);
}

// A method: the binding borrows a field of `self` while the state lives in
// another field, and its value reaches a callee through `call_io!`, whose
// expression is evaluated again on every call (rule 5).

#[io_state_machine(state = st)]
fn add_to(st: &mut AddToState, header: &mut Header, dev: &Dev, n: u32) -> Res<u32> {
    yield_io!(dev.op())?;
    header.count += n;
    Ok(header.count)
}

pub struct Engine {
    pager: Pager,
    run_state: RunState,
    add_state: AddToState,
}

#[io_state_machines]
impl Engine {
    #[io_state_machine(state = self.run_state)]
    fn run(&mut self, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
        #[reevaluated]
        let mut header = self.pager.header_mut()?;
        trace.push(header.count);
        let a = call_io!(add_to(&mut self.add_state, &mut header, dev, 5))?;
        trace.push(a);
        yield_io!(dev.op())?;
        header.count *= 2;
        Ok(header.count)
    }
}

#[test]
fn a_reevaluated_field_borrow_reaches_a_callee_on_every_resume() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut e = Engine {
            pager: Pager::default(),
            run_state: RunState::default(),
            add_state: AddToState::default(),
        };
        let (r, trace, _) = drive(&dev, |t| e.run(&dev, t));
        assert_eq!(r, Ok(10), "{s:?}");
        assert_eq!(trace, [0, 5], "{s:?}");
        assert!(e.run_state.is_idle());
    }
}

// ---------------------------------------------------------------------------
// Findings of a fresh-context attack on `#[reevaluated]` (at 9498f72).

// Finding 1: a machine without a suspension point (or whose only one is
// compiled out) kept no binding.
#[io_state_machine(state = st)]
fn no_suspension(st: &mut NoSuspensionState, k: u32) -> Res<u32> {
    #[reevaluated]
    let v = k + 1;
    #[cfg(any())]
    yield_io!(ratchet::Completion::ready())?;
    Ok(v)
}

#[test]
fn a_reevaluated_binding_in_a_machine_without_a_suspension_point() {
    let mut st = NoSuspensionState::default();
    assert!(matches!(no_suspension(&mut st, 1), Ok(IOResult::Done(2))));
}

// Finding 2: a `return Ok(v)` in the initializer is the machine's `return`
// (rule 1), as in the body.
#[io_state_machine(state = st)]
fn return_in_initializer(st: &mut ReturnInInitializerState, o: Option<u32>, dev: &Dev) -> Res<u32> {
    #[reevaluated]
    let v = match o {
        Some(v) => v,
        None => return Ok(777),
    };
    #[reevaluated]
    let Some(w) = o.map(|x| x + 1) else {
        return Ok(0);
    };
    yield_io!(dev.op())?;
    Ok(v + w)
}

#[test]
fn a_return_in_a_reevaluated_initializer_returns_from_the_machine() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = ReturnInInitializerState::default();
        let (r, _, _) = drive(&dev, |_: &mut Vec<u32>| {
            return_in_initializer(&mut st, Some(4), &dev)
        });
        assert_eq!(r, Ok(9), "{s:?}");
        let (r, _, _) = drive(&dev, |_: &mut Vec<u32>| {
            return_in_initializer(&mut st, None, &dev)
        });
        assert_eq!(r, Ok(777), "{s:?}");
        assert!(st.is_idle());
    }
}

// Finding 3: a guard that borrows all of `self`, in a method whose state is
// a field of `self`, is dropped before the state is written back.
#[derive(Default)]
pub struct WholeSelf {
    hdr: RefCell<u32>,
    st: WholeSelfState,
}

#[io_state_machines]
impl WholeSelf {
    fn header(&self) -> RefMut<'_, u32> {
        self.hdr.borrow_mut()
    }

    #[io_state_machine(state = self.st, name = WholeSelfState)]
    fn bump(&mut self, dev: &Dev) -> Res<u32> {
        #[reevaluated]
        let mut h = self.header();
        *h += 1;
        yield_io!(dev.op())?;
        *h += 10;
        Ok(*h)
    }
}

#[test]
fn a_reevaluated_guard_of_all_of_self_in_a_method() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut w = WholeSelf::default();
        let (r, _, _) = drive(&dev, |_: &mut Vec<u32>| w.bump(&dev));
        assert_eq!(r, Ok(11), "{s:?}");
        assert!(w.st.is_idle());
    }
}

// Finding 5 (an item before the binding) and finding 7 (a typed
// re-evaluated binding is a typed local a copy takes its type from).
#[io_state_machine(state = st)]
fn typed_copy(st: &mut TypedCopyState, k: &u32, dev: &Dev) -> Res<u32> {
    const STEP: u32 = 1;
    #[reevaluated]
    let v: u32 = *k + STEP;
    let mut n = v;
    yield_io!(dev.op())?;
    n += 1;
    Ok(n)
}

#[test]
fn a_copy_of_a_typed_reevaluated_binding_is_typed_and_items_may_precede_it() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = TypedCopyState::default();
        let (r, _, _) = drive(&dev, |_: &mut Vec<u32>| typed_copy(&mut st, &5, &dev));
        assert_eq!(r, Ok(7), "{s:?}");
    }
}

// A field borrow of a re-evaluated binding is re-created from it after a
// suspension, as one of an argument is (rule 9).
#[io_state_machine(state = st)]
fn field_of_reevaluated(st: &mut FieldOfReevaluatedState, pager: &Pager, dev: &Dev) -> Res<u32> {
    #[reevaluated]
    let header = pager.header.borrow();
    let count = &header.count;
    yield_io!(dev.op())?;
    Ok(*count + 1)
}

#[test]
fn a_borrow_of_a_reevaluated_binding_is_recreated_after_a_resume() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let pager = Pager::default();
        pager.header.borrow_mut().count = 4;
        let mut st = FieldOfReevaluatedState::default();
        let (r, _, _) = drive(&dev, |_: &mut Vec<u32>| {
            field_of_reevaluated(&mut st, &pager, &dev)
        });
        assert_eq!(r, Ok(5), "{s:?}");
    }
}
