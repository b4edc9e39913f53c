//! Stage 3's output: the control-flow graph as data. `build` (in `cfg`)
//! gives a [`Graph`] of basic blocks, the pieces of kept code in them,
//! their terminators and jumps, the bindings and the suspension points;
//! liveness, the type checks, the lowering to states and the emitter
//! (stages 4 to 7) read it. Data and queries only: nothing here builds.

use proc_macro2::{Span, TokenStream};
use syn::{Ident, Type};

use crate::scan::{self, SiteKind};

pub type BlockId = usize;
pub type BindId = usize;
pub type JumpId = usize;

/// A local of the body (or one the lowering made up, `synthetic`).
pub struct Binding {
    pub ident: Ident,
    pub mutable: bool,
    /// The type when the code spells it or it can be derived (rule 8).
    pub ty: Option<Type>,
    /// An expression re-creating this borrow of an argument or of `self`
    /// after a suspension (rule 9); such a binding is never stored.
    pub reborrow: Option<TokenStream>,
    /// Known to hold a borrow that cannot be re-created.
    pub borrow: bool,
    /// A re-creatable borrow (this place, `&self.a`) bound `mut`: it may be
    /// pointed elsewhere before a suspension, which re-creating it from its
    /// initializer would not see, so it is neither re-created nor stored.
    pub mut_reborrow: Option<String>,
    /// `let x;` without initializer.
    pub uninit: bool,
    /// The iterator of a `for` loop.
    pub for_iter: bool,
    /// Bound by a pattern of an arm, `if let`, `while let` or `for`, where no
    /// type can be written: the fix for a missing type is a typed rebinding.
    pub in_pattern: bool,
    /// Bound by a `let` with a value: if the body never reads it, it is
    /// held for its `Drop` (`let _g = lock();`, see `drop_only`).
    pub drop_candidate: bool,
    /// Never read: it lives to the end of its scope on every path, as in
    /// Rust, so it is stored across every suspension point in that scope.
    pub drop_only: bool,
    /// A parameter made a local: a `mut` one (stored, from the first call's
    /// argument) or a moved one (`reborrow` is the parameter: each resume
    /// that needs it enters it with that call's argument). A copy of it is
    /// a value, not a re-created borrow.
    pub param: bool,
    /// For a `drop_only` binding: the blocks whose jump leaves its scope
    /// where the scope falls through. The jump does not carry it, so it
    /// drops with the step there, in reverse order of declaration among the
    /// scope's other bindings, as Rust drops them.
    pub scope_ends: Vec<BlockId>,
    /// Where `uses` are overwrites of it whole (`x = e;`), not reads: a
    /// binding only ever overwritten is held for its `Drop` all the same.
    pub overwrites: Vec<Span>,
    pub decl_span: Span,
    pub uses: Vec<(BlockId, Span)>,
}

impl Binding {
    /// A plain local `ident` declared at `decl_span`: not `mut`, not a
    /// borrow, read nowhere yet; the fields a declaration knows better are
    /// set over it (`Binding { mutable, ..Binding::plain(..) }`).
    pub fn plain(ident: Ident, ty: Option<Type>, decl_span: Span) -> Self {
        Binding {
            ident,
            mutable: false,
            ty,
            reborrow: None,
            borrow: false,
            mut_reborrow: None,
            uninit: false,
            for_iter: false,
            in_pattern: false,
            drop_candidate: false,
            drop_only: false,
            param: false,
            scope_ends: Vec::new(),
            overwrites: Vec::new(),
            decl_span,
            uses: Vec::new(),
        }
    }
}

/// Kept code: tokens (with `__ratchet_jump!(n)` / `__ratchet_susp!(n)`
/// placeholders the emitter fills in), and the bindings it reads and binds.
pub struct Piece {
    pub tokens: TokenStream,
    pub uses: Vec<BindId>,
    pub defs: Vec<BindId>,
    /// Bindings this piece overwrites whole (`x = e;`): their old value is
    /// dead before it, so a block starting with it need not carry them.
    pub assigns: Vec<BindId>,
    /// A plain `let PAT = INIT;` taken apart: its attributes, `PAT` (with
    /// any `: Type`) and `INIT`, so that the emitter can move aside a
    /// binding the `let` hides after `INIT` has read it.
    pub split_let: Option<SplitLet>,
    /// The attributes of the taken-apart statements around it
    /// (`#[allow(..)] { .. }`), which it carries (see [`crate::attrs`]).
    pub attrs: TokenStream,
    /// A `let x;` without a value: emitted only where its own block also
    /// gives it one (elsewhere the block that assigns it declares it).
    pub uninit_decl: bool,
    /// The bindings that may be held for their `Drop` in scope here.
    pub open: Vec<BindId>,
}

/// The parts of a kept `let PAT = INIT;` (see [`Piece::split_let`]).
pub struct SplitLet {
    pub attrs: TokenStream,
    pub pat: TokenStream,
    pub ty: Option<Type>,
    pub init: TokenStream,
}

/// A transfer to another block, carrying the bindings live there.
pub struct Jump {
    pub target: BlockId,
    /// A value for one binding of the target (a `break` value, a result).
    pub value: Option<(Option<BindId>, TokenStream)>,
    /// The names in scope where the jump stands, to check that every carried
    /// binding can be named there.
    pub scope: Vec<(String, BindId)>,
    /// Names bound by kept code around the jump: carrying one of those
    /// would read the wrong variable.
    pub shadowed: Vec<String>,
    /// At the end of a dispatch arm: no `continue` needed.
    pub tail: bool,
    /// The index of the piece of kept code it leaves from (`break` inside a
    /// statement), or `None` for the block's terminator: liveness needs to
    /// know which assignments happen before it.
    pub piece: Option<usize>,
}

pub enum Term {
    Open,
    Diverged,
    Return,
    Goto(JumpId),
    If {
        cond: TokenStream,
        then: JumpId,
        els: JumpId,
    },
    Match {
        scrut: TokenStream,
        arms: Vec<(TokenStream, JumpId)>,
    },
    Yield {
        susp: usize,
        jump: JumpId,
    },
}

pub struct BasicBlock {
    pub name: String,
    pub pieces: Vec<Piece>,
    pub term: Term,
    pub term_uses: Vec<BindId>,
    pub term_defs: Vec<BindId>,
    pub jumps: Vec<JumpId>,
    /// The value returned when the block ends in `return`, for a body that
    /// needs no dispatch loop (it is then the tail expression).
    pub ret_expr: Option<TokenStream>,
    /// The names in the user's scope where the block's code starts: which
    /// of two carried bindings of one name its code means by that name.
    pub scope_in: Vec<(String, BindId)>,
    /// The attributes the terminator's code carries (see [`Piece::attrs`]).
    pub term_attrs: TokenStream,
    /// The bindings that may be held for their `Drop` in scope at the
    /// terminator.
    pub term_open: Vec<BindId>,
    /// Where a `match` or `if let` ends whose scrutinee may hold temporaries
    /// (a `call_io!`'s value, a guard made there): never emitted inside the
    /// arm that reaches it, so that they drop at the `match`'s end, as in
    /// Rust, not after this code.
    pub after_scrutinee: bool,
}

pub struct Suspension {
    pub kind: SiteKind,
    pub arg: TokenStream,
    /// Span of the macro's name, for `line!()` and messages.
    pub span: Span,
    /// Span of the macro call's closing delimiter: uses before it are its
    /// own (a `call_io!` reads them on every resume).
    pub close: Span,
    pub text: String,
    /// The block ending in the yield, or the call block starting with the call.
    pub block: BlockId,
    pub result: BindId,
    pub name: String,
    /// The name the user gave it (`yield_io!(name = ReadHeader, ..)`): its
    /// variant's, exactly.
    pub user_name: Option<Ident>,
    /// The names in the user's scope where it stands: which binding the
    /// verbatim fast path (see `emit::verbatim`) reads by each name there.
    pub scope: Vec<(String, BindId)>,
    /// The macro call's tokens without whitespace: how the verbatim fast
    /// path checks that it meets the suspension points in this order.
    pub key: String,
}

/// A `for` loop taken apart, in source order: what the verbatim fast path
/// needs to run it as a Rust loop that keeps the same bindings the states
/// store (see `emit::verbatim`).
pub enum ForLowered {
    /// `let mut it = IntoIterator::into_iter(expr);`, `it` stored; `pat`
    /// the bindings of the loop's pattern.
    Iter { it: Ident, pat: Vec<BindId> },
    /// A typed range: the cursor `i` and the bound `end` stored, the start
    /// evaluated first into `start` when it may have side effects.
    Range {
        i: Ident,
        /// The cursor's binding.
        cursor: BindId,
        elem: Box<Type>,
        start: Option<Ident>,
        end: Ident,
    },
}

pub struct Graph {
    /// The macro paths of the suspension points as the user spelled them.
    pub macro_paths: Vec<syn::Path>,
    /// Items declared among the statements taken apart (`fn`, `const`,
    /// `struct`, `use`, `macro_rules!`, ..): visible in the whole block in
    /// Rust, so emitted once at the top of the function, where every state's
    /// code sees them.
    pub items: Vec<TokenStream>,
    /// The types among them (`struct P`, `enum E`, `type T`, `trait Tr`),
    /// and the `const`s (an array length, `[u8; N]`), which the state enum
    /// outside the function cannot name.
    pub body_types: Vec<(String, Span)>,
    /// What each name a `use` of the body brings in stands for
    /// (`use std::collections::BTreeMap as Map;` -> `Map`,
    /// `std::collections::BTreeMap`): a stored type is spelled out with it,
    /// since the state enum outside the function does not see the `use`.
    pub body_uses: Vec<(String, syn::Path)>,
    pub blocks: Vec<BasicBlock>,
    pub bindings: Vec<Binding>,
    pub jumps: Vec<Jump>,
    pub susps: Vec<Suspension>,
    /// The loops' heads as written (`while i < n`, `'scan: loop`, `for x in
    /// xs`), by the blocks a `continue` enters (true) or a `break` leaves to
    /// (false), and whether that block branches on the loop's condition (a
    /// `while`'s or `for`'s head): what the state diagram labels edges with.
    pub loop_heads: std::collections::BTreeMap<BlockId, (String, bool, bool)>,
    /// The `for` loops taken apart, in source order.
    pub fors: Vec<ForLowered>,
}

impl Graph {
    /// Whether one block's own code (pieces, terminator, suspension
    /// arguments) invokes a macro that may expand to an item, such as a
    /// per-call-site `static`, or declares an item that must exist once
    /// (see [`scan::declares_unique_item`]): code that must not exist twice.
    pub fn block_has_item_macro(&self, b: BlockId) -> bool {
        self.block_has_item_macro_except(b, &[])
    }

    /// [`Self::block_has_item_macro`], counting the macros named in `known`
    /// as item-free (see [`scan::invokes_item_macro_except`]).
    pub fn block_has_item_macro_except(&self, b: BlockId, known: &[String]) -> bool {
        self.block_code(b)
            .into_iter()
            .any(|c| scan::invokes_item_macro_except(c, known) || scan::declares_unique_item(c))
    }

    /// One block's own code: its pieces, its terminator's expressions and
    /// patterns, and the arguments of its suspension points.
    pub fn block_code(&self, b: BlockId) -> Vec<&TokenStream> {
        let block = &self.blocks[b];
        let mut code: Vec<&TokenStream> = block.pieces.iter().map(|p| &p.tokens).collect();
        match &block.term {
            Term::If { cond, .. } => code.push(cond),
            Term::Match { scrut, arms } => {
                code.push(scrut);
                code.extend(arms.iter().map(|(p, _)| p));
            }
            _ => {}
        }
        code.extend(self.susps.iter().filter(|s| s.block == b).map(|s| &s.arg));
        code
    }

    /// The identifiers of one block's own code (pieces, terminator, the
    /// arguments of its suspension points), format-string captures
    /// included: what that code could mean by a name.
    pub fn block_idents(&self, b: BlockId, out: &mut std::collections::BTreeSet<String>) {
        for c in self.block_code(b) {
            crate::tokens::collect_idents(c, out);
        }
    }
}
