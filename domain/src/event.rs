//! Events: the facts the ledger records, past tense, each with its stream and its postings.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::document::{Document, Sha256Hex};
use crate::{
    Account, ApplicantKind, CalendarYear, Cny, CreditCode, Jurisdiction, PolicyVersion, Posting, Share,
};

/// A batch's issuance guide (《助企券发放指南》) as published (SPEC §4 Budget and batch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchGuide {
    pub jurisdiction: Jurisdiction,
    pub fiscal_year: i32,
    pub name: String,
    /// Money taken from the fiscal year's budget into the batch pool.
    pub total: Cny,
    /// Face value of each voucher claimed.
    pub face_value: Cny,
    pub eligible_kinds: BTreeSet<ApplicantKind>,
    /// Industries whose enterprises may claim (project entities have no industry).
    pub eligible_industries: BTreeSet<String>,
    /// Service categories the vouchers may pay for.
    pub eligible_categories: BTreeSet<String>,
    /// First and last business dates on which claims are accepted (inclusive).
    pub claim_opens: NaiveDate,
    pub claim_closes: NaiveDate,
    /// Last business date on which the vouchers may be spent.
    pub valid_until: NaiveDate,
    /// Redemption deadline, in days after service completion.
    pub redemption_days: u32,
    /// Maximum share of a contract's total a voucher may pay.
    pub max_voucher_share: Share,
    /// The policy version the batch was published under.
    pub policy_id: String,
}

/// An applicant's registration (SPEC §4 Applicant, Measures art. 6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub credit_code: CreditCode,
    pub name: String,
    pub kind: ApplicantKind,
    pub jurisdiction: Jurisdiction,
    /// The eligible industry of an enterprise.
    pub industry: Option<String>,
    /// The project code on the provincial investment-project platform, for a project entity.
    pub project_code: Option<String>,
    pub independent_legal_person: bool,
    pub tax_compliant: bool,
}

/// A party to a contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Provider,
    Applicant,
}

impl Party {
    /// The other party.
    pub fn counterparty(self) -> Party {
        match self {
            Party::Provider => Party::Applicant,
            Party::Applicant => Party::Provider,
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Provider => "provider",
            Party::Applicant => "applicant",
        }
    }
}

/// A reviewer's decision on a redemption (Measures art. 11).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum ReviewOutcome {
    /// Approved for the whole amount requested.
    Full,
    /// Approved for less, with the reason.
    Reduced { approved: Cny, reason: String },
    /// Rejected; the money returns to the budget.
    Rejected { reason: String },
}

/// What an objection is raised against.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ObjectionTarget {
    /// A provider during its admission announcement.
    Provider { provider: CreditCode },
    /// A redemption on an announcement list.
    Redemption { redemption_id: Uuid },
}

/// The bureau's ruling on an objection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ruling {
    Upheld,
    Dismissed,
}

/// An audit finding on a sampled contract (Measures art. 12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    Compliant,
    Irregular,
    RefusedCooperation,
}

/// Why a bureau denies a redemption before disbursement (Measures art. 12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenialGround {
    Fraud,
    RefusedCooperation,
}

/// A contract's terms as submitted (Measures art. 9, 10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractTerms {
    pub voucher_id: Uuid,
    pub jurisdiction: Jurisdiction,
    pub provider: CreditCode,
    pub applicant: CreditCode,
    pub category: String,
    pub description: String,
    pub term_start: NaiveDate,
    pub term_end: NaiveDate,
    /// The contract's total price.
    pub total: Cny,
    /// The part the voucher pays.
    pub voucher_amount: Cny,
    /// SHA-256 of the signed and sealed contract document.
    pub document_sha256: Sha256Hex,
}

/// A provider's application for admission (Measures art. 8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderApplication {
    pub provider: CreditCode,
    pub name: String,
    /// The jurisdiction whose bureau admits it.
    pub jurisdiction: Jurisdiction,
    pub categories: BTreeSet<String>,
    pub qualifications: Vec<Document>,
    /// A contact (telephone or e-mail) for the provider, used by anomaly checks.
    pub contact: String,
}

/// A recorded fact. Names and meanings never change once stored; a changed meaning is a new variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The bureau published a policy version (a successor of the Measures).
    PolicyPublished { policy: PolicyVersion },
    /// The bureau of `jurisdiction` signed a policy version naming it; the last of the signatures of the
    /// jurisdictions the version names puts it in force (SPEC §3 "Who publishes").
    PolicySigned { policy: PolicyVersion, jurisdiction: Jurisdiction },
    /// The bureau published a year's holidays and adjusted working days.
    CalendarYearPublished { calendar_year: CalendarYear },
    /// Finance appropriated money to a jurisdiction's fiscal year.
    BudgetAppropriated { jurisdiction: Jurisdiction, fiscal_year: i32, amount: Cny },
    /// The bureau published a batch, moving its total from the budget to the batch pool.
    BatchPublished { batch_id: Uuid, guide: BatchGuide },
    /// The bureau closed a batch; its unissued money (if any) went back to the budget.
    BatchClosed { batch_id: Uuid, jurisdiction: Jurisdiction, fiscal_year: i32, returned: Option<Cny> },
    /// An applicant registered itself.
    ApplicantRegistered { registration: Registration },
    /// The service center (or the Gui'an bureau) verified an applicant.
    ApplicantVerified { credit_code: CreditCode },
    /// The service center (or the Gui'an bureau) rejected an applicant's registration.
    ApplicantRejected { credit_code: CreditCode, reason: String },
    /// The bureau suspended an applicant.
    ApplicantSuspended { credit_code: CreditCode, reason: String },
    /// A voucher was issued to an applicant by claim on a batch.
    VoucherIssued {
        voucher_id: Uuid,
        batch_id: Uuid,
        jurisdiction: Jurisdiction,
        applicant: CreditCode,
        kind: ApplicantKind,
        face_value: Cny,
        /// The Asia/Shanghai calendar year the issuance counts toward.
        cap_year: i32,
        /// The annual cap applied, from the policy in force on the claim date.
        annual_cap: Cny,
        valid_until: NaiveDate,
    },
    /// A provider applied for admission.
    ProviderApplied { application: ProviderApplication },
    /// The bureau approved a provider; its admission announcement runs until `announcement_closes`.
    ProviderApproved { provider: CreditCode, announced_on: NaiveDate, announcement_closes: NaiveDate },
    /// The bureau rejected a provider's application, or upheld an objection against it.
    ProviderRejected { provider: CreditCode, reason: String },
    /// The admission announcement closed with no upheld objection: the provider is admitted.
    ProviderAdmitted { provider: CreditCode },
    /// The bureau suspended a provider: no new contracts, pending redemptions deniable.
    ProviderSuspended { provider: CreditCode, reason: String },
    /// Anyone objected during an announcement.
    ObjectionFiled { objection_id: Uuid, target: ObjectionTarget, jurisdiction: Jurisdiction, text: String },
    /// The bureau ruled on an objection.
    ObjectionRuled { objection_id: Uuid, ruling: Ruling, reason: String },
    /// A party submitted a contract (its own signature included).
    ContractSubmitted { contract_id: Uuid, terms: ContractTerms, submitted_by: Party },
    /// The counterparty signed.
    ContractSigned { contract_id: Uuid, party: Party },
    /// The service center (or the Gui'an bureau) filed (备案) the contract, committing the voucher amount.
    ContractFiled {
        contract_id: Uuid,
        voucher_id: Uuid,
        jurisdiction: Jurisdiction,
        amount: Cny,
        filed_on: NaiveDate,
    },
    /// The filing was refused.
    ContractRejected { contract_id: Uuid, reason: String },
    /// A party cancelled the contract; a filed commitment (if any) is released to the voucher.
    ContractCancelled {
        contract_id: Uuid,
        voucher_id: Uuid,
        jurisdiction: Jurisdiction,
        released: Option<Cny>,
        reason: String,
    },
    /// The applicant confirmed the service complete: the committed amount becomes the provider's receivable.
    ServiceCompleted {
        contract_id: Uuid,
        voucher_id: Uuid,
        jurisdiction: Jurisdiction,
        provider: CreditCode,
        amount: Cny,
        completed_on: NaiveDate,
        redemption_deadline: NaiveDate,
    },
    /// The applicant rated the service (1-5 each).
    ServiceRated {
        contract_id: Uuid,
        provider: CreditCode,
        category: String,
        quality: u8,
        timeliness: u8,
        professionalism: u8,
        text: String,
    },
    /// The provider requested redemption of a completed contract.
    RedemptionRequested {
        redemption_id: Uuid,
        contract_id: Uuid,
        jurisdiction: Jurisdiction,
        provider: CreditCode,
        amount: Cny,
        invoice: Document,
        remittance_proof: Document,
        results: Vec<Document>,
    },
    /// A reviewer decided; whatever was not approved returns to the budget of the batch's fiscal year.
    RedemptionReviewed {
        redemption_id: Uuid,
        jurisdiction: Jurisdiction,
        provider: CreditCode,
        fiscal_year: i32,
        outcome: ReviewOutcome,
        approved: Option<Cny>,
        returned: Option<Cny>,
    },
    /// The bureau put approved redemptions on a public announcement list.
    RedemptionsAnnounced {
        announcement_id: Uuid,
        jurisdiction: Jurisdiction,
        redemption_ids: Vec<Uuid>,
        announced_on: NaiveDate,
        closes_on: NaiveDate,
    },
    /// The announcement period ended: its items without open or upheld objections are payable.
    RedemptionAnnouncementClosed { announcement_id: Uuid },
    /// An upheld objection struck a redemption from its list; its money returns to the budget.
    RedemptionStruck {
        redemption_id: Uuid,
        objection_id: Uuid,
        jurisdiction: Jurisdiction,
        provider: CreditCode,
        fiscal_year: i32,
        returned: Cny,
    },
    /// The bureau of the voucher's jurisdiction paid the provider.
    RedemptionDisbursed {
        redemption_id: Uuid,
        jurisdiction: Jurisdiction,
        provider: CreditCode,
        amount: Cny,
        payment_reference: String,
    },
    /// The bureau denied a redemption before disbursement; its money returns to the budget.
    RedemptionDenied {
        redemption_id: Uuid,
        jurisdiction: Jurisdiction,
        provider: CreditCode,
        fiscal_year: i32,
        ground: DenialGround,
        reason: String,
        returned: Cny,
    },
    /// An auditor drew a sample of a year's contracts, deterministic from its inputs.
    SampleDrawn {
        sample_id: Uuid,
        jurisdiction: Jurisdiction,
        year: i32,
        size: u32,
        seed: String,
        as_of_position: u64,
        population: u32,
        contract_ids: Vec<Uuid>,
    },
    /// An auditor recorded a finding on a sampled contract.
    FindingRecorded { sample_id: Uuid, contract_id: Uuid, finding: Finding, note: String },
    /// The bureau ordered money disbursed for a redemption back.
    ClawbackOrdered {
        clawback_id: Uuid,
        redemption_id: Uuid,
        jurisdiction: Jurisdiction,
        provider: CreditCode,
        amount: Cny,
        reason: String,
    },
    /// Money ordered back was recovered (partially or wholly) to the treasury.
    ClawbackRecovered { clawback_id: Uuid, jurisdiction: Jurisdiction, amount: Cny },
    /// The bureau referred a party to the judicial authorities.
    ReferralRecorded { referral_id: Uuid, party: CreditCode, authority: String, note: String },
    /// A voucher passed its valid-until date; its available balance returned to the budget.
    VoucherExpired { voucher_id: Uuid, jurisdiction: Jurisdiction, fiscal_year: i32, returned: Option<Cny> },
    /// A completed contract was not redeemed by its deadline; the receivable returned to the budget.
    RedemptionWindowLapsed {
        contract_id: Uuid,
        jurisdiction: Jurisdiction,
        provider: CreditCode,
        fiscal_year: i32,
        returned: Cny,
    },
    /// Money released to a voucher after its expiry (a filed contract cancelled) went back to the budget of
    /// the batch's fiscal year in the same command: an expired voucher holds no available money (SPEC §4).
    ReturnedAfterExpiry {
        voucher_id: Uuid,
        /// The contract whose cancellation released the money.
        contract_id: Uuid,
        jurisdiction: Jurisdiction,
        fiscal_year: i32,
        returned: Cny,
    },
}

impl Event {
    /// The event's type name as stored (never renamed).
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::PolicyPublished { .. } => "PolicyPublished",
            Event::PolicySigned { .. } => "PolicySigned",
            Event::CalendarYearPublished { .. } => "CalendarYearPublished",
            Event::BudgetAppropriated { .. } => "BudgetAppropriated",
            Event::BatchPublished { .. } => "BatchPublished",
            Event::BatchClosed { .. } => "BatchClosed",
            Event::ApplicantRegistered { .. } => "ApplicantRegistered",
            Event::ApplicantVerified { .. } => "ApplicantVerified",
            Event::ApplicantRejected { .. } => "ApplicantRejected",
            Event::ApplicantSuspended { .. } => "ApplicantSuspended",
            Event::VoucherIssued { .. } => "VoucherIssued",
            Event::ProviderApplied { .. } => "ProviderApplied",
            Event::ProviderApproved { .. } => "ProviderApproved",
            Event::ProviderRejected { .. } => "ProviderRejected",
            Event::ProviderAdmitted { .. } => "ProviderAdmitted",
            Event::ProviderSuspended { .. } => "ProviderSuspended",
            Event::ObjectionFiled { .. } => "ObjectionFiled",
            Event::ObjectionRuled { .. } => "ObjectionRuled",
            Event::ContractSubmitted { .. } => "ContractSubmitted",
            Event::ContractSigned { .. } => "ContractSigned",
            Event::ContractFiled { .. } => "ContractFiled",
            Event::ContractRejected { .. } => "ContractRejected",
            Event::ContractCancelled { .. } => "ContractCancelled",
            Event::ServiceCompleted { .. } => "ServiceCompleted",
            Event::ServiceRated { .. } => "ServiceRated",
            Event::RedemptionRequested { .. } => "RedemptionRequested",
            Event::RedemptionReviewed { .. } => "RedemptionReviewed",
            Event::RedemptionsAnnounced { .. } => "RedemptionsAnnounced",
            Event::RedemptionAnnouncementClosed { .. } => "RedemptionAnnouncementClosed",
            Event::RedemptionStruck { .. } => "RedemptionStruck",
            Event::RedemptionDisbursed { .. } => "RedemptionDisbursed",
            Event::RedemptionDenied { .. } => "RedemptionDenied",
            Event::SampleDrawn { .. } => "SampleDrawn",
            Event::FindingRecorded { .. } => "FindingRecorded",
            Event::ClawbackOrdered { .. } => "ClawbackOrdered",
            Event::ClawbackRecovered { .. } => "ClawbackRecovered",
            Event::ReferralRecorded { .. } => "ReferralRecorded",
            Event::VoucherExpired { .. } => "VoucherExpired",
            Event::RedemptionWindowLapsed { .. } => "RedemptionWindowLapsed",
            Event::ReturnedAfterExpiry { .. } => "ReturnedAfterExpiry",
        }
    }

    /// The stream the event belongs to (the entity it is about).
    pub fn stream(&self) -> String {
        match self {
            Event::PolicyPublished { policy } | Event::PolicySigned { policy, .. } => {
                format!("policy-{}", policy.id)
            }
            Event::CalendarYearPublished { calendar_year } => format!("calendar-{}", calendar_year.year),
            Event::BudgetAppropriated { jurisdiction, fiscal_year, .. } => {
                format!("budget-{jurisdiction}-{fiscal_year}")
            }
            Event::BatchPublished { batch_id, .. } | Event::BatchClosed { batch_id, .. } => {
                format!("batch-{batch_id}")
            }
            Event::ApplicantRegistered { registration } => format!("applicant-{}", registration.credit_code),
            Event::ApplicantVerified { credit_code }
            | Event::ApplicantRejected { credit_code, .. }
            | Event::ApplicantSuspended { credit_code, .. } => format!("applicant-{credit_code}"),
            Event::VoucherIssued { voucher_id, .. }
            | Event::VoucherExpired { voucher_id, .. }
            | Event::ReturnedAfterExpiry { voucher_id, .. } => {
                format!("voucher-{voucher_id}")
            }
            Event::ProviderApplied { application } => format!("provider-{}", application.provider),
            Event::ProviderApproved { provider, .. }
            | Event::ProviderRejected { provider, .. }
            | Event::ProviderAdmitted { provider }
            | Event::ProviderSuspended { provider, .. } => format!("provider-{provider}"),
            Event::ObjectionFiled { objection_id, .. } | Event::ObjectionRuled { objection_id, .. } => {
                format!("objection-{objection_id}")
            }
            Event::ContractSubmitted { contract_id, .. }
            | Event::ContractSigned { contract_id, .. }
            | Event::ContractFiled { contract_id, .. }
            | Event::ContractRejected { contract_id, .. }
            | Event::ContractCancelled { contract_id, .. }
            | Event::ServiceCompleted { contract_id, .. }
            | Event::ServiceRated { contract_id, .. }
            | Event::RedemptionWindowLapsed { contract_id, .. } => format!("contract-{contract_id}"),
            Event::RedemptionRequested { redemption_id, .. }
            | Event::RedemptionReviewed { redemption_id, .. }
            | Event::RedemptionStruck { redemption_id, .. }
            | Event::RedemptionDisbursed { redemption_id, .. }
            | Event::RedemptionDenied { redemption_id, .. } => format!("redemption-{redemption_id}"),
            Event::RedemptionsAnnounced { announcement_id, .. }
            | Event::RedemptionAnnouncementClosed { announcement_id } => {
                format!("announcement-{announcement_id}")
            }
            Event::SampleDrawn { sample_id, .. } | Event::FindingRecorded { sample_id, .. } => {
                format!("sample-{sample_id}")
            }
            Event::ClawbackOrdered { clawback_id, .. } | Event::ClawbackRecovered { clawback_id, .. } => {
                format!("clawback-{clawback_id}")
            }
            Event::ReferralRecorded { referral_id, .. } => format!("referral-{referral_id}"),
        }
    }

    /// The postings the event makes: the one place that says how each fact moves money.
    pub fn postings(&self) -> Vec<Posting> {
        let posting =
            |jurisdiction: Jurisdiction, from_account: Account, to_account: Account, amount: Cny| {
                vec![Posting { jurisdiction, from_account, to_account, amount }]
            };
        match self {
            Event::BudgetAppropriated { jurisdiction, fiscal_year, amount } => posting(
                *jurisdiction,
                Account::FiscalSource,
                Account::Budget { fiscal_year: *fiscal_year },
                *amount,
            ),
            Event::BatchPublished { batch_id, guide } => posting(
                guide.jurisdiction,
                Account::Budget { fiscal_year: guide.fiscal_year },
                Account::BatchPool { batch_id: *batch_id },
                guide.total,
            ),
            Event::BatchClosed { batch_id, jurisdiction, fiscal_year, returned: Some(returned) } => posting(
                *jurisdiction,
                Account::BatchPool { batch_id: *batch_id },
                Account::Budget { fiscal_year: *fiscal_year },
                *returned,
            ),
            Event::VoucherIssued { voucher_id, batch_id, jurisdiction, face_value, .. } => posting(
                *jurisdiction,
                Account::BatchPool { batch_id: *batch_id },
                Account::VoucherAvailable { voucher_id: *voucher_id },
                *face_value,
            ),
            Event::ContractFiled { voucher_id, jurisdiction, amount, .. } => posting(
                *jurisdiction,
                Account::VoucherAvailable { voucher_id: *voucher_id },
                Account::VoucherCommitted { voucher_id: *voucher_id },
                *amount,
            ),
            Event::ContractCancelled { voucher_id, jurisdiction, released: Some(released), .. } => posting(
                *jurisdiction,
                Account::VoucherCommitted { voucher_id: *voucher_id },
                Account::VoucherAvailable { voucher_id: *voucher_id },
                *released,
            ),
            Event::ServiceCompleted { voucher_id, jurisdiction, provider, amount, .. } => posting(
                *jurisdiction,
                Account::VoucherCommitted { voucher_id: *voucher_id },
                Account::ProviderReceivable { provider: provider.clone() },
                *amount,
            ),
            Event::RedemptionReviewed {
                jurisdiction,
                provider,
                fiscal_year,
                returned: Some(returned),
                ..
            }
            | Event::RedemptionStruck { jurisdiction, provider, fiscal_year, returned, .. }
            | Event::RedemptionDenied { jurisdiction, provider, fiscal_year, returned, .. }
            | Event::RedemptionWindowLapsed { jurisdiction, provider, fiscal_year, returned, .. } => posting(
                *jurisdiction,
                Account::ProviderReceivable { provider: provider.clone() },
                Account::Budget { fiscal_year: *fiscal_year },
                *returned,
            ),
            Event::RedemptionDisbursed { jurisdiction, provider, amount, .. } => posting(
                *jurisdiction,
                Account::ProviderReceivable { provider: provider.clone() },
                Account::Disbursed,
                *amount,
            ),
            Event::ClawbackOrdered { jurisdiction, amount, .. } => {
                posting(*jurisdiction, Account::Disbursed, Account::ClawbackDue, *amount)
            }
            Event::ClawbackRecovered { jurisdiction, amount, .. } => {
                posting(*jurisdiction, Account::ClawbackDue, Account::FiscalSource, *amount)
            }
            Event::VoucherExpired { voucher_id, jurisdiction, fiscal_year, returned: Some(returned) } => {
                posting(
                    *jurisdiction,
                    Account::VoucherAvailable { voucher_id: *voucher_id },
                    Account::Budget { fiscal_year: *fiscal_year },
                    *returned,
                )
            }
            Event::ReturnedAfterExpiry { voucher_id, jurisdiction, fiscal_year, returned, .. } => posting(
                *jurisdiction,
                Account::VoucherAvailable { voucher_id: *voucher_id },
                Account::Budget { fiscal_year: *fiscal_year },
                *returned,
            ),
            Event::PolicyPublished { .. }
            | Event::PolicySigned { .. }
            | Event::CalendarYearPublished { .. }
            | Event::BatchClosed { returned: None, .. }
            | Event::ApplicantRegistered { .. }
            | Event::ApplicantVerified { .. }
            | Event::ApplicantRejected { .. }
            | Event::ApplicantSuspended { .. }
            | Event::ProviderApplied { .. }
            | Event::ProviderApproved { .. }
            | Event::ProviderRejected { .. }
            | Event::ProviderAdmitted { .. }
            | Event::ProviderSuspended { .. }
            | Event::ObjectionFiled { .. }
            | Event::ObjectionRuled { .. }
            | Event::ContractSubmitted { .. }
            | Event::ContractSigned { .. }
            | Event::ContractRejected { .. }
            | Event::ContractCancelled { released: None, .. }
            | Event::ServiceRated { .. }
            | Event::RedemptionRequested { .. }
            | Event::RedemptionReviewed { returned: None, .. }
            | Event::RedemptionsAnnounced { .. }
            | Event::RedemptionAnnouncementClosed { .. }
            | Event::SampleDrawn { .. }
            | Event::FindingRecorded { .. }
            | Event::ReferralRecorded { .. }
            | Event::VoucherExpired { returned: None, .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored name of an event is its serde variant's name (the key of its JSON), and its stream names
    /// the entity it is about; a party's stable name is its serde name.
    #[test]
    fn an_event_names_its_type_and_its_stream_and_a_party_its_side() {
        let code = crate::CreditCode::parse("91110000802100433B").expect("code");
        let id = Uuid::from_u128(7);
        let cases = [
            (
                Event::ApplicantVerified { credit_code: code.clone() },
                "ApplicantVerified",
                format!("applicant-{code}"),
            ),
            (
                Event::ProviderAdmitted { provider: code.clone() },
                "ProviderAdmitted",
                format!("provider-{code}"),
            ),
            (
                Event::RedemptionAnnouncementClosed { announcement_id: id },
                "RedemptionAnnouncementClosed",
                format!("announcement-{id}"),
            ),
        ];
        for (event, name, stream) in cases {
            assert_eq!(event.event_type(), name);
            assert_eq!(event.stream(), stream);
            let json = serde_json::to_value(&event).expect("json");
            assert_eq!(
                json.as_object().and_then(|fields| fields.keys().next()).map(String::as_str),
                Some(name)
            );
        }
        for (party, name) in [(Party::Provider, "provider"), (Party::Applicant, "applicant")] {
            assert_eq!(party.as_str(), name);
            assert_eq!(serde_json::to_value(party).expect("json"), serde_json::json!(name));
        }
    }
}
