//! `state = <expression>`: a `&self` method whose state sits in a
//! `RefCell` field (Turso's `Pager::free_page` shape), borrowed once per
//! call and released when the call returns.
use std::cell::RefCell;
use ratchet::{
    Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io,
};
pub struct Pager {
    free_page_state: RefCell<FreePageState>,
}
impl Pager {
    pub fn free_page(
        &self,
        c: &Completion,
        page: u32,
    ) -> Result<IOResult<u32>, CompletionError> {
        #[allow(clippy::enum_variant_names, clippy::large_enum_variant)]
        enum __RatchetPc<T0, T1> {
            Start {},
            AfterC { trunk: T0, __ratchet_r1: T1 },
        }
        let _ = <CompletionError as ::ratchet::__private::From<
            ::ratchet::__private::CompletionError,
        >>::from;
        yield_io!(__ratchet_seen);
        let mut __ratchet_guard = self.free_page_state.borrow_mut();
        let __ratchet_state: &mut FreePageState = ::ratchet::__private::state_in(
            &mut __ratchet_guard,
        );
        ::ratchet::__private::__ratchet_trace_span!(
            __ratchet_at, "free_page", match & * __ratchet_state { FreePageState::Idle =>
            "Idle", FreePageState::C { .. } => "C", }
        );
        let __ratchet_waited = match *__ratchet_state {
            FreePageState::C { __completion: ref __ratchet_c, .. } => {
                ::ratchet::__private::Some(__ratchet_c)
            }
            _ => ::ratchet::__private::None,
        };
        if let ::ratchet::__private::Some(__ratchet_io) = ::ratchet::__private::pending_io(
            __ratchet_waited,
        ) {
            ::ratchet::__private::__ratchet_trace_suspend!(
                __ratchet_at, __ratchet_io.completion()
            );
            return ::ratchet::__private::Ok(
                ::ratchet::__private::IOResult::IO(__ratchet_io),
            );
        }
        ::ratchet::__private::__ratchet_trace_resume!(__ratchet_at, __ratchet_waited);
        let mut __ratchet_pc = match ::ratchet::__private::mem::take(
            &mut *__ratchet_state,
        ) {
            FreePageState::Idle => __RatchetPc::Start {},
            FreePageState::C { trunk, __completion: __ratchet_c } => {
                __RatchetPc::AfterC {
                    trunk,
                    __ratchet_r1: ::ratchet::__private::yield_result(&__ratchet_c),
                }
            }
        };
        let (__ratchet_next, __ratchet_io) = '__ratchet_dispatch: loop {
            match __ratchet_pc {
                #[allow(
                    unreachable_code,
                    clippy::all,
                    clippy::pedantic,
                    clippy::nursery,
                    clippy::restriction
                )]
                __RatchetPc::Start {} => {
                    let trunk: u32 = page / 2;
                    ::core::convert::identity(
                        match c.clone() {
                            __ratchet_c => {
                                let __ratchet_c: ::ratchet::__private::Completion = __ratchet_c;
                                if ::ratchet::__private::must_suspend(&__ratchet_c) {
                                    ::ratchet::__private::__ratchet_trace_suspend!(
                                        __ratchet_at, "C", & __ratchet_c
                                    );
                                    break '__ratchet_dispatch (
                                        FreePageState::C {
                                            trunk,
                                            __completion: ::ratchet::__private::Clone::clone(
                                                &__ratchet_c,
                                            ),
                                        },
                                        <::ratchet::__private::IOCompletions as ::ratchet::__private::From<
                                            ::ratchet::__private::Completion,
                                        >>::from(__ratchet_c),
                                    );
                                }
                                ::ratchet::__private::__ratchet_trace_pass!(
                                    __ratchet_at, "C"
                                );
                                ::ratchet::__private::yield_result(&__ratchet_c)
                            }
                        },
                    )?;
                    return ::ratchet::__private::__ratchet_trace_done!(
                        __ratchet_at, Ok(trunk)
                    );
                }
                __RatchetPc::AfterC { trunk, __ratchet_r1 } => {
                    __ratchet_r1?;
                    return ::ratchet::__private::__ratchet_trace_done!(
                        __ratchet_at, Ok(trunk)
                    );
                }
            }
        };
        *__ratchet_state = __ratchet_next;
        ::ratchet::__private::Ok(::ratchet::__private::IOResult::IO(__ratchet_io))
    }
}
/** Where `Pager::free_page` is suspended and the locals it keeps there. Generated by `#[io_state_machine]`; `Default` is idle.

 Sizes: [`FreePageState::size_report`] gives the bytes each suspension point's stored locals take; `#[io_state_machine(max_size = N)]` asserts a bound at compile time.

 State diagram: the suspension points, with the conditions that lead from one to the next ([`FreePageState::STATE_DIAGRAM_MERMAID`] has its source, [`FreePageState::STATE_DIAGRAM_DOT`] the same as DOT):

<pre class="mermaid">
graph TD
    Idle["Idle"]
    v_C["C: yield_io!(c.clone())"]
    Done["Done"]
    Err["Err"]
    Idle --&gt; v_C
    v_C --&gt; Err
    v_C --&gt; Done
</pre>
<script type="module">import m from "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs"; m.initialize({startOnLoad: true});</script>*/
#[allow(clippy::large_enum_variant, clippy::enum_variant_names, non_snake_case)]
pub enum FreePageState {
    /// Not running: the next call starts at the top.
    Idle,
    /// Suspended at `yield_io!(c.clone())`.
    C {
        /// The local `trunk`, needed after this suspension point.
        trunk: u32,
        #[doc(hidden)]
        __completion: ::ratchet::__private::Completion,
    },
}
::ratchet::__private::__ratchet_state! {
    [] [FreePageState] [] dot
    "digraph FreePageState {\n    Idle [label=\"Idle\"];\n    v_C [label=\"C: yield_io!(c.clone())\"];\n    Done [label=\"Done\"];\n    Err [label=\"Err\"];\n    Idle -> v_C [label=\"\"];\n    v_C -> Err [label=\"\"];\n    v_C -> Done [label=\"\"];\n}\n"
    mermaid
    "graph TD\n    Idle[\"Idle\"]\n    v_C[\"C: yield_io!(c.clone())\"]\n    Done[\"Done\"]\n    Err[\"Err\"]\n    Idle --> v_C\n    v_C --> Err\n    v_C --> Done\n"
    C ":17:9 `yield_io!(c.clone())`", { trunk : u32 = "trunk" } [__completion];
}
#[io_state_machine(__ratchet_seen)]
const _: () = ();
#[test]
fn runs() {
    let p = Pager {
        free_page_state: RefCell::new(FreePageState::default()),
    };
    assert!(matches!(p.free_page(& Completion::ready(), 8), Ok(IOResult::Done(4))));
}
