//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 3537, reduced.
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,mut_param,range_bounds,raw_ident,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   the machine does not compile:
//!     line 31: error[E0308]: mismatched types: expected `Result<IOResult<i64>, E>`, found `()`
//! A `match` arm kept whole (no suspension point in it) holding `return Ok(a);`
//! and then `gbrk!();` inside a `while` taken apart: the macro's `break`
//! was not caught, because a statement holding a `return` was not wrapped.
//! Fixed: it is, and where the statement diverges the path past the
//! catching loop diverges too. (The error was first reported as the direct
//! twin's: it stood in the `gbrk!` definition above the machines' part;
//! the definitions are now repeated before the machines.)
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
    pub fn p3537_direct(io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<i64, E> {
        let mut i6: i64 = 0;
        'l7: while i6 < 0 { i6 += 1;
            match io.wait_direct(io.op()) {
            Ok(n8) => { tp(t, format!("s9:ok{n8}"));
                return Ok(a);
                gbrk!();
            } Err(e16) => { tp(t, format!("s17:{e16:?}"));
            }
            }
        }
        let mut w31: Vec<i64> = vec![];
        Ok((w31.len() as i64))
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p3537_direct(io, t, 10, "tag", &[-2, 1, 4]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[io_state_machine(state = st)]
    pub fn p3537(st: &mut P3537State, io: &Sched, t: &mut Vec<String>, a: i64, tag: &str, xs: &[i64]) -> Result<IOResult<i64>, E> {
        let mut i6: i64 = 0;
        'l7: while i6 < 0 { i6 += 1;
            match yield_io!(io.op()) {
            Ok(n8) => { tp(t, format!("s9:ok{n8}"));
                return Ok(a);
                gbrk!();
            } Err(e16) => { tp(t, format!("s17:{e16:?}"));
            }
            }
        }
        let mut w31: Vec<i64> = vec![];
        Ok((w31.len() as i64))
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P3537State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p3537_direct(io, t, 10, "tag", &[-2, 1, 4]),
            &mut st,
            &|st: &mut P3537State, io: &Sched, t: &mut Vec<String>| p3537(st, io, t, 10, "tag", &[-2, 1, 4]),
            &|st: &P3537State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("compile_s13c0de_p3537", &program::run_machine(0x25482be2bdb84672));
}
