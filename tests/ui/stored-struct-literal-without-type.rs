use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

pub enum Msg {
    Write { page: u32 },
    Stop,
}

pub struct Wrapper<T> {
    v: T,
}

// A struct or variant literal does not name its type's generic arguments
// (`Wrapper<u32>`), and `Msg::Write` is a variant, not a type: the stored
// locals need an annotation.
#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let m = Msg::Write { page: 3 };
    let w = Wrapper { v: 5u32 };
    yield_io!(c.clone())?;
    let p = match m {
        Msg::Write { page } => page,
        Msg::Stop => 0,
    };
    Ok(p + w.v)
}

fn main() {}
