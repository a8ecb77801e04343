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
    /// Money released to vouchers after their expiry and returned here (`ReturnedAfterExpiry`).
    pub returned_after_expiry: Balance,
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

/// What the ledger owes and paid one provider, from the events that moved its money. Its open receivable
/// is the ledger's `provider_receivable` account (see [`Balances::provider`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderBalanceView {
    pub provider: CreditCode,
    pub jurisdiction: Jurisdiction,
    /// Services confirmed complete: money moved from vouchers to the provider's receivable.
    pub completed: Balance,
    /// Money that returned from the receivable to the budget (reduced, rejected, struck, denied, lapsed).
    pub returned: Balance,
    pub disbursed: Balance,
    pub clawed_back: Balance,
    pub recovered: Balance,
    pub contracts_completed: u32,
    pub redemptions_disbursed: u32,
}

/// The balances read model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Balances {
    ledger: Ledger,
    budgets: BTreeMap<(Jurisdiction, i32), BudgetView>,
    batches: HashMap<Uuid, BatchView>,
    vouchers: HashMap<Uuid, VoucherView>,
    issued: HashMap<(CreditCode, i32), IssuedView>,
    providers: HashMap<CreditCode, ProviderBalanceView>,
    /// Who each clawback is owed by, so a recovery can be credited to its provider.
    clawback_providers: HashMap<Uuid, CreditCode>,
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

    /// Every voucher with its available and committed balances, in issuance order.
    pub fn vouchers(&self) -> Vec<(&VoucherView, Balance, Balance)> {
        let mut vouchers: Vec<_> = self.vouchers.keys().filter_map(|id| self.voucher(*id)).collect();
        vouchers.sort_by_key(|(view, _, _)| view.issued_at_position);
        vouchers
    }

    /// Every batch with its remaining money, in publication order.
    pub fn batches(&self) -> Vec<(&BatchView, Balance)> {
        let mut batches: Vec<_> = self.batches.keys().filter_map(|id| self.batch(*id)).collect();
        batches.sort_by_key(|(view, _)| view.published_at_position);
        batches
    }

    /// Every budget with its available money, by jurisdiction and fiscal year.
    pub fn budgets(&self) -> Vec<(Jurisdiction, i32, &BudgetView, Balance)> {
        self.budgets
            .iter()
            .map(|((jurisdiction, year), view)| {
                let available = self.ledger.balance(*jurisdiction, &Account::Budget { fiscal_year: *year });
                (*jurisdiction, *year, view, available)
            })
            .collect()
    }

    /// What every applicant was issued per calendar year, by credit code and year.
    pub fn issued_by_year(&self) -> Vec<(&CreditCode, i32, &IssuedView)> {
        let mut rows: Vec<_> = self.issued.iter().map(|((code, year), view)| (code, *year, view)).collect();
        rows.sort_by(|a, b| (a.0.as_str(), a.1).cmp(&(b.0.as_str(), b.1)));
        rows
    }

    /// A provider's money and its open receivable.
    pub fn provider(&self, provider: &CreditCode) -> Option<(&ProviderBalanceView, Balance)> {
        let view = self.providers.get(provider)?;
        let receivable = self
            .ledger
            .balance(view.jurisdiction, &Account::ProviderReceivable { provider: provider.clone() });
        Some((view, receivable))
    }

    /// Every provider whose money has moved, with its open receivable, by credit code.
    pub fn providers(&self) -> Vec<(&ProviderBalanceView, Balance)> {
        let mut rows: Vec<_> = self.providers.keys().filter_map(|code| self.provider(code)).collect();
        rows.sort_by(|a, b| a.0.provider.as_str().cmp(b.0.provider.as_str()));
        rows
    }

    fn provider_mut(
        &mut self,
        provider: &CreditCode,
        jurisdiction: Jurisdiction,
    ) -> &mut ProviderBalanceView {
        self.providers.entry(provider.clone()).or_insert_with(|| ProviderBalanceView {
            provider: provider.clone(),
            jurisdiction,
            completed: Balance::ZERO,
            returned: Balance::ZERO,
            disbursed: Balance::ZERO,
            clawed_back: Balance::ZERO,
            recovered: Balance::ZERO,
            contracts_completed: 0,
            redemptions_disbursed: 0,
        })
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
            Event::ReturnedAfterExpiry { jurisdiction, fiscal_year, returned, .. } => {
                let budget = self.budgets.entry((*jurisdiction, *fiscal_year)).or_default();
                budget.returned_after_expiry = budget.returned_after_expiry.add(*returned);
            }
            Event::ServiceCompleted { jurisdiction, provider, amount, .. } => {
                let view = self.provider_mut(provider, *jurisdiction);
                view.completed = view.completed.add(*amount);
                view.contracts_completed += 1;
            }
            Event::RedemptionReviewed { jurisdiction, provider, returned: Some(returned), .. }
            | Event::RedemptionStruck { jurisdiction, provider, returned, .. }
            | Event::RedemptionDenied { jurisdiction, provider, returned, .. }
            | Event::RedemptionWindowLapsed { jurisdiction, provider, returned, .. } => {
                let view = self.provider_mut(provider, *jurisdiction);
                view.returned = view.returned.add(*returned);
            }
            Event::RedemptionDisbursed { jurisdiction, provider, amount, .. } => {
                let view = self.provider_mut(provider, *jurisdiction);
                view.disbursed = view.disbursed.add(*amount);
                view.redemptions_disbursed += 1;
            }
            Event::ClawbackOrdered { clawback_id, jurisdiction, provider, amount, .. } => {
                self.clawback_providers.insert(*clawback_id, provider.clone());
                let view = self.provider_mut(provider, *jurisdiction);
                view.clawed_back = view.clawed_back.add(*amount);
            }
            Event::ClawbackRecovered { clawback_id, jurisdiction, amount } => {
                if let Some(provider) = self.clawback_providers.get(clawback_id).cloned() {
                    let view = self.provider_mut(&provider, *jurisdiction);
                    view.recovered = view.recovered.add(*amount);
                }
            }
            _ => {}
        }
    }
}
