//! The expansion entry points never panic, whatever they are given: every
//! fixture of the workspace (snapshots inputs, compile-fail fixtures and the
//! machines of `tests/transform_correctness.rs`, `tests/state_expr.rs`,
//! `tests/reevaluated.rs` and `tests/moved_parameters.rs`) is fed to them whole and
//! after thousands of seeded token mutations. A panic inside would surface
//! as the "internal error" fallback, which this test refuses.
//!
//! The mutations draw tokens from the fixtures and from [`CLASSES`]: the
//! shapes the difftest generator could not produce until issue 13 (raw
//! identifiers, `#[cfg]`/`#[allow]` on statements, `unsafe` blocks, items
//! in the body, `mut` parameters, `let x;`, compound assignment through
//! places, macros that `break`, projections such as `S::Key` and
//! `Self::Out`), and since issue 15 re-created borrows reassigned or typed,
//! suspensions in short-circuit operands, let chains, `else if`, `while`
//! and guards, and `call_io!` moving locals; since issue 13's leftovers,
//! by-value parameters moved in the body and `#[reevaluated]` through
//! `cfg_attr`; and one mutation turns an identifier into a raw one.

use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests");
    let mut out = Vec::new();
    for dir in ["expand", "ui"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "rs") && !p.to_string_lossy().ends_with(".expanded.rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out.push(root.join("transform_correctness.rs"));
    out.push(root.join("state_expr.rs"));
    out.push(root.join("reevaluated.rs"));
    out.push(root.join("moved_parameters.rs"));
    out
}

/// Tokens of the shapes issue 13 found outside the difftest generator's
/// reach, for insertions and replacements.
const CLASSES: &str = r#"
    let r#type: u32 = 1; let r#match = r#type; fn r#fn() {}
    #[cfg(any())] yield_io!(c)?; #[cfg(all())] { call_io!(f(&mut s))?; }
    #[cfg(any())] let started: u32 = 5; #[allow(unused_mut)] { let mut x = 1; }
    #[expect(unused)] let _g = lock(); let _ = lock(); unsafe { yield_io!(c)?; }
    const K: u32 = 7; fn helper(x: u32) -> u32 { x } struct P { v: u32 }
    use std::fmt::Write as _; macro_rules! stop { () => { break }; } stop!();
    let x; let y: u32; x = 1; *slot(v) += call_io!(one(&mut s))?;
    for i in (a() as u32)..(b() as u32) {} let m = Msg::Write { page: 3 };
    let w = Wrapper { v: 5u32 }; let [a, b]: [u32; 2] = v; let k: S::Key = s.key();
    let o: Self::Out = 5; let seen: [bool; Self::PAGES] = [false; Self::PAGES];
    let v: Vec<_> = Vec::new(); let it: std::slice::Iter<u32> = xs.iter();
    let g = f; let __completion: u32 = 4; mut n: u32
    let mut r = &self.a; r = &self.b; let h: &mut Vec<u32> = &mut self.s.h; let q: &[u8] = &p.x.y;
    if a && call_io!(g(c))? > 2 && k {} if let Some(v) = o && call_io!(g(v))? {} else if k < call_io!(n())? {}
    while a || (b && call_io!(g())?) {} match x { 0 if yield_io!(c).is_ok() => {} _ => {} }
    let n = call_io!(w(Some(page), P { v: page }, (page, [page])))?; y!(c)?; f(yield_io!(c))
    #[reevaluated] let mut h = pager.header()?; #[reevaluated] let g; #[reevaluated] { let x = 1; }
    #[reevaluated] let w = yield_io!(c)?; #[reevaluated] #[cfg(any())] let v: u32 = 1;
    #[io_state_machine(state = s)] fn inner(s: &mut IState, c: &C) -> R { yield_io!(c)?; Ok(1) } yield_io!()?;
    v: Vec<u64> for item in v { yield_io!(c)?; } let w: Vec<u64> = v; let it = v.into_iter(); drop(v);
    #[cfg_attr(all(), reevaluated)] let h = &p.h; #[cfg_attr(any(), cfg_attr(all(), reevaluated))] let g = 1;
"#;

/// The machines of `file`, with their `#[io_state_machine(..)]` arguments,
/// in inline modules too.
fn machines_of(items: Vec<syn::Item>, out: &mut Vec<(TokenStream, TokenStream)>) {
    for item in items {
        let mut item = item;
        if let syn::Item::Mod(m) = &mut item
            && let Some((_, inner)) = m.content.take()
        {
            machines_of(inner, out);
            continue;
        }
        let mut attr = TokenStream::new();
        let attrs = match &mut item {
            syn::Item::Fn(f) => Some(&mut f.attrs),
            syn::Item::Impl(i) => Some(&mut i.attrs),
            _ => None,
        };
        if let Some(attrs) = attrs
            && let Some(pos) = attrs.iter().position(|a| {
                a.path()
                    .segments
                    .last()
                    .is_some_and(|s| s.ident.to_string().starts_with("io_state_machine"))
            })
        {
            let a = attrs.remove(pos);
            if let syn::Meta::List(l) = &a.meta {
                attr = l.tokens.clone();
            }
            out.push((attr, quote::ToTokens::to_token_stream(&item)));
        }
    }
}

/// `r#name` for an identifier that can be raw (not `self`, `Self`,
/// `super`, `crate`, `_`).
fn raw(id: &proc_macro2::Ident) -> Option<TokenTree> {
    let name = id.to_string();
    if name.starts_with("r#") || matches!(name.as_str(), "self" | "Self" | "super" | "crate" | "_") {
        return None;
    }
    Some(TokenTree::Ident(proc_macro2::Ident::new_raw(&name, id.span())))
}

/// Flattens a token stream into a list of trees, recursing into groups, so
/// a mutation can hit any depth.
fn mutate(ts: &TokenStream, rng: &mut Rng, pool: &[TokenTree]) -> TokenStream {
    let mut trees: Vec<TokenTree> = ts.clone().into_iter().collect();
    if trees.is_empty() {
        return ts.clone();
    }
    let i = rng.below(trees.len());
    // Usually descend: most of a machine is inside its body's braces.
    if let TokenTree::Group(g) = &trees[i]
        && rng.below(10) < 7
    {
        let inner = mutate(&g.stream(), rng, pool);
        let mut ng = proc_macro2::Group::new(g.delimiter(), inner);
        ng.set_span(g.span());
        trees[i] = TokenTree::Group(ng);
        return trees.into_iter().collect();
    }
    match rng.below(6) {
        0 => {
            trees.remove(i);
        }
        5 => match &trees[i] {
            TokenTree::Ident(id) => {
                if let Some(r) = raw(id) {
                    trees[i] = r;
                }
            }
            _ => trees.insert(i, pool[rng.below(pool.len())].clone()),
        },
        1 => {
            let t = pool[rng.below(pool.len())].clone();
            trees.insert(i, t);
        }
        2 => {
            let j = rng.below(trees.len());
            trees.swap(i, j);
        }
        3 => trees.truncate(i),
        _ => {
            if let TokenTree::Group(g) = &trees[i] {
                let inner = mutate(&g.stream(), rng, pool);
                let mut ng = proc_macro2::Group::new(g.delimiter(), inner);
                ng.set_span(g.span());
                trees[i] = TokenTree::Group(ng);
            } else {
                trees[i] = pool[rng.below(pool.len())].clone();
            }
        }
    }
    trees.into_iter().collect()
}

fn pool_of(ts: &TokenStream, out: &mut Vec<TokenTree>) {
    for t in ts.clone() {
        if let TokenTree::Group(g) = &t {
            pool_of(&g.stream(), out);
        }
        out.push(t);
    }
}

/// Returns whether the input was a function whose signature was checked.
fn check(attr: TokenStream, item: TokenStream) -> bool {
    let a = ratchet_macros_core::expand_io_state_machine(attr.clone(), item.clone());
    assert!(
        !a.to_string().contains("internal error"),
        "panicked on:\n#[io_state_machine({attr})]\n{item}"
    );
    let checked = keeps_signature(&item, &a);
    let b = ratchet_macros_core::expand_io_state_machines(attr.clone(), item.clone()).to_string();
    assert!(
        !b.contains("internal error"),
        "panicked on:\n#[io_state_machines({attr})]\n{item}"
    );
    checked
}

/// Whatever became of the body (code or errors), a function that still
/// parses as one comes out with its signature intact, so its callers and
/// rust-analyzer see no second wave of errors. A parameter spelled `r#x`
/// may come out as `x`: the same name (the attribute writes raw
/// identifiers that are not keywords plain).
fn keeps_signature(item: &TokenStream, out: &TokenStream) -> bool {
    let Ok(input) = syn::parse2::<syn::ItemFn>(item.clone()) else {
        return false;
    };
    let plain = |sig: &syn::Signature| {
        let text = quote::ToTokens::to_token_stream(sig).to_string();
        let word = |c: char| c.is_alphanumeric() || c == '_';
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("r#") {
            let (before, raw) = rest.split_at(at);
            out.push_str(before);
            let len = raw[2..].find(|c: char| !word(c)).unwrap_or(raw.len() - 2);
            let w = &raw[2..2 + len];
            let starts_word = !before.ends_with(word);
            if starts_word && syn::parse_str::<syn::Ident>(w).is_ok() {
                out.push_str(w);
            } else {
                out.push_str(&raw[..2 + len]);
            }
            rest = &raw[2 + len..];
        }
        out + rest
    };
    let want = plain(&input.sig);
    let file: syn::File = syn::parse2(out.clone())
        .unwrap_or_else(|e| panic!("output does not parse ({e}) for:\n{item}\noutput:\n{out}"));
    let found = file.items.iter().any(|it| match it {
        syn::Item::Fn(f) => plain(&f.sig) == want,
        _ => false,
    });
    assert!(found, "signature `{want}` lost for:\n{item}\noutput:\n{out}");
    true
}

#[test]
fn mutated_fixtures_never_panic() {
    let iterations: usize = std::env::var("RATCHET_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut items = Vec::new();
    for f in fixtures() {
        let src = std::fs::read_to_string(&f).unwrap();
        let Ok(file) = syn::parse_file(&src) else { continue };
        machines_of(file.items, &mut items);
    }
    assert!(items.len() > 40, "found {} machines", items.len());
    let mut pool = Vec::new();
    for (a, i) in &items {
        pool_of(a, &mut pool);
        pool_of(i, &mut pool);
    }
    let classes: TokenStream = CLASSES.parse().expect("the class tokens lex");
    // Weighted like a fixture's worth of tokens, so the classes' shapes are
    // drawn often.
    for _ in 0..4 {
        pool_of(&classes, &mut pool);
    }
    let mut signatures = 0usize;
    for (a, i) in &items {
        signatures += usize::from(check(a.clone(), i.clone()));
    }
    for _ in 0..iterations {
        let (a, i) = &items[rng.below(items.len())];
        let mut item = i.clone();
        let mut attr = a.clone();
        for _ in 0..=rng.below(3) {
            if rng.below(8) == 0 {
                attr = mutate(&attr, &mut rng, &pool);
            } else {
                item = mutate(&item, &mut rng, &pool);
            }
        }
        signatures += usize::from(check(attr, item));
    }
    // About one input in nine is still a parseable free function (the rest
    // are impl blocks or broken beyond `syn::ItemFn`); the signature check
    // must have run on a fair share of them, or it proves nothing.
    assert!(
        signatures > iterations / 20,
        "only {signatures} signatures checked"
    );
    println!(
        "never_panics: {} fixture machines, {iterations} mutated inputs, no panic, \
         {signatures} function signatures kept",
        items.len()
    );
}

/// Found by the 1,000,000-input run of 2026-12-07: an error type written
/// as a trait object with a trailing `+` was printed before `as` in the
/// error check, and the output did not parse.
#[test]
fn a_trailing_plus_in_the_error_type_keeps_the_output_parsing() {
    let item: TokenStream = "fn f(st: &mut FState, c: &Completion) -> Result<IOResult<i32>, CompletionError +> { let n = yield_io!(c.clone())?; Ok(n) }"
        .parse()
        .unwrap();
    assert!(check("state = st".parse().unwrap(), item));
}
