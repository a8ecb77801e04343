//! Contracts between an applicant and a provider: submitted, signed by both parties, filed, rejected or
//! cancelled, and the service completed and rated.

use domain::Event;
use domain::event::ContractTerms;

use super::EventMessage;
use super::fields::{byte, date, parse, party, party_name, required, sha256, uuid};
use crate::record::{CodecError, days_from_date, uuid_to_bytes};
use crate::v1;

// ContractSubmitted

impl EventMessage for v1::ContractSubmitted {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ContractSubmitted { contract_id, terms, submitted_by } = event else {
            return None;
        };
        Some(v1::ContractSubmitted {
            contract_id: uuid_to_bytes(*contract_id),
            terms: Some(terms.into()),
            submitted_by: party_name(*submitted_by).to_owned(),
        })
    }
}

impl TryFrom<v1::ContractSubmitted> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ContractSubmitted) -> Result<Self, CodecError> {
        Ok(Event::ContractSubmitted {
            contract_id: uuid("ContractSubmitted.contract_id", &message.contract_id)?,
            terms: required("ContractSubmitted.terms", message.terms)?.try_into()?,
            submitted_by: party("ContractSubmitted.submitted_by", &message.submitted_by)?,
        })
    }
}

// ContractSigned

impl EventMessage for v1::ContractSigned {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ContractSigned { contract_id, party } = event else {
            return None;
        };
        Some(v1::ContractSigned {
            contract_id: uuid_to_bytes(*contract_id),
            party: party_name(*party).to_owned(),
        })
    }
}

impl TryFrom<v1::ContractSigned> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ContractSigned) -> Result<Self, CodecError> {
        Ok(Event::ContractSigned {
            contract_id: uuid("ContractSigned.contract_id", &message.contract_id)?,
            party: party("ContractSigned.party", &message.party)?,
        })
    }
}

// ContractFiled

impl EventMessage for v1::ContractFiled {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ContractFiled { contract_id, voucher_id, jurisdiction, amount, filed_on } = event else {
            return None;
        };
        Some(v1::ContractFiled {
            contract_id: uuid_to_bytes(*contract_id),
            voucher_id: uuid_to_bytes(*voucher_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            amount: amount.to_string(),
            filed_on_days: days_from_date(*filed_on),
        })
    }
}

impl TryFrom<v1::ContractFiled> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ContractFiled) -> Result<Self, CodecError> {
        Ok(Event::ContractFiled {
            contract_id: uuid("ContractFiled.contract_id", &message.contract_id)?,
            voucher_id: uuid("ContractFiled.voucher_id", &message.voucher_id)?,
            jurisdiction: parse("ContractFiled.jurisdiction", &message.jurisdiction)?,
            amount: parse("ContractFiled.amount", &message.amount)?,
            filed_on: date("ContractFiled.filed_on_days", message.filed_on_days)?,
        })
    }
}

// ContractRejected

impl EventMessage for v1::ContractRejected {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ContractRejected { contract_id, reason } = event else {
            return None;
        };
        Some(v1::ContractRejected { contract_id: uuid_to_bytes(*contract_id), reason: reason.clone() })
    }
}

impl TryFrom<v1::ContractRejected> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ContractRejected) -> Result<Self, CodecError> {
        Ok(Event::ContractRejected {
            contract_id: uuid("ContractRejected.contract_id", &message.contract_id)?,
            reason: message.reason,
        })
    }
}

// ContractCancelled

impl EventMessage for v1::ContractCancelled {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ContractCancelled { contract_id, voucher_id, jurisdiction, released, reason } = event
        else {
            return None;
        };
        Some(v1::ContractCancelled {
            contract_id: uuid_to_bytes(*contract_id),
            voucher_id: uuid_to_bytes(*voucher_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            released: released.map(|amount| amount.to_string()),
            reason: reason.clone(),
        })
    }
}

impl TryFrom<v1::ContractCancelled> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ContractCancelled) -> Result<Self, CodecError> {
        Ok(Event::ContractCancelled {
            contract_id: uuid("ContractCancelled.contract_id", &message.contract_id)?,
            voucher_id: uuid("ContractCancelled.voucher_id", &message.voucher_id)?,
            jurisdiction: parse("ContractCancelled.jurisdiction", &message.jurisdiction)?,
            released: message
                .released
                .map(|amount| parse("ContractCancelled.released", &amount))
                .transpose()?,
            reason: message.reason,
        })
    }
}

// ServiceCompleted

impl EventMessage for v1::ServiceCompleted {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ServiceCompleted {
            contract_id,
            voucher_id,
            jurisdiction,
            provider,
            amount,
            completed_on,
            redemption_deadline,
        } = event
        else {
            return None;
        };
        Some(v1::ServiceCompleted {
            contract_id: uuid_to_bytes(*contract_id),
            voucher_id: uuid_to_bytes(*voucher_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            provider: provider.as_str().to_owned(),
            amount: amount.to_string(),
            completed_on_days: days_from_date(*completed_on),
            redemption_deadline_days: days_from_date(*redemption_deadline),
        })
    }
}

impl TryFrom<v1::ServiceCompleted> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ServiceCompleted) -> Result<Self, CodecError> {
        Ok(Event::ServiceCompleted {
            contract_id: uuid("ServiceCompleted.contract_id", &message.contract_id)?,
            voucher_id: uuid("ServiceCompleted.voucher_id", &message.voucher_id)?,
            jurisdiction: parse("ServiceCompleted.jurisdiction", &message.jurisdiction)?,
            provider: parse("ServiceCompleted.provider", &message.provider)?,
            amount: parse("ServiceCompleted.amount", &message.amount)?,
            completed_on: date("ServiceCompleted.completed_on_days", message.completed_on_days)?,
            redemption_deadline: date(
                "ServiceCompleted.redemption_deadline_days",
                message.redemption_deadline_days,
            )?,
        })
    }
}

// ServiceRated

impl EventMessage for v1::ServiceRated {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ServiceRated {
            contract_id,
            provider,
            category,
            quality,
            timeliness,
            professionalism,
            text,
        } = event
        else {
            return None;
        };
        Some(v1::ServiceRated {
            contract_id: uuid_to_bytes(*contract_id),
            provider: provider.as_str().to_owned(),
            category: category.clone(),
            quality: u32::from(*quality),
            timeliness: u32::from(*timeliness),
            professionalism: u32::from(*professionalism),
            text: text.clone(),
        })
    }
}

impl TryFrom<v1::ServiceRated> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ServiceRated) -> Result<Self, CodecError> {
        Ok(Event::ServiceRated {
            contract_id: uuid("ServiceRated.contract_id", &message.contract_id)?,
            provider: parse("ServiceRated.provider", &message.provider)?,
            category: message.category,
            quality: byte("ServiceRated.quality", message.quality)?,
            timeliness: byte("ServiceRated.timeliness", message.timeliness)?,
            professionalism: byte("ServiceRated.professionalism", message.professionalism)?,
            text: message.text,
        })
    }
}

impl From<&ContractTerms> for v1::ContractTerms {
    fn from(terms: &ContractTerms) -> Self {
        v1::ContractTerms {
            voucher_id: uuid_to_bytes(terms.voucher_id),
            jurisdiction: terms.jurisdiction.as_str().to_owned(),
            provider: terms.provider.as_str().to_owned(),
            applicant: terms.applicant.as_str().to_owned(),
            category: terms.category.clone(),
            description: terms.description.clone(),
            term_start_days: days_from_date(terms.term_start),
            term_end_days: days_from_date(terms.term_end),
            total: terms.total.to_string(),
            voucher_amount: terms.voucher_amount.to_string(),
            document_sha256: terms.document_sha256.to_string(),
        }
    }
}

impl TryFrom<v1::ContractTerms> for ContractTerms {
    type Error = CodecError;

    fn try_from(message: v1::ContractTerms) -> Result<Self, CodecError> {
        Ok(ContractTerms {
            voucher_id: uuid("ContractTerms.voucher_id", &message.voucher_id)?,
            jurisdiction: parse("ContractTerms.jurisdiction", &message.jurisdiction)?,
            provider: parse("ContractTerms.provider", &message.provider)?,
            applicant: parse("ContractTerms.applicant", &message.applicant)?,
            category: message.category,
            description: message.description,
            term_start: date("ContractTerms.term_start_days", message.term_start_days)?,
            term_end: date("ContractTerms.term_end_days", message.term_end_days)?,
            total: parse("ContractTerms.total", &message.total)?,
            voucher_amount: parse("ContractTerms.voucher_amount", &message.voucher_amount)?,
            document_sha256: sha256("ContractTerms.document_sha256", &message.document_sha256)?,
        })
    }
}
