//! Lifecycle: the regulation's later lifecycles as their parties, the bureau, auditors and the public see
//! them (SPEC §4, Measures art. 8-13): providers and their admission announcements, objections, contracts
//! with their signatures, filing, completion and rating, redemptions with their review, announcement,
//! disbursement, denial and clawbacks, announcement lists, audit samples with findings, clawback orders
//! and referrals. Status names are those of `domain::decide`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use domain::document::Document;
use domain::event::{
    ContractTerms, DenialGround, Finding, ObjectionTarget, Party, ProviderApplication, ReviewOutcome, Ruling,
};
use domain::{Balance, Cny, CreditCode, Event, Jurisdiction};
use ledger_proto::Recorded;
use serde::Serialize;
use uuid::Uuid;

use crate::ReadModel;

/// A provider's application and standing (Measures art. 8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ProviderView {
    #[serde(flatten)]
    pub application: ProviderApplication,
    /// `applied`, `announced`, `admitted` or `rejected`.
    #[serde(deserialize_with = "crate::statuses::deserialize")]
    pub status: crate::statuses::Status,
    pub suspended: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspension_reason: Option<String>,
    /// Why the bureau rejected the application, or the objection it upheld.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    /// The first day of the admission announcement's period is the working day after this date.
    pub announced_on: Option<NaiveDate>,
    /// The admission announcement runs until the end of this date.
    pub announcement_closes: Option<NaiveDate>,
    pub admitted_on: Option<NaiveDate>,
    /// Objections against the provider, in filing order.
    pub objections: Vec<Uuid>,
    /// Referrals of the provider to the judicial authorities, in recording order.
    pub referrals: Vec<Uuid>,
    pub applied_on: NaiveDate,
    pub applied_at_position: u64,
}

/// A text held once and shared by every copy of the read model (the as-of cache keeps whole past states):
/// anyone may object without a token, so an objection's text is the one free-form input of the public and
/// must not be multiplied by each copy. Serialized as a plain string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedText(pub Arc<str>);

impl std::ops::Deref for SharedText {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Serialize for SharedText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for SharedText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| SharedText(Arc::from(text)))
    }
}

/// An objection raised during an announcement, and the bureau's ruling.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ObjectionView {
    pub objection_id: Uuid,
    pub target: ObjectionTarget,
    pub jurisdiction: Jurisdiction,
    pub text: SharedText,
    pub filed_on: NaiveDate,
    pub filed_at_position: u64,
    pub ruling: Option<Ruling>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ruling_reason: Option<String>,
    pub ruled_on: Option<NaiveDate>,
}

/// The applicant's rating of a completed service (Measures art. 10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RatingView {
    pub quality: u8,
    pub timeliness: u8,
    pub professionalism: u8,
    pub text: String,
    pub rated_on: NaiveDate,
}

/// A contract and where it stands (Measures art. 9, 10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ContractView {
    pub contract_id: Uuid,
    #[serde(flatten)]
    pub terms: ContractTerms,
    /// `submitted`, `signed`, `filed`, `rejected`, `cancelled` or `completed`.
    #[serde(deserialize_with = "crate::statuses::deserialize")]
    pub status: crate::statuses::Status,
    pub submitted_by: Party,
    /// The parties that have signed, in signing order (the submitter first).
    pub signed_by: Vec<Party>,
    pub submitted_on: NaiveDate,
    pub filed_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub redemption_deadline: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    /// The commitment released to the voucher by a cancellation after filing.
    pub released: Option<Cny>,
    pub rating: Option<RatingView>,
    pub redemption_id: Option<Uuid>,
    /// True when the redemption deadline passed without a request; the receivable went back to the budget.
    pub lapsed: bool,
    pub submitted_at_position: u64,
}

/// A denial of a redemption before disbursement (Measures art. 12).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DenialView {
    pub ground: DenialGround,
    pub reason: String,
    pub denied_on: NaiveDate,
}

/// A redemption and where it stands (Measures art. 11, 12).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RedemptionView {
    pub redemption_id: Uuid,
    pub contract_id: Uuid,
    pub jurisdiction: Jurisdiction,
    pub provider: CreditCode,
    /// `requested`, `approved`, `announced`, `payable`, `disbursed`, `rejected`, `struck` or `denied`.
    #[serde(deserialize_with = "crate::statuses::deserialize")]
    pub status: crate::statuses::Status,
    pub requested: Cny,
    pub approved: Option<Cny>,
    pub review: Option<ReviewOutcome>,
    /// Money returned to the budget: the part not approved, or everything on rejection, strike or denial.
    pub returned: Balance,
    pub announcement_id: Option<Uuid>,
    pub announcement_closes: Option<NaiveDate>,
    /// Objections against the redemption, in filing order.
    pub objections: Vec<Uuid>,
    pub objections_open: u32,
    /// The objection whose upholding struck the redemption.
    pub struck_by: Option<Uuid>,
    pub denial: Option<DenialView>,
    pub payment_reference: Option<String>,
    pub disbursed: Balance,
    pub disbursed_on: Option<NaiveDate>,
    /// Clawbacks ordered on the redemption, in order.
    pub clawbacks: Vec<Uuid>,
    pub clawed_back: Balance,
    pub recovered: Balance,
    pub invoice: Document,
    pub remittance_proof: Document,
    pub results: Vec<Document>,
    pub requested_on: NaiveDate,
    pub requested_at_position: u64,
}

/// A public redemption announcement list (Measures art. 11).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AnnouncementView {
    pub announcement_id: Uuid,
    pub jurisdiction: Jurisdiction,
    pub redemption_ids: Vec<Uuid>,
    pub announced_on: NaiveDate,
    /// The period runs until the end of this date (the fifth working day after `announced_on`).
    pub closes_on: NaiveDate,
    pub closed: bool,
    pub closed_on: Option<NaiveDate>,
    pub announced_at_position: u64,
}

/// A finding on a sampled contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FindingView {
    pub contract_id: Uuid,
    pub finding: Finding,
    pub note: String,
    pub recorded_on: NaiveDate,
}

/// An audit sample (Measures art. 12, 13).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SampleView {
    pub sample_id: Uuid,
    pub jurisdiction: Jurisdiction,
    pub year: i32,
    pub size: u32,
    pub seed: String,
    /// The log position the population was taken at.
    pub as_of_position: u64,
    pub population: u32,
    pub contract_ids: Vec<Uuid>,
    /// Findings in recording order (a later finding on the same contract follows the earlier one).
    pub findings: Vec<FindingView>,
    pub drawn_on: NaiveDate,
    pub drawn_by: String,
}

/// A clawback order and what was recovered on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ClawbackView {
    pub clawback_id: Uuid,
    pub redemption_id: Uuid,
    pub jurisdiction: Jurisdiction,
    pub provider: CreditCode,
    pub amount: Cny,
    pub reason: String,
    pub recovered: Balance,
    pub ordered_on: NaiveDate,
}

/// A referral of a party to the judicial authorities.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ReferralView {
    pub referral_id: Uuid,
    pub party: CreditCode,
    pub authority: String,
    pub note: String,
    pub recorded_on: NaiveDate,
}

/// The lifecycle read model.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Lifecycle {
    providers: HashMap<CreditCode, ProviderView>,
    objections: HashMap<Uuid, ObjectionView>,
    /// Boxed: the views are large, and a hash table keeps a third of its slots empty on average.
    contracts: HashMap<Uuid, Box<ContractView>>,
    redemptions: HashMap<Uuid, Box<RedemptionView>>,
    announcements: HashMap<Uuid, AnnouncementView>,
    samples: HashMap<Uuid, SampleView>,
    clawbacks: HashMap<Uuid, ClawbackView>,
    referrals: HashMap<Uuid, ReferralView>,
}

impl Lifecycle {
    /// A provider by credit code.
    pub fn provider(&self, credit_code: &CreditCode) -> Option<&ProviderView> {
        self.providers.get(credit_code)
    }

    /// An objection.
    pub fn objection(&self, objection_id: Uuid) -> Option<&ObjectionView> {
        self.objections.get(&objection_id)
    }

    /// The objections with these ids that exist, in the order given.
    pub fn objections(&self, ids: &[Uuid]) -> Vec<&ObjectionView> {
        ids.iter().filter_map(|id| self.objections.get(id)).collect()
    }

    /// A contract.
    pub fn contract(&self, contract_id: Uuid) -> Option<&ContractView> {
        self.contracts.get(&contract_id).map(Box::as_ref)
    }

    /// A redemption.
    pub fn redemption(&self, redemption_id: Uuid) -> Option<&RedemptionView> {
        self.redemptions.get(&redemption_id).map(Box::as_ref)
    }

    /// An announcement list.
    pub fn announcement(&self, announcement_id: Uuid) -> Option<&AnnouncementView> {
        self.announcements.get(&announcement_id)
    }

    /// An audit sample.
    pub fn sample(&self, sample_id: Uuid) -> Option<&SampleView> {
        self.samples.get(&sample_id)
    }

    /// A clawback order.
    pub fn clawback(&self, clawback_id: Uuid) -> Option<&ClawbackView> {
        self.clawbacks.get(&clawback_id)
    }

    /// The clawbacks with these ids that exist, in the order given.
    pub fn clawbacks(&self, ids: &[Uuid]) -> Vec<&ClawbackView> {
        ids.iter().filter_map(|id| self.clawbacks.get(id)).collect()
    }

    /// The clawbacks `keep` accepts, by their redemption's request order, then in the order they were
    /// ordered (only the redemptions with a clawback are sorted).
    pub fn clawbacks_where(&self, keep: impl Fn(&ClawbackView) -> bool) -> Vec<&ClawbackView> {
        let mut clawed: Vec<&RedemptionView> =
            self.redemptions.values().map(Box::as_ref).filter(|view| !view.clawbacks.is_empty()).collect();
        clawed.sort_by_key(|view| view.requested_at_position);
        clawed
            .into_iter()
            .flat_map(|view| view.clawbacks.iter().filter_map(|id| self.clawbacks.get(id)))
            .filter(|clawback| keep(clawback))
            .collect()
    }

    /// A referral.
    pub fn referral(&self, referral_id: Uuid) -> Option<&ReferralView> {
        self.referrals.get(&referral_id)
    }

    /// The referrals with these ids that exist, in the order given.
    pub fn referrals(&self, ids: &[Uuid]) -> Vec<&ReferralView> {
        ids.iter().filter_map(|id| self.referrals.get(id)).collect()
    }

    /// Every provider, in application order.
    pub fn providers(&self) -> Vec<&ProviderView> {
        self.providers_where(|_| true)
    }

    /// The providers `keep` accepts, in application order (only those are sorted).
    pub fn providers_where(&self, keep: impl Fn(&ProviderView) -> bool) -> Vec<&ProviderView> {
        let mut views: Vec<_> = self.providers.values().filter(|view| keep(view)).collect();
        views.sort_by_key(|view| view.applied_at_position);
        views
    }

    /// Every contract, in submission order.
    pub fn contracts(&self) -> Vec<&ContractView> {
        self.contracts_where(|_| true)
    }

    /// The contracts `keep` accepts, in submission order (only those are sorted).
    pub fn contracts_where(&self, keep: impl Fn(&ContractView) -> bool) -> Vec<&ContractView> {
        let mut views: Vec<_> = self.contracts.values().map(Box::as_ref).filter(|view| keep(view)).collect();
        views.sort_by_key(|view| view.submitted_at_position);
        views
    }

    /// Every redemption, in request order.
    pub fn redemptions(&self) -> Vec<&RedemptionView> {
        self.redemptions_where(|_| true)
    }

    /// The redemptions `keep` accepts, in request order (only those are sorted).
    pub fn redemptions_where(&self, keep: impl Fn(&RedemptionView) -> bool) -> Vec<&RedemptionView> {
        let mut views: Vec<_> =
            self.redemptions.values().map(Box::as_ref).filter(|view| keep(view)).collect();
        views.sort_by_key(|view| view.requested_at_position);
        views
    }

    /// Every announcement list, in publication order.
    pub fn announcements(&self) -> Vec<&AnnouncementView> {
        let mut views: Vec<_> = self.announcements.values().collect();
        views.sort_by_key(|view| view.announced_at_position);
        views
    }

    /// Every audit sample, in the order they were drawn.
    pub fn samples(&self) -> Vec<&SampleView> {
        let mut views: Vec<_> = self.samples.values().collect();
        views.sort_by_key(|sample| (sample.as_of_position, sample.sample_id));
        views
    }

    /// The samples that drew `contract_id`, in the order they were drawn.
    pub fn samples_of(&self, contract_id: Uuid) -> Vec<&SampleView> {
        let mut views: Vec<_> =
            self.samples.values().filter(|sample| sample.contract_ids.contains(&contract_id)).collect();
        views.sort_by_key(|sample| (sample.drawn_on, sample.sample_id));
        views
    }

    fn set_redemption_status(&mut self, redemption_id: &Uuid, status: &'static str) {
        if let Some(view) = self.redemptions.get_mut(redemption_id) {
            view.status = status;
        }
    }

    fn return_to_budget(&mut self, redemption_id: &Uuid, amount: Cny) {
        if let Some(view) = self.redemptions.get_mut(redemption_id) {
            view.returned = view.returned.add(amount);
        }
    }
}

impl ReadModel for Lifecycle {
    fn name(&self) -> &'static str {
        "lifecycle"
    }

    fn apply(&mut self, record: &Recorded) {
        let date = record.meta.business_date;
        match &record.event {
            Event::ProviderApplied { application } => {
                self.providers.insert(
                    application.provider.clone(),
                    ProviderView {
                        application: application.clone(),
                        status: "applied",
                        suspended: false,
                        suspension_reason: None,
                        rejection_reason: None,
                        announced_on: None,
                        announcement_closes: None,
                        admitted_on: None,
                        objections: Vec::new(),
                        referrals: Vec::new(),
                        applied_on: date,
                        applied_at_position: record.position,
                    },
                );
            }
            Event::ProviderApproved { provider, announced_on, announcement_closes } => {
                if let Some(view) = self.providers.get_mut(provider) {
                    view.status = "announced";
                    view.announced_on = Some(*announced_on);
                    view.announcement_closes = Some(*announcement_closes);
                }
            }
            Event::ProviderRejected { provider, reason } => {
                if let Some(view) = self.providers.get_mut(provider) {
                    view.status = "rejected";
                    view.rejection_reason = Some(reason.clone());
                }
            }
            Event::ProviderAdmitted { provider } => {
                if let Some(view) = self.providers.get_mut(provider) {
                    view.status = "admitted";
                    view.admitted_on = Some(date);
                }
            }
            Event::ProviderSuspended { provider, reason } => {
                if let Some(view) = self.providers.get_mut(provider) {
                    view.suspended = true;
                    view.suspension_reason = Some(reason.clone());
                }
            }
            Event::ObjectionFiled { objection_id, target, jurisdiction, text } => {
                match target {
                    ObjectionTarget::Provider { provider } => {
                        if let Some(view) = self.providers.get_mut(provider) {
                            view.objections.push(*objection_id);
                        }
                    }
                    ObjectionTarget::Redemption { redemption_id } => {
                        if let Some(view) = self.redemptions.get_mut(redemption_id) {
                            view.objections.push(*objection_id);
                            view.objections_open += 1;
                        }
                    }
                }
                self.objections.insert(
                    *objection_id,
                    ObjectionView {
                        objection_id: *objection_id,
                        target: target.clone(),
                        jurisdiction: *jurisdiction,
                        text: SharedText(Arc::from(text.as_str())),
                        filed_on: date,
                        filed_at_position: record.position,
                        ruling: None,
                        ruling_reason: None,
                        ruled_on: None,
                    },
                );
            }
            Event::ObjectionRuled { objection_id, ruling, reason } => {
                let Some(view) = self.objections.get_mut(objection_id) else { return };
                view.ruling = Some(*ruling);
                view.ruling_reason = Some(reason.clone());
                view.ruled_on = Some(date);
                if let ObjectionTarget::Redemption { redemption_id } = &view.target {
                    let redemption_id = *redemption_id;
                    if let Some(redemption) = self.redemptions.get_mut(&redemption_id) {
                        redemption.objections_open = redemption.objections_open.saturating_sub(1);
                    }
                }
            }
            Event::ContractSubmitted { contract_id, terms, submitted_by } => {
                self.contracts.insert(
                    *contract_id,
                    Box::new(ContractView {
                        contract_id: *contract_id,
                        terms: terms.clone(),
                        status: "submitted",
                        submitted_by: *submitted_by,
                        signed_by: vec![*submitted_by],
                        submitted_on: date,
                        filed_on: None,
                        completed_on: None,
                        redemption_deadline: None,
                        rejection_reason: None,
                        cancellation_reason: None,
                        released: None,
                        rating: None,
                        redemption_id: None,
                        lapsed: false,
                        submitted_at_position: record.position,
                    }),
                );
            }
            Event::ContractSigned { contract_id, party } => {
                if let Some(view) = self.contracts.get_mut(contract_id) {
                    view.signed_by.push(*party);
                    view.status = "signed";
                }
            }
            Event::ContractFiled { contract_id, filed_on, .. } => {
                if let Some(view) = self.contracts.get_mut(contract_id) {
                    view.status = "filed";
                    view.filed_on = Some(*filed_on);
                }
            }
            Event::ContractRejected { contract_id, reason } => {
                if let Some(view) = self.contracts.get_mut(contract_id) {
                    view.status = "rejected";
                    view.rejection_reason = Some(reason.clone());
                }
            }
            Event::ContractCancelled { contract_id, released, reason, .. } => {
                if let Some(view) = self.contracts.get_mut(contract_id) {
                    view.status = "cancelled";
                    view.released = *released;
                    view.cancellation_reason = Some(reason.clone());
                }
            }
            Event::ServiceCompleted { contract_id, completed_on, redemption_deadline, .. } => {
                if let Some(view) = self.contracts.get_mut(contract_id) {
                    view.status = "completed";
                    view.completed_on = Some(*completed_on);
                    view.redemption_deadline = Some(*redemption_deadline);
                }
            }
            Event::ServiceRated { contract_id, quality, timeliness, professionalism, text, .. } => {
                if let Some(view) = self.contracts.get_mut(contract_id) {
                    view.rating = Some(RatingView {
                        quality: *quality,
                        timeliness: *timeliness,
                        professionalism: *professionalism,
                        text: text.clone(),
                        rated_on: date,
                    });
                }
            }
            Event::RedemptionRequested {
                redemption_id,
                contract_id,
                jurisdiction,
                provider,
                amount,
                invoice,
                remittance_proof,
                results,
            } => {
                if let Some(view) = self.contracts.get_mut(contract_id) {
                    view.redemption_id = Some(*redemption_id);
                }
                self.redemptions.insert(
                    *redemption_id,
                    Box::new(RedemptionView {
                        redemption_id: *redemption_id,
                        contract_id: *contract_id,
                        jurisdiction: *jurisdiction,
                        provider: provider.clone(),
                        status: "requested",
                        requested: *amount,
                        approved: None,
                        review: None,
                        returned: Balance::ZERO,
                        announcement_id: None,
                        announcement_closes: None,
                        objections: Vec::new(),
                        objections_open: 0,
                        struck_by: None,
                        denial: None,
                        payment_reference: None,
                        disbursed: Balance::ZERO,
                        disbursed_on: None,
                        clawbacks: Vec::new(),
                        clawed_back: Balance::ZERO,
                        recovered: Balance::ZERO,
                        invoice: invoice.clone(),
                        remittance_proof: remittance_proof.clone(),
                        results: results.clone(),
                        requested_on: date,
                        requested_at_position: record.position,
                    }),
                );
            }
            Event::RedemptionReviewed { redemption_id, outcome, approved, returned, .. } => {
                if let Some(view) = self.redemptions.get_mut(redemption_id) {
                    view.review = Some(outcome.clone());
                    view.approved = *approved;
                    view.status = if approved.is_some() { "approved" } else { "rejected" };
                }
                if let Some(returned) = returned {
                    self.return_to_budget(redemption_id, *returned);
                }
            }
            Event::RedemptionsAnnounced {
                announcement_id,
                jurisdiction,
                redemption_ids,
                announced_on,
                closes_on,
            } => {
                for redemption_id in redemption_ids {
                    if let Some(view) = self.redemptions.get_mut(redemption_id) {
                        view.status = "announced";
                        view.announcement_id = Some(*announcement_id);
                        view.announcement_closes = Some(*closes_on);
                    }
                }
                self.announcements.insert(
                    *announcement_id,
                    AnnouncementView {
                        announcement_id: *announcement_id,
                        jurisdiction: *jurisdiction,
                        redemption_ids: redemption_ids.clone(),
                        announced_on: *announced_on,
                        closes_on: *closes_on,
                        closed: false,
                        closed_on: None,
                        announced_at_position: record.position,
                    },
                );
            }
            Event::RedemptionAnnouncementClosed { announcement_id } => {
                let Some(view) = self.announcements.get_mut(announcement_id) else { return };
                view.closed = true;
                view.closed_on = Some(date);
                for redemption_id in view.redemption_ids.clone() {
                    if let Some(redemption) =
                        self.redemptions.get_mut(&redemption_id).filter(|r| r.status == "announced")
                    {
                        redemption.status = "payable";
                    }
                }
            }
            Event::RedemptionStruck { redemption_id, objection_id, returned, .. } => {
                self.set_redemption_status(redemption_id, "struck");
                if let Some(view) = self.redemptions.get_mut(redemption_id) {
                    view.struck_by = Some(*objection_id);
                }
                self.return_to_budget(redemption_id, *returned);
            }
            Event::RedemptionDisbursed { redemption_id, amount, payment_reference, .. } => {
                if let Some(view) = self.redemptions.get_mut(redemption_id) {
                    view.status = "disbursed";
                    view.disbursed = view.disbursed.add(*amount);
                    view.disbursed_on = Some(date);
                    view.payment_reference = Some(payment_reference.clone());
                }
            }
            Event::RedemptionDenied { redemption_id, ground, reason, returned, .. } => {
                self.set_redemption_status(redemption_id, "denied");
                if let Some(view) = self.redemptions.get_mut(redemption_id) {
                    view.denial =
                        Some(DenialView { ground: *ground, reason: reason.clone(), denied_on: date });
                }
                self.return_to_budget(redemption_id, *returned);
            }
            Event::SampleDrawn {
                sample_id,
                jurisdiction,
                year,
                size,
                seed,
                as_of_position,
                population,
                contract_ids,
            } => {
                self.samples.insert(
                    *sample_id,
                    SampleView {
                        sample_id: *sample_id,
                        jurisdiction: *jurisdiction,
                        year: *year,
                        size: *size,
                        seed: seed.clone(),
                        as_of_position: *as_of_position,
                        population: *population,
                        contract_ids: contract_ids.clone(),
                        findings: Vec::new(),
                        drawn_on: date,
                        drawn_by: record.meta.actor.subject.clone(),
                    },
                );
            }
            Event::FindingRecorded { sample_id, contract_id, finding, note } => {
                if let Some(view) = self.samples.get_mut(sample_id) {
                    view.findings.push(FindingView {
                        contract_id: *contract_id,
                        finding: *finding,
                        note: note.clone(),
                        recorded_on: date,
                    });
                }
            }
            Event::ClawbackOrdered { clawback_id, redemption_id, jurisdiction, provider, amount, reason } => {
                if let Some(view) = self.redemptions.get_mut(redemption_id) {
                    view.clawbacks.push(*clawback_id);
                    view.clawed_back = view.clawed_back.add(*amount);
                }
                self.clawbacks.insert(
                    *clawback_id,
                    ClawbackView {
                        clawback_id: *clawback_id,
                        redemption_id: *redemption_id,
                        jurisdiction: *jurisdiction,
                        provider: provider.clone(),
                        amount: *amount,
                        reason: reason.clone(),
                        recovered: Balance::ZERO,
                        ordered_on: date,
                    },
                );
            }
            Event::ClawbackRecovered { clawback_id, amount, .. } => {
                let Some(view) = self.clawbacks.get_mut(clawback_id) else { return };
                view.recovered = view.recovered.add(*amount);
                let redemption_id = view.redemption_id;
                if let Some(redemption) = self.redemptions.get_mut(&redemption_id) {
                    redemption.recovered = redemption.recovered.add(*amount);
                }
            }
            Event::ReferralRecorded { referral_id, party, authority, note } => {
                if let Some(view) = self.providers.get_mut(party) {
                    view.referrals.push(*referral_id);
                }
                self.referrals.insert(
                    *referral_id,
                    ReferralView {
                        referral_id: *referral_id,
                        party: party.clone(),
                        authority: authority.clone(),
                        note: note.clone(),
                        recorded_on: date,
                    },
                );
            }
            Event::RedemptionWindowLapsed { contract_id, .. } => {
                if let Some(view) = self.contracts.get_mut(contract_id) {
                    view.lapsed = true;
                }
            }
            Event::PolicyPublished { .. }
            | Event::PolicySigned { .. }
            | Event::CalendarYearPublished { .. }
            | Event::BudgetAppropriated { .. }
            | Event::BatchPublished { .. }
            | Event::BatchClosed { .. }
            | Event::ApplicantRegistered { .. }
            | Event::ApplicantVerified { .. }
            | Event::ApplicantRejected { .. }
            | Event::ApplicantSuspended { .. }
            | Event::VoucherIssued { .. }
            | Event::VoucherExpired { .. }
            | Event::ReturnedAfterExpiry { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use domain::document::Sha256Hex;
    use domain::{Actor, Role};
    use ledger_proto::RecordMeta;

    use super::*;

    const GY: Jurisdiction = Jurisdiction::Guiyang;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("test date")
    }

    fn cny(text: &str) -> Cny {
        Cny::parse(text).expect("test amount")
    }

    fn code(n: u32) -> CreditCode {
        domain::credit_code::with_check_character(&format!("915201{n:011}")).expect("valid code")
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn document(name: &str) -> Document {
        Document {
            sha256: Sha256Hex::parse(&"ab".repeat(32)).expect("digest"),
            name: name.into(),
            size_bytes: 1,
        }
    }

    /// Folds `events`, each recorded on its business date.
    fn fold(events: Vec<(&str, Event)>) -> Lifecycle {
        let mut model = Lifecycle::default();
        for (index, (date, event)) in events.into_iter().enumerate() {
            let position = u64::try_from(index).expect("small") + 1;
            let meta = RecordMeta {
                id: Uuid::from_u128(u128::from(position)),
                stream: event.stream(),
                stream_version: 1,
                recorded_at: chrono::Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().expect("instant"),
                business_date: day(date),
                actor: Actor {
                    subject: "s".into(),
                    role: Role::Bureau,
                    jurisdiction: Some(GY),
                    credit_code: None,
                },
                correlation_id: Uuid::nil(),
                causation_id: Uuid::nil(),
                idempotency_key: None,
                request_digest: None,
            };
            model.apply(&Recorded {
                position,
                hash: [0; 32],
                prev_hash: [0; 32],
                meta,
                event,
                ends_command: true,
            });
        }
        model
    }

    fn terms() -> ContractTerms {
        ContractTerms {
            voucher_id: id(77),
            jurisdiction: GY,
            provider: code(500),
            applicant: code(1),
            category: "inspection_testing".into(),
            description: "testing".into(),
            term_start: day("2025-04-01"),
            term_end: day("2025-05-31"),
            total: cny("100000.00"),
            voucher_amount: cny("80000.00"),
            document_sha256: Sha256Hex::parse(&"cd".repeat(32)).expect("digest"),
        }
    }

    #[test]
    fn a_redemption_is_followed_from_request_to_clawback() {
        let events = vec![
            (
                "2025-04-01",
                Event::ContractSubmitted {
                    contract_id: id(1),
                    terms: terms(),
                    submitted_by: Party::Provider,
                },
            ),
            ("2025-04-01", Event::ContractSigned { contract_id: id(1), party: Party::Applicant }),
            (
                "2025-06-02",
                Event::RedemptionRequested {
                    redemption_id: id(9),
                    contract_id: id(1),
                    jurisdiction: GY,
                    provider: code(500),
                    amount: cny("80000.00"),
                    invoice: document("invoice"),
                    remittance_proof: document("remittance"),
                    results: vec![document("report")],
                },
            ),
            (
                "2025-06-10",
                Event::RedemptionReviewed {
                    redemption_id: id(9),
                    jurisdiction: GY,
                    provider: code(500),
                    fiscal_year: 2025,
                    outcome: ReviewOutcome::Reduced { approved: cny("60000.00"), reason: "r".into() },
                    approved: Some(cny("60000.00")),
                    returned: Some(cny("20000.00")),
                },
            ),
            (
                "2025-09-30",
                Event::RedemptionsAnnounced {
                    announcement_id: id(5),
                    jurisdiction: GY,
                    redemption_ids: vec![id(9)],
                    announced_on: day("2025-09-30"),
                    closes_on: day("2025-10-14"),
                },
            ),
            (
                "2025-10-09",
                Event::ObjectionFiled {
                    objection_id: id(6),
                    target: ObjectionTarget::Redemption { redemption_id: id(9) },
                    jurisdiction: GY,
                    text: "t".into(),
                },
            ),
        ];
        let model = fold(events.clone());
        let redemption = model.redemption(id(9)).expect("redemption");
        assert_eq!((redemption.status, redemption.objections_open), ("announced", 1));
        assert_eq!(model.contract(id(1)).map(|c| (c.status, c.redemption_id)), Some(("signed", Some(id(9)))));

        let mut events = events;
        events.extend([
            (
                "2025-10-13",
                Event::ObjectionRuled { objection_id: id(6), ruling: Ruling::Dismissed, reason: "no".into() },
            ),
            ("2025-10-15", Event::RedemptionAnnouncementClosed { announcement_id: id(5) }),
            (
                "2025-10-16",
                Event::RedemptionDisbursed {
                    redemption_id: id(9),
                    jurisdiction: GY,
                    provider: code(500),
                    amount: cny("60000.00"),
                    payment_reference: "P-1".into(),
                },
            ),
            (
                "2026-03-01",
                Event::ClawbackOrdered {
                    clawback_id: id(7),
                    redemption_id: id(9),
                    jurisdiction: GY,
                    provider: code(500),
                    amount: cny("10000.00"),
                    reason: "r".into(),
                },
            ),
            (
                "2026-03-05",
                Event::ClawbackRecovered { clawback_id: id(7), jurisdiction: GY, amount: cny("4000.00") },
            ),
        ]);
        let model = fold(events);
        let redemption = model.redemption(id(9)).expect("redemption");
        assert_eq!(redemption.status, "disbursed");
        assert_eq!(redemption.objections_open, 0);
        assert_eq!(redemption.returned.to_string(), "20000.00");
        assert_eq!(redemption.disbursed.to_string(), "60000.00");
        assert_eq!(redemption.disbursed_on, Some(day("2025-10-16")));
        assert_eq!(
            (redemption.clawed_back.to_string(), redemption.recovered.to_string()),
            ("10000.00".into(), "4000.00".into())
        );
        let announcement = model.announcement(id(5)).expect("announcement");
        assert_eq!((announcement.closed, announcement.closed_on), (true, Some(day("2025-10-15"))));
        assert_eq!(model.objection(id(6)).and_then(|o| o.ruling), Some(Ruling::Dismissed));
        assert_eq!(model.clawback(id(7)).map(|c| c.recovered.to_string()), Some("4000.00".into()));
    }

    #[test]
    fn an_upheld_objection_leaves_the_provider_rejected_with_its_reason() {
        let application = ProviderApplication {
            provider: code(500),
            name: "lab".into(),
            jurisdiction: GY,
            categories: ["inspection_testing".to_owned()].into_iter().collect(),
            qualifications: vec![document("cert")],
            contact: "c".into(),
        };
        let model = fold(vec![
            ("2025-03-01", Event::ProviderApplied { application }),
            (
                "2025-03-03",
                Event::ProviderApproved {
                    provider: code(500),
                    announced_on: day("2025-03-03"),
                    announcement_closes: day("2025-03-10"),
                },
            ),
            (
                "2025-03-05",
                Event::ObjectionFiled {
                    objection_id: id(6),
                    target: ObjectionTarget::Provider { provider: code(500) },
                    jurisdiction: GY,
                    text: "forged".into(),
                },
            ),
            (
                "2025-03-12",
                Event::ObjectionRuled { objection_id: id(6), ruling: Ruling::Upheld, reason: "yes".into() },
            ),
            (
                "2025-03-12",
                Event::ProviderRejected { provider: code(500), reason: "objection upheld: yes".into() },
            ),
        ]);
        let provider = model.provider(&code(500)).expect("provider");
        assert_eq!(provider.status, "rejected");
        assert_eq!(provider.rejection_reason.as_deref(), Some("objection upheld: yes"));
        assert_eq!(provider.announcement_closes, Some(day("2025-03-10")));
        assert_eq!(provider.objections, vec![id(6)]);
        assert_eq!(provider.applied_on, day("2025-03-01"));
    }

    #[test]
    fn an_objections_text_is_held_once_however_often_the_model_is_copied() {
        let text = "x".repeat(250 * 1024);
        let filed = Event::ObjectionFiled {
            objection_id: id(7),
            target: ObjectionTarget::Provider { provider: code(1) },
            jurisdiction: GY,
            text: text.clone(),
        };
        let model = fold(vec![("2025-03-07", filed)]);
        let copy = model.clone();
        let (first, second) =
            (model.objection(id(7)).expect("filed"), copy.objection(id(7)).expect("copied"));
        assert!(Arc::ptr_eq(&first.text.0, &second.text.0), "the copy holds its own text");
        let json = serde_json::to_value(first).expect("json");
        assert_eq!(json["text"].as_str().map(str::len), Some(text.len()));
    }
}
