//! A generic impl whose stored locals use the impl's type parameter: the
//! state enum is generic over exactly that parameter.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

pub struct Tree<K> {
    keys: Vec<K>,
    collect_state: CollectState<K>,
}

#[io_state_machines]
impl<K: Clone> Tree<K> {
    #[io_state_machine(state = self.collect_state)]
    pub fn collect(&mut self, c: &Completion) -> Result<IOResult<Vec<K>>, CompletionError> {
        let mut acc: Vec<K> = Vec::new();
        let mut i: usize = 0;
        while i < self.keys.len() {
            yield_io!(c.clone())?;
            acc.push(self.keys[i].clone());
            i += 1;
        }
        Ok(acc)
    }
}
