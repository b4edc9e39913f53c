//! The guide: chapters beyond the crate's front page, each with examples
//! that run as doctests.
//!
//! - [`annotations`]: the type annotations a stored local needs, form by
//!   form: the refused code, today's message, and the fix.
//! - [`migration`]: from a hand-written state enum to a generated one, and
//!   the conventions of a Turso-style engine beside ratchet's.

#[doc = include_str!("annotations.md")]
pub mod annotations {}

#[doc = include_str!("migration.md")]
pub mod migration {}

/// Users read the runtime's items on this crate's pages, so the runtime's
/// doc examples must show `use ratchet::..` (a hidden line aliases the
/// runtime crate to that name for its own doctests).
#[cfg(test)]
mod tests {
    #[test]
    fn runtime_doc_examples_show_the_facade_paths() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime/src");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Inside a fenced block: whether it is Rust code.
            let mut fence: Option<bool> = None;
            for (n, line) in text.lines().enumerate() {
                let t = line.trim_start();
                let Some(doc) = t.strip_prefix("///").or_else(|| t.strip_prefix("//!")) else {
                    fence = None;
                    continue;
                };
                let doc = doc.strip_prefix(' ').unwrap_or(doc);
                if doc.starts_with("```") {
                    fence = match fence {
                        Some(_) => None,
                        None => Some(!doc.starts_with("```text")),
                    };
                    continue;
                }
                if fence == Some(true) && !doc.starts_with('#') {
                    checked += 1;
                    assert!(
                        !doc.contains("ratchet_runtime"),
                        "{}:{}: a doc example shows `ratchet_runtime`: write `ratchet::..` and alias the crate \
                         with a hidden `# extern crate ratchet_runtime as ratchet;`",
                        path.display(),
                        n + 1
                    );
                }
            }
        }
        assert!(
            checked > 100,
            "only {checked} doc example lines found in {}",
            dir.display()
        );
    }

    /// The crate docs are the contract: every rule is in them, and they
    /// send the reader to no file that does not ship with the crate.
    #[test]
    fn the_crate_docs_state_every_rule() {
        let lib = include_str!("../lib.rs");
        let docs: String = lib
            .lines()
            .filter_map(|l| l.strip_prefix("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            !docs.contains("DESIGN.md"),
            "the crate docs point to DESIGN.md, which does not ship"
        );
        let titles = [
            "Signature.",
            "Calling convention.",
            "Exactly once.",
            "`yield_io!(expr)`",
            "`call_io!(expr)`",
            "Where a suspension point may stand:",
            "Control flow across suspension points:",
            "Stored locals.",
            "Borrows.",
            "The state type",
            "Errors and panics.",
            "Force-suspend.",
            "Diagnostics.",
            "Hygiene.",
            "Outside a machine",
        ];
        for (i, title) in titles.iter().enumerate() {
            let item = format!("{}. **{title}", i + 1);
            assert!(
                docs.contains(&item),
                "rule {} is missing from the crate docs: `{item}`",
                i + 1
            );
        }
    }
}
