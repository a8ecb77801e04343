//! Budgets and batches: money appropriated to a jurisdiction's fiscal year, batches published from it and
//! closed.

use domain::Event;

use super::EventMessage;
use super::fields::{date, parse, required, set, uuid};
use crate::record::{CodecError, days_from_date, uuid_to_bytes};
use crate::v1;

// BudgetAppropriated

impl EventMessage for v1::BudgetAppropriated {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::BudgetAppropriated { jurisdiction, fiscal_year, amount } = event else {
            return None;
        };
        Some(v1::BudgetAppropriated {
            jurisdiction: jurisdiction.as_str().to_owned(),
            fiscal_year: *fiscal_year,
            amount: amount.to_string(),
        })
    }
}

impl TryFrom<v1::BudgetAppropriated> for Event {
    type Error = CodecError;

    fn try_from(message: v1::BudgetAppropriated) -> Result<Self, CodecError> {
        Ok(Event::BudgetAppropriated {
            jurisdiction: parse("BudgetAppropriated.jurisdiction", &message.jurisdiction)?,
            fiscal_year: message.fiscal_year,
            amount: parse("BudgetAppropriated.amount", &message.amount)?,
        })
    }
}

// BatchPublished

impl EventMessage for v1::BatchPublished {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::BatchPublished { batch_id, guide } = event else {
            return None;
        };
        Some(v1::BatchPublished { batch_id: uuid_to_bytes(*batch_id), guide: Some(guide.into()) })
    }
}

impl TryFrom<v1::BatchPublished> for Event {
    type Error = CodecError;

    fn try_from(message: v1::BatchPublished) -> Result<Self, CodecError> {
        Ok(Event::BatchPublished {
            batch_id: uuid("BatchPublished.batch_id", &message.batch_id)?,
            guide: required("BatchPublished.guide", message.guide)?.try_into()?,
        })
    }
}

// BatchClosed

impl EventMessage for v1::BatchClosed {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::BatchClosed { batch_id, jurisdiction, fiscal_year, returned } = event else {
            return None;
        };
        Some(v1::BatchClosed {
            batch_id: uuid_to_bytes(*batch_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            fiscal_year: *fiscal_year,
            returned: returned.map(|amount| amount.to_string()),
        })
    }
}

impl TryFrom<v1::BatchClosed> for Event {
    type Error = CodecError;

    fn try_from(message: v1::BatchClosed) -> Result<Self, CodecError> {
        Ok(Event::BatchClosed {
            batch_id: uuid("BatchClosed.batch_id", &message.batch_id)?,
            jurisdiction: parse("BatchClosed.jurisdiction", &message.jurisdiction)?,
            fiscal_year: message.fiscal_year,
            returned: message.returned.map(|amount| parse("BatchClosed.returned", &amount)).transpose()?,
        })
    }
}

impl From<&domain::event::BatchGuide> for v1::BatchGuide {
    fn from(guide: &domain::event::BatchGuide) -> Self {
        v1::BatchGuide {
            jurisdiction: guide.jurisdiction.as_str().to_owned(),
            fiscal_year: guide.fiscal_year,
            name: guide.name.clone(),
            total: guide.total.to_string(),
            face_value: guide.face_value.to_string(),
            eligible_kinds: guide.eligible_kinds.iter().map(|kind| kind.as_str().to_owned()).collect(),
            eligible_industries: guide.eligible_industries.iter().cloned().collect(),
            eligible_categories: guide.eligible_categories.iter().cloned().collect(),
            claim_opens_days: days_from_date(guide.claim_opens),
            claim_closes_days: days_from_date(guide.claim_closes),
            valid_until_days: days_from_date(guide.valid_until),
            redemption_days: guide.redemption_days,
            max_voucher_share: guide.max_voucher_share.to_string(),
            policy_id: guide.policy_id.clone(),
        }
    }
}

impl TryFrom<v1::BatchGuide> for domain::event::BatchGuide {
    type Error = CodecError;

    fn try_from(message: v1::BatchGuide) -> Result<Self, CodecError> {
        Ok(domain::event::BatchGuide {
            jurisdiction: parse("BatchGuide.jurisdiction", &message.jurisdiction)?,
            fiscal_year: message.fiscal_year,
            name: message.name,
            total: parse("BatchGuide.total", &message.total)?,
            face_value: parse("BatchGuide.face_value", &message.face_value)?,
            eligible_kinds: set("BatchGuide.eligible_kinds", message.eligible_kinds)?,
            eligible_industries: set("BatchGuide.eligible_industries", message.eligible_industries)?,
            eligible_categories: set("BatchGuide.eligible_categories", message.eligible_categories)?,
            claim_opens: date("BatchGuide.claim_opens_days", message.claim_opens_days)?,
            claim_closes: date("BatchGuide.claim_closes_days", message.claim_closes_days)?,
            valid_until: date("BatchGuide.valid_until_days", message.valid_until_days)?,
            redemption_days: message.redemption_days,
            max_voucher_share: parse("BatchGuide.max_voucher_share", &message.max_voucher_share)?,
            policy_id: message.policy_id,
        })
    }
}
