//! Audits and enforcement (Measures art. 12, 13): sample draws and findings, clawbacks and recoveries,
//! referrals to the judicial authorities.

use chrono::Datelike;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::guards::{exists, forbidden, not_found, redemption, require_role, required_reason};
use crate::event::Finding;
use crate::state::State;
use crate::{Balance, Cny, Context, CreditCode, Event, Jurisdiction, Rejection, Role};

pub(super) fn draw_audit_sample(
    state: &State,
    context: &Context,
    sample_id: &Uuid,
    jurisdiction: &Jurisdiction,
    year: &i32,
    size: &u32,
    seed: &str,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let date = context.business_date;
    // Each bureau commissions checks of its own jurisdiction (Measures art. 12).
    require_role(actor, Role::Auditor, Some(*jurisdiction), "draw audit samples in this jurisdiction")?;
    if state.samples.contains_key(sample_id) {
        return Err(exists("sample", sample_id));
    }
    // The size's range (1 to `bounds::MAX_SAMPLE_SIZE`) is checked with the command's bounds, before this.
    if seed.trim().is_empty() {
        return Err(Rejection::InvalidSample("a sample needs a seed".into()));
    }
    // A check covers the previous year (上年度, Measures art. 12) of the draw's business date.
    let previous = date.year() - 1;
    if *year != previous {
        return Err(Rejection::SampleYearNotPrevious { year: *year, previous });
    }
    let population = sample_population(state, *jurisdiction, *year);
    let contract_ids = draw_sample(&population, seed, *size);
    Ok(vec![Event::SampleDrawn {
        sample_id: *sample_id,
        jurisdiction: *jurisdiction,
        year: *year,
        size: *size,
        seed: seed.to_owned(),
        as_of_position: context.log_position,
        population: u32::try_from(population.len()).unwrap_or(u32::MAX),
        contract_ids,
    }])
}

pub(super) fn record_finding(
    state: &State,
    context: &Context,
    sample_id: &Uuid,
    contract_id: &Uuid,
    finding: &Finding,
    note: &str,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    if actor.role != Role::Auditor {
        return Err(forbidden(actor, "record audit findings"));
    }
    let sample = state.samples.get(sample_id).ok_or_else(|| not_found("sample", sample_id))?;
    require_role(actor, Role::Auditor, Some(sample.jurisdiction), "record findings in this jurisdiction")?;
    if !sample.contract_ids.contains(contract_id) {
        return Err(Rejection::NotInSample { sample_id: *sample_id, contract_id: *contract_id });
    }
    Ok(vec![Event::FindingRecorded {
        sample_id: *sample_id,
        contract_id: *contract_id,
        finding: *finding,
        note: note.trim().to_owned(),
    }])
}

pub(super) fn order_clawback(
    state: &State,
    context: &Context,
    clawback_id: &Uuid,
    redemption_id: &Uuid,
    amount: &Cny,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let item = redemption(state, redemption_id)?;
    require_role(actor, Role::Bureau, Some(item.jurisdiction), "order clawbacks")?;
    if state.clawbacks.contains_key(clawback_id) {
        return Err(exists("clawback", clawback_id));
    }
    let remaining = item.disbursed.checked_sub(item.clawed_back);
    if Balance::from(*amount) > remaining {
        return Err(Rejection::ClawbackExceedsDisbursed {
            requested: *amount,
            remaining: remaining.to_string(),
        });
    }
    let reason = required_reason(reason, "a clawback")?;
    Ok(vec![Event::ClawbackOrdered {
        clawback_id: *clawback_id,
        redemption_id: *redemption_id,
        jurisdiction: item.jurisdiction,
        provider: item.provider.clone(),
        amount: *amount,
        reason,
    }])
}

pub(super) fn record_recovery(
    state: &State,
    context: &Context,
    clawback_id: &Uuid,
    amount: &Cny,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let clawback = state.clawbacks.get(clawback_id).ok_or_else(|| not_found("clawback", clawback_id))?;
    require_role(actor, Role::Bureau, Some(clawback.jurisdiction), "record recoveries")?;
    let due = Balance::from(clawback.amount).checked_sub(clawback.recovered);
    if Balance::from(*amount) > due {
        return Err(Rejection::RecoveryExceedsDue { requested: *amount, due: due.to_string() });
    }
    Ok(vec![Event::ClawbackRecovered {
        clawback_id: *clawback_id,
        jurisdiction: clawback.jurisdiction,
        amount: *amount,
    }])
}

pub(super) fn record_referral(
    state: &State,
    context: &Context,
    referral_id: &Uuid,
    party: &CreditCode,
    authority: &str,
    note: &str,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    if actor.role != Role::Bureau {
        return Err(forbidden(actor, "record referrals"));
    }
    let known = state.applicants.contains_key(party) || state.providers.contains_key(party);
    if !known {
        return Err(not_found("party", party));
    }
    if !actor.jurisdiction.is_some_and(|own| party_jurisdictions(state, party).contains(&own)) {
        return Err(forbidden(actor, "refer a party of another jurisdiction"));
    }
    if state.referrals.contains_key(referral_id) {
        return Err(exists("referral", referral_id));
    }
    let authority = authority.trim();
    if authority.is_empty() {
        return Err(Rejection::InvalidReferral("a referral names the authority".into()));
    }
    Ok(vec![Event::ReferralRecorded {
        referral_id: *referral_id,
        party: party.clone(),
        authority: authority.to_owned(),
        note: note.trim().to_owned(),
    }])
}

/// The population of an audit draw: the jurisdiction's contracts filed in `year`, in id order.
pub fn sample_population(state: &State, jurisdiction: Jurisdiction, year: i32) -> Vec<Uuid> {
    let mut population: Vec<Uuid> = state
        .contracts
        .iter()
        .filter(|(_, c)| {
            c.terms.jurisdiction == jurisdiction && c.filed_on().is_some_and(|d| d.year() == year)
        })
        .map(|(id, _)| *id)
        .collect();
    population.sort();
    population
}

/// The audit draw: rank the population by SHA-256(seed, ":", contract id) and take the first `size`.
///
/// # Properties
/// - Deterministic: the same population, seed and size give the same sample, in the same order.
/// - The sample is a subset of the population of `min(size, population)` distinct contracts.
pub fn draw_sample(population: &[Uuid], seed: &str, size: u32) -> Vec<Uuid> {
    let mut ranked: Vec<([u8; 32], Uuid)> = population
        .iter()
        .map(|id| {
            let mut hasher = Sha256::new();
            hasher.update(seed.as_bytes());
            hasher.update(b":");
            hasher.update(id.as_bytes());
            (hasher.finalize().into(), *id)
        })
        .collect();
    ranked.sort();
    ranked.into_iter().take(usize::try_from(size).unwrap_or(usize::MAX)).map(|(_, id)| id).collect()
}

/// The jurisdictions a party belongs to, for the bureau measures that concern it (Measures art. 12): an
/// applicant's registration; a provider's admission, and every jurisdiction it has contracted in (a provider
/// may serve both, and each bureau answers for its own money).
fn party_jurisdictions(state: &State, party: &CreditCode) -> std::collections::BTreeSet<Jurisdiction> {
    let mut jurisdictions = std::collections::BTreeSet::new();
    if let Some(applicant) = state.applicants.get(party) {
        jurisdictions.insert(applicant.registration.jurisdiction);
    }
    if let Some(provider) = state.providers.get(party) {
        jurisdictions.insert(provider.application.jurisdiction);
        jurisdictions.extend(
            state.contracts.values().filter(|c| c.terms.provider == *party).map(|c| c.terms.jurisdiction),
        );
    }
    jurisdictions
}
