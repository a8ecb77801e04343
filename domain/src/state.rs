//! The decision state and `evolve`: what the ledger knows after folding its events. No business rules here:
//! `evolve` cannot fail; the rules live in `decide`.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::event::{BatchGuide, Registration};
use crate::{
    Account, ApplicantKind, Balance, Calendar, Cny, CreditCode, Event, Jurisdiction, Ledger, PolicyBook,
};

/// An applicant's standing.
#[derive(Clone, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicantState {
    pub registration: Registration,
    pub status: ApplicantStatus,
}

/// A fiscal year's budget of one jurisdiction. Its available money is the `budget` account's balance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BudgetState {
    pub appropriated: Balance,
    pub allocated_to_batches: Balance,
    pub returned_from_batches: Balance,
}

/// A published batch. Its remaining money is the `batch_pool` account's balance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchState {
    pub guide: BatchGuide,
    pub issued: Balance,
    pub vouchers_issued: u32,
    pub closed: bool,
    /// Claims per applicant.
    pub claims: HashMap<CreditCode, u32>,
}

/// An issued voucher. Its balances are the `voucher_available` and `voucher_committed` accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoucherState {
    pub batch_id: Uuid,
    pub jurisdiction: Jurisdiction,
    pub applicant: CreditCode,
    pub kind: ApplicantKind,
    pub face_value: Cny,
    pub valid_until: NaiveDate,
}

/// Everything `decide` needs, folded from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
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
        }
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

    /// Folds one recorded event into the state.
    pub fn evolve(&mut self, event: &Event) {
        for posting in event.postings() {
            self.ledger.post(&posting);
        }
        match event {
            Event::PolicyPublished { policy } => self.policies.record(policy.clone()),
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
                    batch.vouchers_issued += 1;
                    *batch.claims.entry(applicant.clone()).or_default() += 1;
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
                    },
                );
            }
            _ => self.evolve_regulation(event),
        }
    }

    /// Folds the events of the regulation's later lifecycles (providers, contracts, redemptions, audits).
    fn evolve_regulation(&mut self, _event: &Event) {}

    fn set_status(&mut self, credit_code: &CreditCode, status: ApplicantStatus) {
        if let Some(applicant) = self.applicants.get_mut(credit_code) {
            applicant.status = status;
        }
    }
}
