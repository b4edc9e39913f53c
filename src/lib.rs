//! ratchet: straight-line cooperative I/O for storage engines.
//!
//! Database cores such as Turso's do I/O without `async`/`await`: a function
//! that must wait returns [`IOResult::IO`] with a [`Completion`], and its caller
//! calls it again once that completion has finished, until it returns
//! [`IOResult::Done`]. Written by hand, every such function is a state enum and
//! a `loop { match state { .. } }`, and the classic bug is re-entrancy: a
//! mutation placed before a `return_if_io!` runs again on the next call.
//!
//! ratchet writes the state enum for you. `#[io_state_machine]` takes a
//! straight-line body with suspension points and expands it into an explicit
//! state enum and a re-entrant dispatch loop:
//!
//! - [`yield_io!`]`(completion)` waits for a completion;
//! - [`call_io!`]`(machine(..))` calls another `IOResult` function until it is done.
//!
//! Everything before a suspension point runs exactly once per run of the
//! machine. Only the locals live across a suspension point are stored.
//! Arguments, `&mut self` included, are passed afresh on every call, so the
//! state never holds a borrow, has no lifetime and needs no `Pin`.
//!
//! # A first machine
//!
//! ```
//! use std::sync::Arc;
//! use ratchet::{io_state_machine, yield_io, Buffer, Completion, CompletionError, File, IOResult,
//!               MemoryIO, OpenOptions, IO};
//!
//! /// Copies `n` pages of 4 KiB from `src` to `dst`.
//! #[io_state_machine(state = st)]
//! fn copy_pages(st: &mut CopyPagesState, src: &dyn File, dst: &dyn File, n: u64)
//!     -> Result<IOResult<u64>, CompletionError>
//! {
//!     let mut i: u64 = 0;
//!     while i < n {
//!         let buf: Arc<Buffer> = Arc::new(Buffer::new(4096));
//!         yield_io!(src.pread(i * 4096, Completion::read(buf.clone()))?)?;
//!         yield_io!(dst.pwrite(i * 4096, buf, Completion::write())?)?;
//!         i += 1;
//!     }
//!     Ok(n)
//! }
//!
//! let io = MemoryIO::new();
//! let src = io.open_file("/src".as_ref(), OpenOptions::new()).unwrap();
//! let dst = io.open_file("/dst".as_ref(), OpenOptions::new()).unwrap();
//! io.wait(&src.pwrite(0, Arc::new(Buffer::from_vec(vec![7; 8192])), Completion::write()).unwrap()).unwrap();
//!
//! // `CopyPagesState` was generated beside the function; `Default` is idle.
//! let mut state = CopyPagesState::default();
//! let copied = io.block(|| copy_pages(&mut state, &*src, &*dst, 2)).unwrap();
//! assert_eq!(copied, 2);
//! assert_eq!(dst.size().unwrap(), 8192);
//! assert!(state.is_idle());
//! ```
//!
//! [`IO::block`] is the caller's loop: call, wait for the completion in `IO`,
//! call again. An engine's own driver does the same, interleaving many
//! machines.
//!
//! # The rules
//!
//! The contract in full is the project's `DESIGN.md`; in short:
//!
//! 1. The function returns `Result<IOResult<T>, E>` with
//!    `E: From<CompletionError>`; the body is written as if it returned
//!    `Result<T, E>`, and `?` works anywhere.
//! 2. Each call resumes at the last suspension point with the arguments of
//!    *that* call. Pass equivalent arguments until `Done`.
//! 3. Every statement before a suspension point runs exactly once per run,
//!    however often the function is re-entered. Re-entered while its
//!    completion is still pending, it returns `IO` again and runs nothing.
//! 4. `yield_io!(expr)` evaluates `expr` once, to a [`Completion`] (a built
//!    [`CompletionGroup`] is one). If it has already finished the machine
//!    goes on without returning (the fast path), except at
//!    [`Completion::yield_now`], which hands control back once. It evaluates
//!    to `Result<i32, CompletionError>`, the completion's result: the bytes
//!    moved by a read or a write, 0 for a sync, a truncate or a built group.
//!    Write `yield_io!(c)?;`, `let n = yield_io!(c)?;`, or match on it to
//!    retry. A read that reaches the end of the file is short, not an error:
//!    `n` is then less than the buffer's length, and the bytes past `n` keep
//!    what the buffer held.
//! 5. `call_io!(expr)` calls another `IOResult` function, re-evaluating `expr`
//!    on every resume until it gives `Done(v)` or `Err`; it evaluates to
//!    `Result<V, E2>`.
//! 6. A suspension point is a whole statement, `let` initializer, assignment
//!    right side, `return` value, tail expression, `match` scrutinee, or
//!    `if`/`while` (`let`) condition, optionally under `?`. Inside a larger
//!    expression, a closure or another macro's arguments it is refused, with
//!    the `let` to write instead.
//! 7. Any control flow works across suspension points: `if`, `match`, `loop`,
//!    `while`, `while let`, `for`, labeled `break`/`continue`, `break` with a
//!    value, early `return`, `let`-`else` (a suspension in its `else` block
//!    too), shadowing (also of a local still needed after the shadowing
//!    scope: the state then stores both, as `x` and `x_2`). The dispatch is
//!    one flat loop: no recursion, no stack growth. One shape is refused with
//!    an error: a `break`, `continue` or `return` out of a loop holding a
//!    suspension point, from inside a statement without one that itself
//!    declares a name the jump must carry.
//! 8. A local live across a suspension point is stored in the state, so its
//!    type must be readable: annotate it (`let x: u64 = ..`, or `let x: u64;`
//!    for one assigned later) or derive it from a suffixed literal, a cast,
//!    or a copy of a parameter or typed local. The type must be complete (no
//!    `_`, no `impl Trait`) and declared outside the function. A `let x;`
//!    assigned after a suspension point needs no type. Items declared in the
//!    body (`fn`, `const`, `struct`, `use`, `macro_rules!`) are visible in
//!    the whole body. A `mut` parameter is a local, initialized from the
//!    first call's argument and stored like any other. Attributes on a
//!    statement that holds a suspension point stay on its code: lint
//!    attributes cover every piece made from it, and `#[cfg]` decides
//!    whether it exists (the function is expanded once per combination of
//!    such predicates, at most four). A `break` or `continue` that another
//!    macro writes works too; a `return Ok(v)` written by another macro does
//!    not compile (the macro's `Ok` is the function's `Result<IOResult<T>,
//!    E>`): return its value instead, `return Ok(m!(..))`. A compound
//!    assignment whose right side suspends (`x += call_io!(..)?`) needs a
//!    place without side effects (a local, a field, an index by a name): for
//!    `*slot(..) += ..` Rust's order depends on the type, which the macro
//!    cannot see, so it asks for `let r = ..;` first.
//!
//!    **Drops.** A local the body never reads, one kept for its `Drop`
//!    (`let _g = pin(page);`), lives to the end of its scope on every path,
//!    as in Rust: it is stored across every suspension point in that scope
//!    (so its type must be readable too) and dropped where Rust drops it.
//!    Every other local is dropped where Rust drops it, or earlier: once the
//!    body no longer reads it, it is not carried into the next dispatch step,
//!    so it is dropped when the step in which it was last read ends. A step
//!    ends at a suspension point that really suspends (before its I/O
//!    finishes); even when every completion is ready, one can also end where
//!    control joins after a branch or a `match` that holds a suspension
//!    point, at the head of a loop that holds one, and after a suspension
//!    point (the fast path runs at most two in one step). It is never dropped
//!    later than in Rust: where a block holding a suspension point ends, its
//!    locals are dropped. To keep a value to the end of its scope, move it
//!    into a binding the body does not read: `let _keep = page;`.
//! 9. A stored local may not hold a borrow; borrows of arguments and of
//!    `self` are re-created after a suspension.
//! 10. The state type, `<CamelCaseName>State` (or `name = X`), implements
//!     `Default` (idle), `Debug` (where it is suspended and what it stores),
//!     `is_idle()` and `reset()`. It is generic over the generics its stored
//!     types use, with the bounds they need (`S: Store` for a stored
//!     `S::Key`); `Self` in a method's stored type is spelled out.
//! 11. After `Done`, after `Err` and after a panic, the state is idle.
//!
//! # The two attributes
//!
//! - `#[io_state_machine(state = st)]` on a free function keeps its state in
//!   the parameter `st: &mut <Name>State`. Options: `name = X` names the state
//!   type; `crate = path` is where generated code finds ratchet.
//! - `#[io_state_machine(state = self.field)]` on a method keeps the state in a
//!   field of `self`; the `impl` block carries `#[io_state_machines]`, which
//!   emits the state enums beside it (generic over the impl's parameters its
//!   stored locals use).
//!
//! ```
//! use ratchet::{call_io, io_state_machines, io_state_machine, yield_io, Completion,
//!               CompletionError, IOResult, MemoryIO, IO};
//!
//! #[derive(Default)]
//! struct Pager {
//!     freed: Vec<u64>,
//!     free_page_state: FreePageState,
//!     free_all_state: FreeAllState,
//! }
//!
//! #[io_state_machines]
//! impl Pager {
//!     #[io_state_machine(state = self.free_page_state)]
//!     fn free_page(&mut self, no: u64) -> Result<IOResult<()>, CompletionError> {
//!         yield_io!(Completion::yield_now())?; // stands for a page write
//!         self.freed.push(no);
//!         Ok(())
//!     }
//!
//!     #[io_state_machine(state = self.free_all_state)]
//!     fn free_all(&mut self, n: u64) -> Result<IOResult<usize>, CompletionError> {
//!         for i in 0..n {
//!             call_io!(self.free_page(i))?;
//!         }
//!         Ok(self.freed.len())
//!     }
//! }
//!
//! let mut pager = Pager::default();
//! let io = MemoryIO::new();
//! assert_eq!(io.block(|| pager.free_all(3)).unwrap(), 3);
//! assert_eq!(pager.freed, [0, 1, 2]); // each page freed exactly once
//! ```
//!
//! # The runtime
//!
//! - [`Completion`]: a cheap, `Send + Sync` handle on one operation's outcome.
//!   The first of `complete`, `error` and `abort` wins; the callback runs once,
//!   with no lock held. [`Completion::ready`] and [`Completion::yield_now`]
//!   allocate nothing.
//! - [`CompletionGroup`]: many completions waited on as one; first error wins,
//!   groups nest, `cancel()` aborts every outstanding child.
//! - [`Buffer`]: the bytes an operation reads into or writes from, page-aligned
//!   for `O_DIRECT` with [`Buffer::new_aligned`]. A read's buffer stays owned by
//!   the in-flight operation until the device has let go of it, even if the
//!   completion was aborted and every user handle dropped.
//! - [`File`] and [`IO`]: `pread`, `pwrite`, `pwritev`, `sync`, `truncate`,
//!   `size`; `open_file`, `step`, `wait`, `block`.
//! - Backends: [`BlockingIO`] (syscalls inline), `UringIO` (io_uring, Linux),
//!   [`MemoryIO`], [`DeferredIO`] (holds every completion until the next step,
//!   so every resume path runs) and [`SimIO`] (seeded latency, reordering,
//!   faults and crashes). [`default_io`] picks io_uring where the kernel allows
//!   it, else blocking; `RATCHET_IO=blocking|uring|memory` overrides.
//!
//! # Migrating a hand-written machine
//!
//! Before: a state enum, a dispatch loop, and the discipline to put every
//! mutation after its `return_if_io!`.
//!
//! ```
//! use ratchet::{return_if_io, Completion, CompletionError, IOResult};
//!
//! fn read(no: u64) -> Result<IOResult<u64>, CompletionError> {
//!     Ok(IOResult::Done(no * 10)) // stands for a page read
//! }
//!
//! #[derive(Default)]
//! enum SumState {
//!     #[default]
//!     Start,
//!     Reading { i: u64, sum: u64 },
//! }
//!
//! fn sum_pages(st: &mut SumState, n: u64, log: &mut Vec<u64>)
//!     -> Result<IOResult<u64>, CompletionError>
//! {
//!     loop {
//!         match st {
//!             SumState::Start => *st = SumState::Reading { i: 0, sum: 0 },
//!             SumState::Reading { i, sum } => {
//!                 if *i == n {
//!                     let total = *sum;
//!                     *st = SumState::Start;
//!                     return Ok(IOResult::Done(total));
//!                 }
//!                 let v = return_if_io!(read(*i));
//!                 log.push(*i); // safe only because it follows the return_if_io!
//!                 *sum += v;
//!                 *i += 1;
//!             }
//!         }
//!     }
//! }
//! # let mut st = SumState::default();
//! # let mut log = Vec::new();
//! # assert!(matches!(sum_pages(&mut st, 3, &mut log), Ok(IOResult::Done(30))));
//! ```
//!
//! After: the same machine as straight-line code. The state enum (`Start` is
//! now `Idle`, and `Reading` is a variant named after the call) is generated,
//! and so is the dispatch loop.
//!
//! ```
//! use ratchet::{call_io, io_state_machine, CompletionError, IOResult};
//!
//! fn read(no: u64) -> Result<IOResult<u64>, CompletionError> {
//!     Ok(IOResult::Done(no * 10))
//! }
//!
//! #[io_state_machine(state = st)]
//! fn sum_pages(st: &mut SumPagesState, n: u64, log: &mut Vec<u64>)
//!     -> Result<IOResult<u64>, CompletionError>
//! {
//!     let mut sum: u64 = 0;
//!     for i in 0..n {
//!         let v = call_io!(read(i))?;
//!         log.push(i);
//!         sum += v;
//!     }
//!     Ok(sum)
//! }
//! # let mut st = SumPagesState::default();
//! # let mut log = Vec::new();
//! # assert!(matches!(sum_pages(&mut st, 3, &mut log), Ok(IOResult::Done(30))));
//! # assert_eq!(log, [0, 1, 2]);
//! ```
//!
//! Steps: delete the enum and the `loop { match }`; turn each
//! `return_if_io!(f(..))` into `call_io!(f(..))?` and each
//! `io_yield_one!(c)` into `yield_io!(c)?`; move what the variants carried into
//! ordinary `let`s with type annotations; name the state parameter in
//! `#[io_state_machine(state = ..)]` and change its type to the generated
//! `<Name>State`. Callers do not change.
//!
//! # Testing every resume path
//!
//! Build with the `force-suspend` feature, or call [`set_force_suspend`]`(true)`
//! on a thread, and every suspension point returns `IO` even when its
//! completion has already finished. [`DeferredIO`] holds every completion
//! until the next step, and [`SimIO`] re-enters machines spuriously while their
//! completions are pending.
//!
//! # Tracing
//!
//! With the `tracing` feature, each call of a machine opens a `TRACE` span
//! named `ratchet` (fields `machine`, the function, and `from`, the state the
//! call starts in) and records, inside it, `TRACE` events:
//!
//! | message | fields | when |
//! | --- | --- | --- |
//! | `resume` | `from`, `outcome` | the call starts at a suspension point; `outcome` is the `Ok(n)` or `Err(e)` of the completion it waited for (absent at a `call_io!` point, whose callee records its own) |
//! | `pass` | `from`, `to` | it goes through a suspension point without suspending (the fast path) |
//! | `suspend` | `from`, `to`, `completion` | it returns `IO`, waiting on `completion`; `from` = `to` when re-entered while that is still pending |
//! | `done` | `from`, `to = "Done"` | it returns `Done` |
//! | `error` | `from`, `to = "Err"`, `error` | it returns `Err`: `error` is the error's `Debug` (`..` for a type without one) when the body returns the `Err` as its value and the error type names no type parameter; an `Err` leaving through `?` is recorded without it |
//!
//! `from` is where the call is: the state it started in, then the last
//! suspension point it passed. Every call ends with exactly one of
//! `suspend`, `done` and `error` (a panic records nothing). Without the
//! feature the generated hooks expand to nothing, so it costs nothing.

pub use ratchet_macros::*;
pub use ratchet_runtime::*;
