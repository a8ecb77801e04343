//! The one rule for reading a recorded event: whether, and how, an actor may see it. The event feed
//! (`GET /v1/events`), a voucher's history and a contract's dossier all ask [`record_access`], so a record is
//! shown to the same readers wherever it appears.
//!
//! A record belongs to a jurisdiction (none for the province's policy and calendar) and concerns parties (the
//! applicants and providers it is about), both read from the event and, for events that name only an id, from
//! the read models it was folded into. Then:
//! - auditors read every record in full;
//! - audit records (samples drawn, findings, referrals) are read by auditors and the bureau of their
//!   jurisdiction only: a sample's seed, population and other contracts, and what an auditor found, are not
//!   shown to the parties or to other staff;
//! - an objection is read by whoever may read the rest; who filed it (the record's actor) is shown only to
//!   the bureau of its jurisdiction and auditors: the others see that it exists and its text;
//! - every other record is read by staff of its jurisdiction and by the parties it concerns
//!   ([`super::read::may_read`]); a record of no jurisdiction (policy, calendar) by every authenticated
//!   actor.
//!
//! A record whose jurisdiction cannot be found in the read models is hidden from all but auditors (fail
//! closed).

use domain::event::ObjectionTarget;
use domain::{Actor, CreditCode, Event, Jurisdiction, Role};
use projections::Projections;

use super::read::may_read;

/// How an actor may see a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The whole record.
    Full,
    /// The record without who made it (its actor's subject and role): an objection seen by a party.
    Anonymised,
    /// Not at all: the record is left out of the answer.
    Hidden,
}

/// What kind of reading a record needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Read by staff of its jurisdiction and the parties it concerns.
    Ordinary,
    /// An objection: its filer identified to the bureau and auditors only.
    Objection,
    /// Audit samples, findings, referrals: auditors and the bureau only.
    Audit,
}

/// Where a record belongs: its jurisdiction (`None` for the policy and calendar, which every actor reads;
/// `Some(None)` when it could not be found) and the parties it concerns.
struct Scope {
    jurisdiction: Option<Option<Jurisdiction>>,
    parties: Vec<CreditCode>,
    kind: Kind,
}

/// Whether and how `actor` may see a record of `event`, with `projections` the read models that hold the
/// entities it names (the live models: they have folded every record up to the durable head).
pub fn record_access(actor: &Actor, event: &Event, projections: &Projections) -> Access {
    if actor.role == Role::Auditor {
        return Access::Full;
    }
    let scope = scope(event, projections);
    let jurisdiction = match scope.jurisdiction {
        None => {
            return if Role::AUTHENTICATED.contains(&actor.role) { Access::Full } else { Access::Hidden };
        }
        Some(None) => return Access::Hidden,
        Some(Some(jurisdiction)) => jurisdiction,
    };
    let bureau = actor.is(Role::Bureau, jurisdiction);
    let readable = may_read(actor, jurisdiction, None)
        || scope.parties.iter().any(|party| may_read(actor, jurisdiction, Some(party)));
    match scope.kind {
        Kind::Audit if bureau => Access::Full,
        Kind::Audit => Access::Hidden,
        Kind::Objection if bureau => Access::Full,
        Kind::Objection if readable => Access::Anonymised,
        Kind::Ordinary if readable => Access::Full,
        Kind::Objection | Kind::Ordinary => Access::Hidden,
    }
}

/// Whether a recorded event concerns `party`: it is one of the parties the read rule names for the record
/// (what a party's proof bundle holds, `super::transparency`).
pub fn concerns(event: &Event, projections: &Projections, party: &CreditCode) -> bool {
    scope(event, projections).parties.contains(party)
}

/// The parties of a contract (its applicant and provider) and its jurisdiction.
fn contract_scope(
    projections: &Projections,
    contract_id: uuid::Uuid,
) -> (Option<Jurisdiction>, Vec<CreditCode>) {
    match projections.lifecycle.contract(contract_id) {
        Some(view) => {
            (Some(view.terms.jurisdiction), vec![view.terms.applicant.clone(), view.terms.provider.clone()])
        }
        None => (None, Vec::new()),
    }
}

/// The parties of a redemption (its provider and the contract's applicant) and its jurisdiction.
fn redemption_scope(
    projections: &Projections,
    redemption_id: uuid::Uuid,
) -> (Option<Jurisdiction>, Vec<CreditCode>) {
    match projections.lifecycle.redemption(redemption_id) {
        Some(view) => {
            let (_, mut parties) = contract_scope(projections, view.contract_id);
            parties.push(view.provider.clone());
            (Some(view.jurisdiction), parties)
        }
        None => (None, Vec::new()),
    }
}

fn applicant_jurisdiction(projections: &Projections, code: &CreditCode) -> Option<Jurisdiction> {
    projections.applicants.get(code).map(|view| view.registration.jurisdiction)
}

fn provider_jurisdiction(projections: &Projections, code: &CreditCode) -> Option<Jurisdiction> {
    projections.lifecycle.provider(code).map(|view| view.application.jurisdiction)
}

fn objection_target_scope(
    projections: &Projections,
    target: &ObjectionTarget,
) -> (Option<Jurisdiction>, Vec<CreditCode>) {
    match target {
        ObjectionTarget::Provider { provider } => {
            (provider_jurisdiction(projections, provider), vec![provider.clone()])
        }
        ObjectionTarget::Redemption { redemption_id } => redemption_scope(projections, *redemption_id),
    }
}

/// Where `event`'s record belongs.
fn scope(event: &Event, projections: &Projections) -> Scope {
    let ordinary = |jurisdiction: Option<Jurisdiction>, parties: Vec<CreditCode>| Scope {
        jurisdiction: Some(jurisdiction),
        parties,
        kind: Kind::Ordinary,
    };
    let of =
        |(jurisdiction, parties): (Option<Jurisdiction>, Vec<CreditCode>)| ordinary(jurisdiction, parties);
    let lifecycle = &projections.lifecycle;
    match event {
        Event::PolicyPublished { .. } | Event::PolicySigned { .. } | Event::CalendarYearPublished { .. } => {
            Scope { jurisdiction: None, parties: Vec::new(), kind: Kind::Ordinary }
        }
        Event::BudgetAppropriated { jurisdiction, .. } | Event::BatchClosed { jurisdiction, .. } => {
            ordinary(Some(*jurisdiction), Vec::new())
        }
        Event::BatchPublished { guide, .. } => ordinary(Some(guide.jurisdiction), Vec::new()),
        Event::ApplicantRegistered { registration } => {
            ordinary(Some(registration.jurisdiction), vec![registration.credit_code.clone()])
        }
        Event::ApplicantVerified { credit_code }
        | Event::ApplicantRejected { credit_code, .. }
        | Event::ApplicantSuspended { credit_code, .. } => {
            ordinary(applicant_jurisdiction(projections, credit_code), vec![credit_code.clone()])
        }
        Event::VoucherIssued { jurisdiction, applicant, .. } => {
            ordinary(Some(*jurisdiction), vec![applicant.clone()])
        }
        Event::VoucherExpired { voucher_id, jurisdiction, .. } => {
            let owner = projections.balances.voucher(*voucher_id).map(|(view, _, _)| view.applicant.clone());
            ordinary(Some(*jurisdiction), owner.into_iter().collect())
        }
        Event::ProviderApplied { application } => {
            ordinary(Some(application.jurisdiction), vec![application.provider.clone()])
        }
        Event::ProviderApproved { provider, .. }
        | Event::ProviderRejected { provider, .. }
        | Event::ProviderAdmitted { provider }
        | Event::ProviderSuspended { provider, .. } => {
            ordinary(provider_jurisdiction(projections, provider), vec![provider.clone()])
        }
        Event::ObjectionFiled { target, jurisdiction, .. } => {
            let (_, parties) = objection_target_scope(projections, target);
            Scope { jurisdiction: Some(Some(*jurisdiction)), parties, kind: Kind::Objection }
        }
        Event::ObjectionRuled { objection_id, .. } => match lifecycle.objection(*objection_id) {
            Some(objection) => {
                let (_, parties) = objection_target_scope(projections, &objection.target);
                ordinary(Some(objection.jurisdiction), parties)
            }
            None => ordinary(None, Vec::new()),
        },
        Event::ContractSubmitted { terms, .. } => {
            ordinary(Some(terms.jurisdiction), vec![terms.applicant.clone(), terms.provider.clone()])
        }
        Event::ContractSigned { contract_id, .. }
        | Event::ContractFiled { contract_id, .. }
        | Event::ContractRejected { contract_id, .. }
        | Event::ContractCancelled { contract_id, .. }
        | Event::ServiceCompleted { contract_id, .. }
        | Event::ServiceRated { contract_id, .. }
        | Event::RedemptionWindowLapsed { contract_id, .. }
        | Event::RedemptionRequested { contract_id, .. } => of(contract_scope(projections, *contract_id)),
        Event::RedemptionReviewed { redemption_id, .. }
        | Event::RedemptionStruck { redemption_id, .. }
        | Event::RedemptionDisbursed { redemption_id, .. }
        | Event::RedemptionDenied { redemption_id, .. }
        | Event::ClawbackOrdered { redemption_id, .. } => of(redemption_scope(projections, *redemption_id)),
        Event::RedemptionsAnnounced { jurisdiction, redemption_ids, .. } => {
            let parties = redemption_ids.iter().flat_map(|id| redemption_scope(projections, *id).1).collect();
            ordinary(Some(*jurisdiction), parties)
        }
        Event::RedemptionAnnouncementClosed { announcement_id } => match lifecycle
            .announcement(*announcement_id)
        {
            Some(view) => {
                let parties =
                    view.redemption_ids.iter().flat_map(|id| redemption_scope(projections, *id).1).collect();
                ordinary(Some(view.jurisdiction), parties)
            }
            None => ordinary(None, Vec::new()),
        },
        Event::ClawbackRecovered { clawback_id, jurisdiction, .. } => {
            let parties = lifecycle
                .clawback(*clawback_id)
                .map(|view| redemption_scope(projections, view.redemption_id).1)
                .unwrap_or_default();
            ordinary(Some(*jurisdiction), parties)
        }
        Event::ReturnedAfterExpiry { contract_id, jurisdiction, .. } => {
            ordinary(Some(*jurisdiction), contract_scope(projections, *contract_id).1)
        }
        Event::SampleDrawn { jurisdiction, .. } => {
            Scope { jurisdiction: Some(Some(*jurisdiction)), parties: Vec::new(), kind: Kind::Audit }
        }
        Event::FindingRecorded { sample_id, .. } => Scope {
            jurisdiction: Some(lifecycle.sample(*sample_id).map(|view| view.jurisdiction)),
            parties: Vec::new(),
            kind: Kind::Audit,
        },
        Event::ReferralRecorded { party, .. } => Scope {
            jurisdiction: Some(
                provider_jurisdiction(projections, party)
                    .or_else(|| applicant_jurisdiction(projections, party)),
            ),
            parties: Vec::new(),
            kind: Kind::Audit,
        },
    }
}
