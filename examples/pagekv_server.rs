//! pagekv behind a small TCP server on tokio, with its own load generator.
//!
//! ```text
//! cargo run --release --features tokio --example pagekv_server -- [--quick] [--io uring|blocking]
//!     [--runtime current|multi] [--plain-ring] [--connections N] [--requests N] [--keys N]
//! ```
//!
//! The server speaks a line protocol on localhost: `GET key` answers
//! `VALUE value` or `NONE`; `PUT key value` answers `OK` once the value is
//! durable (group commit: a put waits for a sync that covers its
//! transaction, and one sync covers every put committed before it). Each
//! connection is a tokio task; every request runs its engine machine with
//! `ratchet::tokio::run`, holding the engine's lock only during each call,
//! so many gets wait for their pages at once. Puts are serialized by an
//! async lock held across their run (the engine keeps one writer state).
//!
//! The load generator in the same program opens `--connections`
//! connections, sends `--requests` requests in all (nine gets of random
//! keys to one put), checks every answer, prints requests/s and the p50/p99
//! latency, and stops.
//!
//! `--runtime current` (the default) runs everything on one thread, which
//! owns the io_uring ring (`SINGLE_ISSUER`, `DEFER_TASKRUN`);
//! `--runtime multi` runs a multi-thread runtime, with a ring any thread may
//! enter (see `ratchet::tokio`). `--plain-ring` builds that ring (without
//! `SINGLE_ISSUER` and `DEFER_TASKRUN`) for a current-thread runtime too, to
//! compare the set-ups alone.

// The engine's API is shared with the tests and the pagekv example; this
// program uses part of it.
#[path = "pagekv/engine/mod.rs"]
#[allow(dead_code, unused_imports)]
mod engine;

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine::{Engine, Error, GetState, Options};
use ratchet::tokio::TokioIO;
use ratchet::{BlockingIO, IO};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const USAGE: &str = "usage: pagekv_server [--quick] [--io uring|blocking] [--runtime current|multi] \
                     [--plain-ring] [--connections N] [--requests N] [--keys N]";

struct Args {
    uring: bool,
    multi: bool,
    plain_ring: bool,
    connections: usize,
    requests: u64,
    keys: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        uring: true,
        multi: false,
        plain_ring: false,
        connections: 64,
        requests: 200_000,
        keys: 200_000,
    };
    let mut it = std::env::args().skip(1);
    let number = |it: &mut dyn Iterator<Item = String>, name: &str| -> Result<u64, String> {
        let raw = it.next().ok_or_else(|| format!("{name} needs a value"))?;
        match raw.replace('_', "").parse::<u64>() {
            Ok(n) if (1..=100_000_000).contains(&n) => Ok(n),
            _ => Err(format!(
                "{name} expects a whole number from 1 to 100,000,000, got `{raw}`"
            )),
        }
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--quick" => {
                args.requests = 20_000;
                args.keys = 20_000;
            }
            "--io" => match it.next().as_deref() {
                Some("uring") => args.uring = true,
                Some("blocking") => args.uring = false,
                other => return Err(format!("--io expects uring or blocking, got {other:?}")),
            },
            "--runtime" => match it.next().as_deref() {
                Some("current") => args.multi = false,
                Some("multi") => args.multi = true,
                other => return Err(format!("--runtime expects current or multi, got {other:?}")),
            },
            "--plain-ring" => args.plain_ring = true,
            "--connections" => args.connections = number(&mut it, "--connections")?.min(4096) as usize,
            "--requests" => args.requests = number(&mut it, "--requests")?,
            "--keys" => args.keys = number(&mut it, "--keys")?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn key_of(i: u64) -> String {
    format!("user{i:010}")
}

fn value_of(i: u64) -> String {
    format!("value-{i}-{}", "x".repeat((i % 64) as usize))
}

/// The state every connection shares.
struct Server {
    engine: Mutex<Engine>,
    io: TokioIO,
    /// Held across a put's (or a sync's) whole run: one writer at a time.
    writer: tokio::sync::Mutex<()>,
}

impl Server {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        let mut st = GetState::default();
        ratchet::tokio::run(&self.io, || self.engine.lock().unwrap().get_with(&mut st, key)).await
    }

    /// Stores the value, and returns once it is durable.
    async fn put(&self, key: &[u8], value: &[u8]) -> Result<(), Error> {
        let txn = {
            let _writer = self.writer.lock().await;
            ratchet::tokio::run(&self.io, || self.engine.lock().unwrap().put(key, value)).await?;
            self.engine.lock().unwrap().commit()?
        };
        let _writer = self.writer.lock().await;
        // Another put's sync may have covered this transaction meanwhile.
        if self.engine.lock().unwrap().last_durable() < txn {
            ratchet::tokio::run(&self.io, || self.engine.lock().unwrap().sync()).await?;
        }
        Ok(())
    }

    async fn answer(&self, line: &str) -> String {
        let mut words = line.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some("GET"), Some(k), None) => match self.get(k.as_bytes()).await {
                Ok(Some(v)) => format!("VALUE {}\n", String::from_utf8_lossy(&v)),
                Ok(None) => "NONE\n".to_owned(),
                Err(e) => format!("ERROR {e}\n"),
            },
            (Some("PUT"), Some(k), Some(v)) => match self.put(k.as_bytes(), v.as_bytes()).await {
                Ok(()) => "OK\n".to_owned(),
                Err(e) => format!("ERROR {e}\n"),
            },
            _ => "ERROR expected `GET key` or `PUT key value`\n".to_owned(),
        }
    }

    async fn serve(self: Arc<Self>, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        while let Some(line) = lines.next_line().await? {
            let reply = self.answer(&line).await;
            write.write_all(reply.as_bytes()).await?;
        }
        Ok(())
    }
}

/// One connection of the load generator: `n` requests, each answer checked;
/// the latency of each.
async fn client(addr: std::net::SocketAddr, id: u64, n: u64, keys: u64) -> Result<Vec<Duration>, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut latencies = Vec::with_capacity(n as usize);
    let mut x = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let i = x % keys;
        let put = x.is_multiple_of(10);
        let (request, want) = if put {
            (format!("PUT {} {}\n", key_of(i), value_of(i)), "OK".to_owned())
        } else {
            (format!("GET {}\n", key_of(i)), format!("VALUE {}", value_of(i)))
        };
        let start = Instant::now();
        write
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let got = lines
            .next_line()
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the server closed the connection")?;
        latencies.push(start.elapsed());
        if got != want {
            return Err(format!(
                "{} answered `{got}`, expected `{want}`",
                request.trim_end()
            ));
        }
    }
    Ok(latencies)
}

async fn run(args: &Args, io: Arc<dyn IO>, dir: &Path, ring: &str) -> Result<(), String> {
    // Loaded on the runtime's thread: with a SINGLE_ISSUER ring, the thread
    // that steps it first is the only one that may.
    let options = Options {
        cache_pages: (args.keys / 400).max(64) as usize,
        direct: true,
        ..Options::default()
    };
    let (mut engine, _) = Engine::open_blocking(&io, dir, true, options).map_err(|e| e.to_string())?;
    let load = Instant::now();
    for i in 0..args.keys {
        let (k, v) = (key_of(i), value_of(i));
        io.block(|| engine.put(k.as_bytes(), v.as_bytes()))
            .map_err(|e| e.to_string())?;
        if i % 5000 == 4999 {
            engine.commit().map_err(|e| e.to_string())?;
        }
    }
    engine.commit().map_err(|e| e.to_string())?;
    io.block(|| engine.checkpoint()).map_err(|e| e.to_string())?;
    println!(
        "pagekv_server: {} keys loaded in {:.1} s; data file {} pages, page cache {} pages, pages read with O_DIRECT",
        args.keys,
        load.elapsed().as_secs_f64(),
        engine.pager.meta.page_count,
        options.cache_pages
    );
    let server = Arc::new(Server {
        engine: Mutex::new(engine),
        io: TokioIO::new(io).map_err(|e| e.to_string())?,
        writer: tokio::sync::Mutex::new(()),
    });
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let accepting = {
        let server = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(server.clone().serve(stream));
            }
        })
    };
    let start = Instant::now();
    let per = args.requests.div_ceil(args.connections as u64);
    let clients: Vec<_> = (0..args.connections as u64)
        .map(|c| tokio::spawn(client(addr, c, per, args.keys)))
        .collect();
    let mut latencies = Vec::new();
    for c in clients {
        latencies.extend(c.await.map_err(|e| e.to_string())??);
    }
    let elapsed = start.elapsed();
    accepting.abort();
    latencies.sort_unstable();
    let q = |f: f64| latencies[((latencies.len() - 1) as f64 * f) as usize].as_secs_f64() * 1e6;
    let stats = server.engine.lock().unwrap().stats();
    println!(
        "pagekv_server: {ring}, {} runtime: {} connections, {} requests (9 GET : 1 PUT) in {:.2} s: \
         {:.0} requests/s, p50 {:.0} µs, p99 {:.0} µs; {} page reads ({} shared), {} group commits, every answer checked",
        if args.multi {
            "multi-thread"
        } else {
            "current-thread"
        },
        args.connections,
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        q(0.5),
        q(0.99),
        stats.page_reads,
        stats.shared_reads,
        stats.group_commits
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("pagekv_server: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let dir = match tempfile::Builder::new()
        .prefix("pagekv-server-")
        .tempdir_in(std::env::temp_dir())
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("pagekv_server: cannot create a temporary directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (io, ring): (Arc<dyn IO>, String) = if args.uring {
        #[cfg(target_os = "linux")]
        {
            // A multi-thread runtime moves tasks between threads: its ring
            // must accept any of them.
            let options = if args.multi || args.plain_ring {
                ratchet::UringIO::builder()
                    .single_issuer(false)
                    .defer_taskrun(false)
            } else {
                ratchet::UringIO::builder()
            };
            match options.build() {
                Ok(io) => {
                    let ring = io.describe();
                    (Arc::new(io), ring)
                }
                Err(e) => {
                    println!("pagekv_server: io_uring is unavailable ({e}); using blocking I/O");
                    (Arc::new(BlockingIO::new()), "blocking I/O".to_owned())
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        (Arc::new(BlockingIO::new()), "blocking I/O".to_owned())
    } else {
        (Arc::new(BlockingIO::new()), "blocking I/O".to_owned())
    };
    let rt = if args.multi {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    };
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pagekv_server: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(&args, io, dir.path(), &ring)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pagekv_server: error: {e}");
            ExitCode::FAILURE
        }
    }
}
