//! The `tracing` feature: one span per call of a machine, naming the
//! function and the state the call starts in; inside it `resume` (with the
//! outcome of the awaited completion), `pass` for each suspension point gone
//! through on the fast path, and exactly one terminal event per call:
//! `suspend`, `done` or `error`, whichever way the call returns (`?`
//! included). Each test asserts the whole sequence of spans and events.
//! Run with `cargo test --features tracing --test tracing`.
#![cfg(feature = "tracing")]
#![allow(missing_docs)]

use std::fmt::{self, Write as _};
use std::io::ErrorKind;
use std::sync::{Arc, Mutex};

use ratchet::{
    Completion, CompletionError, IOResult, call_io, io_state_machine, io_state_machines, yield_io,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

#[io_state_machine(state = st)]
fn two_reads(st: &mut TwoReadsState, ops: &[Completion]) -> Result<IOResult<u32>, CompletionError> {
    let mut n: u32 = 0;
    yield_io!(header(ops))?;
    n += 1;
    yield_io!(body(ops))?;
    n += 1;
    Ok(n)
}

fn header(ops: &[Completion]) -> Completion {
    ops[0].clone()
}

fn body(ops: &[Completion]) -> Completion {
    ops[1].clone()
}

#[derive(Debug, PartialEq)]
enum Fail {
    Completion(CompletionError),
    Odd(u32),
    TooBig,
}

impl From<CompletionError> for Fail {
    fn from(e: CompletionError) -> Self {
        Self::Completion(e)
    }
}

fn even(n: u32) -> Result<u32, Fail> {
    if n.is_multiple_of(2) {
        Ok(n)
    } else {
        Err(Fail::Odd(n))
    }
}

/// Leaves through a `?` on its own value (odd `n`), through a `?` on the
/// completion (an error), or with an explicit `Err` (`n > 10`).
#[io_state_machine(state = st)]
fn checked(st: &mut CheckedState, op: &Completion, n: u32) -> Result<IOResult<u32>, Fail> {
    let m: u32 = even(n)?;
    yield_io!(op.clone())?;
    if m > 10 {
        return Err(Fail::TooBig);
    }
    Ok(m)
}

#[io_state_machine(state = st)]
fn outer(
    st: &mut OuterState,
    inner: &mut TwoReadsState,
    ops: &[Completion],
) -> Result<IOResult<u32>, CompletionError> {
    let n: u32 = call_io!(two_reads(inner, ops))?;
    Ok(n + 10)
}

/// An error type without `Debug`: recorded as `..`.
struct Opaque;

impl From<CompletionError> for Opaque {
    fn from(_: CompletionError) -> Self {
        Self
    }
}

#[io_state_machine(state = st)]
fn opaque(st: &mut OpaqueState, op: &Completion) -> Result<IOResult<()>, Opaque> {
    yield_io!(op.clone())?;
    Err(Opaque)
}

/// A generic error type: its `Debug` is not looked up.
#[io_state_machine(state = st)]
fn generic<E: From<CompletionError>>(
    st: &mut GenericState,
    op: &Completion,
    fail: bool,
) -> Result<IOResult<u8>, E> {
    yield_io!(op.clone())?;
    if fail {
        return Err(E::from(CompletionError::Aborted));
    }
    Ok(1)
}

#[derive(Default)]
struct Pages {
    data: Vec<u8>,
    read_state: ReadState,
}

#[io_state_machines]
impl Pages {
    /// `&mut self`, and a return type borrowing from it with an elided
    /// lifetime.
    #[io_state_machine(state = self.read_state)]
    fn read(&mut self, op: &Completion, n: u32) -> Result<IOResult<&[u8]>, Fail> {
        yield_io!(op.clone())?;
        let m: u32 = even(n)?;
        Ok(&self.data[..m as usize])
    }
}

/// A return type naming `impl Trait`.
#[io_state_machine(state = st)]
fn shown(st: &mut ShownState, op: &Completion) -> Result<IOResult<impl fmt::Display>, CompletionError> {
    yield_io!(op.clone())?;
    Ok(7u8)
}

/// Writes each field as `name=value`, space separated.
struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        let _ = write!(self.0, "{}={value:?}", field.name());
    }
}

/// Collects new spans and events as lines of text, in order.
#[derive(Clone, Default)]
struct Collect {
    lines: Arc<Mutex<Vec<String>>>,
}

impl Subscriber for Collect {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut f = Fields(String::new());
        span.record(&mut f);
        let mut lines = self.lines.lock().unwrap();
        lines.push(format!("span {}: {}", span.metadata().name(), f.0));
        Id::from_u64(lines.len() as u64)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut f = Fields(String::new());
        event.record(&mut f);
        self.lines.lock().unwrap().push(format!("event {}", f.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// The spans and events `f` records, one line each.
fn record(f: impl FnOnce()) -> Vec<String> {
    let collect = Collect::default();
    let lines = Arc::clone(&collect.lines);
    tracing::subscriber::with_default(collect, f);
    let lines = lines.lock().unwrap();
    lines.clone()
}

const PENDING: &str = "Completion { kind: \"generic\", result: None }";

#[test]
fn a_span_per_call_and_an_event_per_transition() {
    let lines = record(|| {
        let ops = [Completion::pending(), Completion::pending()];
        let mut st = TwoReadsState::default();
        assert!(matches!(two_reads(&mut st, &ops), Ok(IOResult::IO(_))));
        ops[0].complete(512);
        assert!(matches!(two_reads(&mut st, &ops), Ok(IOResult::IO(_))));
        ops[1].complete(0);
        assert!(matches!(two_reads(&mut st, &ops), Ok(IOResult::Done(2))));
    });
    assert_eq!(
        lines,
        [
            "span ratchet: machine=\"two_reads\" from=\"Idle\"".to_owned(),
            format!("event message=suspend from=\"Idle\" to=\"Header\" completion={PENDING}"),
            "span ratchet: machine=\"two_reads\" from=\"Header\"".to_owned(),
            "event message=resume from=\"Header\" outcome=Ok(512)".to_owned(),
            format!("event message=suspend from=\"Header\" to=\"Body\" completion={PENDING}"),
            "span ratchet: machine=\"two_reads\" from=\"Body\"".to_owned(),
            "event message=resume from=\"Body\" outcome=Ok(0)".to_owned(),
            "event message=done from=\"Body\" to=\"Done\"".to_owned(),
        ]
    );
}

#[test]
fn a_reentry_while_pending_suspends_where_it_is() {
    let lines = record(|| {
        let ops = [Completion::pending(), Completion::pending()];
        let mut st = TwoReadsState::default();
        assert!(matches!(two_reads(&mut st, &ops), Ok(IOResult::IO(_))));
        assert!(matches!(two_reads(&mut st, &ops), Ok(IOResult::IO(_))));
    });
    assert_eq!(
        lines,
        [
            "span ratchet: machine=\"two_reads\" from=\"Idle\"".to_owned(),
            format!("event message=suspend from=\"Idle\" to=\"Header\" completion={PENDING}"),
            "span ratchet: machine=\"two_reads\" from=\"Header\"".to_owned(),
            format!("event message=suspend from=\"Header\" to=\"Header\" completion={PENDING}"),
        ]
    );
}

#[test]
fn the_fast_path_records_each_point_it_passes() {
    let lines = record(|| {
        let ops = [Completion::ready(), Completion::ready()];
        let mut st = TwoReadsState::default();
        assert!(matches!(two_reads(&mut st, &ops), Ok(IOResult::Done(2))));
        let ops = [Completion::ready(), Completion::pending()];
        assert!(matches!(two_reads(&mut st, &ops), Ok(IOResult::IO(_))));
    });
    assert_eq!(
        lines,
        [
            "span ratchet: machine=\"two_reads\" from=\"Idle\"",
            "event message=pass from=\"Idle\" to=\"Header\"",
            "event message=pass from=\"Header\" to=\"Body\"",
            "event message=done from=\"Body\" to=\"Done\"",
            "span ratchet: machine=\"two_reads\" from=\"Idle\"",
            "event message=pass from=\"Idle\" to=\"Header\"",
            &format!("event message=suspend from=\"Header\" to=\"Body\" completion={PENDING}"),
        ]
    );
}

#[test]
fn an_error_through_question_mark_is_recorded_once() {
    let lines = record(|| {
        let mut st = CheckedState::default();
        // `?` on the body's own value, before any suspension point.
        assert_eq!(
            checked(&mut st, &Completion::pending(), 3).err(),
            Some(Fail::Odd(3))
        );
        // `?` on the completion's error, after a resume.
        let op = Completion::pending();
        assert!(matches!(checked(&mut st, &op, 4), Ok(IOResult::IO(_))));
        op.error(CompletionError::Io(ErrorKind::NotFound));
        assert_eq!(
            checked(&mut st, &op, 4).err(),
            Some(Fail::Completion(CompletionError::Io(ErrorKind::NotFound)))
        );
        assert!(st.is_idle());
    });
    assert_eq!(
        lines,
        [
            "span ratchet: machine=\"checked\" from=\"Idle\"".to_owned(),
            "event message=error from=\"Idle\" to=\"Err\"".to_owned(),
            "span ratchet: machine=\"checked\" from=\"Idle\"".to_owned(),
            format!("event message=suspend from=\"Idle\" to=\"Op\" completion={PENDING}"),
            "span ratchet: machine=\"checked\" from=\"Op\"".to_owned(),
            "event message=resume from=\"Op\" outcome=Err(Io(NotFound))".to_owned(),
            "event message=error from=\"Op\" to=\"Err\"".to_owned(),
        ]
    );
}

#[test]
fn a_returned_error_is_recorded_once_with_its_debug() {
    let lines = record(|| {
        let mut st = CheckedState::default();
        assert_eq!(
            checked(&mut st, &Completion::ready(), 12).err(),
            Some(Fail::TooBig)
        );
        assert!(matches!(
            checked(&mut st, &Completion::ready(), 8),
            Ok(IOResult::Done(8))
        ));
        let mut st = OpaqueState::default();
        assert!(opaque(&mut st, &Completion::ready()).is_err());
        let mut st = GenericState::default();
        assert!(generic::<Fail>(&mut st, &Completion::ready(), true).is_err());
    });
    assert_eq!(
        lines,
        [
            "span ratchet: machine=\"checked\" from=\"Idle\"",
            "event message=pass from=\"Idle\" to=\"Op\"",
            "event message=error from=\"Op\" to=\"Err\" error=TooBig",
            "span ratchet: machine=\"checked\" from=\"Idle\"",
            "event message=pass from=\"Idle\" to=\"Op\"",
            "event message=done from=\"Op\" to=\"Done\"",
            // No `Debug` on the error type: `..`.
            "span ratchet: machine=\"opaque\" from=\"Idle\"",
            "event message=pass from=\"Idle\" to=\"Op\"",
            "event message=error from=\"Op\" to=\"Err\" error=..",
            // An error type naming a type parameter: no `error` field.
            "span ratchet: machine=\"generic\" from=\"Idle\"",
            "event message=pass from=\"Idle\" to=\"Op\"",
            "event message=error from=\"Op\" to=\"Err\"",
        ]
    );
}

#[test]
fn a_call_io_point_suspends_resumes_and_passes() {
    let lines = record(|| {
        let ops = [Completion::pending(), Completion::pending()];
        let mut st = OuterState::default();
        let mut inner = TwoReadsState::default();
        assert!(matches!(outer(&mut st, &mut inner, &ops), Ok(IOResult::IO(_))));
        ops[0].complete(0);
        ops[1].complete(0);
        assert!(matches!(outer(&mut st, &mut inner, &ops), Ok(IOResult::Done(12))));
        let ops = [Completion::ready(), Completion::ready()];
        assert!(matches!(outer(&mut st, &mut inner, &ops), Ok(IOResult::Done(12))));
    });
    assert_eq!(
        lines,
        [
            "span ratchet: machine=\"outer\" from=\"Idle\"".to_owned(),
            "span ratchet: machine=\"two_reads\" from=\"Idle\"".to_owned(),
            format!("event message=suspend from=\"Idle\" to=\"Header\" completion={PENDING}"),
            format!("event message=suspend from=\"Idle\" to=\"TwoReads\" completion={PENDING}"),
            // Resumed at a `call_io!` point: no completion of its own (the
            // callee records its), and `pass` once the callee is done.
            "span ratchet: machine=\"outer\" from=\"TwoReads\"".to_owned(),
            "event message=resume from=\"TwoReads\"".to_owned(),
            "span ratchet: machine=\"two_reads\" from=\"Header\"".to_owned(),
            "event message=resume from=\"Header\" outcome=Ok(0)".to_owned(),
            "event message=pass from=\"Header\" to=\"Body\"".to_owned(),
            "event message=done from=\"Body\" to=\"Done\"".to_owned(),
            "event message=pass from=\"TwoReads\" to=\"TwoReads\"".to_owned(),
            "event message=done from=\"TwoReads\" to=\"Done\"".to_owned(),
            // The fast path through both machines.
            "span ratchet: machine=\"outer\" from=\"Idle\"".to_owned(),
            "span ratchet: machine=\"two_reads\" from=\"Idle\"".to_owned(),
            "event message=pass from=\"Idle\" to=\"Header\"".to_owned(),
            "event message=pass from=\"Header\" to=\"Body\"".to_owned(),
            "event message=done from=\"Body\" to=\"Done\"".to_owned(),
            "event message=pass from=\"Idle\" to=\"TwoReads\"".to_owned(),
            "event message=done from=\"TwoReads\" to=\"Done\"".to_owned(),
        ]
    );
}

#[test]
fn methods_borrowed_and_opaque_return_types_are_recorded_too() {
    let lines = record(|| {
        let mut pages = Pages {
            data: vec![1, 2, 3, 4],
            ..Pages::default()
        };
        let op = Completion::pending();
        assert!(matches!(pages.read(&op, 2), Ok(IOResult::IO(_))));
        op.complete(0);
        assert!(matches!(pages.read(&op, 2), Ok(IOResult::Done([1, 2]))));
        assert_eq!(pages.read(&Completion::ready(), 3).err(), Some(Fail::Odd(3)));
        let mut st = ShownState::default();
        match shown(&mut st, &Completion::ready()) {
            Ok(IOResult::Done(v)) => assert_eq!(v.to_string(), "7"),
            _ => panic!("shown is done on the fast path"),
        }
        let failed = Completion::pending();
        failed.error(CompletionError::Aborted);
        assert!(shown(&mut st, &failed).is_err());
    });
    assert_eq!(
        lines,
        [
            "span ratchet: machine=\"read\" from=\"Idle\"".to_owned(),
            format!("event message=suspend from=\"Idle\" to=\"Op\" completion={PENDING}"),
            "span ratchet: machine=\"read\" from=\"Op\"".to_owned(),
            "event message=resume from=\"Op\" outcome=Ok(0)".to_owned(),
            "event message=done from=\"Op\" to=\"Done\"".to_owned(),
            "span ratchet: machine=\"read\" from=\"Idle\"".to_owned(),
            "event message=pass from=\"Idle\" to=\"Op\"".to_owned(),
            "event message=error from=\"Op\" to=\"Err\"".to_owned(),
            "span ratchet: machine=\"shown\" from=\"Idle\"".to_owned(),
            "event message=pass from=\"Idle\" to=\"Op\"".to_owned(),
            "event message=done from=\"Op\" to=\"Done\"".to_owned(),
            "span ratchet: machine=\"shown\" from=\"Idle\"".to_owned(),
            "event message=pass from=\"Idle\" to=\"Op\"".to_owned(),
            "event message=error from=\"Op\" to=\"Err\"".to_owned(),
        ]
    );
}
