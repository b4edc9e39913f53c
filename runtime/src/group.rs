//! `CompletionGroup`: one completion that finishes when all of its children have.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::completion::{Completion, CompletionError, Kind, Outcome};
use crate::sync::{Mutex, lock};

/// The bookkeeping of a group, kept inside the group's own completion so that
/// a nested group is an ordinary child and aborting its completion cancels it.
pub(crate) struct GroupState {
    /// Children added and not yet arrived. Each child is counted at most once
    /// on arrival (its slot in `children` is emptied), so this cannot wrap.
    outstanding: usize,
    total: usize,
    built: bool,
    /// Set when the group's outcome is handed out, so no later add or arrival
    /// can flip it back to unfinished.
    done: bool,
    /// Set by `cancel`: a child added afterwards is aborted at once, so a
    /// cancelled group never waits for work started after the cancel (by a
    /// callback still running when it came, say).
    cancelled: bool,
    first_error: Option<CompletionError>,
    /// Outstanding children, kept for `cancel`. A slot is emptied when its
    /// child arrives, which also drops the group's reference to it (and to
    /// its buffer).
    children: Vec<Option<Completion>>,
}

impl GroupState {
    /// The group's outcome, the first time it is complete.
    fn take_outcome(&mut self) -> Option<Outcome> {
        if !self.built || self.outstanding != 0 || self.done {
            return None;
        }
        self.done = true;
        Some(match self.first_error {
            Some(err) => Err(err),
            // DESIGN rule 4: a built group's result is 0. The children's
            // counts differ in meaning (bytes, nothing), so no sum or count
            // of them would be one number a machine could use.
            None => Ok(0),
        })
    }
}

/// Many completions waited on as one.
///
/// Add children, then [`build`](CompletionGroup::build) the completion a
/// machine waits on. It finishes when every child has arrived (never earlier,
/// however they interleave with `add` and `build`), with the first error any
/// child reported, or with `Ok(0)` on success (the children's own results
/// are on the children). Groups nest; an
/// empty group is finished as soon as it is built.
///
/// ```
/// # extern crate ratchet_runtime as ratchet;
/// use ratchet::{Completion, CompletionGroup};
/// let (a, b) = (Completion::pending(), Completion::pending());
/// let mut group = CompletionGroup::new(|_| {});
/// group.add(&a);
/// group.add(&b);
/// let all = group.build();
/// a.complete(1);
/// assert!(!all.finished());
/// b.complete(1);
/// assert_eq!(all.result(), Some(Ok(0)));
/// ```
#[derive(Debug)]
pub struct CompletionGroup {
    completion: Completion,
}

impl CompletionGroup {
    /// A new empty group whose completion runs `callback` when it finishes.
    #[must_use]
    pub fn new(callback: impl FnOnce(Outcome) + Send + 'static) -> Self {
        let completion = Completion::group(GroupState {
            outstanding: 0,
            total: 0,
            built: false,
            done: false,
            cancelled: false,
            first_error: None,
            children: Vec::new(),
        })
        .with_callback(callback);
        CompletionGroup { completion }
    }

    /// Adds `child`; the group will not finish before it has. A child that has
    /// already finished counts at once (its error too). After
    /// [`cancel`](Self::cancel), `child` is aborted at once. Adding to a group
    /// whose completion has already finished does nothing else.
    pub fn add(&mut self, child: &Completion) {
        let (index, cancelled) = {
            let mut st = lock(state(&self.completion));
            if st.done {
                let cancelled = st.cancelled;
                drop(st);
                if cancelled {
                    child.abort();
                }
                return;
            }
            st.outstanding += 1;
            st.total += 1;
            st.children.push(Some(child.clone()));
            (st.children.len() - 1, st.cancelled)
        };
        if let Some(outcome) = child.register_parent(&self.completion, index) {
            child_arrived(&self.completion, index, outcome);
        } else if cancelled {
            child.abort();
        }
    }

    /// Closes the group and returns the completion that finishes when every
    /// child has. Children that arrived before or during `build` are each
    /// counted once. The group stays usable for [`cancel`](Self::cancel).
    pub fn build(&mut self) -> Completion {
        let outcome = {
            let mut st = lock(state(&self.completion));
            st.built = true;
            st.take_outcome()
        };
        if let Some(outcome) = outcome {
            self.completion.finish(outcome);
        }
        self.completion.clone()
    }

    /// Aborts every outstanding child, nested groups included; the group then
    /// finishes as failed (with the first error, [`CompletionError::Aborted`]
    /// unless a child failed earlier).
    pub fn cancel(&self) {
        cancel(&self.completion);
    }

    /// Number of children added so far.
    #[must_use]
    pub fn len(&self) -> usize {
        lock(state(&self.completion)).total
    }

    /// Whether no child has been added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for CompletionGroup {
    fn default() -> Self {
        CompletionGroup::new(|_| {})
    }
}

fn state(group: &Completion) -> &Mutex<GroupState> {
    match group.kind() {
        Some(Kind::Group(state)) => state,
        // Only group completions are ever registered as parents or wrapped in
        // a `CompletionGroup`; anything else is a bug in this module.
        _ => unreachable!("group bookkeeping on a completion that is not a group"),
    }
}

/// Accounts for child `index` of `group` having finished with `outcome`.
pub(crate) fn child_arrived(group: &Completion, index: usize, outcome: Outcome) {
    let finished = {
        let mut st = lock(state(group));
        match st.children.get_mut(index).map(Option::take) {
            Some(Some(_)) => {}
            // Already counted: arriving twice must not count twice.
            _ => return,
        }
        st.outstanding -= 1;
        if let Err(err) = outcome
            && st.first_error.is_none()
        {
            st.first_error = Some(err);
        }
        st.take_outcome()
    };
    if let Some(outcome) = finished {
        group.finish(outcome);
    }
}

/// Cancels the group behind `group`: see [`CompletionGroup::cancel`].
pub(crate) fn cancel(group: &Completion) {
    let (children, finished) = {
        let mut st = lock(state(group));
        st.cancelled = true;
        if st.done {
            return;
        }
        st.built = true;
        st.first_error.get_or_insert(CompletionError::Aborted);
        let children: Vec<Completion> = st.children.iter().flatten().cloned().collect();
        (children, st.take_outcome())
    };
    // No lock held: each abort may finish the child, which reports back here.
    // A child's callback that panics must not spare the children after it:
    // the first panic is resumed once every child has been aborted.
    let mut panicked = None;
    for child in &children {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| child.abort())) {
            panicked.get_or_insert(payload);
        }
    }
    if let Some(outcome) = finished
        && let Err(payload) = catch_unwind(AssertUnwindSafe(|| group.finish(outcome)))
    {
        panicked.get_or_insert(payload);
    }
    if let Some(payload) = panicked {
        resume_unwind(payload);
    }
}
