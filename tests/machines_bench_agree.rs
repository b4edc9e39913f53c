//! The machines of `benches/machines.rs` compute the same thing whichever way
//! they are written, so the benchmark compares equal work: same answers, same
//! errors, same device contents afterwards, with completions ready and with
//! every completion pending once.

#[path = "../benches/machines/mod.rs"]
#[allow(dead_code)] // The benchmark uses the parts of this module that the test does not.
mod machines;

use machines::device::{
    BATCH_FIRST, CELLS, CHAIN_LEN, CHAIN_START, FREE_FIRST, LINEAR_PAGES, PAGE_COUNT, chain_key,
    standard_device,
};
use machines::{Answer, Way, machines};

/// Runs every way of every machine on a fresh device and checks that they
/// agree with each other (answer and resulting pages and free list).
fn agree(pending_once: bool, failing_page: Option<u32>) -> Vec<(&'static str, machines::RunResult)> {
    let mut results = Vec::new();
    for machine in machines() {
        let mut first: Option<(Way, machines::RunResult, Vec<[u8; 64]>, u32)> = None;
        for imp in &machine.impls {
            let dev = standard_device();
            dev.set_pending_once(pending_once);
            dev.set_failing_page(failing_page);
            let result = (imp.run)(&dev);
            dev.complete_all();
            let pages: Vec<_> = (0..PAGE_COUNT).map(|no| dev.page(no)).collect();
            match &first {
                None => first = Some((imp.way, result, pages, dev.freelist_head())),
                Some((way, r, p, head)) => {
                    let ctx = format!("{} written {:?} vs {:?}", machine.name, imp.way, way);
                    assert_eq!(&result, r, "answer of {ctx}");
                    assert!(&pages == p, "device pages after {ctx}");
                    assert_eq!(dev.freelist_head(), *head, "free list after {ctx}");
                }
            }
        }
        let (_, result, _, _) = first.expect("every machine is written at least one way");
        results.push((machine.name, result));
    }
    results
}

fn expected_answers() -> Vec<(&'static str, machines::RunResult)> {
    let linear: u64 = LINEAR_PAGES.iter().map(|&no| u64::from(no * 3 + 1)).sum();
    let last = CHAIN_START + CHAIN_LEN - 1;
    let found = chain_key(last, CELLS - 1) * 7;
    let free: u64 = (FREE_FIRST..FREE_FIRST + machines::device::FREE_COUNT)
        .map(|no| u64::from(no * 5))
        .sum();
    let batch = u64::from(machines::device::BATCHES * machines::device::PER_BATCH);
    vec![
        ("linear", Ok(Answer::Sum(linear))),
        ("chain", Ok(Answer::Found(Some(found)))),
        ("free", Ok(Answer::Sum(free))),
        ("batch", Ok(Answer::Sum(batch))),
    ]
}

#[test]
fn every_way_computes_the_same_with_ready_completions() {
    assert_eq!(agree(false, None), expected_answers());
}

#[test]
fn every_way_computes_the_same_with_pending_completions() {
    assert_eq!(agree(true, None), expected_answers());
}

#[test]
fn every_way_fails_the_same() {
    for pending_once in [false, true] {
        // One failing page in each machine's range: the second linear read,
        // a page in the middle of the chain, the third freed page, a write of
        // the second batch.
        for failing in [LINEAR_PAGES[1], CHAIN_START + 3, FREE_FIRST + 2, BATCH_FIRST + 5] {
            let results = agree(pending_once, Some(failing));
            assert!(
                results.iter().any(|(_, r)| r.is_err()),
                "page {failing} fails some machine (pending_once {pending_once})"
            );
        }
    }
}

#[test]
fn every_machine_has_the_ways_the_benchmark_reports() {
    for machine in machines() {
        for way in Way::ALL {
            assert!(
                machine.get(way).is_some() || way == Way::Generated,
                "{} written {:?}",
                machine.name,
                way
            );
        }
    }
}

#[test]
fn the_chain_walk_ends_without_finding_a_missing_key() {
    // The early return at the end of the chain, in every way.
    for pending_once in [false, true] {
        let dev = standard_device();
        dev.set_pending_once(pending_once);
        let key = 1;
        let mut st = machines::generated::ChainState::default();
        let generated = machines::drive(&dev, || {
            machines::generated::chain(&mut st, &dev, CHAIN_START, key)
        });
        let mut st = machines::hand::ChainState::default();
        let hand = machines::drive(&dev, || machines::hand::chain(&mut st, &dev, CHAIN_START, key));
        let asy = machines::asynk::block_on(&dev, machines::asynk::chain(&dev, CHAIN_START, key));
        let dia = machines::dia::run(&dev, machines::dia::chain(&dev, CHAIN_START, key));
        assert_eq!(generated, Ok(None));
        assert_eq!(hand, Ok(None));
        assert_eq!(asy, Ok(None));
        assert_eq!(dia, Ok(None));
    }
}

#[test]
fn a_hand_written_state_starts_over_after_an_error() {
    let dev = standard_device();
    dev.set_pending_once(true);
    dev.set_failing_page(Some(FREE_FIRST + 2));
    let mut st = machines::hand::FreePagesState::default();
    let failed = machines::drive(&dev, || machines::hand::free_pages(&mut st, &dev, FREE_FIRST, 4));
    assert!(failed.is_err());
    assert!(matches!(st, machines::hand::FreePagesState::Start));
    dev.set_failing_page(None);
    let again = machines::drive(&dev, || {
        machines::hand::free_pages(&mut st, &dev, FREE_FIRST + 4, 2)
    });
    assert_eq!(again, Ok(u64::from((FREE_FIRST + 4) * 5 + (FREE_FIRST + 5) * 5)));
}

#[test]
fn a_generated_state_starts_over_after_an_error() {
    let dev = standard_device();
    dev.set_pending_once(true);
    dev.set_failing_page(Some(FREE_FIRST + 2));
    let mut st = machines::generated::FreePagesState::default();
    let failed = machines::drive(&dev, || {
        machines::generated::free_pages(&mut st, &dev, FREE_FIRST, 4)
    });
    assert!(failed.is_err());
    assert!(st.is_idle());
    dev.set_failing_page(None);
    let again = machines::drive(&dev, || {
        machines::generated::free_pages(&mut st, &dev, FREE_FIRST + 4, 2)
    });
    assert_eq!(again, Ok(u64::from((FREE_FIRST + 4) * 5 + (FREE_FIRST + 5) * 5)));
}
