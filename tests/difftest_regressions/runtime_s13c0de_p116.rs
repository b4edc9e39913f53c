//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 116, reduced (fixed: at 3e61fc5
//! the dispatch made no fast-path copy wherever a held binding shared its name with
//! another, and a held `dv4` then dropped early in ready mode; only a binding of that
//! name in scope where the copy goes stops it since).
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drop_reads,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,moved_param,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   under schedule #0 (immediate):
//!     drop ~d3 (#0) after 1 trace entries in the machine, earlier than the direct twin's (2), but not at a suspension that really suspends (nor, for a value read by value, after a resume)
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
    pub fn p116gk_direct<S: Src>(io: &Sched, t: &mut Vec<String>, i: i64, s: &S) -> Result<i64, E> {
        let k: S::Item = s.get(i);
        io.wait_direct(io.op())?;
        Ok(k.into())
    }
    pub fn p116_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>) -> Result<i64, E> {
        let dv4: Dg = dg(3);
        tr(t, 5, &dv4);
        io.wait_direct(io.op())?;
        p116gk_direct(io, t, 17, &SrcI)?;
        tr(t, 32, &a);
        let dv4: Pt = Pt { x: xs.first().copied().unwrap_or(7), y: a };
        let Ok(_) = io.wait_direct(Completion::yield_now()) else {
            gerr!(13);
        };
        Ok(4i64.wrapping_add(a))
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p116_direct(io, t, 10, "", &[], vec![8]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[io_state_machine(state = st)]
    pub fn p116gk<S: Src>(st: &mut P116gkState<S>, io: &Sched, t: &mut Vec<String>, i: i64, s: &S) -> Result<IOResult<i64>, E> {
        let k: S::Item = s.get(i);
        yield_io!(io.op())?;
        Ok(k.into())
    }
    #[io_state_machine(state = st)]
    pub fn p116(st: &mut P116State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>) -> Result<IOResult<i64>, E> {
        let dv4: Dg = dg(3);
        tr(t, 5, &dv4);
        yield_io!(io.op())?;
        let mut ss12: P116gkState<SrcI> = P116gkState::default();
        call_io!(p116gk(&mut ss12, io, t, 17, &SrcI))?;
        tr(t, 32, &a);
        let dv4: Pt = Pt { x: xs.first().copied().unwrap_or(7), y: a };
        let Ok(_) = yield_io!(Completion::yield_now()) else {
            gerr!(13);
        };
        Ok(4i64.wrapping_add(a))
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P116State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p116_direct(io, t, 10, "", &[], vec![8]),
            &mut st,
            &|st: &mut P116State, io: &Sched, t: &mut Vec<String>| p116(st, io, t, 10, "", &[], vec![8]),
            &|st: &P116State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("runtime_s13c0de_p116", &program::run_machine(0xcf38c58f266fe4d0));
}
