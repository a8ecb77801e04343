//! History: the audit trail of each voucher and each contract, in log order, every record with its position
//! and hash, for `GET /v1/vouchers/{id}/history` and the contract dossier.
//!
//! A voucher's history is its own stream (issue, expiry) and everything done with it: the contracts it paid
//! for, their redemptions, the announcement lists and objections that concerned those redemptions, the
//! disbursements, clawbacks and recoveries, and the audit samples and findings on the contracts. A contract's
//! history is the same, seen from the contract.
//!
//! The model keeps positions only (a few bytes per link): the records themselves are in the log, and a query
//! reads the handful a trail names from it (`api::http::trail`), so an auditor sees the stored bytes'
//! own hashes, not a copy, and the model does not hold a second copy of every record in memory.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::event::ObjectionTarget;
use domain::{Event, Role};
use ledger_proto::Recorded;
use uuid::Uuid;

use crate::ReadModel;

/// One record of a trail, as an auditor sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub position: u64,
    pub hash: [u8; 32],
    pub prev_hash: [u8; 32],
    pub stream: String,
    pub stream_version: u64,
    pub business_date: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub actor_subject: String,
    pub actor_role: Role,
    pub event: Event,
}

impl Entry {
    /// The entry of a record read back from the log.
    pub fn of(record: &Recorded) -> Entry {
        Entry {
            position: record.position,
            hash: record.hash,
            prev_hash: record.prev_hash,
            stream: record.meta.stream.clone(),
            stream_version: record.meta.stream_version,
            business_date: record.meta.business_date,
            recorded_at: record.meta.recorded_at,
            actor_subject: record.meta.actor.subject.clone(),
            actor_role: record.meta.actor.role,
            event: record.event.clone(),
        }
    }
}

/// The history read model.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct History {
    by_voucher: HashMap<Uuid, Trail>,
    by_contract: HashMap<Uuid, Trail>,
    voucher_of_contract: HashMap<Uuid, Uuid>,
    contract_of_redemption: HashMap<Uuid, Uuid>,
    redemptions_of_announcement: HashMap<Uuid, Vec<Uuid>>,
    redemption_of_objection: HashMap<Uuid, Uuid>,
    redemption_of_clawback: HashMap<Uuid, Uuid>,
}

impl History {
    /// The positions of a voucher's trail, ascending; `None` when the voucher was never issued.
    pub fn voucher(&self, voucher_id: Uuid) -> Option<Vec<u64>> {
        self.by_voucher.get(&voucher_id).map(Trail::positions)
    }

    /// The positions of a contract's trail, ascending; `None` when the contract was never submitted.
    pub fn contract(&self, contract_id: Uuid) -> Option<Vec<u64>> {
        self.by_contract.get(&contract_id).map(Trail::positions)
    }

    /// The contracts a record concerns (empty when none).
    fn contracts_of(&self, event: &Event) -> Vec<Uuid> {
        let of_redemption = |id: &Uuid| self.contract_of_redemption.get(id).copied();
        match event {
            Event::ContractSubmitted { contract_id, .. }
            | Event::ContractSigned { contract_id, .. }
            | Event::ContractFiled { contract_id, .. }
            | Event::ContractRejected { contract_id, .. }
            | Event::ContractCancelled { contract_id, .. }
            | Event::ServiceCompleted { contract_id, .. }
            | Event::ServiceRated { contract_id, .. }
            | Event::RedemptionWindowLapsed { contract_id, .. }
            | Event::ReturnedAfterExpiry { contract_id, .. }
            | Event::RedemptionRequested { contract_id, .. }
            | Event::FindingRecorded { contract_id, .. } => vec![*contract_id],
            Event::RedemptionReviewed { redemption_id, .. }
            | Event::RedemptionStruck { redemption_id, .. }
            | Event::RedemptionDisbursed { redemption_id, .. }
            | Event::RedemptionDenied { redemption_id, .. }
            | Event::ClawbackOrdered { redemption_id, .. } => {
                of_redemption(redemption_id).into_iter().collect()
            }
            Event::RedemptionsAnnounced { redemption_ids, .. } => {
                redemption_ids.iter().filter_map(of_redemption).collect()
            }
            Event::RedemptionAnnouncementClosed { announcement_id } => self
                .redemptions_of_announcement
                .get(announcement_id)
                .map(|ids| ids.iter().filter_map(of_redemption).collect())
                .unwrap_or_default(),
            Event::ObjectionFiled { target: ObjectionTarget::Redemption { redemption_id }, .. } => {
                of_redemption(redemption_id).into_iter().collect()
            }
            Event::ObjectionRuled { objection_id, .. } => {
                self.redemption_of_objection.get(objection_id).and_then(of_redemption).into_iter().collect()
            }
            Event::ClawbackRecovered { clawback_id, .. } => {
                self.redemption_of_clawback.get(clawback_id).and_then(of_redemption).into_iter().collect()
            }
            Event::SampleDrawn { contract_ids, .. } => contract_ids.clone(),
            _ => Vec::new(),
        }
    }

    /// Learns the links a record creates, before its trails are found.
    fn link(&mut self, event: &Event) {
        match event {
            Event::ContractSubmitted { contract_id, terms, .. } => {
                self.voucher_of_contract.insert(*contract_id, terms.voucher_id);
            }
            Event::RedemptionRequested { redemption_id, contract_id, .. } => {
                self.contract_of_redemption.insert(*redemption_id, *contract_id);
            }
            Event::RedemptionsAnnounced { announcement_id, redemption_ids, .. } => {
                self.redemptions_of_announcement.insert(*announcement_id, redemption_ids.clone());
            }
            Event::ObjectionFiled {
                objection_id,
                target: ObjectionTarget::Redemption { redemption_id },
                ..
            } => {
                self.redemption_of_objection.insert(*objection_id, *redemption_id);
            }
            Event::ClawbackOrdered { clawback_id, redemption_id, .. } => {
                self.redemption_of_clawback.insert(*clawback_id, *redemption_id);
            }
            _ => {}
        }
    }
}

/// The ascending positions of one trail, compact: the gaps between them as LEB128 varints (a trail's
/// records are usually a few thousand positions apart: two or three bytes each instead of eight).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Trail {
    last: u64,
    gaps: Vec<u8>,
}

impl Trail {
    /// Appends `position` (not below the last one) once: a record that concerns two contracts of one
    /// voucher is listed once.
    fn push_once(&mut self, position: u64) {
        if position <= self.last {
            return;
        }
        let mut gap = position - self.last;
        loop {
            let low = (gap & 0x7f) as u8;
            gap >>= 7;
            if gap == 0 {
                self.gaps.push(low);
                break;
            }
            self.gaps.push(low | 0x80);
        }
        self.last = position;
    }

    fn positions(&self) -> Vec<u64> {
        let mut positions = Vec::new();
        let (mut position, mut gap, mut shift) = (0u64, 0u64, 0u32);
        for byte in &self.gaps {
            gap |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                position += gap;
                positions.push(position);
                (gap, shift) = (0, 0);
            }
        }
        positions
    }
}

impl ReadModel for History {
    fn name(&self) -> &'static str {
        "history"
    }

    fn apply(&mut self, record: &Recorded) {
        self.link(&record.event);
        let mut vouchers: Vec<Uuid> = match &record.event {
            Event::VoucherIssued { voucher_id, .. }
            | Event::VoucherExpired { voucher_id, .. }
            | Event::ReturnedAfterExpiry { voucher_id, .. } => vec![*voucher_id],
            _ => Vec::new(),
        };
        let contracts = self.contracts_of(&record.event);
        vouchers.extend(contracts.iter().filter_map(|id| self.voucher_of_contract.get(id).copied()));
        if vouchers.is_empty() && contracts.is_empty() {
            return;
        }
        for contract_id in contracts {
            self.by_contract.entry(contract_id).or_default().push_once(record.position);
        }
        for voucher_id in vouchers {
            self.by_voucher.entry(voucher_id).or_default().push_once(record.position);
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::document::{Document, Sha256Hex};
    use domain::event::{ContractTerms, Party};
    use domain::{ApplicantKind, Cny, CreditCode, Jurisdiction};

    use super::*;
    use crate::testing::record;

    const GY: Jurisdiction = Jurisdiction::Guiyang;

    fn code(n: u32) -> CreditCode {
        domain::credit_code::with_check_character(&format!("915201{n:011}")).expect("valid code")
    }

    fn cny(text: &str) -> Cny {
        Cny::parse(text).expect("amount")
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn issued(voucher: u128) -> Event {
        Event::VoucherIssued {
            voucher_id: id(voucher),
            batch_id: id(1),
            jurisdiction: GY,
            applicant: code(1),
            kind: ApplicantKind::Enterprise,
            face_value: cny("50000.00"),
            cap_year: 2025,
            annual_cap: cny("5000000.00"),
            valid_until: "2025-12-31".parse().expect("date"),
        }
    }

    fn submitted(contract: u128, voucher: u128) -> Event {
        Event::ContractSubmitted {
            contract_id: id(contract),
            terms: ContractTerms {
                voucher_id: id(voucher),
                jurisdiction: GY,
                provider: code(500),
                applicant: code(1),
                category: "inspection_testing".into(),
                description: "d".into(),
                term_start: "2025-04-01".parse().expect("date"),
                term_end: "2025-06-30".parse().expect("date"),
                total: cny("20000.00"),
                voucher_amount: cny("10000.00"),
                document_sha256: Sha256Hex::parse(&"ab".repeat(32)).expect("digest"),
            },
            submitted_by: Party::Provider,
        }
    }

    #[test]
    fn a_trail_gives_back_its_positions_small_and_large_gaps_alike() {
        let positions = [1, 2, 129, 130, 16_514, 1 << 40, (1 << 40) + 1, u64::MAX];
        let mut trail = Trail::default();
        for position in positions {
            trail.push_once(position);
            trail.push_once(position);
        }
        trail.push_once(3);
        assert_eq!(trail.positions(), positions);
        assert_eq!(Trail::default().positions(), Vec::<u64>::new());
    }

    #[test]
    fn a_vouchers_history_follows_its_contract_redemption_announcement_and_clawback_in_order() {
        let document = Document {
            sha256: Sha256Hex::parse(&"cd".repeat(32)).expect("digest"),
            name: "i".into(),
            size_bytes: 1,
        };
        let events = vec![
            issued(7),
            issued(8),
            submitted(20, 7),
            submitted(21, 8),
            Event::ContractSigned { contract_id: id(20), party: Party::Applicant },
            Event::RedemptionRequested {
                redemption_id: id(30),
                contract_id: id(20),
                jurisdiction: GY,
                provider: code(500),
                amount: cny("10000.00"),
                invoice: document.clone(),
                remittance_proof: document.clone(),
                results: vec![],
            },
            Event::RedemptionsAnnounced {
                announcement_id: id(40),
                jurisdiction: GY,
                redemption_ids: vec![id(30)],
                announced_on: "2025-09-01".parse().expect("date"),
                closes_on: "2025-09-08".parse().expect("date"),
            },
            Event::RedemptionAnnouncementClosed { announcement_id: id(40) },
            Event::ClawbackOrdered {
                clawback_id: id(50),
                redemption_id: id(30),
                jurisdiction: GY,
                provider: code(500),
                amount: cny("100.00"),
                reason: "r".into(),
            },
            Event::ClawbackRecovered { clawback_id: id(50), jurisdiction: GY, amount: cny("100.00") },
        ];
        let mut model = History::default();
        for (index, event) in events.into_iter().enumerate() {
            model.apply(&record(index as u64 + 1, "2025-04-01", event));
        }
        assert_eq!(model.voucher(id(7)), Some(vec![1, 3, 5, 6, 7, 8, 9, 10]));
        assert_eq!(model.voucher(id(8)), Some(vec![2, 4]));
        assert_eq!(model.contract(id(20)), Some(vec![3, 5, 6, 7, 8, 9, 10]));
        assert_eq!(model.voucher(id(99)), None);
        let recorded = record(1, "2025-04-01", issued(7));
        let entry = Entry::of(&recorded);
        assert_eq!((entry.position, entry.hash), (1, [1; 32]));
        assert_eq!(entry.stream, format!("voucher-{}", id(7)));
    }
}
