//! Copies a file page by page with a hand-written I/O state machine, then
//! checks the copy byte for byte.
//!
//! ```text
//! cargo run --example copy_file -- [--io blocking|uring|memory] [--pages N]
//! ```
//!
//! This is the shape of code `#[io_state_machine]` writes for you: a state
//! enum, a `loop { match state }` that a caller re-enters after each I/O, and
//! `return_if_io!` / `io_yield_one!` to hand a pending completion back up.
//! Every piece of progress must be recorded in the state before returning,
//! or it would be repeated (or lost) on the next call.

use std::process::ExitCode;
use std::sync::Arc;

use ratchet::backend::{BACKEND_ENV, io_for, parse_backend};
use ratchet::{
    Buffer, Completion, CompletionError, File, IO, IOResult, OpenOptions, default_io, io_yield_one,
    return_if_io,
};

/// The unit of copying. 4 KiB matches the page size of most storage engines.
const PAGE_SIZE: usize = 4096;

/// Largest `--pages` accepted: 1 GiB, so a typo cannot fill the disk.
const MAX_PAGES: u64 = 1 << 18;

/// Where `copy_page` stands. Each variant holds exactly what the next step
/// needs: the buffer and the completion of the I/O it waits for.
#[derive(Debug, Default)]
enum CopyPageState {
    #[default]
    Start,
    Reading {
        buf: Arc<Buffer>,
        read: Completion,
    },
    Writing {
        write: Completion,
    },
}

/// Copies page `page` of `src` to `dst`. Re-entrant: call it again with the
/// same arguments after the completion it returned has finished.
fn copy_page(
    state: &mut CopyPageState,
    src: &dyn File,
    dst: &dyn File,
    page: u64,
) -> Result<IOResult<()>, CompletionError> {
    let pos = page * PAGE_SIZE as u64;
    loop {
        match std::mem::take(state) {
            CopyPageState::Start => {
                let buf = Arc::new(Buffer::new(PAGE_SIZE));
                let read = src.pread(pos, Completion::read(buf.clone()))?;
                *state = CopyPageState::Reading {
                    buf,
                    read: read.clone(),
                };
                if !read.finished() {
                    io_yield_one!(read);
                }
            }
            CopyPageState::Reading { buf, read } => {
                if !read.finished() {
                    *state = CopyPageState::Reading {
                        buf,
                        read: read.clone(),
                    };
                    io_yield_one!(read);
                }
                let n = read.result().unwrap_or(Err(CompletionError::Stalled))?;
                if n as usize != PAGE_SIZE {
                    return Err(CompletionError::ShortRead {
                        expected: PAGE_SIZE,
                        actual: n as usize,
                    });
                }
                // The write takes the very buffer the read filled: no copy.
                let write = dst.pwrite(pos, buf, Completion::write())?;
                *state = CopyPageState::Writing { write: write.clone() };
                if !write.finished() {
                    io_yield_one!(write);
                }
            }
            CopyPageState::Writing { write } => {
                if !write.finished() {
                    *state = CopyPageState::Writing { write: write.clone() };
                    io_yield_one!(write);
                }
                write.result().unwrap_or(Err(CompletionError::Stalled))?;
                return Ok(IOResult::Done(()));
            }
        }
    }
}

/// Where `copy_file` stands.
#[derive(Debug, Default)]
enum CopyFileState {
    #[default]
    Start,
    /// Copying page `page`, with the page machine's own state.
    Copying {
        page: u64,
        inner: CopyPageState,
    },
    /// Between pages, after handing control back to the caller once.
    Yielded {
        next: u64,
    },
    Syncing {
        sync: Completion,
    },
}

/// Copies `pages` pages from `src` to `dst`, yields to its caller every 64
/// pages (a long copy must not monopolise a cooperative scheduler), and
/// makes the copy durable with `fdatasync`. Returns the number of bytes copied.
fn copy_file(
    state: &mut CopyFileState,
    src: &dyn File,
    dst: &dyn File,
    pages: u64,
) -> Result<IOResult<u64>, CompletionError> {
    loop {
        match std::mem::take(state) {
            CopyFileState::Start => *state = CopyFileState::Yielded { next: 0 },
            CopyFileState::Yielded { next } if next == pages => {
                let sync = dst.sync(Completion::sync_data())?;
                *state = CopyFileState::Syncing { sync };
            }
            CopyFileState::Yielded { next } => {
                *state = CopyFileState::Copying {
                    page: next,
                    inner: CopyPageState::Start,
                };
            }
            CopyFileState::Copying { page, mut inner } => {
                // Put the state back first: if the page machine suspends,
                // `return_if_io!` returns, and the next call must find it.
                let result = copy_page(&mut inner, src, dst, page);
                *state = CopyFileState::Copying { page, inner };
                return_if_io!(result);
                let next = page + 1;
                *state = CopyFileState::Yielded { next };
                if next % 64 == 0 && next < pages {
                    io_yield_one!(Completion::yield_now());
                }
            }
            CopyFileState::Syncing { sync } => {
                if !sync.finished() {
                    *state = CopyFileState::Syncing { sync: sync.clone() };
                    io_yield_one!(sync);
                }
                sync.result().unwrap_or(Err(CompletionError::Stalled))?;
                return Ok(IOResult::Done(pages * PAGE_SIZE as u64));
            }
        }
    }
}

/// Command-line options.
struct Args {
    io: Option<String>,
    pages: u64,
}

const USAGE: &str = "usage: copy_file [--io blocking|uring|memory] [--pages N]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args { io: None, pages: 256 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--io" => args.io = Some(value("--io")?),
            "--pages" => {
                let raw = value("--pages")?;
                args.pages = raw
                    .parse()
                    .map_err(|_| format!("--pages expects a whole number, got `{raw}`"))?;
                if args.pages > MAX_PAGES {
                    return Err(format!(
                        "--pages is at most {MAX_PAGES} (1 GiB), got {}",
                        args.pages
                    ));
                }
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    // `--io` wins; otherwise `default_io()` honours RATCHET_IO and falls back
    // from io_uring to blocking I/O with a note.
    let io = match &args.io {
        Some(name) => io_for(Some(parse_backend(name)?))?,
        None => default_io()?,
    };
    let backend = match &args.io {
        Some(name) => name.clone(),
        None => std::env::var(BACKEND_ENV)
            .map_or_else(|_| "default".to_string(), |v| format!("{v} (from {BACKEND_ENV})")),
    };
    let dir = tempfile::Builder::new().prefix("ratchet-copy-file-").tempdir()?;
    let (src_path, dst_path) = (dir.path().join("source.db"), dir.path().join("copy.db"));

    // The source: `pages` pages of position-dependent bytes, so a page
    // written to the wrong place would not compare equal.
    let src = io.open_file(&src_path, OpenOptions::new())?;
    let len = usize::try_from(args.pages)? * PAGE_SIZE;
    let data: Vec<u8> = (0..len)
        .map(|i| (i % 251) as u8 ^ (i / PAGE_SIZE) as u8)
        .collect();
    io.wait(&src.pwrite(0, Arc::new(Buffer::from_vec(data.clone())), Completion::write())?)?;

    let dst = io.open_file(&dst_path, OpenOptions::new())?;
    let mut state = CopyFileState::default();
    let mut calls = 0u64;
    let copied = io.block(|| {
        calls += 1;
        copy_file(&mut state, &*src, &*dst, args.pages)
    })?;

    // Verify through a fresh read-only handle, byte for byte.
    let check = io.open_file(&dst_path, OpenOptions::read_only())?;
    let got = Arc::new(Buffer::new(len));
    let n = io.wait(&check.pread(0, Completion::read(got.clone()))?)?;
    if n as usize != len || check.size()? != len as u64 {
        return Err(format!("the copy has {} bytes, the source {len}", check.size()?).into());
    }
    if let Some(at) = got.as_slice().iter().zip(&data).position(|(a, b)| a != b) {
        return Err(format!("the copy differs from the source at byte {at}").into());
    }
    println!(
        "copied {} pages ({copied} bytes) with the {backend} I/O backend in {calls} calls of the machine",
        args.pages
    );
    println!(
        "  from {}\n  to   {} (a temporary directory, removed on exit)",
        src_path.display(),
        dst_path.display()
    );
    println!("verified: the copy is identical, byte for byte");
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("copy_file: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("copy_file: {e}");
            ExitCode::FAILURE
        }
    }
}
