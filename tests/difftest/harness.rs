//! The generated crate: writing it, building it with cargo, running it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::generator::{Program, emit_module};

/// Lints the generated crate allows, each because random bodies trip it
/// without anything being wrong. Everything else is denied, so a warning in
/// the macro's expansion fails the build (rule 14).
const ALLOWED_LINTS: &[(&str, &str)] = &[
    (
        "unused_variables",
        "bodies bind values that later code may not read",
    ),
    (
        "unused_assignments",
        "bodies assign values that later code may not read",
    ),
    ("unused_mut", "`let mut` on locals the body happens not to mutate"),
    (
        "unused_labels",
        "every loop is labeled whether or not a break names it",
    ),
    (
        "unreachable_code",
        "an early exit may precede statements of its block",
    ),
    (
        "unused_parens",
        "casts and operands are parenthesized for parse safety",
    ),
    (
        "dead_code",
        "a reduced program may keep helpers it no longer calls",
    ),
];

/// The transform itself (not syn) is most of the expansion time, so only it
/// is optimized, and only at `opt-level = 1`. Measured cold on this
/// two-core machine: ratchet builds for the generated crates in 16 s instead
/// of 8 s, and 125 programs expand in 3.5 s instead of 6 s (so a
/// 1,000-program run gains about 10 s of wall time). The proc-macro with
/// syn at `opt-level = 3` took 66 s to build and expanded 125 programs in
/// 2.9 s: it would pay only in runs of tens of thousands of programs.
const MACRO_PROFILE: &str = "# The transform expands thousands of machines per build.\n\
     [profile.dev.package.ratchet-macros-core]\nopt-level = 1\n";

/// Seconds one program may run (all its schedules) before it is reported as
/// looping forever: programs need milliseconds, but machines share two cores
/// with compilers.
pub const HANG_SECS: u64 = 30;
/// Exit status of the generated binary after reporting a hang.
pub const HANG_EXIT: i32 = 3;

/// How a run of the generated binary ended.
pub enum End {
    Finished,
    /// It reported a program that does not return, and stopped.
    Hang,
    /// It died (a stack overflow, an abort) in the program after the last
    /// one it reported.
    Crashed(String),
    /// The backstop timeout killed it.
    Killed,
}

/// One module of the generated crate.
pub struct Module {
    pub name: String,
    pub source: String,
    /// First line of the machine part: errors above it are in the direct twin.
    pub machine_line: usize,
}

/// Writes `program` as module `name`.
pub fn module(name: &str, p: &Program, machine: bool) -> Module {
    let (source, machine_line) = emit_module(p, machine);
    Module {
        name: name.to_string(),
        source,
        machine_line,
    }
}

/// A compile error located in a module.
#[derive(Debug, Clone)]
pub struct CompileError {
    pub line: usize,
    pub message: String,
}

pub struct Build {
    pub ok: bool,
    /// Errors by module.
    pub errors: BTreeMap<String, Vec<CompileError>>,
    /// Errors cargo reported outside any program module.
    pub other: Vec<String>,
    pub duration: Duration,
}

/// A generated crate at `dir`, built into the shared `target`.
pub struct GenCrate {
    pub dir: PathBuf,
    pub target: PathBuf,
    /// Package and binary name prefix: unique per directory, so runs with
    /// other seeds or sizes can share the target dir without overwriting it.
    pub package: String,
    /// Programs per crate (workspace member): rustc type-checks one crate
    /// on one core and cargo builds members in parallel; smaller crates also
    /// make the rebuild after a compile failure cheaper.
    pub per_crate: usize,
    /// Module names of each part, in run order (set by `write`).
    layout: std::cell::RefCell<Vec<Vec<String>>>,
    /// The part of each module (set by `plan`).
    plan: std::cell::RefCell<BTreeMap<String, usize>>,
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return;
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

impl GenCrate {
    pub fn new(root: &Path, name: &str, per_crate: usize) -> Self {
        GenCrate {
            dir: root.join(name),
            target: root.join("target"),
            package: format!("difftest_{}", name.replace('-', "_")),
            per_crate: per_crate.max(1),
            layout: std::cell::RefCell::new(Vec::new()),
            plan: std::cell::RefCell::new(BTreeMap::new()),
        }
    }

    /// At least two crates (two cores), each of at most `per_crate` programs,
    /// and none of fewer than 20.
    fn parts_for(&self, n: usize) -> usize {
        n.div_ceil(self.per_crate).max(2).min(n.div_ceil(20)).max(1)
    }

    /// Spreads `names` over the parts, in contiguous runs.
    pub fn plan(&self, names: &[String]) {
        let parts = self.parts_for(names.len());
        let per_part = names.len().div_ceil(parts).max(1);
        *self.plan.borrow_mut() = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i / per_part))
            .collect();
    }

    /// The module names of each part, in run order.
    pub fn layout(&self) -> Vec<Vec<String>> {
        self.layout.borrow().clone()
    }

    /// Writes the crate: `support.rs`, one file per module and a `main.rs`
    /// that runs every module's `run_machine` (or `run_direct_only`) with the
    /// given schedule seeds. Files whose text did not change are left alone so
    /// cargo rebuilds nothing when a run repeats.
    pub fn write(&self, modules: &[Module], seeds: &[u64], machine: bool) {
        std::fs::create_dir_all(&self.dir).expect("create the generated crate");
        let parts = self.parts_for(self.plan.borrow().len().max(modules.len()));
        let members: Vec<String> = (0..parts).map(|i| format!("\"part{i}\"")).collect();
        let manifest = format!(
            "# Generated by tests/difftest.rs. Not a member of the ratchet workspace,\n\
             # even when it lives under its target/.\n\
             [workspace]\nmembers = [{}]\nresolver = \"3\"\n\n\
             [profile.dev]\ndebug = false\nincremental = false\n\n{MACRO_PROFILE}",
            members.join(", ")
        );
        write_if_changed(&self.dir.join("Cargo.toml"), &manifest);
        let lock = self.dir.join("Cargo.lock");
        if !lock.exists() {
            // The workspace's lock pins the same versions, so no resolution
            // (and no network) is needed.
            let _ = std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"), &lock);
        }
        // A module stays in the part `plan` gave it, so dropping the modules
        // that failed to compile leaves the other parts untouched (and cargo
        // does not rebuild them).
        let plan = self.plan.borrow();
        let mut layout: Vec<Vec<String>> = vec![Vec::new(); parts];
        let mut members: Vec<(Vec<&Module>, Vec<u64>)> = vec![(Vec::new(), Vec::new()); parts];
        for (i, (m, seed)) in modules.iter().zip(seeds).enumerate() {
            let part = plan.get(&m.name).copied().unwrap_or(i) % parts;
            members[part].0.push(m);
            members[part].1.push(*seed);
            layout[part].push(m.name.clone());
        }
        for (part, (ms, ss)) in members.iter().enumerate() {
            self.write_part(part, ms, ss, machine);
        }
        // Remove parts of earlier runs.
        for part in parts.. {
            let dir = self.dir.join(format!("part{part}"));
            if !dir.exists() {
                break;
            }
            let _ = std::fs::remove_dir_all(dir);
        }
        *self.layout.borrow_mut() = layout;
    }

    fn bin(&self, part: usize) -> String {
        format!("{}_{part}", self.package)
    }

    fn write_part(&self, part: usize, modules: &[&Module], seeds: &[u64], machine: bool) {
        let dir = self.dir.join(format!("part{part}"));
        let src = dir.join("src");
        std::fs::create_dir_all(&src).expect("create a part of the generated crate");
        let manifest = format!(
            "[package]\nname = \"{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nratchet = {{ path = \"{}\", package = \"ratchet-io\" }}\n",
            self.bin(part),
            env!("CARGO_MANIFEST_DIR").replace('\\', "/"),
        );
        write_if_changed(&dir.join("Cargo.toml"), &manifest);
        write_if_changed(&src.join("support.rs"), include_str!("support.rs"));
        let mut main =
            String::from("// Generated by tests/difftest.rs: do not edit.\n#![deny(warnings)]\n#![allow(\n");
        for (lint, why) in ALLOWED_LINTS {
            let _ = writeln!(main, "    {lint}, // {why}");
        }
        main.push_str(")]\n\nmod support;\n");
        let mut wanted: BTreeSet<String> = BTreeSet::from(["support.rs".to_string(), "main.rs".to_string()]);
        for m in modules {
            let _ = writeln!(main, "mod {};", m.name);
            write_if_changed(&src.join(format!("{}.rs", m.name)), &m.source);
            wanted.insert(format!("{}.rs", m.name));
        }
        let entry = if machine { "run_machine" } else { "run_direct_only" };
        let _ = writeln!(
            main,
            "\nconst HANG_SECS: u64 = {HANG_SECS};\nconst HANG_EXIT: i32 = {HANG_EXIT};"
        );
        main.push_str("\nconst PROGRAMS: &[(&str, u64, fn(u64) -> support::Verdict)] = &[\n");
        for (m, seed) in modules.iter().zip(seeds) {
            let _ = writeln!(main, "    (\"{0}\", {seed:#x}, {0}::{entry}),", m.name);
        }
        main.push_str(
            r#"];

fn main() {
    // Panics are expected results (reported as divergences), not noise.
    std::panic::set_hook(Box::new(|_| {}));
    let from: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    let mut out = std::io::stdout().lock();
    use std::io::Write as _;
    for &(name, seed, run) in &PROGRAMS[from..] {
        // Each program runs on its own thread, so one that never returns
        // is reported instead of stalling the run.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(std::panic::catch_unwind(|| run(seed)));
        });
        let mut text = String::new();
        match rx.recv_timeout(std::time::Duration::from_secs(HANG_SECS)) {
            Ok(Ok(v)) => match v.divergence {
                None => text.push_str(&format!("ok {name} {}\n", v.schedules)),
                Some(d) => {
                    text.push_str(&format!("div {name} {} {} {}\n", v.schedules, d.index, d.schedule));
                    for line in d.details {
                        text.push_str(&format!("| {line}\n"));
                    }
                }
            },
            Ok(Err(_)) => text.push_str(&format!("div {name} 0 0 (none)\n| the harness panicked\n")),
            Err(_) => {
                let _ = write!(out, "div {name} 0 0 (unknown)\n| no answer within {HANG_SECS} s: the program loops forever\n");
                let _ = out.flush();
                std::process::exit(HANG_EXIT);
            }
        }
        out.write_all(text.as_bytes()).expect("write to stdout");
    }
    out.flush().expect("flush stdout");
}
"#,
        );
        write_if_changed(&src.join("main.rs"), &main);
        // Remove modules of earlier runs, so they are not mistaken for ours.
        if let Ok(rd) = std::fs::read_dir(&src) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if n.ends_with(".rs") && !wanted.contains(&n) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    fn cargo(&self) -> Command {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.env("CARGO_TARGET_DIR", &self.target)
            .env_remove("CARGO_MAKEFLAGS")
            .env_remove("MAKEFLAGS")
            .env_remove("MFLAGS")
            .current_dir(&self.dir);
        cmd
    }

    pub fn build(&self) -> Build {
        let start = Instant::now();
        // `--keep-going`: a part that fails to compile must not stop the
        // others, or the rebuild without its failing modules builds them all.
        let output = self
            .cargo()
            .args([
                "build",
                "--workspace",
                "--keep-going",
                "--quiet",
                "--message-format=short",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("run cargo build on the generated crate");
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        let mut errors: BTreeMap<String, Vec<CompileError>> = BTreeMap::new();
        let mut other = Vec::new();
        for line in stderr.lines() {
            // src/p12.rs:40:5: error[E0425]: cannot find value `x` in this scope
            let is_error = line.contains(": error") || line.starts_with("error");
            if !is_error {
                continue;
            }
            let parsed = line.split_once("src/").and_then(|(_, rest)| {
                let (file, rest) = rest.split_once(".rs:")?;
                let (ln, rest) = rest.split_once(':')?;
                let (_, msg) = rest.split_once(": ")?;
                Some((file.to_string(), ln.parse::<usize>().ok()?, msg.to_string()))
            });
            match parsed {
                Some((module, line, message)) => errors
                    .entry(module)
                    .or_default()
                    .push(CompileError { line, message }),
                None => {
                    if !line.starts_with("error: could not compile") && !line.contains("aborting due to") {
                        other.push(line.to_string());
                    }
                }
            }
        }
        Build {
            ok: output.status.success(),
            errors,
            other,
            duration: start.elapsed(),
        }
    }

    /// Runs the built binary from program position `from`; returns its
    /// stdout and how it ended.
    pub fn run(&self, part: usize, from: usize, timeout: Duration) -> (String, End) {
        let bin = self.target.join("debug").join(self.bin(part));
        let mut child = Command::new(&bin)
            .arg(from.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
        let mut stdout = child.stdout.take().expect("piped stdout");
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let start = Instant::now();
        let end = loop {
            if let Some(status) = child.try_wait().expect("wait for the generated binary") {
                break if status.success() {
                    End::Finished
                } else if status.code() == Some(HANG_EXIT) {
                    End::Hang
                } else {
                    End::Crashed(status.to_string())
                };
            }
            if start.elapsed() > timeout {
                let _ = child.kill();
                let _ = child.wait();
                break End::Killed;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (reader.join().expect("reader thread"), end)
    }
}
