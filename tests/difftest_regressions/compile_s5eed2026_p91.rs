//! difftest finding: RATCHET_DIFFTEST_SEED=0x5eed2026, program 91, reduced (fixed: a nested `fn`'s `const R9` made the body's capitalised
//! `let R9` a constant pattern: attack round 15, F1).
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drop_reads,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,moved_param,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,upper_ident,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   the machine does not compile:
//!     line 59: error[E0308]: mismatched types: expected `Result<i32, CompletionError>`, found `i64`
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
    pub fn p91a_direct(io: &Sched, t: &mut Vec<String>, mut a: i64) -> Result<i64, E> {
        Ok(a)
    }
    #[allow(non_snake_case)]
    pub fn p91_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        let x5: i64 = chk(a)?;
        let x6 = ((1i64.rem_euclid(2)) as u32) as i64;
        let mut R9: Result<i32, CompletionError> = io.wait_direct(io.op());
        match p91a_direct(io, t, x5)? {
        0 => {
        }
        1..=4 => {
        }
        -3..=-1 => {
            let mut acc19: Acc = Acc(0);
            acc19 += p91a_direct(io, t, xs.first().copied().unwrap_or(7))?;
            let R9: i64 = chk(a)?;
        }
        v22 if v22 > 10 => { let x23: i64 = v22;
            fn h24(x: i64) -> i64 { const R9: i64 = 24; x.wrapping_add(R9) }
        }
        _ => {
        }
        }
        Ok(x6.wrapping_mul(5))
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p91_direct(io, t, 8, "k", &[]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[allow(non_snake_case)]
    #[io_state_machine(state = st)]
    pub fn p91a(st: &mut P91aState, io: &Sched, t: &mut Vec<String>, mut a: i64) -> Result<IOResult<i64>, E> {
        Ok(a)
    }
    #[allow(non_snake_case)]
    #[io_state_machine(state = st)]
    pub fn p91(st: &mut P91State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        let x5: i64 = chk(a)?;
        let x6 = ((1i64.rem_euclid(2)) as u32) as i64;
        let mut R9: Result<i32, CompletionError> = yield_io!(io.op());
        let mut ss13: P91aState = P91aState::default();
        match call_io!(p91a(&mut ss13, io, t, x5))? {
        0 => {
        }
        1..=4 => {
        }
        -3..=-1 => {
            let mut ss18: P91aState = P91aState::default();
            let mut acc19: Acc = Acc(0);
            acc19 += call_io!(p91a(&mut ss18, io, t, xs.first().copied().unwrap_or(7)))?;
            let R9: i64 = chk(a)?;
        }
        v22 if v22 > 10 => { let x23: i64 = v22;
            fn h24(x: i64) -> i64 { const R9: i64 = 24; x.wrapping_add(R9) }
        }
        _ => {
        }
        }
        Ok(x6.wrapping_mul(5))
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P91State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p91_direct(io, t, 8, "k", &[]),
            &mut st,
            &|st: &mut P91State, io: &Sched, t: &mut Vec<String>| p91(st, io, t, 8, "k", &[]),
            &|st: &P91State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("compile_s5eed2026_p91", &program::run_machine(0xde262296eea11788));
}
