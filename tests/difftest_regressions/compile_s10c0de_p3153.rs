//! difftest finding: RATCHET_DIFFTEST_SEED=0x10c0de, program 3153, reduced.
//! Generator features: assign_susp,block,call,early_exit,for_loop,group,group_local,if_let_susp,if_susp,labeled,let_else,let_else_susp,let_susp,loop,loop_value,match,match_susp,return_susp,shadow,shadow_nested,string,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   the machine does not compile:
//!     line 26: error: `c2` is shadowed inside a statement that also reads it and holds a `break`, `continue` or `return` out of a loop with a suspension point, while `c2` is still needed after the jump; rename one of them
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
    pub fn p3153a_direct(io: &Sched, t: &mut Vec<String>, a: i64) -> Result<i64, E> {
        let mut c2: i64 = 0;
        let a: i64 = 'l3: loop { c2 += 1; if c2 > 1 { break 'l3 c2; }
            {
                let mut c2: Vec<i64> = vec![c2, a];
                continue 'l3;
            }
            io.wait_direct(Completion::yield_now())?;
        };
        Ok(a)
    }
    pub fn p3153_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        Ok(4)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p3153_direct(io, t, 11, "k", &[-2, 1, 4]))
    }
    #[io_state_machine(state = st)]
    pub fn p3153a(st: &mut P3153aState, io: &Sched, t: &mut Vec<String>, a: i64) -> Result<IOResult<i64>, E> {
        let mut c2: i64 = 0;
        let a: i64 = 'l3: loop { c2 += 1; if c2 > 1 { break 'l3 c2; }
            {
                let mut c2: Vec<i64> = vec![c2, a];
                continue 'l3;
            }
            yield_io!(Completion::yield_now())?;
        };
        Ok(a)
    }
    #[io_state_machine(state = st)]
    pub fn p3153(st: &mut P3153State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        Ok(4)
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P3153State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p3153_direct(io, t, 11, "k", &[-2, 1, 4]),
            &mut st,
            &|st: &mut P3153State, io: &Sched, t: &mut Vec<String>| p3153(st, io, t, 11, "k", &[-2, 1, 4]),
            &|st: &P3153State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("compile_s10c0de_p3153", &program::run_machine(0x2f2477dfd5ff4e8));
}
