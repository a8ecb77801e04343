//! Announcements and objections (Measures art. 8, 11): redemption lists put up for public objection, the
//! objections filed against a provider's admission or a listed redemption, and the bureau's rulings.

use chrono::NaiveDate;
use uuid::Uuid;

use super::guards::{
    exists, invalid_state, not_found, provider_status, redemption, redemption_status, require_role,
    required_reason,
};
use crate::event::{ObjectionTarget, Ruling};
use crate::state::{ProviderStatus, RedemptionStatus, State};
use crate::{Context, Event, Jurisdiction, Rejection, Role};

pub(super) fn announce_redemptions(
    state: &State,
    context: &Context,
    announcement_id: &Uuid,
    jurisdiction: &Jurisdiction,
    redemption_ids: &[Uuid],
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let date = context.business_date;
    require_role(actor, Role::Bureau, Some(*jurisdiction), "announce redemptions")?;
    if state.announcements.contains_key(announcement_id) {
        return Err(exists("announcement", announcement_id));
    }
    if redemption_ids.is_empty() {
        return Err(Rejection::InvalidAnnouncement("an announcement lists at least one redemption".into()));
    }
    let mut seen = std::collections::HashSet::new();
    for redemption_id in redemption_ids {
        let item = redemption(state, redemption_id)?;
        if item.jurisdiction != *jurisdiction {
            return Err(Rejection::InvalidAnnouncement(format!(
                "redemption {redemption_id} belongs to {}",
                item.jurisdiction
            )));
        }
        if item.status != RedemptionStatus::Approved || !seen.insert(*redemption_id) {
            return Err(invalid_state(
                "redemption",
                redemption_id,
                redemption_status(item),
                "an announcement",
            ));
        }
    }
    let working_days = announcement_working_days(state, redemption_ids, date)?;
    let closes_on = state.calendar.working_days_after(date, working_days)?;
    Ok(vec![Event::RedemptionsAnnounced {
        announcement_id: *announcement_id,
        jurisdiction: *jurisdiction,
        redemption_ids: redemption_ids.to_vec(),
        announced_on: date,
        closes_on,
    }])
}

pub(super) fn file_objection(
    state: &State,
    context: &Context,
    objection_id: &Uuid,
    target: &ObjectionTarget,
    text: &str,
) -> Result<Vec<Event>, Rejection> {
    let date = context.business_date;
    if state.objections.contains_key(objection_id) {
        return Err(exists("objection", objection_id));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(Rejection::InvalidObjection("an objection needs a text".into()));
    }
    let (jurisdiction, closes_on) = match target {
        ObjectionTarget::Provider { provider } => {
            let state_of = state.providers.get(provider).ok_or_else(|| not_found("provider", provider))?;
            match state_of.status {
                ProviderStatus::Announced { closes_on } => (state_of.application.jurisdiction, closes_on),
                _ => {
                    return Err(invalid_state(
                        "provider",
                        provider,
                        provider_status(&state_of.status),
                        "an objection",
                    ));
                }
            }
        }
        ObjectionTarget::Redemption { redemption_id } => {
            let redemption = redemption(state, redemption_id)?;
            // The list the redemption was announced on, whether or not the scheduler closed it yet: a
            // late objection is late whatever the redemption's state.
            let announcement = state
                .announcements
                .values()
                .find(|announcement| announcement.redemption_ids.contains(redemption_id));
            match announcement {
                Some(announcement) if date > announcement.closes_on => {
                    return Err(Rejection::AnnouncementClosed { closes_on: announcement.closes_on });
                }
                Some(announcement) if matches!(redemption.status, RedemptionStatus::Announced { .. }) => {
                    (announcement.jurisdiction, announcement.closes_on)
                }
                _ => {
                    return Err(invalid_state(
                        "redemption",
                        redemption_id,
                        redemption_status(redemption),
                        "an objection",
                    ));
                }
            }
        }
    };
    if date > closes_on {
        return Err(Rejection::AnnouncementClosed { closes_on });
    }
    check_objections_open_below_limit(state, target)?;
    Ok(vec![Event::ObjectionFiled {
        objection_id: *objection_id,
        target: target.clone(),
        jurisdiction,
        text: text.to_owned(),
    }])
}

pub(super) fn rule_on_objection(
    state: &State,
    context: &Context,
    objection_id: &Uuid,
    ruling: &Ruling,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    let objection = state.objections.get(objection_id).ok_or_else(|| not_found("objection", objection_id))?;
    require_role(actor, Role::Bureau, Some(objection.jurisdiction), "rule on objections")?;
    if objection.ruling.is_some() {
        return Err(invalid_state("objection", objection_id, "ruled", "a ruling"));
    }
    let reason = required_reason(reason, "a ruling")?;
    let mut events =
        vec![Event::ObjectionRuled { objection_id: *objection_id, ruling: *ruling, reason: reason.clone() }];
    if *ruling == Ruling::Upheld {
        match &objection.target {
            ObjectionTarget::Provider { provider } => {
                events.push(Event::ProviderRejected {
                    provider: provider.clone(),
                    reason: format!("objection upheld: {reason}"),
                });
            }
            ObjectionTarget::Redemption { redemption_id } => {
                let redemption = redemption(state, redemption_id)?;
                if let Some(returned) = redemption.outstanding() {
                    events.push(Event::RedemptionStruck {
                        redemption_id: *redemption_id,
                        objection_id: *objection_id,
                        jurisdiction: redemption.jurisdiction,
                        provider: redemption.provider.clone(),
                        fiscal_year: redemption.fiscal_year,
                        returned,
                    });
                }
            }
        }
    }
    Ok(events)
}

/// The most objections open at once against one provider or redemption. Every objection must be read and
/// ruled on by the bureau and one open objection already holds the item; more than this many open at once is
/// a flood, not a complaint, and would only bury the bureau (and grow the permanent log) for anyone.
pub const OBJECTIONS_OPEN_MAX: u32 = 20;

/// An item takes a new objection only while fewer than [`OBJECTIONS_OPEN_MAX`] are open against it.
fn check_objections_open_below_limit(state: &State, target: &ObjectionTarget) -> Result<(), Rejection> {
    let open = match target {
        ObjectionTarget::Provider { provider } => state.providers.get(provider).map(|p| p.objections_open),
        ObjectionTarget::Redemption { redemption_id } => {
            state.redemptions.get(redemption_id).map(|r| r.objections_open)
        }
    }
    .unwrap_or(0);
    if open >= OBJECTIONS_OPEN_MAX {
        return Err(Rejection::TooManyObjectionsOpen { open, limit: OBJECTIONS_OPEN_MAX });
    }
    Ok(())
}

/// The announcement period of a redemption list (Measures art. 11): the longest period among the policy
/// versions recorded in its items' batches, whether or not they are still in force (SPEC §3). A list may
/// hold redemptions of batches issued under different versions; art. 11 gives the public the whole
/// announcement period to object to every item, so no item is announced for less than its own version
/// requires, and one list keeps one closing date.
///
/// # Errors
/// `no_policy_in_force` when an item's batch names a version the book does not hold (never for a batch
/// published through `decide`).
fn announcement_working_days(
    state: &State,
    redemption_ids: &[Uuid],
    date: NaiveDate,
) -> Result<u32, Rejection> {
    let mut working_days = 0;
    for redemption_id in redemption_ids {
        let item = redemption(state, redemption_id)?;
        let policy = state.contract_policy(&item.contract_id).ok_or(Rejection::NoPolicyInForce { date })?;
        working_days = working_days.max(policy.redemption_announcement_working_days);
    }
    Ok(working_days)
}
