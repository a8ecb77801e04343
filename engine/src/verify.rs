//! Offline verification of a ledger: the stored frames, the hash chain, every record decodes, and the
//! invariants of SPEC §5 hold after folding the whole log.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use domain::{Balance, CreditCode, Event, State};
use store::EventLog;
use store::file::{FileLog, scan};

use crate::open::{Access, StoreSpec, open_store};

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every check passed.
    Intact { records: u64, head_position: u64, head_hash: [u8; 32] },
    /// The first problem found, at a position.
    Broken { position: u64, reason: String },
    /// The chain is intact but an invariant does not hold (a bug, or a log rewritten with valid hashes).
    Violated { records: u64, violations: Vec<String> },
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Intact { records, head_position, head_hash } => {
                write!(f, "ok records={records} head={head_position} hash={}", hex::encode(head_hash))
            }
            Verdict::Broken { position, reason } => write!(f, "broken at position {position}: {reason}"),
            Verdict::Violated { records, violations } => {
                write!(f, "invariants violated after {records} records: {}", violations.join("; "))
            }
        }
    }
}

/// A head an auditor kept (the `position` and `hash` of `GET /v1/log/head`): the log must still reach that
/// position, and its record there must have that hash. Written `POSITION:HASH`, the hash as 64 hex digits
/// (either case, an optional `sha256:` prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedHead {
    pub position: u64,
    pub hash: [u8; 32],
}

impl FromStr for ExpectedHead {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (position, hash) = text
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("{text:?} is not POSITION:HASH (from GET /v1/log/head)"))?;
        let position: u64 =
            position.trim().parse().map_err(|_| format!("{position:?} is not a log position"))?;
        if position == 0 {
            return Err("the expected head's position must be at least 1".into());
        }
        let hash = hash.trim();
        let hex_digits = hash.strip_prefix("sha256:").unwrap_or(hash);
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_digits, &mut bytes)
            .map_err(|_| format!("{hash:?} is not a SHA-256 hash (64 hex digits)"))?;
        Ok(ExpectedHead { position, hash: bytes })
    }
}

impl fmt::Display for ExpectedHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.position, hex::encode(self.hash))
    }
}

/// Verifies the ledger in the store `spec` names, read-only (a running server may be writing to it).
///
/// # Errors
/// Only when the store cannot be read at all; every problem of the log itself is a `Verdict`.
pub async fn verify_store(spec: &StoreSpec) -> Result<Verdict, store::StoreError> {
    verify_store_expecting(spec, None).await
}

/// [`verify_store`], and when `expect` is given, that the log reaches that head with the same hash (a log
/// cut back at a record boundary, or missing its last segment, is otherwise a valid shorter log).
///
/// # Errors
/// Only when the store cannot be read at all; every problem of the log itself is a `Verdict`.
pub async fn verify_store_expecting(
    spec: &StoreSpec,
    expect: Option<ExpectedHead>,
) -> Result<Verdict, store::StoreError> {
    match spec {
        StoreSpec::File(dir) => {
            let report = scan(dir);
            if let Some(problem) = report.first_problem() {
                return Ok(Verdict::Broken { position: problem.position(), reason: problem.to_string() });
            }
            let log = FileLog::open_read_only(dir)?;
            verify_log_expecting(&log, expect).await
        }
        StoreSpec::Postgres(_) | StoreSpec::Kurrent(_) => {
            let store = open_store(spec, Access::ReadOnly).await?;
            verify_log_expecting(store.log.as_ref(), expect).await
        }
    }
}

/// The bytes recovery moved out of the log into quarantine (file log only; other backends never cut).
///
/// # Errors
/// When the quarantine directory cannot be read.
pub fn quarantined(spec: &StoreSpec) -> std::io::Result<Vec<store::Quarantined>> {
    match spec {
        StoreSpec::File(dir) => store::file::quarantined(dir),
        StoreSpec::Postgres(_) | StoreSpec::Kurrent(_) => Ok(Vec::new()),
    }
}

/// Verifies the embedded log in `dir`, read-only (a running server may hold it open).
///
/// # Errors
/// Only when the directory cannot be read at all; every problem of the log itself is a `Verdict`.
pub async fn verify_dir(dir: &Path) -> Result<Verdict, store::StoreError> {
    verify_store_expecting(&StoreSpec::File(dir.to_path_buf()), None).await
}

/// Verifies any log: chain, decoding, invariants, and that the records reach the head the store reported
/// before reading (records past it, appended meanwhile by a running writer, are verified too).
///
/// # Errors
/// A store error while reading.
pub async fn verify_log(log: &dyn EventLog) -> Result<Verdict, store::StoreError> {
    verify_log_expecting(log, None).await
}

/// [`verify_log`], and when `expect` is given, that the records reach that head with the same hash.
///
/// # Errors
/// A store error while reading.
pub async fn verify_log_expecting(
    log: &dyn EventLog,
    expect: Option<ExpectedHead>,
) -> Result<Verdict, store::StoreError> {
    use futures::StreamExt;
    let store_head = log.head().await?;
    let mut hash_at_store_head = None;
    let mut hash_at_expected = None;
    let mut verifier = ledger_proto::ChainVerifier::new();
    let mut state = State::new();
    let mut invariants = RuleCheck::default();
    let mut records = 0u64;
    let mut last_ends_command = true;
    let mut stream = log.read_from(1);
    while let Some(record) = stream.next().await {
        let record = match record {
            Ok(record) => record,
            Err(store::StoreError::Corrupt { position, reason }) => {
                return Ok(Verdict::Broken { position, reason });
            }
            Err(error) => return Err(error),
        };
        if let Err(chain_break) = verifier.check(&record) {
            return Ok(Verdict::Broken {
                position: chain_break.position,
                reason: chain_break.kind.to_string(),
            });
        }
        let recorded = match ledger_proto::decode_record(&record) {
            Ok(recorded) => recorded,
            Err(error) => {
                return Ok(Verdict::Broken { position: record.position, reason: error.to_string() });
            }
        };
        if record.position == store_head.position {
            hash_at_store_head = Some(record.hash);
        }
        if expect.is_some_and(|expect| expect.position == record.position) {
            hash_at_expected = Some(record.hash);
        }
        invariants.check(&state, &recorded.event, record.position);
        state.evolve(&recorded.event);
        invariants.after(&state, &recorded.event, record.position);
        last_ends_command = record.ends_command;
        records += 1;
    }
    if !last_ends_command {
        let position = verifier.head().position;
        return Ok(Verdict::Broken { position, reason: "the log ends inside a command".into() });
    }
    if store_head.position > 0 && hash_at_store_head != Some(store_head.hash) {
        let read = verifier.head().position;
        let reason = if read < store_head.position {
            format!(
                "truncated: the store's head is at position {} but its records end at {read}",
                store_head.position
            )
        } else {
            "the store's head hash is not the hash of the record at its position".to_owned()
        };
        return Ok(Verdict::Broken { position: (read + 1).min(store_head.position), reason });
    }
    if let Some(expect) = expect {
        let read = verifier.head().position;
        match hash_at_expected {
            None => {
                return Ok(Verdict::Broken {
                    position: read + 1,
                    reason: format!(
                        "truncated: the log ends at position {read}, before the expected head {expect}"
                    ),
                });
            }
            Some(hash) if hash != expect.hash => {
                return Ok(Verdict::Broken {
                    position: expect.position,
                    reason: format!(
                        "the record at position {} has hash {}, not the expected head's {}",
                        expect.position,
                        hex::encode(hash),
                        hex::encode(expect.hash)
                    ),
                });
            }
            Some(_) => {}
        }
    }
    let mut violations: Vec<String> = state.violations().iter().map(ToString::to_string).collect();
    violations.extend(invariants.violations);
    let head = verifier.head();
    if violations.is_empty() {
        Ok(Verdict::Intact { records, head_position: head.position, head_hash: head.hash })
    } else {
        Ok(Verdict::Violated { records, violations })
    }
}

/// The most violations listed; past it, verification still fails but the list is cut.
const VIOLATIONS_LISTED_MAX: usize = 100;

/// Invariants that need the history, not just the final balances (SPEC §5): after every record no account
/// but the fiscal source is negative; the annual cap; face values; a voucher never pays more than its face
/// value; nothing is disbursed twice; no clawback exceeds what was disbursed.
#[derive(Default)]
struct RuleCheck {
    issued: HashMap<(CreditCode, i32), Balance>,
    paid_by_voucher: HashMap<uuid::Uuid, Balance>,
    /// Per redemption: disbursed, and clawed back so far.
    disbursed: HashMap<uuid::Uuid, (Balance, Balance)>,
    violations: Vec<String>,
}

impl RuleCheck {
    fn violation(&mut self, text: String) {
        if self.violations.len() < VIOLATIONS_LISTED_MAX {
            self.violations.push(text);
        }
    }

    /// After a record is folded: the accounts it touched.
    fn after(&mut self, after: &State, event: &Event, position: u64) {
        for posting in event.postings() {
            for account in [&posting.from_account, &posting.to_account] {
                if *account == domain::Account::FiscalSource {
                    continue;
                }
                let balance = after.ledger.balance(posting.jurisdiction, account);
                if balance.is_negative() {
                    self.violation(format!(
                        "position {position}: {} account {account} is negative ({balance})",
                        posting.jurisdiction
                    ));
                }
            }
        }
    }

    /// Before a record is folded: what it may do given the history.
    fn check(&mut self, before: &State, event: &Event, position: u64) {
        match event {
            Event::ServiceCompleted { voucher_id, amount, .. } => {
                let paid = self.paid_by_voucher.entry(*voucher_id).or_default();
                *paid = paid.add(*amount);
                let paid = *paid;
                match before.vouchers.get(voucher_id) {
                    Some(voucher) if paid <= Balance::from(voucher.face_value) => {}
                    _ => self.violation(format!(
                        "position {position}: voucher {voucher_id} has paid {paid}, more than its face value"
                    )),
                }
            }
            Event::RedemptionDisbursed { redemption_id, amount, .. } => {
                let entry = self.disbursed.entry(*redemption_id).or_default();
                let twice = !entry.0.is_zero();
                entry.0 = entry.0.add(*amount);
                if twice {
                    self.violation(format!(
                        "position {position}: redemption {redemption_id} disbursed twice"
                    ));
                }
            }
            Event::ClawbackOrdered { redemption_id, amount, .. } => {
                let entry = self.disbursed.entry(*redemption_id).or_default();
                let remaining = entry.0.checked_sub(entry.1);
                entry.1 = entry.1.add(*amount);
                if Balance::from(*amount) > remaining {
                    self.violation(format!(
                        "position {position}: clawback {amount} on redemption {redemption_id} exceeds the {remaining} disbursed and not yet clawed back"
                    ));
                }
            }
            _ => {}
        }
        if let Event::VoucherIssued { applicant, cap_year, annual_cap, face_value, batch_id, .. } = event {
            let total = self.issued.entry((applicant.clone(), *cap_year)).or_default();
            *total = total.add(*face_value);
            let issued = *total;
            if issued > Balance::from(*annual_cap) {
                self.violation(format!(
                    "position {position}: {applicant} issued {issued} in {cap_year}, over the cap {annual_cap}"
                ));
            }
            match before.batches.get(batch_id) {
                Some(batch) if batch.guide.face_value == *face_value => {}
                _ => self.violation(format!(
                    "position {position}: voucher face value {face_value} does not match batch {batch_id}"
                )),
            }
        }
    }
}
