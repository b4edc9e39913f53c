//! difftest finding (feature `shadow_nested`, off by default): a binding shadowed
//! in a nested block while the outer one is still used after the block.
//! Rule 7 promises shadowing across suspension points; the macro refuses:
//! "`x` is shadowed by a binding of the same name while it is still needed
//! after a suspension point; #[io_state_machine] carries variables by name".
//! Found by the generator (seed 0x5eed2026, programs 1, 2, 5, ...), reduced by hand
//! to its core.
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
        let x: i64 = a;
        {
            let x: i64 = 2;
            yield_io!(io.op())?;
            tr(t, 1, &x);
        }
        tr(t, 2, &x);
        Ok(x)
    }
    pub fn p_direct(io: &Sched, t: &mut Vec<String>, a: i64) -> Result<i64, E> {
        let x: i64 = a;
        {
            let x: i64 = 2;
            io.wait_direct(io.op())?;
            tr(t, 1, &x);
        }
        tr(t, 2, &x);
        Ok(x)
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
    support::assert_agrees("compile_shadow_nested_block", &program::run_machine(7));
}
