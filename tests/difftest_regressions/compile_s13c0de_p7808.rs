//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 7808, reduced.
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,mut_param,range_bounds,raw_ident,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   the machine does not compile:
//!     line 54: error[E0382]: use of moved value: value moved here, in previous iteration of loop
//! A `return Ok(m13!(a))` in a loop taken apart: the loop that catches the
//! jumps a foreign macro may write (item 9) was put around a statement that
//! returns, and rustc saw the machine's own values moved in a loop. Fixed:
//! statements holding a `return` are not wrapped, and a `macro_rules!` of
//! the body whose definition writes no `break`/`continue` is not foreign.
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
    pub fn p7808a_direct(io: &Sched, t: &mut Vec<String>, a: i64) -> Result<i64, E> {
        let Some(v1) = p7808nx_direct(io, t, 2, 0)? else {
            return Ok(15);
        };
        let x4: i64 = v1;
        Ok(x4)
    }
    pub fn p7808nx_direct(io: &Sched, t: &mut Vec<String>, i: i64, n: i64) -> Result<Option<i64>, E> {
        Ok(Some(i.wrapping_mul(3)))
    }
    pub fn p7808_direct(io: &Sched, t: &mut Vec<String>, mut a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        let mut i8: i64 = 0;
        #[allow(unused_macros)] macro_rules! m13 { ($e:expr) => { i64::wrapping_sub($e, 13) }; }
        let mut x16: i64 = p7808a_direct(io, t, m13!(a))?;
        let Some(v18) = p7808nx_direct(io, t, a, 2)? else {
            return Ok(x16.wrapping_add(i8).rem_euclid(7));
        };
        let x22: i64 = v18;
        let mut i53: i64 = 0;
        'l54: while i53 < 2 { i53 += 1;
            let x55: i64 = p7808a_direct(io, t, a)?;
            return Ok(m13!(a));
        }
        Ok(a)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p7808_direct(io, t, 6, "", &[]))
    }
    #[io_state_machine(state = st)]
    pub fn p7808a(st: &mut P7808aState, io: &Sched, t: &mut Vec<String>, a: i64) -> Result<IOResult<i64>, E> {
        let mut ss2: P7808nxState = P7808nxState::default();
        let Some(v1) = call_io!(p7808nx(&mut ss2, io, t, 2, 0))? else {
            return Ok(15);
        };
        let x4: i64 = v1;
        Ok(x4)
    }
    #[io_state_machine(state = st)]
    pub fn p7808nx(st: &mut P7808nxState, io: &Sched, t: &mut Vec<String>, i: i64, n: i64) -> Result<IOResult<Option<i64>>, E> {
        Ok(Some(i.wrapping_mul(3)))
    }
    #[io_state_machine(state = st)]
    pub fn p7808(st: &mut P7808State, io: &Sched, t: &mut Vec<String>, mut a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        let mut i8: i64 = 0;
        let mut ss12: P7808nxState = P7808nxState::default();
        #[allow(unused_macros)] macro_rules! m13 { ($e:expr) => { i64::wrapping_sub($e, 13) }; }
        let mut ss15: P7808aState = P7808aState::default();
        let mut x16: i64 = call_io!(p7808a(&mut ss15, io, t, m13!(a)))?;
        let Some(v18) = call_io!(p7808nx(&mut ss12, io, t, a, 2))? else {
            return Ok(x16.wrapping_add(i8).rem_euclid(7));
        };
        let x22: i64 = v18;
        let mut i53: i64 = 0;
        'l54: while i53 < 2 { i53 += 1;
            let x55: i64 = call_io!(p7808a(&mut ss15, io, t, a))?;
            return Ok(m13!(a));
        }
        Ok(a)
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P7808State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p7808_direct(io, t, 6, "", &[]),
            &mut st,
            &|st: &mut P7808State, io: &Sched, t: &mut Vec<String>| p7808(st, io, t, 6, "", &[]),
            &|st: &P7808State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("compile_s13c0de_p7808", &program::run_machine(0xfdb040400cb7beba));
}
