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
        ::ratchet::__private::assert_error_type::<CompletionError>();
        yield_io!(__ratchet_seen);
        ::ratchet::__private::__ratchet_trace_span!(
            __ratchet_at, "free_page", match & self.free_state { FreePageState::Idle =>
            "Idle", FreePageState::Ready { .. } => "Ready", }
        );
        let __ratchet_waited = match &self.free_state {
            FreePageState::Ready { __completion: __ratchet_c, .. } => {
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
            &mut self.free_state,
        ) {
            FreePageState::Idle => __RatchetPc::Start {},
            FreePageState::Ready { __completion: __ratchet_c } => {
                __RatchetPc::AfterReady {
                    __ratchet_r0: ::ratchet::__private::yield_result(&__ratchet_c),
                }
            }
        };
        loop {
            match __ratchet_pc {
                __RatchetPc::Start {} => {
                    let _ = no;
                    let __ratchet_c: ::ratchet::__private::Completion = Completion::ready();
                    if ::ratchet::__private::must_suspend(&__ratchet_c) {
                        ::ratchet::__private::__ratchet_trace_suspend!(
                            __ratchet_at, "Ready", & __ratchet_c
                        );
                        self.free_state = FreePageState::Ready {
                            __completion: ::ratchet::__private::Clone::clone(
                                &__ratchet_c,
                            ),
                        };
                        return ::ratchet::__private::Ok(
                            ::ratchet::__private::IOResult::IO(
                                ::ratchet::__private::IOCompletions::from(__ratchet_c),
                            ),
                        );
                    }
                    ::ratchet::__private::__ratchet_trace_pass!(__ratchet_at, "Ready");
                    let __ratchet_r0 = ::ratchet::__private::yield_result(&__ratchet_c);
                    __ratchet_r0?;
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
        }
    }
    pub fn clear(&mut self, n: u64) -> Result<IOResult<u64>, CompletionError> {
        #[allow(clippy::enum_variant_names, clippy::large_enum_variant)]
        enum __RatchetPc<T0, T1> {
            Start {},
            For { __ratchet_end0: T0, i: T1 },
            CallFreePage { __ratchet_end0: T0, i: T1 },
        }
        ::ratchet::__private::assert_error_type::<CompletionError>();
        call_io!(__ratchet_seen);
        ::ratchet::__private::__ratchet_trace_span!(
            __ratchet_at, "clear", match & self.clear_state { ClearState::Idle => "Idle",
            ClearState::FreePage { .. } => "FreePage", }
        );
        ::ratchet::__private::__ratchet_trace_resume!(
            __ratchet_at, ::ratchet::__private::None
        );
        let mut __ratchet_pc = match ::ratchet::__private::mem::take(
            &mut self.clear_state,
        ) {
            ClearState::Idle => __RatchetPc::Start {},
            ClearState::FreePage { __ratchet_end0, i } => {
                __RatchetPc::CallFreePage {
                    __ratchet_end0,
                    i,
                }
            }
        };
        loop {
            match __ratchet_pc {
                #[allow(unused_mut)]
                __RatchetPc::Start {} => {
                    let __ratchet_end0: u64 = n;
                    let mut i: u64 = 0;
                    __ratchet_pc = __RatchetPc::For {
                        __ratchet_end0,
                        i,
                    };
                }
                #[allow(unused_mut)]
                __RatchetPc::For { __ratchet_end0, mut i } => {
                    '__ratchet_again: loop {
                        if i < __ratchet_end0 {
                            let __ratchet_call = self.free_page(i);
                            let __ratchet_r2 = match __ratchet_call {
                                ::ratchet::__private::Ok(
                                    ::ratchet::__private::IOResult::Done(__ratchet_done),
                                ) => ::ratchet::__private::Ok(__ratchet_done),
                                ::ratchet::__private::Ok(
                                    ::ratchet::__private::IOResult::IO(__ratchet_io),
                                ) => {
                                    ::ratchet::__private::__ratchet_trace_suspend!(
                                        __ratchet_at, "FreePage", __ratchet_io.completion()
                                    );
                                    self.clear_state = ClearState::FreePage {
                                        __ratchet_end0,
                                        i,
                                    };
                                    return ::ratchet::__private::Ok(
                                        ::ratchet::__private::IOResult::IO(__ratchet_io),
                                    );
                                }
                                ::ratchet::__private::Err(__ratchet_err) => {
                                    ::ratchet::__private::Err(__ratchet_err)
                                }
                            };
                            ::ratchet::__private::__ratchet_trace_pass!(
                                __ratchet_at, "FreePage"
                            );
                            __ratchet_r2?;
                            i += 1;
                            {
                                continue '__ratchet_again;
                            }
                        } else {
                            return ::ratchet::__private::__ratchet_trace_done!(
                                __ratchet_at, Ok(n)
                            );
                        }
                    }
                }
                #[allow(unused_mut)]
                __RatchetPc::CallFreePage { __ratchet_end0, mut i } => {
                    let __ratchet_call = self.free_page(i);
                    let __ratchet_r2 = match __ratchet_call {
                        ::ratchet::__private::Ok(
                            ::ratchet::__private::IOResult::Done(__ratchet_done),
                        ) => ::ratchet::__private::Ok(__ratchet_done),
                        ::ratchet::__private::Ok(
                            ::ratchet::__private::IOResult::IO(__ratchet_io),
                        ) => {
                            ::ratchet::__private::__ratchet_trace_suspend!(
                                __ratchet_at, "FreePage", __ratchet_io.completion()
                            );
                            self.clear_state = ClearState::FreePage {
                                __ratchet_end0,
                                i,
                            };
                            return ::ratchet::__private::Ok(
                                ::ratchet::__private::IOResult::IO(__ratchet_io),
                            );
                        }
                        ::ratchet::__private::Err(__ratchet_err) => {
                            ::ratchet::__private::Err(__ratchet_err)
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
        }
    }
}
/// Where `Pager::free_page` is suspended and the locals it keeps there. Generated by `#[io_state_machine]`; `Default` is idle.
///
/// Sizes: [`FreePageState::size_report`] gives the bytes each suspension point's stored locals take; `#[io_state_machine(max_size = N)]` asserts a bound at compile time.
///
/// State diagram: the suspension points, with the conditions that lead from one to the next ([`FreePageState::STATE_DIAGRAM_DOT`] has it as DOT):
///
/// ```mermaid
/// graph TD
///     Idle["Idle"]
///     v_Ready["Ready: yield_io!(Completion::ready())"]
///     Done["Done"]
///     Err["Err"]
///     Idle --> v_Ready
///     v_Ready --> Err
///     v_Ready -->|"return"| Done
///     v_Ready --> Done
/// ```
#[allow(clippy::large_enum_variant, clippy::enum_variant_names)]
pub enum FreePageState {
    /// Not running: the next call starts at the top.
    Idle,
    /// Suspended at `yield_io!(Completion::ready())`.
    Ready {
        /// The completion this suspension point waits for.
        __completion: ::ratchet::__private::Completion,
    },
}
const _: () = {
    #[automatically_derived]
    impl ::ratchet::__private::Default for FreePageState {
        #[inline]
        fn default() -> Self {
            Self::Idle
        }
    }
    #[automatically_derived]
    impl ::ratchet::__private::fmt::Debug for FreePageState {
        fn fmt(
            &self,
            f: &mut ::ratchet::__private::fmt::Formatter<'_>,
        ) -> ::ratchet::__private::fmt::Result {
            #[allow(unused_imports)]
            use ::ratchet::__private::{DebugViaDebug as _, DebugViaNone as _};
            match self {
                Self::Idle => f.write_str("Idle"),
                Self::Ready { .. } => {
                    ::ratchet::__private::debug_state(
                        f,
                        ::core::concat!(
                            "Ready at ", ::core::file!(), ":", ::core::line!(), ":", 9,
                            " `yield_io!(Completion::ready())`, storing ["
                        ),
                        &[],
                    )
                }
            }
        }
    }
    #[allow(dead_code)]
    impl FreePageState {
        /// Whether the machine is idle: the next call starts at the top.
        #[must_use]
        #[inline]
        pub fn is_idle(&self) -> bool {
            #[allow(clippy::match_like_matches_macro)]
            match self {
                Self::Idle => true,
                _ => false,
            }
        }
        /// Aborts the completion the machine waits on, drops its stored
        /// locals and makes it idle.
        pub fn reset(&mut self) {
            if let Self::Ready { __completion: __ratchet_c, .. } = self {
                __ratchet_c.abort();
            }
            *self = Self::Idle;
        }
        /// The state diagram shown in this type's documentation, as a
        /// Graphviz DOT `digraph` (`dot -Tsvg`): nodes are `Idle`, each
        /// suspension point and `Done`; edges are labelled with the
        /// branch conditions taken between them.
        #[allow(clippy::redundant_static_lifetimes)]
        pub const STATE_DIAGRAM_DOT: &'static str = "digraph FreePageState {\n    Idle [label=\"Idle\"];\n    v_Ready [label=\"Ready: yield_io!(Completion::ready())\"];\n    Done [label=\"Done\"];\n    Err [label=\"Err\"];\n    Idle -> v_Ready [label=\"\"];\n    v_Ready -> Err [label=\"\"];\n    v_Ready -> Done [label=\"return\"];\n    v_Ready -> Done [label=\"\"];\n}\n";
        /// The state diagram shown in this type's documentation, as
        /// Mermaid `graph TD` source.
        #[allow(clippy::redundant_static_lifetimes)]
        pub const STATE_DIAGRAM_MERMAID: &'static str = "graph TD\n    Idle[\"Idle\"]\n    v_Ready[\"Ready: yield_io!(Completion::ready())\"]\n    Done[\"Done\"]\n    Err[\"Err\"]\n    Idle --> v_Ready\n    v_Ready --> Err\n    v_Ready -->|\"return\"| Done\n    v_Ready --> Done\n";
        /// Each suspension point's variant with the bytes its stored
        /// locals (and the awaited completion) take, in source order;
        /// the state itself takes `size_of::<Self>()`: the largest of
        /// these plus the discriminant and padding.
        #[must_use]
        pub const fn size_report() -> [(&'static str, usize); 1usize] {
            [("Ready", ::core::mem::size_of::<(::ratchet::__private::Completion,)>())]
        }
    }
};
/// Where `Pager::clear` is suspended and the locals it keeps there. Generated by `#[io_state_machine]`; `Default` is idle.
///
/// Sizes: [`ClearState::size_report`] gives the bytes each suspension point's stored locals take; `#[io_state_machine(max_size = N)]` asserts a bound at compile time.
///
/// State diagram: the suspension points, with the conditions that lead from one to the next ([`ClearState::STATE_DIAGRAM_DOT`] has it as DOT):
///
/// ```mermaid
/// graph TD
///     Idle["Idle"]
///     v_FreePage["FreePage: call_io!(self.free_page(i))"]
///     Done["Done"]
///     Err["Err"]
///     Idle -->|"loop For, if i < __ratchet_end0"| v_FreePage
///     Idle -->|"loop For, else of i < __ratchet_end0, return"| Done
///     Idle -->|"loop For, else of i < __ratchet_end0"| Done
///     v_FreePage --> Err
///     v_FreePage -->|"loop ForNext, loop For, if i < __ratchet_end0"| v_FreePage
///     v_FreePage -->|"loop ForNext, loop For, else of i < __ratchet_end0, return"| Done
///     v_FreePage -->|"loop ForNext, loop For, else of i < __ratchet_end0"| Done
/// ```
#[allow(clippy::large_enum_variant, clippy::enum_variant_names)]
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
const _: () = {
    #[automatically_derived]
    impl ::ratchet::__private::Default for ClearState {
        #[inline]
        fn default() -> Self {
            Self::Idle
        }
    }
    #[automatically_derived]
    impl ::ratchet::__private::fmt::Debug for ClearState {
        fn fmt(
            &self,
            f: &mut ::ratchet::__private::fmt::Formatter<'_>,
        ) -> ::ratchet::__private::fmt::Result {
            #[allow(unused_imports)]
            use ::ratchet::__private::{DebugViaDebug as _, DebugViaNone as _};
            match self {
                Self::Idle => f.write_str("Idle"),
                Self::FreePage { __ratchet_end0: __ratchet_v0, i: __ratchet_v1, .. } => {
                    ::ratchet::__private::debug_state(
                        f,
                        ::core::concat!(
                            "FreePage at ", ::core::file!(), ":", ::core::line!(), ":",
                            13, " `call_io!(self.free_page(i))`, storing ["
                        ),
                        &[
                            (
                                "<for bound>",
                                (&&::ratchet::__private::DebugValue(__ratchet_v0))
                                    .__ratchet_dyn(),
                            ),
                            (
                                "i",
                                (&&::ratchet::__private::DebugValue(__ratchet_v1))
                                    .__ratchet_dyn(),
                            ),
                        ],
                    )
                }
            }
        }
    }
    #[allow(dead_code)]
    impl ClearState {
        /// Whether the machine is idle: the next call starts at the top.
        #[must_use]
        #[inline]
        pub fn is_idle(&self) -> bool {
            #[allow(clippy::match_like_matches_macro)]
            match self {
                Self::Idle => true,
                _ => false,
            }
        }
        /// Aborts the completion the machine waits on, drops its stored
        /// locals and makes it idle.
        pub fn reset(&mut self) {
            *self = Self::Idle;
        }
        /// The state diagram shown in this type's documentation, as a
        /// Graphviz DOT `digraph` (`dot -Tsvg`): nodes are `Idle`, each
        /// suspension point and `Done`; edges are labelled with the
        /// branch conditions taken between them.
        #[allow(clippy::redundant_static_lifetimes)]
        pub const STATE_DIAGRAM_DOT: &'static str = "digraph ClearState {\n    Idle [label=\"Idle\"];\n    v_FreePage [label=\"FreePage: call_io!(self.free_page(i))\"];\n    Done [label=\"Done\"];\n    Err [label=\"Err\"];\n    Idle -> v_FreePage [label=\"loop For, if i < __ratchet_end0\"];\n    Idle -> Done [label=\"loop For, else of i < __ratchet_end0, return\"];\n    Idle -> Done [label=\"loop For, else of i < __ratchet_end0\"];\n    v_FreePage -> Err [label=\"\"];\n    v_FreePage -> v_FreePage [label=\"loop ForNext, loop For, if i < __ratchet_end0\"];\n    v_FreePage -> Done [label=\"loop ForNext, loop For, else of i < __ratchet_end0, return\"];\n    v_FreePage -> Done [label=\"loop ForNext, loop For, else of i < __ratchet_end0\"];\n}\n";
        /// The state diagram shown in this type's documentation, as
        /// Mermaid `graph TD` source.
        #[allow(clippy::redundant_static_lifetimes)]
        pub const STATE_DIAGRAM_MERMAID: &'static str = "graph TD\n    Idle[\"Idle\"]\n    v_FreePage[\"FreePage: call_io!(self.free_page(i))\"]\n    Done[\"Done\"]\n    Err[\"Err\"]\n    Idle -->|\"loop For, if i < __ratchet_end0\"| v_FreePage\n    Idle -->|\"loop For, else of i < __ratchet_end0, return\"| Done\n    Idle -->|\"loop For, else of i < __ratchet_end0\"| Done\n    v_FreePage --> Err\n    v_FreePage -->|\"loop ForNext, loop For, if i < __ratchet_end0\"| v_FreePage\n    v_FreePage -->|\"loop ForNext, loop For, else of i < __ratchet_end0, return\"| Done\n    v_FreePage -->|\"loop ForNext, loop For, else of i < __ratchet_end0\"| Done\n";
        /// Each suspension point's variant with the bytes its stored
        /// locals (and the awaited completion) take, in source order;
        /// the state itself takes `size_of::<Self>()`: the largest of
        /// these plus the discriminant and padding.
        #[must_use]
        pub const fn size_report() -> [(&'static str, usize); 1usize] {
            [("FreePage", ::core::mem::size_of::<(u64, u64)>())]
        }
    }
};
#[io_state_machine(__ratchet_seen)]
const _: () = ();
