//! A `while` loop with two suspension points per iteration.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

pub struct Disk;
impl Disk {
    pub fn read(&self, _page: u64) -> Completion {
        Completion::ready()
    }
    pub fn write(&self, _page: u64) -> Completion {
        Completion::ready()
    }
}

#[io_state_machine(state = st)]
pub fn copy_pages(st: &mut CopyPagesState, disk: &Disk, n: u64) -> Result<IOResult<u64>, CompletionError> {
    let mut i: u64 = 0;
    while i < n {
        yield_io!(disk.read(i))?;
        yield_io!(disk.write(i))?;
        i += 1;
    }
    Ok(n)
}
