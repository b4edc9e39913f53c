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
