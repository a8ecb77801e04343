//! The benchmark workload: the same seed gives the same commands, and at a tiny scale the real pipeline
//! (writer, `decide`, the hash-chained file log) accepts every one of them, concurrently submitted too.
//! No timing is asserted here: the figures are `scripts/bench.sh`'s.

use std::sync::Arc;

use engine::clock::Clock;
use engine::verify::{Verdict, verify_dir};
use engine::workload::{self, WorkloadOptions};
use engine::writer::{self, Loaded};
use store::file::FileLog;

#[test]
fn the_same_seed_gives_the_same_commands_and_another_seed_others() {
    let options = WorkloadOptions::scaled(42, 0.3);
    let first = workload::generate(options).expect("generate");
    let second = workload::generate(options).expect("generate");
    assert_eq!(first, second);
    assert!(first.commands() > 500, "a program year of 90 applicants: {}", first.commands());
    let other = workload::generate(WorkloadOptions { seed: 43, ..options }).expect("generate");
    assert_ne!(first.phases, other.phases);
}

#[test]
fn the_scale_multiplies_the_demo_program_year() {
    let options = WorkloadOptions::scaled(1, 2.0);
    assert_eq!((options.applicants, options.providers), (600, 80));
    let tiny = WorkloadOptions::scaled(1, 0.0);
    assert_eq!((tiny.applicants, tiny.providers), (1, 1));
}

#[test]
fn every_command_renders_as_an_http_request() {
    let workload = workload::generate(WorkloadOptions::scaled(5, 0.3)).expect("generate");
    for step in workload.steps() {
        let request = workload::http_request(&step.command, &|id| id);
        assert!(request.is_some(), "{} has no HTTP request", step.command.name());
    }
}

async fn run_through_the_writer(submitters: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let workload = workload::generate(WorkloadOptions::scaled(9, 0.3)).expect("generate");
    let commands = workload.commands() as u64;
    let (log, _) = FileLog::open(dir.path()).expect("log");
    let log = Arc::new(log);
    let loaded = Loaded::from_log(log.as_ref()).await.expect("load");
    let clock = Clock::manual(workload::morning(workload::start_date()));
    let (handle, _shared, task) = writer::spawn_with_task(log.clone(), loaded, clock.clone());
    let report = workload::run(workload, &handle, &clock, submitters).await.expect("run");
    drop(handle);
    task.await.expect("writer task");
    assert_eq!(report.commands, commands);
    assert_eq!(report.accepted, commands, "refused: {:?}", report.refused);
    assert_eq!(report.latencies_us.len() as u64, commands);
    drop(log);
    match verify_dir(dir.path()).await.expect("verify") {
        Verdict::Intact { records, .. } => assert!(records >= report.events),
        other => panic!("the workload's log does not verify: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_is_accepted_in_order() {
    run_through_the_writer(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_is_accepted_with_64_concurrent_submitters() {
    run_through_the_writer(64).await;
}
