//! A generic impl whose stored locals use the impl's type parameter: the
//! state enum is generic over exactly that parameter.
use ratchet::{
    Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io,
};
pub struct Tree<K> {
    keys: Vec<K>,
    collect_state: CollectState<K>,
}
impl<K: Clone> Tree<K> {
    pub fn collect(
        &mut self,
        c: &Completion,
    ) -> Result<IOResult<Vec<K>>, CompletionError> {
        #[allow(clippy::enum_variant_names, clippy::large_enum_variant)]
        enum __RatchetPc<T0, T1, T2> {
            Start {},
            While { acc: T0, i: T1 },
            AfterC { acc: T0, i: T1, __ratchet_r2: T2 },
        }
        let _ = <CompletionError as ::ratchet::__private::From<
            ::ratchet::__private::CompletionError,
        >>::from;
        yield_io!(__ratchet_seen);
        ::ratchet::__private::__ratchet_trace_span!(
            __ratchet_at, "collect", ::ratchet::__private::MachineState::variant(& (*
            ::ratchet::__private::state_field(CollectState::Idle, & mut self
            .collect_state)))
        );
        let __ratchet_waited = ::ratchet::__private::MachineState::waited(
            &(*::ratchet::__private::state_field(
                CollectState::Idle,
                &mut self.collect_state,
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
                CollectState::Idle,
                &mut self.collect_state,
            )),
        ) {
            CollectState::Idle => __RatchetPc::Start {},
            CollectState::C { acc, i, __completion: __ratchet_c } => {
                __RatchetPc::AfterC {
                    acc,
                    i,
                    __ratchet_r2: ::ratchet::__private::yield_result(&__ratchet_c),
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
                    let mut acc: Vec<K> = Vec::new();
                    let mut i: usize = 0;
                    while i < self.keys.len() {
                        ::core::convert::identity(
                            match c.clone() {
                                __ratchet_c => {
                                    let __ratchet_c: ::ratchet::__private::Completion = __ratchet_c;
                                    if ::ratchet::__private::must_suspend(&__ratchet_c) {
                                        ::ratchet::__private::__ratchet_trace_suspend!(
                                            __ratchet_at, "C", & __ratchet_c
                                        );
                                        break '__ratchet_dispatch (
                                            CollectState::C {
                                                acc,
                                                i,
                                                __completion: ::ratchet::__private::Clone::clone(
                                                    &__ratchet_c,
                                                ),
                                            },
                                            ::ratchet::__private::io(__ratchet_c),
                                        );
                                    }
                                    ::ratchet::__private::__ratchet_trace_pass!(
                                        __ratchet_at, "C"
                                    );
                                    ::ratchet::__private::yield_result(&__ratchet_c)
                                }
                            },
                        )?;
                        acc.push(self.keys[i].clone());
                        i += 1;
                    }
                    return ::ratchet::__private::__ratchet_trace_done!(
                        __ratchet_at, Ok(acc)
                    );
                }
                #[allow(unused_mut)]
                __RatchetPc::While { mut acc, mut i } => {
                    if i < self.keys.len() {
                        let __ratchet_c: ::ratchet::__private::Completion = c.clone();
                        if ::ratchet::__private::must_suspend(&__ratchet_c) {
                            ::ratchet::__private::__ratchet_trace_suspend!(
                                __ratchet_at, "C", & __ratchet_c
                            );
                            break '__ratchet_dispatch (
                                CollectState::C {
                                    acc,
                                    i,
                                    __completion: ::ratchet::__private::Clone::clone(
                                        &__ratchet_c,
                                    ),
                                },
                                ::ratchet::__private::io(__ratchet_c),
                            );
                        }
                        ::ratchet::__private::__ratchet_trace_pass!(__ratchet_at, "C");
                        let __ratchet_val = ::ratchet::__private::yield_result(
                            &__ratchet_c,
                        );
                        __ratchet_pc = __RatchetPc::AfterC {
                            acc,
                            i,
                            __ratchet_r2: __ratchet_val,
                        };
                    } else {
                        return ::ratchet::__private::__ratchet_trace_done!(
                            __ratchet_at, Ok(acc)
                        );
                    }
                }
                #[allow(unused_mut)]
                __RatchetPc::AfterC { mut acc, mut i, __ratchet_r2 } => {
                    __ratchet_r2?;
                    acc.push(self.keys[i].clone());
                    i += 1;
                    __ratchet_pc = __RatchetPc::While { acc, i };
                }
            }
        };
        (*::ratchet::__private::state_field(
            CollectState::Idle,
            &mut self.collect_state,
        )) = __ratchet_next;
        ::ratchet::__private::Ok(::ratchet::__private::IOResult::IO(__ratchet_io))
    }
}
/** Where `Tree<K>::collect` is suspended and the locals it keeps there. Generated by `#[io_state_machine]`; `Default` is idle.

 Sizes: [`CollectState::size_report`] gives the bytes each suspension point's stored locals take; `#[io_state_machine(max_size = N)]` asserts a bound at compile time.

 State diagram: the suspension points, with the conditions that lead from one to the next ([`CollectState::STATE_DIAGRAM_MERMAID`] has its source, [`CollectState::STATE_DIAGRAM_DOT`] the same as DOT):

<pre class="mermaid">
graph TD
    Idle["Idle"]
    v_C["C: yield_io!(c.clone())"]
    Done["Done"]
    Err["Err"]
    Idle --&gt;|"while i #lt; self.keys.len()"| v_C
    Idle --&gt;|"end of while i #lt; self.keys.len()"| Done
    v_C --&gt; Err
    v_C --&gt;|"while i #lt; self.keys.len()"| v_C
    v_C --&gt;|"end of while i #lt; self.keys.len()"| Done
</pre>
<script type="module">import m from "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs"; m.initialize({startOnLoad: true});</script>*/
#[allow(clippy::large_enum_variant, clippy::enum_variant_names, non_snake_case)]
pub enum CollectState<K> {
    /// Not running: the next call starts at the top.
    Idle,
    /// Suspended at `yield_io!(c.clone())`.
    C {
        /// The local `acc`, needed after this suspension point.
        acc: Vec<K>,
        /// The local `i`, needed after this suspension point.
        i: usize,
        #[doc(hidden)]
        __completion: ::ratchet::__private::Completion,
    },
}
::ratchet::__private::__ratchet_state! {
    [< K >] [CollectState < K >] [] dot
    "digraph CollectState {\n    Idle [label=\"Idle\"];\n    v_C [label=\"C: yield_io!(c.clone())\"];\n    Done [label=\"Done\"];\n    Err [label=\"Err\"];\n    Idle -> v_C [label=\"while i < self.keys.len()\"];\n    Idle -> Done [label=\"end of while i < self.keys.len()\"];\n    v_C -> Err [label=\"\"];\n    v_C -> v_C [label=\"while i < self.keys.len()\"];\n    v_C -> Done [label=\"end of while i < self.keys.len()\"];\n}\n"
    mermaid
    "graph TD\n    Idle[\"Idle\"]\n    v_C[\"C: yield_io!(c.clone())\"]\n    Done[\"Done\"]\n    Err[\"Err\"]\n    Idle -->|\"while i #lt; self.keys.len()\"| v_C\n    Idle -->|\"end of while i #lt; self.keys.len()\"| Done\n    v_C --> Err\n    v_C -->|\"while i #lt; self.keys.len()\"| v_C\n    v_C -->|\"end of while i #lt; self.keys.len()\"| Done\n"
    C ":17:13 `yield_io!(c.clone())`", { acc : Vec < K > = "acc", i : usize = "i" }
    [__completion];
}
#[io_state_machine(__ratchet_seen)]
const _: () = ();
