//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 9702, reduced.
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,mut_param,range_bounds,raw_ident,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   the machine does not compile:
//!     line 51: error[E0381]: used binding `x167` is possibly-uninitialized: `x167` used here but it is possibly-uninitialized
//! The same as program 9563, after a suspension inside a `while`.
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
    pub fn p9702nx_direct(io: &Sched, t: &mut Vec<String>, i: i64, n: i64) -> Result<Option<i64>, E> {
        Ok(Some(i.wrapping_mul(3)))
    }
    pub fn p9702_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        let Some(v133) = p9702nx_direct(io, t, 13i64.wrapping_add(-3), 2)? else {
            return Err(E::User(81));
        };
        let x136: i64 = v133;
        #[allow(unused_macros)] macro_rules! m161 { ($e:expr) => { i64::wrapping_sub($e, 161) }; }
        let mut i164: i64 = 0;
        'l165: while i164 < 2 { i164 += 1;
            let x167;
            io.wait_direct(Completion::yield_now())?;
            x167 = m161!(-1);
            tr(t, 168, &x167);
        }
        Ok(15)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p9702_direct(io, t, 0, "tag", &[-2]))
    }
    #[io_state_machine(state = st)]
    pub fn p9702nx(st: &mut P9702nxState, io: &Sched, t: &mut Vec<String>, i: i64, n: i64) -> Result<IOResult<Option<i64>>, E> {
        Ok(Some(i.wrapping_mul(3)))
    }
    #[io_state_machine(state = st)]
    pub fn p9702(st: &mut P9702State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        let mut ss134: P9702nxState = P9702nxState::default();
        let Some(v133) = call_io!(p9702nx(&mut ss134, io, t, 13i64.wrapping_add(-3), 2))? else {
            return Err(E::User(81));
        };
        let x136: i64 = v133;
        #[allow(unused_macros)] macro_rules! m161 { ($e:expr) => { i64::wrapping_sub($e, 161) }; }
        let mut i164: i64 = 0;
        'l165: while i164 < 2 { i164 += 1;
            let x167;
            yield_io!(Completion::yield_now())?;
            x167 = m161!(-1);
            tr(t, 168, &x167);
        }
        Ok(15)
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P9702State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p9702_direct(io, t, 0, "tag", &[-2]),
            &mut st,
            &|st: &mut P9702State, io: &Sched, t: &mut Vec<String>| p9702(st, io, t, 0, "tag", &[-2]),
            &|st: &P9702State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("compile_s13c0de_p9702", &program::run_machine(0x83d6c0766b2b1604));
}
