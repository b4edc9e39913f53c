// A borrow of a field of `self` is re-created after a suspension from its
// initializer (rule 9), so a reassignment before the suspension would be
// lost: the macro refuses a `mut` re-created binding instead of reading
// `self.a` where the code chose `self.b`.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

pub struct Pair {
    a: Vec<u32>,
    b: Vec<u32>,
    st: PickState,
}

#[io_state_machines]
impl Pair {
    #[io_state_machine(state = self.st)]
    fn pick(&mut self, c: &Completion, second: bool) -> Result<IOResult<usize>, CompletionError> {
        let mut r = &self.a;
        if second {
            r = &self.b;
        }
        yield_io!(c.clone())?;
        Ok(r.len())
    }
}

fn main() {}
