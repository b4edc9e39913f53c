//! difftest finding (feature `shadow_nested`, off by default): a loop body
//! shadows the loop's counter, which the next iteration still reads. Rule 7
//! promises shadowing; the macro refuses it ("carries variables by name").
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
        let mut c: i64 = 0;
        loop {
            c += 1;
            if c > 2 {
                break;
            }
            let c: i64 = a;
            yield_io!(io.op())?;
            tr(t, 1, &c);
        }
        Ok(c)
    }
    pub fn p_direct(io: &Sched, t: &mut Vec<String>, a: i64) -> Result<i64, E> {
        let mut c: i64 = 0;
        loop {
            c += 1;
            if c > 2 {
                break;
            }
            let c: i64 = a;
            io.wait_direct(io.op())?;
            tr(t, 1, &c);
        }
        Ok(c)
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
    support::assert_agrees("compile_shadow_nested_loop_counter", &program::run_machine(7));
}
