//! difftest finding: RATCHET_DIFFTEST_SEED=0x13c0de, program 209, reduced.
//! Generator features: assign_susp,block,call,cfg_attr,compound_assign,drop_reads,drops,early_exit,for_loop,generic_helper,group,group_local,if_let_susp,if_susp,items,labeled,let_else,let_else_susp,let_susp,let_uninit,loop,loop_value,macro_jumps,match,match_susp,moved_param,mut_param,mut_vec_param,range_bounds,raw_ident,recreated_borrow,return_susp,shadow,shadow_nested,string,struct_lit,tail_susp,user_err,vec,while_let_susp,while_loop,while_susp,yield,yield_now
//!   under schedule #0 (immediate):
//!     drop ~v171 (#0) after 2 trace entries in the machine, earlier than the direct twin's (3), but not at a suspension that really suspends (nor, for a value read by value, after a resume)
//! A `macro_rules!` defined in code a resume runs made the machine start
//! with the dispatch (a definition counted as a macro that may write an
//! item), which drops a value read by value at a step's end even with every
//! completion ready. Fixed in `e0d4dfd` (a definition is no item of its own).
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
    pub fn p209a_direct(io: &Sched, t: &mut Vec<String>, mut a: i64) -> Result<i64, E> {
        let msg1: Msg = Msg::C;
        io.wait_direct(io.op())?;
        tr(t, 2, &(a));
        let mut c3: i64 = 0;
        let x40: i64 = 'l4: loop { c3 += 1; if c3 > 2 { break 'l4 c3; }
            let x5: i64 = chk(9i64.wrapping_mul(5))?;
            match a.wrapping_mul(2).rem_euclid(7) - 1 {
            0 => {
                let mut i6: i64 = 0;
                'l7: while i6 < 2 { i6 += 1;
                    let r8: Result<i32, CompletionError> = io.wait_direct(io.op());
                    tr(t, 9, &());
                    let mut r10: Result<i32, CompletionError> = io.wait_direct(Completion::yield_now());
                    r10 = io.wait_direct(Completion::yield_now());
                    tr(t, 11, &(c3.wrapping_mul(4)));
                    #[allow(unused_macros)] macro_rules! m12 { ($e:expr) => { i64::wrapping_sub($e, 12) }; }
                }
                let r13: Result<i32, CompletionError> = io.wait_direct(Completion::yield_now());
                let mut c14: i64 = 0;
                'l15: loop { c14 += 1; if c14 > 3 { break 'l15; }
                    tr(t, 16, &());
                }
            }
            1..=4 => {
                tr(t, 17, &x5);
                if let Some(v18) = p209nx_direct(io, t, 7, 3)? { let x20: i64 = v18;
                    tr(t, 21, &());
                    io.wait_direct(io.op())?;
                    tr(t, 22, &x20);
                    let r#r23: Result<i32, CompletionError> = io.wait_direct(Completion::yield_now());
                    tp(t, format!("s24:{x20}"));
                    tr(t, 25, &c3);
                    let r#r26: Result<i32, CompletionError> = io.wait_direct(Completion::yield_now());
                }
            }
            #[cfg(any())] 5 => {
                match 6i64.rem_euclid(7) - 1 {
                0 => {
                    let mut x5: Result<i32, CompletionError> = io.wait_direct(io.op());
                    tr(t, 27, &());
                    tr(t, 29, &(a));
                    io.wait_direct(io.op())?;
                }
                v30 if v30 > 10 => { let x31: i64 = v30;
                    let x5: bool = a > 2;
                }
                _ => {
                    let mut g32 = CompletionGroup::new(|_| {}); g32.add(&io.op()); io.wait_direct(g32.build())?;
                    tr(t, 33, &(c3));
                    a = chk(a)?;
                }
                }
                tr(t, 34, &());
                let x35 = x5;
            }
            v36 if v36 > 10 => { let x37: i64 = v36;
                tr(t, 38, &(c3.wrapping_add(9)));
            }
            _ => {
                a = p209gk_direct(io, t, a, &SrcI)?;
            }
            }
        };
        let _g41: Dg = dgx(41);
        Ok((-4i64).wrapping_mul(4))
    }
    pub fn p209b_direct(io: &Sched, t: &mut Vec<String>, a: i64) -> Result<i64, E> {
        let dv43: Dg = dg(42);
        if a > 2 {
            tr(t, 44, &dv43);
        }
        {
            let dv46: Dg = dg(45);
            tr(t, 47, &dv46);
            io.wait_direct(io.group(1))?;
            tp(t, format!("s48:{}", 8));
            tr(t, 49, &dv46);
            let dv51: Dg = dg(50);
            if (a) <= 14 {
                tr(t, 52, &dv51);
            }
            {
                let _g56: Dg = dgx(56);
                let dv54: Dg = dg(53);
                tr(t, 55, &dv54);
                io.wait_direct(io.op())?;
                tr(t, 57, &dv43);
                match a.rem_euclid(7) - 1 {
                0 => {
                    let r58: Result<i32, CompletionError> = io.wait_direct(io.op());
                    tp(t, format!("s59:{r58:?}"));
                    let dv61: Dg = dgv(60);
                    tp(t, format!("s62:Dg({})", dv61.0));
                    io.wait_direct(io.group(3))?;
                    tr(t, 63, &());
                }
                1..=4 => {
                    let mut s64: String = String::from("");
                    let r#r65: Result<i32, CompletionError> = io.wait_direct(Completion::yield_now());
                    let dv51: Acc = Acc(a);
                }
                -3..=-1 => {
                    tp(t, format!("s66"));
                }
                _ => {
                    tr(t, 67, &dv51);
                }
                }
                'l69: for i68 in (bnd(t, 70, -1) as i64)..(bnd(t, 71, 0) as i64) {
                    io.wait_direct(Completion::yield_now())?;
                }
            }
            tr(t, 72, &a);
        }
        tr(t, 73, &a);
        tr(t, 74, &(a));
        let x75: i64 = chk(a)?;
        io.wait_direct(Completion::yield_now())?;
        Ok(17)
    }
    pub fn p209lt_direct(io: &Sched, t: &mut Vec<String>, i: i64, n: i64) -> Result<bool, E> {
        tp(t, format!("lt{i}<{n}"));
        io.wait_direct(io.op())?;
        Ok(i < n)
    }
    pub fn p209nx_direct(io: &Sched, t: &mut Vec<String>, i: i64, n: i64) -> Result<Option<i64>, E> {
        if i >= n { return Ok(None); }
        io.wait_direct(io.op())?;
        tp(t, format!("nx{i}"));
        Ok(Some(i.wrapping_mul(3)))
    }
    pub fn p209gk_direct<S: Src>(io: &Sched, t: &mut Vec<String>, i: i64, s: &S) -> Result<i64, E> {
        let k: S::Item = s.get(i);
        io.wait_direct(io.op())?;
        tp(t, format!("gk{i}:{k:?}"));
        Ok(k.into())
    }
    pub fn p209_direct(io: &Sched, t: &mut Vec<String>, mut a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>, mv: Vec<i64>) -> Result<i64, E> {
        let mut c76: i64 = 0;
        let x116: i64 = 'l77: loop { c76 += 1; if c76 > 0 { break 'l77 c76; }
            let dv79: Dg = dg(78);
            if false {
                tr(t, 80, &dv79);
            }
            {
                let dv82: Dg = dg(81);
                tr(t, 83, &dv82);
                io.wait_direct(io.op())?;
                tr(t, 84, &());
                let mut i85: i64 = 0;
                'l86: while i85 < 0 { i85 += 1;
                    let _g87: Dg = dgx(87);
                }
            }
            tp(t, format!("s88:{mv:?}"));
            let Ok(v89) = p209b_direct(io, t, c76) else {
                tp(t, format!("s91:{tag}:{xs:?}"));
                 return p209gk_direct(io, t, c76, &SrcI);
            };
            let x93: i64 = v89;
            let dv95: Dg = dgv(94);
            tp(t, format!("s96:Dg({})", dv95.0));
            io.wait_direct(io.op())?;
            tp(t, format!("s97:{tag}:{xs:?}"));
            let mut i98: i64 = 0;
            'l99: while p209lt_direct(io, t, i98, 0)? { i98 += 1;
                let mut i101: i64 = 0;
                'l102: while p209lt_direct(io, t, i101, 3)? { i101 += 1;
                    tp(t, format!("s103:{tag}:{xs:?}"));
                    io.wait_direct(Completion::yield_now())?;
                    tp(t, format!("s104:{}", x93.wrapping_add(-1)));
                    #[derive(Debug)] struct S105 { v: i64 }
                    let mut r106: Result<i32, CompletionError> = io.wait_direct(Completion::yield_now());
                    tr(t, 107, &(a));
                }
                match io.wait_direct(io.group(0)) {
                Ok(n108) => { tp(t, format!("s109:ok{n108}"));
                    let c76: Result<i32, CompletionError> = io.wait_direct(Completion::yield_now());
                    tr(t, 110, &());
                } Err(e111) => { tp(t, format!("s112:{e111:?}"));
                    tp(t, format!("s113"));
                    tr(t, 114, &(tag, xs));
                }
                }
                let v115: Vec<i64> = vec![];
                a = chk(11)?;
            }
        };
        tr(t, 117, &(tag, xs));
        let mut v119: Vec<i64> = mv.into_iter().rev().collect();
        tp(t, format!("mv118:{v119:?}"));
        io.wait_direct(io.op())?;
        let x120: i64;
        io.wait_direct(io.op())?;
        x120 = 5;
        if false {
            {
                let _g124: Dg = dgx(124);
                let dv122: Dg = dg(121);
                tr(t, 123, &dv122);
                io.wait_direct(Completion::yield_now())?;
                tp(t, format!("s125:{v119:?}"));
                let mut c126: i64 = 0;
                'l127: loop { c126 += 1; if c126 > 2 { break 'l127; }
                    tr(t, 128, &(tag, xs));
                    tr(t, 129, &((tag.len() as i64)));
                    #[allow(unused_imports)] use std::fmt::Write as _;
                    #[allow(unused_macros)] macro_rules! m131 { ($e:expr) => { i64::wrapping_sub($e, 131) }; }
                }
            }
            tp(t, format!("s132:{a}"));
            if true {
                a = a.wrapping_add(20);
                let _g133: Dg = dgx(133);
                'l135: for i134 in (bnd(t, 136, 0) as i64)..(bnd(t, 137, 3) as i64) {
                    let dv139: Dg = dgv(138);
                    tp(t, format!("s140:Dg({})", dv139.0));
                    tr(t, 141, &pv);
                    io.wait_direct(Completion::yield_now())?;
                    tr(t, 142, &pv);
                    pv = Vec::new();
                }
                match io.wait_direct(Completion::yield_now()) {
                Ok(n143) => { tp(t, format!("s144:ok{n143}"));
                    tr(t, 145, &(tag, xs));
                    tp(t, format!("s146:{tag}:{xs:?}"));
                    let dv148: Dg = dg(147);
                    if ((tag.len() as i64)) > -1 {
                        tr(t, 149, &dv148);
                    }
                    {
                        let dv151: Dg = dg(150);
                        tr(t, 152, &dv151);
                        tr(t, 153, &(tag, xs));
                        io.wait_direct(Completion::yield_now())?;
                        let x154: i64;
                        io.wait_direct(Completion::yield_now())?;
                        tr(t, 155, &());
                        x154 = x116;
                        let x156: i64;
                        tr(t, 157, &(-3));
                        io.wait_direct(Completion::yield_now())?;
                        x156 = 18;
                    }
                    tr(t, 158, &());
                } Err(e159) => { tp(t, format!("s160:{e159:?}"));
                    a = chk(14)?;
                    let mut r#x161 = c76;
                    let r162: Result<i32, CompletionError> = io.wait_direct(Completion::yield_now());
                }
                }
            } else {
                if x116.rem_euclid(2) == 0 {
                    io.wait_direct(Completion::yield_now())?;
                    tr(t, 163, &x120);
                } else {
                    tr(t, 164, &(tag, xs));
                    tr(t, 165, &(12));
                    io.wait_direct(Completion::yield_now())?;
                    tp(t, format!("s166:{}", a.wrapping_mul(5)));
                    let Ok(_) = io.wait_direct(Completion::yield_now()) else {
                        tp(t, format!("s168:{tag}:{xs:?}"));
                        return Ok(6);
                    };
                }
                let Ok(_) = io.wait_direct(Completion::yield_now()) else {
                    tr(t, 170, &v119);
                    return Err(E::User(70));
                };
            }
        } else if a > 2 {
            let mut _g171: Dg = dgv(171);
            for _ in 0..2u32 {
                tr(t, 173, &(a));
                io.wait_direct(Completion::yield_now())?;
                _g171 = dgv(172);
            }
            #[allow(unused_mut, unused_variables)] {
                let Ok(_) = io.wait_direct(Completion::yield_now()) else {
                    tr(t, 175, &(x120));
                    return Ok(8);
                };
                tr(t, 176, &());
            }
        } else {
            if false {
                tp(t, format!("s177:{a}"));
                return Err(E::User(58));
            }
            a = chk((tag.len() as i64))?;
        }
        tr(t, 178, &(tag, xs));
        let mut x120: Result<i32, CompletionError> = io.wait_direct(Completion::yield_now());
        tr(t, 179, &(tag, xs));
        Ok(x116)
    }
    pub fn run_direct_only(seed: u64) -> Verdict {
        check_direct(seed, &|io: &Sched, t: &mut Vec<String>| p209_direct(io, t, 3, "tag", &[-2, 1, 4], vec![9], vec![5, 1]))
    }
    #[allow(unused_macros)]
    macro_rules! gbrk { () => { break }; }
    #[allow(unused_macros)]
    macro_rules! gcnt { () => { continue }; }
    #[allow(unused_macros)]
    macro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }
    #[io_state_machine(state = st)]
    pub fn p209a(st: &mut P209aState, io: &Sched, t: &mut Vec<String>, mut a: i64) -> Result<IOResult<i64>, E> {
        let msg1: Msg = Msg::C;
        yield_io!(io.op())?;
        tr(t, 2, &(a));
        let mut c3: i64 = 0;
        let x40: i64 = 'l4: loop { c3 += 1; if c3 > 2 { break 'l4 c3; }
            let x5: i64 = chk(9i64.wrapping_mul(5))?;
            match a.wrapping_mul(2).rem_euclid(7) - 1 {
            0 => {
                let mut i6: i64 = 0;
                'l7: while i6 < 2 { i6 += 1;
                    let r8: Result<i32, CompletionError> = yield_io!(io.op());
                    tr(t, 9, &());
                    let mut r10: Result<i32, CompletionError> = yield_io!(Completion::yield_now());
                    r10 = yield_io!(Completion::yield_now());
                    tr(t, 11, &(c3.wrapping_mul(4)));
                    #[allow(unused_macros)] macro_rules! m12 { ($e:expr) => { i64::wrapping_sub($e, 12) }; }
                }
                let r13: Result<i32, CompletionError> = yield_io!(Completion::yield_now());
                let mut c14: i64 = 0;
                'l15: loop { c14 += 1; if c14 > 3 { break 'l15; }
                    tr(t, 16, &());
                }
            }
            1..=4 => {
                tr(t, 17, &x5);
                let mut ss19: P209nxState = P209nxState::default();
                if let Some(v18) = call_io!(p209nx(&mut ss19, io, t, 7, 3))? { let x20: i64 = v18;
                    tr(t, 21, &());
                    yield_io!(io.op())?;
                    tr(t, 22, &x20);
                    let r#r23: Result<i32, CompletionError> = yield_io!(Completion::yield_now());
                    tp(t, format!("s24:{x20}"));
                    tr(t, 25, &c3);
                    let r#r26: Result<i32, CompletionError> = yield_io!(Completion::yield_now());
                }
            }
            #[cfg(any())] 5 => {
                match 6i64.rem_euclid(7) - 1 {
                0 => {
                    let mut x5: Result<i32, CompletionError> = yield_io!(io.op());
                    tr(t, 27, &());
                    tr(t, 29, &(a));
                    yield_io!(io.op())?;
                }
                v30 if v30 > 10 => { let x31: i64 = v30;
                    let x5: bool = a > 2;
                }
                _ => {
                    let mut g32 = CompletionGroup::new(|_| {}); g32.add(&io.op()); yield_io!(g32.build())?;
                    tr(t, 33, &(c3));
                    a = chk(a)?;
                }
                }
                tr(t, 34, &());
                let x35 = x5;
            }
            v36 if v36 > 10 => { let x37: i64 = v36;
                tr(t, 38, &(c3.wrapping_add(9)));
            }
            _ => {
                let mut ss39: P209gkState<SrcI> = P209gkState::default();
                a = call_io!(p209gk(&mut ss39, io, t, a, &SrcI))?;
            }
            }
        };
        let _g41: Dg = dgx(41);
        Ok((-4i64).wrapping_mul(4))
    }
    #[io_state_machine(state = st)]
    pub fn p209b(st: &mut P209bState, io: &Sched, t: &mut Vec<String>, a: i64) -> Result<IOResult<i64>, E> {
        let dv43: Dg = dg(42);
        if a > 2 {
            tr(t, 44, &dv43);
        }
        {
            let dv46: Dg = dg(45);
            tr(t, 47, &dv46);
            yield_io!(io.group(1))?;
            tp(t, format!("s48:{}", 8));
            tr(t, 49, &dv46);
            let dv51: Dg = dg(50);
            if (a) <= 14 {
                tr(t, 52, &dv51);
            }
            {
                let _g56: Dg = dgx(56);
                let dv54: Dg = dg(53);
                tr(t, 55, &dv54);
                yield_io!(io.op())?;
                tr(t, 57, &dv43);
                match a.rem_euclid(7) - 1 {
                0 => {
                    let r58: Result<i32, CompletionError> = yield_io!(io.op());
                    tp(t, format!("s59:{r58:?}"));
                    let dv61: Dg = dgv(60);
                    tp(t, format!("s62:Dg({})", dv61.0));
                    yield_io!(io.group(3))?;
                    tr(t, 63, &());
                }
                1..=4 => {
                    let mut s64: String = String::from("");
                    let r#r65: Result<i32, CompletionError> = yield_io!(Completion::yield_now());
                    let dv51: Acc = Acc(a);
                }
                -3..=-1 => {
                    tp(t, format!("s66"));
                }
                _ => {
                    tr(t, 67, &dv51);
                }
                }
                'l69: for i68 in (bnd(t, 70, -1) as i64)..(bnd(t, 71, 0) as i64) {
                    yield_io!(Completion::yield_now())?;
                }
            }
            tr(t, 72, &a);
        }
        tr(t, 73, &a);
        tr(t, 74, &(a));
        let x75: i64 = chk(a)?;
        yield_io!(Completion::yield_now())?;
        Ok(17)
    }
    #[io_state_machine(state = st)]
    pub fn p209lt(st: &mut P209ltState, io: &Sched, t: &mut Vec<String>, i: i64, n: i64) -> Result<IOResult<bool>, E> {
        tp(t, format!("lt{i}<{n}"));
        yield_io!(io.op())?;
        Ok(i < n)
    }
    #[io_state_machine(state = st)]
    pub fn p209nx(st: &mut P209nxState, io: &Sched, t: &mut Vec<String>, i: i64, n: i64) -> Result<IOResult<Option<i64>>, E> {
        if i >= n { return Ok(None); }
        yield_io!(io.op())?;
        tp(t, format!("nx{i}"));
        Ok(Some(i.wrapping_mul(3)))
    }
    #[io_state_machine(state = st)]
    pub fn p209gk<S: Src>(st: &mut P209gkState<S>, io: &Sched, t: &mut Vec<String>, i: i64, s: &S) -> Result<IOResult<i64>, E> {
        let k: S::Item = s.get(i);
        yield_io!(io.op())?;
        tp(t, format!("gk{i}:{k:?}"));
        Ok(k.into())
    }
    #[io_state_machine(state = st)]
    pub fn p209(st: &mut P209State, io: &Sched, t: &mut Vec<String>, mut a: i64, tag: &str, xs: &[i64], mut pv: Vec<i64>, mv: Vec<i64>) -> Result<IOResult<i64>, E> {
        let mut c76: i64 = 0;
        let x116: i64 = 'l77: loop { c76 += 1; if c76 > 0 { break 'l77 c76; }
            let dv79: Dg = dg(78);
            if false {
                tr(t, 80, &dv79);
            }
            {
                let dv82: Dg = dg(81);
                tr(t, 83, &dv82);
                yield_io!(io.op())?;
                tr(t, 84, &());
                let mut i85: i64 = 0;
                'l86: while i85 < 0 { i85 += 1;
                    let _g87: Dg = dgx(87);
                }
            }
            tp(t, format!("s88:{mv:?}"));
            let mut ss90: P209bState = P209bState::default();
            let Ok(v89) = call_io!(p209b(&mut ss90, io, t, c76)) else {
                tp(t, format!("s91:{tag}:{xs:?}"));
                let mut ss92: P209gkState<SrcI> = P209gkState::default(); return call_io!(p209gk(&mut ss92, io, t, c76, &SrcI));
            };
            let x93: i64 = v89;
            let dv95: Dg = dgv(94);
            tp(t, format!("s96:Dg({})", dv95.0));
            yield_io!(io.op())?;
            tp(t, format!("s97:{tag}:{xs:?}"));
            let mut i98: i64 = 0;
            let mut ss100: P209ltState = P209ltState::default();
            'l99: while call_io!(p209lt(&mut ss100, io, t, i98, 0))? { i98 += 1;
                let mut i101: i64 = 0;
                'l102: while call_io!(p209lt(&mut ss100, io, t, i101, 3))? { i101 += 1;
                    tp(t, format!("s103:{tag}:{xs:?}"));
                    yield_io!(Completion::yield_now())?;
                    tp(t, format!("s104:{}", x93.wrapping_add(-1)));
                    #[derive(Debug)] struct S105 { v: i64 }
                    let mut r106: Result<i32, CompletionError> = yield_io!(Completion::yield_now());
                    tr(t, 107, &(a));
                }
                match yield_io!(io.group(0)) {
                Ok(n108) => { tp(t, format!("s109:ok{n108}"));
                    let c76: Result<i32, CompletionError> = yield_io!(Completion::yield_now());
                    tr(t, 110, &());
                } Err(e111) => { tp(t, format!("s112:{e111:?}"));
                    tp(t, format!("s113"));
                    tr(t, 114, &(tag, xs));
                }
                }
                let v115: Vec<i64> = vec![];
                a = chk(11)?;
            }
        };
        tr(t, 117, &(tag, xs));
        let mut v119: Vec<i64> = mv.into_iter().rev().collect();
        tp(t, format!("mv118:{v119:?}"));
        yield_io!(io.op())?;
        let x120: i64;
        yield_io!(io.op())?;
        x120 = 5;
        if false {
            {
                let _g124: Dg = dgx(124);
                let dv122: Dg = dg(121);
                tr(t, 123, &dv122);
                yield_io!(Completion::yield_now())?;
                tp(t, format!("s125:{v119:?}"));
                let mut c126: i64 = 0;
                'l127: loop { c126 += 1; if c126 > 2 { break 'l127; }
                    tr(t, 128, &(tag, xs));
                    tr(t, 129, &((tag.len() as i64)));
                    #[allow(unused_imports)] use std::fmt::Write as _;
                    #[allow(unused_macros)] macro_rules! m131 { ($e:expr) => { i64::wrapping_sub($e, 131) }; }
                }
            }
            tp(t, format!("s132:{a}"));
            if true {
                a = a.wrapping_add(20);
                let _g133: Dg = dgx(133);
                'l135: for i134 in (bnd(t, 136, 0) as i64)..(bnd(t, 137, 3) as i64) {
                    let dv139: Dg = dgv(138);
                    tp(t, format!("s140:Dg({})", dv139.0));
                    tr(t, 141, &pv);
                    yield_io!(Completion::yield_now())?;
                    tr(t, 142, &pv);
                    pv = Vec::new();
                }
                match yield_io!(Completion::yield_now()) {
                Ok(n143) => { tp(t, format!("s144:ok{n143}"));
                    tr(t, 145, &(tag, xs));
                    tp(t, format!("s146:{tag}:{xs:?}"));
                    let dv148: Dg = dg(147);
                    if ((tag.len() as i64)) > -1 {
                        tr(t, 149, &dv148);
                    }
                    {
                        let dv151: Dg = dg(150);
                        tr(t, 152, &dv151);
                        tr(t, 153, &(tag, xs));
                        yield_io!(Completion::yield_now())?;
                        let x154: i64;
                        yield_io!(Completion::yield_now())?;
                        tr(t, 155, &());
                        x154 = x116;
                        let x156: i64;
                        tr(t, 157, &(-3));
                        yield_io!(Completion::yield_now())?;
                        x156 = 18;
                    }
                    tr(t, 158, &());
                } Err(e159) => { tp(t, format!("s160:{e159:?}"));
                    a = chk(14)?;
                    let mut r#x161 = c76;
                    let r162: Result<i32, CompletionError> = yield_io!(Completion::yield_now());
                }
                }
            } else {
                if x116.rem_euclid(2) == 0 {
                    yield_io!(Completion::yield_now())?;
                    tr(t, 163, &x120);
                } else {
                    tr(t, 164, &(tag, xs));
                    tr(t, 165, &(12));
                    yield_io!(Completion::yield_now())?;
                    tp(t, format!("s166:{}", a.wrapping_mul(5)));
                    let Ok(_) = yield_io!(Completion::yield_now()) else {
                        tp(t, format!("s168:{tag}:{xs:?}"));
                        return Ok(6);
                    };
                }
                let Ok(_) = yield_io!(Completion::yield_now()) else {
                    tr(t, 170, &v119);
                    return Err(E::User(70));
                };
            }
        } else if a > 2 {
            let mut _g171: Dg = dgv(171);
            for _ in 0..2u32 {
                tr(t, 173, &(a));
                yield_io!(Completion::yield_now())?;
                _g171 = dgv(172);
            }
            #[allow(unused_mut, unused_variables)] {
                let Ok(_) = yield_io!(Completion::yield_now()) else {
                    tr(t, 175, &(x120));
                    return Ok(8);
                };
                tr(t, 176, &());
            }
        } else {
            if false {
                tp(t, format!("s177:{a}"));
                return Err(E::User(58));
            }
            a = chk((tag.len() as i64))?;
        }
        tr(t, 178, &(tag, xs));
        let mut x120: Result<i32, CompletionError> = yield_io!(Completion::yield_now());
        tr(t, 179, &(tag, xs));
        Ok(x116)
    }
    pub fn run_machine(seed: u64) -> Verdict {
        let mut st = P209State::default();
        check_machine(
            seed,
            &|io: &Sched, t: &mut Vec<String>| p209_direct(io, t, 3, "tag", &[-2, 1, 4], vec![9], vec![5, 1]),
            &mut st,
            &|st: &mut P209State, io: &Sched, t: &mut Vec<String>| p209(st, io, t, 3, "tag", &[-2, 1, 4], vec![9], vec![5, 1]),
            &|st: &P209State| st.is_idle(),
        )
    }
}

fn main() {
    support::assert_agrees("runtime_s13c0de_p209", &program::run_machine(0x1274b50b98239929));
}
