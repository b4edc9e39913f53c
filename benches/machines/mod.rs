//! Four machines of different shapes, each written four ways, over one
//! in-memory [`device::Device`]: with `#[io_state_machine]`
//! ([`generated`]), by hand in the Turso style ([`hand`]), as `async fn`s
//! ([`asynk`]) and with diapause 0.2 ([`dia`]).
//!
//! Shared by `benches/machines.rs`, which times them, and
//! `tests/machines_bench_agree.rs`, which checks that every way computes the
//! same answer and leaves the device in the same state.

pub mod asynk;
pub mod device;
pub mod dia;
pub mod generated;
pub mod hand;

use std::hint::black_box;
use std::mem::size_of;

use ratchet::{CompletionError, IOResult};

use device::{
    BATCH_FIRST, BATCHES, CHAIN_KEY, CHAIN_START, Device, FREE_COUNT, FREE_FIRST, LINEAR_PAGES, PER_BATCH,
};

/// What a machine computes, comparable across the ways of writing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A sum or count.
    Sum(u64),
    /// A value found, or not.
    Found(Option<u32>),
}

/// The result of one full run.
pub type RunResult = Result<Answer, CompletionError>;

/// One way of writing a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// `#[io_state_machine]`.
    Generated,
    /// A hand-written state enum and `loop { match }`.
    Hand,
    /// An `async fn` polled with a no-op waker.
    Async,
    /// A diapause 0.2 coroutine.
    Diapause,
}

impl Way {
    /// Every way, in table order.
    pub const ALL: [Way; 4] = [Way::Generated, Way::Hand, Way::Async, Way::Diapause];

    /// The column name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Way::Generated => "generated",
            Way::Hand => "hand",
            Way::Async => "async",
            Way::Diapause => "diapause",
        }
    }
}

/// A machine written one way.
#[derive(Debug, Clone, Copy)]
pub struct Impl {
    /// How it is written.
    pub way: Way,
    /// Runs it once from the start to `Done` (or an error) on `dev`.
    pub run: fn(&Device) -> RunResult,
    /// Bytes of what it keeps between calls: the state, the future, or the
    /// diapause coroutine (which also holds the arguments).
    pub state_bytes: usize,
}

/// A machine and its ways.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Its name in the table and its `// machine:` marker in the sources.
    pub name: &'static str,
    /// The ways it is written; a way that cannot express it is absent.
    pub impls: Vec<Impl>,
}

impl Machine {
    /// The machine written `way`, if it can be.
    #[must_use]
    pub fn get(&self, way: Way) -> Option<&Impl> {
        self.impls.iter().find(|i| i.way == way)
    }
}

/// Calls a machine again after each `IO`, finishing the device's pending
/// completions in between, until it is done.
pub fn drive<T>(
    dev: &Device,
    mut call: impl FnMut() -> Result<IOResult<T>, CompletionError>,
) -> Result<T, CompletionError> {
    loop {
        match call()? {
            IOResult::Done(v) => return Ok(v),
            IOResult::IO(_) => {
                dev.complete_all();
            }
        }
    }
}

/// The four machines, each with every way that can express it.
#[must_use]
pub fn machines() -> Vec<Machine> {
    let dev = Device::new();
    let linear = vec![
        Impl {
            way: Way::Generated,
            run: |dev| {
                let mut st = generated::LinearState::default();
                drive(dev, || generated::linear(&mut st, dev, black_box(LINEAR_PAGES))).map(Answer::Sum)
            },
            state_bytes: size_of::<generated::LinearState>(),
        },
        Impl {
            way: Way::Hand,
            run: |dev| {
                let mut st = hand::LinearState::default();
                drive(dev, || hand::linear(&mut st, dev, black_box(LINEAR_PAGES))).map(Answer::Sum)
            },
            state_bytes: size_of::<hand::LinearState>(),
        },
        Impl {
            way: Way::Async,
            run: |dev| asynk::block_on(dev, asynk::linear(dev, black_box(LINEAR_PAGES))).map(Answer::Sum),
            state_bytes: asynk::future_size(&asynk::linear(&dev, LINEAR_PAGES)),
        },
        Impl {
            way: Way::Diapause,
            run: |dev| dia::run(dev, dia::linear(dev, black_box(LINEAR_PAGES))).map(Answer::Sum),
            state_bytes: size_of::<dia::linear::State<'_>>(),
        },
    ];
    let chain = vec![
        Impl {
            way: Way::Generated,
            run: |dev| {
                let mut st = generated::ChainState::default();
                drive(dev, || {
                    generated::chain(&mut st, dev, black_box(CHAIN_START), black_box(CHAIN_KEY))
                })
                .map(Answer::Found)
            },
            state_bytes: size_of::<generated::ChainState>(),
        },
        Impl {
            way: Way::Hand,
            run: |dev| {
                let mut st = hand::ChainState::default();
                drive(dev, || {
                    hand::chain(&mut st, dev, black_box(CHAIN_START), black_box(CHAIN_KEY))
                })
                .map(Answer::Found)
            },
            state_bytes: size_of::<hand::ChainState>(),
        },
        Impl {
            way: Way::Async,
            run: |dev| {
                asynk::block_on(
                    dev,
                    asynk::chain(dev, black_box(CHAIN_START), black_box(CHAIN_KEY)),
                )
                .map(Answer::Found)
            },
            state_bytes: asynk::future_size(&asynk::chain(&dev, CHAIN_START, CHAIN_KEY)),
        },
        Impl {
            way: Way::Diapause,
            run: |dev| {
                dia::run(dev, dia::chain(dev, black_box(CHAIN_START), black_box(CHAIN_KEY)))
                    .map(Answer::Found)
            },
            state_bytes: size_of::<dia::chain::State<'_>>(),
        },
    ];
    let free = vec![
        Impl {
            way: Way::Generated,
            run: |dev| {
                let mut st = generated::FreePagesState::default();
                drive(dev, || {
                    generated::free_pages(&mut st, dev, black_box(FREE_FIRST), black_box(FREE_COUNT))
                })
                .map(Answer::Sum)
            },
            state_bytes: size_of::<generated::FreePagesState>(),
        },
        Impl {
            way: Way::Hand,
            run: |dev| {
                let mut st = hand::FreePagesState::default();
                drive(dev, || {
                    hand::free_pages(&mut st, dev, black_box(FREE_FIRST), black_box(FREE_COUNT))
                })
                .map(Answer::Sum)
            },
            state_bytes: size_of::<hand::FreePagesState>(),
        },
        Impl {
            way: Way::Async,
            run: |dev| {
                asynk::block_on(
                    dev,
                    asynk::free_pages(dev, black_box(FREE_FIRST), black_box(FREE_COUNT)),
                )
                .map(Answer::Sum)
            },
            state_bytes: asynk::future_size(&asynk::free_pages(&dev, FREE_FIRST, FREE_COUNT)),
        },
        Impl {
            way: Way::Diapause,
            run: |dev| {
                dia::run(
                    dev,
                    dia::free_pages(dev, black_box(FREE_FIRST), black_box(FREE_COUNT)),
                )
                .map(Answer::Sum)
            },
            state_bytes: size_of::<dia::free_pages::State<'_>>(),
        },
    ];
    let batch = vec![
        Impl {
            way: Way::Generated,
            run: |dev| {
                let mut st = generated::BatchState::default();
                drive(dev, || {
                    generated::batch(
                        &mut st,
                        dev,
                        black_box(BATCH_FIRST),
                        black_box(BATCHES),
                        black_box(PER_BATCH),
                    )
                })
                .map(Answer::Sum)
            },
            state_bytes: size_of::<generated::BatchState>(),
        },
        Impl {
            way: Way::Hand,
            run: |dev| {
                let mut st = hand::BatchState::default();
                drive(dev, || {
                    hand::batch(
                        &mut st,
                        dev,
                        black_box(BATCH_FIRST),
                        black_box(BATCHES),
                        black_box(PER_BATCH),
                    )
                })
                .map(Answer::Sum)
            },
            state_bytes: size_of::<hand::BatchState>(),
        },
        Impl {
            way: Way::Async,
            run: |dev| {
                asynk::block_on(
                    dev,
                    asynk::batch(
                        dev,
                        black_box(BATCH_FIRST),
                        black_box(BATCHES),
                        black_box(PER_BATCH),
                    ),
                )
                .map(Answer::Sum)
            },
            state_bytes: asynk::future_size(&asynk::batch(&dev, BATCH_FIRST, BATCHES, PER_BATCH)),
        },
        Impl {
            way: Way::Diapause,
            run: |dev| {
                dia::run(
                    dev,
                    dia::batch(
                        dev,
                        black_box(BATCH_FIRST),
                        black_box(BATCHES),
                        black_box(PER_BATCH),
                    ),
                )
                .map(Answer::Sum)
            },
            state_bytes: size_of::<dia::batch::State<'_>>(),
        },
    ];
    vec![
        Machine {
            name: "linear",
            impls: linear,
        },
        Machine {
            name: "chain",
            impls: chain,
        },
        Machine {
            name: "free",
            impls: free,
        },
        Machine {
            name: "batch",
            impls: batch,
        },
    ]
}
