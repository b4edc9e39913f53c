//! Which `call_io!` points resume in place (the callee called where the
//! state lies, before the state is taken; `emit/inplace.rs`): only where
//! reading each stored local through a reference is the same code. Each
//! case is a machine whose single `call_io!` reads stored locals one way.

use proc_macro2::TokenStream;
use quote::quote;

fn expand(attr: TokenStream, item: TokenStream) -> String {
    ratchet_macros_core::expand_io_state_machine(attr, item).to_string()
}

/// A free machine with stored `sub: SubState`, `buf: Vec<u8>`, `n: u32`
/// and `bx: Box<SubState>`, each used again after the call, whose call is
/// `call`.
fn machine(call: TokenStream) -> String {
    expand(
        quote!(state = st),
        quote! {
            fn m(st: &mut MState, dev: &Dev) -> Result<IOResult<u32>, CompletionError> {
                let mut sub: SubState = SubState::default();
                let mut buf: Vec<u8> = Vec::new();
                let mut n: u32 = 1;
                let mut bx: Box<SubState> = Box::default();
                let v = call_io!(#call)?;
                n += v;
                Ok(n + buf.len() as u32 + u32::from(sub.is_idle()) + u32::from(bx.is_idle()))
            }
        },
    )
}

fn in_place(out: &str) -> bool {
    assert!(
        !out.contains("compile_error"),
        "the machine did not expand: {out}"
    );
    out.contains("IdleOnUnwind")
}

#[test]
fn a_call_reading_stored_locals_through_borrows_and_copies_resumes_in_place() {
    for call in [
        quote!(sub_step(&mut sub, dev)),
        quote!(sub_step2(&mut sub, &buf, n, dev)),
        quote!(sub_step(&mut *bx, dev)),
        quote!(sub_step3(&mut sub, &buf[..], n == 3, (n, 4), [n, n])),
        quote!(sub_step4(&mut sub, Args { count: n, data: &buf })),
        quote!(dev.step(&mut sub, &mut buf)),
    ] {
        assert!(
            in_place(&machine(call.clone())),
            "`{call}` should resume in place"
        );
    }
}

#[test]
fn a_call_that_might_move_or_hide_a_stored_local_keeps_to_the_dispatch() {
    for call in [
        // A receiver or an operator's operand may be a move: through a
        // reference it would be a second error.
        quote!(sub.step(dev)),
        quote!(sub_step2(&mut sub, &buf, n + 1, dev)),
        quote!(sub_step(&mut sub, buf.len())),
        quote!(sub_step2(&mut sub, &buf, !n, dev)),
        // The shorthand field, a closure, a block, a macro: not seen through.
        quote!(sub_step4(&mut sub, Args { n, data: &buf })),
        quote!(sub_step2(&mut sub, &buf, n, |x: u32| x + n)),
        quote!(sub_step(&mut sub, { dev })),
        quote!(sub_step2(&mut sub, &buf, n, format!("{n}"))),
    ] {
        assert!(
            !in_place(&machine(call.clone())),
            "`{call}` should not resume in place"
        );
    }
}

#[test]
fn a_state_in_self_resumes_in_place_only_for_a_call_that_leaves_self_alone() {
    let method = |call: TokenStream| {
        ratchet_macros_core::expand_io_state_machines(
            quote!(),
            quote! {
                impl Pager {
                    #[io_state_machine(state = self.st)]
                    fn m(&mut self, dev: &Dev) -> Result<IOResult<u32>, CompletionError> {
                        let mut sub: SubState = SubState::default();
                        let v = call_io!(#call)?;
                        Ok(v + u32::from(sub.is_idle()))
                    }
                }
            },
        )
        .to_string()
    };
    assert!(in_place(&method(quote!(sub_step(&mut sub, dev)))));
    assert!(!in_place(&method(quote!(self.sub_step(&mut sub, dev)))));
}

#[test]
fn a_machine_that_does_more_on_resume_than_take_the_state_keeps_to_the_dispatch() {
    // A by-value parameter is dropped before the state is written back.
    let out = expand(
        quote!(state = st),
        quote! {
            fn m(st: &mut MState, dev: &Dev, guard: Guard) -> Result<IOResult<u32>, CompletionError> {
                let mut sub: SubState = SubState::default();
                let v = call_io!(sub_step(&mut sub, dev))?;
                Ok(v + u32::from(sub.is_idle()))
            }
        },
    );
    assert!(!in_place(&out));
}
