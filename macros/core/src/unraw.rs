//! Raw identifiers that are not keywords, written plain.
//!
//! Rust takes `r#x` for the identifier `x` (the reference: a raw identifier
//! is the identifier without its `r#`), but the transform compares names by
//! their spelling, so `let r#x = ..` and a later `x` would be two names to
//! it, and a resume would read the wrong one (attack round 14, F4). Writing
//! every such identifier plain before anything reads the function makes the
//! spelling the name. A keyword of any edition (`r#type`, `r#gen`,
//! `r#async`) stays raw: plain, it would not parse, or would parse
//! differently in an edition that reserves it.

use proc_macro2::{Group, Ident, TokenStream, TokenTree};

/// Words that are keywords (strict, reserved, or of some edition): a raw
/// identifier spelling one of them stays raw.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

// Input:  `let r#x: u32 = n; yield_io!(..)?; Ok(x + r#type)`
// Output: `let x: u32 = n; yield_io!(..)?; Ok(x + r#type)`
/// `ts` with each raw identifier that is not a keyword written plain, at
/// the same span; inside macro invocations too, where the transform also
/// reads names.
pub fn tokens(ts: TokenStream) -> TokenStream {
    ts.into_iter()
        .map(|tt| match tt {
            TokenTree::Ident(id) => TokenTree::Ident(plain(id)),
            TokenTree::Group(g) => {
                let mut out = Group::new(g.delimiter(), tokens(g.stream()));
                out.set_span(g.span());
                TokenTree::Group(out)
            }
            other => other,
        })
        .collect()
}

// Input:  the body `{ let r#x: u32 = n; f!(r#x) }`, or a parameter's pattern `r#x: u32`
// Output: `{ let x: u32 = n; f!(x) }`, `x: u32`
/// Writes the raw identifiers of `block` plain, macros' and attributes'
/// tokens included (see [`tokens`]), in place: no round trip through tokens.
pub fn block(block: &mut syn::Block) {
    syn::visit_mut::VisitMut::visit_block_mut(&mut Plain, block);
}

/// [`block`] for a parameter's pattern.
pub fn pat(pat: &mut syn::Pat) {
    syn::visit_mut::VisitMut::visit_pat_mut(&mut Plain, pat);
}

struct Plain;

impl syn::visit_mut::VisitMut for Plain {
    fn visit_ident_mut(&mut self, id: &mut Ident) {
        *id = plain(id.clone());
    }
    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        m.tokens = tokens(std::mem::take(&mut m.tokens));
        syn::visit_mut::visit_macro_mut(self, m);
    }
    fn visit_meta_list_mut(&mut self, m: &mut syn::MetaList) {
        m.tokens = tokens(std::mem::take(&mut m.tokens));
        syn::visit_mut::visit_meta_list_mut(self, m);
    }
}

fn plain(id: Ident) -> Ident {
    let text = id.to_string();
    match text.strip_prefix("r#") {
        Some(word) if !KEYWORDS.contains(&word) => Ident::new(word, id.span()),
        _ => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_words_that_are_not_keywords_are_written_plain() {
        let ts: TokenStream = "let r#x = r#type + f!(r#y, [r#gen, r#Foo]);".parse().unwrap();
        assert_eq!(
            tokens(ts).to_string(),
            "let x = r#type + f ! (y , [r#gen , Foo]) ;"
        );
    }
}
