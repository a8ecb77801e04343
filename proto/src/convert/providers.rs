//! Service providers: application, approval under announcement, rejection, admission, suspension.

use domain::Event;
use domain::document::Document;
use domain::event::ProviderApplication;

use super::EventMessage;
use super::fields::{date, parse, required, set, sha256};
use crate::record::{CodecError, days_from_date};
use crate::v1;

// ProviderApplied

impl EventMessage for v1::ProviderApplied {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ProviderApplied { application } = event else {
            return None;
        };
        Some(v1::ProviderApplied { application: Some(application.into()) })
    }
}

impl TryFrom<v1::ProviderApplied> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ProviderApplied) -> Result<Self, CodecError> {
        let application = required("ProviderApplied.application", message.application)?.try_into()?;
        Ok(Event::ProviderApplied { application })
    }
}

// ProviderApproved

impl EventMessage for v1::ProviderApproved {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ProviderApproved { provider, announced_on, announcement_closes } = event else {
            return None;
        };
        Some(v1::ProviderApproved {
            provider: provider.as_str().to_owned(),
            announced_on_days: days_from_date(*announced_on),
            announcement_closes_days: days_from_date(*announcement_closes),
        })
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

// ProviderRejected

impl EventMessage for v1::ProviderRejected {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ProviderRejected { provider, reason } = event else {
            return None;
        };
        Some(v1::ProviderRejected { provider: provider.as_str().to_owned(), reason: reason.clone() })
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

// ProviderAdmitted

impl EventMessage for v1::ProviderAdmitted {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ProviderAdmitted { provider } = event else {
            return None;
        };
        Some(v1::ProviderAdmitted { provider: provider.as_str().to_owned() })
    }
}

impl TryFrom<v1::ProviderAdmitted> for Event {
    type Error = CodecError;

    fn try_from(message: v1::ProviderAdmitted) -> Result<Self, CodecError> {
        Ok(Event::ProviderAdmitted { provider: parse("ProviderAdmitted.provider", &message.provider)? })
    }
}

// ProviderSuspended

impl EventMessage for v1::ProviderSuspended {
    fn from_event(event: &Event) -> Option<Self> {
        let Event::ProviderSuspended { provider, reason } = event else {
            return None;
        };
        Some(v1::ProviderSuspended { provider: provider.as_str().to_owned(), reason: reason.clone() })
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
