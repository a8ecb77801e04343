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

/// The scheduler's deadline index over a program year: after every phase (its scheduler run and its
/// commands, folded in order), the index equals a rebuild from the whole state, and `due_commands` from it
/// answers as the full scan on every day from the phase's date to the next one's.
#[test]
fn the_deadline_index_answers_as_the_full_scan_through_a_program_year() {
    use domain::decide::{due_commands, due_commands_by_scan};
    use domain::{Actor, Context, Role, State};

    let workload = workload::generate(WorkloadOptions::scaled(11, 0.3)).expect("generate");
    let system =
        Actor { subject: "scheduler".into(), role: Role::System, jurisdiction: None, credit_code: None };
    let mut state = State::new();
    let (mut events, mut scheduled) = (0u64, 0usize);
    let dates: Vec<_> = workload.phases.iter().map(|phase| phase.date).collect();
    for (i, phase) in workload.phases.iter().enumerate() {
        let due: Vec<_> = due_commands(&state, phase.date).into_iter().map(|c| (system.clone(), c)).collect();
        scheduled += due.len();
        let steps = phase.chains.iter().flatten().map(|step| (step.actor.clone(), step.command.clone()));
        for (actor, command) in due.into_iter().chain(steps) {
            let context = Context { actor, business_date: phase.date, log_position: events };
            if let Ok(accepted) = domain::decide(&state, &context, &command) {
                events += accepted.len() as u64;
                accepted.iter().for_each(|event| state.evolve(event));
            }
        }
        assert_eq!(state.deadline_index(), &state.deadlines_by_scan(), "after phase {}", phase.name);
        let until = dates.get(i + 1).copied().unwrap_or(phase.date + chrono::TimeDelta::days(400));
        let mut date = phase.date;
        while date <= until {
            assert_eq!(due_commands(&state, date), due_commands_by_scan(&state, date), "on {date}");
            date = date.succ_opt().expect("a next day");
        }
    }
    assert!(scheduled > 0, "the program year's scheduler had nothing to do");
}
