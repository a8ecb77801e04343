//! Rejections: the expected ways a command is refused, each named for the rule it breaks, with a stable code.

use chrono::NaiveDate;

use crate::{ApplicantKind, CalendarError, Cny, CreditCode, Jurisdiction, PolicyError, Role};

/// How a caller should treat a rejection; the HTTP layer maps each class to one status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectionClass {
    /// The actor may not do this (403). Do not retry with the same credentials.
    Forbidden,
    /// The thing acted on does not exist (404).
    NotFound,
    /// The command conflicts with the current state of the thing (409), e.g. it already exists.
    Conflict,
    /// The command is well formed but a business rule refuses it (422).
    Unprocessable,
}

/// A command refused by a rule. A refused command records nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("role {role} in {jurisdiction} may not {action}")]
    Forbidden { role: Role, jurisdiction: String, action: &'static str },
    #[error("no policy version is in force on {date}")]
    NoPolicyInForce { date: NaiveDate },
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("batch {0} does not exist")]
    BatchNotFound(uuid::Uuid),
    #[error("batch {0} already exists")]
    BatchExists(uuid::Uuid),
    #[error("batch {0} is closed")]
    BatchClosed(uuid::Uuid),
    #[error("budget of {jurisdiction} {fiscal_year} has {available} available, less than {requested}")]
    BudgetInsufficient { jurisdiction: Jurisdiction, fiscal_year: i32, available: String, requested: Cny },
    #[error("invalid batch guide: {0}")]
    InvalidBatch(String),
    #[error("applicant {0} is not registered")]
    ApplicantNotFound(CreditCode),
    #[error("applicant {0} is already registered")]
    ApplicantExists(CreditCode),
    #[error("invalid registration: {0}")]
    InvalidRegistration(String),
    #[error("applicant {credit_code} is {status}, not pending verification")]
    NotPendingVerification { credit_code: CreditCode, status: &'static str },
    #[error("applicant {credit_code} is {status}, not verified")]
    ApplicantNotVerified { credit_code: CreditCode, status: &'static str },
    #[error("applicant {0} is already suspended")]
    AlreadySuspended(CreditCode),
    #[error("applicant {credit_code} is not eligible for batch {batch_id}: {reason}")]
    NotEligible { credit_code: CreditCode, batch_id: uuid::Uuid, reason: String },
    #[error("batch {batch_id} takes claims from {opens} to {closes}, not on {date}")]
    ClaimWindowClosed { batch_id: uuid::Uuid, opens: NaiveDate, closes: NaiveDate, date: NaiveDate },
    #[error("batch {batch_id} has {remaining} left, less than the face value {face_value}")]
    BatchExhausted { batch_id: uuid::Uuid, remaining: String, face_value: Cny },
    #[error("applicant {credit_code} has already claimed from batch {batch_id}")]
    AlreadyClaimed { credit_code: CreditCode, batch_id: uuid::Uuid },
    #[error(
        "applicant {credit_code} ({kind}) has {issued} issued in {year}; {face_value} more exceeds the annual cap {cap}"
    )]
    CapExceeded {
        credit_code: CreditCode,
        kind: ApplicantKind,
        year: i32,
        issued: String,
        face_value: Cny,
        cap: Cny,
    },
    #[error("voucher {0} already exists")]
    VoucherExists(uuid::Uuid),
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("{what} {id} already exists")]
    Exists { what: &'static str, id: String },
    #[error("{what} {id} is {status}: {action} is not possible")]
    InvalidState { what: &'static str, id: String, status: String, action: &'static str },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("provider {provider} is {status}, not admitted")]
    ProviderNotAdmitted { provider: CreditCode, status: String },
    #[error("provider {0} is suspended")]
    ProviderSuspended(CreditCode),
    #[error("provider {provider} does not offer {category}")]
    CategoryNotOffered { provider: CreditCode, category: String },
    #[error("service category {category} is not eligible for the voucher's batch")]
    CategoryNotEligible { category: String },
    #[error("provider and applicant are the same legal person ({0})")]
    SameLegalPerson(CreditCode),
    #[error("voucher {voucher_id} expired on {valid_until}")]
    VoucherExpired { voucher_id: uuid::Uuid, valid_until: NaiveDate },
    #[error("voucher {voucher_id} has {available} available, less than {requested}")]
    InsufficientBalance { voucher_id: uuid::Uuid, available: String, requested: Cny },
    #[error("voucher amount {requested} exceeds the batch's share cap {cap} of the contract total")]
    ShareCapExceeded { requested: Cny, cap: String },
    #[error("the announcement closed on {closes_on}")]
    AnnouncementClosed { closes_on: NaiveDate },
    #[error(
        "{open} objections are already open against this item, the most allowed ({limit}); wait for rulings"
    )]
    TooManyObjectionsOpen { open: u32, limit: u32 },
    #[error("contract {0} has already been rated")]
    AlreadyRated(uuid::Uuid),
    #[error("the redemption deadline {deadline} has passed")]
    RedemptionDeadlinePassed { deadline: NaiveDate },
    #[error("redemption {redemption_id} is not payable: {reason}")]
    NotPayable { redemption_id: uuid::Uuid, reason: String },
    #[error("redemption {0} has already been disbursed")]
    AlreadyDisbursed(uuid::Uuid),
    #[error("clawback {requested} exceeds what remains disbursed ({remaining})")]
    ClawbackExceedsDisbursed { requested: Cny, remaining: String },
    #[error("recovery {requested} exceeds what is still due ({due})")]
    RecoveryExceedsDue { requested: Cny, due: String },
    #[error("contract {contract_id} is not in sample {sample_id}")]
    NotInSample { sample_id: uuid::Uuid, contract_id: uuid::Uuid },
    #[error("nothing is due: {0}")]
    NothingDue(String),
    #[error("{field} is out of bounds: {detail}")]
    OutOfBounds { field: &'static str, detail: String },
    #[error("invalid {field}: {detail}")]
    InvalidName { field: &'static str, detail: String },
    #[error("date out of range: {0}")]
    DateOutOfRange(String),
    #[error("an audit sample covers the previous year {previous}, not {year} (Measures art. 12)")]
    SampleYearNotPrevious { year: i32, previous: i32 },
}

impl Rejection {
    /// Every code [`Rejection::code`] answers, sorted: the refusals a command can meet, as the OpenAPI document
    /// names them (a test checks the list against `code`).
    pub const CODES: &'static [&'static str] = &[
        "already_claimed",
        "already_disbursed",
        "already_exists",
        "already_rated",
        "already_suspended",
        "announcement_closed",
        "announcement_not_found",
        "applicant_exists",
        "applicant_not_found",
        "applicant_not_verified",
        "batch_closed",
        "batch_exhausted",
        "batch_exists",
        "batch_not_found",
        "budget_insufficient",
        "calendar_year_exists",
        "calendar_year_unknown",
        "cap_exceeded",
        "category_not_eligible",
        "category_not_offered",
        "claim_window_closed",
        "clawback_exceeds_disbursed",
        "clawback_not_found",
        "contract_not_found",
        "date_out_of_range",
        "forbidden",
        "insufficient_balance",
        "invalid_batch",
        "invalid_calendar",
        "invalid_name",
        "invalid_policy",
        "invalid_registration",
        "invalid_request",
        "invalid_state",
        "no_policy_in_force",
        "not_eligible",
        "not_found",
        "not_in_sample",
        "not_payable",
        "not_pending_verification",
        "nothing_due",
        "objection_not_found",
        "out_of_bounds",
        "policy_already_signed",
        "policy_exists",
        "policy_overlaps",
        "policy_retroactive",
        "policy_signature_mismatch",
        "provider_not_admitted",
        "provider_not_found",
        "provider_suspended",
        "recovery_exceeds_due",
        "redemption_deadline_passed",
        "redemption_not_found",
        "same_legal_person",
        "sample_not_found",
        "sample_year_not_previous",
        "share_cap_exceeded",
        "too_many_objections_open",
        "voucher_exists",
        "voucher_expired",
        "voucher_not_found",
    ];

    /// The stable machine-readable code of the rejection (problem+json `code`).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Forbidden { .. } => "forbidden",
            Rejection::NoPolicyInForce { .. } => "no_policy_in_force",
            Rejection::Policy(PolicyError::Overlaps { .. }) => "policy_overlaps",
            Rejection::Policy(PolicyError::DuplicateId(_)) => "policy_exists",
            Rejection::Policy(PolicyError::Retroactive { .. }) => "policy_retroactive",
            Rejection::Policy(PolicyError::AlreadySigned { .. }) => "policy_already_signed",
            Rejection::Policy(PolicyError::SignatureMismatch { .. }) => "policy_signature_mismatch",
            Rejection::Policy(_) => "invalid_policy",
            Rejection::Calendar(CalendarError::UnknownYear(_)) => "calendar_year_unknown",
            Rejection::Calendar(CalendarError::YearAlreadyPublished(_)) => "calendar_year_exists",
            Rejection::Calendar(_) => "invalid_calendar",
            Rejection::BatchNotFound(_) => "batch_not_found",
            Rejection::BatchExists(_) => "batch_exists",
            Rejection::BatchClosed(_) => "batch_closed",
            Rejection::BudgetInsufficient { .. } => "budget_insufficient",
            Rejection::InvalidBatch(_) => "invalid_batch",
            Rejection::ApplicantNotFound(_) => "applicant_not_found",
            Rejection::ApplicantExists(_) => "applicant_exists",
            Rejection::InvalidRegistration(_) => "invalid_registration",
            Rejection::NotPendingVerification { .. } => "not_pending_verification",
            Rejection::ApplicantNotVerified { .. } => "applicant_not_verified",
            Rejection::AlreadySuspended(_) => "already_suspended",
            Rejection::NotEligible { .. } => "not_eligible",
            Rejection::ClaimWindowClosed { .. } => "claim_window_closed",
            Rejection::BatchExhausted { .. } => "batch_exhausted",
            Rejection::AlreadyClaimed { .. } => "already_claimed",
            Rejection::CapExceeded { .. } => "cap_exceeded",
            Rejection::VoucherExists(_) => "voucher_exists",
            Rejection::NotFound { what, .. } => match *what {
                "provider" => "provider_not_found",
                "contract" => "contract_not_found",
                "voucher" => "voucher_not_found",
                "redemption" => "redemption_not_found",
                "announcement" => "announcement_not_found",
                "objection" => "objection_not_found",
                "sample" => "sample_not_found",
                "clawback" => "clawback_not_found",
                _ => "not_found",
            },
            Rejection::Exists { .. } => "already_exists",
            Rejection::InvalidState { .. } => "invalid_state",
            Rejection::Invalid(_) => "invalid_request",
            Rejection::ProviderNotAdmitted { .. } => "provider_not_admitted",
            Rejection::ProviderSuspended(_) => "provider_suspended",
            Rejection::CategoryNotOffered { .. } => "category_not_offered",
            Rejection::CategoryNotEligible { .. } => "category_not_eligible",
            Rejection::SameLegalPerson(_) => "same_legal_person",
            Rejection::VoucherExpired { .. } => "voucher_expired",
            Rejection::InsufficientBalance { .. } => "insufficient_balance",
            Rejection::ShareCapExceeded { .. } => "share_cap_exceeded",
            Rejection::AnnouncementClosed { .. } => "announcement_closed",
            Rejection::TooManyObjectionsOpen { .. } => "too_many_objections_open",
            Rejection::AlreadyRated(_) => "already_rated",
            Rejection::RedemptionDeadlinePassed { .. } => "redemption_deadline_passed",
            Rejection::NotPayable { .. } => "not_payable",
            Rejection::AlreadyDisbursed(_) => "already_disbursed",
            Rejection::ClawbackExceedsDisbursed { .. } => "clawback_exceeds_disbursed",
            Rejection::RecoveryExceedsDue { .. } => "recovery_exceeds_due",
            Rejection::NotInSample { .. } => "not_in_sample",
            Rejection::NothingDue(_) => "nothing_due",
            Rejection::OutOfBounds { .. } => "out_of_bounds",
            Rejection::InvalidName { .. } => "invalid_name",
            Rejection::DateOutOfRange(_) => "date_out_of_range",
            Rejection::SampleYearNotPrevious { .. } => "sample_year_not_previous",
        }
    }

    /// How the caller should treat it.
    pub fn class(&self) -> RejectionClass {
        match self {
            Rejection::Forbidden { .. } => RejectionClass::Forbidden,
            Rejection::BatchNotFound(_) | Rejection::ApplicantNotFound(_) | Rejection::NotFound { .. } => {
                RejectionClass::NotFound
            }
            Rejection::BatchExists(_)
            | Rejection::ApplicantExists(_)
            | Rejection::VoucherExists(_)
            | Rejection::Exists { .. }
            | Rejection::InvalidState { .. }
            | Rejection::AlreadyDisbursed(_)
            | Rejection::AlreadyRated(_)
            | Rejection::Policy(PolicyError::DuplicateId(_))
            | Rejection::Policy(PolicyError::AlreadySigned { .. })
            | Rejection::Policy(PolicyError::SignatureMismatch { .. })
            | Rejection::Calendar(CalendarError::YearAlreadyPublished(_)) => RejectionClass::Conflict,
            _ => RejectionClass::Unprocessable,
        }
    }
}

#[cfg(test)]
mod codes_tests {
    use super::Rejection;

    /// The codes written in `Rejection::code`, read from this file's source.
    fn codes_in_source() -> std::collections::BTreeSet<String> {
        let source = include_str!("rejection.rs");
        let body = source.split("pub fn code(&self)").nth(1).unwrap_or_default();
        let body = body.split("\n    }\n").next().unwrap_or_default();
        body.split("=> \"").skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_owned).collect()
    }

    #[test]
    fn every_code_is_listed_once_and_sorted() {
        let listed: std::collections::BTreeSet<String> =
            Rejection::CODES.iter().map(|c| (*c).to_owned()).collect();
        assert_eq!(listed, codes_in_source());
        assert!(Rejection::CODES.windows(2).all(|pair| pair[0] < pair[1]), "sorted, no repeats");
    }
}
