//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 1958, reduced.
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   under schedule #0 (immediate):
//!     trace differs at entry 0 (every completion ready: drops included): direct Some("s72"), machine Some("~d1")
//!     direct trace:  ["s72", "~d1"]
//!     machine trace: ["~d1", "s72"]
//! The dead `dv2`, read by reference in the `else` block of a let-else,
//! was not carried and dropped at the transition out of the loop, in a call
//! that did not return IO (in the full program under `immediate` a later
//! real suspension in the same call hid it; the harness now requires the drop to follow that
//! call's last trace entry). Fixed with program 702's.
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
    pub fn p1958a_direct(io: &Sched, t: &mut Vec<String>, mut a: i64) -> Result<i64, E> {
        let dv2: Dg = dg(1);
        let mut c12: i64 = 0;
        let x71: i64 = 'l13: loop { c12 += 1; if c12 > 0 { break 'l13 c12; }
            let Ok(_) = io.wait_direct(Completion::yield_now()) else {
                tr(t, 69, &dv2);
                break 'l13 12;
            };
        };
        tp(t, format!("s72"));
        Ok(a)
    }
    pub fn p1958_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>) -> Result<i64, E> {
        let mut acc75: Acc = Acc(0);
        acc75 += p1958a_direct(io, t, pv.last().copied().unwrap_or(-1))?;
        let mut i79: i64 = 0;
        Ok(i79.wrapping_mul(3).wrapping_add(0))
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p1958_direct(io, t, 10, "k", &[-2, 1, 4], vec![0]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[io_state_machine(state = st)]
    pub fn p1958a(st: &mut P1958aState, io: &Sched, t: &mut Vec<String>, mut a: i64) -> Result<IOResult<i64>, E> {
        let dv2: Dg = dg(1);
        let mut c12: i64 = 0;
        let x71: i64 = 'l13: loop { c12 += 1; if c12 > 0 { break 'l13 c12; }
            let Ok(_) = yield_io!(Completion::yield_now()) else {
                tr(t, 69, &dv2);
                break 'l13 12;
            };
        };
        tp(t, format!("s72"));
        Ok(a)
    }
    #[io_state_machine(state = st)]
    pub fn p1958(st: &mut P1958State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>) -> Result<IOResult<i64>, E> {
        let mut ss74: P1958aState = P1958aState::default();
        let mut acc75: Acc = Acc(0);
        acc75 += call_io!(p1958a(&mut ss74, io, t, pv.last().copied().unwrap_or(-1)))?;
        let mut i79: i64 = 0;
        Ok(i79.wrapping_mul(3).wrapping_add(0))
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P1958State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p1958_direct(io, t, 10, "k", &[-2, 1, 4], vec![0]),
            &mut st,
            &|st: &mut P1958State, io: &Sched, t: &mut Vec<String>| p1958(st, io, t, 10, "k", &[-2, 1, 4], vec![0]),
            &|st: &P1958State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("runtime_s13c0de_p1958", &program::run_machine(0xc908ab6a4bc3b980));
}
