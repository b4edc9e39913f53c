//! The on-disk format: constants, CRC-32, the data-file header, WAL frame
//! headers and B+tree node pages, and the engine's error type.
//!
//! Everything is little-endian. Every structure that can be read back after
//! a crash carries a checksum, so a torn or foreign block is recognised and
//! never trusted.

use std::fmt;
use std::sync::{Arc, OnceLock};

use ratchet::CompletionError;

/// Size of a page in the data file and of the page image in a WAL frame.
pub const PAGE_SIZE: usize = 4096;

/// Format version written in the header; a file of another version is
/// refused rather than misread.
pub const VERSION: u32 = 1;

/// The first eight bytes of each header slot of a data file.
pub const DATA_MAGIC: &[u8; 8] = b"PAGEKVDB";

/// The first four bytes of every WAL frame.
pub const FRAME_MAGIC: &[u8; 4] = b"PKVF";

/// Bytes of one header slot. Page 0 of the data file holds two slots, each in
/// its own 512-byte sector, written alternately: a torn header write can only
/// damage the slot being written, never the one that describes the durable
/// state.
pub const HEADER_SLOT_BYTES: usize = 512;

/// Bytes of the header in front of each page image in the WAL.
pub const FRAME_HEADER_BYTES: usize = 48;

/// Bytes of one WAL frame: header plus page image.
pub const FRAME_BYTES: usize = FRAME_HEADER_BYTES + PAGE_SIZE;

/// Largest key accepted. With [`MAX_VALUE`] it bounds an entry so that any
/// page holds at least six entries and a split always yields two pages that
/// fit.
pub const MAX_KEY: usize = 128;

/// Largest value accepted.
pub const MAX_VALUE: usize = 512;

/// Bytes of a node page before its entries: kind, count, reserved.
const NODE_HEADER_BYTES: usize = 5;

/// Bytes a node's entries may use: the page minus the node header and the
/// trailing checksum.
pub const NODE_CAPACITY: usize = PAGE_SIZE - NODE_HEADER_BYTES - 4;

// ---------------------------------------------------------------------------
// Errors

/// What can go wrong in the engine. Every variant prints as one sentence
/// that says what happened and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An I/O operation failed; `context` says which one.
    Io {
        /// What the engine was doing.
        context: &'static str,
        /// What the backend reported.
        source: CompletionError,
    },
    /// An I/O error from opening files (not a completion).
    Open(String),
    /// The data file is not a pagekv data file at all.
    Foreign(String),
    /// The data file is a pagekv file but damaged, or a page failed its
    /// checksum.
    Corrupt(String),
    /// The data file was written by another format version or page size.
    Unsupported(String),
    /// A key or value outside the accepted sizes.
    TooLarge(String),
    /// An earlier write or sync failed, so the in-memory state may be ahead
    /// of the disk: the engine refuses further work until it is reopened,
    /// which recovers exactly what was acknowledged.
    Failed(String),
}

impl Error {
    /// An I/O failure while doing `context`.
    pub fn io(context: &'static str, source: CompletionError) -> Error {
        Error::Io { context, source }
    }
}

impl From<CompletionError> for Error {
    fn from(source: CompletionError) -> Self {
        Error::Io {
            context: "I/O",
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Open(msg)
            | Error::Foreign(msg)
            | Error::Corrupt(msg)
            | Error::Unsupported(msg)
            | Error::TooLarge(msg) => f.write_str(msg),
            Error::Failed(msg) => write!(
                f,
                "the store stopped after an earlier failure ({msg}); reopen it to recover the acknowledged data"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Adds `context` to the error of a completion or a submission.
pub fn ctx<T>(r: Result<T, CompletionError>, context: &'static str) -> Result<T, Error> {
    r.map_err(|e| Error::io(context, e))
}

// ---------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, reflected, as zlib computes it)

/// A running CRC-32: crc32fast, which folds 64 bytes per step with the CPU's
/// carry-less multiply where it has one (pages are checksummed on every
/// read and write; a table-driven loop was most of a get's CPU time).
#[derive(Clone)]
pub struct Crc(crc32fast::Hasher);

impl Crc {
    /// The CRC of nothing yet.
    pub fn new() -> Crc {
        Crc(crc32fast::Hasher::new())
    }

    /// Feeds `bytes`.
    pub fn update(mut self, bytes: &[u8]) -> Crc {
        self.0.update(bytes);
        self
    }

    /// The checksum.
    pub fn finish(self) -> u32 {
        self.0.finalize()
    }
}

/// CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    Crc::new().update(bytes).finish()
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

// ---------------------------------------------------------------------------
// The data-file header

/// What the durable state of the store is, as far as the data file knows:
/// the tree's root and size, and the last transaction copied into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Meta {
    /// The root page of the tree; 0 for an empty tree (page 0 is the header).
    pub root: u64,
    /// Pages in use, header page included: the next page to allocate.
    pub page_count: u64,
    /// The last transaction whose changes this state includes.
    pub txn: u64,
}

/// One header slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Bumped by each checkpoint. WAL frames carry the generation they were
    /// written in; frames of another generation are stale and ignored, which
    /// is what makes a checkpoint's log truncation crash-safe.
    pub generation: u64,
    /// The tree as of the last checkpoint.
    pub meta: Meta,
}

impl Header {
    /// The slot's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(HEADER_SLOT_BYTES);
        b.extend_from_slice(DATA_MAGIC);
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.extend_from_slice(&(PAGE_SIZE as u32).to_le_bytes());
        b.extend_from_slice(&self.generation.to_le_bytes());
        b.extend_from_slice(&self.meta.root.to_le_bytes());
        b.extend_from_slice(&self.meta.page_count.to_le_bytes());
        b.extend_from_slice(&self.meta.txn.to_le_bytes());
        let crc = crc32(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b.resize(HEADER_SLOT_BYTES, 0);
        b
    }

    /// Which slot generation `generation` is written to.
    pub fn slot_of(generation: u64) -> usize {
        (generation % 2) as usize
    }

    /// Reads the two slots of page 0 and picks the valid one with the highest
    /// generation. `path` names the file in error messages.
    pub fn decode_page(page: &[u8], path: &str) -> Result<Header, Error> {
        let mut best: Option<Header> = None;
        let mut magic_seen = false;
        let mut problem = String::new();
        for slot in 0..2 {
            let b = &page[slot * HEADER_SLOT_BYTES..(slot + 1) * HEADER_SLOT_BYTES];
            if &b[..8] != DATA_MAGIC {
                continue;
            }
            magic_seen = true;
            if crc32(&b[..48]) != u32_at(b, 48) {
                problem = format!("{path}: header slot {slot} fails its checksum");
                continue;
            }
            let version = u32_at(b, 8);
            if version != VERSION {
                return Err(Error::Unsupported(format!(
                    "{path}: pagekv format version {version}, this build reads version {VERSION}"
                )));
            }
            let page_size = u32_at(b, 12);
            if page_size as usize != PAGE_SIZE {
                return Err(Error::Unsupported(format!(
                    "{path}: page size {page_size}, this build uses {PAGE_SIZE}"
                )));
            }
            let h = Header {
                generation: u64_at(b, 16),
                meta: Meta {
                    root: u64_at(b, 24),
                    page_count: u64_at(b, 32),
                    txn: u64_at(b, 40),
                },
            };
            if Header::slot_of(h.generation) != slot
                || h.meta.page_count == 0
                || h.meta.root >= h.meta.page_count
            {
                problem = format!("{path}: header slot {slot} is inconsistent");
                continue;
            }
            if best.is_none_or(|b| b.generation < h.generation) {
                best = Some(h);
            }
        }
        match best {
            Some(h) => Ok(h),
            None if !magic_seen => Err(Error::Foreign(format!(
                "{path}: not a pagekv data file (no pagekv header)"
            ))),
            None => Err(Error::Corrupt(format!(
                "{path}: corrupt pagekv data file ({problem})"
            ))),
        }
    }
}

// ---------------------------------------------------------------------------
// WAL frames

/// The header of a WAL frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The checkpoint generation the frame belongs to.
    pub generation: u64,
    /// The transaction that wrote it.
    pub txn: u64,
    /// The page whose image follows.
    pub page: u64,
    /// `Some` on the last frame of a transaction: the tree after it.
    pub commit: Option<Meta>,
}

impl FrameHeader {
    /// Appends the frame (header and `image`) to `out`.
    pub fn encode_into(&self, image: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(FRAME_MAGIC);
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&self.generation.to_le_bytes());
        out.extend_from_slice(&self.txn.to_le_bytes());
        out.extend_from_slice(&self.page.to_le_bytes());
        let (root, count) = self.commit.map_or((0, 0), |m| (m.root, m.page_count));
        out.extend_from_slice(&root.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(image);
        let crc = crc32(&out[start + 8..]);
        out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    }

    /// The frame at the start of `b` (at least [`FRAME_BYTES`] long), if it
    /// is intact: magic and checksum match. A torn, zeroed or foreign frame
    /// gives `None`.
    pub fn decode(b: &[u8]) -> Option<FrameHeader> {
        if b.len() < FRAME_BYTES || &b[..4] != FRAME_MAGIC {
            return None;
        }
        if crc32(&b[8..FRAME_BYTES]) != u32_at(b, 4) {
            return None;
        }
        let txn = u64_at(b, 16);
        let count = u64_at(b, 40);
        Some(FrameHeader {
            generation: u64_at(b, 8),
            txn,
            page: u64_at(b, 24),
            commit: (count != 0).then(|| Meta {
                root: u64_at(b, 32),
                page_count: count,
                txn,
            }),
        })
    }
}

// ---------------------------------------------------------------------------
// Nodes

/// A key or a value of a node: a range of a decoded page image, shared, or
/// bytes of its own. Decoding a page copies it once and hands out ranges,
/// instead of allocating (and later freeing) every key and value: that was
/// most of the CPU time of a get that misses the page cache.
#[derive(Clone)]
pub struct Bytes {
    buf: Arc<[u8]>,
    start: u32,
    len: u32,
}

impl Bytes {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[self.start as usize..(self.start + self.len) as usize]
    }
}

impl Default for Bytes {
    /// No bytes.
    fn default() -> Bytes {
        Bytes::from(&[][..])
    }
}

impl From<&[u8]> for Bytes {
    fn from(b: &[u8]) -> Bytes {
        Bytes {
            buf: Arc::from(b),
            start: 0,
            len: u32::try_from(b.len()).expect("keys and values are far below 4 GiB"),
        }
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Bytes) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Bytes {}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

/// A decoded B+tree node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Sorted keys with their values.
    Leaf {
        /// Ascending, distinct.
        keys: Vec<Bytes>,
        /// `vals[i]` belongs to `keys[i]`.
        vals: Vec<Bytes>,
    },
    /// Separators and children: `children[i + 1]` holds the keys at or
    /// above `keys[i]`, `children[0]` those below `keys[0]`.
    Interior {
        /// Ascending, distinct.
        keys: Vec<Bytes>,
        /// One more than `keys`.
        children: Vec<u64>,
    },
}

impl Node {
    /// An empty leaf.
    pub fn empty_leaf() -> Node {
        Node::Leaf {
            keys: Vec::new(),
            vals: Vec::new(),
        }
    }

    /// Bytes the entries take in a page.
    pub fn entries_size(&self) -> usize {
        match self {
            Node::Leaf { keys, vals } => keys.iter().zip(vals).map(|(k, v)| 4 + k.len() + v.len()).sum(),
            Node::Interior { keys, .. } => 8 + keys.iter().map(|k| 2 + k.len() + 8).sum::<usize>(),
        }
    }

    /// Whether the node fits in one page.
    pub fn fits(&self) -> bool {
        self.entries_size() <= NODE_CAPACITY
    }

    /// The child of an interior node that holds `key`.
    pub fn child_for(keys: &[Bytes], children: &[u64], key: &[u8]) -> (usize, u64) {
        let i = keys.partition_point(|k| k.as_slice() <= key);
        (i, children[i])
    }

    /// The page image of node `no`, with its checksum (which covers the page
    /// number, so a page written in the wrong place is caught too).
    pub fn encode(&self, no: u64) -> Vec<u8> {
        let mut b = Vec::with_capacity(PAGE_SIZE);
        let push_len = |b: &mut Vec<u8>, n: usize| b.extend_from_slice(&(n as u16).to_le_bytes());
        match self {
            Node::Leaf { keys, vals } => {
                b.push(1);
                push_len(&mut b, keys.len());
                b.extend_from_slice(&[0, 0]);
                for (k, v) in keys.iter().zip(vals) {
                    push_len(&mut b, k.len());
                    push_len(&mut b, v.len());
                    b.extend_from_slice(k);
                    b.extend_from_slice(v);
                }
            }
            Node::Interior { keys, children } => {
                b.push(2);
                push_len(&mut b, keys.len());
                b.extend_from_slice(&[0, 0]);
                b.extend_from_slice(&children[0].to_le_bytes());
                for (k, c) in keys.iter().zip(&children[1..]) {
                    push_len(&mut b, k.len());
                    b.extend_from_slice(k);
                    b.extend_from_slice(&c.to_le_bytes());
                }
            }
        }
        debug_assert!(b.len() <= PAGE_SIZE - 4, "node overflows its page");
        b.resize(PAGE_SIZE - 4, 0);
        let crc = Crc::new().update(&no.to_le_bytes()).update(&b).finish();
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes the image of page `no`, checking its checksum and structure.
    pub fn decode(b: &[u8], no: u64) -> Result<Node, Error> {
        Ok(Page::parse(b, no)?.node().clone())
    }
}

/// A node page as the page cache holds it: the checked image of a page read
/// from the disk, searched in place, or a node a writer built. A get that
/// misses the cache reads one leaf and looks up one key in it: decoding
/// every entry of the page for that (and freeing them at eviction) was most
/// of its CPU time. The decoded [`Node`] is made the first time a writer or
/// a scan asks for it.
pub struct Page {
    image: Option<Image>,
    node: OnceLock<Node>,
}

/// A page image whose checksum and structure have been checked, and where
/// each of its entries starts.
struct Image {
    bytes: Arc<[u8]>,
    leaf: bool,
    /// Offset of each entry's length field: a leaf entry is key length,
    /// value length, key, value; an interior entry is key length, key, and
    /// the child to its right (the leftmost child comes first).
    entries: Vec<u16>,
}

/// Where an interior page's leftmost child is.
const FIRST_CHILD: usize = NODE_HEADER_BYTES;

impl Image {
    fn key(&self, i: usize) -> &[u8] {
        let at = usize::from(self.entries[i]);
        let len = usize::from(u16_at(&self.bytes, at));
        let start = at + if self.leaf { 4 } else { 2 };
        &self.bytes[start..start + len]
    }

    fn value(&self, i: usize) -> &[u8] {
        let at = usize::from(self.entries[i]);
        let (kl, vl) = (
            usize::from(u16_at(&self.bytes, at)),
            usize::from(u16_at(&self.bytes, at + 2)),
        );
        &self.bytes[at + 4 + kl..at + 4 + kl + vl]
    }

    /// Child `i` of an interior page (`0..=entries.len()`).
    fn child(&self, i: usize) -> u64 {
        if i == 0 {
            return u64_at(&self.bytes, FIRST_CHILD);
        }
        let at = usize::from(self.entries[i - 1]);
        u64_at(&self.bytes, at + 2 + usize::from(u16_at(&self.bytes, at)))
    }

    /// A range of the image, sharing it.
    fn shared(&self, part: &[u8]) -> Bytes {
        let start = part.as_ptr() as usize - self.bytes.as_ptr() as usize;
        Bytes {
            buf: self.bytes.clone(),
            start: start as u32,
            len: part.len() as u32,
        }
    }

    fn decode(&self) -> Node {
        let n = self.entries.len();
        let keys: Vec<Bytes> = (0..n).map(|i| self.shared(self.key(i))).collect();
        if self.leaf {
            let vals = (0..n).map(|i| self.shared(self.value(i))).collect();
            Node::Leaf { keys, vals }
        } else {
            let children = (0..=n).map(|i| self.child(i)).collect();
            Node::Interior { keys, children }
        }
    }
}

impl Page {
    /// A node a writer built.
    pub fn from_node(node: Node) -> Page {
        Page {
            image: None,
            node: OnceLock::from(node),
        }
    }

    /// The image of page `no` as read, after checking its checksum and
    /// structure.
    pub fn parse(b: &[u8], no: u64) -> Result<Page, Error> {
        let corrupt = |what: &str| Error::Corrupt(format!("page {no}: {what}"));
        if b.len() != PAGE_SIZE {
            return Err(corrupt("short page"));
        }
        let crc = Crc::new()
            .update(&no.to_le_bytes())
            .update(&b[..PAGE_SIZE - 4])
            .finish();
        if crc != u32_at(b, PAGE_SIZE - 4) {
            return Err(corrupt("checksum mismatch"));
        }
        let n = usize::from(u16_at(b, 1));
        let end = PAGE_SIZE - 4;
        let mut at = NODE_HEADER_BYTES;
        let mut skip = |len: usize| -> Result<usize, Error> {
            if at + len > end {
                return Err(corrupt("entry past the end of the page"));
            }
            at += len;
            Ok(at - len)
        };
        let mut entries = Vec::with_capacity(n);
        let leaf = match b[0] {
            1 => {
                for _ in 0..n {
                    let lens = skip(4)?;
                    entries.push(lens as u16);
                    skip(usize::from(u16_at(b, lens)))?;
                    skip(usize::from(u16_at(b, lens + 2)))?;
                }
                true
            }
            2 => {
                skip(8)?;
                for _ in 0..n {
                    let len = skip(2)?;
                    entries.push(len as u16);
                    skip(usize::from(u16_at(b, len)))?;
                    skip(8)?;
                }
                false
            }
            kind => return Err(corrupt(&format!("unknown node kind {kind}"))),
        };
        Ok(Page {
            image: Some(Image {
                bytes: Arc::from(b),
                leaf,
                entries,
            }),
            node: OnceLock::new(),
        })
    }

    /// Whether it is a leaf.
    pub fn is_leaf(&self) -> bool {
        match &self.image {
            Some(image) => image.leaf,
            None => matches!(self.node(), Node::Leaf { .. }),
        }
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        match &self.image {
            Some(image) => image.entries.len(),
            None => match self.node() {
                Node::Leaf { keys, .. } | Node::Interior { keys, .. } => keys.len(),
            },
        }
    }

    /// The decoded node, made on first use.
    pub fn node(&self) -> &Node {
        self.node.get_or_init(|| match &self.image {
            Some(image) => image.decode(),
            // A page without an image was made with its node.
            None => Node::empty_leaf(),
        })
    }

    /// Of an interior page: the child that holds `key`, and its index.
    pub fn child_for(&self, key: &[u8]) -> (usize, u64) {
        match &self.image {
            Some(image) => {
                let i = partition(image.entries.len(), |i| image.key(i) <= key);
                (i, image.child(i))
            }
            None => match self.node() {
                Node::Interior { keys, children } => Node::child_for(keys, children, key),
                Node::Leaf { .. } => (0, 0),
            },
        }
    }

    /// Of a leaf: the value stored under `key`.
    pub fn lookup(&self, key: &[u8]) -> Option<&[u8]> {
        match &self.image {
            Some(image) => {
                let i = partition(image.entries.len(), |i| image.key(i) < key);
                (i < image.entries.len() && image.key(i) == key).then(|| image.value(i))
            }
            None => match self.node() {
                Node::Leaf { keys, vals } => keys
                    .binary_search_by(|k| k.as_slice().cmp(key))
                    .ok()
                    .map(|i| vals[i].as_slice()),
                Node::Interior { .. } => None,
            },
        }
    }

    /// The page image of page `no`: the image as read, or the node encoded.
    pub fn encode(&self, no: u64) -> Vec<u8> {
        match &self.image {
            Some(image) => image.bytes.to_vec(),
            None => self.node().encode(no),
        }
    }
}

/// The number of leading indices in `0..n` for which `below` holds (it holds
/// for a prefix): a binary search.
fn partition(n: usize, below: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if below(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page searched in place answers as its decoded node does, for keys
    /// present, absent, below and above all of them.
    #[test]
    fn a_page_searched_in_place_agrees_with_its_node() {
        let key = |i: u32| format!("k{:06}", i * 3).into_bytes();
        let probes: Vec<Vec<u8>> = (0..200u32)
            .map(|i| format!("k{:06}", i).into_bytes())
            .chain([b"".to_vec(), b"a".to_vec(), b"z".to_vec()])
            .collect();
        for n in [0u32, 1, 2, 7, 40] {
            let keys: Vec<Bytes> = (0..n).map(|i| Bytes::from(&key(i)[..])).collect();
            let vals: Vec<Bytes> = (0..n).map(|i| Bytes::from(&vec![b'v'; i as usize][..])).collect();
            let children: Vec<u64> = (0..=u64::from(n)).map(|c| 100 + c).collect();
            for node in [
                Node::Leaf {
                    keys: keys.clone(),
                    vals,
                },
                Node::Interior { keys, children },
            ] {
                let image = node.encode(9);
                let page = Page::parse(&image, 9).unwrap();
                assert_eq!(page.encode(9), image);
                assert_eq!(page.len(), n as usize);
                assert_eq!(page.is_leaf(), matches!(node, Node::Leaf { .. }));
                for probe in &probes {
                    match &node {
                        Node::Leaf { keys, vals } => {
                            let want = keys
                                .binary_search_by(|k| k.as_slice().cmp(probe))
                                .ok()
                                .map(|i| vals[i].as_slice());
                            assert_eq!(page.lookup(probe), want);
                        }
                        Node::Interior { keys, children } => {
                            assert_eq!(page.child_for(probe), Node::child_for(keys, children, probe));
                        }
                    }
                }
                assert_eq!(page.node(), &node);
                assert_eq!(Page::from_node(node.clone()).encode(9), image);
            }
        }
    }

    #[test]
    fn a_damaged_page_is_refused() {
        let node = Node::Leaf {
            keys: vec![Bytes::from(&b"key"[..])],
            vals: vec![Bytes::from(&b"value"[..])],
        };
        let mut image = node.encode(3);
        assert!(
            Page::parse(&image, 4).is_err(),
            "the page number is in the checksum"
        );
        image[10] ^= 1;
        assert!(Page::parse(&image, 3).is_err());
        // A length past the end, with a checksum that matches it.
        let mut image = node.encode(3);
        image[5..7].copy_from_slice(&5000u16.to_le_bytes());
        let crc = Crc::new()
            .update(&3u64.to_le_bytes())
            .update(&image[..PAGE_SIZE - 4])
            .finish();
        image[PAGE_SIZE - 4..].copy_from_slice(&crc.to_le_bytes());
        let err = Page::parse(&image, 3).err().expect("refused");
        assert!(err.to_string().contains("past the end"), "{err}");
    }

    #[test]
    fn crc_matches_the_reference() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        // Every split point agrees with one pass.
        let data: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(31)).collect();
        for at in 0..data.len() {
            let split = Crc::new().update(&data[..at]).update(&data[at..]).finish();
            assert_eq!(split, crc32(&data));
        }
    }
}
