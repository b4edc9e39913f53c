//! difftest finding: RATCHET_DIFFTEST_SEED=0x5eed2026, program 36, reduced.
//! Generator features: the defaults plus shadow_nested (RATCHET_DIFFTEST_FEATURES=+shadow_nested).
//! A value loop whose body shadows the loop counter with another type: rule 7
//! promises shadowing, the macro refuses it.
//!   the machine does not compile:
//!     line 19: error: `c66` is shadowed by a binding of the same name while it is still needed after a suspension point; #[io_state_machine] carries variables by name: rename one of them
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
    pub fn p36_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        let mut c66: i64 = 0;
        let x76: i64 = 'l67: loop { c66 += 1; if c66 > 1 { break 'l67 c66; }
            let mut c66: Result<i32, CompletionError> = io.wait_direct(Completion::yield_now());
        };
        Ok(-3)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p36_direct(io, t, -3, "", &[]))
    }
    #[io_state_machine(state = st)]
    pub fn p36(st: &mut P36State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        let mut c66: i64 = 0;
        let x76: i64 = 'l67: loop { c66 += 1; if c66 > 1 { break 'l67 c66; }
            let mut c66: Result<i32, CompletionError> = yield_io!(Completion::yield_now());
        };
        Ok(-3)
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P36State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p36_direct(io, t, -3, "", &[]),
            &mut st,
            &|st: &mut P36State, io: &Sched, t: &mut Vec<String>| p36(st, io, t, -3, "", &[]),
            &|st: &P36State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("compile_s5eed2026_p36", &program::run_machine(0xce9876d8d3a9fcea));
}
