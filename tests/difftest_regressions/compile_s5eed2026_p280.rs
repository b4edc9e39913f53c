//! difftest finding: RATCHET_DIFFTEST_SEED=0x5eed2026, program 280, reduced.
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,moved_param,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   the machine did not compile (fixed: a held binding carried by name from a block inlined where a binding of its name hides it):
//!     line 106: error[E0308]: mismatched types: expected `Pt`, found `i64`
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
    pub fn p280a_direct(io: &Sched, t: &mut Vec<String>, a: i64) -> Result<i64, E> {
        let mut c1: i64 = 0;
        let x11: i64 = 'l2: loop { c1 += 1; if c1 > 2 { break 'l2 c1; }
            tr(t, 3, &(20));
            let x4;
            io.wait_direct(io.op())?;
            x4 = a.wrapping_add(18);
            tr(t, 5, &x4);
            tr(t, 8, &c1);
            let x9;
            io.wait_direct(io.op())?;
            x9 = c1;
            tr(t, 10, &x9);
        };
        tr(t, 12, &c1);
        tp(t, format!("s13:{c1}"));
        let mut w14: Vec<i64> = vec![a, 5, x11];
        let r21: Result<i32, CompletionError> = io.wait_direct(io.op());
        tr(t, 22, &(4i64.rem_euclid(2)));
        let mut c23: i64 = 0;
        Ok(a)
    }
    pub fn p280_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>) -> Result<i64, E> {
        if true {
            let mut pt37: Pt = Pt { x: 17, y: a };
            if ((tag.len() as i64)) < -2 {
                let x38;
                io.wait_direct(io.group(2))?;
                x38 = a.rem_euclid(2);
                tr(t, 39, &x38);
                #[cfg(any())] let x41: i64 = a.wrapping_add(7);
                io.wait_direct(io.group(2))?;
                tr(t, 42, &(pv.last().copied().unwrap_or(-1)));
                #[cfg(any())] tr(t, 43, &x41);
                {
                    tr(t, 44, &pt37);
                }
            } else {
                io.wait_direct(Completion::yield_now())?;
                tr(t, 45, &(tag, xs));
                let mut i46: i64 = 0;
                'l47: while i46 < 0 { i46 += 1;
                    tr(t, 48, &pt37);
                }
                let pt37: i64 = chk((tag.len() as i64))?;
            }
            io.wait_direct(io.op())?;
            tr(t, 49, &pv);
        }
        let mut c50: i64 = 0;
        tp(t, format!("s56:{pv:?}"));
        io.wait_direct(io.op())?;
        let mut x58: i64 = p280a_direct(io, t, 20)?;
        tp(t, format!("s59:{tag}:{xs:?}"));
        tp(t, format!("s60:{tag}:{xs:?}"));
        let mut c61: i64 = 0;
        Ok(c50)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p280_direct(io, t, 4, "k", &[-2, 1, 4], vec![6]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[io_state_machine(state = st)]
    pub fn p280a(st: &mut P280aState, io: &Sched, t: &mut Vec<String>, a: i64) -> Result<IOResult<i64>, E> {
        let mut c1: i64 = 0;
        let x11: i64 = 'l2: loop { c1 += 1; if c1 > 2 { break 'l2 c1; }
            tr(t, 3, &(20));
            let x4;
            yield_io!(io.op())?;
            x4 = a.wrapping_add(18);
            tr(t, 5, &x4);
            tr(t, 8, &c1);
            let x9;
            yield_io!(io.op())?;
            x9 = c1;
            tr(t, 10, &x9);
        };
        tr(t, 12, &c1);
        tp(t, format!("s13:{c1}"));
        let mut w14: Vec<i64> = vec![a, 5, x11];
        let r21: Result<i32, CompletionError> = yield_io!(io.op());
        tr(t, 22, &(4i64.rem_euclid(2)));
        let mut c23: i64 = 0;
        Ok(a)
    }
    #[io_state_machine(state = st)]
    pub fn p280(st: &mut P280State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>) -> Result<IOResult<i64>, E> {
        if true {
            let mut pt37: Pt = Pt { x: 17, y: a };
            if ((tag.len() as i64)) < -2 {
                let x38;
                yield_io!(io.group(2))?;
                x38 = a.rem_euclid(2);
                tr(t, 39, &x38);
                #[cfg(any())] let x41: i64 = a.wrapping_add(7);
                yield_io!(io.group(2))?;
                tr(t, 42, &(pv.last().copied().unwrap_or(-1)));
                #[cfg(any())] tr(t, 43, &x41);
                {
                    tr(t, 44, &pt37);
                }
            } else {
                yield_io!(Completion::yield_now())?;
                tr(t, 45, &(tag, xs));
                let mut i46: i64 = 0;
                'l47: while i46 < 0 { i46 += 1;
                    tr(t, 48, &pt37);
                }
                let pt37: i64 = chk((tag.len() as i64))?;
            }
            yield_io!(io.op())?;
            tr(t, 49, &pv);
        }
        let mut c50: i64 = 0;
        tp(t, format!("s56:{pv:?}"));
        yield_io!(io.op())?;
        let mut ss57: P280aState = P280aState::default();
        let mut x58: i64 = call_io!(p280a(&mut ss57, io, t, 20))?;
        tp(t, format!("s59:{tag}:{xs:?}"));
        tp(t, format!("s60:{tag}:{xs:?}"));
        let mut c61: i64 = 0;
        Ok(c50)
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P280State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p280_direct(io, t, 4, "k", &[-2, 1, 4], vec![6]),
            &mut st,
            &|st: &mut P280State, io: &Sched, t: &mut Vec<String>| p280(st, io, t, 4, "k", &[-2, 1, 4], vec![6]),
            &|st: &P280State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("compile_s5eed2026_p280", &program::run_machine(0x825a6e9b90f8b1f6));
}
