//! The decision state and `evolve`: what the ledger knows after folding its events. No business rules here:
//! `evolve` cannot fail; the rules live in `decide`.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use uuid::Uuid;

use crate::event::{
    BatchGuide, ContractTerms, Finding, ObjectionTarget, Party, ProviderApplication, Registration, Ruling,
};
use crate::{
    Account, ApplicantKind, Balance, Calendar, Cny, CreditCode, Event, Jurisdiction, Ledger, PolicyBook,
};

/// An applicant's standing.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ApplicantStatus {
    /// Registered, waiting for the service center.
    Pending,
    Verified,
    Rejected {
        reason: String,
    },
    Suspended {
        reason: String,
    },
}

impl ApplicantStatus {
    /// The status's stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ApplicantStatus::Pending => "pending",
            ApplicantStatus::Verified => "verified",
            ApplicantStatus::Rejected { .. } => "rejected",
            ApplicantStatus::Suspended { .. } => "suspended",
        }
    }
}

/// A registered applicant.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApplicantState {
    pub registration: Registration,
    pub status: ApplicantStatus,
}

/// A fiscal year's budget of one jurisdiction. Its available money is the `budget` account's balance.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BudgetState {
    pub appropriated: Balance,
    pub allocated_to_batches: Balance,
    pub returned_from_batches: Balance,
}

/// A published batch. Its remaining money is the `batch_pool` account's balance.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BatchState {
    pub guide: BatchGuide,
    pub issued: Balance,
    pub vouchers_issued: u32,
    pub closed: bool,
    /// Claims per applicant.
    pub claims: HashMap<CreditCode, u32>,
}

/// An issued voucher. Its balances are the `voucher_available` and `voucher_committed` accounts.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VoucherState {
    pub batch_id: Uuid,
    pub jurisdiction: Jurisdiction,
    pub applicant: CreditCode,
    pub kind: ApplicantKind,
    pub face_value: Cny,
    pub valid_until: NaiveDate,
    /// The fiscal year of the batch: money returned from the voucher goes to that year's budget.
    pub fiscal_year: i32,
    pub expired: bool,
}

/// A provider's standing (Measures art. 8).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ProviderStatus {
    /// Applied, waiting for the bureau.
    Applied,
    /// Approved; its admission announcement runs until the end of `closes_on`.
    Announced {
        closes_on: NaiveDate,
    },
    Admitted,
    Rejected {
        reason: String,
    },
}

/// A provider.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProviderState {
    pub application: ProviderApplication,
    pub status: ProviderStatus,
    pub suspended: bool,
    pub objections_open: u32,
}

/// An objection.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectionState {
    pub target: ObjectionTarget,
    pub jurisdiction: Jurisdiction,
    pub ruling: Option<Ruling>,
}

/// Where a contract stands (Measures art. 9, 10).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ContractStatus {
    Submitted,
    Filed { filed_on: NaiveDate },
    Rejected,
    Cancelled,
    Completed { filed_on: NaiveDate, completed_on: NaiveDate, redemption_deadline: NaiveDate },
}

/// A contract.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContractState {
    pub terms: ContractTerms,
    pub submitted_by: Party,
    pub countersigned: bool,
    pub status: ContractStatus,
    pub rated: bool,
    pub redemption_id: Option<Uuid>,
    pub lapsed: bool,
}

impl ContractState {
    /// The date the contract was filed, if it was.
    pub fn filed_on(&self) -> Option<NaiveDate> {
        match self.status {
            ContractStatus::Filed { filed_on } | ContractStatus::Completed { filed_on, .. } => Some(filed_on),
            _ => None,
        }
    }
}

/// Where a redemption stands (Measures art. 11, 12).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum RedemptionStatus {
    /// Waiting for the reviewer.
    Requested,
    /// Approved for `approved`, not yet announced.
    Approved,
    /// On an announcement list.
    Announced {
        announcement_id: Uuid,
    },
    /// The list's period closed; payable once no objection is open.
    Payable,
    Disbursed,
    /// Rejected by the reviewer, struck by an upheld objection, or denied by the bureau.
    Refused {
        reason: &'static str,
    },
}

/// [`RedemptionStatus`] as a snapshot of the state holds it, read back by `TryFrom`: a refusal's reason is
/// one of those `evolve` writes.
#[derive(serde::Deserialize)]
enum StoredRedemptionStatus {
    Requested,
    Approved,
    Announced { announcement_id: Uuid },
    Payable,
    Disbursed,
    Refused { reason: String },
}

impl<'de> serde::Deserialize<'de> for RedemptionStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = StoredRedemptionStatus::deserialize(deserializer)?;
        RedemptionStatus::try_from(stored).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<StoredRedemptionStatus> for RedemptionStatus {
    type Error = String;

    fn try_from(stored: StoredRedemptionStatus) -> Result<Self, String> {
        Ok(match stored {
            StoredRedemptionStatus::Requested => RedemptionStatus::Requested,
            StoredRedemptionStatus::Approved => RedemptionStatus::Approved,
            StoredRedemptionStatus::Announced { announcement_id } => {
                RedemptionStatus::Announced { announcement_id }
            }
            StoredRedemptionStatus::Payable => RedemptionStatus::Payable,
            StoredRedemptionStatus::Disbursed => RedemptionStatus::Disbursed,
            StoredRedemptionStatus::Refused { reason } => RedemptionStatus::Refused {
                reason: ["rejected", "struck", "denied"]
                    .into_iter()
                    .find(|known| *known == reason)
                    .ok_or_else(|| format!("unknown refusal reason {reason:?}"))?,
            },
        })
    }
}

/// A redemption.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RedemptionState {
    pub contract_id: Uuid,
    pub jurisdiction: Jurisdiction,
    pub provider: CreditCode,
    pub fiscal_year: i32,
    pub requested: Cny,
    /// What the reviewer approved (the receivable still owed until disbursed or refused).
    pub approved: Option<Cny>,
    pub status: RedemptionStatus,
    pub objections_open: u32,
    pub disbursed: Balance,
    pub clawed_back: Balance,
}

impl RedemptionState {
    /// What the provider is still owed on this redemption: the requested amount until review, then the
    /// approved amount, zero once disbursed or refused.
    pub fn outstanding(&self) -> Option<Cny> {
        match self.status {
            RedemptionStatus::Requested => Some(self.requested),
            RedemptionStatus::Approved | RedemptionStatus::Announced { .. } | RedemptionStatus::Payable => {
                self.approved
            }
            RedemptionStatus::Disbursed | RedemptionStatus::Refused { .. } => None,
        }
    }
}

/// A redemption announcement list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AnnouncementState {
    pub jurisdiction: Jurisdiction,
    pub redemption_ids: Vec<Uuid>,
    pub closes_on: NaiveDate,
    pub closed: bool,
}

/// An audit sample.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SampleState {
    pub jurisdiction: Jurisdiction,
    pub year: i32,
    pub contract_ids: Vec<Uuid>,
    pub findings: HashMap<Uuid, Finding>,
}

/// A clawback order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClawbackState {
    pub redemption_id: Uuid,
    pub jurisdiction: Jurisdiction,
    pub amount: Cny,
    pub recovered: Balance,
}

/// Everything `decide` needs, folded from the log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct State {
    pub policies: PolicyBook,
    pub calendar: Calendar,
    pub ledger: Ledger,
    pub budgets: HashMap<(Jurisdiction, i32), BudgetState>,
    pub batches: HashMap<Uuid, BatchState>,
    pub applicants: HashMap<CreditCode, ApplicantState>,
    /// Face value issued per applicant per Asia/Shanghai calendar year.
    pub issued_by_year: HashMap<(CreditCode, i32), Balance>,
    pub vouchers: HashMap<Uuid, VoucherState>,
    pub providers: HashMap<CreditCode, ProviderState>,
    pub objections: HashMap<Uuid, ObjectionState>,
    pub contracts: HashMap<Uuid, ContractState>,
    pub redemptions: HashMap<Uuid, RedemptionState>,
    pub announcements: HashMap<Uuid, AnnouncementState>,
    pub samples: HashMap<Uuid, SampleState>,
    pub clawbacks: HashMap<Uuid, ClawbackState>,
    pub referrals: HashMap<Uuid, CreditCode>,
    /// The open deadlines ordered by due date (see [`Deadline`]): kept by `evolve`, read by
    /// `decide::due_commands`, so the scheduler's tick reads only what is due instead of every voucher and
    /// contract. Equal to [`State::deadlines_by_scan`] after every event.
    pub(crate) deadlines: BTreeSet<(NaiveDate, Deadline)>,
}

/// Something the scheduler acts on once its date has passed: the key of an entry in the deadline index.
/// Its date is the last day it is not yet due (the command is due when the business date is after it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Deadline {
    /// A provider's admission announcement (`ProviderStatus::Announced`): closes after `closes_on` (when no
    /// objection is open; that condition is checked when the entry is due, it does not move the date).
    Provider(CreditCode),
    /// A redemption announcement not yet closed: closes after `closes_on`.
    Announcement(Uuid),
    /// A voucher not yet expired: expires after `valid_until`.
    Voucher(Uuid),
    /// A completed contract with no redemption and not lapsed: its window lapses after `redemption_deadline`.
    Contract(Uuid),
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

impl State {
    /// The state of an empty ledger: the shipped policy version and holiday calendar, no events.
    pub fn new() -> State {
        State {
            policies: PolicyBook::shipped(),
            calendar: Calendar::shipped(),
            ledger: Ledger::default(),
            budgets: HashMap::new(),
            batches: HashMap::new(),
            applicants: HashMap::new(),
            issued_by_year: HashMap::new(),
            vouchers: HashMap::new(),
            providers: HashMap::new(),
            objections: HashMap::new(),
            contracts: HashMap::new(),
            redemptions: HashMap::new(),
            announcements: HashMap::new(),
            samples: HashMap::new(),
            clawbacks: HashMap::new(),
            referrals: HashMap::new(),
            deadlines: BTreeSet::new(),
        }
    }

    /// The date after which `deadline` is due, while it is open (`None` once resolved or when unknown).
    pub fn deadline_date(&self, deadline: &Deadline) -> Option<NaiveDate> {
        match deadline {
            Deadline::Provider(code) => match self.providers.get(code)?.status {
                ProviderStatus::Announced { closes_on } => Some(closes_on),
                _ => None,
            },
            Deadline::Announcement(id) => {
                self.announcements.get(id).filter(|a| !a.closed).map(|a| a.closes_on)
            }
            Deadline::Voucher(id) => self.vouchers.get(id).filter(|v| !v.expired).map(|v| v.valid_until),
            Deadline::Contract(id) => {
                let contract = self.contracts.get(id).filter(|c| c.redemption_id.is_none() && !c.lapsed)?;
                match contract.status {
                    ContractStatus::Completed { redemption_deadline, .. } => Some(redemption_deadline),
                    _ => None,
                }
            }
        }
    }

    /// The open deadlines with a date before `date` (those due on `date`), in date order: a range of the
    /// index, so its cost grows with what is due, not with the size of the state.
    pub fn deadlines_before(&self, date: NaiveDate) -> impl Iterator<Item = &Deadline> {
        self.deadlines.iter().take_while(move |(due, _)| *due < date).map(|(_, deadline)| deadline)
    }

    /// The deadline index rebuilt from the whole state (every provider, announcement, voucher and contract):
    /// what `evolve` keeps incrementally, for the tests that compare the two.
    pub fn deadlines_by_scan(&self) -> BTreeSet<(NaiveDate, Deadline)> {
        let keys = (self.providers.keys().cloned().map(Deadline::Provider))
            .chain(self.announcements.keys().copied().map(Deadline::Announcement))
            .chain(self.vouchers.keys().copied().map(Deadline::Voucher))
            .chain(self.contracts.keys().copied().map(Deadline::Contract));
        keys.filter_map(|key| self.deadline_date(&key).map(|date| (date, key))).collect()
    }

    /// The deadline index as `evolve` keeps it (compare with [`State::deadlines_by_scan`]).
    pub fn deadline_index(&self) -> &BTreeSet<(NaiveDate, Deadline)> {
        &self.deadlines
    }

    /// Money available in a fiscal year's budget.
    pub fn budget_available(&self, jurisdiction: Jurisdiction, fiscal_year: i32) -> Balance {
        self.ledger.balance(jurisdiction, &Account::Budget { fiscal_year })
    }

    /// Money left in a batch's pool.
    pub fn batch_remaining(&self, batch_id: Uuid, jurisdiction: Jurisdiction) -> Balance {
        self.ledger.balance(jurisdiction, &Account::BatchPool { batch_id })
    }

    /// Face value issued to an applicant in a calendar year.
    pub fn issued_in_year(&self, credit_code: &CreditCode, year: i32) -> Balance {
        self.issued_by_year.get(&(credit_code.clone(), year)).copied().unwrap_or_default()
    }

    /// Folds one recorded event into the state, and moves the deadline it touches (if any) in the index.
    pub fn evolve(&mut self, event: &Event) {
        let touched = deadline_touched(event);
        if let Some(key) = &touched
            && let Some(date) = self.deadline_date(key)
        {
            self.deadlines.remove(&(date, key.clone()));
        }
        self.evolve_facts(event);
        if let Some(key) = touched
            && let Some(date) = self.deadline_date(&key)
        {
            self.deadlines.insert((date, key));
        }
    }

    fn evolve_facts(&mut self, event: &Event) {
        for posting in event.postings() {
            self.ledger.post(&posting);
        }
        match event {
            Event::PolicyPublished { policy } => self.policies.record(policy.clone()),
            Event::PolicySigned { policy, jurisdiction } => self.policies.sign(policy.clone(), *jurisdiction),
            Event::CalendarYearPublished { calendar_year } => {
                // `decide` accepted the year, so adding it again here cannot be refused; a recorded fact is
                // folded even if a later rule would refuse it.
                let _already_checked = self.calendar.add_year(calendar_year.clone());
            }
            Event::BudgetAppropriated { jurisdiction, fiscal_year, amount } => {
                let budget = self.budgets.entry((*jurisdiction, *fiscal_year)).or_default();
                budget.appropriated = budget.appropriated.add(*amount);
            }
            Event::BatchPublished { batch_id, guide } => {
                let budget = self.budgets.entry((guide.jurisdiction, guide.fiscal_year)).or_default();
                budget.allocated_to_batches = budget.allocated_to_batches.add(guide.total);
                self.batches.insert(
                    *batch_id,
                    BatchState {
                        guide: guide.clone(),
                        issued: Balance::ZERO,
                        vouchers_issued: 0,
                        closed: false,
                        claims: HashMap::new(),
                    },
                );
            }
            Event::BatchClosed { batch_id, jurisdiction, fiscal_year, returned } => {
                if let Some(batch) = self.batches.get_mut(batch_id) {
                    batch.closed = true;
                }
                if let Some(returned) = returned {
                    let budget = self.budgets.entry((*jurisdiction, *fiscal_year)).or_default();
                    budget.returned_from_batches = budget.returned_from_batches.add(*returned);
                }
            }
            Event::ApplicantRegistered { registration } => {
                self.applicants.insert(
                    registration.credit_code.clone(),
                    ApplicantState { registration: registration.clone(), status: ApplicantStatus::Pending },
                );
            }
            Event::ApplicantVerified { credit_code } => {
                self.set_status(credit_code, ApplicantStatus::Verified)
            }
            Event::ApplicantRejected { credit_code, reason } => {
                self.set_status(credit_code, ApplicantStatus::Rejected { reason: reason.clone() })
            }
            Event::ApplicantSuspended { credit_code, reason } => {
                self.set_status(credit_code, ApplicantStatus::Suspended { reason: reason.clone() })
            }
            Event::VoucherIssued {
                voucher_id,
                batch_id,
                jurisdiction,
                applicant,
                kind,
                face_value,
                cap_year,
                valid_until,
                ..
            } => {
                if let Some(batch) = self.batches.get_mut(batch_id) {
                    batch.issued = batch.issued.add(*face_value);
                    batch.vouchers_issued = batch.vouchers_issued.saturating_add(1);
                    let claims = batch.claims.entry(applicant.clone()).or_default();
                    *claims = claims.saturating_add(1);
                }
                let issued = self.issued_by_year.entry((applicant.clone(), *cap_year)).or_default();
                *issued = issued.add(*face_value);
                self.vouchers.insert(
                    *voucher_id,
                    VoucherState {
                        batch_id: *batch_id,
                        jurisdiction: *jurisdiction,
                        applicant: applicant.clone(),
                        kind: *kind,
                        face_value: *face_value,
                        valid_until: *valid_until,
                        fiscal_year: self.batches.get(batch_id).map_or(*cap_year, |b| b.guide.fiscal_year),
                        expired: false,
                    },
                );
            }
            _ => self.evolve_regulation(event),
        }
    }

    /// Folds the events of the regulation's later lifecycles (providers, contracts, redemptions, audits).
    fn evolve_regulation(&mut self, event: &Event) {
        match event {
            Event::ProviderApplied { application } => {
                self.providers.insert(
                    application.provider.clone(),
                    ProviderState {
                        application: application.clone(),
                        status: ProviderStatus::Applied,
                        suspended: false,
                        objections_open: 0,
                    },
                );
            }
            Event::ProviderApproved { provider, announcement_closes, .. } => {
                if let Some(state) = self.providers.get_mut(provider) {
                    state.status = ProviderStatus::Announced { closes_on: *announcement_closes };
                }
            }
            Event::ProviderRejected { provider, reason } => {
                if let Some(state) = self.providers.get_mut(provider) {
                    state.status = ProviderStatus::Rejected { reason: reason.clone() };
                }
            }
            Event::ProviderAdmitted { provider } => {
                if let Some(state) = self.providers.get_mut(provider) {
                    state.status = ProviderStatus::Admitted;
                }
            }
            Event::ProviderSuspended { provider, .. } => {
                if let Some(state) = self.providers.get_mut(provider) {
                    state.suspended = true;
                }
            }
            Event::ObjectionFiled { objection_id, target, jurisdiction, .. } => {
                self.objection_count(target, 1);
                self.objections.insert(
                    *objection_id,
                    ObjectionState { target: target.clone(), jurisdiction: *jurisdiction, ruling: None },
                );
            }
            Event::ObjectionRuled { objection_id, ruling, .. } => {
                let target = self.objections.get(objection_id).map(|objection| objection.target.clone());
                if let Some(target) = target {
                    self.objection_count(&target, -1);
                }
                if let Some(objection) = self.objections.get_mut(objection_id) {
                    objection.ruling = Some(*ruling);
                }
            }
            Event::ContractSubmitted { contract_id, terms, submitted_by } => {
                self.contracts.insert(
                    *contract_id,
                    ContractState {
                        terms: terms.clone(),
                        submitted_by: *submitted_by,
                        countersigned: false,
                        status: ContractStatus::Submitted,
                        rated: false,
                        redemption_id: None,
                        lapsed: false,
                    },
                );
            }
            Event::ContractSigned { contract_id, .. } => {
                if let Some(contract) = self.contracts.get_mut(contract_id) {
                    contract.countersigned = true;
                }
            }
            Event::ContractFiled { contract_id, filed_on, .. } => {
                if let Some(contract) = self.contracts.get_mut(contract_id) {
                    contract.status = ContractStatus::Filed { filed_on: *filed_on };
                }
            }
            Event::ContractRejected { contract_id, .. } => {
                self.set_contract(contract_id, ContractStatus::Rejected)
            }
            Event::ContractCancelled { contract_id, .. } => {
                self.set_contract(contract_id, ContractStatus::Cancelled)
            }
            Event::ServiceCompleted { contract_id, completed_on, redemption_deadline, .. } => {
                if let Some(contract) = self.contracts.get_mut(contract_id) {
                    let filed_on = contract.filed_on().unwrap_or(*completed_on);
                    contract.status = ContractStatus::Completed {
                        filed_on,
                        completed_on: *completed_on,
                        redemption_deadline: *redemption_deadline,
                    };
                }
            }
            Event::ServiceRated { contract_id, .. } => {
                if let Some(contract) = self.contracts.get_mut(contract_id) {
                    contract.rated = true;
                }
            }
            Event::RedemptionRequested {
                redemption_id, contract_id, jurisdiction, provider, amount, ..
            } => {
                let fiscal_year = self.contract_fiscal_year(contract_id).unwrap_or_default();
                if let Some(contract) = self.contracts.get_mut(contract_id) {
                    contract.redemption_id = Some(*redemption_id);
                }
                self.redemptions.insert(
                    *redemption_id,
                    RedemptionState {
                        contract_id: *contract_id,
                        jurisdiction: *jurisdiction,
                        provider: provider.clone(),
                        fiscal_year,
                        requested: *amount,
                        approved: None,
                        status: RedemptionStatus::Requested,
                        objections_open: 0,
                        disbursed: Balance::ZERO,
                        clawed_back: Balance::ZERO,
                    },
                );
            }
            Event::RedemptionReviewed { redemption_id, approved, .. } => {
                if let Some(redemption) = self.redemptions.get_mut(redemption_id) {
                    redemption.approved = *approved;
                    redemption.status = match approved {
                        Some(_) => RedemptionStatus::Approved,
                        None => RedemptionStatus::Refused { reason: "rejected" },
                    };
                }
            }
            Event::RedemptionsAnnounced {
                announcement_id, jurisdiction, redemption_ids, closes_on, ..
            } => {
                for redemption_id in redemption_ids {
                    if let Some(redemption) = self.redemptions.get_mut(redemption_id) {
                        redemption.status = RedemptionStatus::Announced { announcement_id: *announcement_id };
                    }
                }
                self.announcements.insert(
                    *announcement_id,
                    AnnouncementState {
                        jurisdiction: *jurisdiction,
                        redemption_ids: redemption_ids.clone(),
                        closes_on: *closes_on,
                        closed: false,
                    },
                );
            }
            Event::RedemptionAnnouncementClosed { announcement_id } => {
                let items = self.announcements.get_mut(announcement_id).map(|announcement| {
                    announcement.closed = true;
                    announcement.redemption_ids.clone()
                });
                for redemption_id in items.unwrap_or_default() {
                    if let Some(redemption) = self
                        .redemptions
                        .get_mut(&redemption_id)
                        .filter(|redemption| matches!(redemption.status, RedemptionStatus::Announced { .. }))
                    {
                        redemption.status = RedemptionStatus::Payable;
                    }
                }
            }
            Event::RedemptionStruck { redemption_id, .. } => {
                self.set_redemption(redemption_id, RedemptionStatus::Refused { reason: "struck" })
            }
            Event::RedemptionDenied { redemption_id, .. } => {
                self.set_redemption(redemption_id, RedemptionStatus::Refused { reason: "denied" })
            }
            Event::RedemptionDisbursed { redemption_id, amount, .. } => {
                if let Some(redemption) = self.redemptions.get_mut(redemption_id) {
                    redemption.status = RedemptionStatus::Disbursed;
                    redemption.disbursed = redemption.disbursed.add(*amount);
                }
            }
            Event::SampleDrawn { sample_id, jurisdiction, year, contract_ids, .. } => {
                self.samples.insert(
                    *sample_id,
                    SampleState {
                        jurisdiction: *jurisdiction,
                        year: *year,
                        contract_ids: contract_ids.clone(),
                        findings: HashMap::new(),
                    },
                );
            }
            Event::FindingRecorded { sample_id, contract_id, finding, .. } => {
                if let Some(sample) = self.samples.get_mut(sample_id) {
                    sample.findings.insert(*contract_id, *finding);
                }
            }
            Event::ClawbackOrdered { clawback_id, redemption_id, jurisdiction, amount, .. } => {
                if let Some(redemption) = self.redemptions.get_mut(redemption_id) {
                    redemption.clawed_back = redemption.clawed_back.add(*amount);
                }
                self.clawbacks.insert(
                    *clawback_id,
                    ClawbackState {
                        redemption_id: *redemption_id,
                        jurisdiction: *jurisdiction,
                        amount: *amount,
                        recovered: Balance::ZERO,
                    },
                );
            }
            Event::ClawbackRecovered { clawback_id, amount, .. } => {
                if let Some(clawback) = self.clawbacks.get_mut(clawback_id) {
                    clawback.recovered = clawback.recovered.add(*amount);
                }
            }
            Event::ReferralRecorded { referral_id, party, .. } => {
                self.referrals.insert(*referral_id, party.clone());
            }
            Event::VoucherExpired { voucher_id, .. } => {
                if let Some(voucher) = self.vouchers.get_mut(voucher_id) {
                    voucher.expired = true;
                }
            }
            Event::RedemptionWindowLapsed { contract_id, .. } => {
                if let Some(contract) = self.contracts.get_mut(contract_id) {
                    contract.lapsed = true;
                }
            }
            _ => {}
        }
    }

    fn objection_count(&mut self, target: &ObjectionTarget, delta: i32) {
        let counter = match target {
            ObjectionTarget::Provider { provider } => {
                self.providers.get_mut(provider).map(|p| &mut p.objections_open)
            }
            ObjectionTarget::Redemption { redemption_id } => {
                self.redemptions.get_mut(redemption_id).map(|r| &mut r.objections_open)
            }
        };
        if let Some(counter) = counter {
            *counter = counter.saturating_add_signed(delta);
        }
    }

    fn set_contract(&mut self, contract_id: &Uuid, status: ContractStatus) {
        if let Some(contract) = self.contracts.get_mut(contract_id) {
            contract.status = status;
        }
    }

    fn set_redemption(&mut self, redemption_id: &Uuid, status: RedemptionStatus) {
        if let Some(redemption) = self.redemptions.get_mut(redemption_id) {
            redemption.status = status;
        }
    }

    /// Every invariant of SPEC §5 the state can show: the ledger's (balanced, nothing negative) and that
    /// no expired voucher holds available money (SPEC §4 Voucher).
    pub fn violations(&self) -> Vec<crate::ledger::Violation> {
        let mut violations = self.ledger.violations();
        let mut stranded: Vec<_> = self
            .vouchers
            .iter()
            .filter(|(_, voucher)| voucher.expired)
            .filter_map(|(voucher_id, voucher)| {
                let account = crate::Account::VoucherAvailable { voucher_id: *voucher_id };
                let available = self.ledger.balance(voucher.jurisdiction, &account);
                (!available.is_zero()).then(|| {
                    crate::ledger::Violation::Rule(format!(
                        "{}: expired voucher {voucher_id} holds available money ({available})",
                        voucher.jurisdiction
                    ))
                })
            })
            .collect();
        stranded.sort_by_key(ToString::to_string);
        violations.extend(stranded);
        violations
    }

    /// The policy version recorded in the batch behind a contract's voucher: the version whose numbers every
    /// step after the issuance takes, whether or not it is still in force (SPEC §3, Measures art. 11, 14).
    pub fn contract_policy(&self, contract_id: &Uuid) -> Option<&crate::PolicyVersion> {
        let contract = self.contracts.get(contract_id)?;
        let voucher = self.vouchers.get(&contract.terms.voucher_id)?;
        let batch = self.batches.get(&voucher.batch_id)?;
        self.policies.version(&batch.guide.policy_id)
    }

    /// The fiscal year of the batch behind a contract's voucher.
    pub fn contract_fiscal_year(&self, contract_id: &Uuid) -> Option<i32> {
        let contract = self.contracts.get(contract_id)?;
        self.vouchers.get(&contract.terms.voucher_id).map(|voucher| voucher.fiscal_year)
    }

    fn set_status(&mut self, credit_code: &CreditCode, status: ApplicantStatus) {
        if let Some(applicant) = self.applicants.get_mut(credit_code) {
            applicant.status = status;
        }
    }
}

/// The deadline an event may open, move or resolve: the only place that says which events touch the deadline
/// index (an event not named here leaves every deadline's date as it was; `domain/tests/it/deadlines.rs`
/// checks the index against a rebuild after every event of random sequences).
fn deadline_touched(event: &Event) -> Option<Deadline> {
    match event {
        Event::VoucherIssued { voucher_id, .. } | Event::VoucherExpired { voucher_id, .. } => {
            Some(Deadline::Voucher(*voucher_id))
        }
        Event::ProviderApplied { application } => Some(Deadline::Provider(application.provider.clone())),
        Event::ProviderApproved { provider, .. }
        | Event::ProviderRejected { provider, .. }
        | Event::ProviderAdmitted { provider }
        | Event::ProviderSuspended { provider, .. } => Some(Deadline::Provider(provider.clone())),
        Event::ContractSubmitted { contract_id, .. }
        | Event::ContractFiled { contract_id, .. }
        | Event::ContractRejected { contract_id, .. }
        | Event::ContractCancelled { contract_id, .. }
        | Event::ServiceCompleted { contract_id, .. }
        | Event::RedemptionRequested { contract_id, .. }
        | Event::RedemptionWindowLapsed { contract_id, .. } => Some(Deadline::Contract(*contract_id)),
        Event::RedemptionsAnnounced { announcement_id, .. }
        | Event::RedemptionAnnouncementClosed { announcement_id } => {
            Some(Deadline::Announcement(*announcement_id))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{ApplicantStatus, RedemptionStatus};

    /// A redemption's status reads back as it was written (a snapshot holds the state), a refusal with the
    /// reason it was given; a reason `evolve` never writes does not read.
    #[test]
    fn a_redemption_status_reads_back_with_its_refusal_reason_and_no_other() {
        let statuses = [
            RedemptionStatus::Requested,
            RedemptionStatus::Approved,
            RedemptionStatus::Announced { announcement_id: uuid::Uuid::from_u128(3) },
            RedemptionStatus::Payable,
            RedemptionStatus::Disbursed,
            RedemptionStatus::Refused { reason: "rejected" },
            RedemptionStatus::Refused { reason: "struck" },
            RedemptionStatus::Refused { reason: "denied" },
        ];
        for status in statuses {
            let json = serde_json::to_string(&status).expect("json");
            assert_eq!(serde_json::from_str::<RedemptionStatus>(&json).expect(&json), status);
        }
        let unknown = serde_json::from_str::<RedemptionStatus>(r#"{"Refused":{"reason":"lost"}}"#);
        assert!(unknown.is_err_and(|error| error.to_string().contains("unknown refusal reason")));
    }

    /// The names a refusal and the read models give an applicant's standing.
    #[test]
    fn an_applicants_standing_has_a_stable_name_for_each_status() {
        let reason = || "documents do not match".to_owned();
        let names = [
            (ApplicantStatus::Pending, "pending"),
            (ApplicantStatus::Verified, "verified"),
            (ApplicantStatus::Rejected { reason: reason() }, "rejected"),
            (ApplicantStatus::Suspended { reason: reason() }, "suspended"),
        ];
        for (status, name) in names {
            assert_eq!(status.as_str(), name, "{status:?}");
        }
    }
}
