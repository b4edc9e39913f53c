//! The calling convention: `IOResult` and the helpers of hand-written machines.

use crate::completion::Completion;

/// What one call of a machine gives back: its value, or the I/O it waits for.
///
/// The caller calls the machine again, with equivalent arguments, once the
/// completion in `IO` has finished, until it gets `Done`.
#[must_use = "a machine that returned `IO` has not run to the end: wait for the completion and call it again"]
#[derive(Debug)]
pub enum IOResult<T> {
    /// The machine ran to the end with this value.
    Done(T),
    /// The machine is suspended until this I/O finishes.
    IO(IOCompletions),
}

impl<T> IOResult<T> {
    /// Whether this is `Done`.
    pub fn is_done(&self) -> bool {
        matches!(self, IOResult::Done(_))
    }

    /// Applies `f` to a `Done` value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> IOResult<U> {
        match self {
            IOResult::Done(v) => IOResult::Done(f(v)),
            IOResult::IO(io) => IOResult::IO(io),
        }
    }
}

/// The I/O a suspended machine waits for.
#[derive(Debug, Clone)]
pub struct IOCompletions {
    completion: Completion,
}

impl IOCompletions {
    /// The completion to wait for before calling the machine again.
    #[must_use]
    pub fn completion(&self) -> &Completion {
        &self.completion
    }

    /// The completion, by value.
    #[must_use]
    pub fn into_completion(self) -> Completion {
        self.completion
    }
}

impl From<Completion> for IOCompletions {
    fn from(completion: Completion) -> Self {
        IOCompletions { completion }
    }
}

/// In a hand-written machine: unwraps `Done(v)` of a `Result<IOResult<T>, E>`
/// (after `?`), or returns `Ok(IOResult::IO(..))` from the enclosing function.
///
/// This is the line that makes hand-written machines fragile: anything the
/// function did before it runs again when the function is called again.
/// `#[io_state_machine]` writes the state enum that makes it safe.
///
/// ```
/// # extern crate ratchet_runtime as ratchet;
/// use ratchet::{return_if_io, Completion, CompletionError, IOResult};
/// fn inner(c: &Completion) -> Result<IOResult<u32>, CompletionError> {
///     if c.finished() { Ok(IOResult::Done(7)) } else { Ok(IOResult::IO(c.clone().into())) }
/// }
/// fn outer(c: &Completion) -> Result<IOResult<u32>, CompletionError> {
///     let v = return_if_io!(inner(c));
///     Ok(IOResult::Done(v + 1))
/// }
/// assert!(!outer(&Completion::pending()).unwrap().is_done());
/// assert!(matches!(outer(&Completion::ready()), Ok(IOResult::Done(8))));
/// ```
#[macro_export]
macro_rules! return_if_io {
    ($expr:expr) => {
        match $expr? {
            $crate::IOResult::Done(v) => v,
            $crate::IOResult::IO(io) => {
                return ::core::result::Result::Ok($crate::IOResult::IO(io));
            }
        }
    };
}

/// For hand-written machines, without the attribute: `return`s
/// `Ok(IOResult::IO(..))` from the enclosing function, waiting for one
/// completion (inside an `#[io_state_machine]` function, write `yield_io!`).
///
/// ```
/// # extern crate ratchet_runtime as ratchet;
/// use ratchet::{io_yield_one, Completion, CompletionError, IOResult};
/// fn wait(c: Completion) -> Result<IOResult<()>, CompletionError> {
///     io_yield_one!(c);
/// }
/// assert!(!wait(Completion::pending()).unwrap().is_done());
/// ```
#[macro_export]
macro_rules! io_yield_one {
    ($completion:expr) => {
        return ::core::result::Result::Ok($crate::IOResult::IO($crate::IOCompletions::from($completion)))
    };
}
