//! `voucher-ledger demo`: a realistic program year for both jurisdictions, written through the real command
//! pipeline (the writer, `decide`, the hash-chained log), deterministic from a seed, so a newcomer sees a
//! populated ledger at once and tests can check the invariants over every path of the regulation.
//!
//! The program year itself is [`crate::workload`]'s (the benchmarks run the same one at other sizes); the
//! demo runs it with one submitter, so the log's order is the workload's and the same seed gives the same
//! ledger.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use store::EventLog;
use store::file::FileLog;

use crate::clock::Clock;
use crate::workload::{self, WorkloadError, WorkloadOptions};
use crate::writer::{self, Loaded};

/// The size of a demo.
#[derive(Clone, Copy, Debug)]
pub struct DemoOptions {
    pub seed: u64,
    pub applicants: u32,
    pub providers: u32,
}

impl Default for DemoOptions {
    fn default() -> Self {
        let WorkloadOptions { seed, applicants, providers } = WorkloadOptions::default();
        DemoOptions { seed, applicants, providers }
    }
}

/// What the demo wrote.
#[derive(Clone, Debug, Default)]
pub struct DemoSummary {
    pub head_position: u64,
    pub head_hash: [u8; 32],
    pub accepted: u64,
    pub refused: u64,
    pub events_by_type: BTreeMap<&'static str, u64>,
    /// Events recorded on a business date after the shipped Measures ended (2025-12-31), by type.
    pub events_after_the_measures: BTreeMap<&'static str, u64>,
    /// Examples to look at: a voucher, a contract, a redemption, an announcement, a sample.
    pub examples: BTreeMap<&'static str, String>,
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Load(#[from] writer::LoadError),
    #[error("the data directory already holds a ledger (head {0}); the demo writes a new one")]
    NotEmpty(u64),
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    #[error("demo step {step} failed: {error}")]
    Step { step: &'static str, error: String },
}

/// Writes the demo program year into `data_dir`, which must hold no ledger yet.
///
/// # Errors
/// The directory holds a ledger already, the store fails, or a step that must succeed does not.
pub async fn run(data_dir: &Path, options: DemoOptions) -> Result<DemoSummary, DemoError> {
    let (log, _recovery) = FileLog::open(data_dir)?;
    run_on(Arc::new(log), options).await
}

/// Writes the demo program year into an opened, empty store of any backend.
///
/// # Errors
/// The store holds a ledger already, the store fails, or a step that must succeed does not.
pub async fn run_on(log: Arc<dyn EventLog>, options: DemoOptions) -> Result<DemoSummary, DemoError> {
    Ok(run_on_keeping_projections(log, options).await?.0)
}

/// Like [`run_on`], also returning the read models as the writer left them: folded commit by commit as
/// the program year was written (the property tests compare them with a rebuild from the log).
///
/// # Errors
/// See [`run_on`].
pub async fn run_on_keeping_projections(
    log: Arc<dyn EventLog>,
    options: DemoOptions,
) -> Result<(DemoSummary, projections::Projections), DemoError> {
    let head = log.head().await?;
    if head.position > 0 {
        return Err(DemoError::NotEmpty(head.position));
    }
    let DemoOptions { seed, applicants, providers } = options;
    let workload = workload::generate(WorkloadOptions { seed, applicants, providers })?;
    let loaded = Loaded::from_log(log.as_ref()).await?;
    let clock = Clock::manual(workload::morning(workload::start_date()));
    let (writer, shared, task) = writer::spawn_with_task(log.clone(), loaded, clock.clone());
    let mut summary = DemoSummary { examples: workload.examples.clone(), ..DemoSummary::default() };
    let report = workload::run(workload, &writer, &clock, 1).await?;
    for (code, count) in &report.refused {
        tracing::debug!(code, count, "demo commands refused");
    }
    summary.accepted = report.accepted;
    summary.refused = report.refused_total();
    drop(writer);
    let _ = task.await;
    let head = *shared.head.borrow();
    summary.head_position = head.position;
    summary.head_hash = head.hash;
    // Count what the log holds, scheduler events included.
    (summary.events_by_type, summary.events_after_the_measures) = count_events(log.as_ref()).await?;
    let projections = shared.projections.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
    Ok((summary, projections))
}

/// Events in the log by type: all of them, and those dated after the last shipped policy version ended.
async fn count_events(log: &dyn EventLog) -> Result<(EventCounts, EventCounts), DemoError> {
    use futures::StreamExt;
    let measures_end = domain::PolicyBook::shipped().versions().iter().map(|v| v.effective_until).max();
    let mut counts = BTreeMap::new();
    let mut after = BTreeMap::new();
    let mut records = log.read_from(1);
    while let Some(record) = records.next().await {
        let recorded = ledger_proto::decode_record(&record?)
            .map_err(|error| DemoError::Step { step: "count", error: error.to_string() })?;
        *counts.entry(recorded.event.event_type()).or_default() += 1;
        if measures_end.is_some_and(|end| recorded.meta.business_date > end) {
            *after.entry(recorded.event.event_type()).or_default() += 1;
        }
    }
    Ok((counts, after))
}

/// Events by type.
type EventCounts = BTreeMap<&'static str, u64>;
