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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BudgetView {
    pub appropriated: Balance,
    pub allocated_to_batches: Balance,
    pub returned_from_batches: Balance,
    /// Money released to vouchers after their expiry and returned here (`ReturnedAfterExpiry`).
    pub returned_after_expiry: Balance,
    pub batches: u32,
}

/// A batch and what it has issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct IssuedView {
    pub issued_total: Balance,
    pub vouchers: u32,
    /// The annual cap applied to the last issuance of the year.
    pub annual_cap: Option<Cny>,
}

/// What the ledger owes and paid one provider in one jurisdiction, from the events that moved its money
/// there (SPEC §8: per jurisdiction it was paid in). Its open receivable is that jurisdiction's
/// `provider_receivable` account (see [`Balances::provider_by_jurisdiction`]); [`Balances::provider`] sums
/// the jurisdictions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ProviderBalanceView {
    pub provider: CreditCode,
    /// The jurisdiction whose money these figures are (in a total: the first jurisdiction it was paid in).
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

/// A jurisdiction's fiscal year's money by stage (the bureau's dashboard), kept up to date as the events
/// arrive: a voucher's money counts in the fiscal year of the batch it was issued from, a redemption's in the
/// fiscal year its review names (the same year).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct YearMoneyView {
    /// Face value of the vouchers issued from the year's batches.
    pub issued: Balance,
    /// The same, by month of issuance (1 to 12).
    pub issued_by_month: BTreeMap<u32, Balance>,
    /// Committed to filed contracts, not yet completed, cancelled or expired.
    pub committed: Balance,
    /// Services confirmed complete whose redemption is not yet reviewed (requested, or not yet requested).
    pub completed_to_review: Balance,
    /// Approved by the review and not yet paid (in announcement, payable), nor struck or denied.
    pub approved_to_pay: Balance,
    /// Paid to providers.
    pub paid: Balance,
    /// Ordered back from providers.
    pub clawed_back: Balance,
}

/// The year and the approved money not yet paid of a reviewed redemption (for [`YearMoneyView`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
struct ReviewedMoney {
    jurisdiction: Jurisdiction,
    fiscal_year: i32,
    to_pay: Balance,
}

/// The balances read model.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Balances {
    ledger: Ledger,
    budgets: BTreeMap<(Jurisdiction, i32), BudgetView>,
    batches: HashMap<Uuid, BatchView>,
    vouchers: HashMap<Uuid, VoucherView>,
    issued: HashMap<(CreditCode, i32), IssuedView>,
    providers: HashMap<(CreditCode, Jurisdiction), ProviderBalanceView>,
    /// Who each clawback is owed by, so a recovery can be credited to its provider.
    clawback_providers: HashMap<Uuid, CreditCode>,
    years: BTreeMap<(Jurisdiction, i32), YearMoneyView>,
    /// Approved redemptions: their year, and what of the approval is not yet paid.
    reviewed: HashMap<Uuid, ReviewedMoney>,
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

    /// A jurisdiction's fiscal year's money by stage (zero when nothing moved in it).
    pub fn year_money(&self, jurisdiction: Jurisdiction, fiscal_year: i32) -> YearMoneyView {
        self.years.get(&(jurisdiction, fiscal_year)).cloned().unwrap_or_default()
    }

    /// The year of a voucher's batch.
    fn voucher_year(&self, voucher_id: Uuid) -> Option<(Jurisdiction, i32)> {
        let voucher = self.vouchers.get(&voucher_id)?;
        let batch = self.batches.get(&voucher.batch_id)?;
        Some((batch.guide.jurisdiction, batch.guide.fiscal_year))
    }

    /// Keeps the money committed to contracts per year: a posting into or out of a voucher's committed
    /// account moves it.
    fn count_committed(&mut self, posting: &domain::Posting) {
        for (account, sign) in [(&posting.to_account, true), (&posting.from_account, false)] {
            if let Account::VoucherCommitted { voucher_id } = account
                && let Some(key) = self.voucher_year(*voucher_id)
            {
                let year = self.years.entry(key).or_default();
                year.committed =
                    if sign { year.committed.add(posting.amount) } else { year.committed.sub(posting.amount) };
            }
        }
    }

    /// A redemption's money returned to the budget (reduced, rejected, struck, denied): what of it was
    /// approved leaves "approved, to pay", the rest leaves "completed, to review".
    fn count_returned(&mut self, redemption_id: Option<Uuid>, key: (Jurisdiction, i32), returned: Cny) {
        let approved = redemption_id
            .and_then(|id| self.reviewed.get_mut(&id))
            .map_or(Balance::ZERO, |reviewed| std::mem::take(&mut reviewed.to_pay));
        let year = self.years.entry(key).or_default();
        year.approved_to_pay = year.approved_to_pay.checked_sub(approved);
        year.completed_to_review =
            year.completed_to_review.checked_sub(Balance::from(returned).checked_sub(approved));
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

    /// Every voucher without its balances, in no particular order (for sums over many vouchers: a
    /// voucher's balances are two lookups each, [`Balances::voucher`]).
    pub fn voucher_views(&self) -> impl Iterator<Item = &VoucherView> {
        self.vouchers.values()
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

    /// A provider's money in each jurisdiction it was paid in, with that jurisdiction's open receivable, in
    /// jurisdiction order.
    pub fn provider_by_jurisdiction(&self, provider: &CreditCode) -> Vec<(&ProviderBalanceView, Balance)> {
        Jurisdiction::ALL
            .iter()
            .filter_map(|jurisdiction| self.providers.get(&(provider.clone(), *jurisdiction)))
            .map(|view| (view, self.provider_receivable(view)))
            .collect()
    }

    /// A provider's money summed over the jurisdictions it was paid in, and its open receivable in all.
    pub fn provider(&self, provider: &CreditCode) -> Option<(ProviderBalanceView, Balance)> {
        let mut rows = self.provider_by_jurisdiction(provider).into_iter();
        let (first, receivable) = rows.next()?;
        let mut total = first.clone();
        let mut receivable = receivable;
        for (view, open) in rows {
            total.completed = total.completed.checked_add(view.completed);
            total.returned = total.returned.checked_add(view.returned);
            total.disbursed = total.disbursed.checked_add(view.disbursed);
            total.clawed_back = total.clawed_back.checked_add(view.clawed_back);
            total.recovered = total.recovered.checked_add(view.recovered);
            total.contracts_completed = total.contracts_completed.saturating_add(view.contracts_completed);
            total.redemptions_disbursed =
                total.redemptions_disbursed.saturating_add(view.redemptions_disbursed);
            receivable = receivable.checked_add(open);
        }
        Some((total, receivable))
    }

    /// Every provider whose money has moved, one row per provider and jurisdiction it was paid in, with that
    /// jurisdiction's open receivable, by credit code then jurisdiction.
    pub fn providers(&self) -> Vec<(&ProviderBalanceView, Balance)> {
        let mut rows: Vec<_> =
            self.providers.values().map(|view| (view, self.provider_receivable(view))).collect();
        rows.sort_by(|a, b| {
            (a.0.provider.as_str(), a.0.jurisdiction).cmp(&(b.0.provider.as_str(), b.0.jurisdiction))
        });
        rows
    }

    /// Keeps [`YearMoneyView`] up to date with one record (the committed money is kept from the postings).
    fn count_year_money(&mut self, record: &Recorded) {
        match &record.event {
            Event::VoucherIssued { batch_id, face_value, .. } => {
                let Some(batch) = self.batches.get(batch_id) else { return };
                let key = (batch.guide.jurisdiction, batch.guide.fiscal_year);
                let month = chrono::Datelike::month(&record.meta.business_date);
                let year = self.years.entry(key).or_default();
                year.issued = year.issued.add(*face_value);
                let in_month = year.issued_by_month.entry(month).or_default();
                *in_month = in_month.add(*face_value);
            }
            Event::ServiceCompleted { voucher_id, amount, .. } => {
                if let Some(key) = self.voucher_year(*voucher_id) {
                    let year = self.years.entry(key).or_default();
                    year.completed_to_review = year.completed_to_review.add(*amount);
                }
            }
            Event::RedemptionReviewed { redemption_id, jurisdiction, fiscal_year, approved, returned, .. } => {
                let key = (*jurisdiction, *fiscal_year);
                let year = self.years.entry(key).or_default();
                if let Some(approved) = approved {
                    year.completed_to_review = year.completed_to_review.sub(*approved);
                    year.approved_to_pay = year.approved_to_pay.add(*approved);
                    self.reviewed.insert(
                        *redemption_id,
                        ReviewedMoney {
                            jurisdiction: *jurisdiction,
                            fiscal_year: *fiscal_year,
                            to_pay: Balance::from(*approved),
                        },
                    );
                }
                if let Some(returned) = returned {
                    let year = self.years.entry(key).or_default();
                    year.completed_to_review = year.completed_to_review.sub(*returned);
                }
            }
            Event::RedemptionStruck { redemption_id, jurisdiction, fiscal_year, returned, .. }
            | Event::RedemptionDenied { redemption_id, jurisdiction, fiscal_year, returned, .. } => {
                self.count_returned(Some(*redemption_id), (*jurisdiction, *fiscal_year), *returned);
            }
            Event::RedemptionWindowLapsed { jurisdiction, fiscal_year, returned, .. } => {
                self.count_returned(None, (*jurisdiction, *fiscal_year), *returned);
            }
            Event::RedemptionDisbursed { redemption_id, amount, .. } => {
                let Some(reviewed) = self.reviewed.get_mut(redemption_id) else { return };
                reviewed.to_pay = reviewed.to_pay.sub(*amount);
                let key = (reviewed.jurisdiction, reviewed.fiscal_year);
                let year = self.years.entry(key).or_default();
                year.approved_to_pay = year.approved_to_pay.sub(*amount);
                year.paid = year.paid.add(*amount);
            }
            Event::ClawbackOrdered { redemption_id, amount, .. } => {
                let Some(reviewed) = self.reviewed.get(redemption_id) else { return };
                let key = (reviewed.jurisdiction, reviewed.fiscal_year);
                let year = self.years.entry(key).or_default();
                year.clawed_back = year.clawed_back.add(*amount);
            }
            _ => {}
        }
    }

    fn provider_receivable(&self, view: &ProviderBalanceView) -> Balance {
        self.ledger
            .balance(view.jurisdiction, &Account::ProviderReceivable { provider: view.provider.clone() })
    }

    fn provider_mut(
        &mut self,
        provider: &CreditCode,
        jurisdiction: Jurisdiction,
    ) -> &mut ProviderBalanceView {
        self.providers.entry((provider.clone(), jurisdiction)).or_insert_with(|| ProviderBalanceView {
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
            self.count_committed(&posting);
        }
        self.count_year_money(record);
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

#[cfg(test)]
mod provider_balance_tests {
    use chrono::NaiveDate;
    use domain::{Cny, CreditCode, Event, Jurisdiction};
    use uuid::Uuid;

    use super::Balances;
    use crate::ReadModel;
    use crate::testing::record;

    fn cny(text: &str) -> Cny {
        Cny::parse(text).expect("test amount")
    }

    fn completed(n: u128, jurisdiction: Jurisdiction, provider: &CreditCode, amount: &str) -> Event {
        let day = |text: &str| text.parse::<NaiveDate>().expect("test date");
        Event::ServiceCompleted {
            contract_id: Uuid::from_u128(n),
            voucher_id: Uuid::from_u128(100 + n),
            jurisdiction,
            provider: provider.clone(),
            amount: cny(amount),
            completed_on: day("2025-06-02"),
            redemption_deadline: day("2025-08-01"),
        }
    }

    #[test]
    fn a_provider_paid_in_both_jurisdictions_shows_each_and_the_total() {
        // Given a provider that completed services in guiyang (80,000.00, of which 50,000.00 disbursed)
        // and in guian (30,000.00, nothing disbursed yet).
        let provider =
            domain::credit_code::with_check_character("91520100000000050").expect("valid test code");
        let events = [
            completed(1, Jurisdiction::Guiyang, &provider, "80000.00"),
            completed(2, Jurisdiction::Guian, &provider, "30000.00"),
            Event::RedemptionDisbursed {
                redemption_id: Uuid::from_u128(9),
                jurisdiction: Jurisdiction::Guiyang,
                provider: provider.clone(),
                amount: cny("50000.00"),
                payment_reference: "GY-1".into(),
            },
        ];
        let mut balances = Balances::default();
        for (n, event) in events.into_iter().enumerate() {
            balances.apply(&record(n as u64 + 1, "2025-06-02", event));
        }
        // Then each jurisdiction shows its own money ...
        let rows: Vec<_> = balances
            .provider_by_jurisdiction(&provider)
            .into_iter()
            .map(|(view, receivable)| {
                (
                    view.jurisdiction,
                    view.completed.to_string(),
                    view.disbursed.to_string(),
                    receivable.to_string(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                (Jurisdiction::Guiyang, "80000.00".into(), "50000.00".into(), "30000.00".into()),
                (Jurisdiction::Guian, "30000.00".into(), "0.00".into(), "30000.00".into()),
            ]
        );
        // ... the total sums them (the receivable of both jurisdictions, not of one) ...
        let (total, receivable) = balances.provider(&provider).expect("a provider with money");
        assert_eq!(
            (total.completed.to_string(), total.disbursed.to_string(), receivable.to_string()),
            ("110000.00".into(), "50000.00".into(), "60000.00".into())
        );
        // ... and the export has one row per provider and jurisdiction.
        assert_eq!(balances.providers().len(), 2);
    }
}
