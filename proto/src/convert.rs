//! Conversions between domain events and their stored payloads (the messages of `proto/v1/events.proto`).
//!
//! The stored format is written here, field by field, and nowhere else: domain types carry no protobuf
//! attributes, so renaming a domain field or variant cannot change the bytes of a record. Encoding goes
//! through `From<&domain::X>` (or, for an event variant's inline fields, a struct literal in
//! [`encode_event`]); decoding through `TryFrom<v1::X>`, which parses every amount, name, credit code, UUID and
//! date with the domain's own parsers and names the field it refuses.
//!
//! Decoding checks the types, not the business rules: a recorded event is a fact that `decide` accepted, and
//! folding it again must not depend on today's rules.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::str::FromStr;

use chrono::NaiveDate;
use domain::Event;
use domain::UnknownName;
use domain::document::{Document, Sha256Hex};
use domain::event::{
    ContractTerms, DenialGround, Finding, ObjectionTarget, Party, ProviderApplication, ReviewOutcome, Ruling,
};
use prost::Message;
use uuid::Uuid;

use crate::record::{CodecError, date_from_days, days_from_date, uuid_from_bytes, uuid_to_bytes};
use crate::v1;

/// Encodes `event` as its stored payload.
///
/// Returns the event type (`event.event_type()`, stored in the envelope), the schema version of the payload
/// message (the newest one: an event is always written in the current version) and the payload bytes.
#[must_use]
pub fn encode_event(event: &Event) -> (&'static str, u32, Vec<u8>) {
    let (schema_version, payload) = match event {
        Event::PolicyPublished { policy } => {
            (1, v1::PolicyPublished { policy: Some(policy.into()) }.encode_to_vec())
        }
        Event::PolicySigned { policy, jurisdiction } => (
            1,
            v1::PolicySigned { policy: Some(policy.into()), jurisdiction: jurisdiction.as_str().to_owned() }
                .encode_to_vec(),
        ),
        Event::CalendarYearPublished { calendar_year } => {
            (1, v1::CalendarYearPublished { calendar_year: Some(calendar_year.into()) }.encode_to_vec())
        }
        Event::BudgetAppropriated { jurisdiction, fiscal_year, amount } => (
            1,
            v1::BudgetAppropriated {
                jurisdiction: jurisdiction.as_str().to_owned(),
                fiscal_year: *fiscal_year,
                amount: amount.to_string(),
            }
            .encode_to_vec(),
        ),
        Event::BatchPublished { batch_id, guide } => (
            1,
            v1::BatchPublished { batch_id: uuid_to_bytes(*batch_id), guide: Some(guide.into()) }
                .encode_to_vec(),
        ),
        Event::BatchClosed { batch_id, jurisdiction, fiscal_year, returned } => (
            1,
            v1::BatchClosed {
                batch_id: uuid_to_bytes(*batch_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                fiscal_year: *fiscal_year,
                returned: returned.map(|amount| amount.to_string()),
            }
            .encode_to_vec(),
        ),
        Event::ApplicantRegistered { registration } => {
            (1, v1::ApplicantRegistered { registration: Some(registration.into()) }.encode_to_vec())
        }
        Event::ApplicantVerified { credit_code } => {
            (1, v1::ApplicantVerified { credit_code: credit_code.as_str().to_owned() }.encode_to_vec())
        }
        Event::ApplicantRejected { credit_code, reason } => (
            1,
            v1::ApplicantRejected { credit_code: credit_code.as_str().to_owned(), reason: reason.clone() }
                .encode_to_vec(),
        ),
        Event::ApplicantSuspended { credit_code, reason } => (
            1,
            v1::ApplicantSuspended { credit_code: credit_code.as_str().to_owned(), reason: reason.clone() }
                .encode_to_vec(),
        ),
        Event::VoucherIssued {
            voucher_id,
            batch_id,
            jurisdiction,
            applicant,
            kind,
            face_value,
            cap_year,
            annual_cap,
            valid_until,
        } => (
            1,
            v1::VoucherIssued {
                voucher_id: uuid_to_bytes(*voucher_id),
                batch_id: uuid_to_bytes(*batch_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                applicant: applicant.as_str().to_owned(),
                kind: kind.as_str().to_owned(),
                face_value: face_value.to_string(),
                cap_year: *cap_year,
                annual_cap: annual_cap.to_string(),
                valid_until_days: days_from_date(*valid_until),
            }
            .encode_to_vec(),
        ),
        Event::ProviderApplied { application } => {
            (1, v1::ProviderApplied { application: Some(application.into()) }.encode_to_vec())
        }
        Event::ProviderApproved { provider, announced_on, announcement_closes } => (
            1,
            v1::ProviderApproved {
                provider: provider.as_str().to_owned(),
                announced_on_days: days_from_date(*announced_on),
                announcement_closes_days: days_from_date(*announcement_closes),
            }
            .encode_to_vec(),
        ),
        Event::ProviderRejected { provider, reason } => (
            1,
            v1::ProviderRejected { provider: provider.as_str().to_owned(), reason: reason.clone() }
                .encode_to_vec(),
        ),
        Event::ProviderAdmitted { provider } => {
            (1, v1::ProviderAdmitted { provider: provider.as_str().to_owned() }.encode_to_vec())
        }
        Event::ProviderSuspended { provider, reason } => (
            1,
            v1::ProviderSuspended { provider: provider.as_str().to_owned(), reason: reason.clone() }
                .encode_to_vec(),
        ),
        Event::ObjectionFiled { objection_id, target, jurisdiction, text } => (
            1,
            v1::ObjectionFiled {
                objection_id: uuid_to_bytes(*objection_id),
                target: Some(target.into()),
                jurisdiction: jurisdiction.as_str().to_owned(),
                text: text.clone(),
            }
            .encode_to_vec(),
        ),
        Event::ObjectionRuled { objection_id, ruling, reason } => (
            1,
            v1::ObjectionRuled {
                objection_id: uuid_to_bytes(*objection_id),
                ruling: ruling_name(*ruling).to_owned(),
                reason: reason.clone(),
            }
            .encode_to_vec(),
        ),
        Event::ContractSubmitted { contract_id, terms, submitted_by } => (
            1,
            v1::ContractSubmitted {
                contract_id: uuid_to_bytes(*contract_id),
                terms: Some(terms.into()),
                submitted_by: party_name(*submitted_by).to_owned(),
            }
            .encode_to_vec(),
        ),
        Event::ContractSigned { contract_id, party } => (
            1,
            v1::ContractSigned {
                contract_id: uuid_to_bytes(*contract_id),
                party: party_name(*party).to_owned(),
            }
            .encode_to_vec(),
        ),
        Event::ContractFiled { contract_id, voucher_id, jurisdiction, amount, filed_on } => (
            1,
            v1::ContractFiled {
                contract_id: uuid_to_bytes(*contract_id),
                voucher_id: uuid_to_bytes(*voucher_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                amount: amount.to_string(),
                filed_on_days: days_from_date(*filed_on),
            }
            .encode_to_vec(),
        ),
        Event::ContractRejected { contract_id, reason } => (
            1,
            v1::ContractRejected { contract_id: uuid_to_bytes(*contract_id), reason: reason.clone() }
                .encode_to_vec(),
        ),
        Event::ContractCancelled { contract_id, voucher_id, jurisdiction, released, reason } => (
            1,
            v1::ContractCancelled {
                contract_id: uuid_to_bytes(*contract_id),
                voucher_id: uuid_to_bytes(*voucher_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                released: released.map(|amount| amount.to_string()),
                reason: reason.clone(),
            }
            .encode_to_vec(),
        ),
        Event::ServiceCompleted {
            contract_id,
            voucher_id,
            jurisdiction,
            provider,
            amount,
            completed_on,
            redemption_deadline,
        } => (
            1,
            v1::ServiceCompleted {
                contract_id: uuid_to_bytes(*contract_id),
                voucher_id: uuid_to_bytes(*voucher_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                provider: provider.as_str().to_owned(),
                amount: amount.to_string(),
                completed_on_days: days_from_date(*completed_on),
                redemption_deadline_days: days_from_date(*redemption_deadline),
            }
            .encode_to_vec(),
        ),
        Event::ServiceRated {
            contract_id,
            provider,
            category,
            quality,
            timeliness,
            professionalism,
            text,
        } => (
            1,
            v1::ServiceRated {
                contract_id: uuid_to_bytes(*contract_id),
                provider: provider.as_str().to_owned(),
                category: category.clone(),
                quality: u32::from(*quality),
                timeliness: u32::from(*timeliness),
                professionalism: u32::from(*professionalism),
                text: text.clone(),
            }
            .encode_to_vec(),
        ),
        Event::RedemptionRequested {
            redemption_id,
            contract_id,
            jurisdiction,
            provider,
            amount,
            invoice,
            remittance_proof,
            results,
        } => (
            1,
            v1::RedemptionRequested {
                redemption_id: uuid_to_bytes(*redemption_id),
                contract_id: uuid_to_bytes(*contract_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                provider: provider.as_str().to_owned(),
                amount: amount.to_string(),
                invoice: Some(invoice.into()),
                remittance_proof: Some(remittance_proof.into()),
                results: results.iter().map(Into::into).collect(),
            }
            .encode_to_vec(),
        ),
        Event::RedemptionReviewed {
            redemption_id,
            jurisdiction,
            provider,
            fiscal_year,
            outcome,
            approved,
            returned,
        } => (
            1,
            v1::RedemptionReviewed {
                redemption_id: uuid_to_bytes(*redemption_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                provider: provider.as_str().to_owned(),
                fiscal_year: *fiscal_year,
                outcome: Some(outcome.into()),
                approved: approved.map(|amount| amount.to_string()),
                returned: returned.map(|amount| amount.to_string()),
            }
            .encode_to_vec(),
        ),
        Event::RedemptionsAnnounced {
            announcement_id,
            jurisdiction,
            redemption_ids,
            announced_on,
            closes_on,
        } => (
            1,
            v1::RedemptionsAnnounced {
                announcement_id: uuid_to_bytes(*announcement_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                redemption_ids: redemption_ids.iter().copied().map(uuid_to_bytes).collect(),
                announced_on_days: days_from_date(*announced_on),
                closes_on_days: days_from_date(*closes_on),
            }
            .encode_to_vec(),
        ),
        Event::RedemptionAnnouncementClosed { announcement_id } => (
            1,
            v1::RedemptionAnnouncementClosed { announcement_id: uuid_to_bytes(*announcement_id) }
                .encode_to_vec(),
        ),
        Event::RedemptionStruck {
            redemption_id,
            objection_id,
            jurisdiction,
            provider,
            fiscal_year,
            returned,
        } => (
            1,
            v1::RedemptionStruck {
                redemption_id: uuid_to_bytes(*redemption_id),
                objection_id: uuid_to_bytes(*objection_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                provider: provider.as_str().to_owned(),
                fiscal_year: *fiscal_year,
                returned: returned.to_string(),
            }
            .encode_to_vec(),
        ),
        Event::RedemptionDisbursed { redemption_id, jurisdiction, provider, amount, payment_reference } => (
            1,
            v1::RedemptionDisbursed {
                redemption_id: uuid_to_bytes(*redemption_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                provider: provider.as_str().to_owned(),
                amount: amount.to_string(),
                payment_reference: payment_reference.clone(),
            }
            .encode_to_vec(),
        ),
        Event::RedemptionDenied {
            redemption_id,
            jurisdiction,
            provider,
            fiscal_year,
            ground,
            reason,
            returned,
        } => (
            1,
            v1::RedemptionDenied {
                redemption_id: uuid_to_bytes(*redemption_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                provider: provider.as_str().to_owned(),
                fiscal_year: *fiscal_year,
                ground: denial_ground_name(*ground).to_owned(),
                reason: reason.clone(),
                returned: returned.to_string(),
            }
            .encode_to_vec(),
        ),
        Event::SampleDrawn {
            sample_id,
            jurisdiction,
            year,
            size,
            seed,
            as_of_position,
            population,
            contract_ids,
        } => (
            1,
            v1::SampleDrawn {
                sample_id: uuid_to_bytes(*sample_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                year: *year,
                size: *size,
                seed: seed.clone(),
                as_of_position: *as_of_position,
                population: *population,
                contract_ids: contract_ids.iter().copied().map(uuid_to_bytes).collect(),
            }
            .encode_to_vec(),
        ),
        Event::FindingRecorded { sample_id, contract_id, finding, note } => (
            1,
            v1::FindingRecorded {
                sample_id: uuid_to_bytes(*sample_id),
                contract_id: uuid_to_bytes(*contract_id),
                finding: finding_name(*finding).to_owned(),
                note: note.clone(),
            }
            .encode_to_vec(),
        ),
        Event::ClawbackOrdered { clawback_id, redemption_id, jurisdiction, provider, amount, reason } => (
            1,
            v1::ClawbackOrdered {
                clawback_id: uuid_to_bytes(*clawback_id),
                redemption_id: uuid_to_bytes(*redemption_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                provider: provider.as_str().to_owned(),
                amount: amount.to_string(),
                reason: reason.clone(),
            }
            .encode_to_vec(),
        ),
        Event::ClawbackRecovered { clawback_id, jurisdiction, amount } => (
            1,
            v1::ClawbackRecovered {
                clawback_id: uuid_to_bytes(*clawback_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                amount: amount.to_string(),
            }
            .encode_to_vec(),
        ),
        Event::ReferralRecorded { referral_id, party, authority, note } => (
            1,
            v1::ReferralRecorded {
                referral_id: uuid_to_bytes(*referral_id),
                party: party.as_str().to_owned(),
                authority: authority.clone(),
                note: note.clone(),
            }
            .encode_to_vec(),
        ),
        Event::VoucherExpired { voucher_id, jurisdiction, fiscal_year, returned } => (
            1,
            v1::VoucherExpired {
                voucher_id: uuid_to_bytes(*voucher_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                fiscal_year: *fiscal_year,
                returned: returned.map(|amount| amount.to_string()),
            }
            .encode_to_vec(),
        ),
        Event::RedemptionWindowLapsed { contract_id, jurisdiction, provider, fiscal_year, returned } => (
            1,
            v1::RedemptionWindowLapsed {
                contract_id: uuid_to_bytes(*contract_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                provider: provider.as_str().to_owned(),
                fiscal_year: *fiscal_year,
                returned: returned.to_string(),
            }
            .encode_to_vec(),
        ),
        Event::ReturnedAfterExpiry { voucher_id, contract_id, jurisdiction, fiscal_year, returned } => (
            1,
            v1::ReturnedAfterExpiry {
                voucher_id: uuid_to_bytes(*voucher_id),
                contract_id: uuid_to_bytes(*contract_id),
                jurisdiction: jurisdiction.as_str().to_owned(),
                fiscal_year: *fiscal_year,
                returned: returned.to_string(),
            }
            .encode_to_vec(),
        ),
    };
    (event.event_type(), schema_version, payload)
}

/// Decodes a stored payload of type `event_type` at `schema_version` into the domain event.
///
/// An older schema version of a type is decoded and upcast here, so callers only ever see current events.
///
/// # Errors
/// [`CodecError::UnknownEventType`] when this build does not know the type at that version,
/// [`CodecError::Decode`] when the bytes are not the type's message, [`CodecError::InvalidField`] when a
/// field holds a value its domain type refuses (or a required nested message is absent).
pub fn decode_event(event_type: &str, schema_version: u32, payload: &[u8]) -> Result<Event, CodecError> {
    match (event_type, schema_version) {
        ("PolicyPublished", 1) => decode::<v1::PolicyPublished>(payload),
        ("PolicySigned", 1) => decode::<v1::PolicySigned>(payload),
        ("CalendarYearPublished", 1) => decode::<v1::CalendarYearPublished>(payload),
        ("BudgetAppropriated", 1) => decode::<v1::BudgetAppropriated>(payload),
        ("BatchPublished", 1) => decode::<v1::BatchPublished>(payload),
        ("BatchClosed", 1) => decode::<v1::BatchClosed>(payload),
        ("ApplicantRegistered", 1) => decode::<v1::ApplicantRegistered>(payload),
        ("ApplicantVerified", 1) => decode::<v1::ApplicantVerified>(payload),
        ("ApplicantRejected", 1) => decode::<v1::ApplicantRejected>(payload),
        ("ApplicantSuspended", 1) => decode::<v1::ApplicantSuspended>(payload),
        ("VoucherIssued", 1) => decode::<v1::VoucherIssued>(payload),
        ("ProviderApplied", 1) => decode::<v1::ProviderApplied>(payload),
        ("ProviderApproved", 1) => decode::<v1::ProviderApproved>(payload),
        ("ProviderRejected", 1) => decode::<v1::ProviderRejected>(payload),
        ("ProviderAdmitted", 1) => decode::<v1::ProviderAdmitted>(payload),
        ("ProviderSuspended", 1) => decode::<v1::ProviderSuspended>(payload),
        ("ObjectionFiled", 1) => decode::<v1::ObjectionFiled>(payload),
        ("ObjectionRuled", 1) => decode::<v1::ObjectionRuled>(payload),
        ("ContractSubmitted", 1) => decode::<v1::ContractSubmitted>(payload),
        ("ContractSigned", 1) => decode::<v1::ContractSigned>(payload),
        ("ContractFiled", 1) => decode::<v1::ContractFiled>(payload),
        ("ContractRejected", 1) => decode::<v1::ContractRejected>(payload),
        ("ContractCancelled", 1) => decode::<v1::ContractCancelled>(payload),
        ("ServiceCompleted", 1) => decode::<v1::ServiceCompleted>(payload),
        ("ServiceRated", 1) => decode::<v1::ServiceRated>(payload),
        ("RedemptionRequested", 1) => decode::<v1::RedemptionRequested>(payload),
        ("RedemptionReviewed", 1) => decode::<v1::RedemptionReviewed>(payload),
        ("RedemptionsAnnounced", 1) => decode::<v1::RedemptionsAnnounced>(payload),
        ("RedemptionAnnouncementClosed", 1) => decode::<v1::RedemptionAnnouncementClosed>(payload),
        ("RedemptionStruck", 1) => decode::<v1::RedemptionStruck>(payload),
        ("RedemptionDisbursed", 1) => decode::<v1::RedemptionDisbursed>(payload),
        ("RedemptionDenied", 1) => decode::<v1::RedemptionDenied>(payload),
        ("SampleDrawn", 1) => decode::<v1::SampleDrawn>(payload),
        ("FindingRecorded", 1) => decode::<v1::FindingRecorded>(payload),
        ("ClawbackOrdered", 1) => decode::<v1::ClawbackOrdered>(payload),
        ("ClawbackRecovered", 1) => decode::<v1::ClawbackRecovered>(payload),
        ("ReferralRecorded", 1) => decode::<v1::ReferralRecorded>(payload),
        ("VoucherExpired", 1) => decode::<v1::VoucherExpired>(payload),
        ("RedemptionWindowLapsed", 1) => decode::<v1::RedemptionWindowLapsed>(payload),
        ("ReturnedAfterExpiry", 1) => decode::<v1::ReturnedAfterExpiry>(payload),
        _ => Err(CodecError::UnknownEventType { event_type: event_type.to_owned(), schema_version }),
    }
}

/// Decodes `payload` as message `M` and converts it to the domain event.
fn decode<M>(payload: &[u8]) -> Result<Event, CodecError>
where
    M: Message + Default + TryInto<Event, Error = CodecError>,
{
    M::decode(payload)?.try_into()
}

// --- Event messages -----------------------------------------------------------------------------------------

impl TryFrom<v1::PolicyPublished> for Event {
    type Error = CodecError;

    fn try_from(message: v1::PolicyPublished) -> Result<Self, CodecError> {
        let policy = required("PolicyPublished.policy", message.policy)?.try_into()?;
        Ok(Event::PolicyPublished { policy })
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

impl TryFrom<v1::CalendarYearPublished> for Event {
    type Error = CodecError;

    fn try_from(message: v1::CalendarYearPublished) -> Result<Self, CodecError> {
        let calendar_year =
            required("CalendarYearPublished.calendar_year", message.calendar_year)?.try_into()?;
        Ok(Event::CalendarYearPublished { calendar_year })
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

impl TryFrom<v1::BatchPublished> for Event {
    type Error = CodecError;

    fn try_from(message: v1::BatchPublished) -> Result<Self, CodecError> {
        Ok(Event::BatchPublished {
            batch_id: uuid("BatchPublished.batch_id", &message.batch_id)?,
            guide: required("BatchPublished.guide", message.guide)?.try_into()?,
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

impl TryFrom<v1::ApplicantRegistered> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ApplicantRegistered) -> Result<Self, CodecError> {
        let registration = required("ApplicantRegistered.registration", message.registration)?.try_into()?;
        Ok(Event::ApplicantRegistered { registration })
    }
}

impl TryFrom<v1::ApplicantVerified> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ApplicantVerified) -> Result<Self, CodecError> {
        Ok(Event::ApplicantVerified {
            credit_code: parse("ApplicantVerified.credit_code", &message.credit_code)?,
        })
    }
}

impl TryFrom<v1::ApplicantRejected> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ApplicantRejected) -> Result<Self, CodecError> {
        Ok(Event::ApplicantRejected {
            credit_code: parse("ApplicantRejected.credit_code", &message.credit_code)?,
            reason: message.reason,
        })
    }
}

impl TryFrom<v1::ApplicantSuspended> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ApplicantSuspended) -> Result<Self, CodecError> {
        Ok(Event::ApplicantSuspended {
            credit_code: parse("ApplicantSuspended.credit_code", &message.credit_code)?,
            reason: message.reason,
        })
    }
}

impl TryFrom<v1::VoucherIssued> for Event {
    type Error = CodecError;

    fn try_from(message: v1::VoucherIssued) -> Result<Self, CodecError> {
        Ok(Event::VoucherIssued {
            voucher_id: uuid("VoucherIssued.voucher_id", &message.voucher_id)?,
            batch_id: uuid("VoucherIssued.batch_id", &message.batch_id)?,
            jurisdiction: parse("VoucherIssued.jurisdiction", &message.jurisdiction)?,
            applicant: parse("VoucherIssued.applicant", &message.applicant)?,
            kind: parse("VoucherIssued.kind", &message.kind)?,
            face_value: parse("VoucherIssued.face_value", &message.face_value)?,
            cap_year: message.cap_year,
            annual_cap: parse("VoucherIssued.annual_cap", &message.annual_cap)?,
            valid_until: date("VoucherIssued.valid_until_days", message.valid_until_days)?,
        })
    }
}

impl TryFrom<v1::ProviderApplied> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ProviderApplied) -> Result<Self, CodecError> {
        let application = required("ProviderApplied.application", message.application)?.try_into()?;
        Ok(Event::ProviderApplied { application })
    }
}

impl TryFrom<v1::ProviderApproved> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ProviderApproved) -> Result<Self, CodecError> {
        Ok(Event::ProviderApproved {
            provider: parse("ProviderApproved.provider", &message.provider)?,
            announced_on: date("ProviderApproved.announced_on_days", message.announced_on_days)?,
            announcement_closes: date(
                "ProviderApproved.announcement_closes_days",
                message.announcement_closes_days,
            )?,
        })
    }
}

impl TryFrom<v1::ProviderRejected> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ProviderRejected) -> Result<Self, CodecError> {
        Ok(Event::ProviderRejected {
            provider: parse("ProviderRejected.provider", &message.provider)?,
            reason: message.reason,
        })
    }
}

impl TryFrom<v1::ProviderAdmitted> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ProviderAdmitted) -> Result<Self, CodecError> {
        Ok(Event::ProviderAdmitted { provider: parse("ProviderAdmitted.provider", &message.provider)? })
    }
}

impl TryFrom<v1::ProviderSuspended> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ProviderSuspended) -> Result<Self, CodecError> {
        Ok(Event::ProviderSuspended {
            provider: parse("ProviderSuspended.provider", &message.provider)?,
            reason: message.reason,
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

impl TryFrom<v1::ContractSigned> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ContractSigned) -> Result<Self, CodecError> {
        Ok(Event::ContractSigned {
            contract_id: uuid("ContractSigned.contract_id", &message.contract_id)?,
            party: party("ContractSigned.party", &message.party)?,
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

impl TryFrom<v1::ContractRejected> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ContractRejected) -> Result<Self, CodecError> {
        Ok(Event::ContractRejected {
            contract_id: uuid("ContractRejected.contract_id", &message.contract_id)?,
            reason: message.reason,
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

impl TryFrom<v1::RedemptionRequested> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionRequested) -> Result<Self, CodecError> {
        Ok(Event::RedemptionRequested {
            redemption_id: uuid("RedemptionRequested.redemption_id", &message.redemption_id)?,
            contract_id: uuid("RedemptionRequested.contract_id", &message.contract_id)?,
            jurisdiction: parse("RedemptionRequested.jurisdiction", &message.jurisdiction)?,
            provider: parse("RedemptionRequested.provider", &message.provider)?,
            amount: parse("RedemptionRequested.amount", &message.amount)?,
            invoice: required("RedemptionRequested.invoice", message.invoice)?.try_into()?,
            remittance_proof: required("RedemptionRequested.remittance_proof", message.remittance_proof)?
                .try_into()?,
            results: message.results.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
        })
    }
}

impl TryFrom<v1::RedemptionReviewed> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionReviewed) -> Result<Self, CodecError> {
        Ok(Event::RedemptionReviewed {
            redemption_id: uuid("RedemptionReviewed.redemption_id", &message.redemption_id)?,
            jurisdiction: parse("RedemptionReviewed.jurisdiction", &message.jurisdiction)?,
            provider: parse("RedemptionReviewed.provider", &message.provider)?,
            fiscal_year: message.fiscal_year,
            outcome: required("RedemptionReviewed.outcome", message.outcome)?.try_into()?,
            approved: message
                .approved
                .map(|amount| parse("RedemptionReviewed.approved", &amount))
                .transpose()?,
            returned: message
                .returned
                .map(|amount| parse("RedemptionReviewed.returned", &amount))
                .transpose()?,
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

impl TryFrom<v1::RedemptionAnnouncementClosed> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionAnnouncementClosed) -> Result<Self, CodecError> {
        Ok(Event::RedemptionAnnouncementClosed {
            announcement_id: uuid("RedemptionAnnouncementClosed.announcement_id", &message.announcement_id)?,
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

impl TryFrom<v1::RedemptionDisbursed> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionDisbursed) -> Result<Self, CodecError> {
        Ok(Event::RedemptionDisbursed {
            redemption_id: uuid("RedemptionDisbursed.redemption_id", &message.redemption_id)?,
            jurisdiction: parse("RedemptionDisbursed.jurisdiction", &message.jurisdiction)?,
            provider: parse("RedemptionDisbursed.provider", &message.provider)?,
            amount: parse("RedemptionDisbursed.amount", &message.amount)?,
            payment_reference: message.payment_reference,
        })
    }
}

impl TryFrom<v1::RedemptionDenied> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionDenied) -> Result<Self, CodecError> {
        Ok(Event::RedemptionDenied {
            redemption_id: uuid("RedemptionDenied.redemption_id", &message.redemption_id)?,
            jurisdiction: parse("RedemptionDenied.jurisdiction", &message.jurisdiction)?,
            provider: parse("RedemptionDenied.provider", &message.provider)?,
            fiscal_year: message.fiscal_year,
            ground: denial_ground("RedemptionDenied.ground", &message.ground)?,
            reason: message.reason,
            returned: parse("RedemptionDenied.returned", &message.returned)?,
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

impl TryFrom<v1::VoucherExpired> for Event {
    type Error = CodecError;

    fn try_from(message: v1::VoucherExpired) -> Result<Self, CodecError> {
        Ok(Event::VoucherExpired {
            voucher_id: uuid("VoucherExpired.voucher_id", &message.voucher_id)?,
            jurisdiction: parse("VoucherExpired.jurisdiction", &message.jurisdiction)?,
            fiscal_year: message.fiscal_year,
            returned: message.returned.map(|amount| parse("VoucherExpired.returned", &amount)).transpose()?,
        })
    }
}

impl TryFrom<v1::ReturnedAfterExpiry> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ReturnedAfterExpiry) -> Result<Self, CodecError> {
        Ok(Event::ReturnedAfterExpiry {
            voucher_id: uuid("ReturnedAfterExpiry.voucher_id", &message.voucher_id)?,
            contract_id: uuid("ReturnedAfterExpiry.contract_id", &message.contract_id)?,
            jurisdiction: parse("ReturnedAfterExpiry.jurisdiction", &message.jurisdiction)?,
            fiscal_year: message.fiscal_year,
            returned: parse("ReturnedAfterExpiry.returned", &message.returned)?,
        })
    }
}

impl TryFrom<v1::RedemptionWindowLapsed> for Event {
    type Error = CodecError;

    fn try_from(message: v1::RedemptionWindowLapsed) -> Result<Self, CodecError> {
        Ok(Event::RedemptionWindowLapsed {
            contract_id: uuid("RedemptionWindowLapsed.contract_id", &message.contract_id)?,
            jurisdiction: parse("RedemptionWindowLapsed.jurisdiction", &message.jurisdiction)?,
            provider: parse("RedemptionWindowLapsed.provider", &message.provider)?,
            fiscal_year: message.fiscal_year,
            returned: parse("RedemptionWindowLapsed.returned", &message.returned)?,
        })
    }
}

// --- Nested messages ----------------------------------------------------------------------------------------

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

impl From<&domain::event::Registration> for v1::Registration {
    fn from(registration: &domain::event::Registration) -> Self {
        v1::Registration {
            credit_code: registration.credit_code.as_str().to_owned(),
            name: registration.name.clone(),
            kind: registration.kind.as_str().to_owned(),
            jurisdiction: registration.jurisdiction.as_str().to_owned(),
            industry: registration.industry.clone(),
            project_code: registration.project_code.clone(),
            independent_legal_person: registration.independent_legal_person,
            tax_compliant: registration.tax_compliant,
        }
    }
}

impl TryFrom<v1::Registration> for domain::event::Registration {
    type Error = CodecError;

    fn try_from(message: v1::Registration) -> Result<Self, CodecError> {
        Ok(domain::event::Registration {
            credit_code: parse("Registration.credit_code", &message.credit_code)?,
            name: message.name,
            kind: parse("Registration.kind", &message.kind)?,
            jurisdiction: parse("Registration.jurisdiction", &message.jurisdiction)?,
            industry: message.industry,
            project_code: message.project_code,
            independent_legal_person: message.independent_legal_person,
            tax_compliant: message.tax_compliant,
        })
    }
}

impl From<&Document> for v1::Document {
    fn from(document: &Document) -> Self {
        v1::Document {
            sha256: document.sha256.to_string(),
            name: document.name.clone(),
            size_bytes: document.size_bytes,
        }
    }
}

/// Checks the digest only: a document's name and size were checked ([`Document::validate`]) when the event
/// was decided, and a recorded fact is not judged again by today's rules.
impl TryFrom<v1::Document> for Document {
    type Error = CodecError;

    fn try_from(message: v1::Document) -> Result<Self, CodecError> {
        Ok(Document {
            sha256: sha256("Document.sha256", &message.sha256)?,
            name: message.name,
            size_bytes: message.size_bytes,
        })
    }
}

impl From<&ProviderApplication> for v1::ProviderApplication {
    fn from(application: &ProviderApplication) -> Self {
        v1::ProviderApplication {
            provider: application.provider.as_str().to_owned(),
            name: application.name.clone(),
            jurisdiction: application.jurisdiction.as_str().to_owned(),
            categories: application.categories.iter().cloned().collect(),
            qualifications: application.qualifications.iter().map(Into::into).collect(),
            contact: application.contact.clone(),
        }
    }
}

impl TryFrom<v1::ProviderApplication> for ProviderApplication {
    type Error = CodecError;

    fn try_from(message: v1::ProviderApplication) -> Result<Self, CodecError> {
        Ok(ProviderApplication {
            provider: parse("ProviderApplication.provider", &message.provider)?,
            name: message.name,
            jurisdiction: parse("ProviderApplication.jurisdiction", &message.jurisdiction)?,
            categories: set("ProviderApplication.categories", message.categories)?,
            qualifications: message
                .qualifications
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_, _>>()?,
            contact: message.contact,
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

impl From<&ReviewOutcome> for v1::ReviewOutcome {
    fn from(outcome: &ReviewOutcome) -> Self {
        use v1::review_outcome::{Decision, Full, Reduced, Rejected};
        let decision = match outcome {
            ReviewOutcome::Full => Decision::Full(Full {}),
            ReviewOutcome::Reduced { approved, reason } => {
                Decision::Reduced(Reduced { approved: approved.to_string(), reason: reason.clone() })
            }
            ReviewOutcome::Rejected { reason } => Decision::Rejected(Rejected { reason: reason.clone() }),
        };
        v1::ReviewOutcome { decision: Some(decision) }
    }
}

impl TryFrom<v1::ReviewOutcome> for ReviewOutcome {
    type Error = CodecError;

    fn try_from(message: v1::ReviewOutcome) -> Result<Self, CodecError> {
        use v1::review_outcome::Decision;
        Ok(match required("ReviewOutcome.decision", message.decision)? {
            Decision::Full(_) => ReviewOutcome::Full,
            Decision::Reduced(reduced) => ReviewOutcome::Reduced {
                approved: parse("ReviewOutcome.Reduced.approved", &reduced.approved)?,
                reason: reduced.reason,
            },
            Decision::Rejected(rejected) => ReviewOutcome::Rejected { reason: rejected.reason },
        })
    }
}

// --- Closed sets the domain names only through serde ------------------------------------------------------

/// Defines, for a closed set of the domain that has no `FromStr`, the function giving each value's stored
/// name and the function parsing it back (refusing any other name with the domain's [`UnknownName`]). The
/// names are the serde names (snake case); the encoding match is exhaustive, so a new variant fails to
/// compile until it is named here.
macro_rules! stored_names {
    ($type:ty, $what:literal, $name_fn:ident, $parse_fn:ident, { $($variant:path => $name:literal),+ $(,)? }) => {
        #[doc = concat!("The stored name of a ", $what, ".")]
        fn $name_fn(value: $type) -> &'static str {
            match value {
                $($variant => $name),+
            }
        }

        #[doc = concat!("A ", $what, " stored by name in `field`.")]
        fn $parse_fn(field: &'static str, text: &str) -> Result<$type, CodecError> {
            match text {
                $($name => Ok($variant),)+
                _ => Err(invalid(
                    field,
                    UnknownName { what: $what, value: text.to_owned(), expected: [$($name),+].join(", ") },
                )),
            }
        }
    };
}

stored_names!(Party, "party", party_name, party, {
    Party::Provider => "provider",
    Party::Applicant => "applicant",
});

stored_names!(Ruling, "ruling", ruling_name, ruling, {
    Ruling::Upheld => "upheld",
    Ruling::Dismissed => "dismissed",
});

stored_names!(Finding, "finding", finding_name, finding, {
    Finding::Compliant => "compliant",
    Finding::Irregular => "irregular",
    Finding::RefusedCooperation => "refused_cooperation",
});

stored_names!(DenialGround, "denial ground", denial_ground_name, denial_ground, {
    DenialGround::Fraud => "fraud",
    DenialGround::RefusedCooperation => "refused_cooperation",
});

// --- Field helpers ------------------------------------------------------------------------------------------

/// An [`CodecError::InvalidField`] for `field` (`Message.field`).
pub(crate) fn invalid(field: &'static str, reason: impl Display) -> CodecError {
    CodecError::InvalidField { field, reason: reason.to_string() }
}

/// The value of a nested message field that must be present (proto3 makes every message field optional).
fn required<T>(field: &'static str, value: Option<T>) -> Result<T, CodecError> {
    value.ok_or_else(|| invalid(field, "missing"))
}

/// A string field parsed with the domain type's own parser: amounts, shares, names of closed sets, credit
/// codes. The error quotes the refused value (the domain's messages do).
pub(crate) fn parse<T>(field: &'static str, text: &str) -> Result<T, CodecError>
where
    T: FromStr,
    T::Err: Display,
{
    text.parse().map_err(|error| invalid(field, error))
}

/// A UUID field (16 bytes).
pub(crate) fn uuid(field: &'static str, bytes: &[u8]) -> Result<Uuid, CodecError> {
    uuid_from_bytes(bytes).map_err(|error| invalid(field, error))
}

/// A date field (days since 1970-01-01).
pub(crate) fn date(field: &'static str, days: i32) -> Result<NaiveDate, CodecError> {
    date_from_days(days).map_err(|error| invalid(field, error))
}

/// A list of UUIDs stored as a repeated bytes field (16 bytes each), kept in its order.
fn uuids(field: &'static str, values: &[Vec<u8>]) -> Result<Vec<Uuid>, CodecError> {
    values.iter().map(|bytes| uuid(field, bytes)).collect()
}

/// A SHA-256 digest stored as its 64 lowercase hexadecimal characters.
fn sha256(field: &'static str, text: &str) -> Result<Sha256Hex, CodecError> {
    Sha256Hex::parse(text).map_err(|error| invalid(field, error))
}

/// A `u8` stored in a `uint32` field (protobuf has no smaller integer); a value above 255 is refused.
fn byte(field: &'static str, value: u32) -> Result<u8, CodecError> {
    u8::try_from(value).map_err(|_| invalid(field, format_args!("{value} is out of range 0-255")))
}

/// A set stored as a repeated string field. A value listed twice is refused: the encoder never writes one,
/// and collapsing it would hide a damaged record.
fn set<T>(field: &'static str, values: Vec<String>) -> Result<BTreeSet<T>, CodecError>
where
    T: FromStr + Ord,
    T::Err: Display,
{
    let mut parsed = BTreeSet::new();
    for value in values {
        if !parsed.insert(parse(field, &value)?) {
            return Err(invalid(field, format_args!("{value:?} is listed twice")));
        }
    }
    Ok(parsed)
}

/// A set of dates stored as a repeated day-count field; a date listed twice is refused, as in [`set`].
fn date_set(field: &'static str, days: &[i32]) -> Result<BTreeSet<NaiveDate>, CodecError> {
    let mut parsed = BTreeSet::new();
    for &day in days {
        let value = date(field, day)?;
        if !parsed.insert(value) {
            return Err(invalid(field, format_args!("{value} is listed twice")));
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use domain::event::{BatchGuide, Registration};
    use domain::{ApplicantKind, Calendar, Cny, CreditCode, Jurisdiction, PolicyBook, Share};
    use proptest::prelude::*;

    use super::*;

    fn code(body: &str) -> CreditCode {
        domain::credit_code::with_check_character(body).unwrap()
    }

    fn cny(text: &str) -> Cny {
        text.parse().unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn id(text: &str) -> Uuid {
        text.parse().unwrap()
    }

    fn strings(values: &[&str]) -> BTreeSet<String> {
        values.iter().map(|&value| value.to_owned()).collect()
    }

    /// Encodes `event`, checks the type name, decodes it again and expects the same event.
    fn check_roundtrip(event: &Event) {
        let (event_type, schema_version, payload) = encode_event(event);
        assert_eq!(event_type, event.event_type());
        assert_eq!(schema_version, 1);
        assert_eq!(decode_event(event_type, schema_version, &payload).as_ref(), Ok(event));
    }

    fn guide() -> BatchGuide {
        BatchGuide {
            jurisdiction: Jurisdiction::Guiyang,
            fiscal_year: 2025,
            name: "2025年第一批助企券".to_owned(),
            total: cny("10000000.00"),
            face_value: cny("50000.00"),
            eligible_kinds: [ApplicantKind::Enterprise, ApplicantKind::ProjectEntity].into(),
            eligible_industries: strings(&["大数据电子信息", "先进装备制造", "新能源汽车"]),
            eligible_categories: strings(&["检验检测", "研发设计", "知识产权"]),
            claim_opens: day("2025-03-03"),
            claim_closes: day("2025-03-31"),
            valid_until: day("2025-12-31"),
            redemption_days: 30,
            max_voucher_share: "0.8".parse().unwrap(),
            policy_id: "measures-2023".to_owned(),
        }
    }

    fn registration() -> Registration {
        Registration {
            credit_code: code("91520100MA6H00000"),
            name: "贵阳某某电子科技有限公司".to_owned(),
            kind: ApplicantKind::Enterprise,
            jurisdiction: Jurisdiction::Guiyang,
            industry: Some("大数据电子信息".to_owned()),
            project_code: None,
            independent_legal_person: true,
            tax_compliant: true,
        }
    }

    fn voucher_issued() -> Event {
        Event::VoucherIssued {
            voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
            batch_id: id("01956a3e-0000-7000-8000-000000000001"),
            jurisdiction: Jurisdiction::Guian,
            applicant: code("91520900MA6J12345"),
            kind: ApplicantKind::ProjectEntity,
            face_value: cny("20000.00"),
            cap_year: 2025,
            annual_cap: cny("200000.00"),
            valid_until: day("2025-12-31"),
        }
    }

    #[test]
    fn policy_published_roundtrips() {
        let policy = PolicyBook::shipped().versions()[0].clone();
        check_roundtrip(&Event::PolicyPublished { policy });
    }

    #[test]
    fn a_policy_published_before_joint_signatures_decodes_with_no_jurisdictions() {
        // The bytes an older build wrote: PolicyVersion without field 14.
        let mut policy = PolicyBook::shipped().versions()[0].clone();
        let mut old = v1::PolicyVersion::from(&policy);
        old.jurisdictions.clear();
        let payload = v1::PolicyPublished { policy: Some(old) }.encode_to_vec();
        policy.jurisdictions.clear();
        let decoded = decode_event("PolicyPublished", 1, &payload);
        assert_eq!(decoded, Ok(Event::PolicyPublished { policy: policy.clone() }));
        assert!(Jurisdiction::ALL.iter().all(|j| policy.covers(*j)));
    }

    #[test]
    fn calendar_year_published_roundtrips() {
        let calendar_year = Calendar::shipped().year(2024).cloned().unwrap();
        assert!(!calendar_year.holidays.is_empty() && !calendar_year.working_weekends.is_empty());
        check_roundtrip(&Event::CalendarYearPublished { calendar_year });
    }

    #[test]
    fn budget_appropriated_roundtrips() {
        check_roundtrip(&Event::BudgetAppropriated {
            jurisdiction: Jurisdiction::Guiyang,
            fiscal_year: 2025,
            amount: cny("50000000.00"),
        });
    }

    #[test]
    fn batch_published_roundtrips() {
        check_roundtrip(&Event::BatchPublished {
            batch_id: id("01956a3e-0000-7000-8000-000000000001"),
            guide: guide(),
        });
    }

    #[test]
    fn batch_closed_roundtrips_with_and_without_money_returned() {
        for returned in [Some(cny("1250.50")), None] {
            check_roundtrip(&Event::BatchClosed {
                batch_id: id("01956a3e-0000-7000-8000-000000000001"),
                jurisdiction: Jurisdiction::Guian,
                fiscal_year: 2025,
                returned,
            });
        }
    }

    #[test]
    fn applicant_registered_roundtrips_for_an_enterprise_and_a_project_entity() {
        check_roundtrip(&Event::ApplicantRegistered { registration: registration() });
        let project = Registration {
            credit_code: code("12520900MB1K00007"),
            name: "贵安新区某数据中心项目".to_owned(),
            kind: ApplicantKind::ProjectEntity,
            jurisdiction: Jurisdiction::Guian,
            industry: None,
            project_code: Some("2401-520900-04-01-123456".to_owned()),
            independent_legal_person: true,
            tax_compliant: false,
        };
        check_roundtrip(&Event::ApplicantRegistered { registration: project });
    }

    #[test]
    fn applicant_verified_rejected_and_suspended_roundtrip() {
        let credit_code = code("91520100MA6H00000");
        check_roundtrip(&Event::ApplicantVerified { credit_code: credit_code.clone() });
        check_roundtrip(&Event::ApplicantRejected {
            credit_code: credit_code.clone(),
            reason: "营业执照与申报主体不一致".to_owned(),
        });
        check_roundtrip(&Event::ApplicantSuspended { credit_code, reason: "虚假申报".to_owned() });
    }

    #[test]
    fn voucher_issued_roundtrips() {
        check_roundtrip(&voucher_issued());
    }

    fn digest(content: &str) -> Sha256Hex {
        use sha2::{Digest, Sha256};
        Sha256Hex::parse(&hex::encode(Sha256::digest(content.as_bytes()))).unwrap()
    }

    fn document(name: &str, size_bytes: u64) -> Document {
        Document { sha256: digest(name), name: name.to_owned(), size_bytes }
    }

    fn provider() -> CreditCode {
        code("91520115MA6DP1234")
    }

    fn contract_terms() -> ContractTerms {
        ContractTerms {
            voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
            jurisdiction: Jurisdiction::Guiyang,
            provider: provider(),
            applicant: code("91520100MA6H00000"),
            category: "检验检测".to_owned(),
            description: "电磁兼容检测及型式试验报告".to_owned(),
            term_start: day("2025-04-01"),
            term_end: day("2025-06-30"),
            total: cny("62500.00"),
            voucher_amount: cny("50000.00"),
            document_sha256: digest("检测服务合同（已签章）.pdf"),
        }
    }

    /// Lists sample events per variant and generates, from the same list, an exhaustive match over
    /// [`Event`]'s variants: a variant added to the domain fails to compile here until it is listed, and it
    /// cannot be listed without at least one sample.
    macro_rules! every_variant {
        ($($variant:ident => [$($sample:expr),+ $(,)?]),+ $(,)?) => {
            /// The name each variant is listed under (an exhaustive match: no wildcard).
            fn listed_as(event: &Event) -> &'static str {
                match event {
                    $(Event::$variant { .. } => stringify!($variant)),+
                }
            }

            /// Every variant with the samples listed for it: (variant name, sample).
            fn every_event_variant() -> Vec<(&'static str, Event)> {
                vec![$($((stringify!($variant), $sample)),+),+]
            }
        };
    }

    every_variant! {
        PolicyPublished => [Event::PolicyPublished { policy: PolicyBook::shipped().versions()[0].clone() }],
        PolicySigned => [Event::PolicySigned {
            policy: PolicyBook::shipped().versions()[0].clone(),
            jurisdiction: Jurisdiction::Guian,
        }],
        CalendarYearPublished => [Event::CalendarYearPublished {
            calendar_year: Calendar::shipped().year(2024).cloned().unwrap(),
        }],
        BudgetAppropriated => [Event::BudgetAppropriated {
            jurisdiction: Jurisdiction::Guiyang,
            fiscal_year: 2025,
            amount: cny("50000000.00"),
        }],
        BatchPublished => [Event::BatchPublished {
            batch_id: id("01956a3e-0000-7000-8000-000000000001"),
            guide: guide(),
        }],
        BatchClosed => [
            Event::BatchClosed {
                batch_id: id("01956a3e-0000-7000-8000-000000000001"),
                jurisdiction: Jurisdiction::Guiyang,
                fiscal_year: 2025,
                returned: Some(cny("1250.50")),
            },
            Event::BatchClosed {
                batch_id: id("01956a3e-0000-7000-8000-000000000001"),
                jurisdiction: Jurisdiction::Guiyang,
                fiscal_year: 2025,
                returned: None,
            },
        ],
        ApplicantRegistered => [Event::ApplicantRegistered { registration: registration() }],
        ApplicantVerified => [Event::ApplicantVerified { credit_code: code("91520100MA6H00000") }],
        ApplicantRejected => [Event::ApplicantRejected {
            credit_code: code("91520100MA6H00000"),
            reason: "营业执照与申报主体不一致".to_owned(),
        }],
        ApplicantSuspended => [Event::ApplicantSuspended {
            credit_code: code("91520100MA6H00000"),
            reason: "虚假申报".to_owned(),
        }],
        VoucherIssued => [voucher_issued()],
        ProviderApplied => [Event::ProviderApplied {
            application: ProviderApplication {
                provider: provider(),
                name: "贵州某某检测技术有限公司".to_owned(),
                jurisdiction: Jurisdiction::Guiyang,
                categories: strings(&["检验检测", "研发设计"]),
                qualifications: vec![
                    document("营业执照.pdf", 482_113),
                    document("CMA资质认定证书.pdf", 1_204_377),
                    document("CNAS实验室认可证书.pdf", 986_540),
                ],
                contact: "0851-86801234".to_owned(),
            },
        }],
        ProviderApproved => [Event::ProviderApproved {
            provider: provider(),
            announced_on: day("2025-02-10"),
            announcement_closes: day("2025-02-14"),
        }],
        ProviderRejected => [Event::ProviderRejected {
            provider: provider(),
            reason: "资质证书已过有效期".to_owned(),
        }],
        ProviderAdmitted => [Event::ProviderAdmitted { provider: provider() }],
        ProviderSuspended => [Event::ProviderSuspended {
            provider: provider(),
            reason: "与申请主体串通虚开发票".to_owned(),
        }],
        ObjectionFiled => [
            Event::ObjectionFiled {
                objection_id: id("01957b10-1111-7000-8000-00000000000a"),
                target: ObjectionTarget::Provider { provider: provider() },
                jurisdiction: Jurisdiction::Guiyang,
                text: "该机构检测报告存在代签情况".to_owned(),
            },
            Event::ObjectionFiled {
                objection_id: id("01957b10-1111-7000-8000-00000000000b"),
                target: ObjectionTarget::Redemption { redemption_id: id("01957a00-5555-7000-8000-000000000003") },
                jurisdiction: Jurisdiction::Guian,
                text: "服务并未实际完成".to_owned(),
            },
        ],
        ObjectionRuled => [
            Event::ObjectionRuled {
                objection_id: id("01957b10-1111-7000-8000-00000000000a"),
                ruling: Ruling::Upheld,
                reason: "经核查情况属实".to_owned(),
            },
            Event::ObjectionRuled {
                objection_id: id("01957b10-1111-7000-8000-00000000000b"),
                ruling: Ruling::Dismissed,
                reason: "服务成果材料齐全".to_owned(),
            },
        ],
        ContractSubmitted => [
            Event::ContractSubmitted {
                contract_id: id("01956f00-2222-7000-8000-000000000002"),
                terms: contract_terms(),
                submitted_by: Party::Provider,
            },
            Event::ContractSubmitted {
                contract_id: id("01956f00-2222-7000-8000-000000000003"),
                terms: ContractTerms { jurisdiction: Jurisdiction::Guian, ..contract_terms() },
                submitted_by: Party::Applicant,
            },
        ],
        ContractSigned => [
            Event::ContractSigned { contract_id: id("01956f00-2222-7000-8000-000000000002"), party: Party::Applicant },
            Event::ContractSigned { contract_id: id("01956f00-2222-7000-8000-000000000003"), party: Party::Provider },
        ],
        ContractFiled => [Event::ContractFiled {
            contract_id: id("01956f00-2222-7000-8000-000000000002"),
            voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
            jurisdiction: Jurisdiction::Guiyang,
            amount: cny("50000.00"),
            filed_on: day("2025-04-02"),
        }],
        ContractRejected => [Event::ContractRejected {
            contract_id: id("01956f00-2222-7000-8000-000000000002"),
            reason: "合同未加盖骑缝章".to_owned(),
        }],
        ContractCancelled => [
            Event::ContractCancelled {
                contract_id: id("01956f00-2222-7000-8000-000000000002"),
                voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
                jurisdiction: Jurisdiction::Guiyang,
                released: Some(cny("50000.00")),
                reason: "双方协商解除".to_owned(),
            },
            Event::ContractCancelled {
                contract_id: id("01956f00-2222-7000-8000-000000000003"),
                voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
                jurisdiction: Jurisdiction::Guian,
                released: None,
                reason: "提交后未获对方签署".to_owned(),
            },
        ],
        ServiceCompleted => [Event::ServiceCompleted {
            contract_id: id("01956f00-2222-7000-8000-000000000002"),
            voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
            jurisdiction: Jurisdiction::Guiyang,
            provider: provider(),
            amount: cny("50000.00"),
            completed_on: day("2025-06-27"),
            redemption_deadline: day("2025-07-27"),
        }],
        ServiceRated => [Event::ServiceRated {
            contract_id: id("01956f00-2222-7000-8000-000000000002"),
            provider: provider(),
            category: "检验检测".to_owned(),
            quality: 5,
            timeliness: 4,
            professionalism: 1,
            text: "报告质量好，出具略有延迟".to_owned(),
        }],
        RedemptionRequested => [
            Event::RedemptionRequested {
                redemption_id: id("01957a00-5555-7000-8000-000000000003"),
                contract_id: id("01956f00-2222-7000-8000-000000000002"),
                jurisdiction: Jurisdiction::Guiyang,
                provider: provider(),
                amount: cny("50000.00"),
                invoice: document("增值税专用发票.pdf", 88_210),
                remittance_proof: document("银行回单-自付部分.pdf", 64_019),
                results: vec![document("检测报告.pdf", 3_402_118), document("型式试验记录.xlsx", 51_200)],
            },
            Event::RedemptionRequested {
                redemption_id: id("01957a00-5555-7000-8000-000000000004"),
                contract_id: id("01956f00-2222-7000-8000-000000000003"),
                jurisdiction: Jurisdiction::Guian,
                provider: provider(),
                amount: cny("12000.00"),
                invoice: document("发票.pdf", 70_001),
                remittance_proof: document("回单.pdf", 30_002),
                results: Vec::new(),
            },
        ],
        RedemptionReviewed => [
            Event::RedemptionReviewed {
                redemption_id: id("01957a00-5555-7000-8000-000000000003"),
                jurisdiction: Jurisdiction::Guiyang,
                provider: provider(),
                fiscal_year: 2025,
                outcome: ReviewOutcome::Full,
                approved: Some(cny("50000.00")),
                returned: None,
            },
            Event::RedemptionReviewed {
                redemption_id: id("01957a00-5555-7000-8000-000000000004"),
                jurisdiction: Jurisdiction::Guian,
                provider: provider(),
                fiscal_year: 2025,
                outcome: ReviewOutcome::Reduced {
                    approved: cny("9600.00"),
                    reason: "部分服务内容不属于支持范围".to_owned(),
                },
                approved: Some(cny("9600.00")),
                returned: Some(cny("2400.00")),
            },
            Event::RedemptionReviewed {
                redemption_id: id("01957a00-5555-7000-8000-000000000005"),
                jurisdiction: Jurisdiction::Guiyang,
                provider: provider(),
                fiscal_year: 2024,
                outcome: ReviewOutcome::Rejected { reason: "发票与合同金额不符".to_owned() },
                approved: None,
                returned: Some(cny("30000.00")),
            },
        ],
        RedemptionsAnnounced => [Event::RedemptionsAnnounced {
            announcement_id: id("01957c00-6666-7000-8000-000000000001"),
            jurisdiction: Jurisdiction::Guiyang,
            // Not in ascending order: a list keeps its order.
            redemption_ids: vec![
                id("01957a00-5555-7000-8000-000000000005"),
                id("01957a00-5555-7000-8000-000000000003"),
            ],
            announced_on: day("2025-07-07"),
            closes_on: day("2025-07-11"),
        }],
        RedemptionAnnouncementClosed => [Event::RedemptionAnnouncementClosed {
            announcement_id: id("01957c00-6666-7000-8000-000000000001"),
        }],
        RedemptionStruck => [Event::RedemptionStruck {
            redemption_id: id("01957a00-5555-7000-8000-000000000003"),
            objection_id: id("01957b10-1111-7000-8000-00000000000b"),
            jurisdiction: Jurisdiction::Guiyang,
            provider: provider(),
            fiscal_year: 2025,
            returned: cny("50000.00"),
        }],
        RedemptionDisbursed => [Event::RedemptionDisbursed {
            redemption_id: id("01957a00-5555-7000-8000-000000000003"),
            jurisdiction: Jurisdiction::Guiyang,
            provider: provider(),
            amount: cny("50000.00"),
            payment_reference: "GZCZ-2025-07-001873".to_owned(),
        }],
        RedemptionDenied => [
            Event::RedemptionDenied {
                redemption_id: id("01957a00-5555-7000-8000-000000000004"),
                jurisdiction: Jurisdiction::Guian,
                provider: provider(),
                fiscal_year: 2025,
                ground: DenialGround::Fraud,
                reason: "伪造服务成果".to_owned(),
                returned: cny("9600.00"),
            },
            Event::RedemptionDenied {
                redemption_id: id("01957a00-5555-7000-8000-000000000006"),
                jurisdiction: Jurisdiction::Guiyang,
                provider: provider(),
                fiscal_year: 2025,
                ground: DenialGround::RefusedCooperation,
                reason: "拒不配合核查".to_owned(),
                returned: cny("20000.00"),
            },
        ],
        SampleDrawn => [Event::SampleDrawn {
            sample_id: id("01958000-7777-7000-8000-000000000001"),
            jurisdiction: Jurisdiction::Guiyang,
            year: 2025,
            size: 2,
            seed: "2025-审计-抽查-01".to_owned(),
            as_of_position: 18_446,
            population: 137,
            contract_ids: vec![
                id("01956f00-2222-7000-8000-000000000003"),
                id("01956f00-2222-7000-8000-000000000002"),
            ],
        }],
        FindingRecorded => [
            Event::FindingRecorded {
                sample_id: id("01958000-7777-7000-8000-000000000001"),
                contract_id: id("01956f00-2222-7000-8000-000000000002"),
                finding: Finding::Compliant,
                note: String::new(),
            },
            Event::FindingRecorded {
                sample_id: id("01958000-7777-7000-8000-000000000001"),
                contract_id: id("01956f00-2222-7000-8000-000000000003"),
                finding: Finding::Irregular,
                note: "服务成果与合同约定不符".to_owned(),
            },
            Event::FindingRecorded {
                sample_id: id("01958000-7777-7000-8000-000000000001"),
                contract_id: id("01956f00-2222-7000-8000-000000000004"),
                finding: Finding::RefusedCooperation,
                note: "未按期提供原始记录".to_owned(),
            },
        ],
        ClawbackOrdered => [Event::ClawbackOrdered {
            clawback_id: id("01958100-8888-7000-8000-000000000001"),
            redemption_id: id("01957a00-5555-7000-8000-000000000003"),
            jurisdiction: Jurisdiction::Guiyang,
            provider: provider(),
            amount: cny("50000.00"),
            reason: "审计发现虚构服务".to_owned(),
        }],
        ClawbackRecovered => [Event::ClawbackRecovered {
            clawback_id: id("01958100-8888-7000-8000-000000000001"),
            jurisdiction: Jurisdiction::Guiyang,
            amount: cny("20000.00"),
        }],
        ReferralRecorded => [Event::ReferralRecorded {
            referral_id: id("01958200-9999-7000-8000-000000000001"),
            party: provider(),
            authority: "贵阳市公安局经济犯罪侦查支队".to_owned(),
            note: "涉嫌骗取财政资金".to_owned(),
        }],
        VoucherExpired => [
            Event::VoucherExpired {
                voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
                jurisdiction: Jurisdiction::Guian,
                fiscal_year: 2025,
                returned: Some(cny("8000.00")),
            },
            Event::VoucherExpired {
                voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8c"),
                jurisdiction: Jurisdiction::Guiyang,
                fiscal_year: 2025,
                returned: None,
            },
        ],
        RedemptionWindowLapsed => [Event::RedemptionWindowLapsed {
            contract_id: id("01956f00-2222-7000-8000-000000000002"),
            jurisdiction: Jurisdiction::Guiyang,
            provider: provider(),
            fiscal_year: 2025,
            returned: cny("50000.00"),
        }],
        ReturnedAfterExpiry => [Event::ReturnedAfterExpiry {
            voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
            contract_id: id("01956f00-2222-7000-8000-000000000002"),
            jurisdiction: Jurisdiction::Guian,
            fiscal_year: 2025,
            returned: cny("1200.50"),
        }],
    }

    #[test]
    fn every_event_variant_roundtrips() {
        // `listed_as` is an exhaustive match generated from the same list as the samples, so the list names
        // every variant; checking each sample against the name it is listed under leaves no variant untested.
        for (listed, event) in every_event_variant() {
            assert_eq!(listed_as(&event), listed, "{event:?} is listed under {listed}");
            assert_eq!(event.event_type(), listed, "the stored type name is the variant's name");
            check_roundtrip(&event);
        }
    }

    #[test]
    fn stored_names_are_the_serde_names() {
        for party in [Party::Provider, Party::Applicant] {
            assert_eq!(party_name(party), party.as_str());
            assert_eq!(super::party("f", party.as_str()), Ok(party));
        }
        assert_eq!([ruling_name(Ruling::Upheld), ruling_name(Ruling::Dismissed)], ["upheld", "dismissed"]);
        assert_eq!(
            [Finding::Compliant, Finding::Irregular, Finding::RefusedCooperation].map(finding_name),
            ["compliant", "irregular", "refused_cooperation"]
        );
        assert_eq!(
            [DenialGround::Fraud, DenialGround::RefusedCooperation].map(denial_ground_name),
            ["fraud", "refused_cooperation"]
        );
    }

    #[test]
    fn bad_fields_of_the_regulation_events_are_named() {
        let signed =
            v1::ContractSigned { contract_id: uuid_to_bytes(Uuid::nil()), party: "Provider".to_owned() };
        let error = decode_event("ContractSigned", 1, &signed.encode_to_vec()).unwrap_err();
        assert_eq!(
            error,
            CodecError::InvalidField {
                field: "ContractSigned.party",
                reason: "unknown party \"Provider\"; expected one of: provider, applicant".to_owned(),
            }
        );

        let mut terms = v1::ContractTerms::from(&contract_terms());
        terms.document_sha256 = terms.document_sha256.to_uppercase();
        let submitted = v1::ContractSubmitted {
            contract_id: uuid_to_bytes(Uuid::nil()),
            terms: Some(terms),
            submitted_by: "provider".to_owned(),
        };
        let error = decode_event("ContractSubmitted", 1, &submitted.encode_to_vec()).unwrap_err();
        assert!(
            matches!(error, CodecError::InvalidField { field: "ContractTerms.document_sha256", .. }),
            "{error}"
        );

        let rated = v1::ServiceRated {
            contract_id: uuid_to_bytes(Uuid::nil()),
            provider: provider().as_str().to_owned(),
            category: "检验检测".to_owned(),
            quality: 5,
            timeliness: 256,
            professionalism: 5,
            text: String::new(),
        };
        let error = decode_event("ServiceRated", 1, &rated.encode_to_vec()).unwrap_err();
        assert_eq!(
            error,
            CodecError::InvalidField {
                field: "ServiceRated.timeliness",
                reason: "256 is out of range 0-255".to_owned()
            }
        );

        let announced = v1::RedemptionsAnnounced {
            announcement_id: uuid_to_bytes(Uuid::nil()),
            jurisdiction: "guiyang".to_owned(),
            redemption_ids: vec![uuid_to_bytes(Uuid::nil()), vec![7; 4]],
            announced_on_days: 0,
            closes_on_days: 4,
        };
        let error = decode_event("RedemptionsAnnounced", 1, &announced.encode_to_vec()).unwrap_err();
        assert!(matches!(
            error,
            CodecError::InvalidField { field: "RedemptionsAnnounced.redemption_ids", .. }
        ));

        let denied = v1::RedemptionDenied {
            redemption_id: uuid_to_bytes(Uuid::nil()),
            jurisdiction: "guian".to_owned(),
            provider: provider().as_str().to_owned(),
            fiscal_year: 2025,
            ground: "negligence".to_owned(),
            reason: String::new(),
            returned: "1.00".to_owned(),
        };
        let error = decode_event("RedemptionDenied", 1, &denied.encode_to_vec()).unwrap_err();
        assert!(matches!(error, CodecError::InvalidField { field: "RedemptionDenied.ground", .. }));
    }

    #[test]
    fn unset_oneofs_are_refused() {
        let filed = v1::ObjectionFiled {
            objection_id: uuid_to_bytes(Uuid::nil()),
            target: Some(v1::ObjectionTarget { target: None }),
            jurisdiction: "guiyang".to_owned(),
            text: String::new(),
        };
        assert_eq!(
            decode_event("ObjectionFiled", 1, &filed.encode_to_vec()),
            Err(CodecError::InvalidField { field: "ObjectionTarget.target", reason: "missing".to_owned() })
        );

        let reviewed = v1::RedemptionReviewed {
            redemption_id: uuid_to_bytes(Uuid::nil()),
            jurisdiction: "guiyang".to_owned(),
            provider: provider().as_str().to_owned(),
            fiscal_year: 2025,
            outcome: Some(v1::ReviewOutcome { decision: None }),
            approved: None,
            returned: None,
        };
        assert_eq!(
            decode_event("RedemptionReviewed", 1, &reviewed.encode_to_vec()),
            Err(CodecError::InvalidField { field: "ReviewOutcome.decision", reason: "missing".to_owned() })
        );
    }

    #[test]
    fn an_empty_provider_target_is_still_a_provider_target() {
        // A oneof case records its presence even at its default value, so an empty credit code is refused as
        // a credit code rather than read as "no target".
        let target =
            v1::ObjectionTarget { target: Some(v1::objection_target::Target::Provider(String::new())) };
        let decoded = v1::ObjectionTarget::decode(target.encode_to_vec().as_slice()).unwrap();
        let error = ObjectionTarget::try_from(decoded).unwrap_err();
        assert!(matches!(error, CodecError::InvalidField { field: "ObjectionTarget.provider", .. }));
    }

    #[test]
    fn budget_appropriated_payload_bytes_are_fixed() {
        // Golden bytes of the stored format. They may only change together with a new schema version of
        // BudgetAppropriated (and an upcaster for version 1): records already stored hold these bytes.
        let event = Event::BudgetAppropriated {
            jurisdiction: Jurisdiction::Guiyang,
            fiscal_year: 2025,
            amount: cny("1250.50"),
        };
        let (event_type, schema_version, payload) = encode_event(&event);
        assert_eq!((event_type, schema_version), ("BudgetAppropriated", 1));
        // 0a 07 "guiyang" | 10 e9 0f (2025) | 1a 07 "1250.50"
        assert_eq!(hex::encode(&payload), "0a0767756979616e6710e90f1a07313235302e3530");
        assert_eq!(decode_event(event_type, schema_version, &payload), Ok(event));
    }

    #[test]
    fn unknown_type_or_version_is_refused() {
        let (_, _, payload) = encode_event(&voucher_issued());
        assert_eq!(
            decode_event("VoucherRenamed", 1, &payload),
            Err(CodecError::UnknownEventType { event_type: "VoucherRenamed".to_owned(), schema_version: 1 })
        );
        assert_eq!(
            decode_event("VoucherIssued", 2, &payload),
            Err(CodecError::UnknownEventType { event_type: "VoucherIssued".to_owned(), schema_version: 2 })
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let amount = v1::BudgetAppropriated {
            jurisdiction: "guiyang".to_owned(),
            fiscal_year: 2025,
            amount: "1,250.50".to_owned(),
        };
        let error = decode_event("BudgetAppropriated", 1, &amount.encode_to_vec()).unwrap_err();
        assert!(matches!(error, CodecError::InvalidField { field: "BudgetAppropriated.amount", .. }));
        assert!(error.to_string().contains("\"1,250.50\""), "{error}");

        let jurisdiction = v1::BudgetAppropriated { jurisdiction: "Guiyang".to_owned(), ..amount };
        let error = decode_event("BudgetAppropriated", 1, &jurisdiction.encode_to_vec()).unwrap_err();
        assert!(matches!(error, CodecError::InvalidField { field: "BudgetAppropriated.jurisdiction", .. }));

        let credit_code = v1::ApplicantVerified { credit_code: "91520100MA6H000000".to_owned() };
        let error = decode_event("ApplicantVerified", 1, &credit_code.encode_to_vec()).unwrap_err();
        assert!(matches!(error, CodecError::InvalidField { field: "ApplicantVerified.credit_code", .. }));

        let short_id = v1::BatchPublished { batch_id: vec![1; 15], guide: Some((&guide()).into()) };
        assert_eq!(
            decode_event("BatchPublished", 1, &short_id.encode_to_vec()),
            Err(CodecError::InvalidField {
                field: "BatchPublished.batch_id",
                reason: "a UUID must be 16 bytes, found 15".to_owned()
            })
        );
    }

    #[test]
    fn missing_nested_message_is_refused() {
        let payload =
            v1::BatchPublished { batch_id: uuid_to_bytes(Uuid::nil()), guide: None }.encode_to_vec();
        assert_eq!(
            decode_event("BatchPublished", 1, &payload),
            Err(CodecError::InvalidField { field: "BatchPublished.guide", reason: "missing".to_owned() })
        );
    }

    #[test]
    fn duplicate_set_members_are_refused() {
        let mut message = v1::BatchGuide::from(&guide());
        message.eligible_kinds = vec!["enterprise".to_owned(), "enterprise".to_owned()];
        let error = domain::event::BatchGuide::try_from(message).unwrap_err();
        assert!(matches!(error, CodecError::InvalidField { field: "BatchGuide.eligible_kinds", .. }));

        let mut message = v1::CalendarYear::from(&Calendar::shipped().year(2024).cloned().unwrap());
        message.holidays_days.push(message.holidays_days[0]);
        let error = domain::CalendarYear::try_from(message).unwrap_err();
        assert!(matches!(error, CodecError::InvalidField { field: "CalendarYear.holidays_days", .. }));
    }

    #[test]
    fn sets_are_written_in_ascending_order() {
        let message = v1::BatchGuide::from(&guide());
        assert_eq!(message.eligible_kinds, ["enterprise", "project_entity"]);
        let mut sorted = message.eligible_industries.clone();
        sorted.sort();
        assert_eq!(message.eligible_industries, sorted);
    }

    #[test]
    fn garbage_payload_is_undecodable() {
        assert!(matches!(decode_event("VoucherIssued", 1, &[0xff; 7]), Err(CodecError::Decode(_))));
    }

    const MAX_FEN: u64 = 100_000_000_000_000;

    fn arb_cny() -> impl Strategy<Value = Cny> {
        (1..=MAX_FEN).prop_map(|fen| Cny::from_fen(fen).unwrap())
    }

    fn arb_date() -> impl Strategy<Value = NaiveDate> {
        (days_from_date(NaiveDate::MIN)..=days_from_date(NaiveDate::MAX))
            .prop_map(|days| date_from_days(days).unwrap())
    }

    fn arb_uuid() -> impl Strategy<Value = Uuid> {
        any::<u128>().prop_map(Uuid::from_u128)
    }

    fn arb_jurisdiction() -> impl Strategy<Value = Jurisdiction> {
        proptest::sample::select(Jurisdiction::ALL)
    }

    fn arb_credit_code() -> impl Strategy<Value = CreditCode> {
        "[0-9A-HJ-NPQRTUWXY]{17}".prop_map(|body| code(&body))
    }

    proptest! {
        #[test]
        fn prop_budget_appropriated_roundtrips(
            jurisdiction in arb_jurisdiction(),
            fiscal_year in any::<i32>(),
            amount in arb_cny(),
        ) {
            let event = Event::BudgetAppropriated { jurisdiction, fiscal_year, amount };
            let (event_type, schema_version, payload) = encode_event(&event);
            prop_assert_eq!(decode_event(event_type, schema_version, &payload), Ok(event));
        }

        #[test]
        fn prop_voucher_issued_roundtrips(
            voucher_id in arb_uuid(),
            batch_id in arb_uuid(),
            jurisdiction in arb_jurisdiction(),
            applicant in arb_credit_code(),
            kind in proptest::sample::select(ApplicantKind::ALL),
            face_value in arb_cny(),
            cap_year in any::<i32>(),
            annual_cap in arb_cny(),
            valid_until in arb_date(),
        ) {
            let event = Event::VoucherIssued {
                voucher_id, batch_id, jurisdiction, applicant, kind, face_value, cap_year, annual_cap, valid_until,
            };
            let (event_type, schema_version, payload) = encode_event(&event);
            prop_assert_eq!(decode_event(event_type, schema_version, &payload), Ok(event));
        }

        #[test]
        fn prop_share_roundtrips(basis_points in 1i64..=10_000) {
            let share = Share::new(rust_decimal::Decimal::new(basis_points, 4)).unwrap();
            let guide = BatchGuide { max_voucher_share: share, ..guide() };
            let event = Event::BatchPublished { batch_id: Uuid::nil(), guide };
            let (event_type, schema_version, payload) = encode_event(&event);
            prop_assert_eq!(decode_event(event_type, schema_version, &payload), Ok(event));
        }
    }
}
