//! The scheduler's cost per tick at a program year of any scale: folds the workload's program year
//! (`engine::workload`, single-submitter order, the scheduler run at each phase's date as `workload::run`
//! does) into a `domain::State` in memory, then times `due_commands` at a date where nothing is due, read
//! from the deadline index, against the full scan it replaced (`due_commands_by_scan`). Median of many calls.
//!
//! ```text
//! cargo run --release -p engine --example scheduler_tick -- [SCALE] [CALLS]    # default: 400 (the full
//!                                                                              # benchmark ledger), 201
//! ```

use std::time::{Duration, Instant};

use domain::decide::{due_commands, due_commands_by_scan};
use domain::{Actor, Context, Role, State};
use engine::workload::{self, WorkloadOptions};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn time(calls: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut samples = Vec::with_capacity(calls);
    let mut due = 0;
    for _ in 0..calls {
        let started = Instant::now();
        due = std::hint::black_box(f());
        samples.push(started.elapsed());
    }
    (median(samples), due)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let scale: f64 = args.next().map_or(Ok(400.0), |a| a.parse())?;
    let calls: usize = args.next().map_or(Ok(201), |a| a.parse())?;
    let started = Instant::now();
    let workload = workload::generate(WorkloadOptions::scaled(2025, scale))?;
    let system =
        Actor { subject: "scheduler".into(), role: Role::System, jurisdiction: None, credit_code: None };
    let mut state = State::new();
    let (mut events, mut refused) = (0u64, 0u64);
    let mut last_date = workload::start_date();
    for phase in &workload.phases {
        last_date = phase.date;
        let scheduled = due_commands(&state, phase.date).into_iter().map(|command| (system.clone(), command));
        let steps = phase.chains.iter().flatten().map(|step| (step.actor.clone(), step.command.clone()));
        for (actor, command) in scheduled.collect::<Vec<_>>().into_iter().chain(steps) {
            let context = Context { actor, business_date: phase.date, log_position: events };
            match domain::decide(&state, &context, &command) {
                Ok(accepted) => {
                    events += accepted.len() as u64;
                    accepted.iter().for_each(|event| state.evolve(event));
                }
                Err(_) => refused += 1,
            }
        }
        // The scheduler's usual second after the phase: nothing due, the deadlines of the year still open.
        if due_commands(&state, phase.date).is_empty() {
            let (scan, _) = time(calls / 4 + 1, || due_commands_by_scan(&state, phase.date).len());
            let (index, _) = time(calls, || due_commands(&state, phase.date).len());
            println!(
                "after {:<28} {}: {:>7} events, {:>6} open deadlines; tick with nothing due: scan {scan:>10.3?}, index {index:>7.3?}",
                phase.name,
                phase.date,
                events,
                state.deadline_index().len()
            );
        }
    }
    // Nothing is due at the last phase's date once its tick has run: the scheduler's usual second.
    for command in due_commands(&state, last_date) {
        let context = Context { actor: system.clone(), business_date: last_date, log_position: events };
        if let Ok(accepted) = domain::decide(&state, &context, &command) {
            events += accepted.len() as u64;
            accepted.iter().for_each(|event| state.evolve(event));
        }
    }
    println!(
        "scale {scale}: {events} events folded ({refused} refused) in {:.1?}; {} vouchers, {} contracts, {} providers, {} announcements; {} open deadlines in the index",
        started.elapsed(),
        state.vouchers.len(),
        state.contracts.len(),
        state.providers.len(),
        state.announcements.len(),
        state.deadline_index().len(),
    );
    let entry = std::mem::size_of::<(chrono::NaiveDate, domain::state::Deadline)>();
    println!(
        "index: {} entries of {entry} bytes (a B-tree adds about half again: ~{} KiB)",
        state.deadline_index().len(),
        state.deadline_index().len() * entry * 3 / 2 / 1024
    );
    let (scan, scan_due) = time(calls, || due_commands_by_scan(&state, last_date).len());
    let (index, index_due) = time(calls, || due_commands(&state, last_date).len());
    assert_eq!(scan_due, index_due, "the index and the scan disagree");
    println!("tick at {last_date} ({index_due} due), median of {calls} calls:");
    println!("  before (scan of every provider, announcement, voucher, contract): {scan:?}");
    println!("  after  (deadline index ordered by due date):                      {index:?}");
    Ok(())
}
