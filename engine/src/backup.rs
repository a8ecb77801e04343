//! `voucher-ledger backup`: copies a ledger, while it is served, into a file log directory (DEST), up to a
//! command boundary, and verifies the copy; run again on the same DEST it copies only what is new.
//!
//! # How a run goes
//! 1. The source is opened read-only ([`Access::ReadOnly`]: for the file log [`FileLog::open_read_only`], no
//!    lock, no recovery, nothing written; only complete, CRC-checked frames up to the last command). Its head
//!    at that moment, rounded down to the last record that ends a command, is the run's target.
//! 2. DEST is checked without writing anything to it: opened read-only, its records are read from the first,
//!    their hash chain checked, and each record's hash compared with the source's at the same position. A
//!    DEST that holds more records than the source, whose chain breaks, or whose record differs from the
//!    source's is refused ([`BackupError::Diverged`], naming the first position), and left as it was.
//! 3. Only then DEST is opened for writing ([`FileLog::open`]: its lock keeps two backups apart; its recovery
//!    cuts a torn tail a killed run left back to the last whole command), the marker `DEST/BACKUP` is set to
//!    `state=incomplete`, and the source's records after DEST's head are copied (the chain checked from
//!    DEST's verified head on, before each append; appends end on command boundaries).
//! 4. DEST is closed, opened read-only again and verified from its first record: the hash chain, and its
//!    head hash equals the source's record hash at the target position. Then the marker is set to
//!    `state=complete` with that position and hash (written to a temporary file, synced, renamed, and the
//!    directory synced).
//!
//! # A killed run
//! The file log makes every append durable and whole commands only survive a crash (recovery at the next
//! open cuts a torn tail back to the last command boundary), so at every moment DEST holds a prefix of the
//! ledger that ends on a command boundary. The marker says whether that prefix is a finished, verified backup:
//! it is set to `incomplete` before the first byte is appended and to `complete` only after the copy
//! verified, so a killed run leaves `state=incomplete` (detectably incomplete, never silently partial). The
//! next run checks the prefix as in step 2 and completes it (a repair), or refuses it. Copying into a staging
//! directory and renaming was not chosen: an incremental run would have to copy the whole of DEST again to
//! rename it into place, and the file log's own recovery already gives the command-boundary guarantee.
//!
//! When recovery in step 3 cut a torn tail, the file log moved it to `DEST/quarantine/` (it never deletes
//! bytes). Those bytes are the start of records the run then copies again; once the copy verified, a
//! quarantine file whose complete frames all have the source's hashes is removed (the report says so), so
//! that `voucher-ledger verify` on the backup is not held by evidence of the backup's own interruption.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use futures::StreamExt;
use ledger_proto::ChainVerifier;
use store::file::FileLog;
use store::{EventLog, Head, StoreError, StoredRecord};

use crate::open::{Access, StoreSpec, open_store};

/// The marker file in DEST: whether DEST holds a finished, verified backup.
pub const MARKER: &str = "BACKUP";

/// Records per append while copying by default (cut at the next command boundary).
pub const BATCH_RECORDS: usize = 4096;

/// Records compared per read while checking DEST against the source.
const COMPARE_BATCH: usize = 4096;

/// What a backup run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The source's head when the run started, rounded down to a command boundary: what DEST now holds.
    pub head: Head,
    /// DEST's head before the run (0 for a new DEST).
    pub before: u64,
    /// Records copied by this run (positions `before + 1 ..= head.position`).
    pub copied: u64,
    /// Appends the copy took.
    pub appends: u64,
    /// The marker DEST had before the run, when it was not a complete backup (an interrupted run's).
    pub resumed: Option<String>,
    /// A quarantine file that recovery made of an interrupted run's torn tail, removed after the copy
    /// verified (its frames were the source's records, copied again).
    pub removed_quarantine: Option<PathBuf>,
}

/// Why a backup refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("the backup directory {0} is the source's own data directory")]
    SameDirectory(PathBuf),
    #[error("{0} is neither empty nor a file log (no segments/ directory): refusing to write into it")]
    NotAFileLog(PathBuf),
    #[error(
        "{dest} has diverged from the ledger at position {position}: {reason}; nothing was written (back up into a new directory)"
    )]
    Diverged { dest: PathBuf, position: u64, reason: String },
    #[error(
        "the source's record {position} does not verify: {reason}; nothing after position {verified} was copied"
    )]
    SourceBroken { position: u64, verified: u64, reason: String },
    #[error(
        "{dest} changed while it was being checked (another process writes to it?): head {checked:?}, now {now:?}"
    )]
    DestChanged { dest: PathBuf, checked: Head, now: Head },
    #[error("the copy in {dest} does not verify: {reason}")]
    CopyBroken { dest: PathBuf, reason: String },
}

/// Progress of the copy, after each append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// DEST's head position now.
    pub copied_to: u64,
    /// The run's target position.
    pub target: u64,
}

/// Copies the ledger in `from` into the file log directory `to` up to the source's head (rounded down to a
/// command boundary) and verifies the copy; see the module's documentation.
///
/// # Errors
/// See [`BackupError`]. A refusal ([`BackupError::Diverged`], [`BackupError::NotAFileLog`],
/// [`BackupError::SameDirectory`]) writes nothing to `to`.
pub async fn backup(
    from: &StoreSpec,
    to: &Path,
    batch_records: usize,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<BackupReport, BackupError> {
    if let StoreSpec::File(dir) = from
        && let (Ok(a), Ok(b)) = (dir.canonicalize(), to.canonicalize())
        && a == b
    {
        return Err(BackupError::SameDirectory(to.to_path_buf()));
    }
    let source = open_store(from, Access::ReadOnly).await?.log;
    let target = command_boundary(source.as_ref()).await?;

    // DEST, read-only: nothing is written before it is known to be a prefix of the ledger.
    let checked = match dest_state(to)? {
        None => Head::GENESIS,
        Some(()) => {
            let dir = to.to_path_buf();
            let dest = tokio::task::spawn_blocking(move || FileLog::open_read_only(&dir))
                .await
                .map_err(|e| StoreError::Unavailable(std::io::Error::other(e)))??;
            check_prefix(&dest, source.as_ref(), to, target).await?
        }
    };
    let resumed = match read_marker(to) {
        Some(marker) if is_complete_at(&marker, checked) => None,
        Some(marker) => Some(marker.trim().replace('\n', " ")),
        None if checked.position == 0 => None,
        None => Some("no marker".into()),
    };

    let mut report = BackupReport {
        head: target,
        before: checked.position,
        copied: 0,
        appends: 0,
        resumed,
        removed_quarantine: None,
    };
    if checked == target {
        // Nothing new; an interrupted run that had copied everything is completed here (verified above).
        if report.resumed.is_some() {
            write_marker(to, &complete_marker(from, target))?;
        }
        return Ok(report);
    }

    // DEST for writing: its lock, and recovery of a torn tail a killed run left (back to a command boundary).
    fs_err(to, std::fs::DirBuilder::new().recursive(true).mode(0o700).create(to))?;
    let dir = to.to_path_buf();
    let (dest, recovery) = tokio::task::spawn_blocking(move || FileLog::open(&dir))
        .await
        .map_err(|e| StoreError::Unavailable(std::io::Error::other(e)))??;
    let now = dest.head_now();
    if now != checked {
        return Err(BackupError::DestChanged { dest: to.to_path_buf(), checked, now });
    }
    write_marker(
        to,
        &format!(
            "state=incomplete\ncopying_from={}\ncopying_to={}\nsource={}\n",
            checked.position + 1,
            target.position,
            from.describe()
        ),
    )?;

    let mut verifier = ChainVerifier::resume(checked);
    let mut expected = checked;
    let mut batch: Vec<StoredRecord> = Vec::with_capacity(batch_records.min(BATCH_RECORDS));
    let mut stream = source.read_from(checked.position + 1);
    while expected.position + (batch.len() as u64) < target.position {
        let Some(record) = stream.next().await else { break };
        let record = record?;
        if let Err(broken) = verifier.check(&record) {
            return Err(BackupError::SourceBroken {
                position: broken.position,
                verified: expected.position,
                reason: broken.kind.to_string(),
            });
        }
        let at_target = record.position == target.position;
        let flush = at_target || (record.ends_command && batch.len() + 1 >= batch_records.max(1));
        batch.push(record);
        if flush {
            expected = dest.append(expected, std::mem::take(&mut batch)).await?;
            report.appends += 1;
            progress(Progress { copied_to: expected.position, target: target.position });
        }
    }
    drop(stream);
    drop(dest);
    if expected != target {
        return Err(BackupError::CopyBroken {
            dest: to.to_path_buf(),
            reason: format!(
                "copied up to {} but the source's head was {}",
                expected.position, target.position
            ),
        });
    }
    report.copied = target.position - checked.position;

    // Verify the copy from its first record, read back from the files.
    let dir = to.to_path_buf();
    let copy = tokio::task::spawn_blocking(move || FileLog::open_read_only(&dir))
        .await
        .map_err(|e| StoreError::Unavailable(std::io::Error::other(e)))??;
    verify_copy(&copy, to, target).await?;
    if let Some(quarantine) = recovery.quarantine
        && quarantine_is_a_copy(source.as_ref(), &quarantine.frames).await?
    {
        fs_err(&quarantine.path, std::fs::remove_file(&quarantine.path))?;
        report.removed_quarantine = Some(quarantine.path);
    }
    write_marker(to, &complete_marker(from, target))?;
    Ok(report)
}

/// The source's head rounded down to the last record that ends a command.
async fn command_boundary(source: &dyn EventLog) -> Result<Head, BackupError> {
    let mut position = source.head().await?.position;
    while position > 0 {
        let records = source.read_batch(position, 1).await?;
        let Some(record) = records.first() else {
            return Err(
                StoreError::Corrupt { position, reason: "the head record is not readable".into() }.into()
            );
        };
        if record.ends_command {
            return Ok(Head { position, hash: record.hash });
        }
        position -= 1;
    }
    Ok(Head::GENESIS)
}

/// `None` when `to` does not exist or is an empty directory; `Some` when it is a file log.
fn dest_state(to: &Path) -> Result<Option<()>, BackupError> {
    if !to.exists() {
        return Ok(None);
    }
    if to.join("segments").is_dir() {
        return Ok(Some(()));
    }
    let mut entries = fs_err(to, std::fs::read_dir(to))?;
    if entries.next().is_none() { Ok(None) } else { Err(BackupError::NotAFileLog(to.to_path_buf())) }
}

/// Reads DEST from its first record, checks its chain and compares every hash with the source's; returns
/// DEST's head when DEST is a prefix of the ledger up to `target`.
async fn check_prefix(
    dest: &FileLog,
    source: &dyn EventLog,
    to: &Path,
    target: Head,
) -> Result<Head, BackupError> {
    let head = dest.head_now();
    let diverged =
        |position, reason: String| BackupError::Diverged { dest: to.to_path_buf(), position, reason };
    if head.position > target.position {
        return Err(diverged(
            target.position + 1,
            format!(
                "it holds {} records, the ledger's head (at a command boundary) is {}",
                head.position, target.position
            ),
        ));
    }
    let mut verifier = ChainVerifier::new();
    let mut next = 1;
    while next <= head.position {
        let want = usize::try_from(head.position - next + 1).unwrap_or(usize::MAX).min(COMPARE_BATCH);
        let ours = dest.read_batch(next, want).await?;
        let theirs = source.read_batch(next, ours.len()).await?;
        if ours.is_empty() {
            return Err(diverged(next, "its record is not readable".into()));
        }
        for (i, record) in ours.iter().enumerate() {
            if let Err(broken) = verifier.check(record) {
                return Err(diverged(broken.position, format!("its hash chain breaks ({})", broken.kind)));
            }
            match theirs.get(i) {
                Some(source_record) if source_record.hash == record.hash => {}
                Some(source_record) => {
                    return Err(diverged(
                        record.position,
                        format!(
                            "its record has hash {} where the ledger's has {}",
                            hex::encode(record.hash),
                            hex::encode(source_record.hash)
                        ),
                    ));
                }
                None => return Err(diverged(record.position, "the ledger has no record there".into())),
            }
        }
        next += ours.len() as u64;
    }
    Ok(verifier.head())
}

/// The copy's chain from its first record, and its head equal to `target`.
async fn verify_copy(copy: &FileLog, to: &Path, target: Head) -> Result<(), BackupError> {
    let broken = |reason: String| BackupError::CopyBroken { dest: to.to_path_buf(), reason };
    let mut verifier = ChainVerifier::new();
    let mut records = copy.read_from(1);
    while let Some(record) = records.next().await {
        let record = record?;
        verifier.check(&record).map_err(|b| broken(format!("position {}: {}", b.position, b.kind)))?;
    }
    let head = verifier.head();
    if head != target || copy.head_now() != target {
        return Err(broken(format!(
            "its head is {} {} where the ledger's record {} has {}",
            head.position,
            hex::encode(head.hash),
            target.position,
            hex::encode(target.hash)
        )));
    }
    Ok(())
}

/// True when every complete frame of a quarantine file is the source's record at its position.
async fn quarantine_is_a_copy(
    source: &dyn EventLog,
    frames: &[(u64, store::Hash)],
) -> Result<bool, BackupError> {
    for (position, hash) in frames {
        let records = source.read_batch(*position, 1).await?;
        if records.first().is_none_or(|record| record.hash != *hash) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn complete_marker(from: &StoreSpec, head: Head) -> String {
    format!(
        "state=complete\nposition={}\nhash={}\nsource={}\nverified_at={}\n",
        head.position,
        hex::encode(head.hash),
        from.describe(),
        chrono::Utc::now().to_rfc3339()
    )
}

/// The marker's text, when DEST has one.
pub fn read_marker(to: &Path) -> Option<String> {
    std::fs::read_to_string(to.join(MARKER)).ok()
}

fn is_complete_at(marker: &str, head: Head) -> bool {
    let field = |name: &str| marker.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix('='));
    field("state") == Some("complete")
        && field("position") == Some(head.position.to_string().as_str())
        && field("hash") == Some(hex::encode(head.hash).as_str())
}

/// Replaces the marker atomically: a temporary file, synced, renamed over it, the directory synced.
fn write_marker(to: &Path, text: &str) -> Result<(), BackupError> {
    let temporary = to.join(format!("{MARKER}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, to.join(MARKER))?;
        std::fs::File::open(to)?.sync_all()
    };
    fs_err(&to.join(MARKER), write())
}

fn fs_err<T>(path: &Path, result: std::io::Result<T>) -> Result<T, BackupError> {
    result.map_err(|error| BackupError::Io(path.display().to_string(), error))
}
