//! Audits after disbursement: samples drawn, findings recorded, clawbacks ordered and recovered, referrals to
//! other authorities.

use domain::Event;

use super::EventMessage;
use super::fields::{finding, finding_name, parse, uuid, uuids};
use crate::record::{CodecError, uuid_to_bytes};
use crate::v1;

// SampleDrawn

impl EventMessage for v1::SampleDrawn {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::SampleDrawn {
            sample_id,
            jurisdiction,
            year,
            size,
            seed,
            as_of_position,
            population,
            contract_ids,
        } = event
        else {
            return None;
        };
        Some(v1::SampleDrawn {
            sample_id: uuid_to_bytes(*sample_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            year: *year,
            size: *size,
            seed: seed.clone(),
            as_of_position: *as_of_position,
            population: *population,
            contract_ids: contract_ids.iter().copied().map(uuid_to_bytes).collect(),
        })
    }
}

impl TryFrom<v1::SampleDrawn> for Event {
    type Error = CodecError;

    fn try_from(message: v1::SampleDrawn) -> Result<Self, CodecError> {
        Ok(Event::SampleDrawn {
            sample_id: uuid("SampleDrawn.sample_id", &message.sample_id)?,
            jurisdiction: parse("SampleDrawn.jurisdiction", &message.jurisdiction)?,
            year: message.year,
            size: message.size,
            seed: message.seed,
            as_of_position: message.as_of_position,
            population: message.population,
            contract_ids: uuids("SampleDrawn.contract_ids", &message.contract_ids)?,
        })
    }
}

// FindingRecorded

impl EventMessage for v1::FindingRecorded {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::FindingRecorded { sample_id, contract_id, finding, note } = event else {
            return None;
        };
        Some(v1::FindingRecorded {
            sample_id: uuid_to_bytes(*sample_id),
            contract_id: uuid_to_bytes(*contract_id),
            finding: finding_name(*finding).to_owned(),
            note: note.clone(),
        })
    }
}

impl TryFrom<v1::FindingRecorded> for Event {
    type Error = CodecError;

    fn try_from(message: v1::FindingRecorded) -> Result<Self, CodecError> {
        Ok(Event::FindingRecorded {
            sample_id: uuid("FindingRecorded.sample_id", &message.sample_id)?,
            contract_id: uuid("FindingRecorded.contract_id", &message.contract_id)?,
            finding: finding("FindingRecorded.finding", &message.finding)?,
            note: message.note,
        })
    }
}

// ClawbackOrdered

impl EventMessage for v1::ClawbackOrdered {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ClawbackOrdered { clawback_id, redemption_id, jurisdiction, provider, amount, reason } =
            event
        else {
            return None;
        };
        Some(v1::ClawbackOrdered {
            clawback_id: uuid_to_bytes(*clawback_id),
            redemption_id: uuid_to_bytes(*redemption_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            provider: provider.as_str().to_owned(),
            amount: amount.to_string(),
            reason: reason.clone(),
        })
    }
}

impl TryFrom<v1::ClawbackOrdered> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ClawbackOrdered) -> Result<Self, CodecError> {
        Ok(Event::ClawbackOrdered {
            clawback_id: uuid("ClawbackOrdered.clawback_id", &message.clawback_id)?,
            redemption_id: uuid("ClawbackOrdered.redemption_id", &message.redemption_id)?,
            jurisdiction: parse("ClawbackOrdered.jurisdiction", &message.jurisdiction)?,
            provider: parse("ClawbackOrdered.provider", &message.provider)?,
            amount: parse("ClawbackOrdered.amount", &message.amount)?,
            reason: message.reason,
        })
    }
}

// ClawbackRecovered

impl EventMessage for v1::ClawbackRecovered {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ClawbackRecovered { clawback_id, jurisdiction, amount } = event else {
            return None;
        };
        Some(v1::ClawbackRecovered {
            clawback_id: uuid_to_bytes(*clawback_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            amount: amount.to_string(),
        })
    }
}

impl TryFrom<v1::ClawbackRecovered> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ClawbackRecovered) -> Result<Self, CodecError> {
        Ok(Event::ClawbackRecovered {
            clawback_id: uuid("ClawbackRecovered.clawback_id", &message.clawback_id)?,
            jurisdiction: parse("ClawbackRecovered.jurisdiction", &message.jurisdiction)?,
            amount: parse("ClawbackRecovered.amount", &message.amount)?,
        })
    }
}

// ReferralRecorded

impl EventMessage for v1::ReferralRecorded {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ReferralRecorded { referral_id, party, authority, note } = event else {
            return None;
        };
        Some(v1::ReferralRecorded {
            referral_id: uuid_to_bytes(*referral_id),
            party: party.as_str().to_owned(),
            authority: authority.clone(),
            note: note.clone(),
        })
    }
}

impl TryFrom<v1::ReferralRecorded> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ReferralRecorded) -> Result<Self, CodecError> {
        Ok(Event::ReferralRecorded {
            referral_id: uuid("ReferralRecorded.referral_id", &message.referral_id)?,
            party: parse("ReferralRecorded.party", &message.party)?,
            authority: message.authority,
            note: message.note,
        })
    }
}
