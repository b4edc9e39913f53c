//! What a completion costs: `cargo bench --bench completion`.
//!
//! A plain binary rather than a harness: each case runs in batches of
//! `OPS_PER_BATCH` operations, and the figure reported is the median over
//! `BATCHES` batches of the time per operation, which shrugs off the
//! scheduler hiccups of a shared machine better than a mean. The first case,
//! a bare `Arc<AtomicU32>` allocation, is the in-run reference: machines here
//! drift by ±30% between runs, so the ratios are the figures to compare.
//!
//! Pass a number to change the batch count: `cargo bench --bench completion -- 51`.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use ratchet::{Completion, CompletionGroup};

/// Operations per timed batch: enough that `Instant::now()` (≈20 ns) is noise.
const OPS_PER_BATCH: u32 = 20_000;

/// Default number of timed batches; odd, so the median is one batch.
const BATCHES: usize = 201;

/// Children of the group case, as in a 32-page read-ahead.
const GROUP_CHILDREN: usize = 32;

/// Median nanoseconds per call of `op`, over `batches` batches.
fn median_ns(batches: usize, mut op: impl FnMut()) -> f64 {
    // Warm-up: caches, branch predictors, the allocator's free lists.
    for _ in 0..OPS_PER_BATCH {
        op();
    }
    let mut per_op: Vec<f64> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..OPS_PER_BATCH {
                op();
            }
            start.elapsed().as_nanos() as f64 / f64::from(OPS_PER_BATCH)
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    per_op[per_op.len() / 2]
}

fn arc_reference() {
    let a = black_box(Arc::new(AtomicU32::new(0)));
    a.store(1, Ordering::Release);
    drop(a);
}

fn create_and_complete() {
    let c = black_box(Completion::pending());
    c.complete(black_box(4096));
    drop(c);
}

fn ready() {
    let c = black_box(Completion::ready());
    black_box(c.finished());
    drop(c);
}

fn group_of_32(children: &mut Vec<Completion>) {
    let mut group = CompletionGroup::default();
    for _ in 0..GROUP_CHILDREN {
        let c = Completion::pending();
        group.add(&c);
        children.push(c);
    }
    let all = group.build();
    for c in children.drain(..) {
        c.complete(4096);
    }
    assert!(all.finished());
    black_box(all);
}

fn main() {
    // `cargo bench` passes `--bench`; anything numeric is the batch count.
    let batches = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(BATCHES);
    let mut children = Vec::with_capacity(GROUP_CHILDREN);

    let reference = median_ns(batches, arc_reference);
    let cases = [
        ("Arc::new(AtomicU32) + store + drop (reference)", reference),
        (
            "Completion::pending() + complete() + drop",
            median_ns(batches, create_and_complete),
        ),
        (
            "Completion::ready() + finished() + drop",
            median_ns(batches, ready),
        ),
        (
            "CompletionGroup of 32 pending children, completed",
            median_ns(batches, || group_of_32(&mut children)),
        ),
    ];

    println!("median over {batches} batches of {OPS_PER_BATCH} operations");
    println!("{:<52} {:>10} {:>14}", "case", "ns/op", "x reference");
    for (name, ns) in cases {
        println!("{name:<52} {ns:>10.2} {:>14.2}", ns / reference);
    }
    let per_child = cases[3].1 / GROUP_CHILDREN as f64;
    println!(
        "{:<52} {per_child:>10.2} {:>14.2}",
        "  group, per child",
        per_child / reference
    );
}
