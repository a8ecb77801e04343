//! Applicants: each registration and its current standing, for `GET /v1/applicants/{credit_code}`.

use std::collections::HashMap;

use domain::event::Registration;
use domain::{CreditCode, Event};
use ledger_proto::Recorded;
use serde::Serialize;

use crate::ReadModel;

/// One applicant as bureau staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ApplicantView {
    #[serde(flatten)]
    pub registration: Registration,
    /// `pending`, `verified`, `rejected` or `suspended`.
    #[serde(deserialize_with = "crate::statuses::deserialize")]
    pub status: crate::statuses::Status,
    /// The reason given for a rejection or suspension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub registered_at_position: u64,
}

/// The applicants read model.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Applicants {
    /// Boxed: a hash table keeps a third of its slots empty on average, and the views are large.
    by_code: HashMap<CreditCode, Box<ApplicantView>>,
}

impl Applicants {
    /// The applicant with this credit code, if registered.
    pub fn get(&self, credit_code: &CreditCode) -> Option<&ApplicantView> {
        self.by_code.get(credit_code).map(Box::as_ref)
    }

    /// Every registered applicant, in no particular order.
    pub fn all(&self) -> Vec<&ApplicantView> {
        self.by_code.values().map(Box::as_ref).collect()
    }

    /// Number of registered applicants.
    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    /// True when no applicant has registered.
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    fn set(&mut self, credit_code: &CreditCode, status: &'static str, reason: Option<&String>) {
        if let Some(view) = self.by_code.get_mut(credit_code) {
            view.status = status;
            view.reason = reason.cloned();
        }
    }
}

impl ReadModel for Applicants {
    fn name(&self) -> &'static str {
        "applicants"
    }

    fn apply(&mut self, record: &Recorded) {
        match &record.event {
            Event::ApplicantRegistered { registration } => {
                self.by_code.insert(
                    registration.credit_code.clone(),
                    Box::new(ApplicantView {
                        registration: registration.clone(),
                        status: "pending",
                        reason: None,
                        registered_at_position: record.position,
                    }),
                );
            }
            Event::ApplicantVerified { credit_code } => self.set(credit_code, "verified", None),
            Event::ApplicantRejected { credit_code, reason } => {
                self.set(credit_code, "rejected", Some(reason))
            }
            Event::ApplicantSuspended { credit_code, reason } => {
                self.set(credit_code, "suspended", Some(reason))
            }
            _ => {}
        }
    }
}
