use ratchet::{Completion, CompletionError, IOResult, io_state_machine, io_state_machines, yield_io};

// A broken method of a generic impl: its idle-only stand-in keeps the
// generics of the stored types that could be read, so the struct naming
// `CollectState<K>` and the callers compile; the one error is the only one.
pub struct Tree<K> {
    keys: Vec<K>,
    collect_state: CollectState<K>,
}

#[io_state_machines]
impl<K: Clone> Tree<K> {
    #[io_state_machine(state = self.collect_state)]
    pub fn collect(&mut self, c: &Completion) -> Result<IOResult<Vec<K>>, CompletionError> {
        let mut acc: Vec<K> = Vec::new();
        let extra = vec![0u8];
        yield_io!(c.clone())?;
        acc.extend(self.keys.iter().cloned());
        let _ = extra.len();
        Ok(acc)
    }
}

fn main() {
    let mut t = Tree { keys: vec![1u8], collect_state: CollectState::default() };
    assert!(t.collect_state.is_idle());
    let _ = t.collect(&Completion::ready());
}
