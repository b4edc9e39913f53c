//! Stage 7: emit. The function keeps its signature; its body takes the
//! state out of its slot, then runs one flat `loop { match .. }` over the
//! blocks. The state enum (beside the function or the impl) holds, per
//! suspension point, only the bindings live there.
//!
//! Input:  the graph of `let mut i: u64 = 0; while i < n { yield_io!(f.pread(i)?)?; i += 1; } Ok(n)`
//! Output:
//! ```text
//! enum CopyState { Idle, Pread { i: u64, __completion: Completion } }
//! fn copy(st: &mut CopyState, f: &dyn File, n: u64) -> Result<IOResult<u64>, E> {
//!     enum __RatchetPc<T0, T1> { Start {}, While { i: T0 }, WhileBody { i: T1 }, .. }
//!     let mut pc = match mem::take(&mut *st) {
//!         CopyState::Idle => __RatchetPc::Start {},
//!         CopyState::Pread { i, __completion } => __RatchetPc::AfterPread { i, r: yield_result(&__completion) },
//!     };
//!     loop { match pc { __RatchetPc::Start {} => { let mut i: u64 = 0; pc = __RatchetPc::While { i }; } .. } }
//! }
//! ```
//!
//! This file holds the `Emitter` and the order of the work; each child
//! module is one concern of it: `inline` (which blocks are emitted in
//! place), `state` and `diagram` (the state enum and its doc),
//! `held` (dead bindings carried to their scope's end), `body` (the
//! dispatch and its arms), `verbatim` (the start run as written), `jump`
//! (terminators), and `fallback` (the output of a failed expansion).

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::cfg::{BindId, BlockId, Graph};
use crate::liveness::Liveness;
use crate::lower::Plan;
use crate::model::Model;
use crate::scan::SiteKind;
use crate::tokens::{collect_idents, error_conversion, respan};
use crate::types::Stored;

mod body;
mod diagram;
mod fallback;
mod held;
mod inline;
mod jump;
mod state;
mod verbatim;

pub use fallback::{Failure, fallback};
pub use state::state_generics;

pub struct Output {
    pub func: TokenStream,
    pub state: TokenStream,
    /// The `compile_error!`s of a failed expansion, for the caller to put
    /// at module level: a failed macro there makes rustc hold back its
    /// "cannot find type" errors for the module (a name the failed macro
    /// should have defined, such as the state enum under another `name =`,
    /// is not reported a second time), which it does not do for one inside
    /// an `impl` or a function body.
    pub errors: TokenStream,
}

struct Emitter<'a> {
    model: &'a Model,
    g: &'a Graph,
    live: &'a Liveness,
    stored: &'a [Stored],
    plan: &'a Plan,
    p: TokenStream,
    pc: Ident,
    pc_enum: Ident,
    label: syn::Lifetime,
    c: Ident,
    needs_label: std::cell::Cell<bool>,
    breaks_out: std::cell::Cell<bool>,
    /// Blocks emitted in place of the one jump that enters them instead of
    /// as arms of their own.
    inline: Vec<bool>,
    /// Whether the arm being emitted declares or binds a `mut` local.
    arm_mut: std::cell::Cell<bool>,
    /// The names in scope at the end of each block's code.
    scope_at: Vec<BTreeSet<String>>,
    /// The bindings behind those names (two may share one).
    ids_at: Vec<BTreeSet<BindId>>,
    /// The block whose arm is being emitted.
    cur_arm: std::cell::Cell<BlockId>,
    /// Whether the arm jumps back to itself (then it is a real `loop`).
    self_jump: std::cell::Cell<bool>,
    /// Whether the arm is being emitted as such a loop.
    in_self_loop: std::cell::Cell<bool>,
    /// How many continuations are being duplicated into a fast path.
    dup_depth: std::cell::Cell<u32>,
    /// The machine starts with the verbatim fast path: the resume arms run
    /// no continuation in place (see `may_duplicate`).
    verbatim_start: std::cell::Cell<bool>,
    /// The names in scope where each enclosing duplication happens.
    dup_scopes: std::cell::RefCell<Vec<BTreeSet<String>>>,
    /// The block at the end of which each enclosing duplication happens.
    dup_at: std::cell::RefCell<Vec<BlockId>>,
    /// The block each jump leaves.
    jump_src: Vec<BlockId>,
    /// Blocks that start with a `call_io!` (resumes re-enter them).
    call_blocks: Vec<bool>,
    /// Per block: the dead bindings its variant carries as `Option`s to
    /// drop them at their scope's end (see [`crate::liveness::held_in`]).
    held: std::cell::RefCell<Vec<Vec<BindId>>>,
    /// `held` before any is pruned (see `held_body`): where the fast path
    /// copies code must not change from one rendering to the next, or a
    /// pruning would cascade (difftest seed 0x13c0de, program 4486: a
    /// held guard dropped at a transition with every completion ready).
    held_all: Vec<Vec<BindId>>,
    /// Held fields some jump fills with `Some(x)`: their type is known.
    held_some: std::cell::RefCell<BTreeSet<(BlockId, BindId)>>,
    /// Held fields a jump fills from another variant's held field.
    held_fwd: std::cell::RefCell<Vec<(BlockId, BindId, BlockId)>>,
    /// Per binding: it may be held (see [`crate::liveness::carriable`]).
    carriable: Vec<bool>,
    /// Per binding: the block and piece of the `let` declaring it.
    decl_at: BTreeMap<BindId, (BlockId, usize)>,
    /// The bindings declared by the blocks whose terminator is being
    /// emitted, outermost first: code emitted inside them (a fast path's
    /// continuation, an inlined branch) that overwrites one of them assigns
    /// it, as Rust does, instead of declaring it again (a second `let`
    /// would keep the old value alive to the end of the arm).
    declared: std::cell::RefCell<Vec<Vec<BindId>>>,
}

// Input:  graph, liveness, stored sets and names of `copy(st, n)`
// Output: `enum CopyState {..}` + `const _: () = { impls };` and `fn copy(..) { take state; loop { match pc {..} } }`
pub fn emit(model: &Model, g: &Graph, live: &Liveness, stored: &[Stored], plan: &Plan) -> Output {
    let e = Emitter {
        model,
        g,
        live,
        stored,
        plan,
        p: model.private(),
        pc: Ident::new("__ratchet_pc", Span::mixed_site()),
        pc_enum: Ident::new("__RatchetPc", Span::mixed_site()),
        label: syn::Lifetime::new("'__ratchet_dispatch", Span::mixed_site()),
        c: Ident::new("__ratchet_c", Span::mixed_site()),
        needs_label: std::cell::Cell::new(false),
        breaks_out: std::cell::Cell::new(false),
        inline: Vec::new(),
        arm_mut: std::cell::Cell::new(false),
        scope_at: Vec::new(),
        ids_at: Vec::new(),
        cur_arm: std::cell::Cell::new(0),
        self_jump: std::cell::Cell::new(false),
        in_self_loop: std::cell::Cell::new(false),
        dup_depth: std::cell::Cell::new(0),
        verbatim_start: std::cell::Cell::new(false),
        dup_scopes: std::cell::RefCell::new(Vec::new()),
        dup_at: std::cell::RefCell::new(Vec::new()),
        jump_src: Vec::new(),
        call_blocks: Vec::new(),
        held: std::cell::RefCell::new(Vec::new()),
        held_all: Vec::new(),
        held_some: std::cell::RefCell::new(BTreeSet::new()),
        held_fwd: std::cell::RefCell::new(Vec::new()),
        declared: std::cell::RefCell::new(Vec::new()),
        carriable: Vec::new(),
        decl_at: BTreeMap::new(),
    };
    let mut jump_src = vec![0; g.jumps.len()];
    for (b, blk) in g.blocks.iter().enumerate() {
        for &j in &blk.jumps {
            if let Some(slot) = jump_src.get_mut(j) {
                *slot = b;
            }
        }
    }
    let mut call_blocks = vec![false; g.blocks.len()];
    for s in g.susps.iter().filter(|s| s.kind == SiteKind::Call) {
        call_blocks[s.block] = true;
    }
    let carriable = crate::liveness::carriable(g);
    let held = crate::liveness::held_in(g, live, &carriable);
    let e = Emitter {
        held_all: held.clone(),
        held: std::cell::RefCell::new(held),
        ..e
    };
    let (inline, scope_at, ids_at) = e.plan_inline();
    let e = Emitter {
        inline,
        scope_at,
        ids_at,
        jump_src,
        call_blocks,
        carriable,
        decl_at: g
            .blocks
            .iter()
            .enumerate()
            .flat_map(|(b, blk)| {
                blk.pieces
                    .iter()
                    .enumerate()
                    .flat_map(move |(k, p)| p.defs.iter().map(move |&d| (d, (b, k))))
            })
            .collect(),
        ..e
    };
    let state = e.state_enum();
    let body = e.held_body();
    if std::env::var_os("RATCHET_VERBATIM_REPORT").is_some() && !e.g.susps.is_empty() {
        report_verbatim(&model.input.sig.ident, e.verbatim_arm().err());
    }
    let input = &model.input;
    let attrs = &input.attrs;
    let vis = &input.vis;
    let sig = &input.sig;
    // A `let _g = guard;` held across a suspension point is moved into and
    // out of the state by generated code, which clippy counts as using an
    // underscore binding: allowed where the machine carries one.
    let underscore = g
        .bindings
        .iter()
        .any(|b| b.ident.to_string().starts_with('_') && !b.ident.to_string().starts_with("__ratchet"));
    let allow = underscore.then(|| quote!(#[allow(clippy::used_underscore_binding)]));
    Output {
        func: quote!(#(#attrs)* #allow #vis #sig { #body }),
        state,
        errors: TokenStream::new(),
    }
}

impl Emitter<'_> {
    fn ident(&self, b: BindId) -> &Ident {
        &self.g.bindings[b].ident
    }

    /// The binding's field in the stored state and the block variants.
    fn field(&self, b: BindId) -> &Ident {
        &self.plan.fields[b]
    }

    /// `field: value` for a carried binding read by its own name or, set
    /// aside by a shadowing, by its hidden name; shorthand where it can be.
    fn field_init(&self, b: BindId, hidden: bool) -> TokenStream {
        let f = self.field(b);
        if hidden {
            let h = Plan::hidden_ident(self.g, b);
            quote!(#f: #h)
        } else if f == self.ident(b) {
            quote!(#f)
        } else {
            let id = self.ident(b);
            quote!(#f: #id)
        }
    }

    /// Bindings a block overwrites whole (`x = e;`) whose old value is dead
    /// there: not carried in, so the block declares them at its top.
    fn late_decls(&self, block: BlockId) -> Vec<BindId> {
        self.live.late_decls(self.g, block)
    }

    /// The names a block declares at its very top (see `late_decls`): no
    /// code inside it can capture an outer binding of the same name.
    fn top_names(&self, block: BlockId) -> BTreeSet<String> {
        self.late_decls(block)
            .into_iter()
            .map(|b| self.ident(b).to_string())
            .collect()
    }
}

/// `RATCHET_NO_VERBATIM` set when the macro runs: every machine starts
/// with the dispatch's `Start` arm, as before the verbatim fast path (for
/// measuring the difference).
fn verbatim_off() -> bool {
    std::env::var_os("RATCHET_NO_VERBATIM").is_some()
}

/// `RATCHET_VERBATIM_COPIES` set when the macro runs: the resume arms keep
/// their fast-path copies beside the verbatim start (for measuring).
fn copies_kept() -> bool {
    std::env::var_os("RATCHET_VERBATIM_COPIES").is_some()
}

/// `RATCHET_VERBATIM_REPORT=FILE` set when the macro runs: one line per
/// machine appended to `FILE`, `name: verbatim` or `name: <why not>` (how
/// the difftest's programs are counted in docs/TESTING.md).
fn report_verbatim(name: &Ident, why: Option<&str>) {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("RATCHET_VERBATIM_REPORT") else {
        return;
    };
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(f, "{name}: {}", why.unwrap_or("verbatim"));
    }
}
