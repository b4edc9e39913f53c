//! Inner attributes at the top of a machine's body (`{ #![allow(..)] .. }`)
//! or of an `#[io_state_machines]` impl. syn hands them to the item; the
//! expansion used to write them, still inner, before the item, which does
//! not parse (found by the mutation fuzzer, `never_panics`, seed run of
//! issue 13's third recorded run). They mean what they mean on the plain
//! function: `#![deny(warnings)]` below fails this file's build if one is
//! dropped instead of kept.
#![deny(warnings)]
#![allow(missing_docs)]

use ratchet::{CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

mod support;
use support::{Dev, SCHEDULES, drive};

type Res<T> = Result<IOResult<T>, CompletionError>;

#[io_state_machine(state = st)]
fn inner_allow_on_a_function(
    st: &mut InnerAllowOnAFunctionState,
    dev: &Dev,
    trace: &mut Vec<u32>,
) -> Res<u32> {
    #![allow(unused_mut)]
    let mut x: u32 = 1;
    trace.push(x);
    yield_io!(dev.op())?;
    trace.push(x + 1);
    Ok(x + 2)
}

pub struct Engine {
    st: AddState,
    total: u32,
}

#[io_state_machines]
impl Engine {
    // Applies to every method of the impl, generated ones included.
    #![allow(unused_mut)]

    #[io_state_machine(state = self.st)]
    fn add(&mut self, dev: &Dev, n: u32) -> Res<u32> {
        #![allow(unused_variables)]
        let mut unused = 0_u32;
        let mut before: u32 = self.total;
        yield_io!(dev.op())?;
        self.total = before + n;
        Ok(self.total)
    }
}

#[test]
fn inner_attributes_of_a_body_or_an_impl_are_kept() {
    for s in SCHEDULES {
        let dev = Dev::new(s);
        let mut st = InnerAllowOnAFunctionState::default();
        let (r, trace, _) = drive(&dev, |t| inner_allow_on_a_function(&mut st, &dev, t));
        assert_eq!((r, trace), (Ok(3), vec![1, 2]), "{s:?}");
        assert!(st.is_idle());

        let dev = Dev::new(s);
        let mut e = Engine {
            st: AddState::default(),
            total: 5,
        };
        let (r, _, _) = drive(&dev, |_: &mut Vec<()>| e.add(&dev, 2));
        assert_eq!(r, Ok(7), "{s:?}");
        assert_eq!(e.total, 7);
    }
}
