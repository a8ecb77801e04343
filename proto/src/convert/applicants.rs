//! Applicants (enterprises and project entities): registration, verification, rejection, suspension, and the
//! vouchers issued to them.

use domain::Event;

use super::EventMessage;
use super::fields::{date, parse, required, uuid};
use crate::record::{CodecError, days_from_date, uuid_to_bytes};
use crate::v1;

// ApplicantRegistered

impl EventMessage for v1::ApplicantRegistered {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ApplicantRegistered { registration } = event else {
            return None;
        };
        Some(v1::ApplicantRegistered { registration: Some(registration.into()) })
    }
}

impl TryFrom<v1::ApplicantRegistered> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ApplicantRegistered) -> Result<Self, CodecError> {
        let registration = required("ApplicantRegistered.registration", message.registration)?.try_into()?;
        Ok(Event::ApplicantRegistered { registration })
    }
}

// ApplicantVerified

impl EventMessage for v1::ApplicantVerified {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ApplicantVerified { credit_code } = event else {
            return None;
        };
        Some(v1::ApplicantVerified { credit_code: credit_code.as_str().to_owned() })
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

// ApplicantRejected

impl EventMessage for v1::ApplicantRejected {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ApplicantRejected { credit_code, reason } = event else {
            return None;
        };
        Some(v1::ApplicantRejected { credit_code: credit_code.as_str().to_owned(), reason: reason.clone() })
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

// ApplicantSuspended

impl EventMessage for v1::ApplicantSuspended {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ApplicantSuspended { credit_code, reason } = event else {
            return None;
        };
        Some(v1::ApplicantSuspended { credit_code: credit_code.as_str().to_owned(), reason: reason.clone() })
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

// VoucherIssued

impl EventMessage for v1::VoucherIssued {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::VoucherIssued {
            voucher_id,
            batch_id,
            jurisdiction,
            applicant,
            kind,
            face_value,
            cap_year,
            annual_cap,
            valid_until,
        } = event
        else {
            return None;
        };
        Some(v1::VoucherIssued {
            voucher_id: uuid_to_bytes(*voucher_id),
            batch_id: uuid_to_bytes(*batch_id),
            jurisdiction: jurisdiction.as_str().to_owned(),
            applicant: applicant.as_str().to_owned(),
            kind: kind.as_str().to_owned(),
            face_value: face_value.to_string(),
            cap_year: *cap_year,
            annual_cap: annual_cap.to_string(),
            valid_until_days: days_from_date(*valid_until),
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
