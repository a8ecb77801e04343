//! The service's metrics in one place: every name `/metrics` serves ([`ALL`], with its kind, unit and help),
//! [`describe`] (each one described and set to zero at start, so that a freshly started server already
//! serves every series its dashboard and alerts read), and [`Sampler`] (the gauges read from the process,
//! the disk and the store, every [`SAMPLE_INTERVAL`] and once at start).
//!
//! The shipped Grafana dashboard (`deploy/grafana/voucher-ledger.json`) and alerting rules
//! (`deploy/prometheus/alerts.yml`) name only these; `tests/tests/it/operations.rs` checks that every name
//! they use is served right after start.
//!
//! Where a value comes from:
//! - `ledger_head_position`: the head after the last durable append (on a replica, the last followed).
//! - `ledger_replica_lag_records`: the store's head minus this replica's; 0 on the writer.
//! - `ledger_deadline_overdue_seconds`: how long the scheduler has seen due deadlines without a run that
//!   found none due (the writer notes it on each run, which already computes what is due: no extra scan);
//!   0 when nothing is due. A writer stuck in an append keeps it growing, as the sampler reads the time.
//! - `ledger_log_bytes`, `ledger_data_disk_free_bytes`, `ledger_data_disk_size_bytes`: the file log's
//!   segment files, and the file system of its data directory (`statvfs`, through `rustix`: a safe wrapper,
//!   the workspace forbids `unsafe`). Not served on a database store (PostgreSQL, KurrentDB), whose disk is
//!   the database server's: no "disk nearly full" alert on a number that does not exist.
//! - `ledger_writer_up`: 1 while the writer task runs. `ledger_store_reachable`: 1 while the store answers
//!   its head (probed like `/readyz`, two seconds at most) and the last append or reload did not fail.
//! - `process_resident_memory_bytes`, `process_cpu_seconds_total`: `/proc/self/statm` and `/proc/self/stat`
//!   (Linux; absent elsewhere). The CPU seconds are a gauge holding the running total (the `metrics` crate's
//!   counters are integers); `rate()` reads it the same.
//! - `voucher_ledger_build_info{version}`: always 1.

use std::path::PathBuf;
use std::sync::Weak;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use metrics::Unit;
use store::{EventLog, Head};
use tokio::sync::watch;

/// Commands recorded, by `command`.
pub const COMMANDS_COMMITTED: &str = "ledger_commands_committed_total";
/// Commands a rule refused, by `code`.
pub const COMMANDS_REFUSED: &str = "ledger_commands_refused_total";
/// Commands answered `Unavailable` while the writer reloaded after a failed append.
pub const COMMANDS_UNAVAILABLE_WHILE_RELOADING: &str = "ledger_commands_unavailable_while_reloading_total";
/// Time of one append (with its fsync), in seconds.
pub const APPEND_SECONDS: &str = "ledger_append_seconds";
/// Records per append (group commit).
pub const APPEND_BATCH_RECORDS: &str = "ledger_append_batch_records";
/// Appends that failed.
pub const APPEND_FAILURES: &str = "ledger_append_failures_total";
/// Times the writer task stopped while the service ran.
pub const WRITER_STOPS: &str = "ledger_writer_stops_total";
/// Snapshot loads at start, by `outcome` (`used`, `missing`, `damaged`, `version`, `hash_mismatch`, ...).
pub const SNAPSHOT_LOADS: &str = "ledger_snapshot_loads_total";
/// 1 while the writer task runs.
pub const WRITER_UP: &str = "ledger_writer_up";
/// 1 while the store answers and appends to it succeed.
pub const STORE_REACHABLE: &str = "ledger_store_reachable";
/// The head position.
pub const HEAD_POSITION: &str = "ledger_head_position";
/// Records a replica is behind the store's head (0 on the writer).
pub const REPLICA_LAG_RECORDS: &str = "ledger_replica_lag_records";
/// Seconds due scheduler deadlines have been waiting (0 when none is due).
pub const DEADLINE_OVERDUE_SECONDS: &str = "ledger_deadline_overdue_seconds";
/// Bytes of the file log's segments on disk.
pub const LOG_BYTES: &str = "ledger_log_bytes";
/// Bytes free (for an unprivileged user) on the data directory's file system.
pub const DATA_DISK_FREE_BYTES: &str = "ledger_data_disk_free_bytes";
/// Size of the data directory's file system.
pub const DATA_DISK_SIZE_BYTES: &str = "ledger_data_disk_size_bytes";
/// Resident memory of the process.
pub const RESIDENT_MEMORY_BYTES: &str = "process_resident_memory_bytes";
/// CPU time of the process (user and system).
pub const CPU_SECONDS: &str = "process_cpu_seconds_total";
/// 1, labelled with the version.
pub const BUILD_INFO: &str = "voucher_ledger_build_info";
/// Entries of the as-of cache, records they hold, rebuilds waiting, and a rebuild's time.
pub const AS_OF_CACHE_ENTRIES: &str = "ledger_as_of_cache_entries";
pub const AS_OF_CACHE_RECORDS: &str = "ledger_as_of_cache_records";
pub const AS_OF_QUEUE: &str = "ledger_as_of_queue";
pub const AS_OF_REBUILD_SECONDS: &str = "ledger_as_of_rebuild_seconds";
/// HTTP requests answered, by `route`, `method` and `status`; their time by `route`.
pub const HTTP_REQUESTS: &str = "http_requests_total";
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "http_request_duration_seconds";
/// Connections refused at the limit; requests that ran out of time.
pub const HTTP_CONNECTIONS_REFUSED: &str = "http_connections_refused_total";
pub const HTTP_REQUESTS_TIMED_OUT: &str = "http_requests_timed_out_total";

/// What kind of series a metric is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One metric: its name, kind, unit and help text.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub unit: Option<Unit>,
    pub help: &'static str,
}

const fn metric(name: &'static str, kind: Kind, unit: Option<Unit>, help: &'static str) -> Metric {
    Metric { name, kind, unit, help }
}

/// The file-log-only gauges (not served on a database store).
pub const FILE_LOG_ONLY: [&str; 3] = [LOG_BYTES, DATA_DISK_FREE_BYTES, DATA_DISK_SIZE_BYTES];

/// Every metric the service serves.
pub const ALL: &[Metric] = &[
    metric(COMMANDS_COMMITTED, Kind::Counter, Some(Unit::Count), "Commands recorded in the log, by command."),
    metric(
        COMMANDS_REFUSED,
        Kind::Counter,
        Some(Unit::Count),
        "Commands a rule refused (nothing recorded), by code.",
    ),
    metric(
        COMMANDS_UNAVAILABLE_WHILE_RELOADING,
        Kind::Counter,
        Some(Unit::Count),
        "Commands answered unavailable while the writer reloaded the log after a failed append.",
    ),
    metric(
        APPEND_SECONDS,
        Kind::Histogram,
        Some(Unit::Seconds),
        "Time of one append to the log, its fsync included.",
    ),
    metric(APPEND_BATCH_RECORDS, Kind::Histogram, Some(Unit::Count), "Records per append (group commit)."),
    metric(APPEND_FAILURES, Kind::Counter, Some(Unit::Count), "Appends to the log that failed."),
    metric(
        WRITER_STOPS,
        Kind::Counter,
        Some(Unit::Count),
        "Times the writer task stopped while the service ran.",
    ),
    metric(
        SNAPSHOT_LOADS,
        Kind::Counter,
        Some(Unit::Count),
        "Snapshot loads at start, by outcome (used, missing, damaged, version, hash_mismatch, ...).",
    ),
    metric(WRITER_UP, Kind::Gauge, None, "1 while the writer task runs, 0 once it stopped."),
    metric(
        STORE_REACHABLE,
        Kind::Gauge,
        None,
        "1 while the store answers its head and the last append or reload did not fail, else 0.",
    ),
    metric(HEAD_POSITION, Kind::Gauge, Some(Unit::Count), "Position of the last durable record (the head)."),
    metric(
        REPLICA_LAG_RECORDS,
        Kind::Gauge,
        Some(Unit::Count),
        "Records this replica is behind the store's head; 0 on the writer.",
    ),
    metric(
        DEADLINE_OVERDUE_SECONDS,
        Kind::Gauge,
        Some(Unit::Seconds),
        "Seconds the scheduler has seen due deadlines not yet recorded; 0 when none is due.",
    ),
    metric(LOG_BYTES, Kind::Gauge, Some(Unit::Bytes), "Bytes of the file log's segment files."),
    metric(
        DATA_DISK_FREE_BYTES,
        Kind::Gauge,
        Some(Unit::Bytes),
        "Bytes available on the file system of the data directory.",
    ),
    metric(
        DATA_DISK_SIZE_BYTES,
        Kind::Gauge,
        Some(Unit::Bytes),
        "Size of the file system of the data directory.",
    ),
    metric(RESIDENT_MEMORY_BYTES, Kind::Gauge, Some(Unit::Bytes), "Resident memory of the process."),
    metric(
        CPU_SECONDS,
        Kind::Gauge,
        Some(Unit::Seconds),
        "CPU time the process used (user and system), a running total.",
    ),
    metric(BUILD_INFO, Kind::Gauge, None, "1, labelled with the version of the running build."),
    metric(AS_OF_CACHE_ENTRIES, Kind::Gauge, Some(Unit::Count), "Past states held by the as-of cache."),
    metric(
        AS_OF_CACHE_RECORDS,
        Kind::Gauge,
        Some(Unit::Count),
        "Records folded into the as-of cache's states.",
    ),
    metric(AS_OF_QUEUE, Kind::Gauge, Some(Unit::Count), "As-of rebuilds running or waiting."),
    metric(AS_OF_REBUILD_SECONDS, Kind::Histogram, Some(Unit::Seconds), "Time of one as-of rebuild."),
    metric(
        HTTP_REQUESTS,
        Kind::Counter,
        Some(Unit::Count),
        "HTTP requests answered, by route, method and status.",
    ),
    metric(
        HTTP_REQUEST_DURATION_SECONDS,
        Kind::Histogram,
        Some(Unit::Seconds),
        "Time to answer an HTTP request, by route.",
    ),
    metric(
        HTTP_CONNECTIONS_REFUSED,
        Kind::Counter,
        Some(Unit::Count),
        "Connections refused at the connection limit.",
    ),
    metric(HTTP_REQUESTS_TIMED_OUT, Kind::Counter, Some(Unit::Count), "Requests that ran out of time."),
];

/// The buckets of the latency histograms (seconds): from a fast fsync to a request at its deadline.
pub const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// The buckets of the records-per-append histogram.
pub const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 5000.0];

/// How often the [`Sampler`] reads its gauges.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(5);

/// Describes every metric (help text and unit) and sets each to zero (build info to 1), so that the series
/// exist before anything happened. `file_log`: whether the file log's gauges apply. Call once the recorder is
/// installed.
pub fn describe(file_log: bool) {
    for metric in ALL {
        if !file_log && FILE_LOG_ONLY.contains(&metric.name) {
            continue;
        }
        let help = metric.help;
        match (metric.kind, metric.unit) {
            (Kind::Counter, Some(unit)) => metrics::describe_counter!(metric.name, unit, help),
            (Kind::Counter, None) => metrics::describe_counter!(metric.name, help),
            (Kind::Gauge, Some(unit)) => metrics::describe_gauge!(metric.name, unit, help),
            (Kind::Gauge, None) => metrics::describe_gauge!(metric.name, help),
            (Kind::Histogram, Some(unit)) => metrics::describe_histogram!(metric.name, unit, help),
            (Kind::Histogram, None) => metrics::describe_histogram!(metric.name, help),
        }
        match metric.kind {
            Kind::Counter => metrics::counter!(metric.name).increment(0),
            Kind::Gauge if metric.name == BUILD_INFO => {}
            Kind::Gauge => metrics::gauge!(metric.name).set(0.0),
            Kind::Histogram => drop(metrics::histogram!(metric.name)),
        }
    }
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// When the scheduler first saw a due deadline that is still due, in milliseconds since the Unix epoch; 0
/// when none is due.
static OVERDUE_SINCE_MS: AtomicU64 = AtomicU64::new(0);
/// False after an append failed, until an append or a reload succeeds.
static APPENDS_OK: AtomicBool = AtomicBool::new(true);

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

/// The writer's note on each scheduler run: whether it found deadlines due (keeps the first time it did).
pub fn note_due(due: bool) {
    if due {
        let _ = OVERDUE_SINCE_MS.compare_exchange(
            0,
            unix_ms(SystemTime::now()).max(1),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    } else {
        OVERDUE_SINCE_MS.store(0, Ordering::Relaxed);
    }
}

/// The writer's note after an append or reload: whether the store took it.
pub fn note_store(ok: bool) {
    APPENDS_OK.store(ok, Ordering::Relaxed);
    if !ok {
        metrics::gauge!(STORE_REACHABLE).set(0.0);
    }
}

/// Seconds due deadlines have waited (0 when none is due).
fn overdue_seconds(now: SystemTime) -> f64 {
    match OVERDUE_SINCE_MS.load(Ordering::Relaxed) {
        0 => 0.0,
        since => unix_ms(now).saturating_sub(since) as f64 / 1000.0,
    }
}

/// Which process the sampler watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Writer,
    Replica,
}

/// Reads the gauges that are states rather than events: head, lag, overdue deadlines, log bytes and free
/// disk, process memory and CPU, writer up, store reachable. It holds nothing that keeps the writer or the
/// log open: the log weakly, the writer by its stop watch.
pub struct Sampler {
    log: Weak<dyn EventLog>,
    head: watch::Receiver<Head>,
    writer_stopped: watch::Receiver<Option<String>>,
    role: Role,
    /// The data directory of a file log; `None` for a database store.
    data_dir: Option<PathBuf>,
}

impl Sampler {
    /// A sampler of a store: `data_dir` is the file log's directory (`None` for a database store).
    pub fn new(
        data_dir: Option<PathBuf>,
        role: Role,
        log: Weak<dyn EventLog>,
        head: watch::Receiver<Head>,
        writer_stopped: watch::Receiver<Option<String>>,
    ) -> Sampler {
        Sampler { log, head, writer_stopped, role, data_dir }
    }

    /// Reads every gauge once.
    pub async fn sample(&self) {
        let head = self.head.borrow().position;
        metrics::gauge!(HEAD_POSITION).set(head as f64);
        let store_head = match self.log.upgrade() {
            Some(log) => tokio::time::timeout(Duration::from_secs(2), log.head()).await.ok(),
            None => None,
        };
        let answered = match store_head {
            Some(Ok(store_head)) => {
                let lag = match self.role {
                    Role::Writer => 0,
                    Role::Replica => store_head.position.saturating_sub(head),
                };
                metrics::gauge!(REPLICA_LAG_RECORDS).set(lag as f64);
                true
            }
            _ => false,
        };
        let reachable = answered && APPENDS_OK.load(Ordering::Relaxed);
        metrics::gauge!(STORE_REACHABLE).set(if reachable { 1.0 } else { 0.0 });
        let writer_up = self.writer_stopped.borrow().is_none() && self.writer_stopped.has_changed().is_ok();
        metrics::gauge!(WRITER_UP).set(if writer_up { 1.0 } else { 0.0 });
        let overdue = match self.role {
            Role::Writer => overdue_seconds(SystemTime::now()),
            Role::Replica => 0.0,
        };
        metrics::gauge!(DEADLINE_OVERDUE_SECONDS).set(overdue);
        if let Some(dir) = self.data_dir.clone() {
            let disk = tokio::task::spawn_blocking(move || disk_figures(&dir)).await.ok().flatten();
            if let Some(disk) = disk {
                metrics::gauge!(LOG_BYTES).set(disk.log_bytes as f64);
                metrics::gauge!(DATA_DISK_FREE_BYTES).set(disk.free_bytes as f64);
                metrics::gauge!(DATA_DISK_SIZE_BYTES).set(disk.size_bytes as f64);
            }
        }
        if let Some(process) = process_figures() {
            metrics::gauge!(RESIDENT_MEMORY_BYTES).set(process.resident_bytes as f64);
            metrics::gauge!(CPU_SECONDS).set(process.cpu_seconds);
        }
    }

    /// Samples every [`SAMPLE_INTERVAL`] (then calls `upkeep`, the exporter's housekeeping) until the writer
    /// stops, and once more then (the writer down).
    pub async fn run(self, upkeep: impl Fn()) {
        let mut interval = tokio::time::interval(SAMPLE_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.reset();
        loop {
            let mut stopped = self.writer_stopped.clone();
            tokio::select! {
                _ = interval.tick() => {
                    self.sample().await;
                    upkeep();
                }
                () = async { drop(stopped.wait_for(Option::is_some).await) } => {
                    self.sample().await;
                    return;
                }
            }
        }
    }
}

/// The file log's bytes and its file system's free and total bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskFigures {
    pub log_bytes: u64,
    pub free_bytes: u64,
    pub size_bytes: u64,
}

/// Reads [`DiskFigures`] of the file log in `dir` (`None` when its file system cannot be read).
pub fn disk_figures(dir: &std::path::Path) -> Option<DiskFigures> {
    let log_bytes = std::fs::read_dir(dir.join("segments"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "seg"))
                .filter_map(|entry| entry.metadata().ok())
                .map(|metadata| metadata.len())
                .sum()
        })
        .unwrap_or(0);
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(DiskFigures {
        log_bytes,
        free_bytes: stat.f_bavail.saturating_mul(stat.f_frsize),
        size_bytes: stat.f_blocks.saturating_mul(stat.f_frsize),
    })
}

/// The process's resident memory and CPU time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessFigures {
    pub resident_bytes: u64,
    pub cpu_seconds: f64,
}

/// Reads [`ProcessFigures`] from `/proc/self` (`None` where there is no such file, or it does not parse).
pub fn process_figures() -> Option<ProcessFigures> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_process_figures(
        &statm,
        &stat,
        rustix::param::page_size() as u64,
        rustix::param::clock_ticks_per_second(),
    )
}

/// Parses `/proc/self/statm` (its second field: resident pages) and `/proc/self/stat` (utime and stime, the
/// 14th and 15th fields, in clock ticks; counted after the command name's closing parenthesis, since the name
/// may hold spaces).
pub fn parse_process_figures(
    statm: &str,
    stat: &str,
    page_size: u64,
    ticks_per_second: u64,
) -> Option<ProcessFigures> {
    let resident_pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    // After the name: state (3rd field) first, so utime (14th) is the 12th from here.
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    if ticks_per_second == 0 {
        return None;
    }
    Some(ProcessFigures {
        resident_bytes: resident_pages.saturating_mul(page_size),
        cpu_seconds: (utime + stime) as f64 / ticks_per_second as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_figures_parse_past_a_name_with_spaces() {
        let stat = "1234 (voucher ledger) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 4 0 100 0 0";
        let figures = parse_process_figures("5000 300 100 1 0 200 0", stat, 4096, 100);
        assert_eq!(figures, Some(ProcessFigures { resident_bytes: 300 * 4096, cpu_seconds: 3.0 }));
        assert_eq!(parse_process_figures("", stat, 4096, 100), None);
    }

    #[test]
    fn overdue_counts_from_the_first_run_that_saw_a_deadline_due() {
        note_due(false);
        assert_eq!(overdue_seconds(SystemTime::now()), 0.0);
        note_due(true);
        let first = OVERDUE_SINCE_MS.load(Ordering::Relaxed);
        note_due(true);
        assert_eq!(OVERDUE_SINCE_MS.load(Ordering::Relaxed), first, "a later run keeps the first time");
        let later = SystemTime::now() + Duration::from_secs(90);
        assert!(overdue_seconds(later) >= 90.0);
        note_due(false);
        assert_eq!(overdue_seconds(later), 0.0);
    }
}
