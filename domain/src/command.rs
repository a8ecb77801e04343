//! Commands: what a party asks the ledger to do, imperative, with the context the edge supplies.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::document::{Document, Sha256Hex};
use crate::event::{DenialGround, Finding, ObjectionTarget, Registration, ReviewOutcome, Ruling};
use crate::{Actor, ApplicantKind, CalendarYear, Cny, CreditCode, Jurisdiction, PolicyVersion, Share};

/// What the edge knows when a command arrives: who acts and on which business date. The domain reads no
/// clock; ids a command creates ride in the command itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub actor: Actor,
    /// The Asia/Shanghai date of the command's arrival.
    pub business_date: NaiveDate,
    /// The log position the command is decided at (the head before its events).
    pub log_position: u64,
}

/// The outcome of a verification review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationDecision {
    Verified,
    Rejected,
}

/// A request to change the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Publish a successor policy version (bureau).
    PublishPolicy { policy: PolicyVersion },
    /// Publish a year's holiday calendar (bureau).
    PublishCalendarYear { calendar_year: CalendarYear },
    /// Appropriate money to a jurisdiction's fiscal year (finance of that jurisdiction).
    AppropriateBudget { jurisdiction: Jurisdiction, fiscal_year: i32, amount: Cny },
    /// Publish a batch with its issuance guide (bureau of the jurisdiction).
    PublishBatch {
        batch_id: Uuid,
        jurisdiction: Jurisdiction,
        fiscal_year: i32,
        name: String,
        total: Cny,
        face_value: Cny,
        eligible_kinds: BTreeSet<ApplicantKind>,
        eligible_industries: BTreeSet<String>,
        eligible_categories: BTreeSet<String>,
        claim_opens: NaiveDate,
        claim_closes: NaiveDate,
        valid_until: NaiveDate,
        /// `None`: the policy's default.
        redemption_days: Option<u32>,
        /// `None`: the policy's default.
        max_voucher_share: Option<Share>,
    },
    /// Close a batch early, returning its unissued money to the budget (bureau of the jurisdiction).
    CloseBatch { batch_id: Uuid },
    /// Register as an applicant (the applicant itself).
    RegisterApplicant { registration: Registration },
    /// Decide an applicant's verification (service center; in guian also the bureau).
    DecideVerification { credit_code: CreditCode, decision: VerificationDecision, reason: String },
    /// Suspend an applicant (bureau of its jurisdiction).
    SuspendApplicant { credit_code: CreditCode, reason: String },
    /// Claim a voucher from a batch (the applicant named by the actor's credit code).
    ClaimVoucher { batch_id: Uuid, voucher_id: Uuid },
    /// Apply for admission as a provider (the provider named by the actor's credit code).
    ApplyAsProvider {
        name: String,
        categories: BTreeSet<String>,
        qualifications: Vec<Document>,
        contact: String,
    },
    /// Approve or reject a provider's application (bureau of its jurisdiction).
    DecideProvider { provider: CreditCode, approve: bool, reason: String },
    /// Suspend a provider (bureau of its jurisdiction).
    SuspendProvider { provider: CreditCode, reason: String },
    /// Object during an announcement (anyone, no token needed).
    FileObjection { objection_id: Uuid, target: ObjectionTarget, text: String },
    /// Rule on an objection (bureau of the announcement's jurisdiction).
    RuleOnObjection { objection_id: Uuid, ruling: Ruling, reason: String },
    /// Submit a contract on a voucher (the provider or the applicant; the submission is its signature).
    SubmitContract {
        contract_id: Uuid,
        voucher_id: Uuid,
        provider: CreditCode,
        category: String,
        description: String,
        term_start: NaiveDate,
        term_end: NaiveDate,
        total: Cny,
        voucher_amount: Cny,
        document_sha256: Sha256Hex,
    },
    /// Sign a submitted contract (the counterparty).
    SignContract { contract_id: Uuid },
    /// File (备案) a signed contract (service center; in guian also the bureau).
    FileContract { contract_id: Uuid },
    /// Refuse to file a contract (service center; in guian also the bureau).
    RejectContract { contract_id: Uuid, reason: String },
    /// Cancel a contract before completion (either party).
    CancelContract { contract_id: Uuid, reason: String },
    /// Confirm the service complete (the applicant).
    ConfirmCompletion { contract_id: Uuid },
    /// Rate the service, once (the applicant).
    RateService { contract_id: Uuid, quality: u8, timeliness: u8, professionalism: u8, text: String },
    /// Request redemption of a completed contract (the provider).
    RequestRedemption {
        redemption_id: Uuid,
        contract_id: Uuid,
        invoice: Document,
        remittance_proof: Document,
        results: Vec<Document>,
    },
    /// Decide a redemption review (a reviewer of the jurisdiction).
    ReviewRedemption { redemption_id: Uuid, outcome: ReviewOutcome },
    /// Put approved redemptions on an announcement list (bureau of the jurisdiction).
    AnnounceRedemptions { announcement_id: Uuid, jurisdiction: Jurisdiction, redemption_ids: Vec<Uuid> },
    /// Pay a redemption (bureau of the voucher's jurisdiction).
    DisburseRedemption { redemption_id: Uuid, payment_reference: String },
    /// Deny a redemption before disbursement (bureau of the jurisdiction).
    DenyRedemption { redemption_id: Uuid, ground: DenialGround, reason: String },
    /// Draw an audit sample of a year's contracts (auditor).
    DrawSample { sample_id: Uuid, jurisdiction: Jurisdiction, year: i32, size: u32, seed: String },
    /// Record a finding on a sampled contract (auditor).
    RecordFinding { sample_id: Uuid, contract_id: Uuid, finding: Finding, note: String },
    /// Order money back from a disbursed redemption (bureau of the jurisdiction).
    OrderClawback { clawback_id: Uuid, redemption_id: Uuid, amount: Cny, reason: String },
    /// Record money recovered on a clawback (bureau of the jurisdiction).
    RecordRecovery { clawback_id: Uuid, amount: Cny },
    /// Record a referral of a party to the judicial authorities (bureau).
    RecordReferral { referral_id: Uuid, party: CreditCode, authority: String, note: String },
    /// Scheduler: a provider's admission announcement has ended.
    CloseProviderAnnouncement { provider: CreditCode },
    /// Scheduler: a redemption announcement has ended.
    CloseRedemptionAnnouncement { announcement_id: Uuid },
    /// Scheduler: a voucher is past its valid-until date.
    ExpireVoucher { voucher_id: Uuid },
    /// Scheduler: a completed contract's redemption deadline has passed without a request.
    LapseRedemptionWindow { contract_id: Uuid },
}

impl Command {
    /// The command's name, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::PublishPolicy { .. } => "publish_policy",
            Command::PublishCalendarYear { .. } => "publish_calendar_year",
            Command::AppropriateBudget { .. } => "appropriate_budget",
            Command::PublishBatch { .. } => "publish_batch",
            Command::CloseBatch { .. } => "close_batch",
            Command::RegisterApplicant { .. } => "register_applicant",
            Command::DecideVerification { .. } => "decide_verification",
            Command::SuspendApplicant { .. } => "suspend_applicant",
            Command::ClaimVoucher { .. } => "claim_voucher",
            Command::ApplyAsProvider { .. } => "apply_as_provider",
            Command::DecideProvider { .. } => "decide_provider",
            Command::SuspendProvider { .. } => "suspend_provider",
            Command::FileObjection { .. } => "file_objection",
            Command::RuleOnObjection { .. } => "rule_on_objection",
            Command::SubmitContract { .. } => "submit_contract",
            Command::SignContract { .. } => "sign_contract",
            Command::FileContract { .. } => "file_contract",
            Command::RejectContract { .. } => "reject_contract",
            Command::CancelContract { .. } => "cancel_contract",
            Command::ConfirmCompletion { .. } => "confirm_completion",
            Command::RateService { .. } => "rate_service",
            Command::RequestRedemption { .. } => "request_redemption",
            Command::ReviewRedemption { .. } => "review_redemption",
            Command::AnnounceRedemptions { .. } => "announce_redemptions",
            Command::DisburseRedemption { .. } => "disburse_redemption",
            Command::DenyRedemption { .. } => "deny_redemption",
            Command::DrawSample { .. } => "draw_sample",
            Command::RecordFinding { .. } => "record_finding",
            Command::OrderClawback { .. } => "order_clawback",
            Command::RecordRecovery { .. } => "record_recovery",
            Command::RecordReferral { .. } => "record_referral",
            Command::CloseProviderAnnouncement { .. } => "close_provider_announcement",
            Command::CloseRedemptionAnnouncement { .. } => "close_redemption_announcement",
            Command::ExpireVoucher { .. } => "expire_voucher",
            Command::LapseRedemptionWindow { .. } => "lapse_redemption_window",
        }
    }
}
