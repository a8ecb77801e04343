//! Providers: applications for admission, the bureau's decision, suspension (SPEC §4 Provider, Measures
//! art. 8). The admission announcement that follows an approval is closed in `deadlines`.

use std::collections::BTreeSet;

use super::guards::{
    exists, forbidden, invalid_state, not_found, policy_in_force, provider_status, require_role,
    required_reason,
};
use crate::document::Document;
use crate::event::ProviderApplication;
use crate::state::{ProviderStatus, State};
use crate::{Context, CreditCode, Event, Jurisdiction, Rejection, Role};

pub(super) fn apply_as_provider(
    state: &State,
    context: &Context,
    name: &str,
    categories: &BTreeSet<String>,
    qualifications: &[Document],
    contact: &str,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let (provider, jurisdiction) = match (&actor.credit_code, actor.role, actor.jurisdiction) {
        (Some(code), Role::Provider, Some(jurisdiction)) => (code.clone(), jurisdiction),
        _ => return Err(forbidden(actor, "apply as a provider")),
    };
    if state.providers.contains_key(&provider) {
        return Err(exists("provider", &provider));
    }
    let policy = policy_in_force(state, context, jurisdiction)?;
    if name.trim().is_empty() {
        return Err(Rejection::InvalidProviderApplication("name must not be empty".into()));
    }
    if categories.is_empty() {
        return Err(Rejection::InvalidProviderApplication("categories must not be empty".into()));
    }
    if let Some(unknown) = categories.iter().find(|c| !policy.service_categories.contains(*c)) {
        return Err(Rejection::InvalidProviderApplication(format!(
            "service category \"{unknown}\" is not in policy {}",
            policy.id
        )));
    }
    if qualifications.is_empty() {
        return Err(Rejection::InvalidProviderApplication(
            "at least one qualification document is required".into(),
        ));
    }
    for document in qualifications {
        document.validate().map_err(|error| Rejection::InvalidDocument(error.to_string()))?;
    }
    Ok(vec![Event::ProviderApplied {
        application: ProviderApplication {
            provider,
            name: name.trim().to_owned(),
            jurisdiction,
            categories: categories.clone(),
            qualifications: qualifications.to_vec(),
            contact: contact.trim().to_owned(),
        },
    }])
}

pub(super) fn decide_provider(
    state: &State,
    context: &Context,
    provider: &CreditCode,
    approve: &bool,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let date = context.business_date;
    let state_of = state.providers.get(provider).ok_or_else(|| not_found("provider", provider))?;
    require_role(
        actor,
        Role::Bureau,
        Some(state_of.application.jurisdiction),
        "decide provider applications",
    )?;
    if state_of.status != ProviderStatus::Applied {
        return Err(invalid_state("provider", provider, provider_status(&state_of.status), "a decision"));
    }
    if *approve {
        let policy = policy_for_provider_decision(state, context, state_of.application.jurisdiction)?;
        let closes = state.calendar.working_days_after(date, policy.provider_announcement_working_days)?;
        Ok(vec![Event::ProviderApproved {
            provider: provider.clone(),
            announced_on: date,
            announcement_closes: closes,
        }])
    } else {
        let reason = required_reason(reason, "a rejection")?;
        Ok(vec![Event::ProviderRejected { provider: provider.clone(), reason }])
    }
}

pub(super) fn suspend_provider(
    state: &State,
    context: &Context,
    provider: &CreditCode,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let state_of = state.providers.get(provider).ok_or_else(|| not_found("provider", provider))?;
    require_role(actor, Role::Bureau, Some(state_of.application.jurisdiction), "suspend providers")?;
    if state_of.suspended {
        return Err(invalid_state("provider", provider, "suspended", "a suspension"));
    }
    let reason = required_reason(reason, "a suspension")?;
    Ok(vec![Event::ProviderSuspended { provider: provider.clone(), reason }])
}

/// The version a provider's application is decided under: the one in force, or, once the last version has
/// expired with no successor, the last one that was in force (SPEC §3). An application is accepted only
/// under a version in force, so a pending one was made under that last version (or an earlier one that it
/// replaced); its vouchers, still spendable, need admitted providers, so the decision goes on under it.
///
/// # Errors
/// `no_policy_in_force` when no version has started by the business date.
fn policy_for_provider_decision<'a>(
    state: &'a State,
    context: &Context,
    jurisdiction: Jurisdiction,
) -> Result<&'a crate::PolicyVersion, Rejection> {
    let date = context.business_date;
    policy_in_force(state, context, jurisdiction).or_else(|refused| {
        state
            .policies
            .versions()
            .iter()
            .filter(|version| version.covers(jurisdiction) && version.effective_from <= date)
            .max_by_key(|version| version.effective_until)
            .ok_or(refused)
    })
}
