//! Funding: budgets, batches and the issuance of vouchers by claim (SPEC §4 Budget, Batch, Voucher; Measures
//! art. 6, 7, 9).

use std::collections::BTreeSet;

use chrono::Datelike;
use uuid::Uuid;

use super::guards::{forbidden, policy_in_force, require_role};
use crate::bounds::FISCAL_YEARS;
use crate::event::{BatchGuide, Registration};
use crate::state::{ApplicantStatus, State};
use crate::{
    ApplicantKind, Balance, Cny, Command, Context, Event, Jurisdiction, PolicyVersion, Rejection, Role,
};

pub(super) fn appropriate_budget(
    context: &Context,
    jurisdiction: Jurisdiction,
    fiscal_year: i32,
    amount: Cny,
) -> Result<Vec<Event>, Rejection> {
    require_role(&context.actor, Role::Finance, Some(jurisdiction), "appropriate a budget")?;
    if !FISCAL_YEARS.contains(&fiscal_year) {
        return Err(Rejection::InvalidBatch(format!("fiscal year {fiscal_year} is out of range")));
    }
    Ok(vec![Event::BudgetAppropriated { jurisdiction, fiscal_year, amount }])
}

/// Publishes a batch; `command` is the `PublishBatch` command its guide is built from.
pub(super) fn publish_batch(
    state: &State,
    context: &Context,
    batch_id: Uuid,
    jurisdiction: Jurisdiction,
    command: &Command,
) -> Result<Vec<Event>, Rejection> {
    require_role(&context.actor, Role::Bureau, Some(jurisdiction), "publish a batch")?;
    if state.batches.contains_key(&batch_id) {
        return Err(Rejection::BatchExists(batch_id));
    }
    let policy = policy_in_force(state, context, jurisdiction)?;
    let guide = batch_guide(command, policy, context)?;
    let available = state.budget_available(guide.jurisdiction, guide.fiscal_year);
    if available < Balance::from(guide.total) {
        return Err(Rejection::BudgetInsufficient {
            jurisdiction: guide.jurisdiction,
            fiscal_year: guide.fiscal_year,
            available: available.to_string(),
            requested: guide.total,
        });
    }
    Ok(vec![Event::BatchPublished { batch_id, guide }])
}

pub(super) fn close_batch(state: &State, context: &Context, batch_id: Uuid) -> Result<Vec<Event>, Rejection> {
    let batch = state.batches.get(&batch_id).ok_or(Rejection::BatchNotFound(batch_id))?;
    let jurisdiction = batch.guide.jurisdiction;
    require_role(&context.actor, Role::Bureau, Some(jurisdiction), "close a batch")?;
    if batch.closed {
        return Err(Rejection::BatchClosed(batch_id));
    }
    let returned = state.batch_remaining(batch_id, jurisdiction).try_into_cny();
    Ok(vec![Event::BatchClosed { batch_id, jurisdiction, fiscal_year: batch.guide.fiscal_year, returned }])
}

/// Issuance by claim (SPEC §4 Voucher, Measures art. 6, 7, 9): every check, in the order a clerk would
/// make them, so the first broken rule is the one reported.
pub(super) fn claim_voucher(
    state: &State,
    context: &Context,
    batch_id: Uuid,
    voucher_id: Uuid,
) -> Result<Vec<Event>, Rejection> {
    let batch = state.batches.get(&batch_id).ok_or(Rejection::BatchNotFound(batch_id))?;
    let jurisdiction = batch.guide.jurisdiction;
    let actor = &context.actor;
    let acting_kind = actor.role.applicant_kind();
    let credit_code = match (&actor.credit_code, acting_kind) {
        (Some(code), Some(_)) if actor.jurisdiction == Some(jurisdiction) => code.clone(),
        _ => return Err(forbidden(actor, "claim vouchers from this batch")),
    };
    if state.vouchers.contains_key(&voucher_id) {
        return Err(Rejection::VoucherExists(voucher_id));
    }
    let applicant = state
        .applicants
        .get(&credit_code)
        .ok_or_else(|| Rejection::ApplicantNotFound(credit_code.clone()))?;
    let registration = &applicant.registration;
    if Some(registration.kind) != acting_kind || registration.jurisdiction != jurisdiction {
        return Err(forbidden(actor, "claim for an applicant of another kind or jurisdiction"));
    }
    if applicant.status != ApplicantStatus::Verified {
        return Err(Rejection::ApplicantNotVerified { credit_code, status: applicant.status.as_str() });
    }
    let policy = policy_in_force(state, context, jurisdiction)?;
    if batch.closed {
        return Err(Rejection::BatchClosed(batch_id));
    }
    let guide = &batch.guide;
    let date = context.business_date;
    if date < guide.claim_opens || date > guide.claim_closes {
        return Err(Rejection::ClaimWindowClosed {
            batch_id,
            opens: guide.claim_opens,
            closes: guide.claim_closes,
            date,
        });
    }
    if let Some(reason) = ineligibility(registration, guide) {
        return Err(Rejection::NotEligible { credit_code, batch_id, reason });
    }
    let claims = batch.claims.get(&credit_code).copied().unwrap_or(0);
    if claims >= policy.claims_per_batch {
        return Err(Rejection::AlreadyClaimed { credit_code, batch_id });
    }
    let remaining = state.batch_remaining(batch_id, jurisdiction);
    if remaining < Balance::from(guide.face_value) {
        return Err(Rejection::BatchExhausted {
            batch_id,
            remaining: remaining.to_string(),
            face_value: guide.face_value,
        });
    }
    let cap_year = date.year();
    let cap = policy.annual_cap(registration.kind);
    let issued = state.issued_in_year(&credit_code, cap_year);
    if issued.add(guide.face_value) > Balance::from(cap) {
        return Err(Rejection::CapExceeded {
            credit_code,
            kind: registration.kind,
            year: cap_year,
            issued: issued.to_string(),
            face_value: guide.face_value,
            cap,
        });
    }
    Ok(vec![Event::VoucherIssued {
        voucher_id,
        batch_id,
        jurisdiction,
        applicant: credit_code,
        kind: registration.kind,
        face_value: guide.face_value,
        cap_year,
        annual_cap: cap,
        valid_until: guide.valid_until,
    }])
}

/// Why an applicant may not claim from a batch, if it may not.
fn ineligibility(registration: &Registration, guide: &BatchGuide) -> Option<String> {
    if !guide.eligible_kinds.contains(&registration.kind) {
        return Some(format!("the batch is not open to {} applicants", registration.kind));
    }
    if registration.kind == ApplicantKind::Enterprise {
        // Art. 6 asks these attestations of enterprises only; a project entity is known by its project code.
        if !registration.independent_legal_person {
            return Some("not an independent legal person".into());
        }
        if !registration.tax_compliant {
            return Some("not tax compliant".into());
        }
        let industry = registration.industry.as_deref().unwrap_or("");
        if !guide.eligible_industries.contains(industry) {
            return Some(format!("industry \"{industry}\" is not eligible for this batch"));
        }
    }
    None
}

/// Builds and checks a batch's guide from a `PublishBatch` command under the policy in force.
fn batch_guide(
    command: &Command,
    policy: &PolicyVersion,
    context: &Context,
) -> Result<BatchGuide, Rejection> {
    let Command::PublishBatch {
        jurisdiction,
        fiscal_year,
        name,
        total,
        face_value,
        eligible_kinds,
        eligible_industries,
        eligible_categories,
        claim_opens,
        claim_closes,
        valid_until,
        redemption_days,
        max_voucher_share,
        ..
    } = command
    else {
        return Err(Rejection::InvalidBatch("not a batch publication".into()));
    };
    let invalid = |reason: String| Err(Rejection::InvalidBatch(reason));
    if name.trim().is_empty() {
        return invalid("name must not be empty".into());
    }
    if !FISCAL_YEARS.contains(fiscal_year) {
        return invalid(format!("fiscal year {fiscal_year} is out of range"));
    }
    if face_value > total {
        return invalid(format!("face value {face_value} exceeds the total {total}"));
    }
    if eligible_kinds.is_empty() {
        return invalid("eligible_kinds must not be empty".into());
    }
    if eligible_kinds.contains(&ApplicantKind::Enterprise) && eligible_industries.is_empty() {
        return invalid("eligible_industries must not be empty when enterprises may claim".into());
    }
    if let Some(unknown) = first_outside(eligible_industries, &policy.eligible_industries) {
        return invalid(format!("industry \"{unknown}\" is not eligible under policy {}", policy.id));
    }
    if eligible_categories.is_empty() {
        return invalid("eligible_categories must not be empty".into());
    }
    if let Some(unknown) = first_outside(eligible_categories, &policy.service_categories) {
        return invalid(format!("service category \"{unknown}\" is not in policy {}", policy.id));
    }
    if claim_closes < claim_opens {
        return invalid(format!("claim_closes {claim_closes} is before claim_opens {claim_opens}"));
    }
    if *claim_closes < context.business_date {
        return invalid(format!("claim_closes {claim_closes} has already passed"));
    }
    if valid_until < claim_closes {
        return invalid(format!("valid_until {valid_until} is before claim_closes {claim_closes}"));
    }
    let redemption_days = redemption_days.unwrap_or(policy.default_redemption_days);
    if redemption_days == 0 {
        return invalid("redemption_days must be at least 1".into());
    }
    Ok(BatchGuide {
        jurisdiction: *jurisdiction,
        fiscal_year: *fiscal_year,
        name: name.trim().to_owned(),
        total: *total,
        face_value: *face_value,
        eligible_kinds: eligible_kinds.clone(),
        eligible_industries: eligible_industries.clone(),
        eligible_categories: eligible_categories.clone(),
        claim_opens: *claim_opens,
        claim_closes: *claim_closes,
        valid_until: *valid_until,
        redemption_days,
        max_voucher_share: max_voucher_share.unwrap_or(policy.default_max_voucher_share),
        policy_id: policy.id.clone(),
    })
}

fn first_outside<'a>(values: &'a BTreeSet<String>, allowed: &BTreeSet<String>) -> Option<&'a str> {
    values.iter().find(|value| !allowed.contains(*value)).map(String::as_str)
}
