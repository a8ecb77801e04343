//! Events: the facts the ledger records, past tense, each with its stream and its postings.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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

/// A recorded fact. Names and meanings never change once stored; a changed meaning is a new variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The bureau published a policy version (a successor of the Measures).
    PolicyPublished { policy: PolicyVersion },
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
}

impl Event {
    /// The event's type name as stored (never renamed).
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::PolicyPublished { .. } => "PolicyPublished",
            Event::CalendarYearPublished { .. } => "CalendarYearPublished",
            Event::BudgetAppropriated { .. } => "BudgetAppropriated",
            Event::BatchPublished { .. } => "BatchPublished",
            Event::BatchClosed { .. } => "BatchClosed",
            Event::ApplicantRegistered { .. } => "ApplicantRegistered",
            Event::ApplicantVerified { .. } => "ApplicantVerified",
            Event::ApplicantRejected { .. } => "ApplicantRejected",
            Event::ApplicantSuspended { .. } => "ApplicantSuspended",
            Event::VoucherIssued { .. } => "VoucherIssued",
        }
    }

    /// The stream the event belongs to (the entity it is about).
    pub fn stream(&self) -> String {
        match self {
            Event::PolicyPublished { policy } => format!("policy-{}", policy.id),
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
            Event::VoucherIssued { voucher_id, .. } => format!("voucher-{voucher_id}"),
        }
    }

    /// The postings the event makes: the one place that says how each fact moves money.
    pub fn postings(&self) -> Vec<Posting> {
        match self {
            Event::BudgetAppropriated { jurisdiction, fiscal_year, amount } => vec![Posting {
                jurisdiction: *jurisdiction,
                from_account: Account::FiscalSource,
                to_account: Account::Budget { fiscal_year: *fiscal_year },
                amount: *amount,
            }],
            Event::BatchPublished { batch_id, guide } => vec![Posting {
                jurisdiction: guide.jurisdiction,
                from_account: Account::Budget { fiscal_year: guide.fiscal_year },
                to_account: Account::BatchPool { batch_id: *batch_id },
                amount: guide.total,
            }],
            Event::BatchClosed { batch_id, jurisdiction, fiscal_year, returned: Some(returned) } => {
                vec![Posting {
                    jurisdiction: *jurisdiction,
                    from_account: Account::BatchPool { batch_id: *batch_id },
                    to_account: Account::Budget { fiscal_year: *fiscal_year },
                    amount: *returned,
                }]
            }
            Event::VoucherIssued { voucher_id, batch_id, jurisdiction, face_value, .. } => vec![Posting {
                jurisdiction: *jurisdiction,
                from_account: Account::BatchPool { batch_id: *batch_id },
                to_account: Account::VoucherAvailable { voucher_id: *voucher_id },
                amount: *face_value,
            }],
            Event::PolicyPublished { .. }
            | Event::CalendarYearPublished { .. }
            | Event::BatchClosed { returned: None, .. }
            | Event::ApplicantRegistered { .. }
            | Event::ApplicantVerified { .. }
            | Event::ApplicantRejected { .. }
            | Event::ApplicantSuspended { .. } => Vec::new(),
        }
    }
}
