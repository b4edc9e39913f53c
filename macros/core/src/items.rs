//! Items declared in a block that holds a suspension point: the block is
//! taken apart into dispatch arms, which cannot each hold them, so they move
//! to the top of the function (`cfg`'s `hoist`). In Rust an item is visible
//! in its own block only, and a `macro_rules!` only after its definition;
//! at the top of the function it would be visible everywhere. This module
//! finds the shapes where that move would change what a name means, and
//! refuses them (rule 13: a clear error, never a silent change).
//!
//! Input:  `{ fn helper() -> u32 { 1 } yield_io!(c)?; helper(); } helper();`
//! Output: an error at the inner `helper`: the call after the block would
//!         reach it once it moves.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit::{self, Visit};

use crate::ctxt::Ctxt;
use crate::scan;

/// A name as it occurs in the body, in source order.
struct Mention {
    name: String,
    /// Followed by `!`: a macro invocation.
    bang: bool,
    /// Brought in by this `use` (its text): the same `use` in two blocks
    /// names the same thing, and moves to the top of the function once.
    by_use: Option<String>,
    /// A `let` binding of this name is in scope here (or this is one): as
    /// a value, the name means the local, whatever function moves.
    local: bool,
}

/// An item the transform moves.
struct Moved {
    name: String,
    span: Span,
    is_macro: bool,
    /// For a `use`: its text (see [`Mention::by_use`]).
    by_use: Option<String>,
    /// A `fn`: never a pattern, so a `let` of its name binds a local that
    /// hides it (see [`Mention::local`]).
    is_fn: bool,
    /// Index in `mentions` of its own name.
    at: usize,
    /// The mentions its block covers, or `None` for the body's own block
    /// (whose items are visible in the whole body already).
    block: Option<(usize, usize)>,
}

#[derive(Default)]
struct Collect {
    mentions: Vec<Mention>,
    moved: Vec<Moved>,
    /// Indexes of every `macro_rules!` definition's name, moved or not.
    macro_defs: Vec<(String, usize)>,
    /// Whether the block being visited is taken apart.
    taken: Vec<bool>,
    /// The names `let` binds, per open block, so far.
    locals: Vec<Vec<String>>,
    /// Inside how many items with bodies of their own (`fn`, `impl`, `mod`).
    item_depth: usize,
    /// The rules of each body `macro_rules!` so far: an invocation names
    /// what its expansion names.
    rules: Vec<(String, TokenStream)>,
    /// Glob `use`s of blocks taken apart: they bring in names nobody can
    /// list, which at the top of the function would reach everywhere.
    globs: Vec<Span>,
    /// The text of each glob `use` of the body's own block.
    top_globs: Vec<String>,
}

impl Collect {
    fn push(&mut self, name: String, bang: bool) -> usize {
        let local = !bang && self.locals.iter().any(|f| f.contains(&name));
        self.mentions.push(Mention {
            name,
            bang,
            by_use: None,
            local,
        });
        self.mentions.len() - 1
    }

    /// Names inside a macro's tokens: `m!` is an invocation; a name right
    /// after `.` is a field or method, which an item cannot be.
    fn tokens(&mut self, ts: TokenStream) {
        let toks: Vec<TokenTree> = ts.into_iter().collect();
        for (i, t) in toks.iter().enumerate() {
            match t {
                TokenTree::Ident(id) => {
                    let after_dot =
                        i > 0 && matches!(&toks[i - 1], TokenTree::Punct(p) if p.as_char() == '.');
                    let colon = |k: usize| matches!(&toks[k], TokenTree::Punct(p) if p.as_char() == ':');
                    let after_path = i > 1 && colon(i - 1) && colon(i - 2);
                    if !after_dot && !after_path {
                        let bang = matches!(toks.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                        self.push(id.to_string(), bang);
                    }
                }
                TokenTree::Group(g) => self.tokens(g.stream()),
                // `format!("{K}")` names `K` too.
                TokenTree::Literal(l) => {
                    for name in scan::format_captures(&l.to_string()) {
                        self.push(name, false);
                    }
                }
                TokenTree::Punct(_) => {}
            }
        }
    }
}

fn item_name(item: &syn::Item) -> Option<&syn::Ident> {
    match item {
        syn::Item::Const(i) => Some(&i.ident),
        syn::Item::Enum(i) => Some(&i.ident),
        syn::Item::Fn(i) => Some(&i.sig.ident),
        syn::Item::Mod(i) => Some(&i.ident),
        syn::Item::Static(i) => Some(&i.ident),
        syn::Item::Struct(i) => Some(&i.ident),
        syn::Item::Trait(i) => Some(&i.ident),
        syn::Item::Type(i) => Some(&i.ident),
        syn::Item::Union(i) => Some(&i.ident),
        syn::Item::Macro(m) if m.mac.path.is_ident("macro_rules") => m.ident.as_ref(),
        _ => None,
    }
}

/// The names a pattern binds (`(a, Some(b))` -> `a`, `b`).
fn bindings(pat: &syn::Pat, out: &mut Vec<String>) {
    struct Names<'o>(&'o mut Vec<String>);
    impl<'ast> Visit<'ast> for Names<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(p.ident.to_string());
            visit::visit_pat_ident(self, p);
        }
    }
    Names(out).visit_pat(pat);
}

/// The `*` of a `use`'s first glob (`use a::*;`, `use a::{b, c::*};`).
fn glob(tree: &syn::UseTree) -> Option<Span> {
    match tree {
        syn::UseTree::Path(p) => glob(&p.tree),
        syn::UseTree::Glob(g) => Some(g.star_token.span),
        syn::UseTree::Group(g) => g.items.iter().find_map(glob),
        _ => None,
    }
}

/// The names a `use` brings into scope (`use a::b;` -> `b`, `use a::{c as
/// d, e};` -> `d`, `e`); `_` and globs bring none that can be named.
fn use_names(tree: &syn::UseTree, out: &mut Vec<syn::Ident>) {
    match tree {
        syn::UseTree::Path(p) => use_names(&p.tree, out),
        syn::UseTree::Name(n) if n.ident != "self" => out.push(n.ident.clone()),
        syn::UseTree::Rename(r) if r.rename != "_" => out.push(r.rename.clone()),
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_names(t, out)),
        _ => {}
    }
}

impl<'ast> Visit<'ast> for Collect {
    fn visit_ident(&mut self, i: &'ast syn::Ident) {
        self.push(i.to_string(), false);
    }

    fn visit_lifetime(&mut self, _: &'ast syn::Lifetime) {}

    // The binding is in scope after its value (and `else`), as in Rust.
    fn visit_local(&mut self, l: &'ast syn::Local) {
        for a in &l.attrs {
            self.visit_attribute(a);
        }
        if let Some(init) = &l.init {
            self.visit_local_init(init);
        }
        let mut names = Vec::new();
        bindings(&l.pat, &mut names);
        if let Some(frame) = self.locals.last_mut() {
            frame.extend(names);
        }
        self.visit_pat(&l.pat);
    }

    // `other::K` names `K` of `other`, never an item of this body: only a
    // path's first segment can be one (its generic arguments are visited).
    fn visit_path(&mut self, p: &'ast syn::Path) {
        for (i, seg) in p.segments.iter().enumerate() {
            if i == 0 && p.leading_colon.is_none() {
                self.visit_ident(&seg.ident);
            }
            self.visit_path_arguments(&seg.arguments);
        }
    }

    // `use a::b as c;` brings in `c`; the path's other names are not this
    // body's items.
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut names = Vec::new();
        use_names(&u.tree, &mut names);
        let text = u.tree.to_token_stream().to_string();
        // `visit_item` pushed the item's own entry: the block's is before it.
        let n = self.taken.len();
        if self.item_depth == 0
            && n >= 2
            && self.taken[n - 2]
            && let Some(star) = glob(&u.tree)
        {
            if n == 2 {
                // The body's own block: already visible everywhere.
                self.top_globs.push(text.clone());
            } else if !self.top_globs.contains(&text) {
                self.globs.push(star);
            }
        }
        for n in names {
            self.push(n.to_string(), false);
            if let Some(m) = self.mentions.last_mut() {
                m.by_use = Some(text.clone());
            }
        }
    }

    fn visit_member(&mut self, _: &'ast syn::Member) {}

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        self.visit_expr(&m.receiver);
        if let Some(t) = &m.turbofish {
            self.visit_angle_bracketed_generic_arguments(t);
        }
        for a in &m.args {
            self.visit_expr(a);
        }
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if let Some(last) = m.path.segments.last() {
            for s in m.path.segments.iter().take(m.path.segments.len() - 1) {
                self.push(s.ident.to_string(), false);
            }
            self.push(last.ident.to_string(), true);
            // A body macro's expansion stands here: what its rules name is
            // named here (the latest definition of that name so far).
            if m.path.segments.len() == 1
                && let Some((_, rules)) = self.rules.iter().rev().find(|(n, _)| last.ident == n)
            {
                let rules = rules.clone();
                self.tokens(rules);
            }
        }
        self.tokens(m.tokens.clone());
    }

    fn visit_item_macro(&mut self, m: &'ast syn::ItemMacro) {
        if m.mac.path.is_ident("macro_rules")
            && let Some(id) = &m.ident
        {
            let at = self.push(id.to_string(), false);
            // One inside a nested `fn` is that function's own.
            if self.item_depth == 0 {
                self.macro_defs.push((id.to_string(), at));
                self.rules.push((id.to_string(), m.mac.tokens.clone()));
            }
            // A macro's rules name nothing until it is invoked.
            return;
        }
        visit::visit_item_macro(self, m);
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.taken.push(false);
        visit::visit_expr_closure(self, c);
        self.taken.pop();
    }

    fn visit_item(&mut self, i: &'ast syn::Item) {
        self.taken.push(false);
        let nested = matches!(
            i,
            syn::Item::Fn(_) | syn::Item::Impl(_) | syn::Item::Mod(_) | syn::Item::Trait(_)
        );
        self.item_depth += usize::from(nested);
        visit::visit_item(self, i);
        self.item_depth -= usize::from(nested);
        self.taken.pop();
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        let top = self.taken.is_empty();
        let taken =
            top || (self.taken.last() == Some(&true) && scan::suspension_in_tokens(&b.to_token_stream()));
        let start = self.mentions.len();
        let first = self.moved.len();
        self.taken.push(taken);
        self.locals.push(Vec::new());
        for stmt in &b.stmts {
            let before = self.mentions.len();
            self.visit_stmt(stmt);
            if taken && let syn::Stmt::Item(item) = stmt {
                let mut names: Vec<syn::Ident> = item_name(item).into_iter().cloned().collect();
                if let syn::Item::Use(u) = item {
                    use_names(&u.tree, &mut names);
                }
                for id in names {
                    // Its own name: the first mention of it in the statement
                    // (attributes come before it, and seldom repeat it).
                    let name = id.to_string();
                    if let Some(at) = (before..self.mentions.len()).find(|&i| self.mentions[i].name == name) {
                        self.moved.push(Moved {
                            name,
                            span: id.span(),
                            is_macro: matches!(item, syn::Item::Macro(_)),
                            is_fn: matches!(item, syn::Item::Fn(_)),
                            by_use: match item {
                                syn::Item::Use(u) => Some(u.tree.to_token_stream().to_string()),
                                _ => None,
                            },
                            at,
                            block: None,
                        });
                    }
                }
            }
        }
        self.taken.pop();
        self.locals.pop();
        let end = self.mentions.len();
        if !top {
            for m in &mut self.moved[first..] {
                m.block.get_or_insert((start, end));
            }
        }
    }
}

const MOVES: &str = "#[io_state_machine] takes a block that holds a suspension point apart, and moves the items declared in it to the top of the function";

/// Refuses the items whose move to the top of the function would change
/// what a name means (see the module's docs): one error per name.
pub fn check(cx: &Ctxt, body: &syn::Block) {
    let mut c = Collect::default();
    c.visit_block(body);
    for &span in &c.globs {
        cx.error(
            span,
            format!(
                "a glob `use` in a block that holds a suspension point: {MOVES}, where the names it brings in would hide the function's other names of the same spelling everywhere in it; name what it brings in (`use path::{{a, b}};`), or put the `use` at the top of the function body or outside the function"
            ),
        );
    }
    let mut reported: Vec<&str> = Vec::new();
    // A definition inside a block first: that is the one that moves, so
    // the error for a name defined twice points at it, not at the body's
    // own, which stays where it is.
    let in_blocks = c.moved.iter().filter(|m| m.block.is_some());
    for m in in_blocks.chain(c.moved.iter().filter(|m| m.block.is_none())) {
        if reported.contains(&m.name.as_str()) {
            continue;
        }
        let why = if m.is_macro {
            let twice = c.macro_defs.iter().any(|(n, at)| *n == m.name && *at != m.at);
            let before = c.mentions[..m.at].iter().any(|x| x.bang && x.name == m.name);
            let after_block = m
                .block
                .is_some_and(|(_, end)| c.mentions[end..].iter().any(|x| x.bang && x.name == m.name));
            if twice {
                Some(format!(
                    "`macro_rules! {0}`: {MOVES}, and the body defines `{0}!` twice: at the top of the function one definition would hide the other everywhere; give each macro a name of its own",
                    m.name
                ))
            } else if before {
                Some(format!(
                    "`macro_rules! {0}`: {MOVES}, and `{0}!` is used before this definition, where Rust does not see it yet: at the top of the function that earlier use would reach it; give the macro a name of its own, or define it before its first use",
                    m.name
                ))
            } else if after_block {
                Some(format!(
                    "`macro_rules! {0}`: {MOVES}, and `{0}!` is used after the block that defines it, where Rust does not see this definition: at the top of the function that use would reach it; give the macro a name of its own, or define it outside the block",
                    m.name
                ))
            } else {
                None
            }
        } else if m.is_fn
            && let Some((start, end)) = m.block
            && c.mentions[..start]
                .iter()
                .any(|x| !x.bang && x.local && x.name == m.name)
            && c.mentions[start..end]
                .iter()
                .enumerate()
                .any(|(i, x)| start + i != m.at && !x.bang && x.name == m.name)
        {
            // Inside its block the `fn` hides an outer local of its name;
            // at the top of the function, that local would hide it (attack
            // round 14, F2: the block's calls went to the local).
            Some(format!(
                "`fn {0}` is declared in a block that holds a suspension point, where it hides a local `{0}` declared before the block: {MOVES}, where that local would hide it instead and the block's `{0}` would mean the local; give the function or the local another name",
                m.name
            ))
        } else {
            m.block
                .filter(|&(start, end)| {
                    c.mentions[..start]
                        .iter()
                        .chain(&c.mentions[end..])
                        .any(|x| {
                            !x.bang
                                && x.name == m.name
                                && (x.by_use.is_none() || x.by_use != m.by_use)
                                && !(m.is_fn && x.local)
                        })
                })
                .map(|_| {
                    format!(
                        "`{0}` is declared in a block that holds a suspension point, and the function names `{0}` outside that block too: {MOVES}, where this `{0}` would be what the name means there as well; give it a name used nowhere else in the function, or declare it outside the block",
                        m.name
                    )
                })
        };
        if let Some(why) = why {
            cx.error(m.span, why);
            reported.push(&m.name);
        }
    }
}
