//! The province's policy versions and their joint signatures, and the official calendar of working days.

use domain::Event;

use super::EventMessage;
use super::fields::{date, date_set, parse, required, set};
use crate::record::{CodecError, days_from_date};
use crate::v1;

// PolicyPublished

impl EventMessage for v1::PolicyPublished {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::PolicyPublished { policy } = event else {
            return None;
        };
        Some(v1::PolicyPublished { policy: Some(policy.into()) })
    }
}

impl TryFrom<v1::PolicyPublished> for Event {
    type Error = CodecError;

    fn try_from(message: v1::PolicyPublished) -> Result<Self, CodecError> {
        let policy = required("PolicyPublished.policy", message.policy)?.try_into()?;
        Ok(Event::PolicyPublished { policy })
    }
}

// PolicySigned

impl EventMessage for v1::PolicySigned {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::PolicySigned { policy, jurisdiction } = event else {
            return None;
        };
        Some(v1::PolicySigned { policy: Some(policy.into()), jurisdiction: jurisdiction.as_str().to_owned() })
    }
}

impl TryFrom<v1::PolicySigned> for Event {
    type Error = CodecError;

    fn try_from(message: v1::PolicySigned) -> Result<Self, CodecError> {
        let policy = required("PolicySigned.policy", message.policy)?.try_into()?;
        let jurisdiction = parse("PolicySigned.jurisdiction", &message.jurisdiction)?;
        Ok(Event::PolicySigned { policy, jurisdiction })
    }
}

// CalendarYearPublished

impl EventMessage for v1::CalendarYearPublished {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::CalendarYearPublished { calendar_year } = event else {
            return None;
        };
        Some(v1::CalendarYearPublished { calendar_year: Some(calendar_year.into()) })
    }
}

impl TryFrom<v1::CalendarYearPublished> for Event {
    type Error = CodecError;

    fn try_from(message: v1::CalendarYearPublished) -> Result<Self, CodecError> {
        let calendar_year =
            required("CalendarYearPublished.calendar_year", message.calendar_year)?.try_into()?;
        Ok(Event::CalendarYearPublished { calendar_year })
    }
}

impl From<&domain::PolicyVersion> for v1::PolicyVersion {
    fn from(policy: &domain::PolicyVersion) -> Self {
        v1::PolicyVersion {
            id: policy.id.clone(),
            title: policy.title.clone(),
            effective_from_days: days_from_date(policy.effective_from),
            effective_until_days: days_from_date(policy.effective_until),
            annual_cap_enterprise: policy.annual_cap_enterprise.to_string(),
            annual_cap_project_entity: policy.annual_cap_project_entity.to_string(),
            eligible_industries: policy.eligible_industries.iter().cloned().collect(),
            service_categories: policy.service_categories.iter().cloned().collect(),
            redemption_announcement_working_days: policy.redemption_announcement_working_days,
            provider_announcement_working_days: policy.provider_announcement_working_days,
            claims_per_batch: policy.claims_per_batch,
            default_redemption_days: policy.default_redemption_days,
            default_max_voucher_share: policy.default_max_voucher_share.to_string(),
            jurisdictions: policy.jurisdictions.iter().map(|j| j.as_str().to_owned()).collect(),
        }
    }
}

impl TryFrom<v1::PolicyVersion> for domain::PolicyVersion {
    type Error = CodecError;

    fn try_from(message: v1::PolicyVersion) -> Result<Self, CodecError> {
        Ok(domain::PolicyVersion {
            id: message.id,
            title: message.title,
            jurisdictions: set("PolicyVersion.jurisdictions", message.jurisdictions)?,
            effective_from: date("PolicyVersion.effective_from_days", message.effective_from_days)?,
            effective_until: date("PolicyVersion.effective_until_days", message.effective_until_days)?,
            annual_cap_enterprise: parse(
                "PolicyVersion.annual_cap_enterprise",
                &message.annual_cap_enterprise,
            )?,
            annual_cap_project_entity: parse(
                "PolicyVersion.annual_cap_project_entity",
                &message.annual_cap_project_entity,
            )?,
            eligible_industries: set("PolicyVersion.eligible_industries", message.eligible_industries)?,
            service_categories: set("PolicyVersion.service_categories", message.service_categories)?,
            redemption_announcement_working_days: message.redemption_announcement_working_days,
            provider_announcement_working_days: message.provider_announcement_working_days,
            claims_per_batch: message.claims_per_batch,
            default_redemption_days: message.default_redemption_days,
            default_max_voucher_share: parse(
                "PolicyVersion.default_max_voucher_share",
                &message.default_max_voucher_share,
            )?,
        })
    }
}

impl From<&domain::CalendarYear> for v1::CalendarYear {
    fn from(calendar_year: &domain::CalendarYear) -> Self {
        v1::CalendarYear {
            year: calendar_year.year,
            notice: calendar_year.notice.clone(),
            holidays_days: calendar_year.holidays.iter().copied().map(days_from_date).collect(),
            working_weekends_days: calendar_year
                .working_weekends
                .iter()
                .copied()
                .map(days_from_date)
                .collect(),
        }
    }
}

impl TryFrom<v1::CalendarYear> for domain::CalendarYear {
    type Error = CodecError;

    fn try_from(message: v1::CalendarYear) -> Result<Self, CodecError> {
        Ok(domain::CalendarYear {
            year: message.year,
            notice: message.notice,
            holidays: date_set("CalendarYear.holidays_days", &message.holidays_days)?,
            working_weekends: date_set("CalendarYear.working_weekends_days", &message.working_weekends_days)?,
        })
    }
}
