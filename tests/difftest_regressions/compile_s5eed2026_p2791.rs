//! difftest finding: RATCHET_DIFFTEST_SEED=0x5eed2026, program 2791 of the
//! 10,000-program run, reduced by hand to its core. Inside a value loop with
//! suspension points, `let c3: i64 = 'l16: loop { .. break 'l4 ..; };`
//! shadows the outer loop's counter `c3`, which the next iteration and the
//! code after the loop read, and its initializer (kept whole: no suspension point in it) breaks out of
//! the outer loop. The outer `c3` is moved aside after that initializer has
//! run, so the `break` inside it must still read it by its own name; on
//! `4e7f59b` the expansion read the aside name before it existed:
//! "cannot find value `__ratchet_shadowed4_c3`". Agrees from `bbbe4df`.
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

    #[io_state_machine(state = st)]
    pub fn p(st: &mut PState, io: &Sched, t: &mut Vec<String>, a: i64) -> Result<IOResult<i64>, E> {
        let mut c3: i64 = 0;
        let x28: i64 = 'l4: loop { c3 += 1; if c3 > 3 { break 'l4 c3; }
            yield_io!(io.op())?;
            let mut c15: i64 = 0;
            let c3: i64 = 'l16: loop { c15 += 1; if c15 > 2 { break 'l16 c15; }
                if c3 == a { break 'l4 c3 * 10; }
            };
            yield_io!(io.op())?;
            tr(t, 20, &c3);
        };
        tr(t, 29, &x28);
        tr(t, 37, &c3);
        Ok(x28)
    }
    pub fn p_direct(io: &Sched, t: &mut Vec<String>, a: i64) -> Result<i64, E> {
        let mut c3: i64 = 0;
        let x28: i64 = 'l4: loop { c3 += 1; if c3 > 3 { break 'l4 c3; }
            io.wait_direct(io.op())?;
            let mut c15: i64 = 0;
            let c3: i64 = 'l16: loop { c15 += 1; if c15 > 2 { break 'l16 c15; }
                if c3 == a { break 'l4 c3 * 10; }
            };
            io.wait_direct(io.op())?;
            tr(t, 20, &c3);
        };
        tr(t, 29, &x28);
        tr(t, 37, &c3);
        Ok(x28)
    }

    pub fn run_machine(seed: u64, a: i64) -> Verdict {
        let mut st = PState::default();
        check_machine(
            seed,
            &move |io: &Sched, t: &mut Vec<String>| p_direct(io, t, a),
            &mut st,
            &move |st: &mut PState, io: &Sched, t: &mut Vec<String>| p(st, io, t, a),
            &|st: &PState| st.is_idle(),
        )
    }
}

fn main() {
    // `a = 2`: the inner `break 'l4` is taken in the second iteration;
    // `a = 9`: never, the outer loop runs out.
    support::assert_agrees("compile_s5eed2026_p2791", &program::run_machine(7, 2));
    support::assert_agrees("compile_s5eed2026_p2791", &program::run_machine(7, 9));
}
