// `#[reevaluated]` through `cfg_attr` is refused at the attribute, whatever
// the predicate (the macro expands before rustc evaluates it), and rustc
// adds no "cannot find attribute" of its own.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

pub struct Pager {
    header: u32,
}

#[io_state_machine(state = st)]
fn always(st: &mut AlwaysState, pager: &Pager, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    #[cfg_attr(all(), reevaluated)]
    let h = &pager.header;
    yield_io!(c.clone())?;
    Ok(*h)
}

#[io_state_machine(state = st)]
fn never(st: &mut NeverState, pager: &Pager, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    #[cfg_attr(any(), reevaluated)]
    let h: u32 = pager.header;
    yield_io!(c.clone())?;
    Ok(h)
}

fn main() {}
