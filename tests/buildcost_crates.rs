//! The crates `cargo bench --bench buildcost` times compile, warning-free,
//! as two copies per way over the checkout: a smoke test of the generator
//! (`benches/buildcost/crates.rs`), not a timing. It checks them with the
//! cargo running the tests, in a temporary workspace and target directory,
//! so the first run builds the dependencies there (about 15 s on two cores).

#[path = "../benches/buildcost/crates.rs"]
mod crates;

use std::path::Path;
use std::process::Command;

#[test]
fn buildcost_crates_compile_without_warnings() {
    // The bench reports 50 copies as 250 machines.
    assert_eq!(
        crates::machines_per_copy(),
        5,
        "machines in benches/machines/generated.rs"
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    crates::write_workspace(dir.path(), Path::new(env!("CARGO_MANIFEST_DIR")), 2, "")
        .expect("the crates are written");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let out = Command::new(cargo)
        .args(["check", "--workspace"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the crates do not compile:\n{stderr}");
    for way in &crates::WAYS {
        assert!(
            stderr.contains(&format!("Checking {} ", way.package())),
            "{} was not checked:\n{stderr}",
            way.package()
        );
    }
    // A warning would be timed with the build (and hide a change of what
    // the copies hold).
    assert!(!stderr.contains("warning"), "warnings:\n{stderr}");
}
