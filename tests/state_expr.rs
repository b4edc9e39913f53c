//! State behind a lock (issue 15, item 1): `state = <expression>` is
//! evaluated once per call and gives the state or something that derefs
//! mutably to it (a `RefCell` borrow, a `Mutex` or `RwLock` guard, an indexed
//! place), held for that call only. Each machine runs under the schedules of
//! `support` (ready, deferred, random with spurious re-entry while pending)
//! and is compared with what the plain function would do; between calls the
//! lock must be free again.
#![allow(missing_docs)]

use std::cell::RefCell;
use std::sync::{Mutex, MutexGuard, RwLock};

use ratchet::{CompletionError, IOResult, call_io, io_state_machine, io_state_machines, yield_io};

mod support;
use support::{Dev, SCHEDULES, drive};

type Res<T> = Result<IOResult<T>, CompletionError>;

// ---------------------------------------------------------------------------
// Turso's shape: `&self` methods, the state in a `RefCell` field.

pub struct Pager {
    free_page_state: RefCell<FreePageState>,
    freed: RefCell<Vec<u32>>,
}

#[io_state_machines]
impl Pager {
    #[io_state_machine(state = self.free_page_state.borrow_mut())]
    pub fn free_page(&self, dev: &Dev, page: u32, trace: &mut Vec<u32>) -> Res<u32> {
        let trunk: u32 = page / 10;
        trace.push(trunk);
        yield_io!(dev.op())?;
        trace.push(page);
        yield_io!(dev.op())?;
        self.freed.borrow_mut().push(page);
        Ok(trunk + page)
    }
}

#[test]
fn refcell_borrow_mut_state_on_a_shared_self_method() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let pager = Pager {
            free_page_state: RefCell::new(FreePageState::default()),
            freed: RefCell::new(Vec::new()),
        };
        let mut suspended = 0;
        let (r, trace, _) = drive(&dev, |t| {
            let r = pager.free_page(&dev, 42, t);
            // Held for that call only: free again once the call returned.
            let st = pager
                .free_page_state
                .try_borrow_mut()
                .expect("the RefCell is released after each call");
            if matches!(r, Ok(IOResult::IO(_))) {
                assert!(!st.is_idle(), "{s:?}: suspended, so the state says where");
                suspended += 1;
            }
            r
        });
        assert_eq!(r, Ok(46), "{s:?}");
        // Exactly once per statement, however often it was re-entered.
        assert_eq!(trace, [4, 42], "{s:?}");
        assert_eq!(*pager.freed.borrow(), [42], "{s:?}");
        assert!(pager.free_page_state.borrow().is_idle(), "{s:?}");
        if !matches!(s, support::Schedule::Ready) {
            assert!(suspended >= 2, "{s:?}: the machine suspended at both points");
        }
    }
}

// ---------------------------------------------------------------------------
// A `Mutex` guard, with and without the `*`, and an `RwLock` write guard.

pub struct Shared {
    count_state: Mutex<CountState>,
    sum_state: RwLock<SumState>,
    guard_state: Mutex<GuardFormState>,
}

#[io_state_machines]
impl Shared {
    #[io_state_machine(state = *self.count_state.lock().unwrap())]
    pub fn count(&self, dev: &Dev, n: u32, trace: &mut Vec<u32>) -> Res<u32> {
        let mut i: u32 = 0;
        while i < n {
            trace.push(i);
            yield_io!(dev.op())?;
            i += 1;
        }
        Ok(i)
    }

    #[io_state_machine(state = *self.sum_state.write().unwrap())]
    pub fn sum(&self, dev: &Dev, n: u32, trace: &mut Vec<u32>) -> Res<u32> {
        let mut total: u32 = 0;
        for i in 0..n {
            let got = yield_io!(dev.op())?;
            total += i * u32::try_from(got).unwrap_or(0);
            trace.push(total);
        }
        Ok(total)
    }

    // The guard itself, no `*`: it derefs mutably to the state.
    #[io_state_machine(state = self.guard_state.lock().unwrap())]
    pub fn guard_form(&self, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
        let c: u32 = 7;
        yield_io!(dev.op())?;
        trace.push(c);
        // A machine calling another one whose state is behind its own lock.
        let inner = call_io!(self.count(dev, 2, trace))?;
        Ok(c + inner)
    }
}

fn shared() -> Shared {
    Shared {
        count_state: Mutex::new(CountState::default()),
        sum_state: RwLock::new(SumState::default()),
        guard_state: Mutex::new(GuardFormState::default()),
    }
}

#[test]
fn mutex_and_rwlock_guard_states() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let sh = shared();
        let (r, trace, _) = drive(&dev, |t| {
            let r = sh.count(&dev, 3, t);
            assert!(
                sh.count_state.try_lock().is_ok(),
                "{s:?}: the mutex is released after each call"
            );
            r
        });
        assert_eq!(r, Ok(3), "{s:?}");
        assert_eq!(trace, [0, 1, 2], "{s:?}");
        assert!(sh.count_state.lock().unwrap().is_idle());

        let (r, trace, _) = drive(&dev, |t| {
            let r = sh.sum(&dev, 4, t);
            assert!(
                sh.sum_state.try_write().is_ok(),
                "{s:?}: the lock is released after each call"
            );
            r
        });
        assert_eq!(r, Ok(6), "{s:?}");
        assert_eq!(trace, [0, 1, 3, 6], "{s:?}");
        assert!(sh.sum_state.read().unwrap().is_idle());

        let (r, trace, _) = drive(&dev, |t| sh.guard_form(&dev, t));
        assert_eq!(r, Ok(9), "{s:?}");
        assert_eq!(trace, [7, 0, 1], "{s:?}");
        assert!(sh.guard_state.lock().unwrap().is_idle());
        assert!(sh.count_state.lock().unwrap().is_idle());
    }
}

#[test]
fn a_failed_completion_leaves_the_locked_state_idle() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        dev.fail_op(1);
        let sh = shared();
        let (r, trace, _) = drive(&dev, |t| sh.count(&dev, 3, t));
        assert_eq!(r, Err(CompletionError::Io(std::io::ErrorKind::Other)), "{s:?}");
        assert_eq!(trace, [0, 1], "{s:?}");
        assert!(sh.count_state.lock().unwrap().is_idle(), "{s:?}");
    }
}

// ---------------------------------------------------------------------------
// An indexed place: one state per slot, several instances in flight.

pub struct Slots {
    states: Vec<FillState>,
    filled: Vec<u32>,
}

#[io_state_machines]
impl Slots {
    #[io_state_machine(state = self.states[slot])]
    pub fn fill(&mut self, dev: &Dev, slot: usize, value: u32) -> Res<u32> {
        let v: u32 = value * 2;
        yield_io!(dev.op())?;
        yield_io!(dev.op())?;
        Ok(v + 1)
    }
}

#[io_state_machine(state = states[slot])]
fn fill_free(states: &mut [FillFreeState], dev: &Dev, slot: usize, value: u32) -> Res<u32> {
    let v: u32 = value + 100;
    yield_io!(dev.op())?;
    Ok(v)
}

#[test]
fn indexed_vec_states_interleaved() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut slots = Slots {
            states: (0..3).map(|_| FillState::default()).collect(),
            filled: Vec::new(),
        };
        // Three instances in flight, stepped round-robin, each with its own
        // slot; the driver passes the same arguments until `Done`.
        let mut done = [None; 3];
        let mut rounds = 0;
        while done.iter().any(Option::is_none) {
            rounds += 1;
            assert!(rounds < 10_000, "{s:?}: does not finish");
            for (slot, d) in done.iter_mut().enumerate() {
                if d.is_some() {
                    continue;
                }
                match slots.fill(&dev, slot, u32::try_from(slot).unwrap() * 10) {
                    Ok(IOResult::Done(v)) => {
                        slots.filled.push(v);
                        *d = Some(v);
                    }
                    Ok(IOResult::IO(_)) => assert!(!slots.states[slot].is_idle()),
                    Err(e) => panic!("{s:?}: {e:?}"),
                }
            }
            dev.finish_all();
        }
        assert_eq!(done, [Some(1), Some(21), Some(41)], "{s:?}");
        assert!(slots.states.iter().all(FillState::is_idle), "{s:?}");
        assert_eq!(slots.filled.len(), 3);

        let mut states = vec![FillFreeState::default(), FillFreeState::default()];
        let (r, _, _) = drive(&dev, |_: &mut Vec<()>| fill_free(&mut states, &dev, 1, 5));
        assert_eq!(r, Ok(105), "{s:?}");
        assert!(states.iter().all(FillFreeState::is_idle));
    }
}

// ---------------------------------------------------------------------------
// `?` in the expression: a lock that reports its own error; a generic state.

pub struct Fallible<T> {
    state: Mutex<TakeState<T>>,
    items: RefCell<Vec<T>>,
}

impl<T> Fallible<T> {
    fn lock_state(&self) -> Result<MutexGuard<'_, TakeState<T>>, CompletionError> {
        self.state.lock().map_err(|_| CompletionError::Aborted)
    }
}

#[io_state_machines]
impl<T: Clone> Fallible<T> {
    #[io_state_machine(state = *self.lock_state()?)]
    pub fn take(&self, dev: &Dev) -> Res<Option<T>> {
        let first: Option<T> = self.items.borrow().first().cloned();
        yield_io!(dev.op())?;
        Ok(first)
    }
}

#[test]
fn question_mark_in_the_state_expression_and_a_generic_state() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let f = Fallible {
            state: Mutex::new(TakeState::<String>::default()),
            items: RefCell::new(vec!["a".to_owned()]),
        };
        let (r, _, _) = drive(&dev, |_: &mut Vec<()>| f.take(&dev));
        assert_eq!(r, Ok(Some("a".to_owned())), "{s:?}");
        assert!(f.state.lock().unwrap().is_idle());
    }
    // A poisoned lock: the expression's `?` returns its error; the body
    // never runs.
    let dev = Dev::new(support::Schedule::Ready);
    let f = Fallible {
        state: Mutex::new(TakeState::<u8>::default()),
        items: RefCell::new(vec![1]),
    };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _g = f.state.lock().unwrap();
        panic!("poison the lock");
    }));
    assert_eq!(f.take(&dev).map(|_| ()), Err(CompletionError::Aborted));
    assert_eq!(dev.issued(), 0, "the body did not run");
}

// ---------------------------------------------------------------------------
// A body that touches the same lock: the borrow is held for the whole call,
// so a second `borrow_mut` panics (as any nested `borrow_mut` would). The
// guide shows the fix: keep the state in a cell of its own.

pub struct Tangled {
    state: RefCell<TouchState>,
    separate: RefCell<PeekState>,
}

#[io_state_machines]
impl Tangled {
    #[io_state_machine(state = self.state.borrow_mut())]
    pub fn touch(&self, dev: &Dev) -> Res<bool> {
        yield_io!(dev.op())?;
        // The same cell the machine holds for this call.
        let idle = self.state.borrow().is_idle();
        Ok(idle)
    }

    #[io_state_machine(state = self.separate.borrow_mut())]
    pub fn peek(&self, dev: &Dev) -> Res<bool> {
        yield_io!(dev.op())?;
        // Another cell: fine.
        let idle = self.state.borrow().is_idle();
        Ok(idle)
    }
}

#[test]
fn a_body_touching_the_locked_state_panics_and_the_state_is_idle_after() {
    let dev = Dev::new(support::Schedule::Ready);
    let t = Tangled {
        state: RefCell::new(TouchState::default()),
        separate: RefCell::new(PeekState::default()),
    };
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.touch(&dev)));
    let msg = r.expect_err("a second borrow of the held cell panics");
    let msg = msg
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| msg.downcast_ref::<String>().cloned());
    assert!(msg.is_some_and(|m| m.contains("borrowed")), "RefCell's own panic");
    // Rule 11: after a panic the state is idle, and the borrow was released
    // while unwinding.
    assert!(t.state.try_borrow_mut().is_ok_and(|s| s.is_idle()));
    // The fix: the machine's state in a cell the body does not touch.
    assert_eq!(ratchet::MemoryIO::new().block(|| t.peek(&dev)), Ok(true));
}

// ---------------------------------------------------------------------------
// A free function whose state is behind a `&RefCell` parameter, and a lock
// whose `write()` gives the guard itself (parking_lot's shape), written
// `state = *self.state.write()`.

#[io_state_machine(state = cell.borrow_mut())]
fn via_cell(cell: &RefCell<ViaCellState>, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
    let k: u32 = 5;
    trace.push(k);
    yield_io!(dev.op())?;
    trace.push(k + 1);
    Ok(k * 2)
}

/// A lock without poisoning: `write()` returns the guard.
pub struct PlainLock<T>(RefCell<T>);

impl<T> PlainLock<T> {
    pub fn write(&self) -> std::cell::RefMut<'_, T> {
        self.0.borrow_mut()
    }
}

pub struct Engine {
    state: PlainLock<BumpState>,
}

#[io_state_machines]
impl Engine {
    #[io_state_machine(state = *self.state.write())]
    pub fn bump(&self, dev: &Dev, by: u32) -> Res<u32> {
        let start: u32 = by;
        yield_io!(dev.op())?;
        Ok(start + 1)
    }
}

#[test]
fn refcell_parameter_and_a_lock_whose_write_gives_the_guard() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let cell = RefCell::new(ViaCellState::default());
        let (r, trace, _) = drive(&dev, |t| {
            let r = via_cell(&cell, &dev, t);
            assert!(cell.try_borrow_mut().is_ok(), "{s:?}: released after each call");
            r
        });
        assert_eq!(r, Ok(10), "{s:?}");
        assert_eq!(trace, [5, 6], "{s:?}");
        assert!(cell.borrow().is_idle());

        let e = Engine {
            state: PlainLock(RefCell::new(BumpState::default())),
        };
        let (r, _, _) = drive(&dev, |_: &mut Vec<()>| e.bump(&dev, 41));
        assert_eq!(r, Ok(42), "{s:?}");
        assert!(e.state.0.borrow().is_idle());
    }
}

// ---------------------------------------------------------------------------
// Found by a fresh-context tester: `?` on a call that gives the guard,
// without a `*` (it did not compile: the `?` expression was taken for the
// state itself). The guard is derefed as any call's value is.

pub struct TryCell {
    state: RefCell<TryTakeState>,
}

#[io_state_machines]
impl TryCell {
    #[io_state_machine(state = self.state.try_borrow_mut().map_err(|_| CompletionError::Aborted)?)]
    pub fn try_take(&self, dev: &Dev, trace: &mut Vec<u32>) -> Res<u32> {
        trace.push(1);
        yield_io!(dev.op())?;
        trace.push(2);
        Ok(5)
    }
}

#[test]
fn question_mark_on_a_guard_without_a_deref() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let c = TryCell {
            state: RefCell::new(TryTakeState::default()),
        };
        let (r, trace, _) = drive(&dev, |t| c.try_take(&dev, t));
        assert_eq!((r, trace), (Ok(5), vec![1, 2]), "{s:?}");
        assert!(c.state.borrow().is_idle());
        // The cell already borrowed: the expression's `?` returns the error.
        let held = c.state.borrow();
        assert_eq!(
            c.try_take(&dev, &mut Vec::new()).map(|_| ()),
            Err(CompletionError::Aborted)
        );
        drop(held);
    }
}

// ---------------------------------------------------------------------------
// `state = self.field`: the field is reached through a typed call at each
// use (so that a field of another type is one error at the field, ui
// fixture state-field-of-another-type), borrowed for that use only: the
// body still calls `&mut self` methods and reads other fields between
// suspension points, and a generic state's parameters come from the field.

pub struct Queue<T> {
    pop_state: PopState<T>,
    items: Vec<T>,
    popped: u32,
}

impl<T> Queue<T> {
    fn note_pop(&mut self) {
        self.popped += 1;
    }
}

#[io_state_machines]
impl<T: Clone> Queue<T> {
    #[io_state_machine(state = self.pop_state)]
    pub fn pop(&mut self, dev: &Dev) -> Res<Option<T>> {
        let last: Option<T> = self.items.last().cloned();
        yield_io!(dev.op())?;
        self.note_pop();
        yield_io!(dev.op())?;
        self.items.pop();
        Ok(last)
    }
}

#[test]
fn field_state_is_borrowed_per_use_and_generic() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut q = Queue {
            pop_state: PopState::<String>::default(),
            items: vec!["a".to_owned(), "b".to_owned()],
            popped: 0,
        };
        let (r, _, _) = drive(&dev, |_: &mut Vec<()>| q.pop(&dev));
        assert_eq!(r, Ok(Some("b".to_owned())), "{s:?}");
        let (r, _, _) = drive(&dev, |_: &mut Vec<()>| q.pop(&dev));
        assert_eq!(r, Ok(Some("a".to_owned())), "{s:?}");
        assert!(q.pop_state.is_idle(), "{s:?}");
        assert_eq!((q.popped, q.items.len()), (2, 0), "{s:?}");
    }
}
