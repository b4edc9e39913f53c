//! The generator of random machine bodies.
//!
//! A program is a few functions (a top one, up to two helper machines it may
//! call, and the fixed helpers `lt`/`nx` when used), each a tree of [`Node`]s.
//! A node carries its text twice: as written in the `#[io_state_machine]`
//! function and as written in the direct twin, where `yield_io!(c)` is
//! `io.wait_direct(c)` and `call_io!(f(&mut s, ..))` is `f_direct(..)`. The
//! reducer edits the tree (remove a node, replace a compound by one of its
//! blocks) without knowing what the text means; the compiler tells it which
//! edits are still valid programs.
//!
//! Everything generated stays inside the contract of DESIGN.md: suspensions
//! only in the positions of rule 6, every local with a type readable from the
//! syntax (rule 8), no stored borrows, bounded loops.

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// splitmix64: small, seedable, good enough to pick shapes.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

/// The seed of program `index` of a run seeded with `seed`.
pub fn program_seed(seed: u64, index: u64) -> u64 {
    Rng::new(seed ^ Rng::new(index.wrapping_add(0x0123_4567)).next()).next()
}

/// The generator's switches, one per language feature it can put in a body.
pub const FEATURES: &[(&str, &str)] = &[
    ("yield", "`yield_io!(c)?;` on single completions"),
    ("group", "`yield_io!` on a group built by the scheduler"),
    (
        "group_local",
        "a `CompletionGroup` built in the body, not live across its own suspension",
    ),
    ("yield_now", "`yield_io!(Completion::yield_now())`"),
    (
        "call",
        "`call_io!` into generated helper machines with a caller-owned sub-state",
    ),
    (
        "sub_place",
        "sub-states kept in a `Box`, an array or a tuple, called through `&mut *b`, `&mut a[i]`, `&mut t.0`",
    ),
    ("let_susp", "suspension as a `let` initializer"),
    ("assign_susp", "suspension as the right side of an assignment"),
    ("let_else", "`let-else` with a suspension in the initializer"),
    ("if_susp", "`if call_io!(..)? {` conditions"),
    ("if_let_susp", "`if let` with a suspension as scrutinee"),
    ("match_susp", "`match` with a suspension as scrutinee"),
    ("while_susp", "`while call_io!(..)? {` conditions"),
    ("while_let_susp", "`while let Some(v) = call_io!(..)? {`"),
    ("return_susp", "`return call_io!(..);`"),
    ("tail_susp", "`call_io!(..)` as the tail expression"),
    (
        "loop_value",
        "`let x: i64 = 'l: loop { .. break 'l v; };` with suspensions inside",
    ),
    ("labeled", "labeled `break`/`continue` to outer loops"),
    (
        "early_exit",
        "early `return`, `break`, `continue` under conditions",
    ),
    (
        "user_err",
        "`?` on a non-suspending fallible call, and `return Err(..)`",
    ),
    (
        "shadow",
        "shadowing a local of the same scope (also with another type)",
    ),
    (
        "shadow_nested",
        "shadowing, in a nested block, a local of an outer scope that is used later",
    ),
    (
        "let_else_susp",
        "suspensions (`yield_io!(..)?;`, `return call_io!(..)`) inside the `else` block of a `let-else`",
    ),
    ("string", "`String` locals"),
    ("vec", "`Vec<i64>` locals and `while let Some(x) = v.pop()`"),
    ("for_loop", "`for i in 0i64..n` loops"),
    ("while_loop", "counted `while` loops"),
    ("loop", "`loop` with a counter"),
    ("block", "nested blocks (scopes for shadowing)"),
    ("match", "`match` on integers"),
    (
        "mut_param",
        "`mut a: i64` parameters that the body assigns (a local from the first call's argument)",
    ),
    (
        "drops",
        "values with `Drop` whose drops are traced: held for their `Drop` (`let _gN: Dg`, `let _ = ..`, exact) and read (dropped no later than in Rust, after their last read)",
    ),
    (
        "drop_reads",
        "traced `Dg` values read through a method (`d.touch()`) or a field (`d.0`), moved into a function (`eat(t, s, d)`) on one path or on all, a guard initialized late (`let _g: Dg; .. _g = dgx(..);`) and one reassigned in a loop that suspends, each followed by a suspension point (exact drops when nothing suspends)",
    ),
    (
        "cfg_attr",
        "`#[cfg(..)]` on statements (also ones that suspend), on `let`s and `match` arms; `#[allow(..)]` on blocks that suspend",
    ),
    (
        "compound_assign",
        "compound assignment with a suspending right side to a plain place (a non-primitive `Acc`, a field), and through a place with side effects",
    ),
    (
        "range_bounds",
        "`for` over a range whose bounds have side effects",
    ),
    (
        "macro_jumps",
        "`break`, `continue` and `return Err(..)` written by another macro",
    ),
    (
        "items",
        "items declared in the body (`const`, `fn`, `struct`, `use`, `macro_rules!`) used after suspensions; per-call-site `static`s in a block, a nested `fn` and a format argument (one static per site on every path; in the functions `macro_jumps` picks, which start with the dispatch)",
    ),
    (
        "generic_helper",
        "`call_io!` into a generic helper machine `<S: Src>` that stores an `S::Item`",
    ),
    (
        "raw_ident",
        "raw identifiers (`r#x12`) as local names; a read spells a local raw or plain either way",
    ),
    (
        "upper_ident",
        "capitalised local names (`X12`), which an irrefutable pattern makes bindings, not constants; with `items`, a glob `use` and a nested `fn` with a `const` of such a name beside them",
    ),
    (
        "struct_lit",
        "struct, generic struct and enum-variant literals (annotated where stored)",
    ),
    ("let_uninit", "`let x;` and `let x: T;` assigned later"),
    (
        "recreated_borrow",
        "locals borrowing the `xs` parameter (`let r = xs;`, `let r: &[i64] = xs;`, `let r = &xs;`), re-created after a suspension (rule 9)",
    ),
    (
        "mut_vec_param",
        "a `mut pv: Vec<i64>` parameter of the top function, mutated around suspensions (a local from the first call's argument)",
    ),
    (
        "moved_param",
        "a by-value `mv: Vec<i64>` parameter of the top function, read, then moved once outside loops (`let v = mv;`, `mv.into_iter()`, `for x in mv`, `drop(mv)`)",
    ),
];

/// Which features are on.
#[derive(Clone, Debug)]
pub struct Features(pub BTreeSet<String>);

impl Features {
    pub fn all() -> Self {
        Features(FEATURES.iter().map(|(n, _)| (*n).to_string()).collect())
    }

    /// All features, minus those named with a leading `-` in `spec`, plus
    /// those named with `+` (comma separated; `none` starts from nothing).
    pub fn parse(spec: &str, defaults: &Features) -> Result<Self, String> {
        let mut set = defaults.0.clone();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item == "none" {
                set.clear();
                continue;
            }
            if item == "all" {
                set = Features::all().0;
                continue;
            }
            let (on, name) = match item.strip_prefix('-') {
                Some(n) => (false, n),
                None => (true, item.strip_prefix('+').unwrap_or(item)),
            };
            if !FEATURES.iter().any(|(n, _)| *n == name) {
                let known: Vec<&str> = FEATURES.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "unknown difftest feature `{name}`; known: {}",
                    known.join(", ")
                ));
            }
            if on {
                set.insert(name.to_string());
            } else {
                set.remove(name);
            }
        }
        Ok(Features(set))
    }

    pub fn on(&self, name: &str) -> bool {
        debug_assert!(FEATURES.iter().any(|(n, _)| *n == name), "{name}");
        self.0.contains(name)
    }

    pub fn list(&self) -> String {
        self.0.iter().cloned().collect::<Vec<_>>().join(",")
    }
}

/// One statement (or a group of lines that only make sense together).
#[derive(Clone, Debug)]
pub enum Node {
    /// Text in the machine and in the direct twin; `removable` is false for
    /// lines a block cannot lose (the exit of a `let-else` block, a tail).
    Line { m: String, d: String, removable: bool },
    /// Header/footer lines around nested blocks.
    Compound(Vec<Part>),
}

#[derive(Clone, Debug)]
pub enum Part {
    Text { m: String, d: String },
    Block(Vec<Node>),
}

impl Node {
    fn same(s: String) -> Node {
        Node::Line {
            d: s.clone(),
            m: s,
            removable: true,
        }
    }

    fn line(m: String, d: String) -> Node {
        Node::Line {
            m,
            d,
            removable: true,
        }
    }

    fn fixed(m: String, d: String) -> Node {
        Node::Line {
            m,
            d,
            removable: false,
        }
    }

    /// Number of nodes in this subtree.
    pub fn size(&self) -> usize {
        match self {
            Node::Line { .. } => 1,
            Node::Compound(parts) => {
                1 + parts
                    .iter()
                    .map(|p| match p {
                        Part::Text { .. } => 0,
                        Part::Block(b) => b.iter().map(Node::size).sum(),
                    })
                    .sum::<usize>()
            }
        }
    }
}

fn text(m: impl Into<String>, d: impl Into<String>) -> Part {
    Part::Text {
        m: m.into(),
        d: d.into(),
    }
}

fn same_text(s: impl Into<String>) -> Part {
    let s = s.into();
    Part::Text { m: s.clone(), d: s }
}

/// One generated function, emitted as a machine and as its direct twin.
#[derive(Clone, Debug)]
pub struct Func {
    /// `p12`, `p12a`, `p12lt`: its state type is `P12State`, `P12aState`...
    pub name: String,
    /// Parameters after `(st, io, t,`.
    pub params: String,
    /// The value type `T` of `Result<IOResult<T>, E>`.
    pub ret: String,
    pub body: Vec<Node>,
    /// Generic parameters with bounds (`<S: Src>`), or empty.
    pub generics: String,
    /// The arguments of its state type (`<S>`), or empty.
    pub state_args: String,
}

impl Func {
    pub fn state(&self) -> String {
        state_name(&self.name)
    }
}

/// The state type the contract names after function `name` (rule 10).
pub fn state_name(name: &str) -> String {
    let mut out = String::new();
    for word in name.split('_').filter(|w| !w.is_empty()) {
        let mut cs = word.chars();
        if let Some(c) = cs.next() {
            out.extend(c.to_uppercase());
            out.push_str(cs.as_str());
        }
    }
    out.push_str("State");
    out
}

/// A generated program: helpers first, the top function last.
#[derive(Clone, Debug)]
pub struct Program {
    pub index: u64,
    pub seed: u64,
    pub funcs: Vec<Func>,
    /// The arguments the top function is run with, after `(st, io, t,`.
    pub args: String,
}

impl Program {
    pub fn top(&self) -> &Func {
        self.funcs.last().expect("a program has a top function")
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    I64,
    U32,
    Bool,
    Str,
    VecI,
    /// `Result<i32, CompletionError>`, the value of `yield_io!`.
    Res,
    /// The state of function `funcs[i]` (a caller-owned sub-state).
    Sub(usize),
    /// A sub-state of `funcs[i]` kept inside another stored value (feature
    /// `sub_place`): `*v` of a `Box` (0), `v[0]`/`v[1]` of an array (1, 2),
    /// `v.0` of a tuple (3), reached by a place expression under `&mut`.
    SubIn(usize, u8),
    /// A value whose drop is traced (`dg(id)`), only read.
    Dg,
    /// A non-primitive accumulator (`Acc`).
    Acc,
    /// A struct (`Pt`).
    Pt,
    /// An enum (`Msg`), built from variant literals.
    Msg,
    /// A generic struct (`Wr<i64>`).
    Wr,
    /// An item declared in the body: a `const` of type `i64`.
    ItemConst,
    /// An item: `fn name(x: i64) -> i64`.
    ItemFn,
    /// An item: `macro_rules! name` taking an `i64` expression.
    ItemMacro,
    /// An item: `struct Name { v: i64 }`.
    ItemStruct,
    /// An item: `use std::fmt::Write as _;` (its pseudo-local is `Write`).
    ItemUse,
    /// A borrow of the `xs` parameter (`&[i64]` or `&&[i64]`), which the
    /// machine re-creates after a suspension instead of storing: only read.
    XsRef,
}

impl Ty {
    /// Declared items, not locals: never traced, assigned or shadowed.
    fn is_item(self) -> bool {
        matches!(
            self,
            Ty::ItemConst | Ty::ItemFn | Ty::ItemMacro | Ty::ItemStruct | Ty::ItemUse
        )
    }

    /// Printed with `{:?}` in a format string.
    fn debug_only(self) -> bool {
        matches!(
            self,
            Ty::VecI | Ty::Res | Ty::Dg | Ty::Acc | Ty::Pt | Ty::Msg | Ty::Wr | Ty::XsRef
        )
    }
}

#[derive(Clone, Debug)]
struct Var {
    name: String,
    ty: Ty,
    mutable: bool,
    /// Loop counters and the vector a `while let` pops: the body must not
    /// assign them, so every loop stays bounded.
    frozen: bool,
}

#[derive(Clone, Debug)]
struct LoopCtx {
    label: String,
    /// A `loop` used as a value: every `break` to it carries an `i64`.
    value: bool,
}

/// What the top function and helpers can call.
#[derive(Clone, Debug)]
struct Callee {
    func: usize,
    name: String,
    ops: u32,
}

struct FnGen<'a> {
    rng: &'a mut Rng,
    f: &'a Features,
    scopes: Vec<Vec<Var>>,
    loops: Vec<LoopCtx>,
    /// Unique numbers for trace sites, names and labels within a program.
    counter: &'a mut u32,
    callees: Vec<Callee>,
    lt: usize,
    nx: usize,
    used_lt: bool,
    used_nx: bool,
    top: bool,
    depth: u32,
    /// `p<index>`: the prefix of every function of this program.
    base: String,
    /// Slot of the generic helper `p<i>gk`, and whether it is called.
    gk: usize,
    used_gk: bool,
    /// The length of the `mv` parameter while it is not moved yet.
    mv: Option<u32>,
    /// This function writes jumps by macro (`macro_jumps`) and per-site
    /// statics (`items`) instead of the reads of `drop_reads`: a machine
    /// whose resumed code invokes a macro it cannot see, or declares a
    /// `static`, starts with the dispatch instead of running the body
    /// verbatim (a per-call-site `static` must not exist twice), and then
    /// drops such values as the resumed code does, also with every
    /// completion ready (the crate docs list the exceptions).
    jump_macros: bool,
}

const LT_OPS: u32 = 1;
const NX_OPS: u32 = 1;
const GK_OPS: u32 = 1;

/// The parameter `a` of a generated function: `mut a` (a local the body may
/// assign, rule 8) when `mut_param` picks it.
fn param_a(rng: &mut Rng, f: &Features) -> (String, Var) {
    let mutable = f.on("mut_param") && rng.chance(40);
    let var = Var {
        name: "a".into(),
        ty: Ty::I64,
        mutable,
        frozen: !mutable,
    };
    let text = if mutable { "mut a: i64" } else { "a: i64" };
    (text.to_string(), var)
}

/// Generates program `index` of a run seeded with `seed`.
pub fn generate(seed: u64, index: u64, f: &Features) -> Program {
    let pseed = program_seed(seed, index);
    let mut rng = Rng::new(pseed);
    let mut counter = 0u32;
    let base = format!("p{index}");
    let n_helpers = if f.on("call") { rng.below(3) as usize } else { 0 };
    // Function slots: helpers 0..n, then lt, nx, gk, then top.
    let lt = n_helpers;
    let nx = n_helpers + 1;
    let gk = n_helpers + 2;
    let mut funcs: Vec<Option<Func>> = vec![None; n_helpers + 4];
    let mut callees: Vec<Callee> = Vec::new();
    let mut used_lt = false;
    let mut used_nx = false;
    let mut used_gk = false;
    for (h, slot) in funcs.iter_mut().enumerate().take(n_helpers) {
        let name = format!("{base}{}", (b'a' + h as u8) as char);
        let (param, a) = param_a(&mut rng, f);
        let jump_macros = f.on("macro_jumps") && (!f.on("drop_reads") || rng.chance(50));
        let mut g = FnGen {
            rng: &mut rng,
            f,
            scopes: vec![vec![a]],
            loops: Vec::new(),
            counter: &mut counter,
            callees: callees.clone(),
            lt,
            nx,
            used_lt: false,
            used_nx: false,
            top: false,
            depth: 0,
            base: base.clone(),
            gk,
            used_gk: false,
            mv: None,
            jump_macros,
        };
        let (body, ops) = g.body(6, 5);
        used_lt |= g.used_lt;
        used_nx |= g.used_nx;
        used_gk |= g.used_gk;
        *slot = Some(Func {
            name: name.clone(),
            params: param,
            ret: "i64".into(),
            body,
            generics: String::new(),
            state_args: String::new(),
        });
        callees.push(Callee { func: h, name, ops });
    }
    let (param, a) = param_a(&mut rng, f);
    // A `mut` parameter that is not `Copy`: moved into the machine once, a
    // local from the first call's argument.
    let pv = f.on("mut_vec_param") && rng.chance(30);
    let mut top_vars = vec![a];
    if pv {
        top_vars.push(Var {
            name: "pv".into(),
            ty: Ty::VecI,
            mutable: true,
            frozen: false,
        });
    }
    // A by-value parameter that is not `Copy`, moved once where the
    // dispatch loop may come back: consumed by the call that runs the move.
    let mv: Option<Vec<i64>> = (f.on("moved_param") && rng.chance(30))
        .then(|| (0..rng.below(3)).map(|_| rng.range(-2, 9)).collect());
    if mv.is_some() {
        top_vars.push(Var {
            name: "mv".into(),
            ty: Ty::VecI,
            mutable: false,
            frozen: true,
        });
    }
    let jump_macros = f.on("macro_jumps") && (!f.on("drop_reads") || rng.chance(50));
    let mut g = FnGen {
        rng: &mut rng,
        f,
        scopes: vec![top_vars],
        loops: Vec::new(),
        counter: &mut counter,
        callees,
        lt,
        nx,
        used_lt: false,
        used_nx: false,
        top: true,
        depth: 0,
        base: base.clone(),
        gk,
        used_gk: false,
        mv: mv.as_ref().map(|v| v.len() as u32),
        jump_macros,
    };
    let (body, _) = g.body(16, 8);
    used_lt |= g.used_lt;
    used_nx |= g.used_nx;
    used_gk |= g.used_gk;
    let mut args = format!(
        "{}, \"{}\", &[{}]",
        rng.range(-3, 12),
        ["", "k", "tag"][rng.below(3) as usize],
        (0..rng.below(4))
            .map(|i| (i as i64 * 3 - 2).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if pv {
        args.push_str(&format!(", vec![{}]", rng.range(-2, 9)));
    }
    if let Some(items) = &mv {
        let items: Vec<String> = items.iter().map(ToString::to_string).collect();
        args.push_str(&format!(", vec![{}]", items.join(", ")));
    }
    funcs[n_helpers + 3] = Some(Func {
        name: base.clone(),
        params: format!(
            "{param}, tag: &str, xs: &[i64]{}{}",
            if pv { ", mut pv: Vec<i64>" } else { "" },
            if mv.is_some() { ", mv: Vec<i64>" } else { "" }
        ),
        ret: "i64".into(),
        body,
        generics: String::new(),
        state_args: String::new(),
    });
    if used_lt {
        funcs[lt] = Some(lt_func(&base));
    }
    if used_nx {
        funcs[nx] = Some(nx_func(&base));
    }
    if used_gk {
        funcs[gk] = Some(gk_func(&base));
    }
    Program {
        index,
        seed,
        funcs: funcs.into_iter().flatten().collect(),
        args,
    }
}

/// The generic helper: its stored local's type is an associated type of a
/// bounded parameter, so its state is `P<i>gkState<S>` with `S: Src`.
fn gk_func(base: &str) -> Func {
    Func {
        name: format!("{base}gk"),
        params: "i: i64, s: &S".into(),
        ret: "i64".into(),
        body: vec![
            Node::same("let k: S::Item = s.get(i);".into()),
            Node::line("yield_io!(io.op())?;".into(), "io.wait_direct(io.op())?;".into()),
            Node::same("tp(t, format!(\"gk{i}:{k:?}\"));".into()),
            Node::fixed("Ok(k.into())".into(), "Ok(k.into())".into()),
        ],
        generics: "<S: Src>".into(),
        state_args: "<S>".into(),
    }
}

fn lt_func(base: &str) -> Func {
    Func {
        name: format!("{base}lt"),
        params: "i: i64, n: i64".into(),
        ret: "bool".into(),
        body: vec![
            Node::same("tp(t, format!(\"lt{i}<{n}\"));".into()),
            Node::line("yield_io!(io.op())?;".into(), "io.wait_direct(io.op())?;".into()),
            Node::fixed("Ok(i < n)".into(), "Ok(i < n)".into()),
        ],
        generics: String::new(),
        state_args: String::new(),
    }
}

fn nx_func(base: &str) -> Func {
    Func {
        name: format!("{base}nx"),
        params: "i: i64, n: i64".into(),
        ret: "Option<i64>".into(),
        body: vec![
            Node::same("if i >= n { return Ok(None); }".into()),
            Node::line("yield_io!(io.op())?;".into(), "io.wait_direct(io.op())?;".into()),
            Node::same("tp(t, format!(\"nx{i}\"));".into()),
            Node::fixed(
                "Ok(Some(i.wrapping_mul(3)))".into(),
                "Ok(Some(i.wrapping_mul(3)))".into(),
            ),
        ],
        generics: String::new(),
        state_args: String::new(),
    }
}

impl FnGen<'_> {
    fn fresh(&mut self, prefix: &str) -> String {
        *self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    fn site(&mut self) -> u32 {
        *self.counter += 1;
        *self.counter
    }

    fn vars(&self) -> Vec<&Var> {
        // Innermost binding of each name wins (shadowing).
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for scope in self.scopes.iter().rev() {
            for v in scope.iter().rev() {
                if seen.insert(v.name.clone()) {
                    out.push(v);
                }
            }
        }
        out
    }

    fn vars_of(&self, ty: Ty) -> Vec<String> {
        self.vars()
            .into_iter()
            .filter(|v| v.ty == ty)
            .map(|v| v.name.clone())
            .collect()
    }

    fn pick_var(&mut self, ty: Ty) -> Option<String> {
        let vs = self.vars_of(ty);
        if vs.is_empty() {
            None
        } else {
            let i = self.rng.below(vs.len() as u64) as usize;
            let name = vs[i].clone();
            // `r#x` and `x` are one name (attack round 14, F4): a read may
            // spell a local either way, whichever way it was declared.
            if self.f.on("raw_ident") && self.rng.chance(10) {
                return Some(match name.strip_prefix("r#") {
                    Some(plain) => plain.to_owned(),
                    None => format!("r#{name}"),
                });
            }
            Some(name)
        }
    }

    fn assignable(&self, ty: Ty) -> Vec<String> {
        self.vars()
            .into_iter()
            .filter(|v| v.ty == ty && v.mutable && !v.frozen)
            .map(|v| v.name.clone())
            .collect()
    }

    fn declare(&mut self, name: &str, ty: Ty, mutable: bool, frozen: bool) {
        self.scopes.last_mut().expect("a scope").push(Var {
            name: name.to_string(),
            ty,
            mutable,
            frozen,
        });
    }

    // ----- expressions -----

    fn lit(&mut self, suffix: bool) -> String {
        let v = self.rng.range(-4, 20);
        match (suffix, v < 0) {
            (true, true) => format!("({v}i64)"),
            (true, false) => format!("{v}i64"),
            (false, _) => v.to_string(),
        }
    }

    /// An `i64` expression; `recv` when it stands as a method receiver (then
    /// literals need a suffix and compound forms parentheses).
    fn int(&mut self, depth: u32, recv: bool) -> String {
        let deep = depth >= 2;
        let e = match self.rng.below(if deep { 4 } else { 15 }) {
            0 | 1 => self.lit(recv),
            2 | 3 => self.pick_var(Ty::I64).unwrap_or_else(|| "a".into()),
            4 => {
                let r = self.int(depth + 1, true);
                let x = self.int(depth + 1, false);
                format!("{r}.wrapping_add({x})")
            }
            5 => {
                let r = self.int(depth + 1, true);
                format!("{r}.wrapping_mul({})", self.rng.range(2, 5))
            }
            6 => {
                let r = self.int(depth + 1, true);
                format!("{r}.rem_euclid({})", self.rng.range(2, 9))
            }
            7 => match self.pick_var(Ty::U32) {
                Some(u) => format!("i64::from({u})"),
                None => self.lit(recv),
            },
            8 if self.f.on("string") => match self.pick_var(Ty::Str) {
                Some(s) => format!("({s}.len() as i64)"),
                None => "a".into(),
            },
            9 if self.f.on("vec") => match self.pick_var(Ty::VecI) {
                Some(v) if self.rng.chance(50) => format!("({v}.len() as i64)"),
                Some(v) => format!("{v}.last().copied().unwrap_or(-1)"),
                None => "a".into(),
            },
            10 if self.top => {
                let xr = if self.f.on("recreated_borrow") {
                    self.pick_var(Ty::XsRef)
                } else {
                    None
                };
                if let Some(r) = xr {
                    match self.rng.below(3) {
                        0 => format!("({r}.len() as i64)"),
                        1 => format!("{r}.iter().fold(0i64, |s, x| s.wrapping_add(*x))"),
                        _ => format!("{r}.last().copied().unwrap_or(5)"),
                    }
                } else if self.rng.chance(50) {
                    "(tag.len() as i64)".into()
                } else {
                    "xs.first().copied().unwrap_or(7)".into()
                }
            }
            11 => match self.pick_var(Ty::Bool) {
                Some(b) => {
                    let x = self.lit(true);
                    let y = self.int(depth + 1, true);
                    format!("(if {b} {{ {x} }} else {{ {y} }})")
                }
                None => self.lit(recv),
            },
            13 if self.f.on("items") => self.item_expr(depth),
            14 if self.f.on("compound_assign") || self.f.on("struct_lit") => match self.rng.below(4) {
                0 => self.pick_var(Ty::Acc).map(|v| format!("{v}.0")),
                1 => self.pick_var(Ty::Pt).map(|v| format!("{v}.x")),
                2 => self.pick_var(Ty::Wr).map(|v| format!("{v}.v")),
                _ => self.pick_var(Ty::Msg).map(|v| {
                    format!(
                        "(match &{v} {{ Msg::A {{ v }} => *v, Msg::B(v) => v.wrapping_add(1), Msg::C => 2 }})"
                    )
                }),
            }
            .unwrap_or_else(|| "a".into()),
            _ => self.pick_var(Ty::I64).unwrap_or_else(|| "a".into()),
        };
        if recv && e.starts_with('-') {
            format!("({e})")
        } else {
            e
        }
    }

    /// An `i64` expression using an item declared in the body.
    fn item_expr(&mut self, depth: u32) -> String {
        let items: Vec<(String, Ty)> = self
            .vars()
            .into_iter()
            .filter(|v| v.ty.is_item() && v.ty != Ty::ItemUse)
            .map(|v| (v.name.clone(), v.ty))
            .collect();
        if items.is_empty() {
            return self.pick_var(Ty::I64).unwrap_or_else(|| "a".into());
        }
        let (name, ty) = items[self.rng.below(items.len() as u64) as usize].clone();
        let x = self.int(depth + 1, false);
        match ty {
            Ty::ItemConst => name,
            Ty::ItemFn => format!("{name}({x})"),
            Ty::ItemMacro => format!("{name}!({x})"),
            _ => format!("({name} {{ v: {x} }}.v)"),
        }
    }

    fn u32e(&mut self) -> String {
        match self.rng.below(4) {
            0 => format!("{}u32", self.rng.range(0, 9)),
            1 => match self.pick_var(Ty::U32) {
                Some(u) => format!("{u}.wrapping_add({})", self.rng.range(1, 4)),
                None => "3u32".into(),
            },
            2 => self.pick_var(Ty::U32).unwrap_or_else(|| "1u32".into()),
            _ => {
                // A receiver-style expression: literals carry `i64`, so the
                // cast does not make them `u32` literals.
                let x = self.int(1, true);
                format!("({x}) as u32")
            }
        }
    }

    fn boole(&mut self) -> String {
        match self.rng.below(6) {
            0 => self.pick_var(Ty::Bool).unwrap_or_else(|| "true".into()),
            1 => match self.pick_var(Ty::Bool) {
                Some(b) => format!("!{b}"),
                None => "false".into(),
            },
            2 if self.f.on("string") => match self.pick_var(Ty::Str) {
                Some(s) => format!("{s}.is_empty()"),
                None => "a > 2".into(),
            },
            3 => {
                let x = self.int(1, true);
                format!("{x}.rem_euclid(2) == 0")
            }
            _ => {
                let x = self.int(1, false);
                let y = self.lit(false);
                let op = ["<", ">", "<=", ">=", "==", "!="][self.rng.below(6) as usize];
                format!("({x}) {op} {y}")
            }
        }
    }

    fn stre(&mut self) -> String {
        match self.rng.below(4) {
            0 => format!(
                "String::from(\"{}\")",
                ["", "x", "ab"][self.rng.below(3) as usize]
            ),
            1 => match self.pick_var(Ty::Str) {
                Some(s) => format!("{s}.clone()"),
                None => "String::new()".into(),
            },
            2 => {
                let x = self.int(1, false);
                format!("format!(\"<{{}}>\", {x})")
            }
            _ => match self.pick_var(Ty::I64) {
                // A format string cannot capture a raw identifier.
                Some(v) if v.starts_with("r#") => format!("format!(\"{{}}.\", {v})"),
                Some(v) => format!("format!(\"{{{v}}}.\")"),
                None => "format!(\"{a}\")".into(),
            },
        }
    }

    fn vece(&mut self) -> String {
        match self.rng.below(3) {
            0 => "Vec::new()".into(),
            1 => match self.pick_var(Ty::VecI) {
                Some(v) => format!("{v}.clone()"),
                None => "vec![1]".into(),
            },
            _ => {
                let n = self.rng.below(3);
                let items: Vec<String> = (0..n).map(|_| self.int(1, false)).collect();
                format!("vec![{}]", items.join(", "))
            }
        }
    }

    fn expr(&mut self, ty: Ty) -> String {
        match ty {
            Ty::I64 => self.int(0, false),
            Ty::U32 => self.u32e(),
            Ty::Bool => self.boole(),
            Ty::Str => self.stre(),
            Ty::VecI => self.vece(),
            Ty::Dg => {
                let id = self.site();
                format!("dg({id})")
            }
            Ty::Acc => {
                let x = self.int(1, false);
                format!("Acc({x})")
            }
            Ty::Pt => {
                let x = self.int(1, false);
                let y = self.int(1, false);
                format!("Pt {{ x: {x}, y: {y} }}")
            }
            Ty::Msg => match self.rng.below(3) {
                0 => {
                    let x = self.int(1, false);
                    format!("Msg::A {{ v: {x} }}")
                }
                1 => {
                    let x = self.int(1, false);
                    format!("Msg::B({x})")
                }
                _ => "Msg::C".into(),
            },
            Ty::Wr => {
                let x = self.int(1, false);
                format!("Wr {{ v: {x} }}")
            }
            _ => unreachable!("no expressions of {ty:?}"),
        }
    }

    fn ty_name(&self, ty: Ty) -> String {
        match ty {
            Ty::I64 => "i64".into(),
            Ty::U32 => "u32".into(),
            Ty::Bool => "bool".into(),
            Ty::Str => "String".into(),
            Ty::VecI => "Vec<i64>".into(),
            Ty::Res => "Result<i32, CompletionError>".into(),
            Ty::Dg => "Dg".into(),
            Ty::Acc => "Acc".into(),
            Ty::Pt => "Pt".into(),
            Ty::Msg => "Msg".into(),
            Ty::Wr => "Wr<i64>".into(),
            _ => unreachable!("no type name for {ty:?}"),
        }
    }

    fn random_ty(&mut self) -> Ty {
        loop {
            let t = [
                Ty::I64,
                Ty::I64,
                Ty::I64,
                Ty::U32,
                Ty::Bool,
                Ty::Str,
                Ty::VecI,
                Ty::Dg,
                Ty::Acc,
                Ty::Pt,
                Ty::Msg,
                Ty::Wr,
            ][self.rng.below(12) as usize];
            match t {
                Ty::Str if !self.f.on("string") => continue,
                Ty::VecI if !self.f.on("vec") => continue,
                Ty::Dg if !self.f.on("drops") => continue,
                Ty::Acc if !self.f.on("compound_assign") => continue,
                Ty::Pt | Ty::Msg | Ty::Wr if !self.f.on("struct_lit") => continue,
                _ => return t,
            }
        }
    }

    // ----- suspensions -----

    /// A completion source for `yield_io!` and its op count.
    fn source(&mut self, budget: u32) -> Option<(String, u32)> {
        let mut choices: Vec<u32> = Vec::new();
        if self.f.on("yield") && budget >= 1 {
            choices.extend([0, 0, 0]);
        }
        if self.f.on("group") && budget >= 2 {
            choices.push(1);
        }
        if self.f.on("yield_now") {
            choices.push(2);
        }
        if choices.is_empty() {
            return None;
        }
        Some(match choices[self.rng.below(choices.len() as u64) as usize] {
            0 => ("io.op()".into(), 1),
            1 => {
                let n = self.rng.range(0, i64::from(budget.min(3))) as u32;
                (format!("io.group({n})"), n)
            }
            _ => ("Completion::yield_now()".into(), 0),
        })
    }

    /// A sub-state for `func`: the place of an existing one, or of a new one
    /// declared by the returned node.
    fn sub_state(&mut self, func: usize, name: &str) -> (String, Option<Node>) {
        let place = |v: &str, k: u8| match k {
            0 => format!("*{v}"),
            1 => format!("{v}[0]"),
            2 => format!("{v}[1]"),
            _ => format!("{v}.0"),
        };
        let mut existing: Vec<String> = self.vars_of(Ty::Sub(func));
        for k in 0..4 {
            existing.extend(self.vars_of(Ty::SubIn(func, k)).iter().map(|v| place(v, k)));
        }
        if let Some(v) = existing.first()
            && self.rng.chance(60)
        {
            return (v.clone(), None);
        }
        let v = self.fresh("ss");
        let st = state_name(name);
        let args = if func == self.gk { "<SrcI>" } else { "" };
        if self.f.on("sub_place") && self.rng.chance(40) {
            let k = self.rng.below(4) as u8;
            self.declare(&v, Ty::SubIn(func, k), true, true);
            let decl = match k {
                0 => format!("let mut {v}: Box<{st}{args}> = Box::default();"),
                1 | 2 => format!("let mut {v}: [{st}{args}; 2] = Default::default();"),
                _ => format!("let mut {v}: ({st}{args}, u8) = ({st}::default(), 0);"),
            };
            return (place(&v, k), Some(Node::line(decl, String::new())));
        }
        self.declare(&v, Ty::Sub(func), true, true);
        (
            v.clone(),
            Some(Node::line(
                format!("let mut {v}: {st}{args} = {st}::default();"),
                String::new(),
            )),
        )
    }

    /// `call_io!(h(&mut s, io, t, arg))` into a generated helper: (machine
    /// text, direct text, ops, declaration of a new sub-state).
    fn call(&mut self, budget: u32) -> Option<(String, String, u32, Option<Node>)> {
        if self.f.on("generic_helper") && budget >= GK_OPS && self.rng.chance(20) {
            self.used_gk = true;
            let name = format!("{}gk", self.base);
            let (s, decl) = self.sub_state(self.gk, &name);
            let arg = self.int(1, false);
            return Some((
                format!("call_io!({name}(&mut {s}, io, t, {arg}, &SrcI))"),
                format!("{name}_direct(io, t, {arg}, &SrcI)"),
                GK_OPS,
                decl,
            ));
        }
        if !self.f.on("call") {
            return None;
        }
        let fits: Vec<Callee> = self.callees.iter().filter(|c| c.ops <= budget).cloned().collect();
        if fits.is_empty() {
            return None;
        }
        let c = fits[self.rng.below(fits.len() as u64) as usize].clone();
        let (s, decl) = self.sub_state(c.func, &c.name);
        let arg = self.int(1, false);
        Some((
            format!("call_io!({}(&mut {s}, io, t, {arg}))", c.name),
            format!("{}_direct(io, t, {arg})", c.name),
            c.ops,
            decl,
        ))
    }

    fn call_fixed(&mut self, which: usize, i: &str, n: &str) -> (String, String, Option<Node>) {
        let name = if which == self.lt {
            self.used_lt = true;
            format!("{}lt", self.base)
        } else {
            self.used_nx = true;
            format!("{}nx", self.base)
        };
        let (s, decl) = self.sub_state(which, &name);
        (
            format!("call_io!({name}(&mut {s}, io, t, {i}, {n}))"),
            format!("{name}_direct(io, t, {i}, {n})"),
            decl,
        )
    }

    // ----- statements -----

    /// A function body: statements, then the tail. Returns the most
    /// completions one run can create.
    fn body(&mut self, budget: u32, max_stmts: u32) -> (Vec<Node>, u32) {
        // A glob `use` at the top of the body, beside `upper_ident`'s
        // capitalised locals (attack round 15, F2).
        let glob = self.f.on("upper_ident") && self.rng.chance(15);
        let (mut nodes, mut used) = self.stmts(budget, max_stmts);
        if glob {
            nodes.insert(0, Node::same(GLOB_USE.to_string()));
        }
        if self.jump_macros {
            nodes.insert(0, Node::same(WRAPPED_JUMP_MACROS.to_string()));
        }
        if self.f.on("tail_susp")
            && self.rng.chance(25)
            && let Some((m, d, ops, decl)) = self.call(budget - used)
        {
            nodes.extend(decl);
            nodes.push(Node::fixed(m, d));
            used += ops;
            return (nodes, used);
        }
        let e = self.int(0, false);
        nodes.push(Node::fixed(format!("Ok({e})"), format!("Ok({e})")));
        (nodes, used)
    }

    fn stmts(&mut self, budget: u32, max_stmts: u32) -> (Vec<Node>, u32) {
        let n = self.rng.range(1, i64::from(max_stmts)) as u32;
        let mut out = Vec::new();
        let mut used = 0;
        for _ in 0..n {
            let (nodes, ops) = self.stmt(budget - used);
            used += ops;
            out.extend(nodes);
        }
        (out, used)
    }

    /// A nested block with its own scope.
    fn block(&mut self, budget: u32, max_stmts: u32, prelude: Vec<Var>) -> (Vec<Node>, u32) {
        self.scopes.push(prelude);
        self.depth += 1;
        let r = self.stmts(budget, max_stmts);
        self.depth -= 1;
        self.scopes.pop();
        r
    }

    fn in_loop<T>(&mut self, label: &str, value: bool, f: impl FnOnce(&mut Self) -> T) -> T {
        self.loops.push(LoopCtx {
            label: label.to_string(),
            value,
        });
        let r = f(self);
        self.loops.pop();
        r
    }

    fn stmt(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let nested = self.depth < 3;
        let on = |s: &Self, n: &str| s.f.on(n);
        let mut menu: Vec<(u32, u64)> = vec![(0, 4), (1, 3), (2, 2)];
        let can_yield = on(self, "yield") || on(self, "group") || on(self, "yield_now");
        let can_call = on(self, "call") && self.callees.iter().any(|c| c.ops <= budget);
        if can_yield {
            menu.push((3, 4));
        }
        if on(self, "group_local") && budget >= 1 {
            menu.push((4, 1));
        }
        if can_call {
            menu.push((5, 2));
        }
        if on(self, "let_susp") && (can_yield || can_call) {
            menu.push((6, 3));
        }
        if on(self, "assign_susp") && (can_yield || can_call) {
            menu.push((7, 1));
        }
        if on(self, "let_else") && (can_yield || can_call || (on(self, "while_let_susp") && budget >= NX_OPS))
        {
            menu.push((8, 1));
        }
        if nested {
            menu.push((9, 2));
            if on(self, "if_susp") && budget >= LT_OPS {
                menu.push((10, 1));
            }
            if on(self, "if_let_susp") && (can_yield || can_call) {
                menu.push((11, 1));
            }
            if on(self, "match") {
                menu.push((12, 1));
            }
            if on(self, "match_susp") && (can_yield || can_call) {
                menu.push((13, 1));
            }
            if on(self, "loop") {
                menu.push((14, 1));
            }
            if on(self, "loop_value") {
                menu.push((15, 1));
            }
            if on(self, "while_loop") {
                menu.push((16, 1));
            }
            if on(self, "while_susp") && budget >= 2 * LT_OPS {
                menu.push((17, 1));
            }
            if on(self, "vec") {
                menu.push((18, 1));
            }
            if on(self, "while_let_susp") && budget >= NX_OPS {
                menu.push((19, 1));
            }
            if on(self, "for_loop") {
                menu.push((20, 1));
            }
            if on(self, "block") {
                menu.push((21, 1));
            }
        }
        if (on(self, "early_exit") || on(self, "user_err")) && self.depth > 0 {
            menu.push((22, 1));
        }
        if on(self, "user_err") {
            menu.push((23, 1));
        }
        if on(self, "drops") {
            menu.push((24, 2));
        }
        if on(self, "cfg_attr") {
            menu.push((25, 1));
        }
        if on(self, "drop_reads") && !self.jump_macros {
            menu.push((33, 2));
        }
        if on(self, "compound_assign") && (can_call || on(self, "generic_helper")) {
            menu.push((26, 2));
        }
        if on(self, "range_bounds") && nested {
            menu.push((27, 1));
        }
        if on(self, "items") {
            menu.push((28, 1));
            // A static in code a resume runs makes the machine start with
            // the dispatch, as a macro it cannot see does.
            if self.jump_macros {
                menu.push((34, 1));
            }
            if !self.vars_of(Ty::ItemUse).is_empty() {
                menu.push((29, 1));
            }
        }
        if on(self, "let_uninit") {
            menu.push((30, 1));
        }
        if on(self, "cfg_attr") && nested {
            menu.push((31, 1));
        }
        // Moved once, and never where a loop of the body comes back.
        if self.mv.is_some() && self.loops.is_empty() {
            menu.push((32, 2));
        }
        let total: u64 = menu.iter().map(|(_, w)| w).sum();
        let mut roll = self.rng.below(total);
        let mut kind = 0;
        for (k, w) in &menu {
            if roll < *w {
                kind = *k;
                break;
            }
            roll -= w;
        }
        let r = self.stmt_of_kind(kind, budget);
        assert!(
            r.1 <= budget,
            "statement kind {kind} used {} of {budget} completions",
            r.1
        );
        r
    }

    fn stmt_of_kind(&mut self, kind: u32, budget: u32) -> (Vec<Node>, u32) {
        match kind {
            0 => (vec![self.trace()], 0),
            1 => (vec![self.let_stmt()], 0),
            2 => (self.assign().into_iter().collect(), 0),
            3 => self.yield_stmt(budget),
            4 => self.group_local(budget),
            5 => self.call_stmt(budget),
            6 => self.let_susp(budget),
            7 => self.assign_susp(budget),
            8 => self.let_else(budget),
            9 => self.if_plain(budget),
            10 => self.if_susp(budget),
            11 => self.if_let_susp(budget),
            12 => self.match_int(budget),
            13 => self.match_susp(budget),
            14 => self.loop_stmt(budget, false),
            15 => self.loop_stmt(budget, true),
            16 => self.while_stmt(budget, false),
            17 => self.while_stmt(budget, true),
            18 => self.while_let_vec(budget),
            19 => self.while_let_susp(budget),
            20 => self.for_stmt(budget),
            21 => {
                let (b, ops) = self.block(budget, 4, Vec::new());
                (
                    vec![Node::Compound(vec![
                        same_text("{"),
                        Part::Block(b),
                        same_text("}"),
                    ])],
                    ops,
                )
            }
            22 => self.exit_if(budget),
            33 => self.drop_read(budget),
            24 if self.rng.chance(50) => self.scoped_drop(budget),
            24 if self.rng.chance(25) => self.overwritten_drop(budget),
            24 => (vec![self.drop_guard()], 0),
            25 => self.cfg_stmt(budget),
            26 => self.compound_susp(budget),
            27 => self.range_for(budget),
            28 => (vec![self.item_decl()], 0),
            29 => (vec![self.use_write()], 0),
            30 => self.let_uninit(budget),
            31 => {
                let (b, ops) = self.block(budget, 4, Vec::new());
                (
                    vec![Node::Compound(vec![
                        same_text("#[allow(unused_mut, unused_variables)] {"),
                        Part::Block(b),
                        same_text("}"),
                    ])],
                    ops,
                )
            }
            32 => self.move_param(budget),
            34 => (vec![self.site_static()], 0),
            _ => (vec![self.chk_stmt()], 0),
        }
    }

    /// Moves the `mv` parameter (after which no code names it): into a
    /// local, through `into_iter()`, as the iterable of a `for` whose body
    /// may suspend, or into `drop`.
    fn move_param(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let Some(len) = self.mv.take() else {
            return (vec![self.trace()], 0);
        };
        for scope in &mut self.scopes {
            scope.retain(|v| v.name != "mv");
        }
        let id = self.site();
        match self.rng.below(5) {
            0 | 1 => {
                let w = self.fresh("v");
                let first = if self.rng.chance(50) {
                    format!("let mut {w}: Vec<i64> = mv;")
                } else {
                    format!("let mut {w}: Vec<i64> = mv.into_iter().rev().collect();")
                };
                self.declare(&w, Ty::VecI, true, false);
                (
                    vec![
                        Node::same(first),
                        Node::same(format!("tp(t, format!(\"mv{id}:{{{w}:?}}\"));")),
                    ],
                    0,
                )
            }
            2 => self.for_over(budget, len, |_| "mv".to_string()),
            3 => {
                let it = self.fresh("it");
                let first = Node::same(format!("let {it}: std::vec::IntoIter<i64> = mv.into_iter();"));
                let (mut nodes, ops) = self.for_over(budget, len, |_| it.clone());
                nodes.insert(0, first);
                (nodes, ops)
            }
            _ => (
                vec![
                    Node::same(format!("tp(t, format!(\"mv{id}:{{}}\", mv.len()));")),
                    Node::same("drop(mv);".to_string()),
                ],
                0,
            ),
        }
    }

    /// A traced value read in a way the machine cannot carry by reference,
    /// then a suspension point (issue 13 item 2, the verbatim fast path):
    /// through a method or a field (the value stays in scope, read by
    /// reference later too), moved into a function on one path or on all,
    /// a guard initialized after its `let`, or a guard reassigned in a loop
    /// that suspends. With every completion ready each drops exactly where
    /// Rust drops it; when the machine suspends, within `compare`'s window.
    /// (All are `dgv` values, `~v` in the trace: after a resume the
    /// dispatch may drop them when a step ends; a guard assigned after its
    /// `let` is not one the machine stores to the end of its scope, see the
    /// crate docs.)
    fn drop_read(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let mut out = Vec::new();
        match self.rng.below(5) {
            0 | 1 => {
                let id = self.site();
                let d = self.fresh("dv");
                let s = self.site();
                out.push(Node::same(format!("let {d}: Dg = dgv({id});")));
                if self.rng.chance(50) {
                    out.push(Node::same(format!("tp(t, format!(\"s{s}:{{}}\", {d}.touch()));")));
                } else {
                    out.push(Node::same(format!("tp(t, format!(\"s{s}:Dg({{}})\", {d}.0));")));
                }
                let (ys, ops) = self.yield_stmt(budget);
                out.extend(ys);
                self.declare(&d, Ty::Dg, false, true);
                (out, ops)
            }
            2 => {
                let id = self.site();
                let d = self.fresh("dv");
                let s = self.site();
                out.push(Node::same(format!("let {d}: Dg = dgv({id});")));
                if self.rng.chance(50) {
                    let c = self.boole();
                    out.push(Node::Compound(vec![
                        same_text(format!("if {c} {{")),
                        Part::Block(vec![Node::same(format!("eat(t, {s}, {d});"))]),
                        same_text("}"),
                    ]));
                } else {
                    out.push(Node::same(format!("eat(t, {s}, {d});")));
                }
                let (ys, ops) = self.yield_stmt(budget);
                out.extend(ys);
                (out, ops)
            }
            3 => {
                let g = self.site();
                out.push(Node::same(format!("let _g{g}: Dg;")));
                out.push(self.trace());
                out.push(Node::same(format!("_g{g} = dgv({g});")));
                let (ys, ops) = self.yield_stmt(budget);
                out.extend(ys);
                (out, ops)
            }
            _ => {
                let g = self.site();
                let g2 = self.site();
                out.push(Node::same(format!("let mut _g{g}: Dg = dgv({g});")));
                let (mut body, ops) = self.yield_stmt(budget / 2);
                body.push(Node::same(format!("_g{g} = dgv({g2});")));
                out.push(Node::Compound(vec![
                    same_text("for _ in 0..2u32 {"),
                    Part::Block(body),
                    same_text("}"),
                ]));
                (out, 2 * ops)
            }
        }
    }

    /// A value held only for its `Drop`: `let _gN: Dg = dgx(N);` (to the
    /// end of its scope, stored across suspensions), or `let _ = dgx(N);`
    /// (dropped at once).
    fn drop_guard(&mut self) -> Node {
        let id = self.site();
        if self.rng.chance(30) {
            Node::same(format!("let _ = dgx({id});"))
        } else {
            Node::same(format!("let _g{id}: Dg = dgx({id});"))
        }
    }

    /// A guard never read (`_gN`, whose every drop must stand where Rust's
    /// does), overwritten after a suspension point once or twice (attack
    /// round 11, d4): Rust drops the old value at the assignment and the
    /// last one at the end of its scope; the machine holds it for its
    /// `Drop` across the suspension points in between.
    fn overwritten_drop(&mut self, budget: u32) -> (Vec<Node>, u32) {
        if self.rng.chance(40) {
            return self.late_guard(budget);
        }
        let id = self.site();
        let name = format!("_g{id}");
        let mut out = vec![Node::same(format!("let mut {name}: Dg = dgx({id});"))];
        let mut ops = 0;
        for _ in 0..1 + self.rng.below(2) {
            if ops < budget {
                let (ys, o) = self.yield_stmt(budget - ops);
                out.extend(ys);
                ops += o;
            }
            let next = self.site();
            out.push(Node::same(format!("{name} = dgx({next});")));
        }
        (out, ops)
    }

    /// A guard declared without a value and given one after a suspension
    /// point, on one branch or always (attack round 11, d3/d20): Rust drops
    /// it at the end of its scope if it was assigned; the machine holds it
    /// (as an `Option`) across the suspension points after the assignment.
    fn late_guard(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let id = self.site();
        let name = format!("_g{id}");
        let mut out = vec![Node::same(format!("let {name}: Dg;"))];
        let mut ops = 0;
        if self.rng.chance(60) {
            let (ys, o) = self.yield_stmt(budget);
            out.extend(ys);
            ops += o;
        }
        let next = self.site();
        let assign = Node::same(format!("{name} = dgx({next});"));
        if self.rng.chance(60) {
            let c = self.boole();
            out.push(Node::Compound(vec![
                same_text(format!("if {c} {{")),
                Part::Block(vec![assign]),
                same_text("}"),
            ]));
        } else {
            out.push(assign);
        }
        if ops < budget {
            let (ys, o) = self.yield_stmt(budget - ops);
            out.extend(ys);
            ops += o;
        }
        (out, ops)
    }

    /// A block holding a value the body reads, read before a suspension
    /// and dead after it (or read after it too), sometimes after a guard
    /// held for its `Drop`, then code after the block: Rust drops the value
    /// at the block's end, and the machine may drop it earlier (at the
    /// suspension) but never later (`compare`'s window).
    ///
    /// Half the time a value declared before the block and read only in a
    /// branch comes first (issue 13 item 2's ready-mode shape): dead from
    /// the branch on, in scope to the end of the enclosing block, so that
    /// with every completion ready it must drop exactly where Rust drops
    /// it, after the code following the block.
    fn scoped_drop(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let mut before = Vec::new();
        if self.rng.chance(50) {
            let id = self.site();
            let d = self.fresh("dv");
            let s = self.site();
            let c = self.boole();
            before.push(Node::same(format!("let {d}: Dg = dg({id});")));
            before.push(Node::Compound(vec![
                same_text(format!("if {c} {{")),
                Part::Block(vec![Node::same(format!("tr(t, {s}, &{d});"))]),
                same_text("}"),
            ]));
            self.declare(&d, Ty::Dg, false, true);
        }
        let id = self.site();
        let d = self.fresh("dv");
        let s = self.site();
        self.scopes.push(Vec::new());
        self.depth += 1;
        let mut inner = Vec::new();
        // A guard held for its `Drop` declared first (round 9 of the
        // fresh-context attack): Rust drops it after the block's later
        // values, at the `}`.
        if self.rng.chance(40) {
            let g = self.site();
            inner.push(Node::same(format!("let _g{g}: Dg = dgx({g});")));
        }
        inner.push(Node::same(format!("let {d}: Dg = dg({id});")));
        inner.push(Node::same(format!("tr(t, {s}, &{d});")));
        let (ys, ops) = self.yield_stmt(budget);
        inner.extend(ys);
        // Read again after the suspension: stored, so dropped at the `}`
        // on every schedule, after anything declared later and before the
        // guard.
        if self.rng.chance(40) {
            let s2 = self.site();
            inner.push(Node::same(format!("tr(t, {s2}, &{d});")));
        }
        let (more, more_ops) = self.stmts(budget - ops, 2);
        inner.extend(more);
        self.depth -= 1;
        self.scopes.pop();
        let after = self.trace();
        before.extend([
            Node::Compound(vec![same_text("{"), Part::Block(inner), same_text("}")]),
            after,
        ]);
        (before, ops + more_ops)
    }

    /// Statements under `#[cfg(any())]` (gone: they run nothing and bind
    /// nothing) or `#[cfg(all())]` (kept), the statement itself suspending
    /// or not; a `let` that is cfg'd out with a cfg'd-out use after a
    /// suspension; or `#[cfg]` on a single suspending statement.
    fn cfg_stmt(&mut self, budget: u32) -> (Vec<Node>, u32) {
        match self.rng.below(4) {
            0 | 1 => {
                let on = self.rng.chance(50);
                let saved = self.scopes.clone();
                let (nodes, ops) = self.stmt(budget);
                // A block: what the statement binds stays inside it.
                self.scopes = saved;
                // But a parameter it moves stays moved.
                if self.mv.is_none() {
                    for scope in &mut self.scopes {
                        scope.retain(|v| v.name != "mv");
                    }
                }
                let cfg = if on { "all()" } else { "any()" };
                (
                    vec![Node::Compound(vec![
                        same_text(format!("#[cfg({cfg})] {{")),
                        Part::Block(nodes),
                        same_text("}"),
                    ])],
                    if on { ops } else { 0 },
                )
            }
            2 => {
                let g = self.fresh("x");
                let e = self.int(1, false);
                let mut out = vec![Node::same(format!("#[cfg(any())] let {g}: i64 = {e};"))];
                let (ys, ops) = self.yield_stmt(budget);
                out.extend(ys);
                let s = self.site();
                out.push(Node::same(format!("#[cfg(any())] tr(t, {s}, &{g});")));
                (out, ops)
            }
            _ => {
                let Some((src, ops)) = self.source(budget) else {
                    return (vec![self.trace()], 0);
                };
                let on = self.rng.chance(50);
                let cfg = if on { "all()" } else { "any()" };
                (
                    vec![Node::line(
                        format!("#[cfg({cfg})] yield_io!({src})?;"),
                        format!("#[cfg({cfg})] io.wait_direct({src})?;"),
                    )],
                    if on { ops } else { 0 },
                )
            }
        }
    }

    /// `x += call_io!(..)?` to a plain place: an `i64` local, a
    /// non-primitive `Acc` (Rust evaluates the place first: it has no side
    /// effects, so the order cannot show), or a field.
    fn compound_susp(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let Some((m, d, ops, decl)) = self.call(budget) else {
            return (vec![self.trace()], 0);
        };
        // (place, whether it is an `i64` place, which also takes `-=`)
        let mut places: Vec<(String, bool)> =
            self.assignable(Ty::I64).into_iter().map(|p| (p, true)).collect();
        places.extend(self.assignable(Ty::Acc).into_iter().map(|p| (p, false)));
        places.extend(
            self.assignable(Ty::Pt)
                .into_iter()
                .map(|p| (format!("{p}.x"), true)),
        );
        let mut out: Vec<Node> = decl.into_iter().collect();
        if places.is_empty() {
            let x = self.fresh("acc");
            out.push(Node::same(format!("let mut {x}: Acc = Acc(0);")));
            self.declare(&x, Ty::Acc, true, false);
            places.push((x, false));
        }
        let (place, int) = places[self.rng.below(places.len() as u64) as usize].clone();
        // `-=` can overflow where `+=` of small values cannot; `i64` places
        // take it with wrapping.
        // The values stay small: `+=` and `-=` cannot overflow.
        let op = if int && self.rng.chance(30) { "-=" } else { "+=" };
        let (m, d) = (format!("{place} {op} {m}?;"), format!("{place} {op} {d}?;"));
        out.push(Node::line(m, d));
        self.maybe_trace(&mut out);
        (out, ops)
    }

    /// `for i in (bnd(t, s, lo) as i64)..(bnd(t, s2, hi) as i64) { .. }`:
    /// the bounds trace, so their order shows.
    fn range_for(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let k = self.iterations();
        let lo = self.rng.range(-1, 1);
        let hi = lo + i64::from(k);
        self.for_over(budget, k, |g| {
            let (s1, s2) = (g.site(), g.site());
            format!("(bnd(t, {s1}, {lo}) as i64)..(bnd(t, {s2}, {hi}) as i64)")
        })
    }

    /// An item declared here, used by later expressions of this scope.
    fn item_decl(&mut self) -> Node {
        let n = self.site();
        // Beside capitalised locals: a glob `use`, and a nested `fn` with a
        // `const` of a local's name (attack round 15, F1/F2: either made
        // a capitalised `let` a constant pattern again).
        if self.f.on("upper_ident") && self.rng.chance(25) {
            let upper: Vec<String> = self
                .vars()
                .into_iter()
                .filter(|v| !v.ty.is_item())
                .map(|v| v.name.trim_start_matches("r#").to_string())
                .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()))
                .collect();
            // A glob in a block that is taken apart is refused (the crate
            // docs, rule 8): only at the top of the body.
            if self.depth == 0 && (upper.is_empty() || self.rng.chance(50)) {
                return Node::same(GLOB_USE.to_string());
            }
            if upper.is_empty() {
                return Node::same(format!("const K{n}: i64 = {n};"));
            }
            let c = upper[self.rng.below(upper.len() as u64) as usize].clone();
            let name = format!("h{n}");
            self.declare(&name, Ty::ItemFn, false, true);
            return Node::same(format!(
                "fn h{n}(x: i64) -> i64 {{ #[allow(non_upper_case_globals)] const {c}: i64 = {n}; x.wrapping_add({c}) }}"
            ));
        }
        let (name, ty, text) = match self.rng.below(5) {
            0 => {
                let v = self.rng.range(-3, 30);
                (format!("K{n}"), Ty::ItemConst, format!("const K{n}: i64 = {v};"))
            }
            1 => (
                format!("h{n}"),
                Ty::ItemFn,
                format!("fn h{n}(x: i64) -> i64 {{ x.wrapping_mul(3).wrapping_add({n}) }}"),
            ),
            2 => (
                format!("m{n}"),
                Ty::ItemMacro,
                format!(
                    "#[allow(unused_macros)] macro_rules! m{n} {{ ($e:expr) => {{ i64::wrapping_sub($e, {n}) }}; }}"
                ),
            ),
            3 => (
                format!("S{n}"),
                Ty::ItemStruct,
                format!("#[derive(Debug)] struct S{n} {{ v: i64 }}"),
            ),
            _ => (
                "Write".to_string(),
                Ty::ItemUse,
                "#[allow(unused_imports)] use std::fmt::Write as _;".to_string(),
            ),
        };
        self.declare(&name, ty, false, true);
        Node::same(text)
    }

    /// A per-call-site `static`, in code the dispatch keeps whole (a
    /// block, a nested `fn`, a format argument): one static per site,
    /// whichever path (the verbatim start, a resume's arm) runs it (attack
    /// round 12: items in code a resume runs existed twice).
    fn site_static(&mut self) -> Node {
        let n = self.site();
        let st = "std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0)";
        Node::same(match self.rng.below(3) {
            0 => format!("{{ static O{n}: {st}; once_site(t, {n}, module_path!(), &O{n}); }}"),
            1 => format!(
                "{{ fn o{n}() -> &'static std::sync::atomic::AtomicU8 {{ static O: {st}; &O }} once_site(t, {n}, module_path!(), o{n}()); }}"
            ),
            _ => format!(
                "tp(t, format!(\"{{}}\", {{ static O{n}: {st}; once_mark({n}, module_path!(), &O{n}) }}));"
            ),
        })
    }

    /// A use of `use std::fmt::Write as _;` declared before.
    fn use_write(&mut self) -> Node {
        let s = self.site();
        let e = self.int(1, false);
        Node::same(format!(
            "{{ let mut w = String::new(); let _ = write!(w, \"s{s}:{{}}\", {e}); tp(t, w); }}"
        ))
    }

    /// `let x: i64;` (or `let x;`) given its value later, maybe after a
    /// suspension point.
    fn let_uninit(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let x = self.fresh("x");
        let typed = self.rng.chance(60);
        let mut out = vec![Node::same(if typed {
            format!("let {x}: i64;")
        } else {
            format!("let {x};")
        })];
        let mut ops = 0;
        if self.rng.chance(60) {
            let (ys, o) = self.yield_stmt(budget);
            out.extend(ys);
            ops = o;
        }
        let e = self.int(1, false);
        if self.rng.chance(40) {
            // Assigned on both branches of a kept `if` (or one that
            // suspends): not an overwrite of the whole binding, yet nothing
            // has a value to store at a suspension point before it
            // (attack round 11, f2: E0425).
            let c = self.boole();
            let e2 = self.int(1, false);
            let mut then = Vec::new();
            if ops < budget && self.rng.chance(30) {
                let (ys, o) = self.yield_stmt(budget - ops);
                then.extend(ys);
                ops += o;
            }
            then.push(Node::same(format!("{x} = {e};")));
            out.push(Node::Compound(vec![
                same_text(format!("if {c} {{")),
                Part::Block(then),
                same_text("} else {"),
                Part::Block(vec![Node::same(format!("{x} = {e2};"))]),
                same_text("}"),
            ]));
        } else {
            out.push(Node::same(format!("{x} = {e};")));
        }
        if typed {
            // Typed, it may be stored across later suspension points.
            self.declare(&x, Ty::I64, false, false);
        } else {
            // Untyped, it must not be: one use right away.
            let s = self.site();
            out.push(Node::same(format!("tr(t, {s}, &{x});")));
        }
        (out, ops)
    }

    fn trace(&mut self) -> Node {
        let s = self.site();
        let vars: Vec<(String, Ty)> = self
            .vars()
            .into_iter()
            .filter(|v| !matches!(v.ty, Ty::Sub(_) | Ty::SubIn(..)) && !v.ty.is_item())
            .map(|v| (v.name.clone(), v.ty))
            .collect();
        // Mostly a plain call (cheap to type-check once the macro has
        // copied it into several states); a quarter are `format!` with
        // inline captures, whose uses liveness must see inside the macro call.
        let fmt = self.rng.chance(25);
        let pick = self.rng.below(5);
        let line = match pick {
            0 if fmt => format!("tp(t, format!(\"s{s}\"));"),
            0 => format!("tr(t, {s}, &());"),
            1 | 2 if !vars.is_empty() => {
                let (v, ty) = &vars[self.rng.below(vars.len() as u64) as usize];
                match ty {
                    // A format string cannot capture a raw identifier.
                    _ if !fmt || v.starts_with("r#") => format!("tr(t, {s}, &{v});"),
                    t if t.debug_only() => format!("tp(t, format!(\"s{s}:{{{v}:?}}\"));"),
                    _ => format!("tp(t, format!(\"s{s}:{{{v}}}\"));"),
                }
            }
            3 if self.top && fmt => format!("tp(t, format!(\"s{s}:{{tag}}:{{xs:?}}\"));"),
            3 if self.top => format!("tr(t, {s}, &(tag, xs));"),
            _ => {
                let e = self.int(0, false);
                if fmt {
                    format!("tp(t, format!(\"s{s}:{{}}\", {e}));")
                } else {
                    format!("tr(t, {s}, &({e}));")
                }
            }
        };
        Node::same(line)
    }

    /// A trace line after a suspension, most of the time.
    fn maybe_trace(&mut self, out: &mut Vec<Node>) {
        if self.rng.chance(60) {
            out.push(self.trace());
        }
    }

    fn prefix(ty: Ty) -> &'static str {
        match ty {
            Ty::I64 => "x",
            Ty::U32 => "u",
            Ty::Bool => "b",
            Ty::Str => "s",
            Ty::VecI => "v",
            Ty::Res => "r",
            Ty::Sub(_) | Ty::SubIn(..) => "ss",
            Ty::Dg => "dv",
            Ty::Acc => "acc",
            Ty::Pt => "pt",
            Ty::Msg => "msg",
            Ty::Wr => "wr",
            Ty::XsRef => "xr",
            _ => "it",
        }
    }

    /// The name for a new binding: fresh, or (shadowing) an existing one.
    fn binding_name(&mut self, ty: Ty) -> String {
        if self.f.on("shadow") && self.rng.chance(20) {
            let nested = self.f.on("shadow_nested");
            let current: BTreeSet<String> = self
                .scopes
                .last()
                .into_iter()
                .flatten()
                .map(|v| v.name.clone())
                .collect();
            let names: Vec<String> = self
                .vars()
                .into_iter()
                .filter(|v| nested || current.contains(&v.name))
                // `a` stays an i64: expressions fall back to it; `mv`
                // stays the parameter its move moves.
                .filter(|v| {
                    !matches!(v.ty, Ty::Sub(_) | Ty::SubIn(..))
                        && !v.ty.is_item()
                        && (v.name != "a" || ty == Ty::I64)
                        && v.name != "mv"
                })
                .map(|v| v.name.clone())
                .collect();
            if !names.is_empty() {
                return names[self.rng.below(names.len() as u64) as usize].clone();
            }
        }
        let mut name = self.fresh(Self::prefix(ty));
        if self.f.on("upper_ident") && self.rng.chance(8) {
            name = name[..1].to_uppercase() + &name[1..];
        }
        if self.f.on("raw_ident") && self.rng.chance(10) {
            format!("r#{name}")
        } else {
            name
        }
    }

    fn let_stmt(&mut self) -> Node {
        if self.top && self.f.on("recreated_borrow") && self.rng.chance(12) {
            // Rule 9: typed or not, of the parameter or of a reference to
            // it; never `mut` (a re-created binding cannot be reassigned).
            let name = self.binding_name(Ty::XsRef);
            let line = match self.rng.below(3) {
                0 => format!("let {name} = xs;"),
                1 => format!("let {name}: &[i64] = xs;"),
                _ => format!("let {name} = &xs;"),
            };
            self.declare(&name, Ty::XsRef, false, true);
            return Node::same(line);
        }
        let ty = self.random_ty();
        let name = self.binding_name(ty);
        let mutable = self.rng.chance(50);
        let mt = if mutable { "mut " } else { "" };
        let copy_src = self.pick_var(ty);
        let line = match (ty, self.rng.below(4)) {
            (Ty::I64, 0) => format!("let {mt}{name} = {}i64;", self.rng.range(0, 30)),
            (Ty::U32, 0) => format!("let {mt}{name} = {}u32;", self.rng.range(0, 30)),
            (Ty::I64, 1) => {
                let e = self.u32e();
                format!("let {mt}{name} = ({e}) as i64;")
            }
            (Ty::U32, 1) => {
                let e = self.int(1, true);
                format!("let {mt}{name} = ({e}) as u32;")
            }
            (Ty::I64 | Ty::U32 | Ty::Bool, 2) if copy_src.is_some() => {
                format!("let {mt}{name} = {};", copy_src.unwrap_or_default())
            }
            _ => {
                let e = self.expr(ty);
                format!("let {mt}{name}: {} = {e};", self.ty_name(ty))
            }
        };
        // A traced value is only read: never assigned, moved or copied.
        self.declare(&name, ty, mutable, ty == Ty::Dg);
        Node::same(line)
    }

    fn assign(&mut self) -> Option<Node> {
        let ty = self.random_ty();
        let targets = self.assignable(ty);
        if targets.is_empty() {
            return Some(self.trace());
        }
        let x = targets[self.rng.below(targets.len() as u64) as usize].clone();
        let line = match (ty, self.rng.below(3)) {
            (Ty::I64, 0) => {
                let e = self.int(1, false);
                format!("{x} = {x}.wrapping_add({e});")
            }
            (Ty::Bool, 0) => format!("{x} = !{x};"),
            (Ty::Str, 0) => {
                let e = self.int(1, false);
                format!("{x}.push_str(&format!(\"+{{}}\", {e}));")
            }
            (Ty::VecI, 0 | 1) => {
                let e = self.int(1, false);
                format!("{x}.push({e});")
            }
            // Through a place with a side effect (kept whole: Rust's order).
            (Ty::Acc, 0) => {
                let s = self.site();
                // A literal: the place borrows `x` mutably while the right
                // side is evaluated.
                let e = self.lit(false);
                format!("*slot(t, {s}, &mut {x}) += {e};")
            }
            (Ty::Acc, 1) => {
                let e = self.int(1, false);
                format!("{x} += {e};")
            }
            (Ty::Pt, 0) => {
                let e = self.int(1, false);
                format!("{x}.x = {e};")
            }
            _ => {
                let e = self.expr(ty);
                format!("{x} = {e};")
            }
        };
        Some(Node::same(line))
    }

    fn yield_stmt(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let Some((src, ops)) = self.source(budget) else {
            return (vec![self.trace()], 0);
        };
        let mut out = Vec::new();
        if self.rng.chance(40) {
            out.push(self.trace());
        }
        out.push(Node::line(
            format!("yield_io!({src})?;"),
            format!("io.wait_direct({src})?;"),
        ));
        self.maybe_trace(&mut out);
        (out, ops)
    }

    fn group_local(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let g = self.fresh("g");
        let n = self.rng.range(1, i64::from(budget.min(3))) as u32;
        let mut line = format!("let mut {g} = CompletionGroup::new(|_| {{}});");
        let mut ops = 0;
        for _ in 0..n {
            if self.f.on("group") && ops + 2 <= budget && self.rng.chance(30) {
                line.push_str(&format!(" {g}.add(&io.group(2));"));
                ops += 2;
            } else if ops < budget {
                line.push_str(&format!(" {g}.add(&io.op());"));
                ops += 1;
            }
        }
        let mut out = vec![Node::line(
            format!("{line} yield_io!({g}.build())?;"),
            format!("{line} io.wait_direct({g}.build())?;"),
        )];
        self.maybe_trace(&mut out);
        (out, ops)
    }

    fn call_stmt(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let Some((m, d, ops, decl)) = self.call(budget) else {
            return (vec![self.trace()], 0);
        };
        let mut out: Vec<Node> = decl.into_iter().collect();
        out.push(Node::line(format!("{m}?;"), format!("{d}?;")));
        self.maybe_trace(&mut out);
        (out, ops)
    }

    /// A suspension giving a value: `yield_io!` (a `Result<i32, _>`) or
    /// `call_io!` into a helper (a `Result<i64, E>`).
    fn value_susp(
        &mut self,
        budget: u32,
        want_call: bool,
    ) -> Option<(String, String, u32, Option<Node>, Ty)> {
        if want_call && let Some((m, d, ops, decl)) = self.call(budget) {
            return Some((m, d, ops, decl, Ty::I64));
        }
        let (src, ops) = self.source(budget)?;
        Some((
            format!("yield_io!({src})"),
            format!("io.wait_direct({src})"),
            ops,
            None,
            Ty::Res,
        ))
    }

    fn let_susp(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let want_call = self.rng.chance(60);
        let Some((m, d, ops, decl, ty)) = self.value_susp(budget, want_call) else {
            return (vec![self.trace()], 0);
        };
        let mut out: Vec<Node> = decl.into_iter().collect();
        let name = self.binding_name(ty);
        let mutable = self.rng.chance(40);
        let mt = if mutable { "mut " } else { "" };
        let (m, d) = match ty {
            Ty::I64 => (
                format!("let {mt}{name}: i64 = {m}?;"),
                format!("let {mt}{name}: i64 = {d}?;"),
            ),
            _ => (
                format!("let {mt}{name}: Result<i32, CompletionError> = {m};"),
                format!("let {mt}{name}: Result<i32, CompletionError> = {d};"),
            ),
        };
        out.push(Node::line(m, d));
        self.declare(&name, ty, mutable, false);
        self.maybe_trace(&mut out);
        (out, ops)
    }

    fn assign_susp(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let ints = self.assignable(Ty::I64);
        let res = self.assignable(Ty::Res);
        if !ints.is_empty()
            && (res.is_empty() || self.rng.chance(70))
            && let Some((m, d, ops, decl)) = self.call(budget)
        {
            let x = ints[self.rng.below(ints.len() as u64) as usize].clone();
            let mut out: Vec<Node> = decl.into_iter().collect();
            out.push(Node::line(format!("{x} = {m}?;"), format!("{x} = {d}?;")));
            self.maybe_trace(&mut out);
            return (out, ops);
        }
        if !res.is_empty()
            && let Some((src, ops)) = self.source(budget)
        {
            let r = res[self.rng.below(res.len() as u64) as usize].clone();
            let mut out = vec![Node::line(
                format!("{r} = yield_io!({src});"),
                format!("{r} = io.wait_direct({src});"),
            )];
            self.maybe_trace(&mut out);
            return (out, ops);
        }
        self.let_susp(budget)
    }

    /// The statement that ends a diverging block: `return`, or `break` /
    /// `continue` to an enclosing loop.
    fn exit(&mut self, budget: u32, in_let_else: bool) -> (Node, u32) {
        let mut choices = vec![0];
        if self.f.on("user_err") {
            choices.push(1);
        }
        if self.f.on("return_susp")
            && (!in_let_else || self.f.on("let_else_susp"))
            && self.callees.iter().any(|c| c.ops <= budget)
        {
            choices.push(2);
        }
        if !self.loops.is_empty() {
            choices.extend([3, 3, 4]);
        }
        match choices[self.rng.below(choices.len() as u64) as usize] {
            0 => {
                let e = self.int(0, false);
                (
                    Node::fixed(format!("return Ok({e});"), format!("return Ok({e});")),
                    0,
                )
            }
            1 => {
                let k = self.rng.range(0, 99);
                // Written by a macro: the machine cannot see the `return`.
                let line = if self.jump_macros && self.rng.chance(30) {
                    format!("gerr!({k});")
                } else {
                    format!("return Err(E::User({k}));")
                };
                (Node::fixed(line.clone(), line), 0)
            }
            2 => {
                // The sub-state must be declared outside the block, so use a
                // fresh one declared right here inside a nested block.
                let (m, d, ops, decl) = self.call(budget).expect("a callee fits");
                let (m, d) = match decl {
                    Some(Node::Line { m: dm, d: dd, .. }) => {
                        (format!("{dm} return {m};"), format!("{dd} return {d};"))
                    }
                    _ => (format!("return {m};"), format!("return {d};")),
                };
                (Node::fixed(m, d), ops)
            }
            k => {
                let labeled = self.f.on("labeled");
                let i = if labeled {
                    self.rng.below(self.loops.len() as u64) as usize
                } else {
                    self.loops.len() - 1
                };
                let target = self.loops[i].clone();
                let innermost = i == self.loops.len() - 1;
                let label = if labeled && (!innermost || self.rng.chance(50)) {
                    format!(" {}", target.label)
                } else {
                    String::new()
                };
                // Written by a macro (unlabeled, no value): the machine
                // cannot see the jump. Not in a `let-else`'s `else`, which
                // cannot be wrapped to catch it.
                let by_macro = self.jump_macros
                    && label.is_empty()
                    && !target.value
                    && !in_let_else
                    && self.rng.chance(35);
                let line = if k == 3 {
                    if target.value {
                        let e = self.int(1, false);
                        format!("break{label} {e};")
                    } else if by_macro {
                        // Sometimes through a macro of the body that writes
                        // no jump itself (attack round 17's helper found
                        // one counted jump-free).
                        if self.rng.chance(40) {
                            "wbrk!();"
                        } else {
                            "gbrk!();"
                        }
                        .to_string()
                    } else {
                        format!("break{label};")
                    }
                } else if by_macro {
                    // Sometimes from a `let`'s initializer (attack round 18:
                    // such a `continue` restarted the dispatch arm forever).
                    match self.rng.below(5) {
                        0 | 1 => "wcnt!();".to_string(),
                        2 => "let _: i64 = gcntv!(0);".to_string(),
                        _ => "gcnt!();".to_string(),
                    }
                } else {
                    format!("continue{label};")
                };
                (Node::fixed(line.clone(), line), 0)
            }
        }
    }

    fn let_else(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let v0 = self.fresh("v");
        let mut out = Vec::new();
        let (head_m, head_d, ops, bind) = match self.rng.below(3) {
            0 if self.f.on("while_let_susp") && budget >= NX_OPS => {
                let i = self.int(1, false);
                let n = self.rng.range(0, 3).to_string();
                let (m, d, decl) = self.call_fixed(self.nx, &i, &n);
                out.extend(decl);
                (
                    format!("let Some({v0}) = {m}? else {{"),
                    format!("let Some({v0}) = {d}? else {{"),
                    NX_OPS,
                    true,
                )
            }
            1 => match self.call(budget) {
                Some((m, d, ops, decl)) => {
                    out.extend(decl);
                    (
                        format!("let Ok({v0}) = {m} else {{"),
                        format!("let Ok({v0}) = {d} else {{"),
                        ops,
                        true,
                    )
                }
                None => return self.yield_stmt(budget),
            },
            _ => match self.source(budget) {
                Some((src, ops)) => (
                    format!("let Ok(_) = yield_io!({src}) else {{"),
                    format!("let Ok(_) = io.wait_direct({src}) else {{"),
                    ops,
                    false,
                ),
                None => return self.call_stmt(budget),
            },
        };
        let mut rest = budget - ops;
        self.scopes.push(Vec::new());
        let mut els = vec![self.trace()];
        let mut else_ops = 0;
        if self.f.on("let_else_susp") && rest > 0 && self.rng.chance(50) {
            // A suspension as a statement of the `else` block, before its exit.
            let (ys, o) = self.yield_stmt(rest);
            els.extend(ys);
            else_ops = o;
            rest -= o;
        }
        let (exit, exit_ops) = self.exit(rest, true);
        let exit_ops = exit_ops + else_ops;
        els.push(exit);
        self.scopes.pop();
        out.push(Node::Compound(vec![
            text(head_m, head_d),
            Part::Block(els),
            same_text("};"),
        ]));
        if bind {
            let x = self.binding_name(Ty::I64);
            out.push(Node::same(format!("let {x}: i64 = {v0};")));
            self.declare(&x, Ty::I64, false, false);
        }
        self.maybe_trace(&mut out);
        (out, ops + exit_ops)
    }

    fn if_plain(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let c = self.boole();
        let mut parts = vec![same_text(format!("if {c} {{"))];
        let (b, mut ops) = self.block(budget, 4, Vec::new());
        parts.push(Part::Block(b));
        if self.rng.chance(30) {
            let c2 = self.boole();
            parts.push(same_text(format!("}} else if {c2} {{")));
            let (b, o) = self.block(budget, 3, Vec::new());
            ops = ops.max(o);
            parts.push(Part::Block(b));
        }
        if self.rng.chance(50) {
            parts.push(same_text("} else {"));
            let (b, o) = self.block(budget, 3, Vec::new());
            ops = ops.max(o);
            parts.push(Part::Block(b));
        }
        parts.push(same_text("}"));
        (vec![Node::Compound(parts)], ops)
    }

    fn if_susp(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let i = self.int(1, false);
        let n = self.rng.range(-2, 12).to_string();
        let (m, d, decl) = self.call_fixed(self.lt, &i, &n);
        let mut out: Vec<Node> = decl.into_iter().collect();
        let rest = budget - LT_OPS;
        let (b, mut ops) = self.block(rest, 4, Vec::new());
        let mut parts = vec![text(format!("if {m}? {{"), format!("if {d}? {{")), Part::Block(b)];
        if self.rng.chance(50) {
            parts.push(same_text("} else {"));
            let (b, o) = self.block(rest, 3, Vec::new());
            ops = ops.max(o);
            parts.push(Part::Block(b));
        }
        parts.push(same_text("}"));
        out.push(Node::Compound(parts));
        (out, ops + LT_OPS)
    }

    fn if_let_susp(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let mut out = Vec::new();
        let v0 = self.fresh("v");
        let (head_m, head_d, ops, bind) = match self.rng.below(3) {
            0 if self.f.on("while_let_susp") && budget >= NX_OPS => {
                let i = self.int(1, false);
                let n = self.rng.range(0, 3).to_string();
                let (m, d, decl) = self.call_fixed(self.nx, &i, &n);
                out.extend(decl);
                (
                    format!("if let Some({v0}) = {m}? {{"),
                    format!("if let Some({v0}) = {d}? {{"),
                    NX_OPS,
                    true,
                )
            }
            1 if self.callees.iter().any(|c| c.ops <= budget) => {
                let (m, d, ops, decl) = self.call(budget).expect("a callee fits");
                out.extend(decl);
                (
                    format!("if let Ok({v0}) = {m} {{"),
                    format!("if let Ok({v0}) = {d} {{"),
                    ops,
                    true,
                )
            }
            _ => match self.source(budget) {
                Some((src, ops)) => {
                    let s = self.site();
                    (
                        format!(
                            "if let Err({v0}) = yield_io!({src}) {{ tp(t, format!(\"s{s}:{{{v0}:?}}\"));"
                        ),
                        format!(
                            "if let Err({v0}) = io.wait_direct({src}) {{ tp(t, format!(\"s{s}:{{{v0}:?}}\"));"
                        ),
                        ops,
                        false,
                    )
                }
                None => return self.call_stmt(budget),
            },
        };
        let rest = budget - ops;
        let (m, d, prelude) = if bind {
            let x = self.fresh("x");
            (
                format!("{head_m} let {x}: i64 = {v0};"),
                format!("{head_d} let {x}: i64 = {v0};"),
                vec![Var {
                    name: x,
                    ty: Ty::I64,
                    mutable: false,
                    frozen: false,
                }],
            )
        } else {
            (head_m, head_d, Vec::new())
        };
        let (b, mut bops) = self.block(rest, 4, prelude);
        let mut parts = vec![text(m, d), Part::Block(b)];
        if self.rng.chance(50) {
            parts.push(same_text("} else {"));
            let (b, o) = self.block(rest, 3, Vec::new());
            bops = bops.max(o);
            parts.push(Part::Block(b));
        }
        parts.push(same_text("}"));
        out.push(Node::Compound(parts));
        (out, ops + bops)
    }

    fn match_arms_int(&mut self, rest: u32, parts: &mut Vec<Part>) -> u32 {
        let mut ops = 0;
        let arms = ["0", "1..=4", "-3..=-1"];
        let n = self.rng.range(1, 3) as usize;
        for pat in arms.iter().take(n) {
            parts.push(same_text(format!("{pat} => {{")));
            let (b, o) = self.block(rest, 3, Vec::new());
            ops = ops.max(o);
            parts.push(Part::Block(b));
            parts.push(same_text("}"));
        }
        if self.f.on("cfg_attr") && self.rng.chance(20) {
            // An arm that does not exist (it would match 5 before `_`).
            parts.push(same_text("#[cfg(any())] 5 => {"));
            let (b, _) = self.block(rest, 3, Vec::new());
            parts.push(Part::Block(b));
            parts.push(same_text("}"));
        }
        if self.rng.chance(40) {
            let v0 = self.fresh("v");
            let x = self.fresh("x");
            parts.push(same_text(format!("{v0} if {v0} > 10 => {{ let {x}: i64 = {v0};")));
            let (b, o) = self.block(
                rest,
                3,
                vec![Var {
                    name: x,
                    ty: Ty::I64,
                    mutable: false,
                    frozen: false,
                }],
            );
            ops = ops.max(o);
            parts.push(Part::Block(b));
            parts.push(same_text("}"));
        }
        parts.push(same_text("_ => {"));
        let (b, o) = self.block(rest, 3, Vec::new());
        parts.push(Part::Block(b));
        parts.push(same_text("}"));
        ops.max(o)
    }

    fn match_int(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let e = self.int(1, true);
        let mut parts = vec![same_text(format!("match {e}.rem_euclid(7) - 1 {{"))];
        let ops = self.match_arms_int(budget, &mut parts);
        parts.push(same_text("}"));
        (vec![Node::Compound(parts)], ops)
    }

    fn match_susp(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let mut out = Vec::new();
        let want_call = self.rng.chance(50);
        let Some((m, d, ops, decl, ty)) = self.value_susp(budget, want_call) else {
            return (vec![self.trace()], 0);
        };
        out.extend(decl);
        let rest = budget - ops;
        let mut parts;
        let bops;
        if ty == Ty::I64 {
            parts = vec![text(format!("match {m}? {{"), format!("match {d}? {{"))];
            bops = self.match_arms_int(rest, &mut parts);
        } else {
            parts = vec![text(format!("match {m} {{"), format!("match {d} {{"))];
            // The completion's result is traced, so a machine that loses or
            // mixes up `yield_io!`'s value diverges from its twin.
            let n0 = self.fresh("n");
            let s0 = self.site();
            parts.push(same_text(format!(
                "Ok({n0}) => {{ tp(t, format!(\"s{s0}:ok{{{n0}}}\"));"
            )));
            let (b, o1) = self.block(rest, 3, Vec::new());
            parts.push(Part::Block(b));
            let e0 = self.fresh("e");
            let s = self.site();
            parts.push(same_text(format!(
                "}} Err({e0}) => {{ tp(t, format!(\"s{s}:{{{e0}:?}}\"));"
            )));
            let (b, o2) = self.block(rest, 3, Vec::new());
            parts.push(Part::Block(b));
            parts.push(same_text("}"));
            bops = o1.max(o2);
        }
        parts.push(same_text("}"));
        out.push(Node::Compound(parts));
        (out, ops + bops)
    }

    fn label(&mut self) -> String {
        self.fresh("'l")
    }

    fn label_prefix(&self, label: &str) -> String {
        if self.f.on("labeled") {
            format!("{label}: ")
        } else {
            String::new()
        }
    }

    fn iterations(&mut self) -> u32 {
        self.rng.range(0, 3) as u32
    }

    fn loop_stmt(&mut self, budget: u32, value: bool) -> (Vec<Node>, u32) {
        let k = self.iterations();
        let c = self.fresh("c");
        let label = self.label();
        let lp = self.label_prefix(&label);
        let brk = if self.f.on("labeled") {
            format!("break {label}")
        } else {
            "break".to_string()
        };
        let mut out = vec![Node::same(format!("let mut {c}: i64 = 0;"))];
        self.declare(&c, Ty::I64, true, true);
        let body_budget = budget / k.max(1);
        let (b, ops) = self.in_loop(&label, value, |g| g.block(body_budget, 4, Vec::new()));
        let total = ops * k.max(1);
        if value {
            let x = self.binding_name(Ty::I64);
            out.push(Node::Compound(vec![
                same_text(format!(
                    "let {x}: i64 = {lp}loop {{ {c} += 1; if {c} > {k} {{ {brk} {c}; }}"
                )),
                Part::Block(b),
                same_text("};"),
            ]));
            self.declare(&x, Ty::I64, false, false);
            self.maybe_trace(&mut out);
        } else {
            out.push(Node::Compound(vec![
                same_text(format!("{lp}loop {{ {c} += 1; if {c} > {k} {{ {brk}; }}")),
                Part::Block(b),
                same_text("}"),
            ]));
        }
        (out, total)
    }

    fn while_stmt(&mut self, budget: u32, susp: bool) -> (Vec<Node>, u32) {
        let k = self.iterations();
        let i = self.fresh("i");
        let label = self.label();
        let lp = self.label_prefix(&label);
        if susp && LT_OPS * (k + 1) > budget {
            return (vec![self.trace()], 0);
        }
        let mut out = vec![Node::same(format!("let mut {i}: i64 = 0;"))];
        self.declare(&i, Ty::I64, true, true);
        let (head_m, head_d, cond_ops) = if susp {
            let (m, d, decl) = self.call_fixed(self.lt, &i, &k.to_string());
            out.extend(decl);
            (
                format!("{lp}while {m}? {{ {i} += 1;"),
                format!("{lp}while {d}? {{ {i} += 1;"),
                LT_OPS * (k + 1),
            )
        } else {
            let h = format!("{lp}while {i} < {k} {{ {i} += 1;");
            (h.clone(), h, 0)
        };
        if cond_ops > budget {
            return (vec![self.trace()], 0);
        }
        let body_budget = (budget - cond_ops) / k.max(1);
        let (b, ops) = self.in_loop(&label, false, |g| g.block(body_budget, 4, Vec::new()));
        out.push(Node::Compound(vec![
            text(head_m, head_d),
            Part::Block(b),
            same_text("}"),
        ]));
        (out, ops * k.max(1) + cond_ops)
    }

    fn while_let_vec(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let k = self.iterations();
        let w = self.fresh("w");
        let v0 = self.fresh("v");
        let x = self.fresh("x");
        let label = self.label();
        let lp = self.label_prefix(&label);
        let items: Vec<String> = (0..k).map(|_| self.int(1, false)).collect();
        let out0 = Node::same(format!("let mut {w}: Vec<i64> = vec![{}];", items.join(", ")));
        self.declare(&w, Ty::VecI, true, true);
        let body_budget = budget / k.max(1);
        let prelude = vec![Var {
            name: x.clone(),
            ty: Ty::I64,
            mutable: false,
            frozen: false,
        }];
        let (b, ops) = self.in_loop(&label, false, |g| g.block(body_budget, 4, prelude));
        let node = Node::Compound(vec![
            same_text(format!(
                "{lp}while let Some({v0}) = {w}.pop() {{ let {x}: i64 = {v0};"
            )),
            Part::Block(b),
            same_text("}"),
        ]);
        (vec![out0, node], ops * k.max(1))
    }

    fn while_let_susp(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let k = self.iterations();
        let i = self.fresh("i");
        let v0 = self.fresh("v");
        let x = self.fresh("x");
        let label = self.label();
        let lp = self.label_prefix(&label);
        let cond_ops = NX_OPS * (k + 1);
        if cond_ops > budget {
            return (vec![self.trace()], 0);
        }
        let mut out = vec![Node::same(format!("let mut {i}: i64 = 0;"))];
        self.declare(&i, Ty::I64, true, true);
        let (m, d, decl) = self.call_fixed(self.nx, &i, &k.to_string());
        out.extend(decl);
        let body_budget = (budget - cond_ops) / k.max(1);
        let prelude = vec![Var {
            name: x.clone(),
            ty: Ty::I64,
            mutable: false,
            frozen: false,
        }];
        let (b, ops) = self.in_loop(&label, false, |g| g.block(body_budget, 4, prelude));
        out.push(Node::Compound(vec![
            text(
                format!("{lp}while let Some({v0}) = {m}? {{ {i} += 1; let {x}: i64 = {v0};"),
                format!("{lp}while let Some({v0}) = {d}? {{ {i} += 1; let {x}: i64 = {v0};"),
            ),
            Part::Block(b),
            same_text("}"),
        ]));
        (out, ops * k.max(1) + cond_ops)
    }

    fn for_stmt(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let k = self.iterations();
        self.for_over(budget, k, |g| match g.rng.below(3) {
            0 => format!("0i64..{k}"),
            1 => format!("0..{k}i64"),
            _ => format!("1i64..={k}"),
        })
    }

    /// `for i in <range> { .. }` over a range of `k` values, the range's
    /// text made once the loop's names are.
    fn for_over(&mut self, budget: u32, k: u32, range: impl FnOnce(&mut Self) -> String) -> (Vec<Node>, u32) {
        let i = self.fresh("i");
        let label = self.label();
        let lp = self.label_prefix(&label);
        let range = range(self);
        let body_budget = budget / k.max(1);
        let prelude = vec![Var {
            name: i.clone(),
            ty: Ty::I64,
            mutable: false,
            frozen: true,
        }];
        let (b, ops) = self.in_loop(&label, false, |g| g.block(body_budget, 4, prelude));
        let node = Node::Compound(vec![
            same_text(format!("{lp}for {i} in {range} {{")),
            Part::Block(b),
            same_text("}"),
        ]);
        (vec![node], ops * k.max(1))
    }

    fn exit_if(&mut self, budget: u32) -> (Vec<Node>, u32) {
        let c = self.boole();
        self.scopes.push(Vec::new());
        let mut body = Vec::new();
        if self.rng.chance(50) {
            body.push(self.trace());
        }
        let (exit, ops) = self.exit(budget, false);
        body.push(exit);
        self.scopes.pop();
        (
            vec![Node::Compound(vec![
                same_text(format!("if {c} {{")),
                Part::Block(body),
                same_text("}"),
            ])],
            ops,
        )
    }

    fn chk_stmt(&mut self) -> Node {
        let e = self.int(1, false);
        let targets = self.assignable(Ty::I64);
        if !targets.is_empty() && self.rng.chance(30) {
            let x = targets[self.rng.below(targets.len() as u64) as usize].clone();
            return Node::same(format!("{x} = chk({e})?;"));
        }
        let x = self.binding_name(Ty::I64);
        let line = format!("let {x}: i64 = chk({e})?;");
        self.declare(&x, Ty::I64, false, false);
        Node::same(line)
    }
}

// ----- emission -----

fn emit_nodes(out: &mut String, nodes: &[Node], machine: bool, indent: usize) {
    for n in nodes {
        match n {
            Node::Line { m, d, .. } => {
                let s = if machine { m } else { d };
                if !s.is_empty() {
                    let _ = writeln!(out, "{:indent$}{s}", "", indent = indent * 4);
                }
            }
            Node::Compound(parts) => {
                for p in parts {
                    match p {
                        Part::Text { m, d } => {
                            let s = if machine { m } else { d };
                            let _ = writeln!(out, "{:indent$}{s}", "", indent = indent * 4);
                        }
                        Part::Block(b) => emit_nodes(out, b, machine, indent + 1),
                    }
                }
            }
        }
    }
}

/// One function, as a machine (`machine`) or as its direct twin.
pub fn emit_func(f: &Func, machine: bool) -> String {
    let mut out = String::new();
    // `upper_ident`'s locals.
    let _ = writeln!(out, "#[allow(non_snake_case)]");
    if machine {
        let _ = writeln!(out, "#[io_state_machine(state = st)]");
        let _ = writeln!(
            out,
            "pub fn {}{}(st: &mut {}{}, io: &Sched, t: &mut Vec<String>, {}) -> Result<IOResult<{}>, E> {{",
            f.name,
            f.generics,
            f.state(),
            f.state_args,
            f.params,
            f.ret
        );
    } else {
        let _ = writeln!(
            out,
            "pub fn {}_direct{}(io: &Sched, t: &mut Vec<String>, {}) -> Result<{}, E> {{",
            f.name, f.generics, f.params, f.ret
        );
    }
    emit_nodes(&mut out, &f.body, machine, 1);
    out.push_str("}\n");
    out
}

/// The direct twins of a program and its `check_direct` entry point.
pub fn emit_direct(p: &Program) -> String {
    let mut out = String::new();
    for f in &p.funcs {
        out.push_str(&emit_func(f, false));
    }
    let top = p.top();
    let _ = writeln!(
        out,
        "pub fn run_direct_only(seed: u64) -> Verdict {{\n    check_direct(seed, &|io: &Sched, t: &mut Vec<String>| {}_direct(io, t, {}))\n}}",
        top.name, p.args
    );
    out
}

/// The machines of a program and its `check_machine` entry point.
pub fn emit_machine(p: &Program) -> String {
    let mut out = String::new();
    for f in &p.funcs {
        out.push_str(&emit_func(f, true));
    }
    let top = p.top();
    let st = top.state();
    let _ = writeln!(
        out,
        "pub fn run_machine(seed: u64) -> Verdict {{
    let mut st = {st}::default();
    check_machine(
        seed,
        &|io: &Sched, t: &mut Vec<String>| {name}_direct(io, t, {args}),
        &mut st,
        &|st: &mut {st}, io: &Sched, t: &mut Vec<String>| {name}(st, io, t, {args}),
        &|st: &{st}| st.is_idle(),
    )
}}",
        name = top.name,
        args = p.args
    );
    out
}

/// Jumps written by macros (feature `macro_jumps`): the machine sees only
/// the invocation.
/// `upper_ident`'s glob `use` beside capitalised locals (attack round 15,
/// F2: a glob made every capitalised `let` a constant pattern).
const GLOB_USE: &str = "#[allow(unused_imports)] use std::cmp::Ordering::*;";

/// Macros of a body (feature `macro_jumps`) that jump only through the
/// file's own: no `break` or `continue` in their text.
const WRAPPED_JUMP_MACROS: &str = "#[allow(unused_macros)] macro_rules! wbrk { () => { gbrk!() }; } \
     #[allow(unused_macros)] macro_rules! wcnt { () => { gcnt!() }; }";

const JUMP_MACROS: &str = "#[allow(unused_macros)]\nmacro_rules! gbrk { () => { break }; }\n\
     #[allow(unused_macros)]\nmacro_rules! gcnt { () => { continue }; }\n\
     #[allow(unused_macros)]\nmacro_rules! gcntv { ($e:expr) => { if true { continue } else { $e } }; }\n\
     #[allow(unused_macros)]\nmacro_rules! gerr { ($k:expr) => { return Err(E::User($k)) }; }\n";

/// The whole program as one module's source: imports, direct twins, then
/// (with `machine`) the machines. Returns the text and the line where the
/// machines start, so compile errors can be told apart.
pub fn emit_module(p: &Program, machine: bool) -> (String, usize) {
    let mut out = String::new();
    out.push_str("#[allow(unused_imports)]\nuse crate::support::*;\n");
    out.push_str(
        "#[allow(unused_imports)]\nuse ratchet::{Completion, CompletionError, CompletionGroup, IOResult};\n",
    );
    if machine {
        out.push_str("#[allow(unused_imports)]\nuse ratchet::{call_io, io_state_machine, yield_io};\n");
    }
    // Jumps written by macros (feature `macro_jumps`): the machine sees
    // only the invocation.
    out.push_str(JUMP_MACROS);
    out.push_str(&emit_direct(p));
    let machine_line = out.lines().count() + 1;
    if machine {
        // Again for the machines (a later `macro_rules!` shadows an
        // earlier one): an error in an expansion of one of them is then
        // located in the machines' part, never taken for the direct twin's.
        out.push_str(JUMP_MACROS);
        out.push_str(&emit_machine(p));
    }
    (out, machine_line)
}

/// The program as the driver prints it on a divergence.
pub fn show(p: &Program, machine: bool) -> String {
    let mut out = String::new();
    for f in &p.funcs {
        out.push_str(&emit_func(f, machine));
    }
    let _ = writeln!(out, "// run as: {}(st, io, t, {})", p.top().name, p.args);
    out
}

/// The body of the probe that tells whether `#[io_state_machine]` exists.
pub fn probe_body() -> Vec<Node> {
    vec![
        Node::line("yield_io!(io.op())?;".into(), "io.wait_direct(io.op())?;".into()),
        Node::same("tp(t, format!(\"{a}\"));".into()),
        Node::fixed("Ok(a)".into(), "Ok(a)".into()),
    ]
}

/// Every program one edit smaller than `nodes`: a node removed, or a
/// compound replaced by the nodes of one of its blocks, at any depth. Each
/// comes with the number of nodes it removes.
pub fn edits(nodes: &[Node]) -> Vec<(usize, Vec<Node>)> {
    let mut out = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let removable = match n {
            Node::Line { removable, .. } => *removable,
            Node::Compound(_) => true,
        };
        if removable {
            let mut v = nodes.to_vec();
            v.remove(i);
            out.push((n.size(), v));
        }
        if let Node::Compound(parts) = n {
            for (pi, part) in parts.iter().enumerate() {
                let Part::Block(b) = part else { continue };
                let kept: usize = b.iter().map(Node::size).sum();
                let mut v = nodes[..i].to_vec();
                v.extend(b.iter().cloned());
                v.extend(nodes[i + 1..].iter().cloned());
                out.push((n.size() - kept, v));
                for (w, nb) in edits(b) {
                    let mut parts2 = parts.clone();
                    parts2[pi] = Part::Block(nb);
                    let mut v = nodes.to_vec();
                    v[i] = Node::Compound(parts2);
                    out.push((w, v));
                }
            }
        }
    }
    out
}
