//! Opening a ledger: where it is kept ([`StoreSpec`]), opening that store ([`open_store`], the one function
//! that knows the backends), and starting the writer on what it holds ([`start_writer`]).
//!
//! Every command that touches a ledger names its store with a [`StoreSpec`] (`--data DIR`, the default, or
//! `--store postgres://...`) and opens it with [`open_store`].

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use store::file::FileLog;
use store::postgres::PgLog;
use store::{EventLog, Recovery, StoreError};

use chrono::{DateTime, Utc};

use crate::clock::{Clock, ClockError};
use crate::writer::{self, Loaded, Shared, WriterHandle};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("the log does not load: {0}")]
    Load(#[from] writer::LoadError),
    #[error("cannot listen on {address}: {source}")]
    Listen { address: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Clock(#[from] ClockError),
}

/// Where a ledger is kept: the embedded file log in a directory, or a PostgreSQL database.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// The embedded file log in this directory (`--data DIR`).
    File(PathBuf),
    /// A PostgreSQL database: `postgres://user:password@host:port/dbname` (or `postgresql://`).
    Postgres(String),
    /// A KurrentDB (EventStoreDB) server: `kurrentdb://host:2113?tls=false&ledger=NAME` (also `esdb://`,
    /// `kurrent://`, `kdb://` and their `+discover` forms). Opening it needs the `kurrentdb` feature.
    Kurrent(String),
}

impl StoreSpec {
    /// Reads a store argument: a `postgres://` or `postgresql://` URL, `file:DIR`, or a directory.
    ///
    /// # Errors
    /// A URL of another scheme (the message names the scheme only, never the rest of the URL).
    pub fn parse(text: &str) -> Result<StoreSpec, String> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(StoreSpec::Postgres(text.to_owned()));
        }
        if let Some((scheme, _)) = text.split_once("://")
            && KURRENT_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str())
        {
            return Ok(StoreSpec::Kurrent(text.to_owned()));
        }
        if let Some(path) = text.strip_prefix("file://").or_else(|| text.strip_prefix("file:")) {
            return Ok(StoreSpec::File(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(format!(
                "unknown store scheme {scheme:?}: use postgres://..., kurrentdb://... or a directory"
            ));
        }
        if text.is_empty() {
            return Err("empty store".into());
        }
        Ok(StoreSpec::File(PathBuf::from(text)))
    }

    /// The store for messages and logs, without a password.
    pub fn describe(&self) -> String {
        match self {
            StoreSpec::File(dir) => format!("file:{}", dir.display()),
            StoreSpec::Postgres(url) => store::postgres::describe_url(url),
            StoreSpec::Kurrent(url) => describe_kurrent_url(url),
        }
    }
}

impl FromStr for StoreSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        StoreSpec::parse(text)
    }
}

impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl fmt::Debug for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreSpec({})", self.describe())
    }
}

/// The URL schemes of a KurrentDB store (those the `kurrentdb` client accepts).
const KURRENT_SCHEMES: [&str; 8] = [
    "kurrentdb",
    "kurrentdb+discover",
    "kurrent",
    "kurrent+discover",
    "kdb",
    "kdb+discover",
    "esdb",
    "esdb+discover",
];

/// A KurrentDB URL without its user and password.
fn describe_kurrent_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            format!("{scheme}://{}", rest.rsplit_once('@').map_or(rest, |(_, hosts)| hosts))
        }
        None => "<invalid KurrentDB URL>".into(),
    }
}

#[cfg(feature = "kurrentdb")]
async fn open_kurrent(url: &str, access: Access) -> Result<OpenedStore, StoreError> {
    let log = match access {
        Access::Write => store::kurrent::KurrentLog::open(url).await?,
        Access::ReadOnly => store::kurrent::KurrentLog::open_read_only(url).await?,
    };
    Ok(OpenedStore { log: Arc::new(log), recovery: Recovery::default() })
}

#[cfg(not(feature = "kurrentdb"))]
async fn open_kurrent(url: &str, _access: Access) -> Result<OpenedStore, StoreError> {
    Err(StoreError::Unavailable(std::io::Error::other(format!(
        "{}: this build has no KurrentDB support; rebuild with `cargo build --features kurrentdb`",
        describe_kurrent_url(url)
    ))))
}

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The one writer process: takes the store's writer lock (`DIR/LOCK`, or PostgreSQL's advisory lock),
    /// repairs a torn tail (file) or applies pending schema migrations (PostgreSQL).
    Write,
    /// A reader beside a running writer (`verify`, the source of `migrate-store`): no lock, no repair.
    ReadOnly,
}

/// An opened store.
pub struct OpenedStore {
    pub log: Arc<dyn EventLog>,
    /// What opening the file log repaired (always empty for PostgreSQL and read-only opens).
    pub recovery: Recovery,
}

/// Opens the store `spec` names: the one function that knows the backends.
///
/// # Errors
/// `Locked` when another writer holds the store (for `Write`), `Corrupt` for damage the file log cannot
/// repair, `Unavailable` when the directory or server cannot be reached.
pub async fn open_store(spec: &StoreSpec, access: Access) -> Result<OpenedStore, StoreError> {
    match (spec, access) {
        (StoreSpec::File(dir), Access::Write) => {
            let dir = dir.clone();
            let started = std::time::Instant::now();
            let (log, recovery) = tokio::task::spawn_blocking(move || FileLog::open(&dir))
                .await
                .map_err(|e| StoreError::Unavailable(std::io::Error::other(e)))??;
            tracing::info!(
                head = log.head_now().position,
                elapsed_ms = started.elapsed().as_millis(),
                "file log opened (every frame's checksum checked)"
            );
            if recovery.truncated_bytes > 0 {
                tracing::warn!(
                    truncated_bytes = recovery.truncated_bytes,
                    from_position = ?recovery.truncated_from_position,
                    quarantine = ?recovery.quarantine.as_ref().map(|q| q.path.display().to_string()),
                    "a torn tail (an interrupted append) was moved to quarantine and cut from the log at open"
                );
            }
            Ok(OpenedStore { log: Arc::new(log), recovery })
        }
        (StoreSpec::File(dir), Access::ReadOnly) => {
            let dir = dir.clone();
            let log = tokio::task::spawn_blocking(move || FileLog::open_read_only(&dir))
                .await
                .map_err(|e| StoreError::Unavailable(std::io::Error::other(e)))??;
            Ok(OpenedStore { log: Arc::new(log), recovery: Recovery::default() })
        }
        (StoreSpec::Postgres(url), Access::Write) => {
            Ok(OpenedStore { log: Arc::new(PgLog::open(url).await?), recovery: Recovery::default() })
        }
        (StoreSpec::Postgres(url), Access::ReadOnly) => Ok(OpenedStore {
            log: Arc::new(PgLog::open_read_only(url).await?),
            recovery: Recovery::default(),
        }),
        (StoreSpec::Kurrent(url), access) => open_kurrent(url, access).await,
    }
}

/// A store opened for writing, its log loaded and its writer started.
pub struct Started {
    pub log: Arc<dyn EventLog>,
    /// What opening the file log repaired (always empty for the other backends).
    pub recovery: Recovery,
    pub writer: WriterHandle,
    pub shared: Shared,
}

/// Opens the store `spec` names for writing, loads it and starts the writer.
///
/// # Errors
/// The store is locked by another process or cannot be reached, the log is corrupt, or its chain does not
/// verify.
pub async fn start_writer(spec: &StoreSpec, clock: Clock) -> Result<Started, StartError> {
    start_writer_hashed(spec, clock, tlog::TreeHash::default(), None).await
}

/// Like [`start_writer`], the Merkle tree over the log hashed with `tree_hash` (`crate::transparency`: SM3
/// when checkpoints are signed with SM2). With `records_not_after` (a manual clock's start, see
/// [`check_last_record`]), the log's last record is checked on the store just opened, before anything is
/// loaded.
///
/// # Errors
/// See [`start_writer`]; [`StartError::Clock`] when the last record was recorded after `records_not_after`.
pub async fn start_writer_hashed(
    spec: &StoreSpec,
    clock: Clock,
    tree_hash: tlog::TreeHash,
    records_not_after: Option<DateTime<Utc>>,
) -> Result<Started, StartError> {
    let OpenedStore { log, recovery } = open_store(spec, Access::Write).await?;
    if let Some(now) = records_not_after {
        check_last_record(log.as_ref(), now).await?;
    }
    let loaded = match spec {
        StoreSpec::File(dir) => load_with_snapshot(log.as_ref(), tree_hash, dir).await?,
        StoreSpec::Postgres(_) | StoreSpec::Kurrent(_) => {
            Loaded::from_log_hashed(log.as_ref(), tree_hash).await?
        }
    };
    let (writer, shared) = writer::spawn(log.clone(), loaded, clock);
    Ok(Started { log, recovery, writer, shared })
}

/// Loads a file log's ledger: from the snapshot in `dir` and the records after it when the snapshot is usable
/// (`crate::snapshot::load`), otherwise from the log's first record; the writer writes a new snapshot there
/// when it is closed.
///
/// # Errors
/// See [`Loaded::from_log`].
pub async fn load_with_snapshot(
    log: &dyn EventLog,
    tree_hash: tlog::TreeHash,
    dir: &std::path::Path,
) -> Result<Loaded, writer::LoadError> {
    let mut loaded = match crate::snapshot::load(dir, log, tree_hash).await {
        Ok(snapshot) => {
            crate::snapshot::note(Ok(snapshot.head.position));
            Loaded::from_snapshot(snapshot)
        }
        Err(unusable) => {
            crate::snapshot::note(Err(&unusable));
            Loaded::empty_hashed(tree_hash)
        }
    };
    loaded.fold_log(log).await?;
    loaded.snapshot_dir = Some(dir.to_owned());
    Ok(loaded)
}

/// Refuses to start a manual clock at `now` on a store whose last record was recorded after `now`: such a
/// store holds records of the system clock (or of a manual clock that had moved further), and serving it at
/// `now` would date new records before them. A store that cannot be opened read-only, or holds nothing, passes
/// (opening it for writing reports its problems).
///
/// # Errors
/// [`ClockError::BehindRecords`] (the clock's own check, here because it opens the store).
pub async fn check_manual_start(spec: &StoreSpec, now: DateTime<Utc>) -> Result<(), ClockError> {
    let Ok(opened) = open_store(spec, Access::ReadOnly).await else {
        return Ok(());
    };
    check_last_record(opened.log.as_ref(), now).await
}

/// The rule of [`check_manual_start`] on a store already open: refuses `now` when the log's last record was
/// recorded after it. A log that holds nothing, or whose last record cannot be read or decoded, passes (the
/// load that follows reports its problems).
///
/// # Errors
/// [`ClockError::BehindRecords`].
pub async fn check_last_record(log: &dyn EventLog, now: DateTime<Utc>) -> Result<(), ClockError> {
    let Ok(head) = log.head().await else { return Ok(()) };
    if head.position == 0 {
        return Ok(());
    }
    let Ok(last) = log.read_batch(head.position, 1).await else { return Ok(()) };
    let Some(Ok(recorded)) = last.first().map(ledger_proto::decode_record) else { return Ok(()) };
    if recorded.meta.recorded_at > now {
        return Err(ClockError::BehindRecords { last_recorded_at: recorded.meta.recorded_at, now });
    }
    Ok(())
}
