//! Applicants: registration, verification and suspension (SPEC §4 Applicant, Measures art. 5, 6).

use super::guards::{policy_in_force, require_role, require_self, require_service_center, required_reason};
use crate::event::Registration;
use crate::state::{ApplicantStatus, State};
use crate::{
    ApplicantKind, Context, CreditCode, Event, PolicyVersion, Rejection, Role, VerificationDecision,
};

pub(super) fn register_applicant(
    state: &State,
    context: &Context,
    registration: &Registration,
) -> Result<Vec<Event>, Rejection> {
    require_self(&context.actor, registration, "register this applicant")?;
    if state.applicants.contains_key(&registration.credit_code) {
        return Err(Rejection::ApplicantExists(registration.credit_code.clone()));
    }
    let policy = policy_in_force(state, context, registration.jurisdiction)?;
    check_registration(registration, policy)?;
    Ok(vec![Event::ApplicantRegistered { registration: registration.clone() }])
}

pub(super) fn decide_verification(
    state: &State,
    context: &Context,
    credit_code: &CreditCode,
    decision: VerificationDecision,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let applicant =
        state.applicants.get(credit_code).ok_or_else(|| Rejection::ApplicantNotFound(credit_code.clone()))?;
    require_service_center(&context.actor, applicant.registration.jurisdiction, "verify applicants")?;
    if applicant.status != ApplicantStatus::Pending {
        return Err(Rejection::NotPendingVerification {
            credit_code: credit_code.clone(),
            status: applicant.status.as_str(),
        });
    }
    match decision {
        VerificationDecision::Verified => {
            Ok(vec![Event::ApplicantVerified { credit_code: credit_code.clone() }])
        }
        VerificationDecision::Rejected => {
            let reason = required_reason(reason, "a rejection")?;
            Ok(vec![Event::ApplicantRejected { credit_code: credit_code.clone(), reason }])
        }
    }
}

pub(super) fn suspend_applicant(
    state: &State,
    context: &Context,
    credit_code: &CreditCode,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let applicant =
        state.applicants.get(credit_code).ok_or_else(|| Rejection::ApplicantNotFound(credit_code.clone()))?;
    require_role(
        &context.actor,
        Role::Bureau,
        Some(applicant.registration.jurisdiction),
        "suspend applicants",
    )?;
    if matches!(applicant.status, ApplicantStatus::Suspended { .. }) {
        return Err(Rejection::AlreadySuspended(credit_code.clone()));
    }
    let reason = required_reason(reason, "a suspension")?;
    Ok(vec![Event::ApplicantSuspended { credit_code: credit_code.clone(), reason }])
}

fn check_registration(registration: &Registration, policy: &PolicyVersion) -> Result<(), Rejection> {
    let invalid = |reason: String| Err(Rejection::InvalidRegistration(reason));
    if registration.name.trim().is_empty() {
        return invalid("name must not be empty".into());
    }
    match registration.kind {
        ApplicantKind::Enterprise => match registration.industry.as_deref() {
            None | Some("") => invalid("an enterprise must state its industry".into()),
            Some(industry) if !policy.eligible_industries.contains(industry) => invalid(format!(
                "industry \"{industry}\" is not one of the eligible industries of policy {}",
                policy.id
            )),
            Some(_) => Ok(()),
        },
        ApplicantKind::ProjectEntity => match registration.project_code.as_deref().map(str::trim) {
            None | Some("") => invalid("a project entity must state its project code".into()),
            Some(_) => Ok(()),
        },
    }
}
