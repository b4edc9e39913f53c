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
//! (Not [`io_yield_one!`] and [`return_if_io!`]: those are the `return`
//! lines of a machine written by hand, without the attribute; see
//! [below](#yield_io-or-io_yield_one).)
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
//! These rules are the contract: code written against them keeps working.
//!
//! 1. **Signature.** The annotated function keeps its signature, which
//!    returns `Result<IOResult<T>, E>` with `E: From<CompletionError>`. The
//!    body is written as if the function returned `Result<T, E>`: `Ok(v)`
//!    becomes `Ok(IOResult::Done(v))`, and `?` works anywhere.
//! 2. **Calling convention.** Each call resumes at the last suspension point,
//!    with the arguments of *that* call. Arguments and `self` are never
//!    stored, so the state holds no borrow, has no lifetime parameter and
//!    needs no `Pin`. Pass equivalent arguments until you get `Done`.
//! 3. **Exactly once.** Every statement before a suspension point runs
//!    exactly once per run of the machine, however often the function is
//!    called again. A call made while the awaited completion is still
//!    pending returns `IO` again and runs nothing. At a `call_io!` point the
//!    awaited work is the callee's: each call evaluates the `call_io!`
//!    expression again (rule 5), so its arguments are read afresh, and the
//!    callee, by this same rule, runs nothing while its own completion is
//!    pending.
//! 4. **`yield_io!(expr)`** evaluates `expr` exactly once, to a
//!    [`Completion`] (a built [`CompletionGroup`] is one). If it has already
//!    finished, the machine goes on without returning (the fast path),
//!    unless force-suspend is on (rule 12); otherwise it stores it and returns
//!    `Ok(IOResult::IO(..))`. The one exception to the fast path is
//!    [`Completion::yield_now`], an explicit cooperative yield: finished, yet
//!    the machine returns `IO` at it once, so the caller gets control back.
//!    `yield_io!` evaluates to `Result<i32, CompletionError>`, the
//!    completion's result: the bytes moved by a read or a write, 0 for a
//!    sync, a truncate or a built group, and `Err` when it failed or was
//!    aborted. Write `yield_io!(c)?;`, `let n = yield_io!(c)?;`, or match on
//!    it to retry. A read that reaches the end of the file is short, not an
//!    error: `n` is then less than the buffer's length, and the bytes past
//!    `n` keep what the buffer held.
//! 5. **`call_io!(expr)`** calls another `IOResult` function: `expr` is a
//!    `Result<IOResult<U>, E2>`. It is evaluated when first reached and
//!    again on every resume at this point, until it gives `Done(u)` or an
//!    `Err`; it evaluates to `Result<U, E2>`. The locals `expr` reads are
//!    kept across its own suspension point, since every resume reads them.
//! 6. **Where a suspension point may stand:** a statement; a `let`
//!    initializer (`let`-`else` too); the right side of an assignment;
//!    `return`; the tail expression; a `match` scrutinee; an `if` / `if let`
//!    condition; a `while` / `while let` condition, evaluated again as its
//!    own state on every iteration
//!    (`while let Some(row) = call_io!(cursor.next(pager))? { .. }`). In each
//!    of these the suspension point is the whole expression, optionally
//!    under `?`. Anywhere else it is a compile error that says why: inside a
//!    larger expression (`a + yield_io!(c)?`, `x && call_io!(f())?`), a call
//!    argument, a method receiver, a closure, a nested `fn`, an `async`
//!    block, another macro's arguments or a match guard, moving it out would
//!    reorder the code around it or evaluate an operand that `&&`/`||` would
//!    have skipped. The error shows a rewrite: a `let` before the
//!    expression where the order stays the same, a nested `if` or a `match`
//!    for a short-circuit operand.
//! 7. **Control flow across suspension points:** `if` / `else if` / `else`,
//!    `if let`, `match` (any arm may suspend), `loop`, `while`, `while let`,
//!    `for`, labeled `break` / `continue`, `break` with a value, early
//!    `return`, `?`, blocks, `let`-`else` (a suspension point in its `else`
//!    block too), and shadowing (also of a local still needed after the
//!    shadowing scope: the state then stores both, as `x` and `x_2`). The
//!    dispatch is one flat `loop { match .. }`: no recursion, so no stack
//!    growth however many times a loop suspends. Names are Rust's: `r#x` is
//!    `x`. An identifier pattern where only a binding can stand (a `let`
//!    without `else`, a parameter, a closure's parameter) is a binding,
//!    capitalised or not (a constant there would make the pattern
//!    refutable). Elsewhere (a `match` arm, an `if let`) a capitalised one
//!    (`None`, `MAX`) is taken for a constant or unit variant, as by
//!    convention, unless the function binds that name as above and declares
//!    no value of that name (`const`, `static`, unit or tuple `struct`,
//!    `use`) and no glob `use`. `let Tok = Tok;` with `Tok` a unit struct
//!    binds nothing in Rust but is taken for a binding: write `let _ = Tok;`. One shape is refused with
//!    an error: a `break`, `continue` or `return` out of a loop holding a
//!    suspension point, from inside a statement without one that itself
//!    declares a name the jump must carry.
//! 8. **Stored locals.** Liveness analysis decides what each state stores:
//!    only the locals still needed after that suspension point. Uses inside
//!    macro calls count, inline format captures (`format!("{x}")`) included.
//!    A stored local needs a type the attribute can read: an annotation
//!    (`let x: u64 = ..`, or `let x: u64;` for one assigned later), or one it
//!    derives from the syntax: a suffixed literal, a cast, a copy of a
//!    parameter or of a typed local (`let mut n = start;`), a typed range for
//!    `for`. The type must be complete (no `_`, no `impl Trait`) and declared
//!    outside the function. Otherwise you get one error, at the binding,
//!    naming the suspension point that carries the local and the later use,
//!    with the fix: [`guide::annotations`] goes through the usual cases. A
//!    `let x;` assigned after a suspension point needs no type. Items
//!    declared in the body (`fn`, `const`, `struct`, `use`,
//!    `macro_rules!`) are visible in the whole body, as in Rust. The items
//!    of a block that holds a suspension point move to the top of the
//!    function (the block is taken apart), so where that would change what
//!    a name means, the macro refuses with an error at the item: the
//!    function also names it outside the block (a sibling block's item of
//!    the same name, or an outer item it shadows, including inside a format
//!    string's `{name}` and in what a body `macro_rules!` expands to), the
//!    block holds a glob `use` (whose names nobody can list), or a
//!    `macro_rules!` is defined twice or used before its definition or after
//!    its block. A `let` of the item's name hides a `fn` as in Rust, so a
//!    later use of that name is the local's and is accepted; a `fn` that
//!    hides a local declared before its block is refused (at the top of the
//!    function the local would hide it). A stored local's type may name
//!    something a `use` of the body brings in: the state enum, outside the
//!    function, spells it out with the `use`'s path. A machine declared in
//!    the body is a machine of its own; its state enum
//!    is declared in the body too, so the outer machine cannot store it. A `mut`
//!    parameter the body assigns is a local, initialized from the first
//!    call's argument and stored like any other. A by-value parameter the
//!    body moves (`for item in v`, `let w: Vec<u64> = v;`,
//!    `v.into_iter()`), before or inside a loop that holds a suspension
//!    point, is consumed once, by the call that runs the move: like every
//!    parameter it is the argument of the call running the code (rule 2),
//!    it is never stored, and a later call's argument that the body no
//!    longer reads is dropped when that call returns. A borrow of such a
//!    parameter cannot be kept across a suspension point (one re-created
//!    after it, rule 9, keeps the parameter as it is, so it can then be
//!    moved only on the way to a `return`); `Copy` parameters and those
//!    the body only borrows are unaffected. A stored local is stored
//!    whole: moving a field out of it (`let a: String = p.a;`) before a
//!    suspension point that stores the rest of it does not compile (rustc's
//!    "use of partially moved value"); take the field with
//!    `std::mem::take(&mut p.a)`, or move it out after the last suspension
//!    point that needs `p`.
//!
//!    **Re-evaluated bindings.** `#[reevaluated] let header =
//!    HeaderRefMut::from_pager(pager)?;` among the `let` statements that open
//!    the body is not stored: it is evaluated again from the arguments at the
//!    start of the run and after every real resume (not on a call made while
//!    the completion is still pending, which runs nothing, rule 3), so it may
//!    hold a borrow of them for the whole body, as an engine's header guard
//!    does. At a `call_io!` point every call is a resume: the `call_io!`
//!    expression is evaluated again and may read the binding, so the
//!    binding is evaluated first. It lives until the call returns. An error
//!    it returns with `?` (or a `return`) ends the run (rule 11). It cannot
//!    wait, it cannot read the state parameter, and it must come before
//!    every other statement but items, where the arguments are all it can
//!    read. It may not read a by-value parameter the body moves before a
//!    suspension point or in a loop that holds one (the next call would read
//!    the moved parameter); take what it needs with a plain `let` first. A
//!    change to the binding itself would be undone by the next
//!    resume: an assignment or a `drop` of it is refused, and one made
//!    through `&mut` (advancing an iterator held in it) is lost, so keep
//!    such state in a local of its own. A copy of a typed one takes its
//!    type, and a borrow of it is re-created after a suspension point, as
//!    for an argument. The [`guide::migration`] shows one, before and after.
//!
//!    Attributes on a statement that holds a suspension point stay on its
//!    code: lint attributes cover every piece made from it, and `#[cfg]`
//!    decides whether it exists (the function is expanded once per
//!    combination of such predicates, at most four). A `break` or `continue`
//!    that another macro writes works too; a `return Ok(v)` written by
//!    another macro does not compile (the macro's `Ok` is the function's
//!    `Result<IOResult<T>, E>`): return its value instead,
//!    `return Ok(m!(..))`. A compound assignment whose right side suspends
//!    (`x += call_io!(..)?`) needs a place without side effects (a local, a
//!    field, a dereference of such a place), and its right side runs first:
//!    for `*slot(..) += ..` or `v[i] += ..` Rust's order depends on the type
//!    (for a type that is not a primitive, `IndexMut` and its bounds check
//!    come before the right side), which the attribute cannot see, so it
//!    asks for `let r = ..;` first. A field reached through a smart pointer
//!    (`page.count += ..` with `page` a guard) has its `deref_mut` run
//!    after the right side.
//!
//!    **Drops.** A machine that starts from idle runs the body as written
//!    (the verbatim fast path): Rust's own blocks, `if`, `match` and loops,
//!    with each suspension point in place. A completion that is already
//!    finished gives its result there and the code goes on; so with every
//!    completion ready, every local is dropped exactly where the plain
//!    function drops it, whatever the body does with it (reads it by value,
//!    moves it on one path, assigns it after its `let`), and so is every
//!    temporary but one kind, below. The body's tail keeps its edition's
//!    order (its temporaries drop after the locals in edition 2021, before
//!    them in 2024).
//!    A suspension point that really suspends (its I/O not finished yet)
//!    moves into the state the locals the body still reads after it, and
//!    drops the other locals in scope there, as the function returns: one
//!    read only by reference is dropped there too when the body does not
//!    read it after that point. A local the body never reads that is given
//!    a value, one kept for its `Drop` (`let _g = pin(page);`, also
//!    declared with its type and assigned later, `let _g: G; .. _g =
//!    pin(page);`, or overwritten), is never dropped early: it is stored
//!    across every suspension point in its scope (so its type must be
//!    readable) and dropped where Rust drops it. One declared without a
//!    type and assigned later (`let _g; .. _g = pin(page);`) is not: it may
//!    be dropped at a suspension point that really suspends, like a local
//!    the body no longer reads; write its type to keep it.
//!    The temporaries of a suspension point's own expression
//!    (`match yield_io!(dev.read(&guard()))? { .. }`) live to the end of the
//!    enclosing statement, as in Rust, unless the expression names a local
//!    stored at that point: then they are dropped before the point goes on
//!    or suspends, ready or not (one could borrow that local, which the
//!    state takes). After a resume at a `call_io!` point, whose expression
//!    is evaluated again, they are dropped before the call's value is
//!    used; the value itself is a temporary as in Rust (`let _ =
//!    call_io!(..);` drops it at once, a `match` on it at the `match`'s
//!    end), except that where the arm or body that runs next holds a
//!    suspension point, the value may be dropped before that point, as a
//!    local no longer read is. The same holds after a resume for the
//!    temporaries of any `match`, `if let` or `while let` scrutinee (a
//!    `RefCell` borrow made there): where the arm that runs really
//!    suspends, they are dropped at that point; and an `if let` runs its
//!    `else` after them, as edition 2024 does, in an edition 2021 crate too.
//!    After a resume the machine runs the code that follows as steps of a
//!    dispatch loop. There a local the body reads only by reference (`&x`,
//!    `&mut x`, `&x.f`, `&x[i]`, or as an argument of `format!`, `println!`,
//!    `assert_eq!` and the like) and never moves or overwrites is carried,
//!    once dead, to the end of its scope and dropped there; any other local
//!    the body no longer reads (read by value, `x.0`, `x.len()`, or moved on
//!    some path: the attribute cannot see types, so it cannot tell a copy
//!    from a move) may be dropped when the step in which it was last read
//!    ends: at the next suspension point (finished or not), where control
//!    joins after a branch or a `match` that holds a suspension point, or at
//!    the head of a loop that holds one. No local is
//!    dropped later than in Rust. To keep such a value to the end of its
//!    scope on every path, move it into a binding the body does not read:
//!    `let _keep = page;`.
//!    A few bodies start with the dispatch instead of running verbatim, and
//!    then follow the rule of the resumed code even when every completion
//!    is ready: code a resume runs that invokes a macro which may expand to
//!    an item (anything but std's formatting and assertion macros, called by
//!    their bare name or through `std::`/`core::`, and the body's own
//!    `macro_rules!` that write no `static`: a per-call-site `static` must
//!    not exist twice; a macro brought in under the name of one of std's,
//!    `use defmt::println;`, is taken for std's, so call it by its path,
//!    `defmt::println!`), or that declares, where no suspension point stands
//!    beside it (in a nested block, an arm, a nested `fn`, a format
//!    argument), an item that must exist once: a `static`, an `impl`, a
//!    function with `#[no_mangle]` or `#[export_name]`, or an item under an
//!    attribute macro or a derive outside std's (`#[tracing::instrument]`);
//!    a stored local hidden by a later binding of its name where a `match`
//!    arm, `if let` or `while let` binds it, or where the code reads it in a
//!    way that cannot be renamed (inside a macro that binds names, or a
//!    format-string capture of a macro other than std's formatting macros);
//!    a body whose value is not `()` and that ends with a statement; and a
//!    suspension point after code that always diverges.
//! 9. **Borrows.** A stored local may not hold a borrow. A borrow of an
//!    argument or of `self` that crosses a suspension point is made again
//!    after it when it is a plain path or a field access (`&self.pages`);
//!    otherwise the error says to store an owned value or an index, and
//!    borrow again after the suspension point.
//! 10. **The state type** is emitted beside the function (a free function)
//!     or beside the `impl` (methods), named `<CamelCaseFnName>State` unless
//!     `name = X` is given, with the function's visibility. `state = ..`
//!     says where it lives: a `&mut` parameter, a field of `&mut self`, or
//!     an expression evaluated once per call that is the state or derefs
//!     mutably to it (a `RefCell` borrow, a lock guard, `self.states[i]`),
//!     held for that call only. It is generic over
//!     the generics its stored types use, with the bounds they need
//!     (`S: Store` for a stored `S::Key`); `Self` in a method's stored type
//!     is spelled out. It implements `Default` (idle), `Debug` (where it is
//!     suspended, as `file:line` and the source of its `yield_io!` /
//!     `call_io!`, and the names of the stored locals), and has
//!     `is_idle(&self)` and `reset(&mut self)`, which aborts the completion
//!     it waits for, drops the stored locals and returns to idle (at a
//!     `call_io!` point the completion is the callee's: a stored local that
//!     is a machine's state is reset first, so a nest is aborted down to
//!     its innermost completion; one inside another value (a `Box`, an
//!     `Option`, a tuple, a struct, a collection) is only dropped, and a
//!     callee's state the caller does not store (a parameter, a field of
//!     `self`) is untouched: reset it as well). Its
//!     `size_report()` gives the bytes each suspension point stores, and
//!     `max_size = N` asserts a bound at compile time.
//! 11. **Errors and panics.** After `Done`, after any `Err` and after a panic
//!     in the body, the state is idle: the next call starts over.
//! 12. **Force-suspend.** The `force-suspend` cargo feature, or
//!     [`set_force_suspend`]`(true)` on a thread, makes every suspension
//!     point return `IO` even when its completion has already finished, so
//!     that ordinary tests walk every resume path (see "Testing every resume
//!     path" below).
//! 13. **Diagnostics.** All errors of one function are reported together,
//!     each at the smallest span of your code (never at generated code), in
//!     one lowercase sentence: what is wrong, why, and the fix. On an error
//!     the attribute still emits the function with its original signature
//!     and its body, each `yield_io!` standing in as the `Result<i32,
//!     CompletionError>` it gives and each `call_io!` as the callee's
//!     `Result<T, E>`, so rust-analyzer keeps the body's types while you fix
//!     it; the errors stand at module level, so no second wave follows (no
//!     "cannot find type" for a state named otherwise, no unused imports).
//!     The attribute never panics.
//! 14. **Hygiene.** Generated code names everything by absolute path
//!     through `::ratchet::__private` (`crate = path` points it elsewhere,
//!     for a crate that renames or re-exports ratchet), your code cannot
//!     name its bindings, and it compiles without warnings under
//!     `#![deny(warnings)]` and `clippy::pedantic`.
//! 15. **Outside a machine**, `yield_io!` and `call_io!` fail to compile
//!     with a message that points to `#[io_state_machine]`.
//!
//! # The two attributes
//!
//! - `#[io_state_machine(state = st)]` on a free function keeps its state in
//!   the parameter `st: &mut <Name>State`.
//! - `#[io_state_machine(state = self.field)]` on a method keeps the state in
//!   a field of `self`; the `impl` block carries `#[io_state_machines]`,
//!   which emits the state enums beside it (generic over the impl's
//!   parameters its stored locals use).
//! - `#[io_state_machine(state = self.field.borrow_mut())]`, or any
//!   expression evaluated once per call that gives the state or derefs
//!   mutably to it (`*self.field.lock().unwrap()`, `self.states[i]`): for a
//!   state behind a `RefCell` or a lock, as `&self` methods keep it; the
//!   borrow is held for that call only ([`guide::migration`] shows it). A
//!   panic in the body leaves the state idle (rule 11), but a `Mutex` held
//!   for the call is then poisoned and `lock().unwrap()` panics on every
//!   later call; to start over instead, take the guard of a poisoned lock
//!   too: `*self.field.lock().unwrap_or_else(std::sync::PoisonError::into_inner)`.
//!
//! Options besides `state`: `name = X` names the state type, `crate = path`
//! is where generated code finds ratchet, and `max_size = N` (bytes) makes
//! a state larger than `N` a compile error that lists what each suspension
//! point stores.
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
//! - [`IOResult<T>`](IOResult) is `Done(T)` or `IO(IOCompletions)`, and
//!   `#[must_use]`. [`IOCompletions::completion`] is what the machine waits
//!   for; a [`Completion`] converts into one (`c.into()`).
//! - [`Completion`]: a cheap `Clone`, `Send + Sync` handle on one operation's
//!   outcome. [`Completion::pending`] has nothing behind it (for tests and
//!   custom sources of events); [`Completion::ready`] is already finished
//!   and [`Completion::yield_now`] is finished too and marks a cooperative
//!   yield (rule 4), both without allocating; [`Completion::read`] owns the
//!   [`Buffer`] it reads into, and [`Completion::write`],
//!   [`Completion::sync`] and [`Completion::truncate`] are the other typed
//!   constructors. `complete(n)`, `error(e)` and `abort()` decide the
//!   outcome: the first one wins and later ones are ignored; `finished()`,
//!   `succeeded()`, `failed()`, `get_error()` and `result()` read it. Each
//!   callback runs exactly once, with no lock held. "The outcome is decided"
//!   and "the device has let go of the buffer" are separate events: a
//!   buffer is never reused while the kernel may still write it, even after
//!   an abort.
//! - [`CompletionGroup`]: `new(callback)`, `add(&c)`, `build()` gives one
//!   completion that finishes when every child has; the first error wins;
//!   groups nest; `cancel()` aborts every outstanding child, nested groups
//!   included; an empty group is finished at once.
//! - [`Buffer`]: the bytes an operation reads into or writes from,
//!   page-aligned for `O_DIRECT` with [`Buffer::new_aligned`]. All size and
//!   offset arithmetic is checked.
//! - [`CompletionError`]: `Copy`, a `std::error::Error`; `Aborted`,
//!   `Io(std::io::ErrorKind)`, `ShortRead` / `ShortWrite`, `Busy` (a view
//!   refused, below), `InvalidArgument`, `Unsupported`, and `Stalled` (a
//!   wait for a completion that nothing in flight can finish).
//! - [`File`]: `pread(pos, c)`, `pwrite(pos, buf, c)`, `pwritev(pos, bufs,
//!   c)`, `sync(c)`, `truncate(len, c)`, each returning the completion, and
//!   `size()`.
//! - [`IO`]: `open_file(path, options)`, `remove_file`, `step()` (submit,
//!   wait until something has finished if anything is in flight, run the
//!   callbacks), `wait(&c)`, and, through [`IOExt`], `block(|| machine(..))`,
//!   which drives one machine to `Done` on any handle (`&dyn IO`,
//!   `Arc<dyn IO>`, a concrete backend).
//! - Backends: [`BlockingIO`] (syscalls inline; it loops over short
//!   transfers and retries `EINTR`), `UringIO` (io_uring on Linux: batched
//!   submission, `EAGAIN`/`EINTR` resubmitted, cancellation that never frees
//!   a buffer the kernel holds), [`MemoryIO`], [`DeferredIO`] (holds every
//!   completion until the next step, so every resume path runs) and
//!   [`SimIO`] (seeded latency, reordering, faults and a crash model).
//!   [`default_io`] picks io_uring where the kernel allows it, else
//!   blocking; `RATCHET_IO=blocking|uring|memory` overrides, and
//!   [`choose_default_io`] also says which it picked and why.
//! - Hand-written machines: [`return_if_io!`] and [`io_yield_one!`] are the
//!   two lines a hand-written state machine is built from; they need no
//!   attribute (see below).
//! - Drivers: [`IOExt::block`] runs one machine; [`Driver`] runs many
//!   instances in flight on one thread ("Many machines in flight" below);
//!   with the `tokio` feature, `ratchet::tokio::run` awaits one from a tokio
//!   task.
//!
//! Three rules hold on every backend:
//!
//! - **A buffer in flight belongs to the device.** While a read into it is
//!   in flight no view of it can exist or be created; while a write of it is,
//!   shared views are fine and mutable ones are refused. No safe code can
//!   observe the kernel writing, and no view can block a backend: a refusal
//!   never blocks: `try_as_slice` returns [`CompletionError::Busy`],
//!   `as_slice` panics with the same message, and an operation on a buffer
//!   with a conflicting view is refused at its call. A read's buffer stays
//!   owned by the operation until the device has let go of it, even if the
//!   completion was aborted and every user handle dropped. The [`buffer`]
//!   module's docs argue why this is sound for io_uring, which hands the
//!   kernel raw addresses.
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
//! # `yield_io!` or `io_yield_one!`?
//!
//! Two macros with similar names do different jobs:
//!
//! | | [`yield_io!`] | [`io_yield_one!`] |
//! | --- | --- | --- |
//! | where | inside an `#[io_state_machine]` function | in a hand-written machine, without the attribute |
//! | what it does | waits for a completion; the machine resumes after it | `return`s `Ok(IOResult::IO(..))` from the function |
//! | its value | `Result<i32, CompletionError>`: `let n = yield_io!(c)?;` | none: the code after it never runs |
//! | re-entry | handled: the generated state resumes after it | yours: your own state enum must say where to go on |
//!
//! Likewise [`call_io!`] (generated machines) and [`return_if_io!`]
//! (hand-written ones) for calling another machine. [`guide::migration`]
//! turns the second kind into the first.
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
