//! The KurrentDB (formerly EventStoreDB) backend, through the official gRPC client `kurrentdb` (cargo feature
//! `kurrentdb` of this crate, off by default so the default build does not compile the gRPC stack).
//!
//! # Mapping
//! - **One stream per deployment**: the whole ledger is the stream `ledger-<name>` (`<name>` from the URL's
//!   `ledger=` parameter, default `main`). Record position `p` (from 1) is stream revision `p - 1` (from 0).
//! - **Event id** = the record's UUID: field 1 of the protobuf envelope, read with a tiny wire-format scanner
//!   (the store stays independent of `ledger-proto`). Bytes without such a field get a UUID made from the
//!   first 16 bytes of the record's hash (deterministic, so a retried append carries the same ids and the
//!   server deduplicates it).
//! - **Data** = the record's exact bytes, as a binary event of type [`EVENT_TYPE`]: the chain is the same bytes
//!   on every backend.
//! - **Custom metadata** = a 34-byte binary header: byte 0 the header version (1), byte 1 flags (bit 0:
//!   `ends_command`), bytes 2..34 the record's hash.
//!
//! # Appends and fencing
//! An append sends the batch with `StreamState::NoStream` (empty log) or `StreamState::StreamRevision(head - 1)`,
//! so the server refuses it (`WrongExpectedVersion` → [`StoreError::Conflict`]) when another writer appended
//! meanwhile: two writers can never fork the chain. The expected head's hash is checked against the last
//! record the client knows of (read from the server when unknown). An append is one gRPC call, atomic on
//! the server, and acknowledged after the server wrote it (a cluster acknowledges after a quorum).
//!
//! # Following
//! [`EventLog::follow`] is a catch-up subscription to the stream (`subscribe_to_stream`, without the client's
//! own retries): the server sends the records from the requested position, then each new one as it is
//! written. Each event goes through [`SubscriptionCursor`], which maps it back with [`from_event`] and
//! refuses a gap or a repeat (`Corrupt`). The subscription runs on a task of its own that feeds a channel,
//! so a panic inside the client ends the stream with an error instead of taking the reader down. Until the
//! server confirms the subscription the wait is bounded by [`OPERATION_TIMEOUT`]; afterwards a lost
//! connection ends it with an error (gRPC keep-alive), and the caller subscribes again from its head.
//!
//! # Errors and reconnection
//! A malformed URL, an unreachable server, a lost connection or a timeout ([`OPERATION_TIMEOUT`]) is
//! [`StoreError::Unavailable`]; nothing panics. The client reselects a node on the next call after a
//! connection error, so a server that comes back is used again without restarting the process.

use std::io;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use kurrentdb::{
    AppendToStreamOptions, Client, ClientSettings, EventData, ReadStreamOptions, StreamPosition, StreamState,
    SubscribeToStreamOptions, SubscriptionEvent,
};
use tokio::sync::mpsc;

use crate::{EventLog, Hash, Head, StoreError, StoredRecord};

/// The event type of every record.
pub const EVENT_TYPE: &str = "LedgerRecord";

/// The version of the custom-metadata header.
const HEADER_VERSION: u8 = 1;

/// Length of the custom-metadata header: version, flags, hash.
pub const HEADER_LEN: usize = 34;

/// Bound on one call to the server (connect included), so an unreachable server is an error, never a hang.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// Records a subscription may deliver ahead of its reader.
const FOLLOW_BUFFER: usize = 1024;

/// The ledger name when the URL has no `ledger=` parameter.
pub const DEFAULT_LEDGER: &str = "main";

/// The `EventLog` on a KurrentDB stream.
pub struct KurrentLog {
    client: Client,
    stream: String,
    described: String,
    write: bool,
    /// The last head this client read or wrote: it saves a read before each append.
    known_head: Mutex<Option<Head>>,
}

impl std::fmt::Debug for KurrentLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KurrentLog").field("server", &self.described).field("stream", &self.stream).finish()
    }
}

/// A parsed `kurrentdb://` store URL: the client's connection string and the ledger's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KurrentUrl {
    /// The connection string handed to the client (the `ledger=` parameter removed).
    pub connection: String,
    /// `ledger-<name>`.
    pub stream: String,
}

/// Splits the `ledger=` parameter off a `kurrentdb://` (or `esdb://`, `kurrent://`, `kdb://`) URL.
///
/// # Errors
/// An empty or unusable ledger name.
pub fn parse_url(url: &str) -> Result<KurrentUrl, String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut name = DEFAULT_LEDGER.to_owned();
    let mut kept = Vec::new();
    for pair in query.into_iter().flat_map(|q| q.split('&')).filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("ledger") => name = value.to_owned(),
            _ => kept.push(pair),
        }
    }
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format!("invalid ledger name {name:?}: use letters, digits, '-' and '_'"));
    }
    let connection = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    Ok(KurrentUrl { connection, stream: format!("ledger-{name}") })
}

/// The URL for messages and logs: scheme, hosts, parameters, never the user or password.
pub fn describe_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let rest = match rest.rsplit_once('@') {
                Some((_, hosts)) => hosts,
                None => rest,
            };
            format!("{scheme}://{rest}")
        }
        None => "<invalid KurrentDB URL>".into(),
    }
}

impl KurrentLog {
    /// Connects to the server named by `url` (`kurrentdb://host:2113?tls=false&ledger=main`) for appending,
    /// and reads the head, so an unreachable server is reported here.
    ///
    /// # Errors
    /// `Unavailable` for a malformed URL, an unreachable server or a timeout.
    pub async fn open(url: &str) -> Result<KurrentLog, StoreError> {
        Self::connect(url, true).await
    }

    /// Like [`KurrentLog::open`], but `append` is refused: a replica or a verifier.
    ///
    /// # Errors
    /// As for [`KurrentLog::open`].
    pub async fn open_read_only(url: &str) -> Result<KurrentLog, StoreError> {
        Self::connect(url, false).await
    }

    async fn connect(url: &str, write: bool) -> Result<KurrentLog, StoreError> {
        let described = describe_url(url);
        let parsed = parse_url(url).map_err(|e| unavailable_msg(&described, &e))?;
        let settings: ClientSettings =
            parsed.connection.parse().map_err(|e: kurrentdb::ClientSettingsParseError| {
                unavailable_msg(&described, &format!("invalid connection string: {}", e.message()))
            })?;
        let client = Client::new(settings).map_err(|e| unavailable_msg(&described, &e.to_string()))?;
        let log =
            KurrentLog { client, stream: parsed.stream, described, write, known_head: Mutex::new(None) };
        log.head().await?;
        Ok(log)
    }

    /// The stream this ledger lives in.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    fn remember(&self, head: Head) {
        if let Ok(mut known) = self.known_head.lock() {
            *known = Some(head);
        }
    }

    fn forget(&self) {
        if let Ok(mut known) = self.known_head.lock() {
            *known = None;
        }
    }

    fn known(&self) -> Option<Head> {
        self.known_head.lock().ok().and_then(|known| *known)
    }

    async fn timed<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, kurrentdb::Error>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(OPERATION_TIMEOUT, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(map_error(&self.described, what, &error)),
            Err(_) => Err(StoreError::Unavailable(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("KurrentDB {}: {what}: no answer within {OPERATION_TIMEOUT:?}", self.described),
            ))),
        }
    }

    async fn read_head(&self) -> Result<Head, StoreError> {
        let options = ReadStreamOptions::default().position(StreamPosition::End).backwards().max_count(1);
        let stream = self.stream.clone();
        let last = self
            .timed("reading the head", async {
                let mut read = match self.client.read_stream(stream.as_str(), &options).await {
                    Ok(read) => read,
                    Err(kurrentdb::Error::ResourceNotFound) => return Ok(None),
                    Err(error) => return Err(error),
                };
                match read.next().await {
                    Ok(Some(event)) => Ok(event.event.map(|e| (e.revision, e.custom_metadata))),
                    Ok(None) | Err(kurrentdb::Error::ResourceNotFound) => Ok(None),
                    Err(error) => Err(error),
                }
            })
            .await?;
        let head = match last {
            None => Head::GENESIS,
            Some((revision, header)) => {
                let position = revision_to_position(revision);
                let (_, hash) =
                    decode_header(&header).map_err(|reason| StoreError::Corrupt { position, reason })?;
                Head { position, hash }
            }
        };
        self.remember(head);
        Ok(head)
    }
}

#[async_trait]
impl EventLog for KurrentLog {
    async fn head(&self) -> Result<Head, StoreError> {
        self.read_head().await
    }

    async fn append(&self, expected: Head, records: Vec<StoredRecord>) -> Result<Head, StoreError> {
        if !self.write {
            return Err(unavailable_msg(&self.described, "this log was opened read-only"));
        }
        check_sequence(expected, &records)?;
        let Some(last) = records.last() else {
            return Ok(expected);
        };
        let new_head = Head { position: last.position, hash: last.hash };
        // The server fences on the revision; the hash of the expected head is checked here.
        let current = match self.known() {
            Some(head) if head.position == expected.position => head,
            _ => self.read_head().await?,
        };
        if current != expected {
            return Err(StoreError::Conflict { expected, actual: current });
        }
        let options = AppendToStreamOptions::default().stream_state(expected_state(expected.position));
        let events: Vec<EventData> = records.iter().map(|r| to_event(r).into_event_data()).collect();
        let stream = self.stream.clone();
        let result =
            self.timed("appending", self.client.append_to_stream(stream.as_str(), &options, events)).await;
        match result {
            Ok(_) => {
                self.remember(new_head);
                Ok(new_head)
            }
            Err(StoreError::Conflict { .. }) => {
                self.forget();
                let actual = self.read_head().await.unwrap_or(Head { position: u64::MAX, hash: [0; 32] });
                Err(StoreError::Conflict { expected, actual })
            }
            Err(error) => {
                self.forget();
                Err(error)
            }
        }
    }

    async fn read_batch(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        let from = from.max(1);
        if max == 0 {
            return Ok(Vec::new());
        }
        let options = ReadStreamOptions::default()
            .forwards()
            .position(StreamPosition::Position(position_to_revision(from)))
            .max_count(max);
        let stream = self.stream.clone();
        let events = self
            .timed("reading", async {
                let mut read = match self.client.read_stream(stream.as_str(), &options).await {
                    Ok(read) => read,
                    Err(kurrentdb::Error::ResourceNotFound) => return Ok(Vec::new()),
                    Err(error) => return Err(error),
                };
                let mut events = Vec::new();
                loop {
                    match read.next().await {
                        Ok(Some(event)) => {
                            if let Some(e) = event.event {
                                events.push((e.revision, e.custom_metadata, e.data));
                            }
                        }
                        Ok(None) | Err(kurrentdb::Error::ResourceNotFound) => break,
                        Err(error) => return Err(error),
                    }
                    if events.len() >= max {
                        break;
                    }
                }
                Ok(events)
            })
            .await?;
        let mut records = Vec::with_capacity(events.len());
        for (i, (revision, header, data)) in events.into_iter().enumerate() {
            let position = from + i as u64;
            records.push(from_event(position, revision, &header, data.to_vec())?);
        }
        Ok(records)
    }

    fn follow(&self, from: u64) -> BoxStream<'_, Result<StoredRecord, StoreError>> {
        let client = self.client.clone();
        let stream = self.stream.clone();
        let described = self.described.clone();
        let start = async move {
            let (sender, receiver) = mpsc::channel(FOLLOW_BUFFER);
            let task = tokio::spawn(subscribe(client, stream, described.clone(), from, sender.clone()));
            tokio::spawn(async move {
                if let Err(error) = task.await
                    && error.is_panic()
                {
                    let panicked = unavailable_msg(&described, "following: the subscription task panicked");
                    let _closed = sender.send(Err(panicked)).await;
                }
            });
            futures::stream::unfold(receiver, |mut receiver| async move {
                receiver.recv().await.map(|item| (item, receiver))
            })
        };
        futures::stream::once(start).flatten().boxed()
    }
}

/// Runs one catch-up subscription from position `from`, sending each record (or the error that ends it)
/// until the reader is gone.
async fn subscribe(
    client: Client,
    stream: String,
    described: String,
    from: u64,
    sender: mpsc::Sender<Result<StoredRecord, StoreError>>,
) {
    let options = SubscribeToStreamOptions::default().start_from(subscription_start(from));
    let mut subscription = client.subscribe_to_stream(stream.as_str(), &options).await;
    let mut cursor = SubscriptionCursor::new(from);
    let mut confirmed = false;
    loop {
        let next = async {
            if confirmed {
                return subscription
                    .next_subscription_event()
                    .await
                    .map_err(|e| map_error(&described, "following", &e));
            }
            match tokio::time::timeout(OPERATION_TIMEOUT, subscription.next_subscription_event()).await {
                Ok(next) => next.map_err(|e| map_error(&described, "subscribing", &e)),
                Err(_) => Err(StoreError::Unavailable(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("KurrentDB {described}: subscribing: no answer within {OPERATION_TIMEOUT:?}"),
                ))),
            }
        };
        let event = tokio::select! {
            () = sender.closed() => return,
            event = next => event,
        };
        let item = match event {
            Ok(SubscriptionEvent::EventAppeared(resolved)) => {
                confirmed = true;
                match resolved.event {
                    Some(e) => cursor.accept(e.revision, &e.custom_metadata, e.data.to_vec()),
                    None => Err(StoreError::Corrupt {
                        position: cursor.next(),
                        reason: "the subscription delivered an event without its record".into(),
                    }),
                }
            }
            Ok(_) => {
                // Confirmation, caught up, checkpoints: the subscription is alive.
                confirmed = true;
                continue;
            }
            Err(error) => Err(error),
        };
        let failed = item.is_err();
        if sender.send(item).await.is_err() || failed {
            return;
        }
    }
}

/// Where a subscription starts for the records from position `from` on. A stream subscription starts
/// *after* the revision it is given, so position `p` (revision `p - 1`) needs revision `p - 2`, and position
/// 1 the start of the stream.
pub fn subscription_start(from: u64) -> StreamPosition<u64> {
    match from {
        0 | 1 => StreamPosition::Start,
        from => StreamPosition::Position(from - 2),
    }
}

/// The position a subscription expects next: it maps each delivered event (its revision, custom metadata
/// and data) back to its record with [`from_event`] and refuses one out of place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionCursor {
    next: u64,
}

impl SubscriptionCursor {
    /// A cursor for a subscription that delivers the records from position `from` on.
    pub fn new(from: u64) -> SubscriptionCursor {
        SubscriptionCursor { next: from.max(1) }
    }

    /// The position expected next.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// The record of the next delivered event; the cursor moves only when it is the expected one.
    ///
    /// # Errors
    /// `Corrupt` for a gap, a repeat or a damaged header.
    pub fn accept(
        &mut self,
        revision: u64,
        header: &[u8],
        data: Vec<u8>,
    ) -> Result<StoredRecord, StoreError> {
        let position = revision_to_position(revision);
        if position != self.next {
            let found = if position > self.next { "a gap" } else { "a repeat" };
            return Err(StoreError::Corrupt {
                position: self.next,
                reason: format!(
                    "{found}: the subscription delivered stream revision {revision} where {} was expected",
                    position_to_revision(self.next)
                ),
            });
        }
        let record = from_event(position, revision, header, data)?;
        self.next += 1;
        Ok(record)
    }
}

/// The stream state an append expects when the log's head is at `head_position`.
pub fn expected_state(head_position: u64) -> StreamState {
    if head_position == 0 { StreamState::NoStream } else { StreamState::StreamRevision(head_position - 1) }
}

/// Record position (from 1) → stream revision (from 0).
pub fn position_to_revision(position: u64) -> u64 {
    position.saturating_sub(1)
}

/// Stream revision (from 0) → record position (from 1).
pub fn revision_to_position(revision: u64) -> u64 {
    revision + 1
}

fn check_sequence(expected: Head, records: &[StoredRecord]) -> Result<(), StoreError> {
    for (i, record) in records.iter().enumerate() {
        let want = expected.position + 1 + i as u64;
        if record.position != want {
            return Err(StoreError::OutOfSequence(format!(
                "record {i} has position {} but {want} follows the head",
                record.position
            )));
        }
    }
    Ok(())
}

/// What a record becomes on the server, before it is handed to the client (so it can be tested).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventParts {
    pub id: uuid::Uuid,
    pub header: [u8; HEADER_LEN],
    pub data: Vec<u8>,
}

impl EventParts {
    fn into_event_data(self) -> EventData {
        EventData::binary(EVENT_TYPE, self.data.into()).id(self.id).metadata(self.header.to_vec().into())
    }
}

/// Maps a record to its event: id, header, exact bytes.
pub fn to_event(record: &StoredRecord) -> EventParts {
    let id = envelope_id(&record.bytes).unwrap_or_else(|| id_from_hash(&record.hash));
    EventParts { id, header: encode_header(record.ends_command, &record.hash), data: record.bytes.clone() }
}

/// Maps an event read back at `position` (its stream `revision`, custom metadata and data) to the record.
///
/// # Errors
/// `Corrupt` when the revision is not the position's or the header is damaged.
pub fn from_event(
    position: u64,
    revision: u64,
    header: &[u8],
    data: Vec<u8>,
) -> Result<StoredRecord, StoreError> {
    if revision_to_position(revision) != position {
        return Err(StoreError::Corrupt {
            position,
            reason: format!(
                "stream revision {revision} where {} was expected",
                position_to_revision(position)
            ),
        });
    }
    let (ends_command, hash) =
        decode_header(header).map_err(|reason| StoreError::Corrupt { position, reason })?;
    Ok(StoredRecord { position, ends_command, hash, bytes: data })
}

/// The 34-byte header: version, flags (bit 0 `ends_command`), hash.
pub fn encode_header(ends_command: bool, hash: &Hash) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[0] = HEADER_VERSION;
    header[1] = u8::from(ends_command);
    header[2..].copy_from_slice(hash);
    header
}

/// Reads the header back.
///
/// # Errors
/// A message naming what is wrong (length, version, flags).
pub fn decode_header(header: &[u8]) -> Result<(bool, Hash), String> {
    if header.len() != HEADER_LEN {
        return Err(format!("record header of {} bytes, expected {HEADER_LEN}", header.len()));
    }
    if header[0] != HEADER_VERSION {
        return Err(format!("unknown record header version {}", header[0]));
    }
    if header[1] > 1 {
        return Err(format!("unknown record header flags {:#04x}", header[1]));
    }
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&header[2..]);
    Ok((header[1] == 1, hash))
}

/// A UUID made from the first 16 bytes of the record's hash (for bytes without an envelope id).
fn id_from_hash(hash: &Hash) -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The envelope's `id` (field 1, 16 bytes), read from the protobuf wire format.
pub fn envelope_id(bytes: &[u8]) -> Option<uuid::Uuid> {
    let mut at = 0usize;
    while at < bytes.len() {
        let key = varint(bytes, &mut at)?;
        let field = key >> 3;
        match key & 7 {
            0 => {
                varint(bytes, &mut at)?;
            }
            1 => at = at.checked_add(8)?,
            2 => {
                let len = usize::try_from(varint(bytes, &mut at)?).ok()?;
                let end = at.checked_add(len)?;
                let value = bytes.get(at..end)?;
                if field == 1 {
                    return uuid::Uuid::from_slice(value).ok();
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
    None
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

fn unavailable_msg(server: &str, message: &str) -> StoreError {
    StoreError::Unavailable(io::Error::other(format!("KurrentDB {server}: {message}")))
}

/// Maps a client error to a store error: a wrong expected version is a `Conflict` (the caller reads the
/// actual head), anything else `Unavailable` naming the server and what was being done.
pub fn map_error(server: &str, what: &str, error: &kurrentdb::Error) -> StoreError {
    use kurrentdb::Error as E;
    match error {
        E::WrongExpectedVersion { .. } => StoreError::Conflict {
            expected: Head::GENESIS,
            actual: Head { position: u64::MAX, hash: [0; 32] },
        },
        E::DeadlineExceeded => StoreError::Unavailable(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("KurrentDB {server}: {what}: deadline exceeded"),
        )),
        E::AccessDenied => StoreError::Unavailable(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("KurrentDB {server}: {what}: access denied (check the user in the URL)"),
        )),
        E::ConnectionClosed | E::GrpcConnectionError(_) | E::ServerError(_) | E::NotLeaderException(_) => {
            StoreError::Unavailable(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("KurrentDB {server}: {what}: {error}"),
            ))
        }
        other => unavailable_msg(server, &format!("{what}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(id: &[u8; 16], rest: &[u8]) -> Vec<u8> {
        let mut out = vec![1 << 3 | 2, 16];
        out.extend_from_slice(id);
        out.extend_from_slice(rest);
        out
    }

    fn record(position: u64, ends_command: bool, bytes: Vec<u8>) -> StoredRecord {
        StoredRecord { position, ends_command, hash: [position as u8; 32], bytes }
    }

    #[test]
    fn a_record_maps_to_its_event_and_back_byte_for_byte() {
        let id = [7u8; 16];
        // Field 2 (stream) before field 1 and a varint field after: the scanner skips what it does not need.
        let mut bytes = vec![2 << 3 | 2, 3, b'a', b'b', b'c'];
        bytes.extend(envelope(&id, &[3 << 3, 5]));
        for ends_command in [false, true] {
            let rec = record(42, ends_command, bytes.clone());
            let event = to_event(&rec);
            assert_eq!(event.id, uuid::Uuid::from_bytes(id));
            assert_eq!(event.data, bytes);
            let back = from_event(42, 41, &event.header, event.data).expect("maps back");
            assert_eq!(back, rec);
        }
    }

    #[test]
    fn bytes_without_an_envelope_id_get_an_id_from_their_hash() {
        let rec = record(1, true, b"not an envelope \xff\xff".to_vec());
        let a = to_event(&rec);
        let b = to_event(&rec);
        assert_eq!(a.id, b.id, "a retried append carries the same id");
        assert_eq!(a.id.as_bytes()[..6], [1u8; 6][..], "made from the hash");
        assert_eq!(envelope_id(&[]), None);
        assert_eq!(envelope_id(&[1 << 3 | 2, 15]), None, "truncated");
        assert_eq!(envelope_id(&[1 << 3 | 2, 2, 1, 2]), None, "not 16 bytes");
        assert_eq!(envelope_id(&[1 << 3 | 3]), None, "bad wire type");
    }

    #[test]
    fn positions_and_revisions() {
        assert_eq!(position_to_revision(1), 0);
        assert_eq!(revision_to_position(0), 1);
        assert_eq!(revision_to_position(position_to_revision(12_345)), 12_345);
        assert!(matches!(expected_state(0), StreamState::NoStream));
        assert!(matches!(expected_state(1), StreamState::StreamRevision(0)));
        assert!(matches!(expected_state(100), StreamState::StreamRevision(99)));
    }

    #[test]
    fn a_damaged_header_or_revision_is_corrupt() {
        let header = encode_header(true, &[9; 32]);
        assert!(matches!(from_event(5, 3, &header, vec![]), Err(StoreError::Corrupt { position: 5, .. })));
        assert!(matches!(from_event(5, 4, &header[..33], vec![]), Err(StoreError::Corrupt { .. })));
        let mut bad = header;
        bad[0] = 2;
        assert!(decode_header(&bad).is_err());
        bad = header;
        bad[1] = 3;
        assert!(decode_header(&bad).is_err());
        assert_eq!(decode_header(&header), Ok((true, [9; 32])));
    }

    #[test]
    fn a_subscription_starts_after_the_revision_before_the_first_wanted_record() {
        assert!(matches!(subscription_start(0), StreamPosition::Start));
        assert!(matches!(subscription_start(1), StreamPosition::Start));
        // Position 2 is revision 1; the subscription starts after revision 0.
        assert!(matches!(subscription_start(2), StreamPosition::Position(0)));
        assert!(matches!(subscription_start(101), StreamPosition::Position(99)));
    }

    #[test]
    fn a_subscription_cursor_maps_consecutive_events_and_refuses_gaps_and_repeats() {
        let header = |p: u64| encode_header(p.is_multiple_of(2), &[p as u8; 32]);
        let mut cursor = SubscriptionCursor::new(5);
        for position in 5..8 {
            let record = cursor.accept(position - 1, &header(position), vec![position as u8]).expect("next");
            assert_eq!(
                record,
                StoredRecord {
                    position,
                    ends_command: position.is_multiple_of(2),
                    hash: [position as u8; 32],
                    bytes: vec![position as u8],
                }
            );
        }
        assert_eq!(cursor.next(), 8);
        // Revision 8 is position 9: position 8 was skipped.
        let gap = cursor.accept(8, &header(9), vec![]);
        assert!(
            matches!(&gap, Err(StoreError::Corrupt { position: 8, reason }) if reason.contains("gap")),
            "{gap:?}"
        );
        let repeat = cursor.accept(5, &header(6), vec![]);
        assert!(
            matches!(&repeat, Err(StoreError::Corrupt { position: 8, reason }) if reason.contains("repeat")),
            "{repeat:?}"
        );
        let damaged = cursor.accept(7, &header(8)[..10], vec![]);
        assert!(matches!(damaged, Err(StoreError::Corrupt { position: 8, .. })), "{damaged:?}");
        assert_eq!(cursor.next(), 8, "a refused event does not move the cursor");
        assert!(cursor.accept(7, &header(8), vec![]).is_ok());
        assert_eq!(SubscriptionCursor::new(0).next(), 1);
    }

    #[test]
    fn batches_must_follow_the_head() {
        let head = Head { position: 3, hash: [0; 32] };
        assert!(check_sequence(head, &[record(4, false, vec![]), record(5, true, vec![])]).is_ok());
        assert!(matches!(
            check_sequence(head, &[record(5, true, vec![])]),
            Err(StoreError::OutOfSequence(_))
        ));
    }

    #[test]
    fn errors_map_to_conflict_or_a_clear_unavailable() {
        let conflict = kurrentdb::Error::WrongExpectedVersion {
            expected: StreamState::StreamRevision(1),
            current: kurrentdb::CurrentRevision::Current(2),
        };
        assert!(matches!(map_error("s", "appending", &conflict), StoreError::Conflict { .. }));
        for error in [
            kurrentdb::Error::ConnectionClosed,
            kurrentdb::Error::DeadlineExceeded,
            kurrentdb::Error::AccessDenied,
            kurrentdb::Error::ServerError("gone".into()),
        ] {
            let mapped = map_error("kurrentdb://db:2113", "appending", &error);
            let StoreError::Unavailable(io) = mapped else { panic!("{error} should be Unavailable") };
            assert!(io.to_string().contains("kurrentdb://db:2113"), "{io}");
        }
    }

    #[test]
    fn urls_name_the_stream_and_never_the_password() {
        let parsed = parse_url("kurrentdb://admin:changeit@db:2113?tls=false&ledger=prod-1").expect("parses");
        assert_eq!(parsed.stream, "ledger-prod-1");
        assert_eq!(parsed.connection, "kurrentdb://admin:changeit@db:2113?tls=false");
        assert_eq!(parse_url("kurrentdb://db:2113").expect("parses").stream, "ledger-main");
        assert!(parse_url("kurrentdb://db?ledger=a/b").is_err());
        let described = describe_url("kurrentdb://admin:changeit@db:2113?tls=false");
        assert_eq!(described, "kurrentdb://db:2113?tls=false");
    }

    #[tokio::test]
    async fn a_closed_port_is_a_clear_error_within_a_bounded_time() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let started = std::time::Instant::now();
        let opened = KurrentLog::open(&format!("kurrentdb://127.0.0.1:{port}?tls=false")).await;
        assert!(started.elapsed() < OPERATION_TIMEOUT + Duration::from_secs(5), "{:?}", started.elapsed());
        let Err(StoreError::Unavailable(error)) = opened else {
            panic!("expected Unavailable, got {opened:?}")
        };
        assert!(error.to_string().contains(&format!("127.0.0.1:{port}")), "{error}");
    }

    #[tokio::test]
    async fn following_a_closed_port_ends_with_a_clear_error_within_a_bounded_time() {
        // Built directly (open would fail on its head read): following is what is tested.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let url = format!("kurrentdb://127.0.0.1:{port}?tls=false");
        let settings: ClientSettings = url.parse().expect("settings");
        let log = KurrentLog {
            client: Client::new(settings).expect("client"),
            stream: "ledger-main".into(),
            described: describe_url(&url),
            write: false,
            known_head: Mutex::new(None),
        };
        let started = std::time::Instant::now();
        let mut follow = log.follow(1);
        let first = tokio::time::timeout(OPERATION_TIMEOUT + Duration::from_secs(5), follow.next())
            .await
            .expect("an answer within the bound");
        let Some(Err(StoreError::Unavailable(error))) = first else {
            panic!("expected Unavailable, got {first:?}")
        };
        assert!(error.to_string().contains(&format!("127.0.0.1:{port}")), "{error}");
        assert!(started.elapsed() < OPERATION_TIMEOUT + Duration::from_secs(5));
        let end = tokio::time::timeout(Duration::from_secs(5), follow.next()).await.expect("ends");
        assert!(end.is_none(), "the stream ends after its error: {end:?}");
    }

    #[tokio::test]
    async fn a_malformed_url_is_a_clear_error() {
        let opened = KurrentLog::open("kurrentdb://db:notaport?tls=false").await;
        assert!(matches!(opened, Err(StoreError::Unavailable(_))), "{opened:?}");
    }
}
