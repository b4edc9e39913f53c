//! The crates `cargo bench --bench buildcost` rebuilds: one library crate
//! per way of writing the machines of `benches/machines/`, each holding
//! `copies` verbatim copies of that way's file (one module per copy) over
//! one copy of `device.rs`, in a workspace of their own whose dependencies
//! are built once and then stay fresh.
//!
//! Written outside the source tree (under the target directory by default),
//! and only where a file's text changed, so a second run reuses the build.

use std::fs;
use std::io;
use std::path::Path;

/// One way of writing the machines, and the crate that holds its copies.
#[derive(Debug, Clone, Copy)]
pub struct Way {
    /// The column name, also the crate's directory (`buildcost-NAME` is its
    /// package).
    pub name: &'static str,
    /// The way's file in `benches/machines/`, copied verbatim.
    source: &'static str,
    /// Dependencies besides the facade, as lines of `[dependencies]`.
    extra_deps: &'static str,
}

impl Way {
    /// The package name cargo builds with `-p`.
    #[must_use]
    pub fn package(&self) -> String {
        format!("buildcost-{}", self.name)
    }
}

/// The four ways, in the order the summary names them.
pub const WAYS: [Way; 4] = [
    Way {
        name: "generated",
        source: include_str!("../machines/generated.rs"),
        extra_deps: "",
    },
    Way {
        name: "hand",
        source: include_str!("../machines/hand.rs"),
        extra_deps: "",
    },
    Way {
        name: "async",
        source: include_str!("../machines/asynk.rs"),
        extra_deps: "",
    },
    Way {
        name: "diapause",
        // The requirement of ratchet's dev-dependency; the copied lock file
        // pins the same release.
        source: include_str!("../machines/dia.rs"),
        extra_deps: "diapause = \"0.2\"\n",
    },
];

/// The device every machine of every way works on; one copy per crate.
const DEVICE: &str = include_str!("../machines/device.rs");

/// Machines in one copy of a way: the functions `#[io_state_machine]`
/// expands in `generated.rs` (the other ways write the same functions).
#[must_use]
pub fn machines_per_copy() -> usize {
    WAYS[0].source.matches("#[io_state_machine(").count()
}

/// The file of copy `i` (`src/copy_07.rs`), as `lib.rs` declares it.
fn copy_module(i: usize) -> String {
    format!("copy_{i:02}")
}

/// `lib.rs` of a way's crate: the device and `copies` modules, each a copy
/// of the way's file (whose `super::device` is this crate's `device`).
fn lib_rs(way: &Way, copies: usize) -> String {
    let mut s = format!(
        "//! {copies} copies of benches/machines' machines written as `{}`, from\n\
         //! `cargo bench --bench buildcost`; rebuilt to time the build.\n\
         pub mod device;\n",
        way.name
    );
    for i in 0..copies {
        s.push_str(&format!("pub mod {};\n", copy_module(i)));
    }
    s
}

/// `Cargo.toml` of a way's crate: the facade by path, under the library
/// name user code writes.
fn manifest(way: &Way, facade: &Path) -> String {
    format!(
        "[package]\nname = \"{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nratchet = {{ path = {}, package = \"ratchet-io\" }}\n{}",
        way.package(),
        toml_string(&facade.display().to_string()),
        way.extra_deps
    )
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Writes the workspace of the four crates into `dir`: `facade` is the
/// ratchet checkout they depend on, `copies` the copies of each way, and
/// `root_extra` TOML appended to the workspace manifest (a profile
/// override; empty for cargo's default profiles). The checkout's
/// `Cargo.lock` seeds the workspace's, so the same dependency releases are
/// built and no registry is asked.
pub fn write_workspace(dir: &Path, facade: &Path, copies: usize, root_extra: &str) -> io::Result<()> {
    let members: Vec<String> = WAYS.iter().map(|w| format!("\"{}\"", w.name)).collect();
    write_if_changed(
        &dir.join("Cargo.toml"),
        &format!(
            "# Written by `cargo bench --bench buildcost`.\n[workspace]\nmembers = [{}]\nresolver = \"3\"\n{root_extra}",
            members.join(", ")
        ),
    )?;
    let lock = dir.join("Cargo.lock");
    if !lock.exists() {
        fs::copy(facade.join("Cargo.lock"), &lock)?;
    }
    for way in &WAYS {
        let krate = dir.join(way.name);
        write_if_changed(&krate.join("Cargo.toml"), &manifest(way, facade))?;
        write_if_changed(&krate.join("src/lib.rs"), &lib_rs(way, copies))?;
        write_if_changed(&krate.join("src/device.rs"), DEVICE)?;
        for i in 0..copies {
            write_if_changed(&krate.join(format!("src/{}.rs", copy_module(i))), way.source)?;
        }
    }
    Ok(())
}

/// Writes `text` to `path` unless it already holds it: an unchanged file
/// keeps its modification time, so cargo keeps the build.
fn write_if_changed(path: &Path, text: &str) -> io::Result<()> {
    if fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, text)
}
