//! The expansion entry points never panic, whatever they are given: every
//! fixture of the workspace (snapshots inputs and compile-fail fixtures) is
//! fed to them whole and after thousands of seeded token mutations. A panic
//! inside would surface as the "internal error" fallback, which this test
//! refuses.

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
    out
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
    match rng.below(5) {
        0 => {
            trees.remove(i);
        }
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
/// rust-analyzer see no second wave of errors.
fn keeps_signature(item: &TokenStream, out: &TokenStream) -> bool {
    let Ok(input) = syn::parse2::<syn::ItemFn>(item.clone()) else {
        return false;
    };
    let want = quote::ToTokens::to_token_stream(&input.sig).to_string();
    let file: syn::File = syn::parse2(out.clone())
        .unwrap_or_else(|e| panic!("output does not parse ({e}) for:\n{item}\noutput:\n{out}"));
    let found = file.items.iter().any(|it| match it {
        syn::Item::Fn(f) => quote::ToTokens::to_token_stream(&f.sig).to_string() == want,
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
        for item in file.items {
            let mut attr = TokenStream::new();
            let mut item = item;
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
                items.push((attr, quote::ToTokens::to_token_stream(&item)));
            }
        }
    }
    assert!(items.len() > 40, "found {} machines", items.len());
    let mut pool = Vec::new();
    for (a, i) in &items {
        pool_of(a, &mut pool);
        pool_of(i, &mut pool);
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
