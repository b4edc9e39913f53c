//! Walks a small B-tree-like page structure through `#[io_state_machine]`
//! machines: a point lookup that descends from the root one page read at a
//! time, and a range scan that follows the leaves' sibling pointers.
//!
//! Run it with `cargo run --example btree_walk`. It runs each machine on
//! `MemoryIO` (every read finishes at once: the fast path) and on
//! `DeferredIO` (every read waits for the next step: every resume path).
//!
//! Page layout (64 bytes): `[kind, n, key0..key{n-1} as u32 LE, ptr0..ptr{n} as u32 LE]`.
//! An interior page (`kind = 0`) has `n` keys and `n + 1` children; a leaf
//! (`kind = 1`) has `n` keys, `n` values and, last, its right sibling
//! (`u32::MAX` for none).

use std::path::Path;
use std::sync::Arc;

use ratchet::{
    Buffer, Completion, CompletionError, DeferredIO, File, IO, IOExt, IOResult, MemoryIO, OpenOptions,
    io_state_machine, io_state_machines, yield_io,
};

const PAGE: usize = 64;
const NONE: u32 = u32::MAX;

/// A page as read from disk.
struct Page {
    leaf: bool,
    keys: Vec<u32>,
    ptrs: Vec<u32>,
}

impl Page {
    fn decode(bytes: &[u8]) -> Page {
        let n = usize::from(bytes[1]);
        let word = |i: usize| {
            u32::from_le_bytes([
                bytes[2 + 4 * i],
                bytes[3 + 4 * i],
                bytes[4 + 4 * i],
                bytes[5 + 4 * i],
            ])
        };
        let keys = (0..n).map(word).collect();
        let ptrs = (n..n + n + 1).map(word).collect();
        Page {
            leaf: bytes[0] == 1,
            keys,
            ptrs,
        }
    }

    fn encode(leaf: bool, keys: &[u32], ptrs: &[u32]) -> Vec<u8> {
        let mut out = vec![u8::from(leaf), u8::try_from(keys.len()).expect("small page")];
        for w in keys.iter().chain(ptrs) {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.resize(PAGE, 0);
        out
    }
}

/// The tree: a file of pages and the states of its machines.
struct Tree {
    file: Arc<dyn File>,
    root: u32,
    find_state: FindState,
    scan_state: ScanState,
    /// Pages read so far, to show the walk.
    reads: Vec<u32>,
}

/// Starts the read of page `no` into a fresh buffer.
fn read_page(file: &dyn File, no: u32, buf: &Arc<Buffer>) -> Result<Completion, CompletionError> {
    file.pread(u64::from(no) * PAGE as u64, Completion::read(buf.clone()))
}

#[io_state_machines]
impl Tree {
    /// The value stored under `key`, if any.
    #[io_state_machine(state = self.find_state)]
    fn find(&mut self, key: u32) -> Result<IOResult<Option<u32>>, CompletionError> {
        let mut no: u32 = self.root;
        loop {
            let buf: Arc<Buffer> = Arc::new(Buffer::new(PAGE));
            yield_io!(read_page(&*self.file, no, &buf)?)?;
            self.reads.push(no);
            let page = Page::decode(&buf.to_vec());
            if page.leaf {
                return Ok(page.keys.iter().position(|k| *k == key).map(|i| page.ptrs[i]));
            }
            let child = page.keys.iter().take_while(|k| **k <= key).count();
            no = page.ptrs[child];
        }
    }

    /// The values of the keys in `from..to`, walking the leaf chain.
    #[io_state_machine(state = self.scan_state)]
    fn scan(&mut self, from: u32, to: u32) -> Result<IOResult<Vec<u32>>, CompletionError> {
        let mut out: Vec<u32> = Vec::new();
        // Descend to the leaf holding `from`.
        let mut no: u32 = self.root;
        let mut leaf: Vec<u8> = loop {
            let buf: Arc<Buffer> = Arc::new(Buffer::new(PAGE));
            yield_io!(read_page(&*self.file, no, &buf)?)?;
            self.reads.push(no);
            let bytes = buf.to_vec();
            let page = Page::decode(&bytes);
            if page.leaf {
                break bytes;
            }
            no = page.ptrs[page.keys.iter().take_while(|k| **k <= from).count()];
        };
        // Then follow the siblings until a key reaches `to`.
        'chain: loop {
            let page = Page::decode(&leaf);
            for (i, k) in page.keys.iter().enumerate() {
                if *k >= to {
                    break 'chain;
                }
                if *k >= from {
                    out.push(page.ptrs[i]);
                }
            }
            let next: u32 = page.ptrs[page.keys.len()];
            if next == NONE {
                break;
            }
            let buf: Arc<Buffer> = Arc::new(Buffer::new(PAGE));
            yield_io!(read_page(&*self.file, next, &buf)?)?;
            self.reads.push(next);
            leaf = buf.to_vec();
        }
        Ok(out)
    }
}

/// Writes a two-level tree: root 0 with keys [30, 60] over leaves 1, 2, 3.
fn build(io: &dyn IO, path: &Path) -> Result<Tree, Box<dyn std::error::Error>> {
    let file = io.open_file(path, OpenOptions::new())?;
    let pages = [
        Page::encode(false, &[30, 60], &[1, 2, 3]),
        Page::encode(true, &[10, 20], &[100, 200, 2]),
        Page::encode(true, &[30, 40, 50], &[300, 400, 500, 3]),
        Page::encode(true, &[60, 70], &[600, 700, NONE]),
    ];
    for (i, p) in pages.into_iter().enumerate() {
        let c = file.pwrite(
            (i * PAGE) as u64,
            Arc::new(Buffer::from_vec(p)),
            Completion::write(),
        )?;
        io.wait(&c)?;
    }
    Ok(Tree {
        file,
        root: 0,
        find_state: FindState::default(),
        scan_state: ScanState::default(),
        reads: Vec::new(),
    })
}

fn run<I: IO + 'static>(name: &str, io: &I) -> Result<(), Box<dyn std::error::Error>> {
    let mut tree = build(io, Path::new("/btree"))?;
    for key in [40, 70, 15] {
        tree.reads.clear();
        let v = io.block(|| tree.find(key))?;
        println!("{name}: find({key}) = {v:?}, pages read {:?}", tree.reads);
        assert!(tree.find_state.is_idle());
    }
    tree.reads.clear();
    let vs = io.block(|| tree.scan(20, 65))?;
    println!("{name}: scan(20..65) = {vs:?}, pages read {:?}", tree.reads);
    assert_eq!(vs, [200, 300, 400, 500, 600]);
    assert!(tree.scan_state.is_idle());
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run("memory", &MemoryIO::new())?;
    run("deferred", &DeferredIO::new(MemoryIO::new()))?;
    Ok(())
}
