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
        ("CalendarYearPublished", 1) => decode::<v1::CalendarYearPublished>(payload),
        ("BudgetAppropriated", 1) => decode::<v1::BudgetAppropriated>(payload),
        ("BatchPublished", 1) => decode::<v1::BatchPublished>(payload),
        ("BatchClosed", 1) => decode::<v1::BatchClosed>(payload),
        ("ApplicantRegistered", 1) => decode::<v1::ApplicantRegistered>(payload),
        ("ApplicantVerified", 1) => decode::<v1::ApplicantVerified>(payload),
        ("ApplicantRejected", 1) => decode::<v1::ApplicantRejected>(payload),
        ("ApplicantSuspended", 1) => decode::<v1::ApplicantSuspended>(payload),
        ("VoucherIssued", 1) => decode::<v1::VoucherIssued>(payload),
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
        }
    }
}

impl TryFrom<v1::PolicyVersion> for domain::PolicyVersion {
    type Error = CodecError;

    fn try_from(message: v1::PolicyVersion) -> Result<Self, CodecError> {
        Ok(domain::PolicyVersion {
            id: message.id,
            title: message.title,
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
