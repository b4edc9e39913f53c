//! Prints the expansion of every `#[io_state_machine]` function in a file,
//! as the snapshot test renders it: `cargo run -p ratchet-macros-core
//! --example expand_file -- path/to/file.rs`. For reading what the macro
//! writes without `cargo expand`.

use quote::ToTokens;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: expand_file <file.rs>");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(1);
    });
    let file: syn::File = syn::parse_file(&text).unwrap_or_else(|e| {
        eprintln!("cannot parse {path}: {e}");
        std::process::exit(1);
    });
    let mut out = proc_macro2::TokenStream::new();
    for item in file.items {
        match item {
            syn::Item::Fn(mut f) => {
                let Some(at) = f.attrs.iter().position(|a| a.path().is_ident("io_state_machine")) else {
                    f.to_tokens(&mut out);
                    continue;
                };
                let attr = f.attrs.remove(at);
                let args = match attr.meta {
                    syn::Meta::List(l) => l.tokens,
                    _ => proc_macro2::TokenStream::new(),
                };
                out.extend(ratchet_macros_core::expand_io_state_machine(
                    args,
                    f.into_token_stream(),
                ));
            }
            other => other.to_tokens(&mut out),
        }
    }
    match syn::parse2::<syn::File>(out.clone()) {
        Ok(f) => print!("{}", prettyplease::unparse(&f)),
        Err(e) => {
            eprintln!("the expansion does not parse ({e}); raw tokens follow");
            println!("{out}");
        }
    }
}
