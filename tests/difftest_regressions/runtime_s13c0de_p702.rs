//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 702, reduced.
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   under schedule #0 (immediate):
//!     trace differs at entry 0 (every completion ready: drops included): direct Some("s102:(\"k\", [])"), machine Some("~d62")
//!     direct trace:  ["s102:(\"k\", [])", "~d62"]
//!     machine trace: ["~d62", "s102:(\"k\", [])"]
//! The dead `dv63`, read by reference in the `else` block of another
//! binding's `let .. else`, was not carried (any `let` beside a mention
//! disqualified it) and dropped at the transition after the block.
//! Fixed: a let-else's diverging `else` block cannot keep the reference.
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
    pub fn p702nx_direct(io: &Sched, t: &mut Vec<String>, i: i64, n: i64) -> Result<Option<i64>, E> {
        Ok(Some(i.wrapping_mul(3)))
    }
    pub fn p702_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        let x55;
        x55 = 19;
        fn h57(x: i64) -> i64 { x.wrapping_mul(3).wrapping_add(57) }
        let dv63: Dg = dg(62);
        {
            let Some(v81) = p702nx_direct(io, t, h57(a), 3)? else {
                tr(t, 83, &dv63);
                return Ok(3);
            };
        }
        tr(t, 102, &(tag, xs));
        Ok(a.rem_euclid(5))
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p702_direct(io, t, 12, "k", &[]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[io_state_machine(state = st)]
    pub fn p702nx(st: &mut P702nxState, io: &Sched, t: &mut Vec<String>, i: i64, n: i64) -> Result<IOResult<Option<i64>>, E> {
        Ok(Some(i.wrapping_mul(3)))
    }
    #[io_state_machine(state = st)]
    pub fn p702(st: &mut P702State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        let x55;
        x55 = 19;
        fn h57(x: i64) -> i64 { x.wrapping_mul(3).wrapping_add(57) }
        let dv63: Dg = dg(62);
        {
            let mut ss82: P702nxState = P702nxState::default();
            let Some(v81) = call_io!(p702nx(&mut ss82, io, t, h57(a), 3))? else {
                tr(t, 83, &dv63);
                return Ok(3);
            };
        }
        tr(t, 102, &(tag, xs));
        Ok(a.rem_euclid(5))
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P702State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p702_direct(io, t, 12, "k", &[]),
            &mut st,
            &|st: &mut P702State, io: &Sched, t: &mut Vec<String>| p702(st, io, t, 12, "k", &[]),
            &|st: &P702State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("runtime_s13c0de_p702", &program::run_machine(0x80a5b601238a1c64));
}
