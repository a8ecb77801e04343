//! Policy versions and holiday calendars (SPEC §3, Measures art. 4, 11, 14).

use super::guards::{forbidden, require_role};
use crate::{CalendarYear, Context, Event, PolicyVersion, Rejection, Role, State};

/// A bureau signs a policy version (SPEC §3 "Who publishes", Measures art. 4, 11, 14): only a version
/// naming its own jurisdiction, so a bureau alone never changes the other jurisdiction's policy; the
/// signature of the last named jurisdiction puts the version in force.
pub(super) fn sign_policy(
    state: &State,
    context: &Context,
    policy: &PolicyVersion,
) -> Result<Vec<Event>, Rejection> {
    let actor = &context.actor;
    require_role(actor, Role::Bureau, None, "publish a policy version")?;
    let jurisdiction = match actor.jurisdiction {
        Some(jurisdiction) if policy.jurisdictions.contains(&jurisdiction) => jurisdiction,
        _ if policy.jurisdictions.is_empty() => {
            return Err(crate::PolicyError::NoJurisdictions { id: policy.id.clone() }.into());
        }
        _ => return Err(forbidden(actor, "publish a policy version for another jurisdiction")),
    };
    state.policies.check_signature(policy, jurisdiction, context.business_date)?;
    Ok(vec![Event::PolicySigned { policy: policy.clone(), jurisdiction }])
}

pub(super) fn publish_calendar_year(
    state: &State,
    context: &Context,
    calendar_year: &CalendarYear,
) -> Result<Vec<Event>, Rejection> {
    require_role(&context.actor, Role::Bureau, None, "publish a holiday calendar")?;
    let mut calendar = state.calendar.clone();
    calendar.add_year(calendar_year.clone())?;
    Ok(vec![Event::CalendarYearPublished { calendar_year: calendar_year.clone() }])
}
