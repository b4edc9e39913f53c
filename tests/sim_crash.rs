//! `SimIO::run_until_crash`: a machine crashed in the middle, at every point.
#![allow(missing_docs)]

use std::sync::Arc;

use ratchet::sim::{CrashPoint, CrashRun, SimConfig};
use ratchet::{
    Buffer, Completion, CompletionError, File, IO, IOResult, OpenOptions, SimIO, io_state_machine, yield_io,
};

/// Appends `n` records of 512 bytes (record `i` filled with `i + 1`), syncing
/// after each; returns how many were synced.
#[io_state_machine(state = st)]
fn append(st: &mut AppendState, file: &dyn File, n: u64) -> Result<IOResult<u64>, CompletionError> {
    let mut synced: u64 = 0;
    while synced < n {
        let rec = Arc::new(Buffer::from_vec(vec![synced as u8 + 1; 512]));
        yield_io!(file.pwrite(synced * 512, rec, Completion::write())?)?;
        yield_io!(file.sync(Completion::sync())?)?;
        synced += 1;
    }
    Ok(synced)
}

/// Writes one record and returns without syncing.
#[io_state_machine(state = st)]
fn write_unsynced(st: &mut WriteUnsyncedState, file: &dyn File) -> Result<IOResult<()>, CompletionError> {
    yield_io!(file.pwrite(0, Arc::new(Buffer::from_vec(vec![9; 512])), Completion::write())?)?;
    Ok(())
}

/// A simulation whose crashes keep no unsynced sector (no tearing), with
/// spurious re-entries, so each crash point has one outcome to assert.
fn sim(seed: u64) -> (SimIO, Arc<dyn File>) {
    let config = SimConfig::with_seed(seed)
        .crash_tearing(false)
        .spurious_wakeup_probability(0.3);
    let sim = SimIO::new(config);
    let file = sim.open_file("/log".as_ref(), OpenOptions::new()).unwrap();
    (sim, file)
}

/// The mistake this helper exists to prevent: a run that finished before the
/// crash point must still be crashed, so recovery never reads data that was
/// only ever volatile.
#[test]
fn a_machine_that_finishes_before_the_crash_point_is_still_crashed() {
    let (sim, file) = sim(1);
    let mut st = WriteUnsyncedState::default();
    let run = sim.run_until_crash(CrashPoint::before_step(1_000), || write_unsynced(&mut st, &*file));
    assert!(
        matches!(run, CrashRun::Returned { result: Ok(()), .. }),
        "{run:?}"
    );
    assert!(st.is_idle());
    assert_eq!(
        sim.volatile_contents("/log".as_ref()),
        Some(Vec::new()),
        "unsynced data survived the crash"
    );
}

#[test]
fn a_crash_in_the_middle_leaves_the_machine_suspended_and_reset_makes_it_idle() {
    let (sim, file) = sim(2);
    let mut st = AppendState::default();
    // Steps: write 0, sync 0, write 1, ..: before step 3, record 0 is synced
    // and record 1 written but not synced.
    let run = sim.run_until_crash(CrashPoint::before_step(3), || append(&mut st, &*file, 4));
    assert!(matches!(run, CrashRun::Suspended { steps: 3, .. }), "{run:?}");
    assert!(run.interrupted());
    assert!(!st.is_idle(), "the crash left the machine suspended: {st:?}");
    let durable = sim.durable_contents("/log".as_ref()).unwrap();
    assert_eq!(durable, vec![1; 512], "exactly the synced record is durable");
    st.reset();
    assert!(st.is_idle());
    // Recovery: reopen, and the machine runs afresh on the new handle.
    let file = sim.open_file("/log".as_ref(), OpenOptions::existing()).unwrap();
    assert_eq!(sim.block(|| append(&mut st, &*file, 2)), Ok(2));
}

#[test]
fn calling_an_interrupted_machine_again_ends_it_with_aborted() {
    let (sim, file) = sim(3);
    let mut st = AppendState::default();
    let run = sim.run_until_crash(CrashPoint::before_step(0), || append(&mut st, &*file, 2));
    assert!(
        matches!(run, CrashRun::Suspended { steps: 0, calls: 1 }),
        "{run:?}"
    );
    assert!(matches!(
        append(&mut st, &*file, 2),
        Err(CompletionError::Aborted)
    ));
    assert!(st.is_idle());
}

/// The crash test of a guide: every crash point of a run, each checked for
/// what recovery must find (a prefix of whole synced records, at least as
/// many as the machine had seen synced).
#[test]
fn every_crash_point_leaves_a_prefix_of_synced_records() {
    for seed in 0..4 {
        for k in 0..12 {
            let (sim, file) = sim(seed);
            let mut st = AppendState::default();
            let run = sim.run_until_crash(CrashPoint::before_step(k), || append(&mut st, &*file, 4));
            let durable = sim.durable_contents("/log".as_ref()).unwrap();
            let records: Vec<&[u8]> = durable.chunks(512).collect();
            assert_eq!(
                sim.volatile_contents("/log".as_ref()).unwrap(),
                durable,
                "recovery reads the durable image"
            );
            for (i, r) in records.iter().enumerate() {
                assert!(
                    r.iter().all(|&b| b == i as u8 + 1),
                    "seed {seed}, crash point {k}: record {i} torn"
                );
            }
            // Steps alternate write and sync: `k` steps have synced k / 2 records.
            let synced = usize::try_from(k / 2).unwrap().min(4);
            assert_eq!(
                records.len(),
                synced,
                "seed {seed}, crash point {k}: without tearing, exactly the synced records"
            );
            match run {
                CrashRun::Returned { result, .. } => assert_eq!((result, k >= 8), (Ok(4), true)),
                CrashRun::Suspended { steps, .. } => assert_eq!(steps, k),
            }
        }
    }
}
