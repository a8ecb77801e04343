//! Balances: every account of both jurisdictions (the trial balance), budgets, batches, vouchers and what
//! each applicant was issued per year, folded from the postings of recorded events.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use domain::event::BatchGuide;
use domain::{Account, AccountKind, ApplicantKind, Balance, Cny, CreditCode, Event, Jurisdiction, Ledger};
use ledger_proto::Recorded;
use serde::Serialize;
use uuid::Uuid;

use crate::ReadModel;

/// A fiscal year's budget.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BudgetView {
    pub appropriated: Balance,
    pub allocated_to_batches: Balance,
    pub returned_from_batches: Balance,
    pub batches: u32,
}

/// A batch and what it has issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BatchView {
    pub batch_id: Uuid,
    #[serde(flatten)]
    pub guide: BatchGuide,
    pub issued: Balance,
    pub vouchers_issued: u32,
    pub closed: bool,
    pub returned_on_close: Option<Cny>,
    pub published_at_position: u64,
}

/// A voucher's identity; its balances come from the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VoucherView {
    pub voucher_id: Uuid,
    pub batch_id: Uuid,
    pub jurisdiction: Jurisdiction,
    pub applicant: CreditCode,
    pub kind: ApplicantKind,
    pub face_value: Cny,
    pub valid_until: NaiveDate,
    pub issued_on: NaiveDate,
    pub issued_at_position: u64,
}

/// What one applicant was issued in one calendar year.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IssuedView {
    pub issued_total: Balance,
    pub vouchers: u32,
    /// The annual cap applied to the last issuance of the year.
    pub annual_cap: Option<Cny>,
}

/// The balances read model.
#[derive(Clone, Debug, Default)]
pub struct Balances {
    ledger: Ledger,
    budgets: BTreeMap<(Jurisdiction, i32), BudgetView>,
    batches: HashMap<Uuid, BatchView>,
    vouchers: HashMap<Uuid, VoucherView>,
    issued: HashMap<(CreditCode, i32), IssuedView>,
}

impl Balances {
    /// The ledger of both jurisdictions.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The trial balance of a jurisdiction, by account kind, and its total (zero when the ledger balances).
    pub fn trial_balance(&self, jurisdiction: Jurisdiction) -> (BTreeMap<AccountKind, Balance>, Balance) {
        let accounts = self.ledger.trial_balance(jurisdiction);
        let total = accounts.values().fold(Balance::ZERO, |sum, balance| sum.checked_add(*balance));
        (accounts, total)
    }

    /// A fiscal year's budget and its available money.
    pub fn budget(&self, jurisdiction: Jurisdiction, fiscal_year: i32) -> Option<(&BudgetView, Balance)> {
        let view = self.budgets.get(&(jurisdiction, fiscal_year))?;
        Some((view, self.ledger.balance(jurisdiction, &Account::Budget { fiscal_year })))
    }

    /// A batch and its remaining money.
    pub fn batch(&self, batch_id: Uuid) -> Option<(&BatchView, Balance)> {
        let view = self.batches.get(&batch_id)?;
        Some((view, self.ledger.balance(view.guide.jurisdiction, &Account::BatchPool { batch_id })))
    }

    /// A voucher with its available and committed balances.
    pub fn voucher(&self, voucher_id: Uuid) -> Option<(&VoucherView, Balance, Balance)> {
        let view = self.vouchers.get(&voucher_id)?;
        let available = self.ledger.balance(view.jurisdiction, &Account::VoucherAvailable { voucher_id });
        let committed = self.ledger.balance(view.jurisdiction, &Account::VoucherCommitted { voucher_id });
        Some((view, available, committed))
    }

    /// What an applicant was issued in a calendar year (zero when nothing).
    pub fn issued(&self, credit_code: &CreditCode, year: i32) -> IssuedView {
        self.issued.get(&(credit_code.clone(), year)).cloned().unwrap_or_default()
    }

    /// Vouchers held by an applicant, in issuance order.
    pub fn vouchers_of(&self, credit_code: &CreditCode) -> Vec<&VoucherView> {
        let mut vouchers: Vec<_> = self.vouchers.values().filter(|v| &v.applicant == credit_code).collect();
        vouchers.sort_by_key(|voucher| voucher.issued_at_position);
        vouchers
    }

    /// Number of vouchers issued.
    pub fn voucher_count(&self) -> usize {
        self.vouchers.len()
    }
}

impl ReadModel for Balances {
    fn name(&self) -> &'static str {
        "balances"
    }

    fn apply(&mut self, record: &Recorded) {
        for posting in record.event.postings() {
            self.ledger.post(&posting);
        }
        match &record.event {
            Event::BudgetAppropriated { jurisdiction, fiscal_year, amount } => {
                let budget = self.budgets.entry((*jurisdiction, *fiscal_year)).or_default();
                budget.appropriated = budget.appropriated.add(*amount);
            }
            Event::BatchPublished { batch_id, guide } => {
                let budget = self.budgets.entry((guide.jurisdiction, guide.fiscal_year)).or_default();
                budget.allocated_to_batches = budget.allocated_to_batches.add(guide.total);
                budget.batches += 1;
                self.batches.insert(
                    *batch_id,
                    BatchView {
                        batch_id: *batch_id,
                        guide: guide.clone(),
                        issued: Balance::ZERO,
                        vouchers_issued: 0,
                        closed: false,
                        returned_on_close: None,
                        published_at_position: record.position,
                    },
                );
            }
            Event::BatchClosed { batch_id, jurisdiction, fiscal_year, returned } => {
                if let Some(batch) = self.batches.get_mut(batch_id) {
                    batch.closed = true;
                    batch.returned_on_close = *returned;
                }
                if let Some(returned) = returned {
                    let budget = self.budgets.entry((*jurisdiction, *fiscal_year)).or_default();
                    budget.returned_from_batches = budget.returned_from_batches.add(*returned);
                }
            }
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
            } => {
                if let Some(batch) = self.batches.get_mut(batch_id) {
                    batch.issued = batch.issued.add(*face_value);
                    batch.vouchers_issued += 1;
                }
                let issued = self.issued.entry((applicant.clone(), *cap_year)).or_default();
                issued.issued_total = issued.issued_total.add(*face_value);
                issued.vouchers += 1;
                issued.annual_cap = Some(*annual_cap);
                self.vouchers.insert(
                    *voucher_id,
                    VoucherView {
                        voucher_id: *voucher_id,
                        batch_id: *batch_id,
                        jurisdiction: *jurisdiction,
                        applicant: applicant.clone(),
                        kind: *kind,
                        face_value: *face_value,
                        valid_until: *valid_until,
                        issued_on: record.meta.business_date,
                        issued_at_position: record.position,
                    },
                );
            }
            _ => {}
        }
    }
}
