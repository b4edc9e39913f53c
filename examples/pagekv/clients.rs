//! Many clients at once: random gets, each a request with its own machine
//! state, `clients` of them in flight on one engine through a
//! [`ratchet::Driver`], on one thread.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ratchet::{Driver, IO, IOResult, Machine};

use crate::engine::{Engine, Error, GetState, Stats};
use crate::{Progress, deleted, key_of, value_of};

/// One client's request: the item it asks for, its own machine state, and
/// when it was started.
struct Get {
    item: u64,
    key: Vec<u8>,
    st: GetState,
    started: Instant,
    /// Where the bench's probe keeps its times, when it runs.
    timing: Option<Arc<Timing>>,
    /// When the completion it waits for finished, once it has.
    finished_at: Arc<Mutex<Option<Instant>>>,
}

impl Machine<Engine> for Get {
    type Output = Option<Vec<u8>>;
    type Error = Error;

    fn resume(&mut self, engine: &mut Engine) -> Result<IOResult<Option<Vec<u8>>>, Error> {
        let Some(timing) = &self.timing else {
            return engine.get_with(&mut self.st, &self.key);
        };
        let now = Instant::now();
        if let Some(at) = lock(&self.finished_at).take() {
            let mut t = lock(&timing.state);
            t.to_resume += now - at;
            t.resumed += 1;
        }
        let r = engine.get_with(&mut self.st, &self.key);
        if let Ok(IOResult::IO(io)) = &r {
            // Nearly always one device read just queued (a miss that joins
            // a read in flight is rare): it reaches the kernel at the next
            // step, which the probe times.
            lock(&timing.state).queued.push(Instant::now());
            let at = self.finished_at.clone();
            drop(io.completion().clone().with_callback(move |_| {
                *lock(&at) = Some(Instant::now());
            }));
        }
        r
    }
}

/// What a run of gets measured.
pub struct Gets {
    pub gets: u64,
    pub time: Duration,
    /// Latency of each get, sorted.
    pub latencies: Vec<Duration>,
    /// The engine's counters over the run.
    pub stats: Stats,
    /// On-CPU time of this thread over the run (user and kernel), and the
    /// time it was runnable but waited for a CPU (other programs had
    /// them), where the system says.
    pub cpu: Option<(Duration, Duration)>,
}

impl Gets {
    pub fn rate(&self) -> f64 {
        self.gets as f64 / self.time.as_secs_f64().max(1e-9)
    }

    /// The share of the run this thread was on a CPU, and the share it was
    /// ready to run but waited for one.
    pub fn cpu_share(&self) -> Option<(f64, f64)> {
        let (on, waiting) = self.cpu?;
        let wall = self.time.as_secs_f64().max(1e-9);
        Some((on.as_secs_f64() / wall, waiting.as_secs_f64() / wall))
    }

    /// The latency below which a fraction `q` of the gets finished.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let at = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[at]
    }

    /// `p50 ... µs, p99 ... µs`.
    pub fn latency_note(&self) -> String {
        format!(
            "p50 {:.0} µs, p99 {:.0} µs",
            self.quantile(0.5).as_secs_f64() * 1e6,
            self.quantile(0.99).as_secs_f64() * 1e6
        )
    }
}

/// How long a run of gets lasts.
#[derive(Clone, Copy)]
pub enum Until {
    /// This many gets.
    Count(u64),
    /// Gets started until this much time has passed.
    Time(Duration),
}

/// What a run of gets asks for.
#[derive(Clone, Copy)]
pub struct Workload {
    /// Gets in flight at once.
    pub clients: usize,
    /// Items are drawn below this.
    pub keys: u64,
    /// Whether the items [`deleted`] says are deleted must be absent.
    pub after_delete: bool,
    pub until: Until,
    /// Seeds the random items.
    pub seed: u64,
}

/// Random gets as `w` says, each checked against the value it must have.
/// Shows progress when `progress` is given.
pub fn run(
    io: &dyn IO,
    engine: &mut Engine,
    w: &Workload,
    timing: Option<&Arc<Timing>>,
    mut progress: Option<&mut Progress>,
) -> Result<Gets, String> {
    let Workload {
        clients,
        keys,
        after_delete,
        until,
        seed,
    } = *w;
    let before = engine.stats();
    let cpu_before = thread_cpu();
    let mut driver: Driver<Engine, Get> = Driver::new(clients);
    let mut rng = seed;
    let start = Instant::now();
    let mut started = 0u64;
    let mut latencies = Vec::new();
    let mut failure: Option<String> = None;
    let requests = std::iter::from_fn(|| {
        let more = match until {
            Until::Count(n) => started < n,
            // The clock is read only every 64 requests.
            Until::Time(d) => !started.is_multiple_of(64) || start.elapsed() < d,
        };
        if !more {
            return None;
        }
        started += 1;
        rng = crate::mix(rng);
        let item = rng % keys;
        Some(Get {
            item,
            key: key_of(item),
            st: GetState::default(),
            started: Instant::now(),
            timing: timing.cloned(),
            finished_at: Arc::default(),
        })
    });
    driver
        .run(io, engine, requests, |get, result| {
            latencies.push(get.started.elapsed());
            let want = (!(after_delete && deleted(get.item))).then(|| value_of(get.item));
            match result {
                Ok(got) if got == want => {}
                Ok(got) => {
                    failure.get_or_insert_with(|| {
                        format!(
                            "key {} has {}, expected {}",
                            String::from_utf8_lossy(&get.key),
                            crate::describe_value(got.as_deref()),
                            crate::describe_value(want.as_deref())
                        )
                    });
                }
                Err(e) => {
                    failure.get_or_insert_with(|| e.to_string());
                }
            }
            if let Some(p) = progress.as_deref_mut() {
                p.tick(latencies.len() as u64);
            }
        })
        .map_err(|e| format!("driving {clients} clients: {e}"))?;
    let time = start.elapsed();
    let cpu = thread_cpu()
        .zip(cpu_before)
        .map(|(after, before)| (after.0.saturating_sub(before.0), after.1.saturating_sub(before.1)));
    if let Some(f) = failure {
        return Err(f);
    }
    latencies.sort_unstable();
    Ok(Gets {
        gets: latencies.len() as u64,
        time,
        latencies,
        stats: crate::delta(before, engine.stats()),
        cpu,
    })
}

/// The calling thread's time on a CPU so far, and its time runnable but
/// waiting for one (Linux: the first two fields of
/// `/proc/thread-self/schedstat`, in nanoseconds).
fn thread_cpu() -> Option<(Duration, Duration)> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut fields = s.split_whitespace().map(|f| f.parse::<u64>().ok());
    let on = fields.next()??;
    let waiting = fields.next()??;
    Some((Duration::from_nanos(on), Duration::from_nanos(waiting)))
}

/// What [`Probe`] saw of the backend over a run.
#[derive(Clone, Copy, Default)]
pub struct Depth {
    /// Sleeping steps (`IO::step`): the driver had nothing to run.
    pub steps: u64,
    /// Operations at the ring (pushed and not yet reaped) when a sleeping
    /// step began, summed over the steps: what the wait ran with.
    pub depth_at_sleep: u64,
    /// Completions the sleeping steps finished.
    pub finished: u64,
}

impl Depth {
    /// Mean operations in flight at the ring when the driver went to sleep.
    pub fn at_sleep(&self) -> f64 {
        self.depth_at_sleep as f64 / self.steps.max(1) as f64
    }

    /// Mean completions a sleeping step finished.
    pub fn batch(&self) -> f64 {
        self.finished as f64 / self.steps.max(1) as f64
    }
}

/// How long, on average, requests waited on the driver rather than on the
/// device.
#[derive(Clone, Copy, Default)]
pub struct Waits {
    /// From a completion's finish (its callback, inside a step) to the
    /// resume of the request waiting on it.
    pub to_resume: Duration,
    /// From a read's start (its machine returned `IO`) to the step that
    /// handed it to the kernel.
    pub to_submit: Duration,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How long requests wait on the driver, for [`Probe`]: shared by it and
/// the requests.
#[derive(Default)]
pub struct Timing {
    state: Mutex<TimingState>,
}

#[derive(Default)]
struct TimingState {
    /// When each read queued since the last step was queued.
    queued: Vec<Instant>,
    /// Reads handed to the kernel, and their summed wait in the queue.
    submitted: u64,
    to_submit: Duration,
    /// Requests resumed after their completion finished, and their summed
    /// wait from the finish to the resume.
    resumed: u64,
    to_resume: Duration,
}

impl Timing {
    /// The mean waits so far.
    pub fn waits(&self) -> Waits {
        let t = lock(&self.state);
        let mean = |sum: Duration, n: u64| sum / u32::try_from(n.max(1)).unwrap_or(u32::MAX);
        Waits {
            to_resume: mean(t.to_resume, t.resumed),
            to_submit: mean(t.to_submit, t.submitted),
        }
    }

    /// Called as a step enters the kernel.
    fn entering(&self) {
        let now = Instant::now();
        let mut t = lock(&self.state);
        let TimingState {
            queued,
            submitted,
            to_submit,
            ..
        } = &mut *t;
        for at in queued.drain(..) {
            *to_submit += now - at;
            *submitted += 1;
        }
    }
}

/// A backend wrapper that counts, at each sleeping step, the operations in
/// flight at the ring (`in_flight`, for io_uring its
/// [`ratchet::uring::UringStats`]'s `in_kernel`) and the completions it
/// finishes, and tells [`Timing`] when reads enter the kernel.
pub struct Probe<'a> {
    io: &'a dyn IO,
    in_flight: &'a (dyn Fn() -> usize + Sync),
    pub timing: Arc<Timing>,
    depth: Mutex<Depth>,
}

impl<'a> Probe<'a> {
    pub fn new(io: &'a dyn IO, in_flight: &'a (dyn Fn() -> usize + Sync)) -> Probe<'a> {
        Probe {
            io,
            in_flight,
            timing: Arc::default(),
            depth: Mutex::default(),
        }
    }

    /// The figures so far.
    pub fn depth(&self) -> Depth {
        *lock(&self.depth)
    }
}

impl IO for Probe<'_> {
    fn open_file(
        &self,
        path: &std::path::Path,
        options: ratchet::OpenOptions,
    ) -> std::io::Result<std::sync::Arc<dyn ratchet::File>> {
        self.io.open_file(path, options)
    }

    fn remove_file(&self, path: &std::path::Path) -> std::io::Result<()> {
        self.io.remove_file(path)
    }

    fn step(&self) -> Result<usize, ratchet::CompletionError> {
        let before = (self.in_flight)();
        self.timing.entering();
        let r = self.io.step();
        let mut d = lock(&self.depth);
        d.steps += 1;
        d.depth_at_sleep += before as u64;
        d.finished += *r.as_ref().unwrap_or(&0) as u64;
        r
    }

    fn try_step(&self) -> Result<usize, ratchet::CompletionError> {
        self.timing.entering();
        self.io.try_step()
    }
}
