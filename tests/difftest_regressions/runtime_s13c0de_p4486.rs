//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 4486, reduced (fixed: a guard held past a call arm was dropped at a
//! transition with every completion ready, once pruning an unused held field changed
//! where the fast path copied code).
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drop_reads,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,moved_param,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,upper_ident,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   under schedule #0 (immediate):
//!     trace differs at entry 1 (every completion ready: drops included): direct Some("o42"), machine Some("~d1")
//!     direct trace:  ["s3:Dg(1)", "o42", "~d1"]
//!     machine trace: ["s3:Dg(1)", "~d1", "o42"]
//! Run by tests/difftest_regressions.rs.
#![deny(warnings)]
#![allow(unused_variables, unused_assignments, unused_mut, unused_labels, unreachable_code, unused_parens, dead_code)]

#[path = "../difftest/support.rs"]
mod support;

mod program {
    #[allow(unused_imports)]
    use crate::support::*;
    #[allow(unused_imports)]
    use ratchet::{Completion, CompletionError, CompletionGroup, IOResult};
    #[allow(unused_imports)]
    use ratchet::{call_io, io_state_machine, yield_io};
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[allow(non_snake_case)]
    pub fn p4486gk_direct<S: Src>(io: &Sched, t: &mut Vec<String>, i: i64, s: &S) -> Result<i64, E> {
        let k: S::Item = s.get(i);
        io.wait_direct(io.op())?;
        Ok(k.into())
    }
    #[allow(non_snake_case)]
    pub fn p4486_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        let dv2: Dg = dg(1);
        tr(t, 3, &dv2);
        let mut dv2: i64 = p4486gk_direct(io, t, a, &SrcI)?;
        let mut g36 = CompletionGroup::new(|_| {}); g36.add(&io.op()); io.wait_direct(g36.build())?;
        let dv2: Result<i32, CompletionError> = io.wait_direct(io.op());
        let mut r40: Result<i32, CompletionError> = io.wait_direct(io.op());
        { static O42: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0); once_site(t, 42, module_path!(), &O42); }
        Ok(a)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p4486_direct(io, t, 5, "", &[-2, 1]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[allow(non_snake_case)]
    #[io_state_machine(state = st)]
    pub fn p4486gk<S: Src>(st: &mut P4486gkState<S>, io: &Sched, t: &mut Vec<String>, i: i64, s: &S) -> Result<IOResult<i64>, E> {
        let k: S::Item = s.get(i);
        yield_io!(io.op())?;
        Ok(k.into())
    }
    #[allow(non_snake_case)]
    #[io_state_machine(state = st)]
    pub fn p4486(st: &mut P4486State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        let dv2: Dg = dg(1);
        tr(t, 3, &dv2);
        let mut ss27: P4486gkState<SrcI> = P4486gkState::default();
        let mut dv2: i64 = call_io!(p4486gk(&mut ss27, io, t, a, &SrcI))?;
        let mut g36 = CompletionGroup::new(|_| {}); g36.add(&io.op()); yield_io!(g36.build())?;
        let dv2: Result<i32, CompletionError> = yield_io!(io.op());
        let mut r40: Result<i32, CompletionError> = yield_io!(io.op());
        { static O42: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0); once_site(t, 42, module_path!(), &O42); }
        Ok(a)
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P4486State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p4486_direct(io, t, 5, "", &[-2, 1]),
            &mut st,
            &|st: &mut P4486State, io: &Sched, t: &mut Vec<String>| p4486(st, io, t, 5, "", &[-2, 1]),
            &|st: &P4486State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("runtime_s13c0de_p4486", &program::run_machine(0x2876182a0c85de6a));
}
