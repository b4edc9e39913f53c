//! Reduction of a diverging program to a small reproducer, and saving it as
//! a regression test.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::generator::{Node, Program, edits, emit_module, program_seed};
use crate::harness::GenCrate;
use crate::{Failure, check};

/// Candidates compiled together in one build of the reduction crate.
const CHUNK: usize = 48;
/// Wall-clock budget of one reduction: the reproducer saved is the smallest
/// found by then.
const BUDGET: Duration = Duration::from_secs(600);

pub struct Reducer {
    krate: GenCrate,
}

/// Whether `new` is the same kind of failure as `old`: a compile failure
/// whose errors are all of kinds the original had (names aside), its first
/// included, so an edit that merely breaks the program (a removed
/// declaration) is refused; or any runtime divergence.
fn same_kind(old: &Failure, new: &Failure) -> bool {
    /// The message without its line and without the names in backticks.
    fn skeleton(s: &str) -> String {
        let msg = s.split_once(": ").map_or(s, |(_, m)| m);
        msg.split('`').step_by(2).collect::<Vec<_>>().join("`_`")
    }
    match (old, new) {
        (Failure::Compile(a), Failure::Compile(b)) => {
            let kinds: Vec<String> = a.iter().map(|e| skeleton(e)).collect();
            let new_kinds: Vec<String> = b.iter().map(|e| skeleton(e)).collect();
            new_kinds.iter().all(|k| kinds.contains(k))
                && kinds.first().is_some_and(|k| new_kinds.contains(k))
        }
        (Failure::Runtime { .. }, Failure::Runtime { .. }) => true,
        _ => false,
    }
}

fn size(p: &Program) -> usize {
    p.funcs
        .iter()
        .map(|f| f.body.iter().map(Node::size).sum::<usize>())
        .sum()
}

impl Reducer {
    pub fn new(krate: GenCrate) -> Self {
        Reducer { krate }
    }

    /// Greedy delta debugging: apply the largest single edit that keeps the
    /// failure (checked by compiling and running the candidates in batches)
    /// until no edit does.
    pub fn reduce(&self, p: &Program, f: &Failure) -> Result<(Program, Failure), String> {
        let start = Instant::now();
        let mut cur = p.clone();
        let mut cur_f = f.clone();
        'rounds: while start.elapsed() < BUDGET {
            let mut cands: Vec<(usize, Program)> = Vec::new();
            for fi in 0..cur.funcs.len() {
                for (w, body) in edits(&cur.funcs[fi].body) {
                    let mut c = cur.clone();
                    c.funcs[fi].body = body;
                    cands.push((w, c));
                }
            }
            // Whole helpers go only as an edit of their own, kept when the
            // failure stays: the failure may be in a helper nothing calls
            // (dropping unused helpers with every edit lost it), and one
            // still called fails differently without it.
            let last = cur.funcs.len().saturating_sub(1);
            for fi in 0..last {
                let mut c = cur.clone();
                let w = c.funcs.remove(fi).body.iter().map(Node::size).sum::<usize>() + 1;
                cands.push((w, c));
            }
            cands.sort_by_key(|c| std::cmp::Reverse(c.0));
            for chunk in cands.chunks(CHUNK) {
                let named: Vec<(String, Program)> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, (_, c))| (format!("c{i}"), c.clone()))
                    .collect();
                let checked = check(&self.krate, &named, true)?;
                for (name, c) in &named {
                    if let Some(nf) = checked.failures.get(name)
                        && same_kind(f, nf)
                    {
                        eprintln!("difftest: reduce: {} -> {} nodes", size(&cur), size(c));
                        cur = c.clone();
                        cur_f = nf.clone();
                        continue 'rounds;
                    }
                }
                if start.elapsed() >= BUDGET {
                    break;
                }
            }
            break;
        }
        Ok((cur, cur_f))
    }
}

/// Saves `p` as `tests/difftest_regressions/open/<kind>_<name>.rs`: an open
/// finding, pinned by `tests/difftest_regressions.rs` until the macro is
/// fixed (then the file moves up one directory and must agree).
pub fn save(p: &Program, f: &Failure, run_seed: u64, features: &str) -> std::io::Result<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/difftest_regressions/open");
    std::fs::create_dir_all(&dir)?;
    let kind = match f {
        Failure::Compile(_) => "compile",
        Failure::Runtime { .. } => "runtime",
    };
    let name = format!("{kind}_s{:x}_p{}", run_seed, p.index);
    let path = dir.join(format!("{name}.rs"));
    std::fs::write(&path, regression_source(p, f, &name, run_seed, features))?;
    Ok(path)
}

/// The text of a regression file for `p`.
pub fn regression_source(p: &Program, f: &Failure, name: &str, run_seed: u64, features: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "//! difftest finding: RATCHET_DIFFTEST_SEED={run_seed:#x}, program {}, reduced.",
        p.index
    );
    let _ = writeln!(out, "//! Generator features: {features}");
    for line in f.describe().lines() {
        let _ = writeln!(out, "//!   {line}");
    }
    out.push_str(
        "//! Run by tests/difftest_regressions.rs.\n\
         #![deny(warnings)]\n\
         #![allow(unused_variables, unused_assignments, unused_mut, unused_labels, unreachable_code, unused_parens, dead_code)]\n\n\
         #[path = \"../../difftest/support.rs\"]\n\
         mod support;\n\n\
         mod program {\n",
    );
    let (src, _) = emit_module(p, true);
    for line in src.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "    {line}");
        }
    }
    let check = match f {
        Failure::Runtime { .. } => "assert_diverges",
        Failure::Compile(_) => "assert_agrees",
    };
    let _ = writeln!(
        out,
        "}}\n\nfn main() {{\n    support::{check}(\"{name}\", &program::run_machine({:#x}));\n}}",
        program_seed(p.seed, p.index)
    );
    out
}
