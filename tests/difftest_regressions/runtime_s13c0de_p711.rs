//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 711, reduced.
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   under schedule #0 (immediate):
//!     trace differs at entry 1 (every completion ready: drops included): direct Some("~d4"), machine Some("~d1")
//!     direct trace:  ["s8:Dg(1)", "~d4", "~g9", "s19:4", "~d1"]
//!     machine trace: ["s8:Dg(1)", "~d1", "~d4", "~g9", "s19:4"]
//! The dead `dv2`, read by reference in a kept `if` block that also held
//! `let _ = dgx(9);`, was not carried (any `let` beside a mention
//! disqualified it) and dropped at the transition after the block.
//! Fixed: a `let` nested in a block of the statement binds only inside it.
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
    pub fn p711gk_direct<S: Src>(io: &Sched, t: &mut Vec<String>, i: i64, s: &S) -> Result<i64, E> {
        let k: S::Item = s.get(i);
        io.wait_direct(io.op())?;
        Ok(k.into())
    }
    pub fn p711_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        let dv2: Dg = dg(1);
        {
            let dv5: Dg = dg(4);
            io.wait_direct(io.group(1))?;
            if a > 2 {
                tr(t, 8, &dv2);
                let _ = dgx(9);
            }
        }
        tr(t, 19, &a);
        p711gk_direct(io, t, a, &SrcI)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p711_direct(io, t, 4, "tag", &[-2, 1]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[io_state_machine(state = st)]
    pub fn p711gk<S: Src>(st: &mut P711gkState<S>, io: &Sched, t: &mut Vec<String>, i: i64, s: &S) -> Result<IOResult<i64>, E> {
        let k: S::Item = s.get(i);
        yield_io!(io.op())?;
        Ok(k.into())
    }
    #[io_state_machine(state = st)]
    pub fn p711(st: &mut P711State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        let dv2: Dg = dg(1);
        {
            let dv5: Dg = dg(4);
            yield_io!(io.group(1))?;
            if a > 2 {
                tr(t, 8, &dv2);
                let _ = dgx(9);
            }
        }
        tr(t, 19, &a);
        let mut ss20: P711gkState<SrcI> = P711gkState::default();
        call_io!(p711gk(&mut ss20, io, t, a, &SrcI))
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P711State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p711_direct(io, t, 4, "tag", &[-2, 1]),
            &mut st,
            &|st: &mut P711State, io: &Sched, t: &mut Vec<String>| p711(st, io, t, 4, "tag", &[-2, 1]),
            &|st: &P711State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("runtime_s13c0de_p711", &program::run_machine(0xbd51f73ea12ca3));
}
