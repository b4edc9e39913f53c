//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 9563, reduced.
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,mut_param,range_bounds,raw_ident,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   the machine does not compile:
//!     line 35: error[E0381]: used binding `x58` is possibly-uninitialized: `x58` used here but it is possibly-uninitialized
//! `let x58; x58 = m41!(8);` in a loop taken apart: the loop catching the
//! macro's jumps hid from rustc that the assignment gives `x58` its value.
//! Fixed: the first value of a `let x;` is not wrapped.
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
    pub fn p9563_direct(io: &Sched, t: &mut Vec<String>, mut a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        #[allow(unused_macros)] macro_rules! m41 { ($e:expr) => { i64::wrapping_sub($e, 41) }; }
        let mut c49: i64 = 0;
        'l50: loop { c49 += 1; if c49 > 0 { break 'l50; }
            io.wait_direct(Completion::yield_now())?;
            let x58;
            x58 = m41!(8);
            tr(t, 59, &x58);
        }
        Ok(a)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p9563_direct(io, t, 12, "", &[-2]))
    }
    #[io_state_machine(state = st)]
    pub fn p9563(st: &mut P9563State, io: &Sched, t: &mut Vec<String>, mut a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        #[allow(unused_macros)] macro_rules! m41 { ($e:expr) => { i64::wrapping_sub($e, 41) }; }
        let mut c49: i64 = 0;
        'l50: loop { c49 += 1; if c49 > 0 { break 'l50; }
            yield_io!(Completion::yield_now())?;
            let x58;
            x58 = m41!(8);
            tr(t, 59, &x58);
        }
        Ok(a)
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P9563State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p9563_direct(io, t, 12, "", &[-2]),
            &mut st,
            &|st: &mut P9563State, io: &Sched, t: &mut Vec<String>| p9563(st, io, t, 12, "", &[-2]),
            &|st: &P9563State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("compile_s13c0de_p9563", &program::run_machine(0x6c63439b2a3d8253));
}
