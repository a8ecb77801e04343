//! Snapshots: what the writer derives from the log (the decision state, the read models, the stream versions,
//! the idempotency keys' first answers) and the Merkle tree's levels, written beside the file log at a log
//! position so that a start folds only the records after it.
//!
//! - **Never trusted over the log.** A snapshot names its position and the hash of the record there; it is
//!   used only when its checksum holds, its format version is this one, its tree hash is the one asked for,
//!   the log reaches its position and the log's record there has that hash. Anything else (a damaged or
//!   truncated file, another version, a log cut back or rewritten under it) is logged, counted
//!   (`ledger_snapshot_loads_total{outcome}`) and ignored: the log is folded from the start, as without a
//!   snapshot. The records after its position are read, their chain checked from its hash on, decoded and
//!   folded as usual.
//! - **What start-up verifies.** With a snapshot, start-up checks the chain of the records after it (each
//!   links to the snapshot's hash), not the records before it: those were checked when the snapshot's
//!   writer loaded and appended them, and the file log's frames are CRC-checked at open. The whole chain is
//!   `voucher-ledger verify`'s job (it folds the whole log and never reads a snapshot).
//! - **When it is written.** On a clean stop ([`crate::writer::WriterHandle::close`], which `serve` calls on
//!   SIGTERM/Ctrl-C): the writer writes it after the last answer, before it releases the log. Atomically:
//!   a temporary file, `fsync`, rename over `DIR/snapshot`, `fsync` of the directory; a crash leaves the
//!   previous snapshot or none, never half of one.
//! - **Encoding.** MessagePack (`rmp-serde`) of serde derives on the state and the read models, and the
//!   tree's levels as raw 32-byte hashes. MessagePack rather than postcard or bincode because it is
//!   self-describing: the read models' views carry the serde attributes of their JSON answers (`flatten`,
//!   internally tagged enums, `skip_serializing_if`), which formats without field names cannot read back.
//!   Structs are written with their field names (`to_vec_named`), for the same reason. A CRC-32C over
//!   everything after the header catches damage.
//! - **In parallel.** The body is in parts (the state; the stream versions and idempotency keys; each read
//!   model: [`projections::Projections::encode_each`]), each encoded and decoded on a thread of its own, so
//!   a stop and a start take about the time of the largest part rather than of all of them.
//! - **Streamed.** Neither a stop nor a start holds the whole file in memory (4.8 GB at 10 M events): a stop
//!   writes the encoded parts and the tree's levels straight to the file with their running checksum and
//!   writes the header, which holds it, last; a start reads the parts one by one, each decoded on its thread
//!   as soon as it is read (the reading of the later parts overlaps the decoding of the first) and its bytes
//!   freed once decoded, reads the tree while they decode, and uses nothing before the checksum holds. Every
//!   length read from the file is checked against what the file has left before anything is allocated.
//!
//! Layout: `VLSNAP01` (8 bytes), format version (u32 LE), position (u64 LE), the record hash at it (32),
//! tree hash (1: 0 SHA-256, 1 SM3), body length (u64 LE), CRC-32C of the rest (u32 LE), the body, then the
//! tree: level count (u32 LE) and per level its node count (u64 LE) and nodes. The body: the read models'
//! position (u64 LE), the part count (u32 LE), and per part its length (u64 LE) and MessagePack bytes, in
//! the order state, keys (stream versions and idempotency keys), then the read models in the registry's
//! order.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use domain::State;
use projections::{Projections, joined};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use store::Head;
use tlog::{MerkleTree, NodeHash, TreeHash};

/// The snapshot's file name in the data directory.
pub const FILE: &str = "snapshot";
/// The format version this build writes and reads; any change to a serialized type bumps it (2: the
/// anomalies read model keeps its signals up to date; 3: the balances keep each fiscal year's money by stage,
/// the ledger its trial balance; 4: the anomalies read model keeps which signals fire and builds them when
/// read; 5: the body in parts, encoded and decoded in parallel; 6: an idempotency key keeps where its first
/// answer is in the log, not its events).
pub const VERSION: u32 = 6;
const MAGIC: &[u8; 8] = b"VLSNAP01";
const HEADER: usize = 8 + 4 + 8 + 32 + 1 + 8 + 4;

/// An idempotency key (scope, key), the digest of its request and where its first answer's records are in
/// the log (`first..=position`; none when `first > position`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeptKey {
    pub scope: String,
    pub key: String,
    pub request_digest: [u8; 32],
    pub first: u64,
    pub position: u64,
}

/// What a snapshot holds besides the tree, borrowed for writing.
pub struct Parts<'a> {
    pub state: &'a State,
    pub projections: &'a Projections,
    pub stream_versions: &'a HashMap<String, u64>,
    pub keys: Vec<KeptKey>,
}

/// What a snapshot holds besides the tree, read back.
#[derive(Debug)]
pub struct OwnedParts {
    pub state: State,
    pub projections: Projections,
    pub stream_versions: HashMap<String, u64>,
    pub keys: Vec<KeptKey>,
}

/// A snapshot read back (not yet checked against the log: [`load`] does that).
#[derive(Debug)]
pub struct Snapshot {
    pub head: Head,
    pub parts: OwnedParts,
    pub tree: MerkleTree,
}

/// Why a snapshot was not used.
#[derive(Debug, thiserror::Error)]
pub enum Unusable {
    #[error("none")]
    Missing,
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error("damaged: {0}")]
    Damaged(String),
    #[error("format version {found}, this build reads {VERSION}")]
    Version { found: u32 },
    #[error("its tree is hashed with {found}, the ledger's with {wanted}")]
    TreeHash { found: &'static str, wanted: &'static str },
    #[error("it is at position {position}, beyond the log's head {head}")]
    BeyondHead { position: u64, head: u64 },
    #[error("the log's record {position} does not have the snapshot's hash")]
    HashMismatch { position: u64 },
    #[error("the log cannot be read at its position: {0}")]
    Store(#[from] store::StoreError),
}

impl Unusable {
    /// The metric label of this outcome.
    pub fn label(&self) -> &'static str {
        match self {
            Unusable::Missing => "missing",
            Unusable::Io(_) | Unusable::Store(_) => "unreadable",
            Unusable::Damaged(_) => "damaged",
            Unusable::Version { .. } => "version",
            Unusable::TreeHash { .. } => "tree_hash",
            Unusable::BeyondHead { .. } => "beyond_head",
            Unusable::HashMismatch { .. } => "hash_mismatch",
        }
    }
}

/// The snapshot's path in `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

fn tree_code(hash: TreeHash) -> u8 {
    match hash {
        TreeHash::Sha256 => 0,
        TreeHash::Sm3 => 1,
    }
}

/// Writes a snapshot at `head` into `dir`, atomically (temporary file, fsync, rename, directory fsync).
/// Returns the bytes written. The parts are encoded in parallel and streamed to the file with their checksum,
/// never gathered into one buffer; the header, which holds the checksum, is written last.
///
/// # Errors
/// Serialization or I/O failures; the previous snapshot (if any) is then left as it was.
pub fn write(dir: &Path, head: Head, parts: &Parts<'_>, tree: &MerkleTree) -> std::io::Result<u64> {
    let encoded = encode_parts(parts).map_err(std::io::Error::other)?;
    let body_len = 12 + encoded.iter().map(|part| 8 + part.len() as u64).sum::<u64>();
    let levels = tree.levels();
    let temporary = dir.join(format!("{FILE}.tmp"));
    let file = fs::File::create(&temporary)?;
    let mut sink = Sink { out: std::io::BufWriter::with_capacity(1 << 20, file), crc: 0, written: 0 };
    // The header's place; it is written once the checksum of what follows it is known.
    sink.out.write_all(&[0; HEADER])?;
    sink.put(&parts.projections.position().to_le_bytes())?;
    sink.put(&u32::try_from(encoded.len()).map_err(std::io::Error::other)?.to_le_bytes())?;
    for part in encoded {
        sink.put(&(part.len() as u64).to_le_bytes())?;
        sink.put(&part)?;
    }
    sink.put(&u32::try_from(levels.len()).map_err(std::io::Error::other)?.to_le_bytes())?;
    for level in levels {
        sink.put(&(level.len() as u64).to_le_bytes())?;
        sink.put(level.as_flattened())?;
    }
    let Sink { out, crc, written } = sink;
    let mut file = out.into_inner().map_err(std::io::IntoInnerError::into_error)?;
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&VERSION.to_le_bytes());
    header.extend_from_slice(&head.position.to_le_bytes());
    header.extend_from_slice(&head.hash);
    header.push(tree_code(tree.hash()));
    header.extend_from_slice(&body_len.to_le_bytes());
    header.extend_from_slice(&crc.to_le_bytes());
    file.seek(std::io::SeekFrom::Start(0))?;
    file.write_all(&header)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temporary, path(dir))?;
    fs::File::open(dir)?.sync_all()?;
    Ok(HEADER as u64 + written)
}

/// Where a snapshot's bytes after its header go: the file, and their running checksum and count.
struct Sink<W: Write> {
    out: W,
    crc: u32,
    written: u64,
}

impl<W: Write> Sink<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.crc = crc32c::crc32c_append(self.crc, bytes);
        self.written += bytes.len() as u64;
        self.out.write_all(bytes)
    }
}

/// Where a snapshot's bytes after its header come from: the file, their running checksum, and how many bytes
/// the region being read (the body, then the tree) has left, which bounds every length read from the file
/// before anything is allocated for it.
struct Source<R: Read> {
    input: R,
    crc: u32,
    left: u64,
}

impl<R: Read> Source<R> {
    fn bytes(&mut self, n: u64) -> Result<Vec<u8>, Unusable> {
        if n > self.left {
            return Err(Unusable::Damaged("shorter than its lengths say".into()));
        }
        let len = usize::try_from(n).map_err(|_| Unusable::Damaged("a length out of range".into()))?;
        let mut bytes = vec![0; len];
        self.fill(&mut bytes)?;
        Ok(bytes)
    }

    fn fill(&mut self, bytes: &mut [u8]) -> Result<(), Unusable> {
        self.input.read_exact(bytes).map_err(|error| match error.kind() {
            std::io::ErrorKind::UnexpectedEof => Unusable::Damaged("shorter than its lengths say".into()),
            _ => Unusable::Io(error),
        })?;
        self.crc = crc32c::crc32c_append(self.crc, bytes);
        self.left -= bytes.len() as u64;
        Ok(())
    }

    fn u64(&mut self) -> Result<u64, Unusable> {
        Ok(u64_of(&self.bytes(8)?))
    }

    fn u32(&mut self) -> Result<u32, Unusable> {
        Ok(u32_of(&self.bytes(4)?))
    }

    /// A part: its length, then its bytes.
    fn part(&mut self) -> Result<Vec<u8>, Unusable> {
        let len = self.u64()?;
        self.bytes(len)
    }
}

/// The snapshot's encoding of each part: MessagePack with field names.
struct MessagePack;

impl projections::Codec for MessagePack {
    type Error = String;

    fn encode<T: Serialize + Sync>(&self, value: &T) -> Result<Vec<u8>, String> {
        rmp_serde::to_vec_named(value).map_err(|error| error.to_string())
    }

    fn decode<T: DeserializeOwned + Send>(&self, bytes: &[u8]) -> Result<T, String> {
        rmp_serde::from_slice(bytes).map_err(|error| error.to_string())
    }
}

/// The idempotency part: the stream versions and the keys.
#[derive(Serialize)]
struct KeysPart<'a> {
    stream_versions: &'a HashMap<String, u64>,
    keys: &'a [KeptKey],
}

#[derive(Deserialize)]
struct OwnedKeysPart {
    stream_versions: HashMap<String, u64>,
    keys: Vec<KeptKey>,
}

/// The body's parts (see the module's layout), encoded in parallel.
fn encode_parts(parts: &Parts<'_>) -> Result<Vec<Vec<u8>>, String> {
    use projections::Codec;
    let (state, keys, models) = std::thread::scope(|scope| {
        let state = scope.spawn(|| MessagePack.encode(parts.state));
        let keys = scope.spawn(|| {
            MessagePack.encode(&KeysPart { stream_versions: parts.stream_versions, keys: &parts.keys })
        });
        let models = parts.projections.encode_each(&MessagePack);
        (joined(state), joined(keys), models)
    });
    Ok([state?, keys?].into_iter().chain(models?).collect())
}

/// Reads the body (`src.left` is its length) and decodes its parts, each on a thread of its own that starts
/// as soon as its part is read (so the reading of the later parts overlaps the decoding of the first) and
/// frees the part's bytes when done; `then` reads on from `src` while they decode.
fn read_body<R: Read, T>(
    src: &mut Source<R>,
    then: impl FnOnce(&mut Source<R>) -> Result<T, Unusable>,
) -> Result<(OwnedParts, T), Unusable> {
    use projections::Codec;
    let damaged = |what: &str, error: String| Unusable::Damaged(format!("{what}: {error}"));
    let position = src.u64()?;
    let count = src.u32()? as usize;
    if count != 2 + projections::MODELS {
        return Err(Unusable::Damaged(format!("{count} parts, this build has {}", 2 + projections::MODELS)));
    }
    let (state, keys, models, then) = std::thread::scope(|scope| {
        let bytes = src.part()?;
        let state = scope.spawn(move || MessagePack.decode::<State>(&bytes));
        let bytes = src.part()?;
        let keys = scope.spawn(move || MessagePack.decode::<OwnedKeysPart>(&bytes));
        let parts = (0..projections::MODELS).map(|_| src.part()).collect::<Result<Vec<_>, _>>()?;
        if src.left != 0 {
            return Err(Unusable::Damaged("bytes after the parts".into()));
        }
        let models =
            scope.spawn(move || projections::Projections::decode_each(&MessagePack, position, parts));
        let then = then(src);
        Ok((joined(state), joined(keys), joined(models), then))
    })?;
    let then = then?;
    let state = state.map_err(|error| damaged("state", error))?;
    let OwnedKeysPart { stream_versions, keys } = keys.map_err(|error| damaged("keys", error))?;
    let projections = models
        .ok_or_else(|| Unusable::Damaged("read model parts".into()))?
        .map_err(|error| damaged("read models", error))?;
    Ok((OwnedParts { state, projections, stream_versions, keys }, then))
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], Unusable> {
    if bytes.len() < n {
        return Err(Unusable::Damaged("shorter than its lengths say".into()));
    }
    let (head, tail) = bytes.split_at(n);
    *bytes = tail;
    Ok(head)
}

fn u64_of(bytes: &[u8]) -> u64 {
    let mut array = [0; 8];
    array.copy_from_slice(bytes);
    u64::from_le_bytes(array)
}

fn u32_of(bytes: &[u8]) -> u32 {
    let mut array = [0; 4];
    array.copy_from_slice(bytes);
    u32::from_le_bytes(array)
}

/// Reads the snapshot in `dir` (its checksum, version and tree hash checked; not yet against the log).
///
/// # Errors
/// See [`Unusable`].
pub fn read(dir: &Path, tree_hash: TreeHash) -> Result<Snapshot, Unusable> {
    let started = std::time::Instant::now();
    let file = match fs::File::open(path(dir)) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(Unusable::Missing),
        Err(error) => return Err(error.into()),
    };
    let file_len = file.metadata()?.len();
    let mut input = std::io::BufReader::with_capacity(1 << 20, file);
    let mut header = [0; HEADER];
    input.read_exact(&mut header).map_err(|error| match error.kind() {
        std::io::ErrorKind::UnexpectedEof => Unusable::Damaged("shorter than its header".into()),
        _ => Unusable::Io(error),
    })?;
    let mut bytes = header.as_slice();
    if take(&mut bytes, 8)? != MAGIC {
        return Err(Unusable::Damaged("not a snapshot (no magic)".into()));
    }
    let version = u32_of(take(&mut bytes, 4)?);
    if version != VERSION {
        return Err(Unusable::Version { found: version });
    }
    let position = u64_of(take(&mut bytes, 8)?);
    let mut hash = [0; 32];
    hash.copy_from_slice(take(&mut bytes, 32)?);
    let found = match take(&mut bytes, 1)?[0] {
        0 => TreeHash::Sha256,
        1 => TreeHash::Sm3,
        other => return Err(Unusable::Damaged(format!("unknown tree hash {other}"))),
    };
    if found != tree_hash {
        return Err(Unusable::TreeHash { found: found.as_str(), wanted: tree_hash.as_str() });
    }
    let body_len = u64_of(take(&mut bytes, 8)?);
    let crc = u32_of(take(&mut bytes, 4)?);
    let rest = file_len.saturating_sub(HEADER as u64);
    if body_len > rest {
        return Err(Unusable::Damaged("shorter than its lengths say".into()));
    }
    let mut src = Source { input, crc: 0, left: body_len };
    let (parts, levels) = read_body(&mut src, |src| {
        src.left = rest - body_len;
        let count = src.u32()?;
        let mut levels = Vec::new();
        for _ in 0..count {
            let nodes = src.u64()?;
            if nodes.saturating_mul(32) > src.left {
                return Err(Unusable::Damaged("shorter than its lengths say".into()));
            }
            let nodes = usize::try_from(nodes).map_err(|_| Unusable::Damaged("level too long".into()))?;
            let mut level: Vec<NodeHash> = vec![[0; 32]; nodes];
            src.fill(level.as_flattened_mut())?;
            levels.push(level);
        }
        if src.left != 0 {
            return Err(Unusable::Damaged("bytes after the tree".into()));
        }
        Ok(levels)
    })?;
    if src.crc != crc {
        return Err(Unusable::Damaged("checksum mismatch".into()));
    }
    let tree = MerkleTree::from_levels(found, levels)
        .map_err(|level| Unusable::Damaged(format!("tree level {level} has the wrong length")))?;
    if tree.len() != position || parts.projections.position() != position {
        return Err(Unusable::Damaged("its tree or read models are not at its position".into()));
    }
    tracing::info!(
        position,
        bytes = file_len,
        elapsed_ms = started.elapsed().as_millis(),
        "snapshot read and decoded"
    );
    Ok(Snapshot { head: Head { position, hash }, parts, tree })
}

/// Reads the snapshot in `dir` and checks it against `log`: the log reaches its position and the record
/// there has its hash.
///
/// # Errors
/// See [`Unusable`].
pub async fn load(dir: &Path, log: &dyn store::EventLog, tree_hash: TreeHash) -> Result<Snapshot, Unusable> {
    let dir = dir.to_owned();
    let snapshot = tokio::task::spawn_blocking(move || read(&dir, tree_hash))
        .await
        .map_err(|error| Unusable::Io(std::io::Error::other(error)))??;
    let head = log.head().await?.position;
    let position = snapshot.head.position;
    if position > head {
        return Err(Unusable::BeyondHead { position, head });
    }
    if position > 0 {
        let record = log.read_batch(position, 1).await?;
        if record.first().map(|record| record.hash) != Some(snapshot.head.hash) {
            return Err(Unusable::HashMismatch { position });
        }
    } else if snapshot.head.hash != store::Head::GENESIS.hash {
        return Err(Unusable::HashMismatch { position });
    }
    Ok(snapshot)
}

/// Records the outcome of a snapshot load (log line and `ledger_snapshot_loads_total{outcome}`).
pub fn note(outcome: Result<u64, &Unusable>) {
    match outcome {
        Ok(position) => {
            tracing::info!(position, "snapshot loaded; the log is folded from the record after it");
            metrics::counter!(crate::metrics::SNAPSHOT_LOADS, "outcome" => "used").increment(1);
        }
        Err(Unusable::Missing) => {
            tracing::info!("no snapshot; the log is folded from its first record");
            metrics::counter!(crate::metrics::SNAPSHOT_LOADS, "outcome" => "missing").increment(1);
        }
        Err(reason) => {
            tracing::warn!(%reason, "the snapshot is ignored; the log is folded from its first record");
            metrics::counter!(crate::metrics::SNAPSHOT_LOADS, "outcome" => reason.label()).increment(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Vec<u8> {
        let (state, projections, stream_versions) =
            (State::new(), Projections::new(), HashMap::from([("voucher-1".to_owned(), 3)]));
        let parts = Parts {
            state: &state,
            projections: &projections,
            stream_versions: &stream_versions,
            keys: vec![],
        };
        let encoded = encode_parts(&parts).expect("encoded");
        let mut body = Vec::new();
        body.extend_from_slice(&projections.position().to_le_bytes());
        body.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
        for part in encoded {
            body.extend_from_slice(&(part.len() as u64).to_le_bytes());
            body.extend_from_slice(&part);
        }
        body
    }

    /// The body in `bytes` read and decoded as [`read`] does (the header saying it is `bytes.len()` long).
    fn decode_body(bytes: &[u8]) -> Result<OwnedParts, Unusable> {
        let mut src = Source { input: bytes, crc: 0, left: bytes.len() as u64 };
        let (parts, ()) = read_body(&mut src, |_| Ok(()))?;
        assert_eq!(src.crc, crc32c::crc32c(bytes), "the checksum covers every byte read");
        Ok(parts)
    }

    #[test]
    fn the_parts_read_back_and_a_body_of_the_wrong_shape_is_damaged() {
        let good = body();
        let parts = decode_body(&good).expect("decoded");
        assert_eq!(parts.stream_versions.get("voucher-1"), Some(&3));
        assert_eq!(parts.projections, Projections::new());

        let mut one_part_less = good.clone();
        one_part_less[8..12].copy_from_slice(&(1 + projections::MODELS as u32).to_le_bytes());
        // A length the file cannot hold is refused before anything is allocated for it.
        let mut huge_part = good.clone();
        huge_part[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
        let shapes = [
            (one_part_less, "parts, this build has"),
            (huge_part, "shorter than its lengths say"),
            (good[..good.len() - 1].to_vec(), "shorter than its lengths say"),
            ([good.as_slice(), &[0]].concat(), "bytes after the parts"),
        ];
        for (bytes, reason) in shapes {
            match decode_body(&bytes) {
                Err(Unusable::Damaged(found)) => assert!(found.contains(reason), "{found}"),
                other => panic!("{reason}: {other:?}"),
            }
        }
        // A part that is not what its place says (the keys' bytes where the state belongs) is damage too.
        let mut swapped = good.clone();
        let state_len = u64_of(&good[12..20]) as usize;
        swapped[20..20 + state_len.min(4)].copy_from_slice(&[0xc0; 4][..state_len.min(4)]);
        assert!(matches!(decode_body(&swapped), Err(Unusable::Damaged(_))));
    }
}
