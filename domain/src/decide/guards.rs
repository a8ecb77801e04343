//! The guards every lifecycle shares: who may act (by role, jurisdiction and party), the policy version in
//! force, the lookups that refuse with `*_not_found`, the builders of common rejections and the stable
//! names of statuses. This module imports no lifecycle module.

use uuid::Uuid;

use crate::event::{Party, Registration};
use crate::state::{ContractState, ContractStatus, ProviderStatus, RedemptionState, RedemptionStatus, State};
use crate::{Actor, Context, CreditCode, Jurisdiction, PolicyVersion, Rejection, Role};

/// The version in force for `jurisdiction` on the command's business date (SPEC §3).
pub(crate) fn policy_in_force<'a>(
    state: &'a State,
    context: &Context,
    jurisdiction: Jurisdiction,
) -> Result<&'a PolicyVersion, Rejection> {
    state
        .policies
        .in_force(jurisdiction, context.business_date)
        .ok_or(Rejection::NoPolicyInForce { date: context.business_date })
}

pub(crate) fn required_reason(reason: &str, what: &str) -> Result<String, Rejection> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Rejection::InvalidRegistration(format!("{what} needs a reason")));
    }
    Ok(reason.to_owned())
}

pub(crate) fn forbidden(actor: &Actor, action: &'static str) -> Rejection {
    Rejection::Forbidden {
        role: actor.role,
        jurisdiction: actor.jurisdiction.map_or_else(|| "no jurisdiction".to_owned(), |j| j.to_string()),
        action,
    }
}

/// The actor must have `role`, in `jurisdiction` when one is given (any jurisdiction otherwise).
pub(crate) fn require_role(
    actor: &Actor,
    role: Role,
    jurisdiction: Option<Jurisdiction>,
    action: &'static str,
) -> Result<(), Rejection> {
    let jurisdiction_ok = match jurisdiction {
        Some(jurisdiction) => actor.jurisdiction == Some(jurisdiction),
        None => actor.jurisdiction.is_some(),
    };
    if actor.role == role && jurisdiction_ok { Ok(()) } else { Err(forbidden(actor, action)) }
}

/// The day-to-day manager of applicants: the service center of the jurisdiction, and in guian also the
/// bureau (Measures art. 5).
pub(crate) fn require_service_center(
    actor: &Actor,
    jurisdiction: Jurisdiction,
    action: &'static str,
) -> Result<(), Rejection> {
    let allowed = actor.is(Role::ServiceCenter, jurisdiction)
        || (jurisdiction == Jurisdiction::Guian && actor.is(Role::Bureau, Jurisdiction::Guian));
    if allowed { Ok(()) } else { Err(forbidden(actor, action)) }
}

/// The applicant acting for itself: its role matches the registered kind, its token names the same credit
/// code and jurisdiction.
pub(crate) fn require_self(
    actor: &Actor,
    registration: &Registration,
    action: &'static str,
) -> Result<(), Rejection> {
    let allowed = actor.role.applicant_kind() == Some(registration.kind)
        && actor.credit_code.as_ref() == Some(&registration.credit_code)
        && actor.jurisdiction == Some(registration.jurisdiction);
    if allowed { Ok(()) } else { Err(forbidden(actor, action)) }
}

pub(crate) fn require_system(actor: &Actor) -> Result<(), Rejection> {
    if actor.role == Role::System { Ok(()) } else { Err(forbidden(actor, "issue scheduler commands")) }
}

/// Which party of the contract the actor is, if any.
pub(crate) fn party_of(state: &State, actor: &Actor, contract: &ContractState) -> Option<Party> {
    party_acting(state, actor, &contract.terms.provider, &contract.terms.applicant)
}

/// Which of `provider` and `applicant` the actor acts as: its token must carry the party's credit code, the
/// party's role (the applicant's registered kind, or provider) and the party's jurisdiction (SPEC §2).
pub(crate) fn party_acting(
    state: &State,
    actor: &Actor,
    provider: &CreditCode,
    applicant: &CreditCode,
) -> Option<Party> {
    let code = actor.credit_code.as_ref()?;
    if actor.role == Role::Provider && code == provider {
        let registered = state.providers.get(provider)?;
        return (actor.jurisdiction == Some(registered.application.jurisdiction)).then_some(Party::Provider);
    }
    if code == applicant {
        let registered = &state.applicants.get(applicant)?.registration;
        let same_kind = actor.role.applicant_kind() == Some(registered.kind);
        return (same_kind && actor.jurisdiction == Some(registered.jurisdiction))
            .then_some(Party::Applicant);
    }
    None
}

pub(crate) fn contract<'a>(state: &'a State, contract_id: &Uuid) -> Result<&'a ContractState, Rejection> {
    state.contracts.get(contract_id).ok_or_else(|| not_found("contract", contract_id))
}

pub(crate) fn redemption<'a>(
    state: &'a State,
    redemption_id: &Uuid,
) -> Result<&'a RedemptionState, Rejection> {
    state.redemptions.get(redemption_id).ok_or_else(|| not_found("redemption", redemption_id))
}

pub(crate) fn not_found(what: &'static str, id: &impl std::fmt::Display) -> Rejection {
    Rejection::NotFound { what, id: id.to_string() }
}

pub(crate) fn exists(what: &'static str, id: &impl std::fmt::Display) -> Rejection {
    Rejection::Exists { what, id: id.to_string() }
}

pub(crate) fn invalid_state(
    what: &'static str,
    id: &impl std::fmt::Display,
    status: &str,
    action: &'static str,
) -> Rejection {
    Rejection::InvalidState { what, id: id.to_string(), status: status.to_owned(), action }
}

/// The stable name of a provider status.
pub fn provider_status(status: &ProviderStatus) -> &'static str {
    match status {
        ProviderStatus::Applied => "applied",
        ProviderStatus::Announced { .. } => "announced",
        ProviderStatus::Admitted => "admitted",
        ProviderStatus::Rejected { .. } => "rejected",
    }
}

/// The stable name of a contract status.
pub fn contract_status(contract: &ContractState) -> &'static str {
    match contract.status {
        ContractStatus::Submitted if contract.countersigned => "signed",
        ContractStatus::Submitted => "submitted",
        ContractStatus::Filed { .. } => "filed",
        ContractStatus::Rejected => "rejected",
        ContractStatus::Cancelled => "cancelled",
        ContractStatus::Completed { .. } => "completed",
    }
}

/// The stable name of a redemption status.
pub fn redemption_status(redemption: &RedemptionState) -> &'static str {
    match redemption.status {
        RedemptionStatus::Requested => "requested",
        RedemptionStatus::Approved => "approved",
        RedemptionStatus::Announced { .. } => "announced",
        RedemptionStatus::Payable => "payable",
        RedemptionStatus::Disbursed => "disbursed",
        RedemptionStatus::Refused { reason } => reason,
    }
}
