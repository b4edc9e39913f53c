//! Rule 8's fix (stage 5's messages), the text: code quoted as the user
//! wrote it (on one line, spacing kept, `mut` or `ref` left out where a fix
//! drops them, elided past a length) and lists of names as prose. Takes
//! syntax nodes or names; gives strings for the messages.

use proc_macro2::{Delimiter, LineColumn, Span, TokenStream, TokenTree};
use quote::ToTokens;

use crate::scan::{TEXT_MAX, one_line};

/// One token as written: its text and where it stands in the source.
struct Leaf {
    text: String,
    start: LineColumn,
    end: LineColumn,
}

fn leaves(ts: TokenStream, out: &mut Vec<Leaf>) {
    let leaf = |text: &str, span: Span| Leaf {
        text: text.to_owned(),
        start: span.start(),
        end: span.end(),
    };
    for tt in ts {
        match tt {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    // A `$e:expr` a `macro_rules!` passed on: no delimiters.
                    Delimiter::None => {
                        leaves(g.stream(), out);
                        continue;
                    }
                };
                // A delimiter is one character at either end of its group
                // (`span_open` is the whole group's span in a real expansion).
                let (start, end) = (g.span().start(), g.span().end());
                let next = LineColumn {
                    line: start.line,
                    column: start.column + 1,
                };
                let last = LineColumn {
                    line: end.line,
                    column: end.column.saturating_sub(1),
                };
                out.push(Leaf {
                    text: open.to_owned(),
                    start,
                    end: next,
                });
                leaves(g.stream(), out);
                out.push(Leaf {
                    text: close.to_owned(),
                    start: last,
                    end,
                });
            }
            t => out.push(leaf(&t.to_string(), t.span())),
        }
    }
}

fn before(a: LineColumn, b: LineColumn) -> bool {
    (a.line, a.column) <= (b.line, b.column)
}

// Input:  the tokens of `Some(P { a, b: bb })`, or of `( a,\n  .. )`
// Output: `Some(P { a, b: bb })` (not `Some(P { a, b : bb })`), `( a, .. )`
/// `node` as the user wrote it, on one line, without the `mut` and `ref`
/// tokens that start at `skip`: the spacing between two tokens is the one between them
/// in the source (one space where a line ends). Tokens whose places do not
/// follow each other (made by a macro) are spaced by the token printer's
/// rules instead, so the text is the same on every run either way.
pub(super) fn text_skipping(node: &impl ToTokens, skip: &[(usize, usize)]) -> String {
    let ts = node.to_token_stream();
    let mut all = Vec::new();
    leaves(ts.clone(), &mut all);
    let at = |span: Span| (span.start().line, span.start().column);
    let skipped =
        |l: &Leaf| (l.text == "mut" || l.text == "ref") && skip.contains(&(l.start.line, l.start.column));
    // A token the source holds is at least one character wide.
    let placed = all
        .iter()
        .all(|l| l.start.line > 0 && before(l.start, l.end) && l.start != l.end)
        && all.windows(2).all(|w| before(w[0].end, w[1].start));
    if !placed {
        fn without(ts: TokenStream, drop: &dyn Fn(&TokenTree) -> bool) -> TokenStream {
            ts.into_iter()
                .filter(|t| !drop(t))
                .map(|t| match t {
                    TokenTree::Group(g) => {
                        let mut ng = proc_macro2::Group::new(g.delimiter(), without(g.stream(), drop));
                        ng.set_span(g.span());
                        TokenTree::Group(ng)
                    }
                    t => t,
                })
                .collect()
        }
        let kept = without(
            ts,
            &|t| matches!(t, TokenTree::Ident(i) if (i == "mut" || i == "ref") && skip.contains(&at(i.span()))),
        );
        return one_line(&kept.to_string());
    }
    let mut out = String::new();
    // The gap before a skipped token stands for the gap after it.
    let mut gap: Option<String> = None;
    for (i, l) in all.iter().enumerate() {
        let own = match i.checked_sub(1).map(|p| &all[p]) {
            None => String::new(),
            Some(p) if p.end.line == l.start.line => " ".repeat(l.start.column - p.end.column),
            Some(p) => {
                // `f(\n a,\n)` and `x\n    .len()`, but `a,\n ..`.
                let operand = p
                    .text
                    .starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '"')
                    || matches!(p.text.as_str(), ")" | "]" | "}" | "?");
                let tight = matches!(p.text.as_str(), "(" | "[")
                    || matches!(l.text.as_str(), ")" | "]" | "," | ";")
                    || l.text == "." && operand;
                if tight { String::new() } else { " ".to_owned() }
            }
        };
        if skipped(l) {
            gap.get_or_insert(own);
            continue;
        }
        out.push_str(&gap.take().unwrap_or(own));
        out.push_str(&l.text);
    }
    elide(&out)
}

pub(super) fn text(node: &impl ToTokens) -> String {
    text_skipping(node, &[])
}

/// `s`, elided with `…` in the middle past [`TEXT_MAX`] characters.
fn elide(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= TEXT_MAX {
        return s.to_owned();
    }
    let keep = TEXT_MAX.saturating_sub(1) / 2;
    let head: String = chars.iter().take(keep).collect();
    let tail: String = chars.iter().skip(chars.len() - keep).collect();
    format!("{head}…{tail}")
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` ``.
pub(super) fn list(names: &[String]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        n => format!("{} and {}", q[..n - 1].join(", "), q[n - 1]),
    }
}

pub(super) fn rebind_them(names: &[String]) -> &'static str {
    if names.len() == 1 {
        "rebind it with its type"
    } else {
        "rebind them with their types"
    }
}

/// `, where `A` and `B` stand for their types` of [`rebind`](super::patterns::rebind).
pub(super) fn rebind_note(names: &[String]) -> String {
    let holders: Vec<String> = names
        .iter()
        .map(|n| format!("`{}`", crate::model::camel(n)))
        .collect();
    holders_note(&holders)
}

/// `, where `A` and `B` stand for their types`.
pub(super) fn holders_note(holders: &[String]) -> String {
    match holders.len() {
        0 => String::new(),
        1 => format!(", where {} stands for its type", holders[0]),
        _ => format!(", where {} stand for their types", list_plain(holders)),
    }
}

/// ` and `A`, `B` for the types of the names`, after the iterator's note.
pub(super) fn and_holders(holders: &[String]) -> String {
    if holders.is_empty() {
        String::new()
    } else {
        format!(" and {} for the types of the names", holders.join(", "))
    }
}

pub(super) fn list_plain(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}
