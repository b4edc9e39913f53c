// The machines both hygiene crates expand: included by `tests/hygiene.rs`
// (under `deny(warnings)`) and `tests/hygiene_pedantic.rs` (under
// `clippy::pedantic`), so one set of machines is held to both.

use ratchet::{
    Completion, CompletionError, IOResult, call_io, io_state_machine, io_state_machines, yield_io,
};

struct Result;
struct Ok;
struct Err;
struct Option;
struct Some;
struct None;
mod core {}
mod std {}
struct Default;
struct Clone;
struct Iterator;

type R<T> = ::std::result::Result<IOResult<T>, CompletionError>;

// `crate = path` (rule 14): the runtime reached under another name.
extern crate ratchet as renamed;

#[io_state_machine(state = st, crate = ::renamed)]
fn via_renamed_crate(st: &mut ViaRenamedCrateState, c: &Completion) -> R<u8> {
    let k: u8 = 3;
    yield_io!(c.clone())?;
    ::std::result::Result::Ok(k)
}

#[io_state_machine(state = st)]
fn leaf(st: &mut LeafState, c: &Completion, n: u32) -> R<u32> {
    let a: u32 = n;
    yield_io!(c.clone())?;
    ::std::result::Result::Ok(a + 1)
}

#[io_state_machine(state = st)]
fn branchy(st: &mut BranchyState, c: &Completion, n: u32) -> R<u32> {
    let mut total: u32 = 0;
    let mut sub: LeafState = LeafState::default();
    for i in 0..n {
        let v: u32 = call_io!(leaf(&mut sub, c, i))?;
        if v.is_multiple_of(2) {
            continue;
        }
        match yield_io!(c.clone()) {
            ::std::result::Result::Ok(_) => total += v,
            ::std::result::Result::Err(e) => return ::std::result::Result::Err(e),
        }
    }
    let label: ::std::string::String = ::std::format!("{total}");
    yield_io!(c.clone())?;
    ::std::assert!(!label.is_empty());
    let out: u32 = loop {
        yield_io!(c.clone())?;
        break total;
    };
    ::std::result::Result::Ok(out)
}

pub struct Machine {
    step_state: StepState,
    count: u64,
}

#[io_state_machines]
impl Machine {
    #[io_state_machine(state = self.step_state)]
    pub fn step(&mut self, c: &Completion) -> R<u64> {
        let before: u64 = self.count;
        yield_io!(c.clone())?;
        self.count += 1;
        ::std::result::Result::Ok(before)
    }
}

// State behind a lock or at an index (issue 15, item 1): the typed binding
// of the expression, under the same lints.
pub struct Locked {
    cell_state: ::std::cell::RefCell<CellStepState>,
    mutex_state: ::std::sync::Mutex<MutexStepState>,
    slots: ::std::vec::Vec<SlotStepState>,
}

#[io_state_machines]
impl Locked {
    #[io_state_machine(state = self.cell_state.borrow_mut())]
    pub fn cell_step(&self, c: &Completion) -> R<u8> {
        let k: u8 = 1;
        yield_io!(c.clone())?;
        ::std::result::Result::Ok(k)
    }

    #[io_state_machine(state = *self.mutex_state.lock().unwrap())]
    pub fn mutex_step(&self, c: &Completion) -> R<u8> {
        let k: u8 = 2;
        yield_io!(c.clone())?;
        ::std::result::Result::Ok(k)
    }

    #[io_state_machine(state = self.slots[i])]
    pub fn slot_step(&mut self, i: usize, c: &Completion) -> R<u8> {
        let k: u8 = 3;
        yield_io!(c.clone())?;
        ::std::result::Result::Ok(k)
    }
}

#[test]
fn hygienic_locked_states_run() {
    let ready = Completion::ready();
    let mut l = Locked {
        cell_state: ::std::cell::RefCell::new(CellStepState::default()),
        mutex_state: ::std::sync::Mutex::new(MutexStepState::default()),
        slots: ::std::vec![SlotStepState::default()],
    };
    ::std::assert!(::std::matches!(l.cell_step(&ready), ::std::result::Result::Ok(IOResult::Done(1))));
    ::std::assert!(::std::matches!(l.mutex_step(&ready), ::std::result::Result::Ok(IOResult::Done(2))));
    ::std::assert!(::std::matches!(l.slot_step(0, &ready), ::std::result::Result::Ok(IOResult::Done(3))));
}

#[test]
fn hygienic_machines_run() {
    let ready = Completion::ready();
    let mut st = BranchyState::default();
    let mut r = branchy(&mut st, &ready, 4).unwrap();
    while !r.is_done() {
        r = branchy(&mut st, &ready, 4).unwrap();
    }
    ::std::assert!(::std::matches!(r, IOResult::Done(4)));
    ::std::assert!(st.is_idle());
    let mut machine = Machine {
        step_state: StepState::default(),
        count: 0,
    };
    let mut r = machine.step(&ready);
    while ::std::matches!(r, ::std::result::Result::Ok(IOResult::IO(_))) {
        r = machine.step(&ready);
    }
    ::std::assert!(::std::matches!(r, ::std::result::Result::Ok(IOResult::Done(0))));
    let mut renamed_state = ViaRenamedCrateState::default();
    let mut r = via_renamed_crate(&mut renamed_state, &ready);
    while ::std::matches!(r, ::std::result::Result::Ok(IOResult::IO(_))) {
        r = via_renamed_crate(&mut renamed_state, &ready);
    }
    ::std::assert!(::std::matches!(r, ::std::result::Result::Ok(IOResult::Done(3))));
    let pending = Completion::pending();
    ::std::assert!(::std::matches!(
        machine.step(&pending),
        ::std::result::Result::Ok(IOResult::IO(_))
    ));
    ::std::assert!(!::std::format!("{:?}", machine.step_state).is_empty());
}

// Issue 14's emitter defects, each held here (both crates, and with the
// `tracing` feature by `.ci/run`'s clippy): a module without the prelude
// (the completion is turned into `IOCompletions` by a fully qualified call,
// the tracing hooks name `::core::module_path!`), a user trait whose `from`
// would make `IOCompletions::from` ambiguous, and a `let _g = ..;` guard
// stored across a suspension point (no `clippy::used_underscore_binding`
// from the code that stores and restores it).
mod no_prelude {
    #![no_implicit_prelude]
    use ::ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

    pub struct Guard;

    impl ::core::ops::Drop for Guard {
        fn drop(&mut self) {}
    }

    #[io_state_machine(state = st)]
    pub fn guarded(st: &mut GuardedState, c: &Completion) -> ::core::result::Result<IOResult<u8>, CompletionError> {
        let _g: Guard = Guard;
        yield_io!(::core::clone::Clone::clone(c))?;
        ::core::result::Result::Ok(7)
    }
}

mod user_from {
    use ratchet::{Completion, CompletionError, IOCompletions, IOResult, io_state_machine, yield_io};

    /// A user trait with a `from` for `IOCompletions`: with it and the
    /// prelude's `From` in scope, `IOCompletions::from(c)` is ambiguous.
    pub trait MyFrom<T> {
        fn from(t: T) -> Self;
    }

    impl MyFrom<Completion> for IOCompletions {
        fn from(c: Completion) -> Self {
            <IOCompletions as ::core::convert::From<Completion>>::from(c)
        }
    }

    #[io_state_machine(state = st)]
    pub fn waits(st: &mut WaitsState, c: &Completion) -> ::core::result::Result<IOResult<u8>, CompletionError> {
        yield_io!(c.clone())?;
        ::core::result::Result::Ok(8)
    }
}

#[test]
fn emitter_defects_stay_fixed() {
    let pending = Completion::pending();
    let mut st = no_prelude::GuardedState::default();
    ::std::assert!(::std::matches!(
        no_prelude::guarded(&mut st, &pending),
        ::std::result::Result::Ok(IOResult::IO(_))
    ));
    pending.complete(0);
    ::std::assert!(::std::matches!(
        no_prelude::guarded(&mut st, &pending),
        ::std::result::Result::Ok(IOResult::Done(7))
    ));
    let pending = Completion::pending();
    let mut st = user_from::WaitsState::default();
    ::std::assert!(::std::matches!(
        user_from::waits(&mut st, &pending),
        ::std::result::Result::Ok(IOResult::IO(_))
    ));
    pending.complete(0);
    ::std::assert!(::std::matches!(
        user_from::waits(&mut st, &pending),
        ::std::result::Result::Ok(IOResult::Done(8))
    ));
}

// A `let`-`else` whose initializer needs its parentheses (it would end
// with `}`) and whose `else` suspends, after a suspension point: the
// rewritten `let` and `match` do not need them, and `unused_parens` fired
// on the user's (attack round 13, finding 8).
#[io_state_machine(state = st)]
fn let_else_parens(st: &mut LetElseParensState, c: &Completion, n: u32) -> R<u32> {
    yield_io!(c.clone())?;
    let ::std::option::Option::Some(v): ::std::option::Option<u32> = (if n > 2 {
        ::std::option::Option::Some(n)
    } else {
        ::std::option::Option::None
    }) else {
        yield_io!(c.clone())?;
        return ::std::result::Result::Ok(0);
    };
    let ::std::option::Option::Some(w) = (match v {
        0 => ::std::option::Option::None,
        k => ::std::option::Option::Some(k + 1),
    }) else {
        yield_io!(c.clone())?;
        return ::std::result::Result::Ok(1);
    };
    ::std::result::Result::Ok(w)
}

#[test]
fn let_else_with_needed_parentheses_runs() {
    let io = ratchet::MemoryIO::new();
    let mut st = LetElseParensState::default();
    let c = Completion::ready();
    assert_eq!(io.block(|| let_else_parens(&mut st, &c, 3)).ok(), ::std::option::Option::Some(4));
    assert_eq!(io.block(|| let_else_parens(&mut st, &c, 1)).ok(), ::std::option::Option::Some(0));
}

/// A guard kept for its `Drop`.
struct Guard;

impl ::std::ops::Drop for Guard {
    fn drop(&mut self) {}
}

// A guard named without `_`, its `unused_variables` allowed on the `let`:
// the resume arms that end its scope bind it too, and the lint fired there
// (attack round 14, F7).
#[io_state_machine(state = st)]
fn allowed_unused_guard(st: &mut AllowedUnusedGuardState, c: &Completion) -> R<u8> {
    #[allow(unused_variables)]
    let guard: Guard = Guard;
    yield_io!(c.clone())?;
    yield_io!(c.clone())?;
    ::std::result::Result::Ok(1)
}
