//! difftest finding (feature `let_else_susp`), fixed: a suspension in the
//! `else` block of a `let-else` (here `return call_io!(..)`, a plain
//! `yield_io!(..)?;` statement failed the same way). The macro refused it as
//! "cannot stand inside a larger expression", though it stands in a return /
//! statement position (rule 6) of a block of a let-else (rule 7); the `else`
//! block is now lowered as a branch of its own.
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
    pub fn h(st: &mut HState, io: &Sched, t: &mut Vec<String>, a: i64) -> Result<IOResult<i64>, E> {
        yield_io!(io.op())?;
        Ok(a)
    }
    pub fn h_direct(io: &Sched, t: &mut Vec<String>, a: i64) -> Result<i64, E> {
        io.wait_direct(io.op())?;
        Ok(a)
    }
    #[io_state_machine(state = st)]
    pub fn p(st: &mut PState, io: &Sched, t: &mut Vec<String>, a: i64) -> Result<IOResult<i64>, E> {
        let mut s: HState = HState::default();
        let Ok(_) = yield_io!(io.op()) else {
            tr(t, 1, &a);
            return call_io!(h(&mut s, io, t, 18));
        };
        Ok(a)
    }
    pub fn p_direct(io: &Sched, t: &mut Vec<String>, a: i64) -> Result<i64, E> {
        let Ok(_) = io.wait_direct(io.op()) else {
            tr(t, 1, &a);
            return h_direct(io, t, 18);
        };
        Ok(a)
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
    support::assert_agrees("compile_let_else_suspend_in_else", &program::run_machine(7));
}
