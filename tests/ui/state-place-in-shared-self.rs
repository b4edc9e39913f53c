// `state = self.v[0]` in a `&self` method got rustc's "cannot borrow as
// mutable" on generated code; the macro says why at the expression.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

pub struct P {
    v: Vec<GoState>,
}

#[io_state_machines]
impl P {
    #[io_state_machine(state = self.v[0])]
    fn go(&self, c: &Completion) -> Result<IOResult<u32>, CompletionError> {
        yield_io!(c.clone())?;
        Ok(1)
    }
}

fn main() {}
