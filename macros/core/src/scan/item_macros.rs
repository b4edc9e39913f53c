//! Shared syntax queries: code that must not be written twice. Which std
//! macros expand to no item, and whether tokens invoke another macro or
//! declare an item that must exist once (a `static`, an `impl`, a fixed
//! symbol, an item under an attribute macro). Takes token streams; gives
//! yes or no. The graph (stage 3) asks it per block, the emitter (stage 7)
//! before it copies code.

use proc_macro2::{TokenStream, TokenTree};

/// std macros whose string literals are format strings with captures.
pub const FORMAT_MACROS: &[&str] = &[
    "format",
    "format_args",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "unreachable",
    "todo",
    "unimplemented",
];

/// std macros besides [`FORMAT_MACROS`] that expand to expressions or
/// statements only, never to an item (a per-call-site `static`, a
/// `thread_local!`): code invoking only these may be emitted twice. Also
/// the placeholders the transform itself writes.
const OTHER_ITEM_FREE_MACROS: &[&str] = &[
    "vec",
    "matches",
    "concat",
    "stringify",
    "line",
    "column",
    "file",
    "module_path",
    "cfg",
    "env",
    "option_env",
    "dbg",
    "__ratchet_jump",
    "__ratchet_susp",
];

/// Whether `name!` is one of std's macros that expand to no item (and no
/// `break`, `continue` or `return` of the code around them).
pub fn is_item_free_macro(name: &str) -> bool {
    FORMAT_MACROS.contains(&name)
        || OTHER_ITEM_FREE_MACROS.contains(&name)
        || name.starts_with("__ratchet_trace_")
}

/// Whether `tokens` invoke a macro outside [`is_item_free_macro`]'s (and the
/// runtime's `__ratchet_trace_*` hooks), or define one.
///
/// Macros named in `known` (the body's own `macro_rules!` that write no
/// item) count as item-free too.
pub fn invokes_item_macro_except(tokens: &TokenStream, known: &[String]) -> bool {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees.iter().enumerate().any(|(i, tt)| match tt {
        TokenTree::Ident(id) => {
            let name = id.to_string();
            let bang = matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!' && p.spacing() == proc_macro2::Spacing::Alone);
            // `if !(x)` and `return !x` are operators, not invocations.
            let keyword = matches!(
                name.as_str(),
                "if" | "while" | "match" | "return" | "in" | "break" | "else" | "let" | "as" | "mut" | "move" | "yield"
            );
            let called = match trees.get(i + 2) {
                Some(TokenTree::Group(_)) => true,
                Some(TokenTree::Ident(_)) => name == "macro_rules",
                _ => false,
            };
            if !bang || !called || keyword || name.starts_with("__ratchet_trace_") {
                return false;
            }
            // `std::format!` is std's; `defmt::println!` is not, whatever
            // its last segment (defmt's write a `static` per call site).
            match path_root(&trees, i) {
                None => !is_item_free_macro(&name) && !known.contains(&name),
                Some(root) => !(matches!(root.as_str(), "std" | "core" | "alloc") && is_item_free_macro(&name)),
            }
        }
        TokenTree::Group(g) => invokes_item_macro_except(&g.stream(), known),
        _ => false,
    })
}

// Input:  the tokens of `a::b::m!(..)`, `i` at `m`
// Output: `Some("a")` (for `m!(..)`: `None`)
/// The first segment of the path that ends at `trees[i]`, when it has more
/// than one.
fn path_root(trees: &[TokenTree], i: usize) -> Option<String> {
    let colon = |k: usize| matches!(trees.get(k), Some(TokenTree::Punct(p)) if p.as_char() == ':');
    let mut at = i;
    let mut root = None;
    while at >= 3 && colon(at - 1) && colon(at - 2) {
        match &trees[at - 3] {
            TokenTree::Ident(id) => {
                root = Some(id.to_string());
                at -= 3;
            }
            _ => break,
        }
    }
    root
}

/// Attributes that write nothing beside the item they stand on (std's
/// lints, `cfg`, docs, codegen hints): any other, an attribute macro or a
/// derive outside std's, may write a `static` or an `impl`.
const INERT_ATTRIBUTES: &[&str] = &[
    "allow",
    "warn",
    "deny",
    "forbid",
    "expect",
    "cfg",
    "cfg_attr",
    "doc",
    "inline",
    "cold",
    "must_use",
    "track_caller",
    "repr",
    "non_exhaustive",
    "deprecated",
    "automatically_derived",
    "rustfmt",
    "clippy",
    "diagnostic",
    "reevaluated",
];

/// The derives of std, which write only the trait's `impl` for the type
/// they stand on.
const STD_DERIVES: &[&str] = &[
    "Debug",
    "Clone",
    "Copy",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Hash",
    "Default",
];

// Input:  the stream of `#[derive(Debug, serde::Serialize)]`'s brackets
// Output: true (`#[allow(unused)]`, `#[derive(Clone)]`: false)
/// Whether an attribute (the tokens inside `#[..]`) may write an item of
/// its own beside the one it stands on.
fn attribute_may_write_item(stream: &TokenStream) -> bool {
    let trees: Vec<TokenTree> = stream.clone().into_iter().collect();
    let Some(TokenTree::Ident(first)) = trees.first() else {
        return false;
    };
    let name = first.to_string();
    // The parts of the attribute's arguments, split at their commas.
    let args: Vec<Vec<TokenTree>> = match trees.get(1) {
        Some(TokenTree::Group(g)) => {
            let items: Vec<TokenTree> = g.stream().into_iter().collect();
            items
                .split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
                .map(<[TokenTree]>::to_vec)
                .collect()
        }
        _ => Vec::new(),
    };
    // `cfg_attr(pred, a, b)` stands for `a` and `b` (attack round 14).
    if name == "cfg_attr" {
        return args
            .iter()
            .skip(1)
            .any(|a| attribute_may_write_item(&a.iter().cloned().collect()));
    }
    if name == "derive" {
        return args.iter().any(|d| {
            let idents: Vec<String> = d
                .iter()
                .filter_map(|t| match t {
                    TokenTree::Ident(id) => Some(id.to_string()),
                    _ => None,
                })
                .collect();
            match idents.as_slice() {
                [] => false,
                [one] => !STD_DERIVES.contains(&one.as_str()),
                [root, .., last] => {
                    !(matches!(root.as_str(), "std" | "core") && STD_DERIVES.contains(&last.as_str()))
                }
            }
        });
    }
    // `unsafe(no_mangle)` and the like are found by the caller's scan.
    name != "unsafe" && !INERT_ATTRIBUTES.contains(&name.as_str())
}

// Input:  `{ static ONCE: Once = Once::new(); ONCE.call_once(f) }`, or `impl T for u32 {}`
// Output: true (for `fn f() -> &'static str { .. }`: false)
/// Whether `tokens` may declare an item that must exist once in a program:
/// a `static` (a per-call-site value), an `impl` (a second one conflicts),
/// an item whose symbol is fixed (`#[no_mangle]`, `#[export_name]`,
/// `#[link_section]`, `#[used]`), or an item under an attribute that may
/// write one (an attribute macro such as `tracing::instrument`, a derive
/// outside std's). Code that holds one cannot be written twice, as a
/// verbatim start and a resume's arm, or as a fast-path copy.
pub fn declares_unique_item(tokens: &TokenStream) -> bool {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees.iter().enumerate().any(|(i, tt)| match tt {
        TokenTree::Ident(id) => {
            let lifetime = i > 0 && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '\'');
            let name = id.to_string();
            match name.as_str() {
                "static" => !lifetime,
                "impl" | "no_mangle" | "export_name" | "link_section" => true,
                _ => false,
            }
        }
        TokenTree::Group(g) => {
            let hash = |k: usize| matches!(trees.get(k), Some(TokenTree::Punct(p)) if p.as_char() == '#');
            let bang = |k: usize| matches!(trees.get(k), Some(TokenTree::Punct(p)) if p.as_char() == '!');
            let attr = g.delimiter() == proc_macro2::Delimiter::Bracket
                && i > 0
                && (hash(i - 1) || (i > 1 && bang(i - 1) && hash(i - 2)));
            let used =
                attr && matches!(g.stream().into_iter().next(), Some(TokenTree::Ident(id)) if id == "used");
            used || (attr && attribute_may_write_item(&g.stream())) || declares_unique_item(&g.stream())
        }
        _ => false,
    })
}
