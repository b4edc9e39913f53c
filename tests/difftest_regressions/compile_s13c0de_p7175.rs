//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 7175, reduced.
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,mut_param,range_bounds,raw_ident,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   the machine does not compile:
//!     line 43: error[E0308]: mismatched types: expected `Result<IOResult<i64>, E>`, found `()`
//! The same as program 3537, in a helper machine.
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
    pub fn p7175a_direct(io: &Sched, t: &mut Vec<String>, mut a: i64) -> Result<i64, E> {
        'l20: for i19 in (bnd(t, 21, -1) as i64)..(bnd(t, 22, 0) as i64) {
            match a.rem_euclid(7) - 1 {
            0 => {
                return Ok(-1);
                gbrk!();
            }
            1..=4 => {
            }
            -3..=-1 => {
            }
            _ => {
            }
            }
            let mut r32: Result<i32, CompletionError> = io.wait_direct(Completion::yield_now());
        }
        Ok(a.wrapping_mul(2))
    }
    pub fn p7175gk_direct<S: Src>(io: &Sched, t: &mut Vec<String>, i: i64, s: &S) -> Result<i64, E> {
        let k: S::Item = s.get(i);
        io.wait_direct(io.op())?;
        Ok(k.into())
    }
    pub fn p7175_direct(io: &Sched, t: &mut Vec<String>, mut a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        p7175gk_direct(io, t, a, &SrcI)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p7175_direct(io, t, 1, "tag", &[-2]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[io_state_machine(state = st)]
    pub fn p7175a(st: &mut P7175aState, io: &Sched, t: &mut Vec<String>, mut a: i64) -> Result<IOResult<i64>, E> {
        'l20: for i19 in (bnd(t, 21, -1) as i64)..(bnd(t, 22, 0) as i64) {
            match a.rem_euclid(7) - 1 {
            0 => {
                return Ok(-1);
                gbrk!();
            }
            1..=4 => {
            }
            -3..=-1 => {
            }
            _ => {
            }
            }
            let mut r32: Result<i32, CompletionError> = yield_io!(Completion::yield_now());
        }
        Ok(a.wrapping_mul(2))
    }
    #[io_state_machine(state = st)]
    pub fn p7175gk<S: Src>(st: &mut P7175gkState<S>, io: &Sched, t: &mut Vec<String>, i: i64, s: &S) -> Result<IOResult<i64>, E> {
        let k: S::Item = s.get(i);
        yield_io!(io.op())?;
        Ok(k.into())
    }
    #[io_state_machine(state = st)]
    pub fn p7175(st: &mut P7175State, io: &Sched, t: &mut Vec<String>, mut a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        let mut ss47: P7175gkState<SrcI> = P7175gkState::default();
        call_io!(p7175gk(&mut ss47, io, t, a, &SrcI))
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P7175State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p7175_direct(io, t, 1, "tag", &[-2]),
            &mut st,
            &|st: &mut P7175State, io: &Sched, t: &mut Vec<String>| p7175(st, io, t, 1, "tag", &[-2]),
            &|st: &P7175State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("compile_s13c0de_p7175", &program::run_machine(0xf545fe176bf8b3e0));
}
