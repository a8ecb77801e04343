//! The PostgreSQL backend: the log in one `events` table keyed by global position, for deployments that run
//! the ledger on a managed, replicated database.
//!
//! # Schema
//! Versioned SQL files under `store/migrations/`, embedded at build time and applied at open by refinery (the
//! history is in `ledger_schema_history`; a database migrated by a newer build is refused):
//! ```text
//! events(position bigint PK, stream text, stream_version bigint, ends_command bool, hash bytea, record bytea)
//!        UNIQUE (stream, stream_version); append-only (triggers refuse UPDATE, DELETE, TRUNCATE)
//! ledger_head(id = 1, position, hash)      the head: one row
//! ```
//! `record` holds exactly the bytes the embedded log stores, so verification and exports do not depend on
//! the backend. The store stays domain-agnostic: to fill `stream` and `stream_version` it reads only fields 2
//! and 3 of the envelope from the protobuf wire format (their numbers are never reused); bytes that are not
//! an envelope with a stream are stored with both NULL.
//!
//! # Appends
//! One transaction per append (so a batch of many commands is one commit: group commit): a compare-and-set
//! of `ledger_head` from the expected head to the new one and the insert of the records, in one statement,
//! then `COMMIT`. A writer whose expected head is stale moves nothing and inserts nothing (`Conflict`);
//! concurrent appends queue on the head row's lock, and the primary key forbids a second record at a
//! position anyway, so two writers can never fork the chain. `append` returns after `COMMIT` returned, which
//! with `synchronous_commit` on (the default; a session that finds it off turns it on) means after the WAL
//! was flushed.
//!
//! # Following
//! An append also notifies the channel [`APPENDED_CHANNEL`] (`pg_notify` in the same statement, so the
//! notification is delivered on `COMMIT` only, and never for a refused append). [`EventLog::follow`] listens
//! on a connection of its own and reads as soon as it is woken; it still reads every
//! [`crate::FOLLOW_POLL_INTERVAL`] without a notification, so a deployment where notifications do not arrive
//! (a pooler in transaction mode) follows as quickly as the plain read loop would. A lost listening
//! connection ends the stream with an error, and the caller follows again.
//!
//! # One writer process
//! A writer holds the session-level advisory lock [`WRITER_LOCK_KEY`] on its appending connection for as long
//! as it lives; a second writer on the same database is refused with [`StoreError::Locked`], like the file
//! log's lock file. When that connection dies (the server restarted), the next append reconnects and takes
//! the lock again, or fails with `Locked` if another process took it meanwhile.
//!
//! # Errors
//! A server that cannot be reached, a lost connection or a failed statement is [`StoreError::Unavailable`]
//! naming the server (never its password); nothing panics.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::{Mutex, mpsc};
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::{AsyncMessage, Client, Config, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{EventLog, FOLLOW_POLL_INTERVAL, Hash, Head, StoreError, StoredRecord};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// The key of the session-level advisory lock a writer holds (`pg_try_advisory_lock`): "vledger\0" in ASCII.
/// Advisory locks are per database, so ledgers in different databases of one server do not conflict.
pub const WRITER_LOCK_KEY: i64 = 0x766c_6564_6765_7200;

/// The key of the advisory lock held while migrating, so that two processes opening a fresh database at the
/// same time do not both create the schema.
const MIGRATION_LOCK_KEY: i64 = 0x766c_6564_6765_7201;

/// The table refinery keeps the applied migrations in.
const SCHEMA_HISTORY_TABLE: &str = "ledger_schema_history";

/// The channel every committed append notifies (no payload): a follower reads when woken.
pub const APPENDED_CHANNEL: &str = "voucher_ledger_appended";

/// Records read per call while following.
const FOLLOW_BATCH: usize = 4096;

/// Connect timeout when the URL does not set one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The compare-and-set of the head, the insert of the records and the notification of followers
/// ([`APPENDED_CHANNEL`], delivered on `COMMIT` only), as one statement (run inside a transaction: `COMMIT`,
/// not the statement's completion, is what makes it durable).
const APPEND_SQL: &str = "\
WITH moved AS (
    UPDATE ledger_head SET position = $1, hash = $2
    WHERE id = 1 AND position = $3 AND hash = $4
    RETURNING 1
), inserted AS (
    INSERT INTO events (position, stream, stream_version, ends_command, hash, record)
    SELECT r.position, r.stream, r.stream_version, r.ends_command, r.hash, r.record
    FROM unnest($5::bigint[], $6::text[], $7::bigint[], $8::boolean[], $9::bytea[], $10::bytea[])
        AS r(position, stream, stream_version, ends_command, hash, record)
    WHERE EXISTS (SELECT 1 FROM moved)
    RETURNING 1
), notified AS (
    SELECT pg_notify('voucher_ledger_appended', '') FROM moved
)
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM inserted), (SELECT count(*) FROM notified)";

const READ_SQL: &str = "\
SELECT position, ends_command, hash, record FROM events WHERE position >= $1 ORDER BY position LIMIT $2";

const HEAD_SQL: &str = "SELECT position, hash FROM ledger_head WHERE id = 1";

const LAST_EVENT_SQL: &str = "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1";

/// Options of [`PgLog::open_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgLogOptions {
    /// Append through this log (and migrate the schema at open). When false the log is read-only: it
    /// neither migrates nor locks, and `append` fails with `Unavailable`.
    pub write: bool,
    /// Hold [`WRITER_LOCK_KEY`] while writing, so that a second writer process is refused. Only tests that
    /// exercise the fencing of two concurrent writers turn it off.
    pub writer_lock: bool,
}

impl Default for PgLogOptions {
    fn default() -> Self {
        PgLogOptions { write: true, writer_lock: true }
    }
}

/// The appending connection (it holds the writer lock) and its prepared statement.
struct WriterConn {
    client: Client,
    append: Statement,
    head: Statement,
}

/// A connection for reads, shared by concurrent readers (tokio-postgres pipelines their queries).
#[derive(Clone)]
struct ReaderConn {
    client: Arc<Client>,
    read: Statement,
    head: Statement,
}

/// The log in a PostgreSQL database. Opened for writing ([`PgLog::open`]: migrates the schema, takes the
/// writer lock) or read-only ([`PgLog::open_read_only`]).
pub struct PgLog {
    config: Config,
    /// TLS as the URL's `sslmode` and `sslrootcert` ask (see [`crate::pg_tls`]).
    tls: MakeRustlsConnect,
    target: String,
    options: PgLogOptions,
    writer: Mutex<Option<WriterConn>>,
    reader: Mutex<Option<ReaderConn>>,
}

impl fmt::Debug for PgLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgLog").field("target", &self.target).field("options", &self.options).finish()
    }
}

impl PgLog {
    /// Opens the log in the database at `url` (`postgres://user:password@host:port/dbname`) for writing.
    ///
    /// # Errors
    /// See [`PgLog::open_with`].
    pub async fn open(url: &str) -> Result<PgLog, StoreError> {
        PgLog::open_with(url, PgLogOptions::default()).await
    }

    /// Opens the log read-only: no lock, no migration. `append` fails with `Unavailable`.
    ///
    /// # Errors
    /// See [`PgLog::open_with`]; also `Unavailable` when the database holds no ledger schema.
    pub async fn open_read_only(url: &str) -> Result<PgLog, StoreError> {
        PgLog::open_with(url, PgLogOptions { write: false, writer_lock: false }).await
    }

    /// Opens the log in the database at `url`. For writing: connects, takes the writer lock, applies the
    /// pending migrations and checks that the head row agrees with the last record.
    ///
    /// # Errors
    /// `Unavailable` when the URL is not a PostgreSQL URL, the server cannot be reached, or a migration
    /// fails; `Locked` when another writer holds the lock; `Corrupt` when the head row and the last record
    /// disagree.
    pub async fn open_with(url: &str, options: PgLogOptions) -> Result<PgLog, StoreError> {
        let (config, tls) = parse_url_tls(url)?;
        let tls = crate::pg_tls::connector(&tls)?;
        let target = describe_config(&config);
        let log = PgLog { config, tls, target, options, writer: Mutex::new(None), reader: Mutex::new(None) };
        if options.write {
            let mut slot = log.writer.lock().await;
            log.writer_conn(&mut slot).await?;
            drop(slot);
            log.check_head().await?;
        } else {
            log.check_schema().await?;
        }
        Ok(log)
    }

    /// The server and database, without the password: `postgres://user@host:port/dbname`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// True when this log's reading connection is encrypted (the server's `pg_stat_ssl` for the session).
    ///
    /// # Errors
    /// `Unavailable` when the server cannot be reached.
    pub async fn session_uses_tls(&self) -> Result<bool, StoreError> {
        let conn = self.reader_conn().await?;
        let row = conn
            .client
            .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
            .await
            .map_err(|e| self.unavailable("reading pg_stat_ssl", &e))?;
        row.try_get(0).map_err(|e| self.unavailable("reading pg_stat_ssl", &e))
    }

    fn unavailable(&self, what: &str, error: &dyn Describe) -> StoreError {
        unavailable(&self.target, what, error)
    }

    /// The appending connection, (re)connected, locked and migrated when needed.
    async fn writer_conn<'a>(
        &self,
        slot: &'a mut Option<WriterConn>,
    ) -> Result<&'a mut WriterConn, StoreError> {
        if slot.as_ref().is_some_and(|conn| conn.client.is_closed()) {
            tracing::warn!(target = %self.target, "PostgreSQL: the appending connection was lost; reconnecting");
            *slot = None;
        }
        if slot.is_none() {
            let mut client = connect(&self.config, &self.tls, &self.target).await?;
            if self.options.writer_lock {
                let row = client
                    .query_one("SELECT pg_try_advisory_lock($1)", &[&WRITER_LOCK_KEY])
                    .await
                    .map_err(|e| self.unavailable("taking the writer lock", &e))?;
                let locked: bool =
                    row.try_get(0).map_err(|e| self.unavailable("taking the writer lock", &e))?;
                if !locked {
                    return Err(StoreError::Locked { path: self.target.clone() });
                }
            }
            self.migrate(&mut client).await?;
            let append =
                client.prepare(APPEND_SQL).await.map_err(|e| self.unavailable("preparing the append", &e))?;
            let head =
                client.prepare(HEAD_SQL).await.map_err(|e| self.unavailable("preparing the append", &e))?;
            *slot = Some(WriterConn { client, append, head });
        }
        slot.as_mut().ok_or_else(|| self.unavailable("connecting", &"no connection"))
    }

    /// A reading connection, (re)connected when needed.
    async fn reader_conn(&self) -> Result<ReaderConn, StoreError> {
        let mut slot = self.reader.lock().await;
        if let Some(conn) = slot.as_ref().filter(|conn| !conn.client.is_closed()) {
            return Ok(conn.clone());
        }
        *slot = None;
        let client = connect(&self.config, &self.tls, &self.target).await?;
        let read = client.prepare(READ_SQL).await.map_err(|e| self.read_error("preparing a read", &e))?;
        let head = client.prepare(HEAD_SQL).await.map_err(|e| self.read_error("preparing a read", &e))?;
        let conn = ReaderConn { client: Arc::new(client), read, head };
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Errors of reads: a missing table means the database holds no ledger.
    fn read_error(&self, what: &str, error: &tokio_postgres::Error) -> StoreError {
        if error.code() == Some(&SqlState::UNDEFINED_TABLE) {
            return self.unavailable(
                what,
                &"the database holds no ledger (no events table): serve it once or run migrate-store",
            );
        }
        self.unavailable(what, error)
    }

    /// Applies the pending migrations under the migration lock.
    async fn migrate(&self, client: &mut Client) -> Result<(), StoreError> {
        client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
            .await
            .map_err(|e| self.unavailable("taking the migration lock", &e))?;
        let mut runner = embedded::migrations::runner().set_grouped(true);
        runner.set_migration_table_name(SCHEMA_HISTORY_TABLE);
        let report = runner.run_async(client).await;
        let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY]).await;
        let report = report.map_err(|e| self.unavailable("migrating the schema", &e))?;
        unlocked.map_err(|e| self.unavailable("releasing the migration lock", &e))?;
        for migration in report.applied_migrations() {
            tracing::info!(target = %self.target, migration = %migration, "PostgreSQL: applied a schema migration");
        }
        Ok(())
    }

    /// The database holds the ledger's tables (read-only open).
    async fn check_schema(&self) -> Result<(), StoreError> {
        let conn = self.reader_conn().await?;
        conn.client.query_one(&conn.head, &[]).await.map_err(|e| self.read_error("reading the head", &e))?;
        Ok(())
    }

    /// The head row and the last record agree (nobody wrote around the store).
    async fn check_head(&self) -> Result<(), StoreError> {
        let head = self.head().await?;
        let conn = self.reader_conn().await?;
        let last = conn
            .client
            .query_opt(LAST_EVENT_SQL, &[])
            .await
            .map_err(|e| self.read_error("reading the last record", &e))?;
        let last = match last {
            Some(row) => {
                let position: i64 =
                    row.try_get(0).map_err(|e| self.unavailable("reading the last record", &e))?;
                let hash: Vec<u8> =
                    row.try_get(1).map_err(|e| self.unavailable("reading the last record", &e))?;
                Head {
                    position: u64::try_from(position).unwrap_or(0),
                    hash: hash_from(&hash).unwrap_or([0; 32]),
                }
            }
            None => Head::GENESIS,
        };
        if last != head {
            return Err(StoreError::Corrupt {
                position: head.position.max(last.position),
                reason: format!("the head row says {head:?} but the last record is {last:?}"),
            });
        }
        Ok(())
    }

    async fn append_on(
        &self,
        conn: &mut WriterConn,
        expected: Head,
        records: &[StoredRecord],
        new_head: Head,
    ) -> Result<(), StoreError> {
        let columns = Columns::of(records)?;
        let new_position = position_param(new_head.position)?;
        let expected_position = position_param(expected.position)?;
        let transaction =
            conn.client.transaction().await.map_err(|e| self.unavailable("starting the append", &e))?;
        let row = transaction
            .query_one(
                &conn.append,
                &[
                    &new_position,
                    &new_head.hash.as_slice(),
                    &expected_position,
                    &expected.hash.as_slice(),
                    &columns.positions,
                    &columns.streams,
                    &columns.stream_versions,
                    &columns.ends_command,
                    &columns.hashes,
                    &columns.bytes,
                ],
            )
            .await
            .map_err(|e| self.append_error(&e, records))?;
        let moved: i64 = row.try_get(0).map_err(|e| self.unavailable("appending", &e))?;
        let inserted: i64 = row.try_get(1).map_err(|e| self.unavailable("appending", &e))?;
        if moved != 1 {
            let row = transaction
                .query_one(&conn.head, &[])
                .await
                .map_err(|e| self.unavailable("reading the head after a conflict", &e))?;
            let actual = head_from_row(&row).map_err(|e| self.unavailable("reading the head", &e))?;
            let _rolled_back = transaction.rollback().await;
            return Err(StoreError::Conflict { expected, actual });
        }
        if usize::try_from(inserted).ok() != Some(records.len()) {
            let _rolled_back = transaction.rollback().await;
            return Err(self.unavailable(
                "appending",
                &format!("inserted {inserted} of {} records; rolled back", records.len()),
            ));
        }
        transaction.commit().await.map_err(|e| {
            self.unavailable("committing the append (its outcome is unknown: reload from the log)", &e)
        })
    }

    /// Maps an error of the append statement: a duplicate (stream, version) is the caller's bug, a duplicate
    /// position means a row was written around the store.
    fn append_error(&self, error: &tokio_postgres::Error, records: &[StoredRecord]) -> StoreError {
        let Some(db) = error.as_db_error() else { return self.unavailable("appending", error) };
        if *db.code() == SqlState::UNIQUE_VIOLATION {
            let detail = db.detail().unwrap_or_else(|| db.message()).to_owned();
            if db.constraint() == Some("events_stream_version_key") {
                return StoreError::OutOfSequence(format!("stream version already recorded: {detail}"));
            }
            return StoreError::Corrupt {
                position: records.first().map_or(0, |r| r.position),
                reason: format!("the events table holds records past the head row: {detail}"),
            };
        }
        if *db.code() == SqlState::CHECK_VIOLATION {
            return StoreError::OutOfSequence(format!("record refused by the schema: {}", db.message()));
        }
        self.unavailable("appending", error)
    }
}

#[async_trait]
impl EventLog for PgLog {
    async fn head(&self) -> Result<Head, StoreError> {
        let conn = self.reader_conn().await?;
        let row = conn
            .client
            .query_one(&conn.head, &[])
            .await
            .map_err(|e| self.read_error("reading the head", &e))?;
        head_from_row(&row).map_err(|e| self.unavailable("reading the head", &e))
    }

    async fn append(&self, expected: Head, records: Vec<StoredRecord>) -> Result<Head, StoreError> {
        if !self.options.write {
            return Err(StoreError::Unavailable(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("the log at {} was opened read-only", self.target),
            )));
        }
        let new_head = check_batch(expected, &records)?;
        let mut slot = self.writer.lock().await;
        let conn = self.writer_conn(&mut slot).await?;
        let result = self.append_on(conn, expected, &records, new_head).await;
        if result.is_err() && conn.client.is_closed() {
            *slot = None;
        }
        result.map(|()| new_head)
    }

    async fn read_batch(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        let from = from.max(1);
        let (Ok(start), Ok(limit)) = (i64::try_from(from), i64::try_from(max)) else {
            return Ok(Vec::new());
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let conn = self.reader_conn().await?;
        let rows = conn
            .client
            .query(&conn.read, &[&start, &limit])
            .await
            .map_err(|e| self.read_error("reading records", &e))?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let expected = from + i as u64;
            let position: i64 = row.try_get(0).map_err(|e| self.unavailable("reading records", &e))?;
            if u64::try_from(position).ok() != Some(expected) {
                return Err(StoreError::Corrupt {
                    position: expected,
                    reason: format!("record missing (the next stored position is {position})"),
                });
            }
            let ends_command: bool = row.try_get(1).map_err(|e| self.unavailable("reading records", &e))?;
            let hash: Vec<u8> = row.try_get(2).map_err(|e| self.unavailable("reading records", &e))?;
            let bytes: Vec<u8> = row.try_get(3).map_err(|e| self.unavailable("reading records", &e))?;
            let hash = hash_from(&hash).ok_or_else(|| StoreError::Corrupt {
                position: expected,
                reason: format!("stored hash is {} bytes, not 32", hash.len()),
            })?;
            out.push(StoredRecord { position: expected, ends_command, hash, bytes });
        }
        Ok(out)
    }

    fn follow(&self, from: u64) -> BoxStream<'_, Result<StoredRecord, StoreError>> {
        self.follow_every(from, FOLLOW_POLL_INTERVAL)
    }
}

/// A follower's listening connection: the client (the connection closes when it is dropped) and the wake-ups
/// its driver task forwards.
struct Listener {
    _client: Client,
    woken: mpsc::Receiver<()>,
}

impl PgLog {
    /// [`EventLog::follow`], reading every `interval` when no notification arrives (the trait's method uses
    /// [`crate::FOLLOW_POLL_INTERVAL`]; a test uses a long one to see that notifications alone wake it).
    pub fn follow_every(
        &self,
        from: u64,
        interval: Duration,
    ) -> BoxStream<'_, Result<StoredRecord, StoreError>> {
        futures::stream::unfold(Some((from.max(1), None)), move |state| async move {
            let (next, listener) = state?;
            let mut listener: Listener = match listener {
                Some(listener) => listener,
                None => match self.listen().await {
                    Ok(listener) => listener,
                    Err(error) => return Some((futures::stream::iter(vec![Err(error)]), None)),
                },
            };
            loop {
                let batch = match self.read_batch(next, FOLLOW_BATCH).await {
                    Ok(batch) => batch,
                    Err(error) => return Some((futures::stream::iter(vec![Err(error)]), None)),
                };
                if !batch.is_empty() {
                    let after = next + batch.len() as u64;
                    let items = batch.into_iter().map(Ok).collect::<Vec<_>>();
                    return Some((futures::stream::iter(items), Some((after, Some(listener)))));
                }
                tokio::select! {
                    woken = listener.woken.recv() => if woken.is_none() {
                        let error = self.unavailable("following", &"the listening connection was lost");
                        return Some((futures::stream::iter(vec![Err(error)]), None));
                    },
                    () = tokio::time::sleep(interval) => {}
                }
            }
        })
        .flatten()
        .boxed()
    }

    /// A connection of its own that listens on [`APPENDED_CHANNEL`]; a task drives it and forwards each
    /// notification as one pending wake-up.
    async fn listen(&self) -> Result<Listener, StoreError> {
        let (client, mut connection) = self
            .config
            .connect(self.tls.clone())
            .await
            .map_err(|e| self.unavailable("connecting to listen", &e))?;
        let (wake, woken) = mpsc::channel(1);
        let target = self.target.clone();
        tokio::spawn(async move {
            loop {
                match futures::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    Some(Ok(AsyncMessage::Notification(_))) => {
                        if let Err(mpsc::error::TrySendError::Closed(())) = wake.try_send(()) {
                            break;
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(error)) => {
                        tracing::warn!(%target, %error, "PostgreSQL: the listening connection closed with an error");
                        break;
                    }
                    None => break,
                }
            }
        });
        client
            .batch_execute(&format!("LISTEN {APPENDED_CHANNEL}"))
            .await
            .map_err(|e| self.unavailable("listening for appends", &e))?;
        Ok(Listener { _client: client, woken })
    }
}

/// The record columns of an append, as arrays for `unnest`.
struct Columns<'a> {
    positions: Vec<i64>,
    streams: Vec<Option<String>>,
    stream_versions: Vec<Option<i64>>,
    ends_command: Vec<bool>,
    hashes: Vec<&'a [u8]>,
    bytes: Vec<&'a [u8]>,
}

impl<'a> Columns<'a> {
    fn of(records: &'a [StoredRecord]) -> Result<Columns<'a>, StoreError> {
        let mut columns = Columns {
            positions: Vec::with_capacity(records.len()),
            streams: Vec::with_capacity(records.len()),
            stream_versions: Vec::with_capacity(records.len()),
            ends_command: Vec::with_capacity(records.len()),
            hashes: Vec::with_capacity(records.len()),
            bytes: Vec::with_capacity(records.len()),
        };
        for record in records {
            columns.positions.push(position_param(record.position)?);
            let stream = envelope_stream(&record.bytes);
            columns.stream_versions.push(stream.as_ref().map(|(_, version)| *version));
            columns.streams.push(stream.map(|(stream, _)| stream));
            columns.ends_command.push(record.ends_command);
            columns.hashes.push(record.hash.as_slice());
            columns.bytes.push(record.bytes.as_slice());
        }
        Ok(columns)
    }
}

fn position_param(position: u64) -> Result<i64, StoreError> {
    i64::try_from(position)
        .map_err(|_| StoreError::OutOfSequence(format!("position {position} does not fit a bigint")))
}

fn hash_from(bytes: &[u8]) -> Option<Hash> {
    Hash::try_from(bytes).ok()
}

fn head_from_row(row: &tokio_postgres::Row) -> Result<Head, String> {
    let position: i64 = row.try_get(0).map_err(|e| e.to_string())?;
    let hash: Vec<u8> = row.try_get(1).map_err(|e| e.to_string())?;
    let position = u64::try_from(position).map_err(|_| format!("negative head position {position}"))?;
    let hash = hash_from(&hash).ok_or_else(|| format!("head hash of {} bytes", hash.len()))?;
    Ok(Head { position, hash })
}

/// The batch follows `expected` without gaps, is not empty, and ends a command (as the file log checks).
/// Returns the head after it.
fn check_batch(expected: Head, records: &[StoredRecord]) -> Result<Head, StoreError> {
    let Some(last) = records.last() else {
        return Err(StoreError::OutOfSequence("empty batch".into()));
    };
    for (i, record) in records.iter().enumerate() {
        let want = expected.position + 1 + i as u64;
        if record.position != want {
            return Err(StoreError::OutOfSequence(format!(
                "record {i} of the batch has position {} but {want} was expected (head {})",
                record.position, expected.position
            )));
        }
    }
    if !last.ends_command {
        return Err(StoreError::OutOfSequence(format!(
            "the last record of the batch (position {}) does not end a command",
            last.position
        )));
    }
    Ok(Head { position: last.position, hash: last.hash })
}

fn unavailable(target: &str, what: &str, error: &dyn Describe) -> StoreError {
    StoreError::Unavailable(io::Error::other(format!("PostgreSQL at {target}: {what}: {}", error.describe())))
}

/// An error's text for a message, with its causes: tokio-postgres keeps the cause (the server's message, the
/// OS error) in `source()`, not in its `Display`.
trait Describe {
    fn describe(&self) -> String;
}

fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

impl Describe for tokio_postgres::Error {
    fn describe(&self) -> String {
        with_sources(self)
    }
}

impl Describe for refinery::Error {
    fn describe(&self) -> String {
        with_sources(self)
    }
}

impl Describe for &str {
    fn describe(&self) -> String {
        (*self).to_owned()
    }
}

impl Describe for String {
    fn describe(&self) -> String {
        self.clone()
    }
}

/// Parses a PostgreSQL URL (or key=value connection string), with the defaults of this backend: a connect
/// timeout, TCP keepalives, the application name, and the password from `PGPASSWORD` when the URL has none.
#[cfg(test)]
fn parse_url(url: &str) -> Result<Config, StoreError> {
    parse_url_tls(url).map(|(config, _)| config)
}

/// [`parse_url`], with `sslmode` and `sslrootcert` taken off first (`tokio-postgres` knows neither the
/// `verify-*` modes nor `sslrootcert`) and returned.
fn parse_url_tls(url: &str) -> Result<(Config, crate::pg_tls::TlsSettings), StoreError> {
    let (url, tls) = crate::pg_tls::split_tls(url)?;
    let mut config: Config = url.parse().map_err(|error: tokio_postgres::Error| {
        // The parser's message never contains the password; the URL itself is not repeated.
        StoreError::Unavailable(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a valid PostgreSQL URL: {error}"),
        ))
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("voucher-ledger");
    }
    config.keepalives(true).keepalives_idle(Duration::from_secs(30));
    if config.get_password().is_none()
        && let Ok(password) = std::env::var("PGPASSWORD")
    {
        config.password(password);
    }
    config.ssl_mode(crate::pg_tls::pg_ssl_mode(&tls));
    Ok((config, tls))
}

/// `postgres://user@host:port/dbname` of a URL, without its password (for messages and logs). A string that
/// does not parse is described as such, never echoed.
pub fn describe_url(url: &str) -> String {
    let url = crate::pg_tls::split_tls(url).map_or_else(|_| url.to_owned(), |(rest, _)| rest);
    match url.parse::<Config>() {
        Ok(config) => describe_config(&config),
        Err(_) => "<invalid PostgreSQL URL>".into(),
    }
}

fn describe_config(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let host = match host {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            };
            match config.get_ports().get(i).or(config.get_ports().first()) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
        .collect();
    let user = config.get_user().map(|user| format!("{user}@")).unwrap_or_default();
    let dbname = config.get_dbname().unwrap_or("");
    format!("postgres://{user}{}/{dbname}", hosts.join(","))
}

/// Connects, drives the connection on a task, and makes sure commits are durable in this session.
async fn connect(config: &Config, tls: &MakeRustlsConnect, target: &str) -> Result<Client, StoreError> {
    let (client, connection) =
        config.connect(tls.clone()).await.map_err(|e| unavailable(target, "connecting", &e))?;
    let driver_target = target.to_owned();
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(target = %driver_target, %error, "PostgreSQL: connection closed with an error");
        }
    });
    let settings = client
        .query_one("SELECT current_setting('synchronous_commit'), current_setting('fsync')", &[])
        .await
        .map_err(|e| unavailable(target, "reading the durability settings", &e))?;
    let synchronous_commit: String =
        settings.try_get(0).map_err(|e| unavailable(target, "reading the durability settings", &e))?;
    let fsync: String =
        settings.try_get(1).map_err(|e| unavailable(target, "reading the durability settings", &e))?;
    if synchronous_commit == "off" {
        client
            .batch_execute("SET synchronous_commit TO on")
            .await
            .map_err(|e| unavailable(target, "turning synchronous_commit on", &e))?;
        tracing::info!(%target, "PostgreSQL: synchronous_commit was off; turned on for this session");
    }
    if fsync == "off" {
        tracing::warn!(%target, "PostgreSQL: the server runs with fsync off: acknowledged appends can be lost in a crash");
    }
    Ok(client)
}

/// The envelope's `stream` (field 2) and `stream_version` (field 3), read from the protobuf wire format
/// without knowing the rest of the message. `None` when the bytes are not such a message, the stream is
/// empty or the version is 0 (absent) or does not fit a bigint.
fn envelope_stream(bytes: &[u8]) -> Option<(String, i64)> {
    let mut at = 0usize;
    let mut stream = None;
    let mut version = None;
    while at < bytes.len() {
        let key = varint(bytes, &mut at)?;
        let field = key >> 3;
        match key & 7 {
            0 => {
                let value = varint(bytes, &mut at)?;
                if field == 3 {
                    version = Some(value);
                }
            }
            1 => at = at.checked_add(8)?,
            2 => {
                let len = usize::try_from(varint(bytes, &mut at)?).ok()?;
                let end = at.checked_add(len)?;
                let value = bytes.get(at..end)?;
                if field == 2 {
                    stream = Some(std::str::from_utf8(value).ok()?.to_owned());
                }
                at = end;
            }
            5 => at = at.checked_add(4)?,
            _ => return None,
        }
        if at > bytes.len() {
            return None;
        }
    }
    let version = i64::try_from(version?).ok().filter(|v| *v > 0)?;
    stream.filter(|s| !s.is_empty()).map(|stream| (stream, version))
}

fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_varint(mut value: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    fn length_delimited(field: u64, value: &[u8], out: &mut Vec<u8>) {
        encode_varint(field << 3 | 2, out);
        encode_varint(value.len() as u64, out);
        out.extend_from_slice(value);
    }

    #[test]
    fn reads_stream_and_version_among_other_fields() {
        let mut bytes = Vec::new();
        length_delimited(1, &[7; 16], &mut bytes);
        length_delimited(2, b"voucher-0190", &mut bytes);
        encode_varint(3 << 3, &mut bytes);
        encode_varint(300, &mut bytes);
        encode_varint(4 << 3, &mut bytes);
        encode_varint(12, &mut bytes);
        encode_varint(7 << 3 | 1, &mut bytes);
        bytes.extend_from_slice(&[1; 8]);
        encode_varint(6 << 3 | 5, &mut bytes);
        bytes.extend_from_slice(&[1; 4]);
        length_delimited(14, &[0xff; 200], &mut bytes);
        assert_eq!(envelope_stream(&bytes), Some(("voucher-0190".to_owned(), 300)));
    }

    #[test]
    fn bytes_that_are_not_an_envelope_have_no_stream() {
        assert_eq!(envelope_stream(b"record 1"), None);
        assert_eq!(envelope_stream(&[]), None);
        let mut no_version = Vec::new();
        length_delimited(2, b"voucher-1", &mut no_version);
        assert_eq!(envelope_stream(&no_version), None);
        let mut truncated = Vec::new();
        length_delimited(2, b"voucher-1", &mut truncated);
        truncated.truncate(5);
        assert_eq!(envelope_stream(&truncated), None);
        let mut bad_wire_type = vec![2 << 3 | 3];
        bad_wire_type.push(0);
        assert_eq!(envelope_stream(&bad_wire_type), None);
    }

    #[test]
    fn the_append_notifies_the_channel_followers_listen_on() {
        assert!(APPEND_SQL.contains(&format!("pg_notify('{APPENDED_CHANNEL}', '')")), "{APPEND_SQL}");
    }

    #[test]
    fn describes_a_url_without_its_password() {
        let described = describe_url("postgres://ledger:s3cret@db.example:5433/vouchers");
        assert_eq!(described, "postgres://ledger@db.example:5433/vouchers");
        assert!(!described.contains("s3cret"));
        assert_eq!(describe_url("postgres://ledger:s3cret@[bad"), "<invalid PostgreSQL URL>");
        let with_tls =
            "postgres://ledger:s3cret@db.example:5433/vouchers?sslmode=verify-full&sslrootcert=/r.crt";
        assert_eq!(describe_url(with_tls), "postgres://ledger@db.example:5433/vouchers");
    }

    #[test]
    fn a_bad_url_is_unavailable_without_echoing_it() {
        let Err(StoreError::Unavailable(error)) = parse_url("postgres://u:s3cret@host:notaport/db") else {
            panic!("a bad port must be refused");
        };
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}
