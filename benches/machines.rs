//! `cargo bench --bench machines`: four machines of different shapes, each
//! written with `#[io_state_machine]`, by hand in the Turso style, as an
//! `async fn` and with diapause 0.2, timed in one interleaved run.
//!
//! Every device operation finishes at once ("ready"), so what is timed is the
//! machinery around the suspension points; in the "pending" mode every
//! completion is pending once and the driver finishes it before calling
//! again. For each machine, mode and way: the median time of a full run, the
//! size of what the machine keeps between calls, and the lines of source.
//!
//! `--quick` (or `RATCHET_BENCH_QUICK=1`) runs a short measurement;
//! `--filter TEXT` times only the cells whose `machine/mode/way` contains
//! TEXT (for a profiler: `--filter chain/ready/generated`); `--runs N` only
//! runs each selected cell N times, untimed, for an instruction counter
//! (`valgrind --tool=callgrind`: the difference between two N is the cost of
//! those runs). The last line is the summary, geometric means over the
//! machines in ready mode.

#[path = "machines/mod.rs"]
mod machines;

use std::hint::black_box;
use std::time::Instant;

use machines::device::{Device, standard_device};
use machines::{Machine, RunResult, Way, machines};

/// The source of each way, whose `// machine:` sections give the line counts.
const SOURCES: [(Way, &str); 4] = [
    (Way::Generated, include_str!("machines/generated.rs")),
    (Way::Hand, include_str!("machines/hand.rs")),
    (Way::Async, include_str!("machines/asynk.rs")),
    (Way::Diapause, include_str!("machines/dia.rs")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ready,
    Pending,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Ready => "ready",
            Mode::Pending => "pending",
        }
    }
}

/// One timed cell: a machine written one way, in one mode.
struct Variant {
    machine: usize,
    mode: Mode,
    way: Way,
    run: fn(&Device) -> RunResult,
    iters: u32,
    samples_ns: Vec<f64>,
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick")
        || std::env::var("RATCHET_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let args: Vec<String> = std::env::args().collect();
    let filter = args
        .iter()
        .position(|a| a == "--filter")
        .and_then(|i| args.get(i + 1))
        .cloned();
    // Short samples, many rounds: on a loaded machine a sample of 100 us is
    // rarely preempted, so the median is that of undisturbed samples, and
    // the rounds spread every cell over the whole run.
    let (rounds, sample_ns) = if quick { (51, 50_000.0) } else { (601, 100_000.0) };

    let machines = machines();
    let ready = standard_device();
    let pending = standard_device();
    pending.set_pending_once(true);
    let device = |mode: Mode| if mode == Mode::Ready { &ready } else { &pending };

    let mut variants = Vec::new();
    for (m, machine) in machines.iter().enumerate() {
        for mode in [Mode::Ready, Mode::Pending] {
            for imp in &machine.impls {
                let cell = format!("{}/{}/{}", machine.name, mode.name(), imp.way.name());
                if filter.as_ref().is_some_and(|f| !cell.contains(f.as_str())) {
                    continue;
                }
                variants.push(Variant {
                    machine: m,
                    mode,
                    way: imp.way,
                    run: imp.run,
                    iters: 1,
                    samples_ns: Vec::new(),
                });
            }
        }
    }

    if let Some(runs) = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
    {
        let runs: u32 = runs.parse().expect("--runs takes a count");
        for v in &variants {
            for _ in 0..runs {
                black_box((v.run)(black_box(device(v.mode)))).ok();
            }
        }
        return;
    }

    // Calibrate: enough runs per sample that the clock's cost vanishes.
    for v in &mut variants {
        let dev = device(v.mode);
        let probe = 2_000;
        let start = Instant::now();
        for _ in 0..probe {
            black_box((v.run)(black_box(dev))).ok();
        }
        let per_run = start.elapsed().as_secs_f64() * 1e9 / f64::from(probe);
        v.iters = (sample_ns / per_run.max(1.0)).clamp(1.0, 1e7) as u32;
    }

    // Rounds: every variant once per round, starting at a different variant
    // each round, so drift in the machine's speed hits all alike.
    let n = variants.len();
    for round in 0..rounds {
        for i in 0..n {
            let v = &mut variants[(i + round * 7) % n];
            let dev = device(v.mode);
            let start = Instant::now();
            for _ in 0..v.iters {
                black_box((v.run)(black_box(dev))).ok();
            }
            v.samples_ns
                .push(start.elapsed().as_secs_f64() * 1e9 / f64::from(v.iters));
        }
    }

    let median = |m: usize, mode: Mode, way: Way| -> Option<f64> {
        let v = variants
            .iter()
            .find(|v| v.machine == m && v.mode == mode && v.way == way)?;
        let mut s = v.samples_ns.clone();
        s.sort_by(f64::total_cmp);
        Some(s[s.len() / 2])
    };

    print_table(&machines, &median, quick, rounds);
    print_summary(&machines, &median);
}

/// Lines of code (not blank, not comments) of each machine's section in `src`.
fn lines_of(src: &str, machine: &str) -> Option<usize> {
    let marker = format!("// machine: {machine}");
    let start = src.find(&marker)? + marker.len();
    let rest = &src[start..];
    let end = ["// machine:", "// end machines"]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
        .unwrap_or(rest.len());
    Some(
        rest[..end]
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            .count(),
    )
}

fn fmt_opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}"))
}

fn print_table(
    machines: &[Machine],
    median: &dyn Fn(usize, Mode, Way) -> Option<f64>,
    quick: bool,
    rounds: usize,
) {
    println!(
        "machines: median ns per full run over {rounds} interleaved rounds ({})",
        if quick { "quick" } else { "full" }
    );
    let ways = Way::ALL;
    print!("{:<8} {:<8}", "machine", "mode");
    for w in ways {
        print!(" {:>10}", format!("{}_ns", w.name()));
    }
    print!("  {:>8} {:>8}", "gen/hand", "gen/dia");
    println!();
    for (m, machine) in machines.iter().enumerate() {
        for mode in [Mode::Ready, Mode::Pending] {
            print!("{:<8} {:<8}", machine.name, mode.name());
            for w in ways {
                print!(" {:>10}", fmt_opt(median(m, mode, w), 1));
            }
            let ratio = |other: Way| Some(median(m, mode, Way::Generated)? / median(m, mode, other)?);
            print!(
                "  {:>8} {:>8}",
                fmt_opt(ratio(Way::Hand), 2),
                fmt_opt(ratio(Way::Diapause), 2)
            );
            println!();
        }
    }
    println!();
    print!("{:<8}", "machine");
    for w in ways {
        print!(" {:>10}", format!("{}_B", w.name()));
    }
    for w in ways {
        print!(" {:>10}", format!("{}_loc", w.name()));
    }
    println!();
    for machine in machines {
        print!("{:<8}", machine.name);
        for w in ways {
            print!(
                " {:>10}",
                machine
                    .get(w)
                    .map_or_else(|| "-".to_string(), |i| i.state_bytes.to_string())
            );
        }
        for (w, src) in SOURCES {
            let lines = machine.get(w).and_then(|_| lines_of(src, machine.name));
            print!(
                " {:>10}",
                lines.map_or_else(|| "-".to_string(), |l| l.to_string())
            );
        }
        println!();
    }
    let missing: Vec<String> = machines
        .iter()
        .flat_map(|m| {
            Way::ALL
                .iter()
                .filter(|w| m.get(**w).is_none())
                .map(move |w| format!("{} ({})", m.name, w.name()))
        })
        .collect();
    if !missing.is_empty() {
        println!(
            "not expressed, left out of its geometric mean: {}",
            missing.join(", ")
        );
    }
    println!();
}

/// Geometric mean of `f` over the machines where it is defined.
fn geomean(machines: &[Machine], f: impl Fn(usize, &Machine) -> Option<f64>) -> Option<f64> {
    let logs: Vec<f64> = machines
        .iter()
        .enumerate()
        .filter_map(|(m, machine)| f(m, machine))
        .map(f64::ln)
        .collect();
    if logs.is_empty() {
        return None;
    }
    Some((logs.iter().sum::<f64>() / logs.len() as f64).exp())
}

fn print_summary(machines: &[Machine], median: &dyn Fn(usize, Mode, Way) -> Option<f64>) {
    let step = |mode: Mode, other: Way| {
        geomean(machines, |m, _| {
            Some(median(m, mode, Way::Generated)? / median(m, mode, other)?)
        })
    };
    let size = |other: Way| {
        geomean(machines, |_, machine| {
            Some(machine.get(Way::Generated)?.state_bytes as f64 / machine.get(other)?.state_bytes as f64)
        })
    };
    println!(
        "pending: step_generated/hand={} step_generated/async={} step_generated/diapause={}",
        fmt_opt(step(Mode::Pending, Way::Hand), 2),
        fmt_opt(step(Mode::Pending, Way::Async), 2),
        fmt_opt(step(Mode::Pending, Way::Diapause), 2),
    );
    println!(
        "summary: step_generated/hand={} step_generated/async={} step_generated/diapause={} size_generated/hand={} size_generated/async={}",
        fmt_opt(step(Mode::Ready, Way::Hand), 2),
        fmt_opt(step(Mode::Ready, Way::Async), 2),
        fmt_opt(step(Mode::Ready, Way::Diapause), 2),
        fmt_opt(size(Way::Hand), 2),
        fmt_opt(size(Way::Async), 2),
    );
}
