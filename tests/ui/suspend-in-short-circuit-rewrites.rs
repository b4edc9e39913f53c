// A suspension that runs only when the operands before it let it (`&&`,
// `||`, a let chain), or only when earlier branches are not taken (`else
// if`), or on every iteration (`while`): each fix shown keeps that, and
// adds no `?` the code does not have.
use ratchet::{call_io, io_state_machine, yield_io, Completion, CompletionError, IOResult};

fn g(_c: &Completion) -> Result<IOResult<bool>, CompletionError> {
    Ok(IOResult::Done(true))
}
fn n(_c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    Ok(IOResult::Done(3))
}
fn ok(r: Result<i32, CompletionError>) -> bool {
    r.is_ok()
}

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, a: bool, o: Option<u32>) -> Result<IOResult<u32>, CompletionError> {
    let mut k: u32 = 0;
    if a || call_io!(g(c))? {
        k += 1;
    }
    if let Some(v) = o && call_io!(g(c))? {
        k += v;
    }
    if a {
        k += 2;
    } else if call_io!(n(c))? > 2 {
        k += 3;
    } else if a && call_io!(g(c))? {
        k += 4;
    }
    while k < call_io!(n(c))? {
        k += 1;
    }
    if ok(yield_io!(c.clone())) {
        k += 5;
    }
    if a && call_io!(n(c))? > 2 && k > 1 {
        k += 6;
    }
    if k > 9 || (a && call_io!(g(c))?) {
        k += 7;
    }
    Ok(k)
}

fn main() {}
