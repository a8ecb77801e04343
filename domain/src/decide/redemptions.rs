//! Redemptions: the provider's request, the reviewer's decision, disbursement and denial (SPEC §4
//! Redemption, Measures art. 11, 13). Putting approved redemptions on a list is in `announcements`.

use uuid::Uuid;

use super::guards::{
    contract, contract_status, exists, forbidden, invalid_state, party_of, redemption, redemption_status,
    require_role, required_reason,
};
use crate::document::Document;
use crate::event::{DenialGround, Party, ReviewOutcome};
use crate::state::{ContractStatus, RedemptionStatus, State};
use crate::{Balance, Context, Event, Rejection, Role};

pub(super) fn request_redemption(
    state: &State,
    context: &Context,
    redemption_id: &Uuid,
    contract_id: &Uuid,
    invoice: &Document,
    remittance_proof: &Document,
    results: &[Document],
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let date = context.business_date;
    if state.redemptions.contains_key(redemption_id) {
        return Err(exists("redemption", redemption_id));
    }
    let contract = contract(state, contract_id)?;
    if party_of(state, actor, contract) != Some(Party::Provider) {
        return Err(forbidden(actor, "request redemption of this contract"));
    }
    let ContractStatus::Completed { redemption_deadline, .. } = contract.status else {
        return Err(invalid_state("contract", contract_id, contract_status(contract), "a redemption"));
    };
    if contract.redemption_id.is_some() || contract.lapsed {
        let status = if contract.lapsed { "lapsed" } else { "already redeemed" };
        return Err(invalid_state("contract", contract_id, status, "a redemption"));
    }
    if date > redemption_deadline {
        return Err(Rejection::RedemptionDeadlinePassed { deadline: redemption_deadline });
    }
    if results.is_empty() {
        return Err(Rejection::InvalidRedemptionRequest(
            "at least one service-result document is required".into(),
        ));
    }
    for document in std::iter::once(invoice).chain(std::iter::once(remittance_proof)).chain(results) {
        document.validate().map_err(|error| Rejection::InvalidDocument(error.to_string()))?;
    }
    Ok(vec![Event::RedemptionRequested {
        redemption_id: *redemption_id,
        contract_id: *contract_id,
        jurisdiction: contract.terms.jurisdiction,
        provider: contract.terms.provider.clone(),
        amount: contract.terms.voucher_amount,
        invoice: invoice.clone(),
        remittance_proof: remittance_proof.clone(),
        results: results.to_vec(),
    }])
}

pub(super) fn review_redemption(
    state: &State,
    context: &Context,
    redemption_id: &Uuid,
    outcome: &ReviewOutcome,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let redemption = redemption(state, redemption_id)?;
    require_role(actor, Role::Reviewer, Some(redemption.jurisdiction), "review redemptions")?;
    if redemption.status != RedemptionStatus::Requested {
        return Err(invalid_state("redemption", redemption_id, redemption_status(redemption), "a review"));
    }
    let requested = redemption.requested;
    let (outcome, approved, returned) = match outcome {
        ReviewOutcome::Full => (ReviewOutcome::Full, Some(requested), None),
        ReviewOutcome::Reduced { approved, reason } => {
            if *approved >= requested {
                return Err(Rejection::InvalidReview(format!(
                    "a reduced approval {approved} must be less than the {requested} requested"
                )));
            }
            let reason = required_reason(reason, "a reduction")?;
            let returned = Balance::from(requested).sub(*approved).try_into_cny();
            (ReviewOutcome::Reduced { approved: *approved, reason }, Some(*approved), returned)
        }
        ReviewOutcome::Rejected { reason } => {
            let reason = required_reason(reason, "a rejection")?;
            (ReviewOutcome::Rejected { reason }, None, Some(requested))
        }
    };
    Ok(vec![Event::RedemptionReviewed {
        redemption_id: *redemption_id,
        jurisdiction: redemption.jurisdiction,
        provider: redemption.provider.clone(),
        fiscal_year: redemption.fiscal_year,
        outcome,
        approved,
        returned,
    }])
}

pub(super) fn disburse_redemption(
    state: &State,
    context: &Context,
    redemption_id: &Uuid,
    payment_reference: &str,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let item = redemption(state, redemption_id)?;
    require_role(actor, Role::Bureau, Some(item.jurisdiction), "disburse redemptions")?;
    let not_payable =
        |reason: &str| Rejection::NotPayable { redemption_id: *redemption_id, reason: reason.into() };
    match item.status {
        RedemptionStatus::Payable => {}
        RedemptionStatus::Disbursed => return Err(Rejection::AlreadyDisbursed(*redemption_id)),
        RedemptionStatus::Announced { .. } => {
            return Err(not_payable("its announcement has not closed"));
        }
        _ => return Err(not_payable(redemption_status(item))),
    }
    if item.objections_open > 0 {
        return Err(not_payable("an objection is open"));
    }
    let reference = payment_reference.trim();
    if reference.is_empty() {
        return Err(Rejection::InvalidDisbursement("a disbursement needs a payment reference".into()));
    }
    let amount = item.approved.ok_or_else(|| not_payable("nothing approved"))?;
    Ok(vec![Event::RedemptionDisbursed {
        redemption_id: *redemption_id,
        jurisdiction: item.jurisdiction,
        provider: item.provider.clone(),
        amount,
        payment_reference: reference.to_owned(),
    }])
}

pub(super) fn deny_redemption(
    state: &State,
    context: &Context,
    redemption_id: &Uuid,
    ground: &DenialGround,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let item = redemption(state, redemption_id)?;
    require_role(actor, Role::Bureau, Some(item.jurisdiction), "deny redemptions")?;
    if item.status == RedemptionStatus::Disbursed {
        return Err(Rejection::AlreadyDisbursed(*redemption_id));
    }
    let returned = item
        .outstanding()
        .ok_or_else(|| invalid_state("redemption", redemption_id, redemption_status(item), "a denial"))?;
    let reason = required_reason(reason, "a denial")?;
    Ok(vec![Event::RedemptionDenied {
        redemption_id: *redemption_id,
        jurisdiction: item.jurisdiction,
        provider: item.provider.clone(),
        fiscal_year: item.fiscal_year,
        ground: *ground,
        reason,
        returned,
    }])
}
