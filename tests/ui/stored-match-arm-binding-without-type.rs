// Locals bound by a `match` arm's pattern and by a struct pattern, stored
// across a suspension point: neither pattern can carry the types, so the
// fix is a typed rebinding, shown where it goes, one error per pattern.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

pub enum Frame {
    Data(u64, u32),
    End,
}

pub struct Span {
    pub at: u64,
    pub len: u32,
}

#[io_state_machine(state = st)]
fn f(st: &mut FState, c: &Completion, fr: Frame, sp: Span) -> Result<IOResult<u64>, CompletionError> {
    let Span { at, len } = sp;
    match fr {
        Frame::Data(off, n) => {
            yield_io!(c.clone())?;
            Ok(off + u64::from(n) + at + u64::from(len))
        }
        Frame::End => Ok(0),
    }
}

fn main() {}
