//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 4847, reduced.
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,moved_param,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   (fixed: a value read by reference in the value of a `let` typed as a plain number is still carried to the end of its scope)
//!     trace differs at entry 3 (every completion ready: drops included): direct Some("~d4"), machine Some("~d1")
//!     direct trace:  ["s15:Dg(1)", "s15:Dg(1)", "s15:Dg(1)", "~d4", "s27:12", "~d1"]
//!     machine trace: ["s15:Dg(1)", "s15:Dg(1)", "s15:Dg(1)", "~d1", "~d4", "s27:12"]
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
    pub fn p4847_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        let dv2: Dg = dg(1);
        {
            let dv5: Dg = dg(4);
            io.wait_direct(io.op())?;
            let mut c11: i64 = 0;
            let x16: i64 = 'l12: loop { c11 += 1; if c11 > 3 { break 'l12 c11; }
                tr(t, 15, &dv2);
            };
        }
        tr(t, 27, &a);
        Ok((-2i64).wrapping_add(-3).rem_euclid(2))
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p4847_direct(io, t, 12, "k", &[-2]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[io_state_machine(state = st)]
    pub fn p4847(st: &mut P4847State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        let dv2: Dg = dg(1);
        {
            let dv5: Dg = dg(4);
            yield_io!(io.op())?;
            let mut c11: i64 = 0;
            let x16: i64 = 'l12: loop { c11 += 1; if c11 > 3 { break 'l12 c11; }
                tr(t, 15, &dv2);
            };
        }
        tr(t, 27, &a);
        Ok((-2i64).wrapping_add(-3).rem_euclid(2))
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P4847State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p4847_direct(io, t, 12, "k", &[-2]),
            &mut st,
            &|st: &mut P4847State, io: &Sched, t: &mut Vec<String>| p4847(st, io, t, 12, "k", &[-2]),
            &|st: &P4847State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("runtime_s13c0de_p4847", &program::run_machine(0xe6c7fae1a924b823));
}
