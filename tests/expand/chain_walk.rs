//! A chain walk: one page per iteration, the next page number read from the
//! page, an early return at the end of the chain, a labeled `break` out of
//! an inner loop.
use ratchet::{Completion, CompletionError, IOResult, io_state_machine, yield_io};

pub struct Disk {
    pub next: Vec<u64>,
}

impl Disk {
    pub fn read(&self, _page: u64) -> Completion {
        Completion::ready()
    }
}

#[io_state_machine(state = st)]
pub fn walk(st: &mut WalkState, disk: &Disk, start: u64) -> Result<IOResult<u64>, CompletionError> {
    let mut page: u64 = start;
    let mut hops: u64 = 0;
    'chain: loop {
        yield_io!(disk.read(page))?;
        let next: u64 = disk.next[usize::try_from(page).unwrap_or(0)];
        if next == u64::MAX {
            return Ok(hops);
        }
        for slot in 0..2u32 {
            if slot == 1 && next == 0 {
                break 'chain;
            }
        }
        hops += 1;
        page = next;
    }
    Ok(hops)
}
