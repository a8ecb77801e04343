//! Commands: what a party asks the ledger to do, imperative, with the context the edge supplies.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::Registration;
use crate::{Actor, ApplicantKind, CalendarYear, Cny, CreditCode, Jurisdiction, PolicyVersion, Share};

/// What the edge knows when a command arrives: who acts and on which business date. The domain reads no
/// clock; ids a command creates ride in the command itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub actor: Actor,
    /// The Asia/Shanghai date of the command's arrival.
    pub business_date: NaiveDate,
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
        }
    }
}
