//! difftest finding: RATCHET_DIFFTEST_SEED=0x5eed2026, program 31, reduced (found on the branch that held an only-overwritten binding for its Drop, before that change kept its overwrites among its uses: the outer `r#dv1`, read by reference in one arm, lost its carry to its scope end).
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,moved_param,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   under schedule #0 (immediate):
//!     drop ~d2 (#0) after 0 trace entries in the machine, earlier than the direct twin's (1), but not at a suspension that really suspends
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
    pub fn p31_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>) -> Result<i64, E> {
        let r#dv1: Dg = dg(2);
        let mut i3: i64 = 0;
        'l4: while i3 < 1 { i3 += 1;
            let mut r#dv1: Result<i32, CompletionError> = io.wait_direct(Completion::yield_now());
            r#dv1 = io.wait_direct(Completion::yield_now());
        }
        match a.rem_euclid(7) - 1 {
        0 => {
        }
        1..=4 => {
        }
        -3..=-1 => {
            tr(t, 138, &r#dv1);
        }
        _ => {
            io.wait_direct(io.group(0))?;
        }
        }
        tr(t, 165, &(tag, xs));
        Ok(i3)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p31_direct(io, t, 11, "k", &[-2], vec![2]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[io_state_machine(state = st)]
    pub fn p31(st: &mut P31State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>) -> Result<IOResult<i64>, E> {
        let r#dv1: Dg = dg(2);
        let mut i3: i64 = 0;
        'l4: while i3 < 1 { i3 += 1;
            let mut r#dv1: Result<i32, CompletionError> = yield_io!(Completion::yield_now());
            r#dv1 = yield_io!(Completion::yield_now());
        }
        match a.rem_euclid(7) - 1 {
        0 => {
        }
        1..=4 => {
        }
        -3..=-1 => {
            tr(t, 138, &r#dv1);
        }
        _ => {
            yield_io!(io.group(0))?;
        }
        }
        tr(t, 165, &(tag, xs));
        Ok(i3)
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P31State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p31_direct(io, t, 11, "k", &[-2], vec![2]),
            &mut st,
            &|st: &mut P31State, io: &Sched, t: &mut Vec<String>| p31(st, io, t, 11, "k", &[-2], vec![2]),
            &|st: &P31State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("runtime_s5eed2026_p31", &program::run_machine(0xd7c31bc5b83a752d));
}
