//! Public announcements and objections: redemption lists announced and closed, objections filed and ruled, a
//! redemption struck from a list.

use domain::Event;
use domain::event::ObjectionTarget;

use super::EventMessage;
use super::fields::{date, parse, required, ruling, ruling_name, uuid, uuids};
use crate::record::{CodecError, days_from_date, uuid_to_bytes};
use crate::v1;

// ObjectionFiled

impl EventMessage for v1::ObjectionFiled {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ObjectionFiled { objection_id, target, jurisdiction, text } = event else {
            return None;
        };
        Some(v1::ObjectionFiled {
            objection_id: uuid_to_bytes(*objection_id),
            target: Some(target.into()),
            jurisdiction: jurisdiction.as_str().to_owned(),
            text: text.clone(),
        })
    }
}

impl TryFrom<v1::ObjectionFiled> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ObjectionFiled) -> Result<Self, CodecError> {
        Ok(Event::ObjectionFiled {
            objection_id: uuid("ObjectionFiled.objection_id", &message.objection_id)?,
            target: required("ObjectionFiled.target", message.target)?.try_into()?,
            jurisdiction: parse("ObjectionFiled.jurisdiction", &message.jurisdiction)?,
            text: message.text,
        })
    }
}

// ObjectionRuled

impl EventMessage for v1::ObjectionRuled {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ObjectionRuled { objection_id, ruling, reason } = event else {
            return None;
        };
        Some(v1::ObjectionRuled {
            objection_id: uuid_to_bytes(*objection_id),
            ruling: ruling_name(*ruling).to_owned(),
            reason: reason.clone(),
        })
    }
}

impl TryFrom<v1::ObjectionRuled> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ObjectionRuled) -> Result<Self, CodecError> {
        Ok(Event::ObjectionRuled {
            objection_id: uuid("ObjectionRuled.objection_id", &message.objection_id)?,
            ruling: ruling("ObjectionRuled.ruling", &message.ruling)?,
            reason: message.reason,
        })
    }
}

// RedemptionsAnnounced

impl EventMessage for v1::RedemptionsAnnounced {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::RedemptionsAnnounced {
            announcement_id,
            jurisdiction,
            redemption_ids,
            announced_on,
            closes_on,
        } = event
        else {
            return None;
        };
        Some(v1::RedemptionsAnnounced {
            announcement_id: uuid_to_bytes(*announcement_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            redemption_ids: redemption_ids.iter().copied().map(uuid_to_bytes).collect(),
            announced_on_days: days_from_date(*announced_on),
            closes_on_days: days_from_date(*closes_on),
        })
    }
}

impl TryFrom<v1::RedemptionsAnnounced> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionsAnnounced) -> Result<Self, CodecError> {
        Ok(Event::RedemptionsAnnounced {
            announcement_id: uuid("RedemptionsAnnounced.announcement_id", &message.announcement_id)?,
            jurisdiction: parse("RedemptionsAnnounced.jurisdiction", &message.jurisdiction)?,
            redemption_ids: uuids("RedemptionsAnnounced.redemption_ids", &message.redemption_ids)?,
            announced_on: date("RedemptionsAnnounced.announced_on_days", message.announced_on_days)?,
            closes_on: date("RedemptionsAnnounced.closes_on_days", message.closes_on_days)?,
        })
    }
}

// RedemptionAnnouncementClosed

impl EventMessage for v1::RedemptionAnnouncementClosed {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::RedemptionAnnouncementClosed { announcement_id } = event else {
            return None;
        };
        Some(v1::RedemptionAnnouncementClosed { announcement_id: uuid_to_bytes(*announcement_id) })
    }
}

impl TryFrom<v1::RedemptionAnnouncementClosed> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionAnnouncementClosed) -> Result<Self, CodecError> {
        Ok(Event::RedemptionAnnouncementClosed {
            announcement_id: uuid("RedemptionAnnouncementClosed.announcement_id", &message.announcement_id)?,
        })
    }
}

// RedemptionStruck

impl EventMessage for v1::RedemptionStruck {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::RedemptionStruck {
            redemption_id,
            objection_id,
            jurisdiction,
            provider,
            fiscal_year,
            returned,
        } = event
        else {
            return None;
        };
        Some(v1::RedemptionStruck {
            redemption_id: uuid_to_bytes(*redemption_id),
            objection_id: uuid_to_bytes(*objection_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            provider: provider.as_str().to_owned(),
            fiscal_year: *fiscal_year,
            returned: returned.to_string(),
        })
    }
}

impl TryFrom<v1::RedemptionStruck> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionStruck) -> Result<Self, CodecError> {
        Ok(Event::RedemptionStruck {
            redemption_id: uuid("RedemptionStruck.redemption_id", &message.redemption_id)?,
            objection_id: uuid("RedemptionStruck.objection_id", &message.objection_id)?,
            jurisdiction: parse("RedemptionStruck.jurisdiction", &message.jurisdiction)?,
            provider: parse("RedemptionStruck.provider", &message.provider)?,
            fiscal_year: message.fiscal_year,
            returned: parse("RedemptionStruck.returned", &message.returned)?,
        })
    }
}

impl From<&ObjectionTarget> for v1::ObjectionTarget {
    fn from(target: &ObjectionTarget) -> Self {
        use v1::objection_target::Target;
        let target = match target {
            ObjectionTarget::Provider { provider } => Target::Provider(provider.as_str().to_owned()),
            ObjectionTarget::Redemption { redemption_id } => {
                Target::RedemptionId(uuid_to_bytes(*redemption_id))
            }
        };
        v1::ObjectionTarget { target: Some(target) }
    }
}

impl TryFrom<v1::ObjectionTarget> for ObjectionTarget {
    type Error = CodecError;

    fn try_from(message: v1::ObjectionTarget) -> Result<Self, CodecError> {
        use v1::objection_target::Target;
        Ok(match required("ObjectionTarget.target", message.target)? {
            Target::Provider(provider) => {
                ObjectionTarget::Provider { provider: parse("ObjectionTarget.provider", &provider)? }
            }
            Target::RedemptionId(redemption_id) => ObjectionTarget::Redemption {
                redemption_id: uuid("ObjectionTarget.redemption_id", &redemption_id)?,
            },
        })
    }
}
