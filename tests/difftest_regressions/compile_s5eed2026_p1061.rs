//! difftest finding: RATCHET_DIFFTEST_SEED=0x5eed2026, program 1061 of the
//! 10,000-program run, reduced by hand to its core (the tester's reduction
//! was stopped to give the run the machine's cores). A value loop with a
//! suspension point; one `match` arm, kept whole, rebinds `x84` (a `bool`)
//! and breaks out of the loop, while the outer `x84` is read after the loop.
//! The macro refused it: "`x84` is shadowed by a binding inside the same
//! statement as a `break` ...". Fixed in `bbbe4df`: the outer `x84` is moved
//! aside around the arm's code.
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
        let x84: i64 = a.wrapping_mul(2);
        let mut c110: i64 = 0;
        let x135: i64 = 'l111: loop { c110 += 1; if c110 > 2 { break 'l111 c110; }
            yield_io!(io.op())?;
            t.push(format!("s112:{x84}"));
            match c110.rem_euclid(2) {
            0 => {
                let mut x84: bool = c110 > 1;
                if x84 {
                    tr(t, 114, &x84);
                    break c110.rem_euclid(3);
                }
            }
            _ => {
                yield_io!(Completion::yield_now())?;
                tr(t, 115, &x84);
            }
            }
        };
        tr(t, 136, &x135);
        Ok(x84.wrapping_add(c110))
    }
    pub fn p_direct(io: &Sched, t: &mut Vec<String>, a: i64) -> Result<i64, E> {
        let x84: i64 = a.wrapping_mul(2);
        let mut c110: i64 = 0;
        let x135: i64 = 'l111: loop { c110 += 1; if c110 > 2 { break 'l111 c110; }
            io.wait_direct(io.op())?;
            t.push(format!("s112:{x84}"));
            match c110.rem_euclid(2) {
            0 => {
                let mut x84: bool = c110 > 1;
                if x84 {
                    tr(t, 114, &x84);
                    break c110.rem_euclid(3);
                }
            }
            _ => {
                io.wait_direct(Completion::yield_now())?;
                tr(t, 115, &x84);
            }
            }
        };
        tr(t, 136, &x135);
        Ok(x84.wrapping_add(c110))
    }

    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = PState::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p_direct(io, t, 5),
            &mut st,
            &|st: &mut PState, io: &Sched, t: &mut Vec<String>| p(st, io, t, 5),
            &|st: &PState| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("compile_s5eed2026_p1061", &program::run_machine(7));
}
