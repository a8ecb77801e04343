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
///
/// Each variant's doc says what the caller should do; its HTTP class is decided in [`Rejection::class`]
/// and its stable code in [`Rejection::code`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The actor's role or jurisdiction may not do this. Act with a token of the role the rule names, in
    /// the jurisdiction it names; retrying with the same token fails again.
    #[error("role {role} in {jurisdiction} may not {action}")]
    Forbidden { role: Role, jurisdiction: String, action: &'static str },
    /// No policy version covers the jurisdiction on the business date. Wait until a version is signed by
    /// every jurisdiction it names, then retry.
    #[error("no policy version is in force on {date}")]
    NoPolicyInForce { date: NaiveDate },
    /// The policy version is refused (its code names the reason). Fix the version's text, or publish it
    /// under a new id; an already signed or overlapping version is a conflict, not a typo.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The holiday calendar is refused, or a date needs a year not yet published. Fix the calendar's
    /// data, or publish the missing year first.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// No batch has this id. Check the id.
    #[error("batch {0} does not exist")]
    BatchNotFound(uuid::Uuid),
    /// A batch with this id exists. Publish under a fresh id, or read the existing batch.
    #[error("batch {0} already exists")]
    BatchExists(uuid::Uuid),
    /// The batch is closed: it issues nothing more and cannot be closed again. Claim from another batch.
    #[error("batch {0} is closed")]
    BatchClosed(uuid::Uuid),
    /// The fiscal year's budget cannot fund the batch. Appropriate more money, or publish a smaller batch.
    #[error("budget of {jurisdiction} {fiscal_year} has {available} available, less than {requested}")]
    BudgetInsufficient { jurisdiction: Jurisdiction, fiscal_year: i32, available: String, requested: Cny },
    /// The batch guide (or the budget's fiscal year) breaks a rule named in the message. Correct the
    /// command and send it again.
    #[error("invalid batch guide: {0}")]
    InvalidBatch(String),
    /// No applicant is registered under this credit code. Register it first, or check the code.
    #[error("applicant {0} is not registered")]
    ApplicantNotFound(CreditCode),
    /// The applicant is already registered. Nothing to do; read its record.
    #[error("applicant {0} is already registered")]
    ApplicantExists(CreditCode),
    /// The registration breaks a rule named in the message, or a decision that needs a reason has none.
    /// Correct the command and send it again.
    #[error("invalid registration: {0}")]
    InvalidRegistration(String),
    /// The applicant has already been verified, rejected or suspended. Nothing to decide; read its status.
    #[error("applicant {credit_code} is {status}, not pending verification")]
    NotPendingVerification { credit_code: CreditCode, status: &'static str },
    /// The applicant is not verified (pending, rejected or suspended). Wait for its verification.
    #[error("applicant {credit_code} is {status}, not verified")]
    ApplicantNotVerified { credit_code: CreditCode, status: &'static str },
    /// The applicant is already suspended. Nothing to do.
    #[error("applicant {0} is already suspended")]
    AlreadySuspended(CreditCode),
    /// The applicant does not meet the batch's eligibility (kind, attestations, industry). Claim from a
    /// batch open to it.
    #[error("applicant {credit_code} is not eligible for batch {batch_id}: {reason}")]
    NotEligible { credit_code: CreditCode, batch_id: uuid::Uuid, reason: String },
    /// The business date is outside the batch's claim window. Claim while the window is open.
    #[error("batch {batch_id} takes claims from {opens} to {closes}, not on {date}")]
    ClaimWindowClosed { batch_id: uuid::Uuid, opens: NaiveDate, closes: NaiveDate, date: NaiveDate },
    /// The batch has less left than one voucher's face value. Claim from another batch.
    #[error("batch {batch_id} has {remaining} left, less than the face value {face_value}")]
    BatchExhausted { batch_id: uuid::Uuid, remaining: String, face_value: Cny },
    /// The applicant has used its claims on this batch. Do not retry.
    #[error("applicant {credit_code} has already claimed from batch {batch_id}")]
    AlreadyClaimed { credit_code: CreditCode, batch_id: uuid::Uuid },
    /// The voucher would take the applicant over its annual cap. Do not retry this year.
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
    /// A voucher with this id exists. Claim with a fresh voucher id.
    #[error("voucher {0} already exists")]
    VoucherExists(uuid::Uuid),
    /// The provider, contract, voucher, redemption, announcement, objection, sample, clawback or party
    /// named does not exist. Check the id.
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    /// A thing of this kind exists under this id. Use a fresh id, or read the existing one.
    #[error("{what} {id} already exists")]
    Exists { what: &'static str, id: String },
    /// The thing's status does not allow this step now. Read its status; act only when it allows the step.
    #[error("{what} {id} is {status}: {action} is not possible")]
    InvalidState { what: &'static str, id: String, status: String, action: &'static str },
    /// A provider's application breaks a rule named in the message (name, categories, qualifications).
    /// Correct the application and send it again.
    #[error("invalid request: {0}")]
    InvalidProviderApplication(String),
    /// A document (qualification, invoice, remittance proof or service result) is malformed. Correct the
    /// document's reference and send the command again.
    #[error("invalid request: {0}")]
    InvalidDocument(String),
    /// An objection has no text. Send it with the grounds of the objection.
    #[error("invalid request: {0}")]
    InvalidObjection(String),
    /// A contract's terms break a rule named in the message (description, term, voucher amount). Correct
    /// the terms and submit again.
    #[error("invalid request: {0}")]
    InvalidContractTerms(String),
    /// A rating score is outside 1 to 5. Send scores from 1 to 5.
    #[error("invalid request: {0}")]
    InvalidRating(String),
    /// A redemption request has no service-result document. Attach at least one and request again.
    #[error("invalid request: {0}")]
    InvalidRedemptionRequest(String),
    /// A reduced approval is not less than the amount requested. Approve in full, or reduce below it.
    #[error("invalid request: {0}")]
    InvalidReview(String),
    /// A redemption announcement lists nothing, or a redemption of another jurisdiction. List only the
    /// announcing jurisdiction's approved redemptions.
    #[error("invalid request: {0}")]
    InvalidAnnouncement(String),
    /// A disbursement has no payment reference. Send it with the payment's reference.
    #[error("invalid request: {0}")]
    InvalidDisbursement(String),
    /// An audit draw's size is outside the bounds, or it has no seed. Correct the draw and send it again.
    #[error("invalid request: {0}")]
    InvalidSample(String),
    /// A referral does not name the authority. Send it with the authority's name.
    #[error("invalid request: {0}")]
    InvalidReferral(String),
    /// The provider is not admitted (applied, under announcement or rejected). Contract with an admitted
    /// provider, or wait for its admission.
    #[error("provider {provider} is {status}, not admitted")]
    ProviderNotAdmitted { provider: CreditCode, status: String },
    /// The provider is suspended. Contract with another provider.
    #[error("provider {0} is suspended")]
    ProviderSuspended(CreditCode),
    /// The provider does not offer the service category. Choose a category it offers, or another provider.
    #[error("provider {provider} does not offer {category}")]
    CategoryNotOffered { provider: CreditCode, category: String },
    /// The voucher's batch does not fund the service category. Choose an eligible category.
    #[error("service category {category} is not eligible for the voucher's batch")]
    CategoryNotEligible { category: String },
    /// Provider and applicant are the same legal person. A contract needs two parties; do not retry.
    #[error("provider and applicant are the same legal person ({0})")]
    SameLegalPerson(CreditCode),
    /// The voucher is past its valid-until date. It can no longer be spent.
    #[error("voucher {voucher_id} expired on {valid_until}")]
    VoucherExpired { voucher_id: uuid::Uuid, valid_until: NaiveDate },
    /// The voucher has less available than the amount. Use a smaller amount.
    #[error("voucher {voucher_id} has {available} available, less than {requested}")]
    InsufficientBalance { voucher_id: uuid::Uuid, available: String, requested: Cny },
    /// The voucher amount exceeds the batch's share of the contract total. Lower the voucher amount.
    #[error("voucher amount {requested} exceeds the batch's share cap {cap} of the contract total")]
    ShareCapExceeded { requested: Cny, cap: String },
    /// The announcement period has ended. Objections are no longer taken; do not retry.
    #[error("the announcement closed on {closes_on}")]
    AnnouncementClosed { closes_on: NaiveDate },
    /// The item holds the most open objections allowed. Wait for rulings, then object again.
    #[error(
        "{open} objections are already open against this item, the most allowed ({limit}); wait for rulings"
    )]
    TooManyObjectionsOpen { open: u32, limit: u32 },
    /// The contract has been rated; a rating is given once. Do not retry.
    #[error("contract {0} has already been rated")]
    AlreadyRated(uuid::Uuid),
    /// The contract's redemption deadline has passed. Its money has returned; do not retry.
    #[error("the redemption deadline {deadline} has passed")]
    RedemptionDeadlinePassed { deadline: NaiveDate },
    /// The redemption cannot be paid now (the reason says why: announcement open, objection open, refused).
    /// Wait until it is payable, or do not retry if it was refused.
    #[error("redemption {redemption_id} is not payable: {reason}")]
    NotPayable { redemption_id: uuid::Uuid, reason: String },
    /// The redemption has been paid. Nothing to do; order a clawback to take money back.
    #[error("redemption {0} has already been disbursed")]
    AlreadyDisbursed(uuid::Uuid),
    /// The clawback asks more than remains disbursed. Order at most the remainder.
    #[error("clawback {requested} exceeds what remains disbursed ({remaining})")]
    ClawbackExceedsDisbursed { requested: Cny, remaining: String },
    /// The recovery exceeds what the clawback still has due. Record at most what is due.
    #[error("recovery {requested} exceeds what is still due ({due})")]
    RecoveryExceedsDue { requested: Cny, due: String },
    /// The contract was not drawn in the sample. Record findings on sampled contracts only.
    #[error("contract {contract_id} is not in sample {sample_id}")]
    NotInSample { sample_id: uuid::Uuid, contract_id: uuid::Uuid },
    /// A scheduler command whose deadline has not passed, or has been acted on. Nothing to do.
    #[error("nothing is due: {0}")]
    NothingDue(String),
    /// A field is outside the ledger's bounds (length, count, amount). Send a smaller value.
    #[error("{field} is out of bounds: {detail}")]
    OutOfBounds { field: &'static str, detail: String },
    /// A name or text field has characters the ledger does not accept. Correct the field.
    #[error("invalid {field}: {detail}")]
    InvalidName { field: &'static str, detail: String },
    /// A date computed from the command falls outside the calendar's range. Use nearer dates.
    #[error("date out of range: {0}")]
    DateOutOfRange(String),
    /// An audit sample must cover the year before the draw's business date. Draw for that year.
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
            Rejection::InvalidProviderApplication(_)
            | Rejection::InvalidDocument(_)
            | Rejection::InvalidObjection(_)
            | Rejection::InvalidContractTerms(_)
            | Rejection::InvalidRating(_)
            | Rejection::InvalidRedemptionRequest(_)
            | Rejection::InvalidReview(_)
            | Rejection::InvalidAnnouncement(_)
            | Rejection::InvalidDisbursement(_)
            | Rejection::InvalidSample(_)
            | Rejection::InvalidReferral(_) => "invalid_request",
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

    /// How the caller should treat it: the HTTP class of every rejection, decided here for each variant.
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
            | Rejection::Policy(
                PolicyError::DuplicateId(_)
                | PolicyError::AlreadySigned { .. }
                | PolicyError::SignatureMismatch { .. },
            )
            | Rejection::Calendar(CalendarError::YearAlreadyPublished(_)) => RejectionClass::Conflict,
            Rejection::NoPolicyInForce { .. }
            | Rejection::Policy(
                PolicyError::EmptyWindow { .. }
                | PolicyError::Overlaps { .. }
                | PolicyError::Empty { .. }
                | PolicyError::NoClaims { .. }
                | PolicyError::Parse(_)
                | PolicyError::NoJurisdictions { .. }
                | PolicyError::AnnouncementTooShort { .. }
                | PolicyError::Retroactive { .. },
            )
            | Rejection::Calendar(
                CalendarError::UnknownYear(_)
                | CalendarError::DateOutsideYear { .. }
                | CalendarError::NotAWeekend(_)
                | CalendarError::Conflict(_)
                | CalendarError::Parse(_)
                | CalendarError::YearOutOfRange(_),
            )
            | Rejection::BatchClosed(_)
            | Rejection::BudgetInsufficient { .. }
            | Rejection::InvalidBatch(_)
            | Rejection::InvalidRegistration(_)
            | Rejection::NotPendingVerification { .. }
            | Rejection::ApplicantNotVerified { .. }
            | Rejection::AlreadySuspended(_)
            | Rejection::NotEligible { .. }
            | Rejection::ClaimWindowClosed { .. }
            | Rejection::BatchExhausted { .. }
            | Rejection::AlreadyClaimed { .. }
            | Rejection::CapExceeded { .. }
            | Rejection::InvalidProviderApplication(_)
            | Rejection::InvalidDocument(_)
            | Rejection::InvalidObjection(_)
            | Rejection::InvalidContractTerms(_)
            | Rejection::InvalidRating(_)
            | Rejection::InvalidRedemptionRequest(_)
            | Rejection::InvalidReview(_)
            | Rejection::InvalidAnnouncement(_)
            | Rejection::InvalidDisbursement(_)
            | Rejection::InvalidSample(_)
            | Rejection::InvalidReferral(_)
            | Rejection::ProviderNotAdmitted { .. }
            | Rejection::ProviderSuspended(_)
            | Rejection::CategoryNotOffered { .. }
            | Rejection::CategoryNotEligible { .. }
            | Rejection::SameLegalPerson(_)
            | Rejection::VoucherExpired { .. }
            | Rejection::InsufficientBalance { .. }
            | Rejection::ShareCapExceeded { .. }
            | Rejection::AnnouncementClosed { .. }
            | Rejection::TooManyObjectionsOpen { .. }
            | Rejection::RedemptionDeadlinePassed { .. }
            | Rejection::NotPayable { .. }
            | Rejection::ClawbackExceedsDisbursed { .. }
            | Rejection::RecoveryExceedsDue { .. }
            | Rejection::NotInSample { .. }
            | Rejection::NothingDue(_)
            | Rejection::OutOfBounds { .. }
            | Rejection::InvalidName { .. }
            | Rejection::DateOutOfRange(_)
            | Rejection::SampleYearNotPrevious { .. } => RejectionClass::Unprocessable,
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
