//! The `tracing` feature: one span per call of a machine, naming the
//! function and the state the call starts in, and an event per transition
//! (to a suspension point with the awaited completion, then to `Done`).
//! Run with `cargo test --features tracing --test tracing`.
#![cfg(feature = "tracing")]
#![allow(missing_docs)]

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex};

use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};
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

/// Collects new spans and events as lines of text.
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

#[test]
fn a_span_per_call_and_an_event_per_transition() {
    let collect = Collect::default();
    let lines = Arc::clone(&collect.lines);
    tracing::subscriber::with_default(collect, || {
        let ops = [Completion::pending(), Completion::pending()];
        let mut st = TwoReadsState::default();
        assert!(matches!(two_reads(&mut st, &ops), Ok(IOResult::IO(_))));
        ops[0].complete(0);
        assert!(matches!(two_reads(&mut st, &ops), Ok(IOResult::IO(_))));
        ops[1].complete(0);
        assert!(matches!(two_reads(&mut st, &ops), Ok(IOResult::Done(2))));
    });
    let lines = lines.lock().unwrap();
    let spans: Vec<&String> = lines.iter().filter(|l| l.starts_with("span")).collect();
    assert_eq!(
        spans,
        [
            "span ratchet: machine=\"two_reads\" from=\"Idle\"",
            "span ratchet: machine=\"two_reads\" from=\"Header\"",
            "span ratchet: machine=\"two_reads\" from=\"Body\"",
        ],
        "{lines:#?}"
    );
    let events: Vec<&String> = lines.iter().filter(|l| l.starts_with("event")).collect();
    assert_eq!(events.len(), 5, "{lines:#?}");
    assert!(
        events[0].starts_with("event message=suspend from=\"Idle\" to=\"Header\" completion="),
        "{lines:#?}"
    );
    assert_eq!(events[1], "event message=resume from=\"Header\"");
    assert!(
        events[2].starts_with("event message=suspend from=\"Header\" to=\"Body\" completion="),
        "{lines:#?}"
    );
    assert_eq!(events[3], "event message=resume from=\"Body\"");
    assert_eq!(events[4], "event message=done to=\"Done\"");
}
