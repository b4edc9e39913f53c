//! The reference model of the runtime model test: what each file may hold,
//! byte by byte, given the operations that finished, were aborted, or ran at
//! the same time as others.
//!
//! A file is a length range and, for every byte, the set of values it may
//! hold. A write that certainly landed makes its bytes its own; one that may
//! have landed (aborted) adds its bytes as candidates; two writes in flight at
//! the same time may land in either order, so each keeps the other's bytes as
//! candidates. Bytes past the longest length the file may have are zeros (a
//! file grows with zeros). A read that finds the bytes narrows the sets to
//! what it saw: nothing overlapping was in flight meanwhile (the generator
//! sees to that), so those are the bytes.

use std::fmt;

/// The largest offset a program touches, so the model's byte sets stay
/// small.
pub const SPAN: usize = 12 * 1024;

/// What a file may hold.
#[derive(Clone)]
pub struct FileModel {
    /// The file's length lies in `len_lo..=len_hi`.
    pub len_lo: usize,
    pub len_hi: usize,
    /// For each byte below `SPAN + 4096`, the values it may hold.
    bytes: Vec<Cands>,
}

/// A small set of byte values.
#[derive(Clone, PartialEq, Eq)]
struct Cands(Vec<u8>);

impl Cands {
    fn zero() -> Cands {
        Cands(vec![0])
    }

    fn one(v: u8) -> Cands {
        Cands(vec![v])
    }

    fn add(&mut self, v: u8) {
        if !self.0.contains(&v) {
            self.0.push(v);
        }
    }

    fn has(&self, v: u8) -> bool {
        self.0.contains(&v)
    }
}

impl fmt::Debug for Cands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// A write as the model sees it: where, which bytes, and whether it
/// certainly landed.
pub struct Landing<'a> {
    pub pos: usize,
    pub data: &'a [u8],
    pub certain: bool,
}

impl Default for FileModel {
    fn default() -> Self {
        FileModel {
            len_lo: 0,
            len_hi: 0,
            bytes: vec![Cands::zero(); SPAN + 8192],
        }
    }
}

impl FileModel {
    /// A write landed (or may have), at the same time as `concurrent`
    /// writes that had landed (or may have) before it settled.
    pub fn write(&mut self, w: &Landing<'_>, concurrent: &[Landing<'_>]) {
        let end = w.pos + w.data.len();
        if w.data.is_empty() {
            return;
        }
        for (i, &v) in w.data.iter().enumerate() {
            let at = w.pos + i;
            let mut set = if w.certain {
                Cands::one(v)
            } else {
                let mut s = self.bytes[at].clone();
                s.add(v);
                s
            };
            for other in concurrent {
                if (other.pos..other.pos + other.data.len()).contains(&at) {
                    set.add(other.data[at - other.pos]);
                }
            }
            self.bytes[at] = set;
        }
        if w.certain {
            self.len_lo = self.len_lo.max(end);
        }
        self.len_hi = self.len_hi.max(end);
    }

    /// A truncate to `len` finished (or, not `certain`, may have).
    pub fn truncate(&mut self, len: usize, certain: bool) {
        let top = self.len_hi.max(len);
        for at in len..top.min(self.bytes.len()) {
            if certain {
                self.bytes[at] = Cands::zero();
            } else {
                self.bytes[at].add(0);
            }
        }
        if certain {
            self.len_lo = len;
            self.len_hi = len;
        } else {
            self.len_lo = self.len_lo.min(len);
            self.len_hi = self.len_hi.max(len);
        }
    }

    /// The counts a read of `len` bytes at `pos` may return.
    pub fn read_counts(&self, pos: usize, len: usize) -> std::ops::RangeInclusive<usize> {
        let count = |file_len: usize| file_len.saturating_sub(pos).min(len);
        count(self.len_lo)..=count(self.len_hi)
    }

    /// A read at `pos` returned `got`, `wanted` bytes asked for: checks it
    /// against the model and learns from it. `Err` says what diverged.
    pub fn read(&mut self, pos: usize, got: &[u8], wanted: usize) -> Result<(), String> {
        if wanted == 0 {
            return if got.is_empty() {
                Ok(())
            } else {
                Err(format!("a read of 0 bytes returned {}", got.len()))
            };
        }
        let counts = self.read_counts(pos, wanted);
        if !counts.contains(&got.len()) {
            return Err(format!(
                "read of {wanted} at {pos} returned {} bytes, the model allows {counts:?}",
                got.len()
            ));
        }
        for (i, &v) in got.iter().enumerate() {
            let at = pos + i;
            if !self.bytes[at].has(v) {
                return Err(format!(
                    "byte {at} read as {v}, which no buffer of the program held there (the model allows {:?})",
                    self.bytes[at]
                ));
            }
            self.bytes[at] = Cands::one(v);
        }
        if got.is_empty() && wanted > 0 {
            // At or past the end of file.
            self.shorten(pos);
        } else if got.len() < wanted {
            // The end of file is inside the range: the length is known now.
            self.len_lo = pos + got.len();
            self.shorten(pos + got.len());
        } else {
            self.len_lo = self.len_lo.max(pos + got.len());
        }
        Ok(())
    }

    /// The file is at most `len` long: bytes past it read as zeros if the
    /// file grows again.
    fn shorten(&mut self, len: usize) {
        if len < self.len_hi {
            for at in len..self.len_hi {
                self.bytes[at].add(0);
            }
            self.len_hi = len;
        }
    }

    /// Checks a whole file's final contents.
    pub fn check_final(&self, contents: &[u8]) -> Result<(), String> {
        if !(self.len_lo..=self.len_hi).contains(&contents.len()) {
            return Err(format!(
                "the file is {} bytes long, the model allows {}..={}",
                contents.len(),
                self.len_lo,
                self.len_hi
            ));
        }
        for (at, &v) in contents.iter().enumerate() {
            if !self.bytes[at].has(v) {
                return Err(format!(
                    "byte {at} of the file is {v}, which no buffer of the program held there (the model allows {:?})",
                    self.bytes[at]
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_writes_allow_either_order() {
        let mut f = FileModel::default();
        let a = [1u8; 4];
        let b = [2u8; 4];
        f.write(
            &Landing {
                pos: 0,
                data: &a,
                certain: true,
            },
            &[],
        );
        f.write(
            &Landing {
                pos: 2,
                data: &b,
                certain: true,
            },
            &[Landing {
                pos: 0,
                data: &a,
                certain: true,
            }],
        );
        assert!(f.check_final(&[1, 1, 1, 1, 2, 2]).is_ok());
        assert!(f.check_final(&[1, 1, 2, 2, 2, 2]).is_ok());
        assert!(f.check_final(&[1, 1, 3, 2, 2, 2]).is_err());
    }
}
