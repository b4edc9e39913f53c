//! A cursor scan whose loop head suspends.
use ratchet::{
    Completion, CompletionError, IOResult, call_io, io_state_machine, io_state_machines, yield_io,
};

pub struct Cursor {
    pos: u32,
    next_state: NextState,
}

#[io_state_machines]
impl Cursor {
    #[io_state_machine(state = self.next_state)]
    pub fn next(&mut self) -> Result<IOResult<Option<u32>>, CompletionError> {
        if self.pos == 3 {
            return Ok(None);
        }
        yield_io!(Completion::ready())?;
        self.pos += 1;
        Ok(Some(self.pos))
    }
}

#[io_state_machine(state = st)]
pub fn sum(st: &mut SumState, cursor: &mut Cursor) -> Result<IOResult<u32>, CompletionError> {
    let mut total: u32 = 0;
    while let Some(row) = call_io!(cursor.next())? {
        total += row;
    }
    Ok(total)
}
