//! A nested call in a `for` loop with a carried index; the callee is itself
//! a machine whose state lives in `self`.
use ratchet::{
    Completion, CompletionError, IOResult, call_io, io_state_machine, io_state_machines,
    yield_io,
};
#[derive(Default)]
pub struct Pager {
    free_state: FreePageState,
    clear_state: ClearState,
}
impl Pager {
    pub fn free_page(&mut self, no: u64) -> Result<IOResult<()>, CompletionError> {
        #[allow(clippy::enum_variant_names, clippy::large_enum_variant)]
        enum __RatchetPc<T0> {
            Start {},
            AfterReady { __ratchet_r0: T0 },
        }
        let _ = <CompletionError as ::ratchet::__private::From<
            ::ratchet::__private::CompletionError,
        >>::from;
        yield_io!(__ratchet_seen);
        ::ratchet::__private::__ratchet_trace_span!(
            __ratchet_at, "free_page", ::ratchet::__private::MachineState::variant(& (*
            ::ratchet::__private::state_field(FreePageState::Idle, & mut self
            .free_state)))
        );
        let __ratchet_waited = ::ratchet::__private::MachineState::waited(
            &(*::ratchet::__private::state_field(
                FreePageState::Idle,
                &mut self.free_state,
            )),
        );
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
            &mut (*::ratchet::__private::state_field(
                FreePageState::Idle,
                &mut self.free_state,
            )),
        ) {
            FreePageState::Idle => __RatchetPc::Start {},
            FreePageState::Ready { __completion: __ratchet_c } => {
                __RatchetPc::AfterReady {
                    __ratchet_r0: ::ratchet::__private::yield_result(&__ratchet_c),
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
                    let _ = no;
                    ::core::convert::identity(
                        match Completion::ready() {
                            __ratchet_c => {
                                let __ratchet_c: ::ratchet::__private::Completion = __ratchet_c;
                                if ::ratchet::__private::must_suspend(&__ratchet_c) {
                                    ::ratchet::__private::__ratchet_trace_suspend!(
                                        __ratchet_at, "Ready", & __ratchet_c
                                    );
                                    break '__ratchet_dispatch (
                                        FreePageState::Ready {
                                            __completion: ::ratchet::__private::Clone::clone(
                                                &__ratchet_c,
                                            ),
                                        },
                                        ::ratchet::__private::io(__ratchet_c),
                                    );
                                }
                                ::ratchet::__private::__ratchet_trace_pass!(
                                    __ratchet_at, "Ready"
                                );
                                ::ratchet::__private::yield_result(&__ratchet_c)
                            }
                        },
                    )?;
                    return ::ratchet::__private::__ratchet_trace_done!(
                        __ratchet_at, Ok(())
                    );
                }
                __RatchetPc::AfterReady { __ratchet_r0 } => {
                    __ratchet_r0?;
                    return ::ratchet::__private::__ratchet_trace_done!(
                        __ratchet_at, Ok(())
                    );
                }
            }
        };
        (*::ratchet::__private::state_field(
            FreePageState::Idle,
            &mut self.free_state,
        )) = __ratchet_next;
        ::ratchet::__private::Ok(::ratchet::__private::IOResult::IO(__ratchet_io))
    }
    pub fn clear(&mut self, n: u64) -> Result<IOResult<u64>, CompletionError> {
        #[allow(clippy::enum_variant_names, clippy::large_enum_variant)]
        enum __RatchetPc<T0, T1> {
            Start {},
            For { __ratchet_end0: T0, i: T1 },
            CallFreePage { __ratchet_end0: T0, i: T1 },
        }
        let _ = <CompletionError as ::ratchet::__private::From<
            ::ratchet::__private::CompletionError,
        >>::from;
        call_io!(__ratchet_seen);
        ::ratchet::__private::__ratchet_trace_span!(
            __ratchet_at, "clear", ::ratchet::__private::MachineState::variant(& (*
            ::ratchet::__private::state_field(ClearState::Idle, & mut self.clear_state)))
        );
        ::ratchet::__private::__ratchet_trace_resume!(
            __ratchet_at, ::ratchet::__private::None
        );
        let mut __ratchet_pc = match ::ratchet::__private::mem::take(
            &mut (*::ratchet::__private::state_field(
                ClearState::Idle,
                &mut self.clear_state,
            )),
        ) {
            ClearState::Idle => __RatchetPc::Start {},
            ClearState::FreePage { __ratchet_end0, i } => {
                __RatchetPc::CallFreePage {
                    __ratchet_end0,
                    i,
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
                    {
                        let __ratchet_end0: u64 = n;
                        let mut __ratchet_cursor: u64 = 0;
                        loop {
                            if __ratchet_cursor < __ratchet_end0 {} else {
                                break;
                            }
                            let i: u64 = __ratchet_cursor;
                            __ratchet_cursor += 1;
                            {
                                ::core::convert::identity({
                                    let __ratchet_call = self.free_page(i);
                                    match ::ratchet::__private::call_step(__ratchet_call) {
                                        ::ratchet::__private::ControlFlow::Continue(
                                            __ratchet_done,
                                        ) => {
                                            ::ratchet::__private::__ratchet_trace_pass!(
                                                __ratchet_at, "FreePage"
                                            );
                                            __ratchet_done
                                        }
                                        ::ratchet::__private::ControlFlow::Break(__ratchet_io) => {
                                            ::ratchet::__private::__ratchet_trace_suspend!(
                                                __ratchet_at, "FreePage", __ratchet_io.completion()
                                            );
                                            break '__ratchet_dispatch (
                                                ClearState::FreePage {
                                                    __ratchet_end0,
                                                    i,
                                                },
                                                __ratchet_io,
                                            );
                                        }
                                    }
                                })?;
                            }
                        }
                    }
                    return ::ratchet::__private::__ratchet_trace_done!(
                        __ratchet_at, Ok(n)
                    );
                }
                #[allow(unused_mut)]
                __RatchetPc::For { __ratchet_end0, mut i } => {
                    if i < __ratchet_end0 {
                        __ratchet_pc = __RatchetPc::CallFreePage {
                            __ratchet_end0,
                            i,
                        };
                    } else {
                        return ::ratchet::__private::__ratchet_trace_done!(
                            __ratchet_at, Ok(n)
                        );
                    }
                }
                #[allow(unused_mut)]
                __RatchetPc::CallFreePage { __ratchet_end0, mut i } => {
                    let __ratchet_call = self.free_page(i);
                    let __ratchet_r2 = match ::ratchet::__private::call_step(
                        __ratchet_call,
                    ) {
                        ::ratchet::__private::ControlFlow::Continue(__ratchet_done) => {
                            __ratchet_done
                        }
                        ::ratchet::__private::ControlFlow::Break(__ratchet_io) => {
                            ::ratchet::__private::__ratchet_trace_suspend!(
                                __ratchet_at, "FreePage", __ratchet_io.completion()
                            );
                            break '__ratchet_dispatch (
                                ClearState::FreePage {
                                    __ratchet_end0,
                                    i,
                                },
                                __ratchet_io,
                            );
                        }
                    };
                    ::ratchet::__private::__ratchet_trace_pass!(
                        __ratchet_at, "FreePage"
                    );
                    __ratchet_r2?;
                    i += 1;
                    __ratchet_pc = __RatchetPc::For {
                        __ratchet_end0,
                        i,
                    };
                }
            }
        };
        (*::ratchet::__private::state_field(ClearState::Idle, &mut self.clear_state)) = __ratchet_next;
        ::ratchet::__private::Ok(::ratchet::__private::IOResult::IO(__ratchet_io))
    }
}
/** Where `Pager::free_page` is suspended and the locals it keeps there. Generated by `#[io_state_machine]`; `Default` is idle.

 Sizes: [`FreePageState::size_report`] gives the bytes each suspension point's stored locals take; `#[io_state_machine(max_size = N)]` asserts a bound at compile time.

 State diagram: the suspension points, with the conditions that lead from one to the next ([`FreePageState::STATE_DIAGRAM_MERMAID`] has its source, [`FreePageState::STATE_DIAGRAM_DOT`] the same as DOT):

<pre class="mermaid">
graph TD
    Idle["Idle"]
    v_Ready["Ready: yield_io!(Completion::ready())"]
    Done["Done"]
    Err["Err"]
    Idle --&gt; v_Ready
    v_Ready --&gt; Err
    v_Ready --&gt; Done
</pre>
<script type="module">import m from "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs"; m.initialize({startOnLoad: true});</script>*/
#[allow(clippy::large_enum_variant, clippy::enum_variant_names, non_snake_case)]
pub enum FreePageState {
    /// Not running: the next call starts at the top.
    Idle,
    /// Suspended at `yield_io!(Completion::ready())`.
    Ready { #[doc(hidden)] __completion: ::ratchet::__private::Completion },
}
::ratchet::__private::__ratchet_state! {
    [] [FreePageState] [] dot
    "digraph FreePageState {\n    Idle [label=\"Idle\"];\n    v_Ready [label=\"Ready: yield_io!(Completion::ready())\"];\n    Done [label=\"Done\"];\n    Err [label=\"Err\"];\n    Idle -> v_Ready [label=\"\"];\n    v_Ready -> Err [label=\"\"];\n    v_Ready -> Done [label=\"\"];\n}\n"
    mermaid
    "graph TD\n    Idle[\"Idle\"]\n    v_Ready[\"Ready: yield_io!(Completion::ready())\"]\n    Done[\"Done\"]\n    Err[\"Err\"]\n    Idle --> v_Ready\n    v_Ready --> Err\n    v_Ready --> Done\n"
    Ready ":18:9 `yield_io!(Completion::ready())`", {} [__completion];
}
/** Where `Pager::clear` is suspended and the locals it keeps there. Generated by `#[io_state_machine]`; `Default` is idle.

 Sizes: [`ClearState::size_report`] gives the bytes each suspension point's stored locals take; `#[io_state_machine(max_size = N)]` asserts a bound at compile time.

 State diagram: the suspension points, with the conditions that lead from one to the next ([`ClearState::STATE_DIAGRAM_MERMAID`] has its source, [`ClearState::STATE_DIAGRAM_DOT`] the same as DOT):

<pre class="mermaid">
graph TD
    Idle["Idle"]
    v_FreePage["FreePage: call_io!(self.free_page(i))"]
    Done["Done"]
    Err["Err"]
    Idle --&gt;|"for i in 0..n"| v_FreePage
    Idle --&gt;|"end of for i in 0..n"| Done
    v_FreePage --&gt; Err
    v_FreePage --&gt;|"for i in 0..n"| v_FreePage
    v_FreePage --&gt;|"end of for i in 0..n"| Done
</pre>
<script type="module">import m from "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs"; m.initialize({startOnLoad: true});</script>*/
#[allow(clippy::large_enum_variant, clippy::enum_variant_names, non_snake_case)]
pub enum ClearState {
    /// Not running: the next call starts at the top.
    Idle,
    /// Suspended at `call_io!(self.free_page(i))`.
    FreePage {
        /// The end of the range of the enclosing `for` loop, needed after this suspension point.
        __ratchet_end0: u64,
        /// The local `i`, needed after this suspension point.
        i: u64,
    },
}
::ratchet::__private::__ratchet_state! {
    [] [ClearState] [] dot
    "digraph ClearState {\n    Idle [label=\"Idle\"];\n    v_FreePage [label=\"FreePage: call_io!(self.free_page(i))\"];\n    Done [label=\"Done\"];\n    Err [label=\"Err\"];\n    Idle -> v_FreePage [label=\"for i in 0..n\"];\n    Idle -> Done [label=\"end of for i in 0..n\"];\n    v_FreePage -> Err [label=\"\"];\n    v_FreePage -> v_FreePage [label=\"for i in 0..n\"];\n    v_FreePage -> Done [label=\"end of for i in 0..n\"];\n}\n"
    mermaid
    "graph TD\n    Idle[\"Idle\"]\n    v_FreePage[\"FreePage: call_io!(self.free_page(i))\"]\n    Done[\"Done\"]\n    Err[\"Err\"]\n    Idle -->|\"for i in 0..n\"| v_FreePage\n    Idle -->|\"end of for i in 0..n\"| Done\n    v_FreePage --> Err\n    v_FreePage -->|\"for i in 0..n\"| v_FreePage\n    v_FreePage -->|\"end of for i in 0..n\"| Done\n"
    FreePage ":25:13 `call_io!(self.free_page(i))`", { __ratchet_end0 : u64 =
    "<for bound>", i : u64 = "i" };
}
#[io_state_machine(__ratchet_seen)]
const _: () = ();
