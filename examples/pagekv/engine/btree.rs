//! The B+tree over the pager: lookups, inserts with node splits (up to a new
//! root), deletes, and a full in-order scan. Every page read is a
//! `call_io!` of the pager's `read` machine; the changes themselves are made
//! in memory, after every page they touch has been read, so an I/O error
//! leaves the tree untouched.
//!
//! Deletes remove the entry from its leaf and never merge nodes: an emptied
//! leaf stays in the tree, still correct for every operation, and its space
//! is reused by later inserts into its key range.
//!
//! Readers interleave; writers are serialized. Gets and scans carry their
//! own machine states ([`GetState`], [`ScanState`], owned by the caller), so
//! any number of them can be suspended at once on one engine. Puts and
//! deletes keep theirs in the engine: one writer at a time. A writer
//! changes pages only between suspension points, all of a change at once,
//! and bumps the pager's version; a reader that finds the version changed
//! after waiting for I/O starts its descent (or scan) again from the root,
//! so it never mixes pages from before and after a change.

use std::sync::Arc;

use ratchet::{IOResult, call_io, io_state_machine, io_state_machines};

use super::Engine;
use super::format::{Bytes, Error, MAX_KEY, MAX_VALUE, Node, Page};
use super::pager::ReadState;

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Deeper than any tree of this size can be: a walk this long has met a cycle.
const MAX_DEPTH: usize = 32;

/// The path from the root to a leaf: page numbers, the child index taken at
/// each interior page, and the nodes themselves.
pub struct Path {
    pages: Vec<(u64, usize)>,
    nodes: Vec<Arc<Page>>,
}

fn check_sizes(key: &[u8], value: &[u8]) -> Result<(), Error> {
    if key.is_empty() || key.len() > MAX_KEY {
        return Err(Error::TooLarge(format!(
            "keys must be 1 to {MAX_KEY} bytes, this one has {}",
            key.len()
        )));
    }
    if value.len() > MAX_VALUE {
        return Err(Error::TooLarge(format!(
            "values must be at most {MAX_VALUE} bytes, this one has {}",
            value.len()
        )));
    }
    Ok(())
}

/// Splits an overflowing node in two halves of about equal size; returns the
/// left half, the separator and the right half. An `append` (a key past
/// every other on the rightmost path, as in a load in key order) leaves the
/// left node full and starts the right one with the last entry only, so
/// such a load fills its pages instead of leaving them half empty.
fn split(node: Node, append: bool) -> (Node, Bytes, Node) {
    match node {
        Node::Leaf { mut keys, mut vals } => {
            let total: usize = keys.iter().zip(&vals).map(|(k, v)| 4 + k.len() + v.len()).sum();
            let mut acc = 0;
            let mut m = 0;
            while m < keys.len() - 1 && acc < total / 2 {
                acc += 4 + keys[m].len() + vals[m].len();
                m += 1;
            }
            if append {
                m = keys.len() - 1;
            }
            let m = m.max(1);
            let rk = keys.split_off(m);
            let rv = vals.split_off(m);
            let sep = rk[0].clone();
            (Node::Leaf { keys, vals }, sep, Node::Leaf { keys: rk, vals: rv })
        }
        Node::Interior {
            mut keys,
            mut children,
        } => {
            let m = if append { keys.len() - 2 } else { keys.len() / 2 };
            let rk = keys.split_off(m + 1);
            let sep = keys.pop().unwrap_or_default();
            let rc = children.split_off(m + 1);
            (
                Node::Interior { keys, children },
                sep,
                Node::Interior {
                    keys: rk,
                    children: rc,
                },
            )
        }
    }
}

impl Engine {
    /// Writes `leaf` (the changed last node of `path`) and every split it
    /// causes, up to a new root if the root splits.
    fn write_path(&mut self, mut path: Path, leaf: Node, append: bool) {
        let Some((mut no, _)) = path.pages.pop() else {
            return;
        };
        path.nodes.pop();
        let mut node = leaf;
        loop {
            if node.fits() {
                self.pager.write(no, node);
                return;
            }
            let (left, sep, right) = split(node, append);
            let right_no = self.pager.allocate();
            self.pager.write(no, left);
            self.pager.write(right_no, right);
            match (path.pages.pop(), path.nodes.pop()) {
                (Some((parent_no, at)), Some(parent)) => {
                    let mut parent = parent.node().clone();
                    if let Node::Interior { keys, children } = &mut parent {
                        keys.insert(at, sep);
                        children.insert(at + 1, right_no);
                    }
                    no = parent_no;
                    node = parent;
                }
                _ => {
                    let root = self.pager.allocate();
                    self.pager.write(
                        root,
                        Node::Interior {
                            keys: vec![sep],
                            children: vec![no, right_no],
                        },
                    );
                    self.pager.meta.root = root;
                    return;
                }
            }
        }
    }
}

#[io_state_machines]
impl Engine {
    /// The path from the root to the leaf that holds `key` (empty when the
    /// tree is). The pages are of one version of the tree: if it changes
    /// while the descent waits for a page, the descent starts over.
    #[io_state_machine(state = st)]
    pub fn descend(&mut self, st: &mut DescendState, key: &[u8]) -> Result<IOResult<Path>, Error> {
        let mut read: ReadState = ReadState::default();
        'descend: loop {
            let version: u64 = self.pager.version;
            let mut pages: Vec<(u64, usize)> = Vec::new();
            let mut nodes: Vec<Arc<Page>> = Vec::new();
            let mut no: u64 = self.pager.meta.root;
            if no == 0 {
                return Ok(Path { pages, nodes });
            }
            loop {
                if pages.len() > MAX_DEPTH {
                    return Err(Error::Corrupt(format!(
                        "{}: the tree is deeper than {MAX_DEPTH} levels (a cycle)",
                        self.pager.data_path
                    )));
                }
                let node: Arc<Page> = call_io!(self.pager.read(&mut read, no))?;
                if self.pager.version != version {
                    self.pager.stats.restarts += 1;
                    continue 'descend;
                }
                let next = (!node.is_leaf()).then(|| node.child_for(key));
                match next {
                    None => {
                        pages.push((no, 0));
                        nodes.push(node);
                        return Ok(Path { pages, nodes });
                    }
                    Some((at, child)) => {
                        pages.push((no, at));
                        nodes.push(node);
                        no = child;
                    }
                }
            }
        }
    }

    /// The value stored under `key`. `st` is the request's own: many gets
    /// may be in flight on one engine, each with its state.
    #[io_state_machine(state = st, name = GetState)]
    pub fn get_with(&mut self, st: &mut GetState, key: &[u8]) -> Result<IOResult<Option<Vec<u8>>>, Error> {
        self.pager.check_usable()?;
        let mut descend: DescendState = DescendState::default();
        let path = call_io!(self.descend(&mut descend, key))?;
        match path.nodes.last() {
            Some(leaf) if leaf.is_leaf() => Ok(leaf.lookup(key).map(<[u8]>::to_vec)),
            _ => Ok(None),
        }
    }

    /// Stores `value` under `key` in the open transaction.
    #[io_state_machine(state = self.put_state)]
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<IOResult<()>, Error> {
        self.pager.check_usable()?;
        check_sizes(key, value)?;
        if self.pager.meta.root == 0 {
            let no = self.pager.allocate();
            self.pager.write(
                no,
                Node::Leaf {
                    keys: vec![Bytes::from(key)],
                    vals: vec![Bytes::from(value)],
                },
            );
            self.pager.meta.root = no;
            return Ok(());
        }
        let mut descend: DescendState = DescendState::default();
        let path = call_io!(self.descend(&mut descend, key))?;
        let mut leaf = path
            .nodes
            .last()
            .map(|n| n.node().clone())
            .unwrap_or_else(Node::empty_leaf);
        // On the rightmost path every interior step took the last child.
        let rightmost = path
            .pages
            .iter()
            .zip(&path.nodes)
            .all(|(&(_, at), page)| page.is_leaf() || at == page.len());
        let mut append = false;
        if let Node::Leaf { keys, vals } = &mut leaf {
            match keys.binary_search_by(|k| k.as_slice().cmp(key)) {
                Ok(i) => vals[i] = Bytes::from(value),
                Err(i) => {
                    append = rightmost && i == keys.len() && i > 0;
                    keys.insert(i, Bytes::from(key));
                    vals.insert(i, Bytes::from(value));
                }
            }
        }
        self.write_path(path, leaf, append);
        Ok(())
    }

    /// Removes `key` in the open transaction; whether it was there.
    #[io_state_machine(state = self.delete_state)]
    pub fn delete(&mut self, key: &[u8]) -> Result<IOResult<bool>, Error> {
        self.pager.check_usable()?;
        let mut descend: DescendState = DescendState::default();
        let path = call_io!(self.descend(&mut descend, key))?;
        let Some((no, _)) = path.pages.last().copied() else {
            return Ok(false);
        };
        let mut leaf = path
            .nodes
            .last()
            .map(|n| n.node().clone())
            .unwrap_or_else(Node::empty_leaf);
        let found = match &mut leaf {
            Node::Leaf { keys, vals } => match keys.binary_search_by(|k| k.as_slice().cmp(key)) {
                Ok(i) => {
                    keys.remove(i);
                    vals.remove(i);
                    true
                }
                Err(_) => false,
            },
            Node::Interior { .. } => false,
        };
        if found {
            self.pager.write(no, leaf);
        }
        Ok(found)
    }

    /// Every entry, in key order, of one version of the tree (a change
    /// while the scan waits for a page starts it over). Checks that the
    /// keys ascend and that no page is visited twice. `st` is the request's
    /// own.
    #[io_state_machine(state = st, name = ScanState)]
    pub fn scan_with(&mut self, st: &mut ScanState) -> Result<IOResult<Vec<Entry>>, Error> {
        self.pager.check_usable()?;
        let mut read: ReadState = ReadState::default();
        let mut out: Vec<Entry> = Vec::new();
        let mut stack: Vec<u64> = Vec::new();
        let mut version: u64 = self.pager.version;
        if self.pager.meta.root != 0 {
            stack.push(self.pager.meta.root);
        }
        let mut visited: u64 = 0;
        loop {
            // A `while let` binding cannot carry the type the state needs.
            let no: u64 = match stack.pop() {
                Some(no) => no,
                None => break,
            };
            visited += 1;
            if visited > self.pager.meta.page_count {
                return Err(Error::Corrupt(format!(
                    "{}: the tree visits more pages than exist (a cycle)",
                    self.pager.data_path
                )));
            }
            let page: Arc<Page> = call_io!(self.pager.read(&mut read, no))?;
            if self.pager.version != version {
                self.pager.stats.restarts += 1;
                version = self.pager.version;
                out.clear();
                stack.clear();
                if self.pager.meta.root != 0 {
                    stack.push(self.pager.meta.root);
                }
                visited = 0;
                continue;
            }
            match page.node() {
                Node::Leaf { keys, vals } => {
                    out.extend(
                        keys.iter()
                            .map(|k| k.to_vec())
                            .zip(vals.iter().map(|v| v.to_vec())),
                    );
                }
                Node::Interior { children, .. } => stack.extend(children.iter().rev()),
            }
        }
        if let Some(w) = out.windows(2).position(|w| w[0].0 >= w[1].0) {
            return Err(Error::Corrupt(format!(
                "{}: keys out of order at entry {w} of the scan",
                self.pager.data_path
            )));
        }
        Ok(out)
    }
}
