//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 7916, reduced (fixed: a
//! fast-path copy carried a held `acc49` by name under an inner `let acc49`).
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drop_reads,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,moved_param,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   the machine does not compile:
//!     line 65: error[E0308]: mismatched types: expected `Acc`, found `i64`
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
    pub fn p7916a_direct(io: &Sched, t: &mut Vec<String>, a: i64) -> Result<i64, E> {
        p7916gk_direct(io, t, a, &SrcI)
    }
    pub fn p7916gk_direct<S: Src>(io: &Sched, t: &mut Vec<String>, i: i64, s: &S) -> Result<i64, E> {
        let k: S::Item = s.get(i);
        io.wait_direct(io.op())?;
        Ok(k.into())
    }
    pub fn p7916_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        let mut acc18: Acc = Acc(0);
        acc18 += p7916a_direct(io, t, 0i64.rem_euclid(6))?;
        gerr!(32);
        let acc49: Acc = Acc(a);
        match io.wait_direct(Completion::yield_now()) {
        Ok(n51) => { tp(t, format!("s52:ok{n51}"));
        } Err(e54) => { tp(t, format!("s55:{e54:?}"));
            let mut c56: i64 = 0;
            let acc49: i64 = 'l57: loop { c56 += 1; if c56 > 3 { break 'l57 c56; }
                tp(t, format!("s58:{acc49:?}"));
                break a.wrapping_add(14);
            };
            io.wait_direct(Completion::yield_now())?;
        }
        }
        Ok(a.rem_euclid(7))
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p7916_direct(io, t, 5, "k", &[]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[io_state_machine(state = st)]
    pub fn p7916a(st: &mut P7916aState, io: &Sched, t: &mut Vec<String>, a: i64) -> Result<IOResult<i64>, E> {
        let mut ss6: P7916gkState<SrcI> = P7916gkState::default();
        call_io!(p7916gk(&mut ss6, io, t, a, &SrcI))
    }
    #[io_state_machine(state = st)]
    pub fn p7916gk<S: Src>(st: &mut P7916gkState<S>, io: &Sched, t: &mut Vec<String>, i: i64, s: &S) -> Result<IOResult<i64>, E> {
        let k: S::Item = s.get(i);
        yield_io!(io.op())?;
        Ok(k.into())
    }
    #[io_state_machine(state = st)]
    pub fn p7916(st: &mut P7916State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        let mut ss17: P7916aState = P7916aState::default();
        let mut acc18: Acc = Acc(0);
        acc18 += call_io!(p7916a(&mut ss17, io, t, 0i64.rem_euclid(6)))?;
        gerr!(32);
        let acc49: Acc = Acc(a);
        match yield_io!(Completion::yield_now()) {
        Ok(n51) => { tp(t, format!("s52:ok{n51}"));
        } Err(e54) => { tp(t, format!("s55:{e54:?}"));
            let mut c56: i64 = 0;
            let acc49: i64 = 'l57: loop { c56 += 1; if c56 > 3 { break 'l57 c56; }
                tp(t, format!("s58:{acc49:?}"));
                break a.wrapping_add(14);
            };
            yield_io!(Completion::yield_now())?;
        }
        }
        Ok(a.rem_euclid(7))
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P7916State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p7916_direct(io, t, 5, "k", &[]),
            &mut st,
            &|st: &mut P7916State, io: &Sched, t: &mut Vec<String>| p7916(st, io, t, 5, "k", &[]),
            &|st: &P7916State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("compile_s13c0de_p7916", &program::run_machine(0x4b9da089fe39d231));
}
