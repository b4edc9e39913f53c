//! What a completion costs: `cargo bench --bench completion`.
//!
//! A plain binary rather than a harness. Each case runs in batches, and every
//! batch of the case is immediately preceded by a batch of the reference, a
//! bare `Arc<AtomicU32>` allocation + store + drop. Reported per case: the
//! median time per operation over all its batches, and the median of the
//! per-pair ratios case / reference. Machines here are shared and drift by
//! ±30% within a run, so the ratio (each pair measured under the same load)
//! is the figure to compare; medians shrug off scheduler hiccups.
//!
//! Arguments: a number sets the batch count, a word runs only the cases whose
//! key contains it (`cargo bench --bench completion -- 51 pending`), which is
//! how one case is profiled under `valgrind --tool=callgrind`.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use ratchet::{Completion, CompletionGroup};

/// Operations per timed batch: enough that `Instant::now()` (≈20 ns) is noise.
const OPS_PER_BATCH: u32 = 20_000;

/// Groups per timed batch: a group of 32 costs microseconds, so fewer keep a
/// batch near a millisecond, like the others, and the whole run short.
const GROUPS_PER_BATCH: u32 = 200;

/// Default number of timed batches per case; odd, so the median is one batch.
const BATCHES: usize = 201;

/// Children of the group case, as in a 32-page read-ahead.
const GROUP_CHILDREN: usize = 32;

/// Nanoseconds per call of `op` over one batch of `ops` calls.
fn batch_ns(ops: u32, op: &mut impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..ops {
        op();
    }
    start.elapsed().as_nanos() as f64 / f64::from(ops)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// One measured case.
struct Case {
    /// Short name for the command-line filter.
    key: &'static str,
    what: &'static str,
    /// Median nanoseconds per operation.
    ns_per_op: f64,
    /// Median over batch pairs of case / reference.
    ratio: f64,
    /// Median nanoseconds per reference operation, in this case's pairs.
    reference_ns: f64,
}

/// Measures `op` against the reference in `batches` interleaved pairs.
fn measure(key: &'static str, what: &'static str, batches: usize, ops: u32, mut op: impl FnMut()) -> Case {
    let mut reference = arc_reference;
    // Warm-up: caches, branch predictors, the allocator's free lists.
    batch_ns(ops, &mut op);
    batch_ns(OPS_PER_BATCH, &mut reference);
    let mut case_ns = Vec::with_capacity(batches);
    let mut reference_ns = Vec::with_capacity(batches);
    let mut ratios = Vec::with_capacity(batches);
    for _ in 0..batches {
        let r = batch_ns(OPS_PER_BATCH, &mut reference);
        let c = batch_ns(ops, &mut op);
        reference_ns.push(r);
        case_ns.push(c);
        ratios.push(c / r);
    }
    Case {
        key,
        what,
        ns_per_op: median(case_ns),
        ratio: median(ratios),
        reference_ns: median(reference_ns),
    }
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
    // `cargo bench` passes `--bench`; a number is the batch count, any other
    // word a filter on the case keys.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let batches = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(BATCHES);
    let filter: Option<&str> = args
        .iter()
        .find(|a| a.parse::<usize>().is_err())
        .map(String::as_str);
    let wanted = |key: &str| filter.is_none_or(|f| key.contains(f));
    let mut children = Vec::with_capacity(GROUP_CHILDREN);

    let mut cases = Vec::new();
    if wanted("arc") {
        // The reference against itself: shows the noise floor of the ratios.
        cases.push(measure(
            "arc",
            "Arc::new(AtomicU32) + store + drop (reference)",
            batches,
            OPS_PER_BATCH,
            arc_reference,
        ));
    }
    if wanted("pending") {
        cases.push(measure(
            "pending",
            "Completion::pending() + complete() + drop",
            batches,
            OPS_PER_BATCH,
            create_and_complete,
        ));
    }
    if wanted("ready") {
        cases.push(measure(
            "ready",
            "Completion::ready() + finished() + drop",
            batches,
            OPS_PER_BATCH,
            ready,
        ));
    }
    if wanted("group") {
        cases.push(measure(
            "group",
            "CompletionGroup, 32 pending children, all completed",
            batches,
            GROUPS_PER_BATCH,
            || group_of_32(&mut children),
        ));
    }

    println!(
        "median over {batches} batches ({OPS_PER_BATCH} operations or {GROUPS_PER_BATCH} groups each), \
         each paired with a batch of the reference"
    );
    println!(
        "{:<8} {:<52} {:>10} {:>12} {:>14}",
        "key", "case", "ns/op", "x reference", "reference ns"
    );
    for case in &cases {
        println!(
            "{:<8} {:<52} {:>10.2} {:>12.2} {:>14.2}",
            case.key, case.what, case.ns_per_op, case.ratio, case.reference_ns
        );
        if case.key == "group" {
            let children = GROUP_CHILDREN as f64;
            println!(
                "{:<8} {:<52} {:>10.2} {:>12.2}",
                "",
                "  the same, per child",
                case.ns_per_op / children,
                case.ratio / children
            );
        }
    }
}
