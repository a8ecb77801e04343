//! Contracts: submission, signature, filing (备案), rejection, cancellation, completion and rating (SPEC §4
//! Contract, Measures art. 9, 10).

use chrono::NaiveDate;
use uuid::Uuid;

use super::guards::{
    contract, contract_status, exists, forbidden, invalid_state, not_found, party_acting, party_of,
    provider_status, require_service_center, required_reason,
};
use crate::event::{ContractTerms, Party};
use crate::state::{ApplicantStatus, ContractStatus, ProviderStatus, State};
use crate::{Account, Balance, Cny, Command, Context, CreditCode, Event, Rejection};

pub(super) fn submit_contract(
    state: &State,
    context: &Context,
    contract_id: &Uuid,
    voucher_id: &Uuid,
    provider: &CreditCode,
    command: &Command,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    if state.contracts.contains_key(contract_id) {
        return Err(exists("contract", contract_id));
    }
    let voucher = state.vouchers.get(voucher_id).ok_or_else(|| not_found("voucher", voucher_id))?;
    let submitted_by = match party_acting(state, actor, provider, &voucher.applicant) {
        Some(party) => party,
        None => return Err(forbidden(actor, "submit a contract for another party")),
    };
    let terms = contract_terms(state, context, command)?;
    Ok(vec![Event::ContractSubmitted { contract_id: *contract_id, terms, submitted_by }])
}

pub(super) fn sign_contract(
    state: &State,
    context: &Context,
    contract_id: &Uuid,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let contract = contract(state, contract_id)?;
    let counterparty = contract.submitted_by.counterparty();
    if party_of(state, actor, contract) != Some(counterparty) {
        return Err(forbidden(actor, "sign this contract"));
    }
    if contract.status != ContractStatus::Submitted || contract.countersigned {
        return Err(invalid_state("contract", contract_id, contract_status(contract), "a signature"));
    }
    Ok(vec![Event::ContractSigned { contract_id: *contract_id, party: counterparty }])
}

pub(super) fn file_contract(
    state: &State,
    context: &Context,
    contract_id: &Uuid,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let date = context.business_date;
    let contract = contract(state, contract_id)?;
    require_service_center(actor, contract.terms.jurisdiction, "file contracts")?;
    if contract.status != ContractStatus::Submitted || !contract.countersigned {
        let status = if contract.countersigned { contract_status(contract) } else { "awaiting a signature" };
        return Err(invalid_state("contract", contract_id, status, "a filing"));
    }
    check_provider_may_contract(state, &contract.terms.provider, &contract.terms.category)?;
    let voucher_id = contract.terms.voucher_id;
    check_voucher_available(state, voucher_id, contract.terms.voucher_amount, date)?;
    Ok(vec![Event::ContractFiled {
        contract_id: *contract_id,
        voucher_id,
        jurisdiction: contract.terms.jurisdiction,
        amount: contract.terms.voucher_amount,
        filed_on: date,
    }])
}

pub(super) fn reject_contract(
    state: &State,
    context: &Context,
    contract_id: &Uuid,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let contract = contract(state, contract_id)?;
    require_service_center(actor, contract.terms.jurisdiction, "reject contracts")?;
    if contract.status != ContractStatus::Submitted {
        return Err(invalid_state("contract", contract_id, contract_status(contract), "a rejection"));
    }
    let reason = required_reason(reason, "a rejection")?;
    Ok(vec![Event::ContractRejected { contract_id: *contract_id, reason }])
}

pub(super) fn cancel_contract(
    state: &State,
    context: &Context,
    contract_id: &Uuid,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let date = context.business_date;
    let contract = contract(state, contract_id)?;
    if party_of(state, actor, contract).is_none() {
        return Err(forbidden(actor, "cancel this contract"));
    }
    let released = match contract.status {
        ContractStatus::Submitted => None,
        ContractStatus::Filed { .. } => Some(contract.terms.voucher_amount),
        _ => {
            return Err(invalid_state("contract", contract_id, contract_status(contract), "a cancellation"));
        }
    };
    let reason = required_reason(reason, "a cancellation")?;
    let voucher_id = contract.terms.voucher_id;
    let mut events = vec![Event::ContractCancelled {
        contract_id: *contract_id,
        voucher_id,
        jurisdiction: contract.terms.jurisdiction,
        released,
        reason,
    }];
    events.extend(return_after_expiry(state, *contract_id, voucher_id, released, date));
    Ok(events)
}

pub(super) fn confirm_completion(
    state: &State,
    context: &Context,
    contract_id: &Uuid,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let date = context.business_date;
    let contract = contract(state, contract_id)?;
    if party_of(state, actor, contract) != Some(Party::Applicant) {
        return Err(forbidden(actor, "confirm completion of this contract"));
    }
    if !matches!(contract.status, ContractStatus::Filed { .. }) {
        return Err(invalid_state("contract", contract_id, contract_status(contract), "a completion"));
    }
    let redemption_days = state
        .vouchers
        .get(&contract.terms.voucher_id)
        .and_then(|voucher| state.batches.get(&voucher.batch_id))
        .map_or(0, |batch| batch.guide.redemption_days);
    Ok(vec![Event::ServiceCompleted {
        contract_id: *contract_id,
        voucher_id: contract.terms.voucher_id,
        jurisdiction: contract.terms.jurisdiction,
        provider: contract.terms.provider.clone(),
        amount: contract.terms.voucher_amount,
        completed_on: date,
        redemption_deadline: crate::bounds::days_after(date, redemption_days)?,
    }])
}

pub(super) fn rate_service(
    state: &State,
    context: &Context,
    contract_id: &Uuid,
    quality: &u8,
    timeliness: &u8,
    professionalism: &u8,
    text: &str,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let contract = contract(state, contract_id)?;
    if party_of(state, actor, contract) != Some(Party::Applicant) {
        return Err(forbidden(actor, "rate this contract"));
    }
    if !matches!(contract.status, ContractStatus::Completed { .. }) {
        return Err(invalid_state("contract", contract_id, contract_status(contract), "a rating"));
    }
    if contract.rated {
        return Err(Rejection::AlreadyRated(*contract_id));
    }
    for (name, score) in
        [("quality", quality), ("timeliness", timeliness), ("professionalism", professionalism)]
    {
        if !(1..=5).contains(score) {
            return Err(Rejection::InvalidRating(format!("{name} must be 1 to 5, not {score}")));
        }
    }
    Ok(vec![Event::ServiceRated {
        contract_id: *contract_id,
        provider: contract.terms.provider.clone(),
        category: contract.terms.category.clone(),
        quality: *quality,
        timeliness: *timeliness,
        professionalism: *professionalism,
        text: text.trim().to_owned(),
    }])
}

/// Builds and checks a submitted contract's terms (Measures art. 9, 10).
fn contract_terms(state: &State, context: &Context, command: &Command) -> Result<ContractTerms, Rejection> {
    let Command::SubmitContract {
        voucher_id,
        provider,
        category,
        description,
        term_start,
        term_end,
        total,
        voucher_amount,
        document_sha256,
        ..
    } = command
    else {
        return Err(Rejection::InvalidContractTerms("not a contract submission".into()));
    };
    let voucher = state.vouchers.get(voucher_id).ok_or_else(|| not_found("voucher", voucher_id))?;
    if *provider == voucher.applicant {
        return Err(Rejection::SameLegalPerson(provider.clone()));
    }
    let applicant = state
        .applicants
        .get(&voucher.applicant)
        .ok_or_else(|| Rejection::ApplicantNotFound(voucher.applicant.clone()))?;
    if let ApplicantStatus::Suspended { .. } = applicant.status {
        return Err(Rejection::ApplicantNotVerified {
            credit_code: voucher.applicant.clone(),
            status: "suspended",
        });
    }
    check_provider_may_contract(state, provider, category)?;
    let batch = state.batches.get(&voucher.batch_id).ok_or(Rejection::BatchNotFound(voucher.batch_id))?;
    if !batch.guide.eligible_categories.contains(category) {
        return Err(Rejection::CategoryNotEligible { category: category.clone() });
    }
    if description.trim().is_empty() {
        return Err(Rejection::InvalidContractTerms("description must not be empty".into()));
    }
    if term_end < term_start {
        return Err(Rejection::InvalidContractTerms(format!(
            "term_end {term_end} is before term_start {term_start}"
        )));
    }
    if voucher_amount > total {
        return Err(Rejection::InvalidContractTerms(format!(
            "voucher amount {voucher_amount} exceeds the total {total}"
        )));
    }
    let cap = batch.guide.max_voucher_share.cap_of(*total);
    if Balance::from(*voucher_amount) > cap {
        return Err(Rejection::ShareCapExceeded { requested: *voucher_amount, cap: cap.to_string() });
    }
    check_voucher_available(state, *voucher_id, *voucher_amount, context.business_date)?;
    Ok(ContractTerms {
        voucher_id: *voucher_id,
        jurisdiction: voucher.jurisdiction,
        provider: provider.clone(),
        applicant: voucher.applicant.clone(),
        category: category.clone(),
        description: description.trim().to_owned(),
        term_start: *term_start,
        term_end: *term_end,
        total: *total,
        voucher_amount: *voucher_amount,
        document_sha256: document_sha256.clone(),
    })
}

/// The provider must be admitted, not suspended, and offer the category.
fn check_provider_may_contract(
    state: &State,
    provider: &CreditCode,
    category: &str,
) -> Result<(), Rejection> {
    let state_of = state.providers.get(provider).ok_or_else(|| not_found("provider", provider))?;
    if state_of.status != ProviderStatus::Admitted {
        return Err(Rejection::ProviderNotAdmitted {
            provider: provider.clone(),
            status: provider_status(&state_of.status).to_owned(),
        });
    }
    if state_of.suspended {
        return Err(Rejection::ProviderSuspended(provider.clone()));
    }
    if !state_of.application.categories.contains(category) {
        return Err(Rejection::CategoryNotOffered {
            provider: provider.clone(),
            category: category.to_owned(),
        });
    }
    Ok(())
}

/// The voucher must be valid on `date` and have `amount` available.
fn check_voucher_available(
    state: &State,
    voucher_id: Uuid,
    amount: Cny,
    date: NaiveDate,
) -> Result<(), Rejection> {
    let voucher = state.vouchers.get(&voucher_id).ok_or_else(|| not_found("voucher", &voucher_id))?;
    if voucher.expired || date > voucher.valid_until {
        return Err(Rejection::VoucherExpired { voucher_id, valid_until: voucher.valid_until });
    }
    let available = state.ledger.balance(voucher.jurisdiction, &Account::VoucherAvailable { voucher_id });
    if available < Balance::from(amount) {
        return Err(Rejection::InsufficientBalance {
            voucher_id,
            available: available.to_string(),
            requested: amount,
        });
    }
    Ok(())
}

/// An expired voucher holds no available money (SPEC §4 Voucher): money released to a voucher past its
/// valid-until date (expired by the scheduler or about to be) goes back to the budget of the batch's fiscal
/// year in the same command, as its own posting.
fn return_after_expiry(
    state: &State,
    contract_id: Uuid,
    voucher_id: Uuid,
    released: Option<Cny>,
    date: NaiveDate,
) -> Option<Event> {
    let voucher = state.vouchers.get(&voucher_id)?;
    let returned = released?;
    (voucher.expired || date > voucher.valid_until).then_some(Event::ReturnedAfterExpiry {
        voucher_id,
        contract_id,
        jurisdiction: voucher.jurisdiction,
        fiscal_year: voucher.fiscal_year,
        returned,
    })
}
