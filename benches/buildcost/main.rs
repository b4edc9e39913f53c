//! `cargo bench --bench buildcost`: what an edit of a file of machines costs
//! to rebuild, `#[io_state_machine]` against hand-written enums, `async fn`
//! and diapause.
//!
//! Writes one library crate per way, each holding 50 copies of that way's
//! file of `benches/machines/` (250 machines), into a workspace of their own
//! under the target directory (`crates.rs`), builds their dependencies once
//! in cargo's default dev profile, then times `touch src/lib.rs && cargo
//! build -p buildcost-WAY`: a warm-up rebuild of each, then `--rounds`
//! rounds (5) that rebuild every way once, each round starting at another
//! way. Reported: the median wall time per way and the ratios of those
//! medians in the last line (`summary:`); before it (`cpu:`) the same ratios
//! of the median CPU time of cargo and rustc, which other programs on a
//! loaded machine disturb far less than the wall time.
//!
//! Options: `--copies N` (50) and `--rounds N` (5); `--time-passes`, once
//! more on nightly (`cargo +nightly`, its own target directory), rebuilds
//! each crate with `-Ztime-passes` and prints where the time went;
//! `--opt-macros` measures with `[profile.dev.build-override] opt-level = 3`
//! (proc macros optimized), in a workspace of its own, for comparison with
//! the default; `--dir PATH` puts the workspace elsewhere.

mod crates;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Instant, SystemTime};

use crates::{WAYS, Way};

/// The profile override of `--opt-macros`.
const OPT_MACROS: &str = "\n[profile.dev.build-override]\nopt-level = 3\n";

struct Options {
    copies: usize,
    rounds: usize,
    time_passes: bool,
    opt_macros: bool,
    dir: Option<PathBuf>,
}

/// Options that take a value, and flags (`--bench` is what `cargo bench`
/// passes to every bench binary).
const VALUED: [&str; 3] = ["--copies", "--rounds", "--dir"];
const FLAGS: [&str; 3] = ["--time-passes", "--opt-macros", "--bench"];

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if VALUED.contains(&a) {
            i += 2;
        } else if FLAGS.contains(&a) {
            i += 1;
        } else {
            fail(&format!(
                "unknown argument {a:?}; options: --copies N, --rounds N, --dir PATH, --time-passes, --opt-macros"
            ));
        }
    }
    let value = |name: &str| -> Option<&str> {
        let i = args.iter().position(|a| a == name)?;
        Some(
            args.get(i + 1)
                .unwrap_or_else(|| fail(&format!("{name} takes a value")))
                .as_str(),
        )
    };
    let count = |name: &str, default: usize| -> usize {
        value(name).map_or(default, |v| {
            v.parse()
                .ok()
                .filter(|n| *n > 0)
                .unwrap_or_else(|| fail(&format!("{name} takes a positive count, not {v:?}")))
        })
    };
    Options {
        copies: count("--copies", 50),
        rounds: count("--rounds", 5),
        time_passes: args.iter().any(|a| a == "--time-passes"),
        opt_macros: args.iter().any(|a| a == "--opt-macros"),
        dir: value("--dir").map(PathBuf::from),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("buildcost: {msg}");
    std::process::exit(2)
}

/// The target directory this bench binary was built into
/// (`<target>/release/deps/buildcost-HASH`), which holds the workspace.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(&format!("no path to this binary: {e}")));
    exe.ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "deps"))
        .and_then(|deps| deps.parent()?.parent())
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
}

/// Cargo in `dir` with its own target directory: the one that runs this
/// bench (`$CARGO`), or `cargo +TOOLCHAIN` through rustup.
fn cargo(dir: &Path, toolchain: Option<&str>, target: &str) -> Command {
    let mut cmd = match toolchain {
        None => Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())),
        Some(t) => {
            let mut c = Command::new("cargo");
            c.arg(format!("+{t}")).env_remove("RUSTUP_TOOLCHAIN");
            c
        }
    };
    cmd.current_dir(dir).env("CARGO_TARGET_DIR", dir.join(target));
    cmd
}

/// Runs `cmd`; exits with its output when it fails.
fn run(mut cmd: Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| fail(&format!("{what}: cannot run cargo: {e}")));
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        fail(&format!("{what} failed ({})", out.status));
    }
    out
}

/// Marks the crate's `lib.rs` as edited now, without changing it.
fn touch(dir: &Path, way: &Way) {
    let lib = dir.join(way.name).join("src/lib.rs");
    std::fs::File::options()
        .write(true)
        .open(&lib)
        .and_then(|f| f.set_modified(SystemTime::now()))
        .unwrap_or_else(|e| fail(&format!("cannot touch {}: {e}", lib.display())));
}

/// One timed rebuild.
#[derive(Clone, Copy)]
struct Sample {
    /// Wall seconds of `cargo build`.
    wall: f64,
    /// CPU seconds (user + system) of cargo and the rustc it ran, where
    /// `/proc` tells: other programs on a loaded machine stretch the wall
    /// time far more than this.
    cpu: Option<f64>,
}

/// Touches the way's crate and rebuilds it.
fn rebuild(dir: &Path, way: &Way) -> Sample {
    touch(dir, way);
    let mut cmd = cargo(dir, None, "target");
    cmd.args(["build", "-p", &way.package()]);
    let cpu_before = children_cpu_secs();
    let start = Instant::now();
    let out = run(cmd, &format!("rebuilding {}", way.package()));
    let wall = start.elapsed().as_secs_f64();
    let cpu = children_cpu_secs()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    // A build that compiled nothing timed only cargo's freshness check.
    let compiled = format!("Compiling {} ", way.package());
    if !String::from_utf8_lossy(&out.stderr).contains(&compiled) {
        fail(&format!("touching {} did not rebuild it", way.package()));
    }
    Sample { wall, cpu }
}

/// CPU seconds used by this process's children that have been waited for,
/// and by theirs (cargo waits for rustc): `cutime` + `cstime` of
/// `/proc/self/stat`. `None` off Linux.
fn children_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which may hold spaces, start at
    // field 3; cutime and cstime are fields 16 and 17 (proc(5)).
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    let ticks = fields.get(13)?.parse::<f64>().ok()? + fields.get(14)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks())
}

/// Clock ticks per second of `/proc`'s times (`getconf CLK_TCK`, 100 on
/// Linux).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_string(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn median(xs: &[f64]) -> f64 {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn main() {
    let opt = options();
    let facade = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = opt.dir.clone().unwrap_or_else(|| {
        target_dir().join(if opt.opt_macros {
            "buildcost-opt-macros"
        } else {
            "buildcost"
        })
    });
    let root_extra = if opt.opt_macros { OPT_MACROS } else { "" };
    crates::write_workspace(&dir, facade, opt.copies, root_extra)
        .unwrap_or_else(|e| fail(&format!("cannot write the crates into {}: {e}", dir.display())));
    let machines = opt.copies * crates::machines_per_copy();
    println!(
        "buildcost: {machines} machines per crate ({} x {} copies), {}, touch + `cargo build`, {} interleaved rounds",
        crates::machines_per_copy(),
        opt.copies,
        if opt.opt_macros {
            "dev profile with [profile.dev.build-override] opt-level = 3"
        } else {
            "cargo's default dev profile"
        },
        opt.rounds
    );
    println!("crates: {}", dir.display());

    let start = Instant::now();
    let mut cmd = cargo(&dir, None, "target");
    cmd.args(["build", "--workspace"]);
    run(cmd, "building the crates and their dependencies");
    println!(
        "dependencies and crates built in {:.1} s (0 when nothing changed)",
        start.elapsed().as_secs_f64()
    );

    // One untimed rebuild each, so the first timed one finds the same warm
    // caches as the others.
    for way in &WAYS {
        rebuild(&dir, way);
    }
    println!("load average before: {}", load_average());
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); WAYS.len()];
    print!("{:<10}", "round");
    for way in &WAYS {
        print!(" {:>11}", format!("{}_s", way.name));
    }
    println!();
    for round in 0..opt.rounds {
        for i in 0..WAYS.len() {
            let w = (i + round) % WAYS.len();
            samples[w].push(rebuild(&dir, &WAYS[w]));
        }
        print!("{:<10}", round + 1);
        for s in &samples {
            print!(" {:>11.3}", s[round].wall);
        }
        println!();
    }
    let wall: Vec<f64> = samples
        .iter()
        .map(|s| median(&s.iter().map(|x| x.wall).collect::<Vec<_>>()))
        .collect();
    let cpu: Option<Vec<f64>> = samples
        .iter()
        .map(|s| Some(median(&s.iter().map(|x| x.cpu).collect::<Option<Vec<_>>>()?)))
        .collect();
    print_row("median", &wall);
    if let Some(cpu) = &cpu {
        print_row("median cpu", cpu);
    }
    println!("load average after: {}", load_average());

    if opt.time_passes {
        time_passes(&dir, machines);
    }

    // Load-tolerant cross-check: the same ratios of CPU seconds.
    if let Some(cpu) = &cpu {
        println!("cpu: {}", ratios(cpu));
    }
    println!("summary: {}", ratios(&wall));
}

fn print_row(label: &str, xs: &[f64]) {
    print!("{label:<10}");
    for x in xs {
        print!(" {x:>11.3}");
    }
    println!();
}

/// The generated way's figure over each other way's, named as in the summary.
fn ratios(xs: &[f64]) -> String {
    WAYS[1..]
        .iter()
        .zip(&xs[1..])
        .map(|(way, x)| format!("build_generated/{}={:.2}", way.name, xs[0] / x))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The passes `-Ztime-passes` prints that no other printed pass encloses.
const TOP_PASSES: [&str; 9] = [
    "macro_expand_crate",
    "resolve_crate",
    "type_check_crate",
    "MIR_borrow_checking",
    "misc_checking_3",
    "generate_crate_metadata",
    "codegen_crate",
    "serialize_dep_graph",
    "link",
];

/// One rebuild of each crate with nightly's `-Ztime-passes` (after a build
/// that fills nightly's own target directory and incremental cache).
fn time_passes(dir: &Path, machines: usize) {
    let passes = |way: &Way| -> String {
        let mut cmd = cargo(dir, Some("nightly"), "target-nightly");
        cmd.args(["rustc", "-p", &way.package(), "--lib", "--", "-Ztime-passes"]);
        let out = run(cmd, &format!("nightly -Ztime-passes build of {}", way.package()));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    println!();
    println!("time-passes (cargo +nightly, dev profile, touch + rebuild), seconds:");
    for way in &WAYS {
        passes(way);
        touch(dir, way);
        let text = passes(way);
        let times = parse_time_passes(&text);
        let get = |name: &str| times.iter().find(|(n, _)| n == name).map(|(_, t)| *t);
        let (Some(expand), Some(total)) = (get("macro_expand_crate"), get("total")) else {
            eprintln!("{text}");
            fail("no macro_expand_crate or total line in the -Ztime-passes output")
        };
        println!(
            "  {:<10} total {total:.3}, macro_expand_crate {expand:.3} ({:.0}%, {:.2} ms per machine)",
            way.name,
            100.0 * expand / total,
            1000.0 * expand / machines as f64
        );
        // Top-level passes only: the others nest inside these, and what
        // -Ztime-passes does not name is left in "other".
        let shown: Vec<(&str, f64)> = TOP_PASSES
            .iter()
            .filter_map(|&name| Some((name, get(name)?)))
            .collect();
        let other = total - shown.iter().map(|(_, t)| t).sum::<f64>();
        let top: Vec<String> = shown
            .iter()
            .map(|(n, t)| format!("{n} {t:.3}"))
            .chain([format!("other {other:.3}")])
            .collect();
        println!("             {}", top.join(", "));
    }
    println!();
}

/// `(pass, seconds)` of each `time: 0.123; rss: ... pass` line.
fn parse_time_passes(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("time:")?;
            let (secs, _) = rest.split_once(';')?;
            let name = line.split_whitespace().last()?;
            Some((name.to_string(), secs.trim().parse().ok()?))
        })
        .collect()
}
