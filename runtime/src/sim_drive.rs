//! Driving machines on a [`SimIO`]: spurious re-entry while a completion is
//! pending, and a crash in the middle of a machine, the driver a crash test
//! needs so that each test does not write (and get wrong) its own.

use crate::completion::{Completion, CompletionError};
use crate::io::IO;
use crate::result::IOResult;
use crate::sim::SimIO;

/// Where [`SimIO::run_until_crash`] cuts the power: before the simulator's
/// `step`-th step of the run (0: as soon as the machine first suspends,
/// before any of its I/O is delivered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CrashPoint {
    /// Steps delivered before the crash.
    pub step: u64,
}

impl CrashPoint {
    /// The crash comes before the `step`-th step of the run.
    #[must_use]
    pub fn before_step(step: u64) -> Self {
        CrashPoint { step }
    }
}

/// How a machine run by [`SimIO::run_until_crash`] met the crash.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum CrashRun<T, E> {
    /// The machine returned (`Done` or `Err`) before the crash point; the
    /// power was cut right after it returned anyway, so recovery sees what a
    /// crash just after the machine finished leaves: whatever it wrote but
    /// did not sync may be gone. Its state is idle.
    Returned {
        /// What the machine returned.
        result: Result<T, E>,
        /// Steps the simulator took before the machine returned.
        steps: u64,
    },
    /// The crash came while the machine was suspended. Its state is left
    /// suspended at the completion the crash aborted, and every file handle
    /// it was given is dead. Before running it again against the reopened
    /// files, call `reset()` on its state; or call it once more with the old
    /// arguments: it resumes, its `yield_io!` gives `Err(Aborted)`, and a `?`
    /// there ends it with that error and leaves it idle.
    Suspended {
        /// Steps the simulator took before the crash.
        steps: u64,
        /// Times the machine was called.
        calls: u64,
    },
}

impl<T, E> CrashRun<T, E> {
    /// Whether the crash interrupted the machine (it was suspended).
    #[must_use]
    pub fn interrupted(&self) -> bool {
        matches!(self, CrashRun::Suspended { .. })
    }
}

impl SimIO {
    /// Drives a machine to `Done` with spurious wake-ups: while the
    /// completion the machine waits for is pending, each time
    /// [`SimIO::spurious_wakeup`] says so the machine is called again before
    /// the next step. A correct machine then returns `IO` again and starts
    /// nothing. `block` on a `SimIO` is this; `block` through `dyn IO` or
    /// [`crate::IOExt`] drives plainly.
    ///
    /// # Errors
    /// The machine's own error, or [`CompletionError::Stalled`].
    ///
    /// # Panics
    ///
    /// If the machine, called while its completion is pending, returns `Done`,
    /// submits an operation to this simulation, or returns `IO` with another
    /// completion than the pending one: it ran work it should not have, the
    /// bug this driver exists to find. The message names the seed.
    pub fn block_with_spurious<T, E>(
        &self,
        mut machine: impl FnMut() -> Result<IOResult<T>, E>,
    ) -> Result<T, E>
    where
        E: From<CompletionError>,
    {
        let mut calls = 0;
        match self.drive(&mut machine, &mut calls, |sim| Some(sim.step())) {
            Some(result) => result,
            None => unreachable!("a step function that never refuses ended the run"),
        }
    }

    /// [`SimIO::block_with_spurious`]: on a `SimIO` itself, the everyday
    /// driver re-enters machines spuriously.
    ///
    /// # Errors
    /// The machine's own error, or [`CompletionError::Stalled`].
    ///
    /// # Panics
    /// As [`SimIO::block_with_spurious`] says.
    pub fn block<T, E>(&self, machine: impl FnMut() -> Result<IOResult<T>, E>) -> Result<T, E>
    where
        E: From<CompletionError>,
    {
        self.block_with_spurious(machine)
    }

    /// Runs `machine` as [`SimIO::block`] does (spurious re-entry included)
    /// until `at`, then cuts the power ([`SimIO::crash`]): the machine is left
    /// where the crash found it, and the result says where that is. If it
    /// returns first, the power is cut right after.
    ///
    /// ```
    /// # extern crate ratchet_runtime as ratchet;
    /// use std::sync::Arc;
    /// use ratchet::{Buffer, Completion, CompletionError, File, IOResult, IO, OpenOptions, SimIO};
    /// use ratchet::sim::{CrashPoint, CrashRun, SimConfig};
    ///
    /// // A machine written by hand: write a page, then sync it.
    /// fn write_and_sync(step: &mut u8, file: &dyn File) -> Result<IOResult<()>, CompletionError> {
    ///     match *step {
    ///         0 => {
    ///             *step = 1;
    ///             let page = Arc::new(Buffer::from_vec(vec![7; 512]));
    ///             Ok(IOResult::IO(file.pwrite(0, page, Completion::write())?.into()))
    ///         }
    ///         1 => {
    ///             *step = 2;
    ///             Ok(IOResult::IO(file.sync(Completion::sync())?.into()))
    ///         }
    ///         _ => {
    ///             *step = 0;
    ///             Ok(IOResult::Done(()))
    ///         }
    ///     }
    /// }
    ///
    /// // No tearing: a crash keeps no unsynced sector.
    /// let sim = SimIO::new(SimConfig::with_seed(7).crash_tearing(false));
    /// let file = sim.open_file("/db".as_ref(), OpenOptions::new()).unwrap();
    /// let mut step = 0;
    /// // Before the second step: the write was delivered, the sync was not.
    /// let run = sim.run_until_crash(CrashPoint::before_step(1), || write_and_sync(&mut step, &*file));
    /// assert!(matches!(run, CrashRun::Suspended { steps: 1, .. }));
    /// // Nothing was synced, so after the crash the file is empty again.
    /// assert_eq!(sim.volatile_contents("/db".as_ref()), Some(Vec::new()));
    /// ```
    ///
    /// # Panics
    /// As [`SimIO::block_with_spurious`] does, when the machine runs work it
    /// should not have while its completion is pending.
    pub fn run_until_crash<T, E>(
        &self,
        at: CrashPoint,
        mut machine: impl FnMut() -> Result<IOResult<T>, E>,
    ) -> CrashRun<T, E>
    where
        E: From<CompletionError>,
    {
        let mut steps: u64 = 0;
        let mut calls: u64 = 0;
        let result = self.drive(&mut machine, &mut calls, |sim| {
            if steps >= at.step {
                return None;
            }
            steps += 1;
            Some(sim.step())
        });
        self.crash();
        match result {
            Some(result) => CrashRun::Returned { result, steps },
            None => CrashRun::Suspended { steps, calls },
        }
    }

    /// The loop of both drivers: `step` makes progress, or refuses (`None`),
    /// which ends the run where it is.
    fn drive<T, E>(
        &self,
        machine: &mut impl FnMut() -> Result<IOResult<T>, E>,
        calls: &mut u64,
        mut step: impl FnMut(&SimIO) -> Option<Result<usize, CompletionError>>,
    ) -> Option<Result<T, E>>
    where
        E: From<CompletionError>,
    {
        let mut call = || {
            *calls += 1;
            machine()
        };
        loop {
            let waiting = match call() {
                Err(e) => return Some(Err(e)),
                Ok(IOResult::Done(v)) => return Some(Ok(v)),
                Ok(IOResult::IO(io)) => io.into_completion(),
            };
            while !waiting.finished() {
                // At most one re-entry per step, so that even a probability
                // of 1 lets the run make progress.
                if self.spurious_wakeup() {
                    if let Err(e) = self.reenter(&waiting, &mut call) {
                        return Some(Err(e));
                    }
                    if waiting.finished() {
                        break;
                    }
                }
                match step(self)? {
                    Err(e) => return Some(Err(e.into())),
                    Ok(0) if !waiting.finished() => return Some(Err(CompletionError::Stalled.into())),
                    Ok(_) => {}
                }
            }
        }
    }

    /// Calls the machine while `waiting` is pending and checks that it ran
    /// nothing: the bug the spurious wake-ups exist to find.
    fn reenter<T, E>(
        &self,
        waiting: &Completion,
        call: &mut impl FnMut() -> Result<IOResult<T>, E>,
    ) -> Result<(), E> {
        let seed = self.config().seed;
        let before = self.ops_submitted();
        let again = match call()? {
            IOResult::Done(_) => panic!(
                "SimIO (seed {seed}): a machine called again while its completion was pending \
                 returned Done: it went past a suspension point without its I/O"
            ),
            IOResult::IO(io) => io.into_completion(),
        };
        let after = self.ops_submitted();
        assert!(
            after == before,
            "SimIO (seed {seed}): a machine called again while its completion was pending \
             submitted {} operation(s) (indices {before}..{after}): a resumed machine \
             must not redo work that ran before its suspension point",
            after - before
        );
        assert!(
            again.same_as(waiting),
            "SimIO (seed {seed}): a machine called again while its completion was pending \
             returned IO with a different completion: it must keep waiting for the one \
             it returned, or it lost track of its I/O"
        );
        Ok(())
    }
}
