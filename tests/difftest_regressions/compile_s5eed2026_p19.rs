//! difftest finding: RATCHET_DIFFTEST_SEED=0x5eed2026, program 19, reduced (fixed: a local spelled `r#x` and read as `x` (or the reverse) across a
//! suspension point was not stored (attack round 14, F4)).
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drop_reads,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,moved_param,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,upper_ident,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   the machine does not compile:
//!     line 44: error[E0425]: cannot find value `x33` in this scope
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
    pub fn p19_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>, mv: Vec<i64>) -> Result<i64, E> {
        let mut c24: i64 = 0;
        let x30: i64 = 'l25: loop { c24 += 1; if c24 > 3 { break 'l25 c24; }
        };
        let mut w31: Vec<i64> = vec![(pv.len() as i64), 15];
        'l34: while let Some(v32) = w31.pop() { let x33: i64 = v32;
            let mut g35 = CompletionGroup::new(|_| {}); g35.add(&io.group(2)); io.wait_direct(g35.build())?;
            let mut w37: Vec<i64> = vec![4, a, r#x33.wrapping_mul(5)];
        }
        tp(t, format!("s75:{}", x30));
        Ok(19)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p19_direct(io, t, 7, "k", &[-2, 1], vec![0], vec![3, 6]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[allow(non_snake_case)]
    #[io_state_machine(state = st)]
    pub fn p19(st: &mut P19State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>, mv: Vec<i64>) -> Result<IOResult<i64>, E> {
        let mut c24: i64 = 0;
        let x30: i64 = 'l25: loop { c24 += 1; if c24 > 3 { break 'l25 c24; }
        };
        let mut w31: Vec<i64> = vec![(pv.len() as i64), 15];
        'l34: while let Some(v32) = w31.pop() { let x33: i64 = v32;
            let mut g35 = CompletionGroup::new(|_| {}); g35.add(&io.group(2)); yield_io!(g35.build())?;
            let mut w37: Vec<i64> = vec![4, a, r#x33.wrapping_mul(5)];
        }
        tp(t, format!("s75:{}", x30));
        Ok(19)
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P19State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p19_direct(io, t, 7, "k", &[-2, 1], vec![0], vec![3, 6]),
            &mut st,
            &|st: &mut P19State, io: &Sched, t: &mut Vec<String>| p19(st, io, t, 7, "k", &[-2, 1], vec![0], vec![3, 6]),
            &|st: &P19State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("compile_s5eed2026_p19", &program::run_machine(0x6965230d552fd9ad));
}
