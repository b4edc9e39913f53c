//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 4971, reduced (fixed: a guard carried into a call arm under its hidden name,
//! dead in a `let`-`else`'s `else`, was dropped at a ready `yield_io!` there).
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drop_reads,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,moved_param,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,upper_ident,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   under schedule #7 (random(now=75%, seed=0x71f25e7d1f4adf41) spurious=30%):
//!     drop ~d41 (#0) after 0 trace entries in the machine, earlier than the direct twin's (1), but not at a suspension that really suspends (nor, for a value read by value, after a resume)
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
    pub fn p4971nx_direct(io: &Sched, t: &mut Vec<String>, i: i64, n: i64) -> Result<Option<i64>, E> {
        if i >= n { return Ok(None); }
        Ok(Some(i.wrapping_mul(3)))
    }
    #[allow(non_snake_case)]
    pub fn p4971_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        let dv42: Dg = dg(41);
        let mut w58: Vec<i64> = vec![a, 0i64.wrapping_add(a), a];
        'l61: while let Some(v59) = w58.pop() { let x60: i64 = v59;
            let mut c62: i64 = 0;
            let dv42: i64 = 'l63: loop { c62 += 1; if c62 > 1 { break 'l63 c62; }
                io.wait_direct(io.op())?;
            };
            let Some(v70) = p4971nx_direct(io, t, 8i64.wrapping_mul(3), 0)? else {
                io.wait_direct(io.op())?;
                tp(t, format!("s74:{x60}"));
                return Err(E::User(1));
            };
        }
        tr(t, 79, &dv42);
        Ok(a)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p4971_direct(io, t, 1, "", &[-2]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[allow(non_snake_case)]
    #[io_state_machine(state = st)]
    pub fn p4971nx(st: &mut P4971nxState, io: &Sched, t: &mut Vec<String>, i: i64, n: i64) -> Result<IOResult<Option<i64>>, E> {
        if i >= n { return Ok(None); }
        Ok(Some(i.wrapping_mul(3)))
    }
    #[allow(non_snake_case)]
    #[io_state_machine(state = st)]
    pub fn p4971(st: &mut P4971State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        let dv42: Dg = dg(41);
        let mut w58: Vec<i64> = vec![a, 0i64.wrapping_add(a), a];
        'l61: while let Some(v59) = w58.pop() { let x60: i64 = v59;
            let mut c62: i64 = 0;
            let dv42: i64 = 'l63: loop { c62 += 1; if c62 > 1 { break 'l63 c62; }
                yield_io!(io.op())?;
            };
            let mut ss71: P4971nxState = P4971nxState::default();
            let Some(v70) = call_io!(p4971nx(&mut ss71, io, t, 8i64.wrapping_mul(3), 0))? else {
                yield_io!(io.op())?;
                tp(t, format!("s74:{x60}"));
                return Err(E::User(1));
            };
        }
        tr(t, 79, &dv42);
        Ok(a)
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P4971State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p4971_direct(io, t, 1, "", &[-2]),
            &mut st,
            &|st: &mut P4971State, io: &Sched, t: &mut Vec<String>| p4971(st, io, t, 1, "", &[-2]),
            &|st: &P4971State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("runtime_s13c0de_p4971", &program::run_machine(0xa82cf548589c849d));
}
