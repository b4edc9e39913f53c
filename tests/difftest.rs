//! The differential tester: random machine bodies, each compiled as an
//! `#[io_state_machine]` function and as a direct twin that simply waits at
//! every suspension, run under many schedules; result, trace, completions
//! created and the final (idle) state must agree.
//!
//! ```text
//! cargo test --release --test difftest
//! RATCHET_DIFFTEST_PROGRAMS=1000 RATCHET_DIFFTEST_SEED=7 cargo test --release --test difftest
//! ```
//!
//! Environment:
//! - `RATCHET_DIFFTEST_PROGRAMS`: how many programs (default [`DEFAULT_PROGRAMS`]).
//! - `RATCHET_DIFFTEST_SEED`: the run's seed, decimal or `0x..` (default [`DEFAULT_SEED`]).
//! - `RATCHET_DIFFTEST_FEATURES`: generator switches, e.g. `-loop_value,-let_else`
//!   (see `generator::FEATURES`; the default is [`default_features`]).
//! - `RATCHET_DIFFTEST_MACHINE`: `1` to require the machine twin, `0` to run
//!   the direct twin only (a self-test of generator and scheduler); unset: the
//!   machine twin whenever `#[io_state_machine]` exists.
//! - `RATCHET_DIFFTEST_REDUCE`: how many divergences to reduce and save as
//!   regression tests (default 3; 0 turns reduction off).
//! - `RATCHET_DIFFTEST_BATCH`: programs per build of the generated crates (default 2000).
//! - `RATCHET_DIFFTEST_ONLY`: a comma-separated list of program indices to
//!   run instead of `0..N` (to re-run or reduce one program of a seed).
//! - `RATCHET_DIFFTEST_PER_CRATE`: programs per generated crate (default
//!   250); a batch is split into at least two crates, which cargo builds in
//!   parallel (rustc type-checks a crate on one core).
//!
//! The last line is always `difftest: N programs x S schedules, D divergences`
//! (S: schedules per program, on average); the exit status is non-zero when
//! D > 0 or the run could not be completed. With `-- --nocapture` from a
//! terminal, a progress bar (programs checked, the batch being built,
//! divergences so far, elapsed and estimated time) sits under the batch
//! lines; it is not drawn when stderr is not a terminal.

#[path = "difftest/generator.rs"]
mod generator;
#[path = "difftest/harness.rs"]
mod harness;
#[path = "difftest/reduce.rs"]
mod reduce;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use generator::{Features, Program, generate, program_seed, show};
use harness::{End, GenCrate, module};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Programs per run unless `RATCHET_DIFFTEST_PROGRAMS` says otherwise: sized
/// so the whole test, generated crate build included, stays around a minute
/// on two cores (see docs/TESTING.md for measured times).
const DEFAULT_PROGRAMS: u64 = 200;
const DEFAULT_SEED: u64 = 0x5eed_2026;
/// Wall-clock limit for running one batch's binary: far above the seconds it
/// needs, so hitting it means a machine loops forever.
const RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// Features the macro does not support yet would be switched off here, each
/// with the reason and the reproducer (docs/TESTING.md lists them); none is.
fn default_features() -> Features {
    Features::all()
}

struct Config {
    programs: u64,
    seed: u64,
    features: Features,
    machine: Option<bool>,
    reduce: usize,
    batch: u64,
    per_crate: usize,
    /// Only these program indices (to re-run or reduce one program).
    only: Option<Vec<u64>>,
}

fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim().replace('_', "");
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn env_u64(name: &str, default: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Ok(v) => parse_u64(&v).ok_or_else(|| format!("{name}={v:?} is not a number")),
        Err(_) => Ok(default),
    }
}

impl Config {
    fn from_env() -> Result<Config, String> {
        let features = match std::env::var("RATCHET_DIFFTEST_FEATURES") {
            Ok(spec) => Features::parse(&spec, &default_features())?,
            Err(_) => default_features(),
        };
        let machine = match std::env::var("RATCHET_DIFFTEST_MACHINE").as_deref() {
            Ok("1") => Some(true),
            Ok("0") => Some(false),
            Ok(other) => return Err(format!("RATCHET_DIFFTEST_MACHINE={other:?}: use 1 or 0")),
            Err(_) => None,
        };
        Ok(Config {
            programs: env_u64("RATCHET_DIFFTEST_PROGRAMS", DEFAULT_PROGRAMS)?,
            seed: env_u64("RATCHET_DIFFTEST_SEED", DEFAULT_SEED)?,
            features,
            machine,
            reduce: env_u64("RATCHET_DIFFTEST_REDUCE", 3)? as usize,
            batch: env_u64("RATCHET_DIFFTEST_BATCH", 2000)?.max(1),
            per_crate: env_u64("RATCHET_DIFFTEST_PER_CRATE", 250)?.max(1) as usize,
            only: match std::env::var("RATCHET_DIFFTEST_ONLY") {
                Ok(list) => Some(
                    list.split(',')
                        .map(|i| {
                            parse_u64(i)
                                .ok_or_else(|| format!("RATCHET_DIFFTEST_ONLY: {i:?} is not a number"))
                        })
                        .collect::<Result<Vec<u64>, String>>()?,
                ),
                Err(_) => None,
            },
        })
    }
}

/// Where generated crates and their shared target dir live.
fn work_root() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let target = if target.is_relative() {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(target)
    } else {
        target
    };
    target.join("difftest")
}

/// What went wrong with one program.
#[derive(Debug, Clone)]
enum Failure {
    /// The machine does not compile while its direct twin does.
    Compile(Vec<String>),
    /// Machine and direct twin disagree under a schedule.
    Runtime {
        schedule_index: usize,
        schedule: String,
        details: Vec<String>,
    },
}

impl Failure {
    fn describe(&self) -> String {
        match self {
            Failure::Compile(errors) => format!("the machine does not compile:\n  {}", errors.join("\n  ")),
            Failure::Runtime {
                schedule_index,
                schedule,
                details,
            } => format!(
                "under schedule #{schedule_index} ({schedule}):\n  {}",
                details.join("\n  ")
            ),
        }
    }
}

/// The outcome of checking a set of programs in one generated crate.
struct Checked {
    /// Schedules run per passing or runtime-diverging program, by module.
    pub schedules: BTreeMap<String, usize>,
    pub failures: BTreeMap<String, Failure>,
    /// Modules whose direct twin does not compile or panics: a bug of the
    /// generator, never of the macro.
    pub invalid: BTreeMap<String, Vec<String>>,
    pub build_time: Duration,
    pub run_time: Duration,
}

/// Builds and runs `programs` (named by module) in the crate `krate`:
/// modules that fail to compile are dropped and the rest rebuilt.
fn check(krate: &GenCrate, programs: &[(String, Program)], machine: bool) -> Result<Checked, String> {
    let mut active: Vec<&(String, Program)> = programs.iter().collect();
    krate.plan(&programs.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
    let mut failures = BTreeMap::new();
    let mut invalid = BTreeMap::new();
    let mut build_time = Duration::ZERO;
    loop {
        let modules: Vec<_> = active.iter().map(|(n, p)| module(n, p, machine)).collect();
        let seeds: Vec<u64> = active
            .iter()
            .map(|(_, p)| program_seed(p.seed, p.index))
            .collect();
        krate.write(&modules, &seeds, machine);
        let build = krate.build();
        build_time += build.duration;
        if build.ok {
            break;
        }
        if build.errors.is_empty() {
            return Err(format!(
                "the generated crate at {} does not build:\n{}",
                krate.dir.display(),
                build.other.join("\n")
            ));
        }
        for m in &modules {
            let Some(errs) = build.errors.get(&m.name) else {
                continue;
            };
            let texts: Vec<String> = errs
                .iter()
                .map(|e| format!("line {}: {}", e.line, e.message))
                .collect();
            if errs.iter().any(|e| e.line < m.machine_line) {
                invalid.insert(m.name.clone(), texts);
            } else {
                failures.insert(m.name.clone(), Failure::Compile(texts));
            }
        }
        active.retain(|(n, _)| !build.errors.contains_key(n));
        if active.is_empty() {
            break;
        }
    }
    let mut schedules = BTreeMap::new();
    let start = Instant::now();
    let layout = if active.is_empty() {
        Vec::new()
    } else {
        krate.layout()
    };
    for (part, names) in layout.iter().enumerate() {
        let mut from = 0;
        while from < names.len() {
            let (out, end) = krate.run(part, from, RUN_TIMEOUT);
            let mut lines = out.lines().peekable();
            while let Some(line) = lines.next() {
                let mut words = line.splitn(6, ' ');
                let (kind, name) = (words.next().unwrap_or(""), words.next().unwrap_or("").to_string());
                let count: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                from += 1;
                match kind {
                    "ok" => {
                        schedules.insert(name, count);
                    }
                    "div" => {
                        let index: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                        let schedule = words.collect::<Vec<_>>().join(" ");
                        let mut details = Vec::new();
                        while let Some(d) = lines.next_if(|l| l.starts_with("| ")) {
                            details.push(d[2..].to_string());
                        }
                        schedules.insert(name.clone(), count);
                        if details.iter().any(|d| d.starts_with("direct twin panicked")) {
                            invalid.insert(name, details);
                        } else {
                            failures.insert(
                                name,
                                Failure::Runtime {
                                    schedule_index: index,
                                    schedule,
                                    details,
                                },
                            );
                        }
                    }
                    _ => return Err(format!("unexpected output of the generated binary: {line:?}")),
                }
            }
            let why = match end {
                End::Finished => break,
                End::Hang => continue,
                End::Crashed(status) => {
                    format!("the process died ({status}) in this program: a stack overflow or an abort")
                }
                End::Killed => format!("no answer within {RUN_TIMEOUT:?}: the program loops forever"),
            };
            if let Some(n) = names.get(from) {
                failures.insert(
                    n.clone(),
                    Failure::Runtime {
                        schedule_index: 0,
                        schedule: "(unknown)".into(),
                        details: vec![why],
                    },
                );
                from += 1;
            }
        }
        if from < names.len() {
            return Err(format!(
                "the generated binary stopped before program {}",
                names[from]
            ));
        }
    }
    Ok(Checked {
        schedules,
        failures,
        invalid,
        build_time,
        run_time: start.elapsed(),
    })
}

/// Whether `#[io_state_machine]` exists yet: builds a one-line machine.
fn macro_available(root: &std::path::Path) -> bool {
    let krate = GenCrate::new(root, "probe", 1);
    let probe = Program {
        index: 0,
        seed: 0,
        funcs: vec![generator::Func {
            name: "probe".into(),
            params: "a: i64".into(),
            ret: "i64".into(),
            body: generator::probe_body(),
            generics: String::new(),
            state_args: String::new(),
        }],
        args: "1".into(),
    };
    let m = module("probe", &probe, true);
    krate.write(&[m], &[0], true);
    let build = krate.build();
    let missing = build.errors.values().flatten().any(|e| {
        e.message.contains("io_state_machine")
            && (e.message.contains("unresolved import") || e.message.contains("cannot find"))
    });
    !missing
}

/// The run's progress over its programs on stderr, drawn only when stderr
/// is a terminal (`--nocapture` from a shell); the per-batch lines are
/// printed either way, above the bar when there is one.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn new(programs: u64) -> Self {
        Progress(std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(programs), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "difftest: {bar:30} {pos}/{len} programs, {msg}, {elapsed_precise} (eta {eta})",
            )
            .expect("progress template");
            bar.set_style(style);
            // A batch's build takes minutes with no event of its own.
            bar.enable_steady_tick(Duration::from_millis(500));
            bar
        }))
    }

    fn line(&self, text: &str) {
        match &self.0 {
            Some(bar) => bar.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }

    fn phase(&self, msg: String) {
        if let Some(bar) = &self.0 {
            bar.set_message(msg);
        }
    }

    fn done(&self, programs: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(programs);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        return ExitCode::SUCCESS;
    }
    // Like libtest: `cargo test <filter>` runs this test only if its name
    // contains the filter.
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "difftest".contains(f.as_str())) {
        println!("difftest: 0 programs x 0 schedules, 0 divergences (filtered out)");
        return ExitCode::SUCCESS;
    }
    let cfg = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("difftest: {e}");
            println!("difftest: 0 programs x 0 schedules, 0 divergences (configuration error)");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let root = work_root();
    std::fs::create_dir_all(&root).expect("create the difftest work dir");
    let machine = match cfg.machine {
        Some(m) => m,
        None => {
            let probe = Instant::now();
            let m = macro_available(&root);
            // On a cold target dir this builds ratchet and its macro for the
            // generated crates: worth a line, as it can take a minute.
            eprintln!(
                "difftest: ratchet built for the generated crates in {:.1?}",
                probe.elapsed()
            );
            if !m {
                eprintln!(
                    "difftest: NOTE: `#[io_state_machine]` does not exist yet, so only the direct twins run \
                     (a self-test of generator and scheduler); set RATCHET_DIFFTEST_MACHINE=1 to require it"
                );
            }
            m
        }
    };
    eprintln!(
        "difftest: seed {:#x}, {} programs, {} twin, features {}",
        cfg.seed,
        cfg.programs,
        if machine {
            "machine vs direct"
        } else {
            "direct-only"
        },
        cfg.features.list()
    );
    let krate = GenCrate::new(
        &root,
        &format!("gen-{:x}-{}", cfg.seed, cfg.programs),
        cfg.per_crate,
    );
    let mut total_schedules = 0usize;
    let mut checked_programs = 0u64;
    let mut failures: Vec<(Program, Failure)> = Vec::new();
    let mut invalid: Vec<(Program, Vec<String>)> = Vec::new();
    let mut fatal = None;
    let count = cfg.only.as_ref().map_or(cfg.programs, |l| l.len() as u64);
    let progress = Progress::new(count);
    let mut start = 0;
    while start < count {
        let end = (start + cfg.batch).min(count);
        let indices: Vec<u64> = match &cfg.only {
            Some(list) => list
                .iter()
                .copied()
                .skip(start as usize)
                .take((end - start) as usize)
                .collect(),
            None => (start..end).collect(),
        };
        let programs: Vec<(String, Program)> = indices
            .iter()
            .map(|&i| (format!("p{i}"), generate(cfg.seed, i, &cfg.features)))
            .collect();
        progress.line(&format!(
            "difftest: programs {start}..{end}: building the generated crate"
        ));
        progress.phase(format!(
            "building and running {start}..{end}, {} divergences",
            failures.len()
        ));
        match check(&krate, &programs, machine) {
            Ok(c) => {
                progress.line(&format!(
                    "difftest: programs {start}..{end}: built in {:.1?}, ran in {:.1?}; {} divergences, {} invalid",
                    c.build_time,
                    c.run_time,
                    c.failures.len(),
                    c.invalid.len()
                ));
                progress.done(end - start);
                total_schedules += c.schedules.values().sum::<usize>();
                checked_programs += (end - start) as u64;
                for (name, p) in &programs {
                    if let Some(f) = c.failures.get(name) {
                        failures.push((p.clone(), f.clone()));
                    }
                    if let Some(e) = c.invalid.get(name) {
                        invalid.push((p.clone(), e.clone()));
                    }
                }
            }
            Err(e) => {
                fatal = Some(e);
                break;
            }
        }
        start = end;
    }
    progress.finish();
    for (p, errors) in &invalid {
        println!(
            "\ndifftest: GENERATOR BUG (the direct twin is not a valid program): seed {:#x}, program {}\n  {}\n{}",
            cfg.seed,
            p.index,
            errors.join("\n  "),
            show(p, false)
        );
    }
    for (p, f) in &failures {
        println!(
            "\ndifftest: DIVERGENCE: seed {:#x}, program {} (RATCHET_DIFFTEST_SEED={:#x}), {}\n--- machine ---\n{}--- direct twin ---\n{}",
            cfg.seed,
            p.index,
            cfg.seed,
            f.describe(),
            show(p, true),
            show(p, false)
        );
    }
    if machine && cfg.reduce > 0 && !failures.is_empty() {
        let reducer = reduce::Reducer::new(GenCrate::new(
            &root,
            &format!("reduce-{:x}-{}", cfg.seed, cfg.programs),
            cfg.per_crate,
        ));
        for (p, f) in failures.iter().take(cfg.reduce) {
            eprintln!("difftest: reducing program {} ...", p.index);
            match reducer.reduce(p, f) {
                Ok((small, sf)) => match reduce::save(&small, &sf, cfg.seed, &cfg.features.list()) {
                    Ok(path) => println!(
                        "\ndifftest: reduced program {} to {} nodes, saved as {}:\n{}",
                        p.index,
                        small
                            .funcs
                            .iter()
                            .map(|f| f.body.iter().map(generator::Node::size).sum::<usize>())
                            .sum::<usize>(),
                        path.display(),
                        show(&small, true)
                    ),
                    Err(e) => println!(
                        "difftest: could not save the reproducer of program {}: {e}",
                        p.index
                    ),
                },
                Err(e) => println!("difftest: could not reduce program {}: {e}", p.index),
            }
        }
    }
    let per_program = if checked_programs == 0 {
        0
    } else {
        (total_schedules as f64 / checked_programs as f64).round() as u64
    };
    let divergences = failures.len();
    if let Some(e) = &fatal {
        println!("difftest: FAILED: {e}");
    }
    if !invalid.is_empty() {
        println!(
            "difftest: FAILED: {} generated programs are invalid (a bug of the generator)",
            invalid.len()
        );
    }
    eprintln!(
        "difftest: {} schedule runs in {:.1?} (seed {:#x}, {} twin)",
        total_schedules,
        started.elapsed(),
        cfg.seed,
        if machine {
            "machine vs direct"
        } else {
            "direct-only"
        }
    );
    println!("difftest: {checked_programs} programs x {per_program} schedules, {divergences} divergences");
    if divergences > 0 || fatal.is_some() || !invalid.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
