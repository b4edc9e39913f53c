// A binding the pattern declares `mut` stays mutable through the rebinding
// the fix suggests: the `mut` moves from the pattern to the rebinding
// (`if let Some(n) = next { let mut n: N = n; .. }`), so the pasted fix
// compiles (no E0384) and leaves no unused `mut` behind.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

pub struct P {
    pub a: u64,
    pub b: u32,
}

#[io_state_machine(state = st)]
fn if_let(st: &mut IfLetState, c: &Completion, next: Option<u64>) -> Result<IOResult<u64>, CompletionError> {
    if let Some(mut n) = next {
        n += 1;
        yield_io!(c.clone())?;
        n += 1;
        return Ok(n);
    }
    Ok(0)
}

#[io_state_machine(state = st)]
fn struct_let(st: &mut StructLetState, c: &Completion, p: P) -> Result<IOResult<u64>, CompletionError> {
    let P { mut a, b } = p;
    yield_io!(c.clone())?;
    a += u64::from(b);
    Ok(a)
}

#[io_state_machine(state = st)]
fn while_let(st: &mut WhileLetState, c: &Completion, mut v: Vec<u64>) -> Result<IOResult<u64>, CompletionError> {
    let mut t: u64 = 0;
    while let Some(mut x) = v.pop() {
        yield_io!(c.clone())?;
        x += 1;
        t += x;
    }
    Ok(t)
}

#[io_state_machine(state = st)]
fn arm(st: &mut ArmState, c: &Completion, e: Option<(u64, u64)>) -> Result<IOResult<u64>, CompletionError> {
    match e {
        Some((mut x, 0)) | Some((0, mut x)) => {
            yield_io!(c.clone())?;
            x += 1;
            Ok(x)
        }
        _ => Ok(0),
    }
}

fn main() {}
