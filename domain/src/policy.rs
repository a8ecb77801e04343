//! Policy versions: the Measures' numbers as published data, and the book of versions in force (SPEC §3).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{ApplicantKind, Cny, Jurisdiction, Share};

/// The shortest announcement a version may set, for redemption lists and provider admissions alike:
/// 5 working days (Measures art. 11). A policy version may lengthen it, never shorten it.
pub const MIN_ANNOUNCEMENT_WORKING_DAYS: u32 = 5;

/// One published version of the policy. Every [P] value of SPEC §3 lives here, never in code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyVersion {
    /// A stable identifier, e.g. `measures-2023`.
    pub id: String,
    pub title: String,
    /// The jurisdictions the version covers; the bureau of each must sign it before it is in force (SPEC §3
    /// "Who publishes"). Empty only in a version recorded before joint signatures existed (an old
    /// `PolicyPublished`): such a version covers every jurisdiction, as it always did.
    #[serde(default)]
    pub jurisdictions: BTreeSet<Jurisdiction>,
    /// First business date (Asia/Shanghai) on which commands are judged under this version.
    pub effective_from: NaiveDate,
    /// Last business date on which it is in force (inclusive).
    pub effective_until: NaiveDate,
    /// Annual issuance cap of an enterprise (Measures art. 7).
    pub annual_cap_enterprise: Cny,
    /// Annual issuance cap of a project entity (Measures art. 7).
    pub annual_cap_project_entity: Cny,
    /// Industries whose enterprises are eligible (Measures art. 6).
    pub eligible_industries: BTreeSet<String>,
    /// Service categories vouchers may pay for (Measures art. 3).
    pub service_categories: BTreeSet<String>,
    /// Working days a redemption list is announced (Measures art. 11).
    pub redemption_announcement_working_days: u32,
    /// Working days a provider's admission is announced.
    pub provider_announcement_working_days: u32,
    /// Claims one applicant may make on one batch.
    pub claims_per_batch: u32,
    /// Default redemption deadline, in days after service completion, for batches that do not state one.
    pub default_redemption_days: u32,
    /// Default maximum share of a contract a voucher may pay, for batches that do not state one.
    pub default_max_voucher_share: Share,
}

/// Why a policy version cannot be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy {id}: effective_until {until} is before effective_from {from}")]
    EmptyWindow { id: String, from: NaiveDate, until: NaiveDate },
    #[error("policy {id}: its window overlaps policy {other}")]
    Overlaps { id: String, other: String },
    #[error("policy id {0} is already published")]
    DuplicateId(String),
    #[error("policy {id}: {field} must not be empty")]
    Empty { id: String, field: &'static str },
    #[error("policy {id}: claims_per_batch must be at least 1")]
    NoClaims { id: String },
    #[error("policy data does not parse: {0}")]
    Parse(String),
    #[error("policy {id}: it must name the jurisdictions it covers")]
    NoJurisdictions { id: String },
    #[error(
        "policy {id}: {field} is {days} working days, at least {minimum} are required (Measures art. 11)"
    )]
    AnnouncementTooShort { id: String, field: &'static str, days: u32, minimum: u32 },
    #[error("policy {id}: effective_from {from} is before the business date {date} of its signature")]
    Retroactive { id: String, from: NaiveDate, date: NaiveDate },
    #[error("policy {id}: the bureau of {jurisdiction} has already signed it")]
    AlreadySigned { id: String, jurisdiction: Jurisdiction },
    #[error("policy {id}: this text differs from the version awaiting signatures under that id")]
    SignatureMismatch { id: String },
}

impl PolicyVersion {
    /// The annual issuance cap for an applicant of `kind`.
    pub fn annual_cap(&self, kind: ApplicantKind) -> Cny {
        match kind {
            ApplicantKind::Enterprise => self.annual_cap_enterprise,
            ApplicantKind::ProjectEntity => self.annual_cap_project_entity,
        }
    }

    /// True when the version covers `jurisdiction` (a version recorded with no jurisdictions covers all).
    pub fn covers(&self, jurisdiction: Jurisdiction) -> bool {
        self.jurisdictions.is_empty() || self.jurisdictions.contains(&jurisdiction)
    }

    /// True when the two versions cover a jurisdiction in common.
    fn shares_a_jurisdiction(&self, other: &PolicyVersion) -> bool {
        Jurisdiction::ALL.iter().any(|j| self.covers(*j) && other.covers(*j))
    }

    /// True when `date` lies in the version's window.
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        self.effective_from <= date && date <= self.effective_until
    }

    /// Checks the version on its own.
    ///
    /// Caps are strictly positive by their type ([`Cny`] refuses zero and negative amounts).
    ///
    /// # Errors
    /// An empty window, empty lists, no jurisdictions, zero claims per batch, or an announcement period
    /// shorter than [`MIN_ANNOUNCEMENT_WORKING_DAYS`].
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.effective_until < self.effective_from {
            return Err(PolicyError::EmptyWindow {
                id: self.id.clone(),
                from: self.effective_from,
                until: self.effective_until,
            });
        }
        if self.id.trim().is_empty() {
            return Err(PolicyError::Empty { id: self.id.clone(), field: "id" });
        }
        if self.eligible_industries.is_empty() {
            return Err(PolicyError::Empty { id: self.id.clone(), field: "eligible_industries" });
        }
        if self.service_categories.is_empty() {
            return Err(PolicyError::Empty { id: self.id.clone(), field: "service_categories" });
        }
        if self.claims_per_batch == 0 {
            return Err(PolicyError::NoClaims { id: self.id.clone() });
        }
        if self.jurisdictions.is_empty() {
            return Err(PolicyError::NoJurisdictions { id: self.id.clone() });
        }
        for (field, days) in [
            ("redemption_announcement_working_days", self.redemption_announcement_working_days),
            ("provider_announcement_working_days", self.provider_announcement_working_days),
        ] {
            if days < MIN_ANNOUNCEMENT_WORKING_DAYS {
                return Err(PolicyError::AnnouncementTooShort {
                    id: self.id.clone(),
                    field,
                    days,
                    minimum: MIN_ANNOUNCEMENT_WORKING_DAYS,
                });
            }
        }
        Ok(())
    }
}

/// Every policy version known to the ledger: the shipped one plus those published by event, and the versions
/// still awaiting the signature of a bureau.
///
/// # Properties
/// - At most one version is in force for a jurisdiction on any date (windows of versions covering one
///   jurisdiction never overlap).
/// - A version is in force only once the bureau of every jurisdiction it names has signed it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PolicyBook {
    versions: Vec<PolicyVersion>,
    pending: BTreeMap<String, PendingPolicy>,
}

/// A version signed by some, not yet all, of the bureaus it names.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingPolicy {
    pub version: PolicyVersion,
    pub signed_by: BTreeSet<Jurisdiction>,
}

impl PolicyBook {
    /// The book holding the version shipped with the project (`data/policy/measures-2023.toml`).
    ///
    /// # Panics
    /// Never in practice: the file is compiled in and a test proves it parses and validates.
    pub fn shipped() -> PolicyBook {
        let mut book = PolicyBook::default();
        let version = PolicyVersion::from_toml(include_str!("../data/policy/measures-2023.toml"))
            .unwrap_or_else(|error| panic!("shipped policy data: {error}"));
        book.publish(version).unwrap_or_else(|error| panic!("shipped policy data: {error}"));
        book
    }

    /// The version in force for `jurisdiction` on `date`, if any.
    pub fn in_force(&self, jurisdiction: Jurisdiction, date: NaiveDate) -> Option<&PolicyVersion> {
        self.versions.iter().find(|version| version.covers(jurisdiction) && version.in_force_on(date))
    }

    /// The version with this id, in force or not (a batch's version after it has expired: SPEC §3).
    pub fn version(&self, id: &str) -> Option<&PolicyVersion> {
        self.versions.iter().find(|version| version.id == id)
    }

    /// Every version, in publication order.
    /// The versions awaiting a signature, by id.
    pub fn pending(&self) -> &BTreeMap<String, PendingPolicy> {
        &self.pending
    }

    /// Every version in force (all signatures given), in the order they came into force.
    pub fn versions(&self) -> &[PolicyVersion] {
        &self.versions
    }

    /// Checks that `version` may be added: valid, new id, no overlap with a version in force covering one of
    /// its jurisdictions.
    ///
    /// # Errors
    /// See [`PolicyError`].
    pub fn check(&self, version: &PolicyVersion) -> Result<(), PolicyError> {
        version.validate()?;
        for other in &self.versions {
            if other.id == version.id {
                return Err(PolicyError::DuplicateId(version.id.clone()));
            }
            if version.shares_a_jurisdiction(other)
                && version.effective_from <= other.effective_until
                && other.effective_from <= version.effective_until
            {
                return Err(PolicyError::Overlaps { id: version.id.clone(), other: other.id.clone() });
            }
        }
        Ok(())
    }

    /// Adds a version after [`PolicyBook::check`].
    ///
    /// # Errors
    /// See [`PolicyError`].
    pub fn publish(&mut self, version: PolicyVersion) -> Result<(), PolicyError> {
        self.check(&version)?;
        self.versions.push(version);
        Ok(())
    }

    /// Checks the signature of `version` by the bureau of `jurisdiction` on business date `date`: the version
    /// is valid and names that jurisdiction (the caller refuses a bureau it does not name), is not
    /// retroactive, is the very text awaiting signatures under its id (if any), not yet signed by that
    /// bureau, and overlaps no version in force covering one of its jurisdictions. Returns true when this
    /// signature is the last one, which puts the version in force.
    ///
    /// # Errors
    /// See [`PolicyError`].
    pub fn check_signature(
        &self,
        version: &PolicyVersion,
        jurisdiction: Jurisdiction,
        date: NaiveDate,
    ) -> Result<bool, PolicyError> {
        self.check(version)?;
        if version.effective_from < date {
            return Err(PolicyError::Retroactive {
                id: version.id.clone(),
                from: version.effective_from,
                date,
            });
        }
        let mut signed = BTreeSet::new();
        if let Some(pending) = self.pending.get(&version.id) {
            if pending.version != *version {
                return Err(PolicyError::SignatureMismatch { id: version.id.clone() });
            }
            if pending.signed_by.contains(&jurisdiction) {
                return Err(PolicyError::AlreadySigned { id: version.id.clone(), jurisdiction });
            }
            signed.clone_from(&pending.signed_by);
        }
        signed.insert(jurisdiction);
        Ok(version.jurisdictions.is_subset(&signed))
    }

    /// Folds a recorded signature: the version waits for the others, or comes into force with the last one.
    pub(crate) fn sign(&mut self, version: PolicyVersion, jurisdiction: Jurisdiction) {
        let id = version.id.clone();
        let pending = self
            .pending
            .entry(id.clone())
            .or_insert_with(|| PendingPolicy { version, signed_by: BTreeSet::new() });
        pending.signed_by.insert(jurisdiction);
        if pending.version.jurisdictions.is_subset(&pending.signed_by) {
            let complete = self.pending.remove(&id);
            self.versions.extend(complete.map(|complete| complete.version));
        }
    }

    /// Adds a version that has already been checked (when folding a recorded `PolicyPublished`, the
    /// single-signature event of ledgers written before joint signatures).
    pub(crate) fn record(&mut self, version: PolicyVersion) {
        self.versions.push(version);
    }
}

impl PolicyVersion {
    /// Parses a policy version from TOML text.
    ///
    /// # Errors
    /// `PolicyError::Parse` naming the first bad field.
    pub fn from_toml(text: &str) -> Result<PolicyVersion, PolicyError> {
        toml::from_str(text).map_err(|error| PolicyError::Parse(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("test date")
    }

    #[test]
    fn shipped_policy_carries_the_measures_numbers() {
        let book = PolicyBook::shipped();
        let version = book.in_force(Jurisdiction::Guiyang, date("2024-06-01")).expect("in force in 2024");
        assert_eq!(book.in_force(Jurisdiction::Guian, date("2024-06-01")), Some(version));
        assert_eq!(version.annual_cap(ApplicantKind::Enterprise).to_string(), "5000000.00");
        assert_eq!(version.annual_cap(ApplicantKind::ProjectEntity).to_string(), "200000.00");
        assert_eq!(version.eligible_industries.len(), 7);
        assert_eq!(version.service_categories.len(), 13);
        assert_eq!(version.redemption_announcement_working_days, 5);
        assert_eq!(version.claims_per_batch, 1);
    }

    #[test]
    fn measures_expire_at_the_end_of_2025() {
        let book = PolicyBook::shipped();
        for j in Jurisdiction::ALL {
            assert!(book.in_force(*j, date("2025-12-31")).is_some());
            assert!(book.in_force(*j, date("2026-01-01")).is_none());
            assert!(book.in_force(*j, date("2022-12-31")).is_none());
        }
    }

    #[test]
    fn a_window_of_one_day_is_valid_and_one_that_ends_before_it_starts_is_empty() {
        let mut version = PolicyBook::shipped().versions()[0].clone();
        version.effective_from = date("2026-03-02");
        version.effective_until = date("2026-03-02");
        assert_eq!(version.validate(), Ok(()));
        version.effective_until = date("2026-03-01");
        assert!(
            matches!(version.validate(), Err(PolicyError::EmptyWindow { .. })),
            "{:?}",
            version.validate()
        );
    }

    #[test]
    fn a_successor_may_not_overlap_the_version_in_force() {
        let mut book = PolicyBook::shipped();
        let mut successor = book.versions()[0].clone();
        successor.id = "measures-2026".into();
        successor.effective_from = date("2025-12-01");
        successor.effective_until = date("2027-12-31");
        assert!(matches!(book.check(&successor), Err(PolicyError::Overlaps { .. })));
        successor.effective_from = date("2026-01-01");
        assert_eq!(book.publish(successor), Ok(()));
        assert_eq!(
            book.in_force(Jurisdiction::Guian, date("2026-11-25")).map(|v| v.id.as_str()),
            Some("measures-2026")
        );
    }
}
