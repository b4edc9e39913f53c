//! difftest finding: RATCHET_DIFFTEST_SEED=0x5eed2026, program 45, reduced (fixed: a `mut` parameter assigned before a suspension and read as `r#a`
//! after it read the caller's argument: `r#a` and `a` were two names (attack round 14, F4)).
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drop_reads,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,moved_param,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,upper_ident,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   under schedule #0 (immediate):
//!     result: direct Ok(Ok(11)), machine Ok(Ok(8))
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
    pub fn p45b_direct(io: &Sched, t: &mut Vec<String>, a: i64) -> Result<i64, E> {
        Ok(3)
    }
    #[allow(non_snake_case)]
    pub fn p45_direct(io: &Sched, t: &mut Vec<String>, mut a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>) -> Result<i64, E> {
        a += p45b_direct(io, t, a)?;
        io.wait_direct(Completion::yield_now())?;
        Ok(r#a)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p45_direct(io, t, 8, "tag", &[-2, 1], vec![-1]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[allow(non_snake_case)]
    #[io_state_machine(state = st)]
    pub fn p45b(st: &mut P45bState, io: &Sched, t: &mut Vec<String>, a: i64) -> Result<IOResult<i64>, E> {
        Ok(3)
    }
    #[allow(non_snake_case)]
    #[io_state_machine(state = st)]
    pub fn p45(st: &mut P45State, io: &Sched, t: &mut Vec<String>, mut a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>) -> Result<IOResult<i64>, E> {
        let mut ss109: P45bState = P45bState::default();
        a += call_io!(p45b(&mut ss109, io, t, a))?;
        yield_io!(Completion::yield_now())?;
        Ok(r#a)
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P45State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p45_direct(io, t, 8, "tag", &[-2, 1], vec![-1]),
            &mut st,
            &|st: &mut P45State, io: &Sched, t: &mut Vec<String>| p45(st, io, t, 8, "tag", &[-2, 1], vec![-1]),
            &|st: &P45State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("runtime_s5eed2026_p45", &program::run_machine(0xcf019dc38057bde9));
}
