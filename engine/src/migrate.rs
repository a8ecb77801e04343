//! `voucher-ledger migrate-store`: copies a ledger into an empty store of another backend, record for
//! record, and verifies the copy.

use store::{Head, StoreError, StoredRecord};

use crate::open::{Access, StoreSpec, open_store};

/// What `migrate-store` copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Records copied (the source's head position).
    pub records: u64,
    /// Appends (transactions) the copy took.
    pub appends: u64,
    /// The head of the copy, verified equal to the source's.
    pub head: Head,
}

/// Why `migrate-store` refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the source {store} does not verify, nothing was copied: {verdict}")]
    SourceBroken { store: String, verdict: String },
    #[error(
        "the target {store} is not empty (its head is at position {position}): migrate-store only fills an empty store"
    )]
    TargetNotEmpty { store: String, position: u64 },
    #[error("the copy in {store} does not verify: {verdict}")]
    CopyBroken { store: String, verdict: String },
}

/// Records per append while copying (cut at the next command boundary).
const MIGRATE_BATCH_RECORDS: usize = 4096;

/// Copies the ledger in `from` into the empty store `to`, record for record (the same bytes and hashes), then
/// verifies the copy: chain, decoding, invariants, and the same head as the source.
///
/// The source is verified first and only what was verified is copied (a writer may keep appending to it
/// meanwhile). The target is opened for writing, so it holds the writer lock throughout; a copy that fails
/// half way leaves a prefix of the ledger that ends on a command boundary, and a rerun refuses it as not
/// empty.
///
/// # Errors
/// See [`MigrateError`].
pub async fn migrate_store(from: &StoreSpec, to: &StoreSpec) -> Result<MigrationReport, MigrateError> {
    use futures::StreamExt;

    let source = open_store(from, Access::ReadOnly).await?.log;
    let (records, head) = match crate::verify::verify_log(source.as_ref()).await? {
        crate::verify::Verdict::Intact { records, head_position, head_hash } => {
            (records, Head { position: head_position, hash: head_hash })
        }
        verdict => {
            return Err(MigrateError::SourceBroken { store: from.describe(), verdict: verdict.to_string() });
        }
    };
    let target = open_store(to, Access::Write).await?.log;
    let target_head = target.head().await?;
    if target_head != Head::GENESIS {
        return Err(MigrateError::TargetNotEmpty { store: to.describe(), position: target_head.position });
    }

    let mut expected = Head::GENESIS;
    let mut appends = 0u64;
    let mut batch: Vec<StoredRecord> = Vec::with_capacity(MIGRATE_BATCH_RECORDS);
    let mut stream = source.read_from(1);
    while expected.position + (batch.len() as u64) < head.position {
        let Some(record) = stream.next().await else { break };
        let record = record?;
        let flush = record.ends_command && batch.len() + 1 >= MIGRATE_BATCH_RECORDS;
        batch.push(record);
        if flush || expected.position + (batch.len() as u64) == head.position {
            expected = target.append(expected, std::mem::take(&mut batch)).await?;
            appends += 1;
        }
    }
    drop(stream);
    if expected != head {
        return Err(MigrateError::CopyBroken {
            store: to.describe(),
            verdict: format!("copied up to {expected:?} but the verified source head is {head:?}"),
        });
    }
    match crate::verify::verify_log(target.as_ref()).await? {
        crate::verify::Verdict::Intact { records: copied, head_position, head_hash }
            if copied == records && head_position == head.position && head_hash == head.hash => {}
        verdict => {
            return Err(MigrateError::CopyBroken { store: to.describe(), verdict: verdict.to_string() });
        }
    }
    Ok(MigrationReport { records, appends, head })
}
