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
//! [`IOExt::block`] (`io.block(..)`) is the caller's loop: call, wait for the completion in `IO`,
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
//!   it, else blocking; `RATCHET_IO=blocking|uring|memory` overrides, and
//!   [`choose_default_io`] also says which it picked and why.
//!
//! Three rules hold on every backend:
//!
//! - **A buffer in flight belongs to the device.** While a read into it is
//!   in flight no view of it can exist or be created; while a write of it is,
//!   shared views are fine and mutable ones are refused. A refusal never
//!   blocks: `try_as_slice` returns [`CompletionError::Busy`], `as_slice`
//!   panics with the same message, and an operation on a buffer with a
//!   conflicting view is refused at its call. The [`buffer`] module's docs
//!   argue why this is sound for io_uring, which hands the kernel raw
//!   addresses.
//! - **Bad input is reported in one place.** Arguments and the handle's mode
//!   are refused at the call (the call returns the error and the completion
//!   is finished with it): offsets or lengths out of range, `O_DIRECT`
//!   misalignment, a completion already in flight, a write through a
//!   read-only handle. What the file system decides arrives in the
//!   completion. The same input gives the same error on every backend.
//! - **A panicking callback loses nothing.** Its completion is finished with
//!   its outcome, the rest of the batch is delivered, and the panic reaches
//!   the caller of `step()` (or `wait`, `block`) afterwards. Dropping a
//!   backend ends in bounded time with every outstanding completion
//!   `Aborted`.
//!
//! Beyond the everyday names at the root: [`backend`] (choosing a backend),
//! [`buffer`] (views of a buffer), [`completion`] (outcomes, sync modes, the
//! in-flight handle for custom backends), [`sim`] (the simulator's
//! configuration, faults, events and crash driver), `uring` (io_uring's
//! options and statistics, Linux), [`testing`] (force-suspend) and [`guide`]
//! (chapters with worked examples).
//!
//! # Many machines in flight
//!
//! A machine stores no borrow, so any number of instances can be suspended
//! at once against one engine: each call re-borrows it. [`Driver`] runs them
//! on one thread over one backend: it calls an instance again only when the
//! completion it waits on has finished, runs the ready ones in the order they
//! became ready, sleeps in [`IO::step`] when none is, hands each result back
//! as it arrives and keeps at most `capacity` in flight. Each request owns
//! its state (a generated `<Name>State`) and its arguments:
//!
//! ```
//! use std::sync::Arc;
//! use ratchet::{io_state_machine, yield_io, Buffer, Completion, CompletionError, DeferredIO, Driver,
//!               File, IOResult, IO, OpenOptions};
//!
//! /// The engine every request shares.
//! struct Store { file: Arc<dyn File>, reads: u64 }
//!
//! /// Reads page `no` (16 bytes) and returns its first byte.
//! #[io_state_machine(state = st)]
//! fn first_byte(st: &mut FirstByteState, store: &mut Store, no: u64)
//!     -> Result<IOResult<u8>, CompletionError>
//! {
//!     store.reads += 1;
//!     let buf: Arc<Buffer> = Arc::new(Buffer::new(16));
//!     yield_io!(store.file.pread(no * 16, Completion::read(buf.clone()))?)?;
//!     Ok(buf.to_vec()[0])
//! }
//!
//! // DeferredIO holds every read until the next step, as a device would.
//! let io = DeferredIO::memory();
//! let file = io.open_file("/pages".as_ref(), OpenOptions::new()).unwrap();
//! let pages: Vec<u8> = (0..8u8).flat_map(|p| [p * 10; 16]).collect();
//! io.wait(&file.pwrite(0, Arc::new(Buffer::from_vec(pages)), Completion::write()).unwrap()).unwrap();
//! let mut store = Store { file, reads: 0 };
//!
//! // Eight requests, four in flight at a time: each owns its state and its
//! // page number, and is lent the store for each call.
//! let requests = (0..8u64).map(|no| {
//!     let mut st = FirstByteState::default();
//!     move |store: &mut Store| first_byte(&mut st, store, no)
//! });
//! let mut driver = Driver::new(4);
//! let mut bytes = Vec::new();
//! driver.run(&io, &mut store, requests, |_, r| bytes.push(r.unwrap())).unwrap();
//! bytes.sort();
//! assert_eq!(bytes, [0, 10, 20, 30, 40, 50, 60, 70]);
//! assert_eq!(store.reads, 8); // each statement before a suspension ran once
//! ```
//!
//! [`Driver::next`] returns one finished request at a time, for callers that
//! start requests as they arrive. A request type with several kinds of
//! machine is an enum implementing [`Machine`]. The flagship example,
//! `pagekv`, runs its gets this way (`--clients N`): two requests that miss
//! on the same page share one read, and its `--concurrency-bench` compares
//! 32 gets in flight over io_uring with one at a time.
//!
//! With the `tokio` feature, `ratchet::tokio::run` awaits a machine from a
//! tokio task instead, holding an engine's lock only during each call; an
//! io_uring ring is then driven by tokio's reactor through its eventfd
//! ([`IO::ready_fd`], [`IO::try_step`]). See the module `ratchet::tokio`
//! (documented when built with the feature) and
//! `examples/pagekv_server.rs`.
//!
//! # Migrating a hand-written machine
//!
//! [`guide::migration`] turns a hand-written state enum into a generated one
//! step by step, and sets the conventions of a Turso-style engine (its
//! driver, `reset()`, results kept past `Done`) beside ratchet's.
//!
//! # Testing every resume path
//!
//! Build with the `force-suspend` feature, or call [`set_force_suspend`]`(true)`
//! on a thread, and every suspension point returns `IO` even when its
//! completion has already finished. [`DeferredIO`] holds every completion
//! until the next step, and [`SimIO`] re-enters machines spuriously while their
//! completions are pending.
//!
//! A crash in the middle of a machine: [`SimIO::run_until_crash`] runs it
//! until a [`CrashPoint`], cuts the power, and says whether the machine had
//! already returned (the crash then came right after) or was suspended (its
//! handles are dead: `reset()` its state before running it on reopened
//! files). A crash test runs every crash point of a run and checks what
//! recovery finds:
//!
//! ```
//! use std::sync::Arc;
//! use ratchet::{io_state_machine, yield_io, Buffer, Completion, CompletionError, File, IOResult, OpenOptions, SimIO, IO};
//! use ratchet::sim::{CrashPoint, CrashRun, SimConfig};
//!
//! /// Appends `n` records of 512 bytes, each synced before the next.
//! #[io_state_machine(state = st)]
//! fn append(st: &mut AppendState, log: &dyn File, n: u64) -> Result<IOResult<()>, CompletionError> {
//!     for i in 0..n {
//!         let rec = Arc::new(Buffer::from_vec(vec![i as u8 + 1; 512]));
//!         yield_io!(log.pwrite(i * 512, rec, Completion::write())?)?;
//!         yield_io!(log.sync(Completion::sync())?)?;
//!     }
//!     Ok(())
//! }
//!
//! for point in 0..10 {
//!     let sim = SimIO::new(SimConfig::with_seed(point));
//!     let log = sim.open_file("/log".as_ref(), OpenOptions::new()).unwrap();
//!     let mut st = AppendState::default();
//!     let run = sim.run_until_crash(CrashPoint::before_step(point), || append(&mut st, &*log, 4));
//!     if run.interrupted() {
//!         st.reset(); // its handle died with the crash
//!     }
//!     // Recovery: every record found is whole (a torn last one is possible
//!     // with the default tearing, so check only the synced ones).
//!     let found = sim.durable_contents("/log".as_ref()).unwrap();
//!     let synced = (point / 2).min(4) as usize;
//!     for (i, rec) in found.chunks(512).take(synced).enumerate() {
//!         assert!(rec.iter().all(|&b| b == i as u8 + 1));
//!     }
//!     assert!(found.len() >= synced * 512);
//! }
//! ```
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

// What a machine author writes every day: the attributes and suspension
// macros, the calling convention, completions, buffers, files and backends.
pub use ratchet_macros::{call_io, io_state_machine, io_state_machines, yield_io};
#[cfg(target_os = "linux")]
pub use ratchet_runtime::UringIO;
pub use ratchet_runtime::{
    BlockingIO, Buffer, Completion, CompletionError, CompletionGroup, DIRECT_IO_ALIGN, DeferredIO, Driver,
    File, IO, IOCompletions, IOExt, IOResult, Machine, MemoryIO, OpenOptions, SimIO, choose_default_io,
    default_io, io_yield_one, return_if_io, set_force_suspend,
};

// The rest, by concept.
#[cfg(target_os = "linux")]
pub use ratchet_runtime::uring;
pub use ratchet_runtime::{backend, buffer, completion, sim, testing};

/// Generated code reaches the runtime through here (`::ratchet::__private`).
#[doc(hidden)]
pub use ratchet_runtime::__private;

// The old flat paths, deprecated: each says where its item moved.
#[doc(hidden)]
#[allow(deprecated)]
pub use ratchet_runtime::{
    BACKEND_ENV, BackendKind, BufferMut, BufferRef, ChosenIO, CrashPoint, CrashRun, DEFAULT_SECTOR_BYTES,
    FaultKind, FaultProbabilities, InFlight, Latency, OpKind, Outcome, SIMULATED_MAX_FILE_BYTES, SimConfig,
    SyncMode, TraceEvent, choose_io, force_suspend, io_for, parse_backend,
};
#[cfg(target_os = "linux")]
#[doc(hidden)]
#[allow(deprecated)]
pub use ratchet_runtime::{UringOptions, UringStats};

#[cfg(feature = "tokio")]
pub mod tokio;

pub mod guide;

/// The README's Rust examples (its quick start's first machine among them)
/// compile and run as doctests, so the page a new user copies from works.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
