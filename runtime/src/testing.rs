//! Switches for tests: force-suspend makes every suspension point return
//! `IO` even when its completion has already finished, so ordinary test
//! runs walk every resume path (rule 12). On for the whole program with the
//! `force-suspend` cargo feature, or per thread with [`set_force_suspend`].

use std::cell::Cell;

thread_local! {
    static FORCE_SUSPEND: Cell<bool> = const { Cell::new(false) };
}

/// Whether suspension points must return `IO` even for finished completions.
/// On for the whole program with the `force-suspend` feature, or for one
/// thread through [`set_force_suspend`].
#[inline]
#[must_use]
pub fn force_suspend() -> bool {
    cfg!(feature = "force-suspend") || FORCE_SUSPEND.with(Cell::get)
}

/// Switches force-suspend on or off for the current thread; returns the
/// previous setting. Test harnesses use it to walk every resume path of the
/// same machine without rebuilding.
pub fn set_force_suspend(on: bool) -> bool {
    FORCE_SUSPEND.with(|f| f.replace(on))
}
