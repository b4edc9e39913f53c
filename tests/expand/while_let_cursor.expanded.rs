//! A cursor scan whose loop head suspends.
use ratchet::{
    Completion, CompletionError, IOResult, call_io, io_state_machine, io_state_machines,
    yield_io,
};
pub struct Cursor {
    pos: u32,
    next_state: NextState,
}
impl Cursor {
    pub fn next(&mut self) -> Result<IOResult<Option<u32>>, CompletionError> {
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
            __ratchet_at, "next", match & (*
            ::ratchet::__private::state_field(NextState::Idle, & mut self.next_state)) {
            NextState::Idle => "Idle", NextState::Ready { .. } => "Ready", }
        );
        let __ratchet_waited = match (*::ratchet::__private::state_field(
            NextState::Idle,
            &mut self.next_state,
        )) {
            NextState::Ready { __completion: ref __ratchet_c, .. } => {
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
            &mut (*::ratchet::__private::state_field(
                NextState::Idle,
                &mut self.next_state,
            )),
        ) {
            NextState::Idle => __RatchetPc::Start {},
            NextState::Ready { __completion: __ratchet_c } => {
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
                    if self.pos == 3 {
                        return ::ratchet::__private::__ratchet_trace_done!(
                            __ratchet_at, Ok(None)
                        );
                    }
                    ::core::convert::identity(
                        match Completion::ready() {
                            __ratchet_c => {
                                let __ratchet_c: ::ratchet::__private::Completion = __ratchet_c;
                                if ::ratchet::__private::must_suspend(&__ratchet_c) {
                                    ::ratchet::__private::__ratchet_trace_suspend!(
                                        __ratchet_at, "Ready", & __ratchet_c
                                    );
                                    break '__ratchet_dispatch (
                                        NextState::Ready {
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
                                    __ratchet_at, "Ready"
                                );
                                ::ratchet::__private::yield_result(&__ratchet_c)
                            }
                        },
                    )?;
                    self.pos += 1;
                    return ::ratchet::__private::__ratchet_trace_done!(
                        __ratchet_at, Ok(Some(self.pos))
                    );
                }
                __RatchetPc::AfterReady { __ratchet_r0 } => {
                    __ratchet_r0?;
                    self.pos += 1;
                    return ::ratchet::__private::__ratchet_trace_done!(
                        __ratchet_at, Ok(Some(self.pos))
                    );
                }
            }
        };
        (*::ratchet::__private::state_field(NextState::Idle, &mut self.next_state)) = __ratchet_next;
        ::ratchet::__private::Ok(::ratchet::__private::IOResult::IO(__ratchet_io))
    }
}
/** Where `Cursor::next` is suspended and the locals it keeps there. Generated by `#[io_state_machine]`; `Default` is idle.

 Sizes: [`NextState::size_report`] gives the bytes each suspension point's stored locals take; `#[io_state_machine(max_size = N)]` asserts a bound at compile time.

 State diagram: the suspension points, with the conditions that lead from one to the next ([`NextState::STATE_DIAGRAM_MERMAID`] has its source, [`NextState::STATE_DIAGRAM_DOT`] the same as DOT):

<pre class="mermaid">
graph TD
    Idle["Idle"]
    v_Ready["Ready: yield_io!(Completion::ready())"]
    Done["Done"]
    Err["Err"]
    Idle --&gt;|"return"| Done
    Idle --&gt; v_Ready
    v_Ready --&gt; Err
    v_Ready --&gt; Done
</pre>
<script type="module">import m from "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs"; m.initialize({startOnLoad: true});</script>*/
#[allow(clippy::large_enum_variant, clippy::enum_variant_names, non_snake_case)]
pub enum NextState {
    /// Not running: the next call starts at the top.
    Idle,
    /// Suspended at `yield_io!(Completion::ready())`.
    Ready { #[doc(hidden)] __completion: ::ratchet::__private::Completion },
}
::ratchet::__private::__ratchet_state! {
    [] [NextState] [] dot
    "digraph NextState {\n    Idle [label=\"Idle\"];\n    v_Ready [label=\"Ready: yield_io!(Completion::ready())\"];\n    Done [label=\"Done\"];\n    Err [label=\"Err\"];\n    Idle -> Done [label=\"return\"];\n    Idle -> v_Ready [label=\"\"];\n    v_Ready -> Err [label=\"\"];\n    v_Ready -> Done [label=\"\"];\n}\n"
    mermaid
    "graph TD\n    Idle[\"Idle\"]\n    v_Ready[\"Ready: yield_io!(Completion::ready())\"]\n    Done[\"Done\"]\n    Err[\"Err\"]\n    Idle -->|\"return\"| Done\n    Idle --> v_Ready\n    v_Ready --> Err\n    v_Ready --> Done\n"
    Ready ":18:9 `yield_io!(Completion::ready())`", {} [__completion];
}
#[io_state_machine(__ratchet_seen)]
const _: () = ();
/** Where [`sum`] is suspended and the locals it keeps there. Generated by `#[io_state_machine]`; `Default` is idle.

 Sizes: [`SumState::size_report`] gives the bytes each suspension point's stored locals take; `#[io_state_machine(max_size = N)]` asserts a bound at compile time.

 State diagram: the suspension points, with the conditions that lead from one to the next ([`SumState::STATE_DIAGRAM_MERMAID`] has its source, [`SumState::STATE_DIAGRAM_DOT`] the same as DOT):

<pre class="mermaid">
graph TD
    Idle["Idle"]
    v_Next["Next: call_io!(cursor.next())"]
    Done["Done"]
    Err["Err"]
    Idle --&gt; v_Next
    v_Next --&gt;|"while let Some(row) = call_io!(cursor.next())?"| v_Next
    v_Next --&gt;|"end of while let Some(row) = call_io!(cursor.next())?"| Done
</pre>
<script type="module">import m from "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs"; m.initialize({startOnLoad: true});</script>*/
#[allow(clippy::large_enum_variant, clippy::enum_variant_names, non_snake_case)]
pub enum SumState {
    /// Not running: the next call starts at the top.
    Idle,
    /// Suspended at `call_io!(cursor.next())`.
    Next {
        /// The local `total`, needed after this suspension point.
        total: u32,
    },
}
::ratchet::__private::__ratchet_state! {
    [] [SumState] [] dot
    "digraph SumState {\n    Idle [label=\"Idle\"];\n    v_Next [label=\"Next: call_io!(cursor.next())\"];\n    Done [label=\"Done\"];\n    Err [label=\"Err\"];\n    Idle -> v_Next [label=\"\"];\n    v_Next -> v_Next [label=\"while let Some(row) = call_io!(cursor.next())?\"];\n    v_Next -> Done [label=\"end of while let Some(row) = call_io!(cursor.next())?\"];\n}\n"
    mermaid
    "graph TD\n    Idle[\"Idle\"]\n    v_Next[\"Next: call_io!(cursor.next())\"]\n    Done[\"Done\"]\n    Err[\"Err\"]\n    Idle --> v_Next\n    v_Next -->|\"while let Some(row) = call_io!(cursor.next())?\"| v_Next\n    v_Next -->|\"end of while let Some(row) = call_io!(cursor.next())?\"| Done\n"
    Next ":27:27 `call_io!(cursor.next())`", { total : u32 = "total" };
}
pub fn sum(
    st: &mut SumState,
    cursor: &mut Cursor,
) -> Result<IOResult<u32>, CompletionError> {
    #[allow(clippy::enum_variant_names, clippy::large_enum_variant)]
    enum __RatchetPc<T0> {
        Start {},
        While { total: T0 },
        CallNext { total: T0 },
    }
    let _ = <CompletionError as ::ratchet::__private::From<
        ::ratchet::__private::CompletionError,
    >>::from;
    call_io!(__ratchet_seen);
    let __ratchet_state = st;
    ::ratchet::__private::__ratchet_trace_span!(
        __ratchet_at, "sum", match & * __ratchet_state { SumState::Idle => "Idle",
        SumState::Next { .. } => "Next", }
    );
    ::ratchet::__private::__ratchet_trace_resume!(
        __ratchet_at, ::ratchet::__private::None
    );
    let mut __ratchet_pc = match ::ratchet::__private::mem::take(&mut *__ratchet_state) {
        SumState::Idle => __RatchetPc::Start {},
        SumState::Next { total } => __RatchetPc::CallNext { total },
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
                let mut total: u32 = 0;
                while let Some(row) = ::core::convert::identity(
                    match cursor.next() {
                        ::ratchet::__private::Ok(
                            ::ratchet::__private::IOResult::Done(__ratchet_done),
                        ) => {
                            ::ratchet::__private::__ratchet_trace_pass!(
                                __ratchet_at, "Next"
                            );
                            ::ratchet::__private::Ok(__ratchet_done)
                        }
                        ::ratchet::__private::Ok(
                            ::ratchet::__private::IOResult::IO(__ratchet_io),
                        ) => {
                            ::ratchet::__private::__ratchet_trace_suspend!(
                                __ratchet_at, "Next", __ratchet_io.completion()
                            );
                            break '__ratchet_dispatch (
                                SumState::Next { total },
                                __ratchet_io,
                            );
                        }
                        ::ratchet::__private::Err(__ratchet_err) => {
                            ::ratchet::__private::__ratchet_trace_pass!(
                                __ratchet_at, "Next"
                            );
                            ::ratchet::__private::Err(__ratchet_err)
                        }
                    },
                )? {
                    total += row;
                }
                return ::ratchet::__private::__ratchet_trace_done!(
                    __ratchet_at, Ok(total)
                );
            }
            #[allow(unused_mut)]
            __RatchetPc::While { mut total } => {
                __ratchet_pc = __RatchetPc::CallNext { total };
            }
            #[allow(unused_mut)]
            __RatchetPc::CallNext { mut total } => {
                let __ratchet_call = cursor.next();
                let __ratchet_r1 = match __ratchet_call {
                    ::ratchet::__private::Ok(
                        ::ratchet::__private::IOResult::Done(__ratchet_done),
                    ) => ::ratchet::__private::Ok(__ratchet_done),
                    ::ratchet::__private::Ok(
                        ::ratchet::__private::IOResult::IO(__ratchet_io),
                    ) => {
                        ::ratchet::__private::__ratchet_trace_suspend!(
                            __ratchet_at, "Next", __ratchet_io.completion()
                        );
                        break '__ratchet_dispatch (
                            SumState::Next { total },
                            __ratchet_io,
                        );
                    }
                    ::ratchet::__private::Err(__ratchet_err) => {
                        ::ratchet::__private::Err(__ratchet_err)
                    }
                };
                ::ratchet::__private::__ratchet_trace_pass!(__ratchet_at, "Next");
                if let Some(row) = __ratchet_r1? {
                    total += row;
                    __ratchet_pc = __RatchetPc::While { total };
                } else {
                    return ::ratchet::__private::__ratchet_trace_done!(
                        __ratchet_at, Ok(total)
                    );
                }
            }
        }
    };
    *__ratchet_state = __ratchet_next;
    ::ratchet::__private::Ok(::ratchet::__private::IOResult::IO(__ratchet_io))
}
