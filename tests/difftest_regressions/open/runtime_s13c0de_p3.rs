//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 3, reduced.
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drop_reads,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,moved_param,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   under schedule #0 (immediate):
//!     trace differs at entry 9 (drops of values the body reads aside): direct Some("s56:Dg(54)"), machine Some("~g53")
//!     direct trace:  ["s77:(\"\", [-2, 1])", "s78", "s1:20", "s2", "s3:20", "b50", "b51", "~g52", "~g53", "s56:Dg(54)", "s64:1", "s65:20", "~d54", "~g53", "s81:10"]
//!     machine trace: ["s77:(\"\", [-2, 1])", "s78", "s1:20", "s2", "s3:20", "b50", "b51", "~g52", "~g53", "~g53", "s56:Dg(54)", "s64:1", "s65:20", "~d54", "s81:10"]
//! Run by tests/difftest_regressions.rs.
#![deny(warnings)]
#![allow(unused_variables, unused_assignments, unused_mut, unused_labels, unreachable_code, unused_parens, dead_code)]

#[path = "../../difftest/support.rs"]
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
    pub fn p3a_direct(io: &Sched, t: &mut Vec<String>, mut a: i64) -> Result<i64, E> {
        tr(t, 1, &a);
        tp(t, format!("s2"));
        io.wait_direct(io.op())?;
        tp(t, format!("s3:{}", a));
        let s4: String = format!("<{}>", a);
        'l49: for i48 in (bnd(t, 50, 1) as i64)..(bnd(t, 51, 2) as i64) {
            let mut _g52: Dg = dgx(52);
            for _ in 0..2u32 {
                io.wait_direct(Completion::yield_now())?;
                _g52 = dgx(53);
            }
            let dv55: Dg = dg(54);
            tr(t, 56, &dv55);
            tr(t, 64, &i48);
            if ((-3i64).wrapping_add(12)) != 3 {
                tr(t, 65, &a);
                gcnt!();
            }
        }
        Ok(5)
    }
    pub fn p3_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        io.wait_direct(io.op())?;
        tr(t, 77, &(tag, xs));
        tp(t, format!("s78"));
        io.wait_direct(io.group(3))?;
        #[allow(unused_macros)] macro_rules! m79 { ($e:expr) => { i64::wrapping_sub($e, 79) }; }
        p3a_direct(io, t, 20)?;
        tr(t, 81, &a);
        Ok(6)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p3_direct(io, t, 10, "", &[-2, 1]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[io_state_machine(state = st)]
    pub fn p3a(st: &mut P3aState, io: &Sched, t: &mut Vec<String>, mut a: i64) -> Result<IOResult<i64>, E> {
        tr(t, 1, &a);
        tp(t, format!("s2"));
        yield_io!(io.op())?;
        tp(t, format!("s3:{}", a));
        let s4: String = format!("<{}>", a);
        'l49: for i48 in (bnd(t, 50, 1) as i64)..(bnd(t, 51, 2) as i64) {
            let mut _g52: Dg = dgx(52);
            for _ in 0..2u32 {
                yield_io!(Completion::yield_now())?;
                _g52 = dgx(53);
            }
            let dv55: Dg = dg(54);
            tr(t, 56, &dv55);
            tr(t, 64, &i48);
            if ((-3i64).wrapping_add(12)) != 3 {
                tr(t, 65, &a);
                gcnt!();
            }
        }
        Ok(5)
    }
    #[io_state_machine(state = st)]
    pub fn p3(st: &mut P3State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        yield_io!(io.op())?;
        tr(t, 77, &(tag, xs));
        tp(t, format!("s78"));
        yield_io!(io.group(3))?;
        #[allow(unused_macros)] macro_rules! m79 { ($e:expr) => { i64::wrapping_sub($e, 79) }; }
        let mut ss80: P3aState = P3aState::default();
        call_io!(p3a(&mut ss80, io, t, 20))?;
        tr(t, 81, &a);
        Ok(6)
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P3State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p3_direct(io, t, 10, "", &[-2, 1]),
            &mut st,
            &|st: &mut P3State, io: &Sched, t: &mut Vec<String>| p3(st, io, t, 10, "", &[-2, 1]),
            &|st: &P3State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_diverges("runtime_s13c0de_p3", &program::run_machine(0xd6f39f11fd56ebf3));
}
