//! `cargo bench -p ratchet-macros-core --bench expansion_size`: how many
//! lines the expansion snapshots (`tests/expand/*.expanded.rs`, what users
//! see in `cargo expand`) hold against their inputs (`tests/expand/*.rs`).
//!
//! Lines are counted as `wc -l` does. Per snapshot it also counts the
//! `::ratchet::__private::` paths and the `__ratchet_seen` markers of the
//! expansion. The last line is the total ratio. The snapshots are the
//! checked-in files, which the `expand` test keeps equal to the macro's
//! output.

use std::path::{Path, PathBuf};

/// What one snapshot holds.
struct Snapshot {
    name: String,
    input_lines: usize,
    expanded_lines: usize,
    private_paths: usize,
    markers: usize,
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/expand");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "rs") && !p.to_string_lossy().ends_with(".expanded.rs")
        })
        .collect();
    inputs.sort();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let snapshots: Vec<Snapshot> = inputs
        .iter()
        .map(|input| {
            let expanded = read(&input.with_extension("expanded.rs"));
            Snapshot {
                name: input
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                input_lines: read(input).lines().count(),
                expanded_lines: expanded.lines().count(),
                private_paths: expanded.matches("::ratchet::__private::").count(),
                markers: expanded.matches("__ratchet_seen").count(),
            }
        })
        .collect();

    println!(
        "{:<28} {:>6} {:>8} {:>6} {:>10} {:>8}",
        "snapshot", "input", "expanded", "ratio", "__private", "markers"
    );
    for s in &snapshots {
        println!(
            "{:<28} {:>6} {:>8} {:>6.1} {:>10} {:>8}",
            s.name,
            s.input_lines,
            s.expanded_lines,
            s.expanded_lines as f64 / s.input_lines as f64,
            s.private_paths,
            s.markers
        );
    }
    let input: usize = snapshots.iter().map(|s| s.input_lines).sum();
    let expanded: usize = snapshots.iter().map(|s| s.expanded_lines).sum();
    println!(
        "summary: snapshots={} input_lines={input} expanded_lines={expanded} expansion_lines/input={:.1} private_paths={} markers={}",
        snapshots.len(),
        expanded as f64 / input as f64,
        snapshots.iter().map(|s| s.private_paths).sum::<usize>(),
        snapshots.iter().map(|s| s.markers).sum::<usize>(),
    );
}
