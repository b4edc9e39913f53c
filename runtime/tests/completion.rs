//! Semantics of `Completion`: first outcome wins, callbacks once and lock-free,
//! and "result decided" apart from "buffer released".

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use ratchet_runtime::{Buffer, Completion, CompletionError, CompletionGroup};

fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

#[test]
fn completion_is_a_cheap_send_sync_clone_handle() {
    assert_send_sync_clone::<Completion>();
    let c = Completion::pending();
    let d = c.clone();
    assert!(c.same_as(&d));
    d.complete(3);
    assert_eq!(c.result(), Some(Ok(3)));
    // A handle is one word plus a discriminant: cloning never copies state.
    assert!(std::mem::size_of::<Completion>() <= 2 * std::mem::size_of::<usize>());
}

#[test]
fn ready_and_yield_now_are_finished_successes() {
    for c in [Completion::ready(), Completion::yield_now()] {
        assert!(c.finished());
        assert!(c.succeeded());
        assert!(!c.failed());
        assert_eq!(c.get_error(), None);
        // Later outcomes are ignored like on any finished completion.
        c.error(CompletionError::Aborted);
        assert!(c.succeeded());
    }
    assert!(Completion::yield_now().is_yield());
    assert!(!Completion::ready().is_yield());
}

#[test]
fn first_outcome_wins_and_later_ones_are_ignored() {
    let c = Completion::pending();
    c.complete(7);
    c.error(CompletionError::Io(std::io::ErrorKind::Other));
    c.abort();
    c.complete(9);
    assert_eq!(c.result(), Some(Ok(7)));

    let c = Completion::pending();
    c.abort();
    c.complete(1);
    assert_eq!(c.get_error(), Some(CompletionError::Aborted));
    assert!(c.failed());
}

#[test]
fn first_outcome_wins_across_threads() {
    for _ in 0..200 {
        let runs = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(None));
        let c = Completion::new({
            let runs = runs.clone();
            let seen = seen.clone();
            move |o| {
                runs.fetch_add(1, Ordering::SeqCst);
                *seen.lock().unwrap() = Some(o);
            }
        });
        let barrier = Arc::new(Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let c = c.clone();
                let barrier = barrier.clone();
                thread::spawn(move || {
                    barrier.wait();
                    if i % 2 == 0 {
                        c.complete(i);
                    } else {
                        c.abort();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1, "callback must run exactly once");
        let decided = seen.lock().unwrap().expect("callback saw the outcome");
        assert_eq!(c.result(), Some(decided), "every handle sees the winning outcome");
    }
}

#[test]
fn callback_runs_exactly_once_even_when_added_after_the_outcome() {
    let runs = Arc::new(AtomicUsize::new(0));
    let c = Completion::pending();
    c.complete(5);
    let r = runs.clone();
    let c = c.with_callback(move |o| {
        assert_eq!(o, Ok(5));
        r.fetch_add(1, Ordering::SeqCst);
    });
    c.complete(6);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[test]
fn chained_callbacks_each_run_once_in_order() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let (a, b) = (order.clone(), order.clone());
    let c =
        Completion::new(move |_| a.lock().unwrap().push(1)).with_callback(move |_| b.lock().unwrap().push(2));
    c.complete(0);
    c.complete(0);
    assert_eq!(*order.lock().unwrap(), vec![1, 2]);
}

#[test]
fn no_lock_is_held_while_a_callback_runs() {
    // The callback finishes itself again, reads its own state, creates,
    // groups and finishes other completions: any lock held here would
    // deadlock or panic.
    let other = Completion::pending();
    let other_in_cb = other.clone();
    let me = Arc::new(Mutex::new(None::<Completion>));
    let me_in_cb = me.clone();
    let c = Completion::new(move |_| {
        let me = me_in_cb.lock().unwrap().clone().expect("set before completion");
        me.complete(99);
        assert!(!me.finished(), "finished only after the callback returns");
        let fresh = Completion::pending();
        let mut group = CompletionGroup::new(|_| {});
        group.add(&fresh);
        group.add(&other_in_cb);
        let built = group.build();
        fresh.complete(1);
        other_in_cb.complete(2);
        assert!(built.succeeded());
    });
    *me.lock().unwrap() = Some(c.clone());
    c.complete(1);
    assert_eq!(c.result(), Some(Ok(1)));
    assert!(other.succeeded());
}

#[test]
fn finished_implies_the_callback_has_returned() {
    for _ in 0..100 {
        let effect = Arc::new(AtomicUsize::new(0));
        let e = effect.clone();
        let c = Completion::new(move |_| {
            thread::yield_now();
            e.store(1, Ordering::SeqCst);
        });
        let finisher = {
            let c = c.clone();
            thread::spawn(move || c.complete(0))
        };
        while !c.finished() {
            std::hint::spin_loop();
        }
        assert_eq!(effect.load(Ordering::SeqCst), 1);
        finisher.join().unwrap();
    }
}

#[test]
fn result_decided_and_buffer_released_are_separate_facts() {
    let buf = Arc::new(Buffer::new(4096));
    let probe = Arc::downgrade(&buf);
    let c = Completion::read(buf);
    assert!(c.device_released(), "not submitted yet");
    // What a backend keeps while the device owns the buffer.
    let in_flight = c.begin_io().unwrap();
    assert!(!c.device_released());

    c.abort();
    assert!(c.finished(), "the result is decided at once");
    assert_eq!(c.get_error(), Some(CompletionError::Aborted));
    drop(c);
    assert!(
        probe.upgrade().is_some(),
        "buffer freed while the device still held it"
    );
    assert!(!in_flight.completion().device_released());

    // The device lets go: only now may the memory go away.
    drop(in_flight);
    assert!(
        probe.upgrade().is_none(),
        "buffer must be freed once released and unreferenced"
    );
}

#[test]
fn read_completion_owns_its_buffer() {
    let buf = Arc::new(Buffer::from_vec(vec![1, 2, 3]));
    let c = Completion::read(buf.clone());
    assert!(Arc::ptr_eq(c.read_buffer().unwrap(), &buf));
    assert!(Completion::write().read_buffer().is_none());
    assert_eq!(
        Completion::sync_data().sync_mode(),
        Some(ratchet_runtime::completion::SyncMode::Data)
    );
    assert_eq!(
        Completion::sync().sync_mode(),
        Some(ratchet_runtime::completion::SyncMode::Full)
    );
}

#[test]
fn errors_are_copy_and_std_errors() {
    fn is_error<E: std::error::Error + Copy + Send + Sync + 'static>(_: E) {}
    let e = CompletionError::Io(std::io::ErrorKind::NotFound);
    is_error(e);
    assert_eq!(
        CompletionError::from(std::io::Error::from(std::io::ErrorKind::NotFound)),
        e
    );
    assert!(e.to_string().contains("not found"), "{e}");
    assert_eq!(
        CompletionError::ShortRead {
            expected: 10,
            actual: 4
        }
        .to_string(),
        "short read: 10 bytes expected, 4 read"
    );
}

#[test]
fn a_read_buffer_is_lent_to_its_device_once_at_a_time() {
    let buf = Arc::new(Buffer::new(4));
    let c = Completion::read(buf.clone());
    let held = c.begin_io().unwrap();
    let mut first = held.read_buffer_mut().expect("the device may fill it");
    assert!(
        held.read_buffer_mut().is_none(),
        "a second borrow would alias the first"
    );
    first.copy_from_slice(b"data");
    drop(first);
    assert!(buf.try_as_slice().is_err(), "still the device's");
    drop(held);
    assert_eq!(buf.to_vec(), b"data");
}
