//! Double-entry bookkeeping per jurisdiction: the accounts of SPEC §5, postings, and the ledger invariants.
//!
//! Every money event is a posting that moves an amount from one account to another within one
//! jurisdiction, so each jurisdiction's accounts sum to zero by construction. The fiscal source is the
//! only account allowed to go negative: it is the city's money leaving the treasury.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Balance, Cny, CreditCode, Jurisdiction};

/// An account of one jurisdiction's ledger.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Account {
    /// The city's (or new area's) treasury; negative by what it has appropriated.
    FiscalSource,
    /// A fiscal year's appropriated money not yet given to a batch.
    Budget { fiscal_year: i32 },
    /// A batch's money not yet issued as vouchers.
    BatchPool { batch_id: Uuid },
    /// A voucher's money free to be committed to a contract.
    VoucherAvailable { voucher_id: Uuid },
    /// A voucher's money committed to filed contracts.
    VoucherCommitted { voucher_id: Uuid },
    /// What a provider is owed for completed services, until disbursed.
    ProviderReceivable { provider: CreditCode },
    /// Money paid out to providers.
    Disbursed,
    /// Money ordered back from providers and not yet recovered.
    ClawbackDue,
}

/// The kind of an account, as named in the trial balance (SPEC §5, snake case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    FiscalSource,
    Budget,
    BatchPool,
    VoucherAvailable,
    VoucherCommitted,
    ProviderReceivable,
    Disbursed,
    ClawbackDue,
}

impl AccountKind {
    /// Every kind, in the order of the trial balance.
    pub const ALL: [AccountKind; 8] = [
        AccountKind::FiscalSource,
        AccountKind::Budget,
        AccountKind::BatchPool,
        AccountKind::VoucherAvailable,
        AccountKind::VoucherCommitted,
        AccountKind::ProviderReceivable,
        AccountKind::Disbursed,
        AccountKind::ClawbackDue,
    ];

    /// The stable snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::FiscalSource => "fiscal_source",
            AccountKind::Budget => "budget",
            AccountKind::BatchPool => "batch_pool",
            AccountKind::VoucherAvailable => "voucher_available",
            AccountKind::VoucherCommitted => "voucher_committed",
            AccountKind::ProviderReceivable => "provider_receivable",
            AccountKind::Disbursed => "disbursed",
            AccountKind::ClawbackDue => "clawback_due",
        }
    }
}

impl Account {
    /// The account's kind.
    pub fn kind(&self) -> AccountKind {
        match self {
            Account::FiscalSource => AccountKind::FiscalSource,
            Account::Budget { .. } => AccountKind::Budget,
            Account::BatchPool { .. } => AccountKind::BatchPool,
            Account::VoucherAvailable { .. } => AccountKind::VoucherAvailable,
            Account::VoucherCommitted { .. } => AccountKind::VoucherCommitted,
            Account::ProviderReceivable { .. } => AccountKind::ProviderReceivable,
            Account::Disbursed => AccountKind::Disbursed,
            Account::ClawbackDue => AccountKind::ClawbackDue,
        }
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::FiscalSource => f.write_str("fiscal_source"),
            Account::Budget { fiscal_year } => write!(f, "budget:{fiscal_year}"),
            Account::BatchPool { batch_id } => write!(f, "batch_pool:{batch_id}"),
            Account::VoucherAvailable { voucher_id } => write!(f, "voucher_available:{voucher_id}"),
            Account::VoucherCommitted { voucher_id } => write!(f, "voucher_committed:{voucher_id}"),
            Account::ProviderReceivable { provider } => write!(f, "provider_receivable:{provider}"),
            Account::Disbursed => f.write_str("disbursed"),
            Account::ClawbackDue => f.write_str("clawback_due"),
        }
    }
}

/// A movement of `amount` from one account to another of the same jurisdiction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub jurisdiction: Jurisdiction,
    pub from_account: Account,
    pub to_account: Account,
    pub amount: Cny,
}

/// A broken ledger invariant. Seeing one means a bug or a tampered log, never a business outcome.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("{jurisdiction}: accounts sum to {total}, not zero")]
    Unbalanced { jurisdiction: Jurisdiction, total: Balance },
    #[error("{jurisdiction}: account {account} is negative ({balance})")]
    Negative { jurisdiction: Jurisdiction, account: String, balance: Balance },
    #[error("{0}")]
    Rule(String),
}

/// The balances of every account of both jurisdictions.
///
/// # Properties
/// - After any sequence of postings, each jurisdiction's balances sum to zero.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ledger {
    balances: HashMap<(Jurisdiction, Account), Balance>,
    /// The sum of each jurisdiction's accounts of each kind, kept with every posting (the trial balance
    /// without a walk over every account).
    totals: BTreeMap<(Jurisdiction, AccountKind), Balance>,
}

impl Ledger {
    /// Applies one posting.
    pub fn post(&mut self, posting: &Posting) {
        let from = self.balances.entry((posting.jurisdiction, posting.from_account.clone())).or_default();
        *from = from.sub(posting.amount);
        let to = self.balances.entry((posting.jurisdiction, posting.to_account.clone())).or_default();
        *to = to.add(posting.amount);
        let from =
            self.totals.entry((posting.jurisdiction, posting.from_account.kind())).or_insert(Balance::ZERO);
        *from = from.sub(posting.amount);
        let to =
            self.totals.entry((posting.jurisdiction, posting.to_account.kind())).or_insert(Balance::ZERO);
        *to = to.add(posting.amount);
    }

    /// The balance of one account (zero when it never moved).
    pub fn balance(&self, jurisdiction: Jurisdiction, account: &Account) -> Balance {
        self.balances.get(&(jurisdiction, account.clone())).copied().unwrap_or_default()
    }

    /// The trial balance of a jurisdiction: the sum of its accounts by kind, every kind listed.
    pub fn trial_balance(&self, jurisdiction: Jurisdiction) -> BTreeMap<AccountKind, Balance> {
        AccountKind::ALL
            .iter()
            .map(|kind| (*kind, self.totals.get(&(jurisdiction, *kind)).copied().unwrap_or(Balance::ZERO)))
            .collect()
    }

    /// The ledger invariants of SPEC §5 that the balances alone can show.
    pub fn violations(&self) -> Vec<Violation> {
        let mut violations = Vec::new();
        for jurisdiction in Jurisdiction::ALL {
            let total =
                self.trial_balance(*jurisdiction).values().fold(Balance::ZERO, |sum, b| sum.checked_add(*b));
            if !total.is_zero() {
                violations.push(Violation::Unbalanced { jurisdiction: *jurisdiction, total });
            }
        }
        let mut negatives: Vec<_> = self
            .balances
            .iter()
            .filter(|((_, account), balance)| *account != Account::FiscalSource && balance.is_negative())
            .map(|((jurisdiction, account), balance)| Violation::Negative {
                jurisdiction: *jurisdiction,
                account: account.to_string(),
                balance: *balance,
            })
            .collect();
        negatives.sort_by_key(|violation| violation.to_string());
        violations.extend(negatives);
        violations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cny(fen: u64) -> Cny {
        Cny::from_fen(fen).expect("positive test amount")
    }

    #[test]
    fn a_posting_moves_money_and_keeps_the_sum_at_zero() {
        let mut ledger = Ledger::default();
        ledger.post(&Posting {
            jurisdiction: Jurisdiction::Guiyang,
            from_account: Account::FiscalSource,
            to_account: Account::Budget { fiscal_year: 2025 },
            amount: cny(10_000),
        });
        assert_eq!(ledger.balance(Jurisdiction::Guiyang, &Account::FiscalSource).to_string(), "-100.00");
        assert_eq!(
            ledger.balance(Jurisdiction::Guiyang, &Account::Budget { fiscal_year: 2025 }).to_string(),
            "100.00"
        );
        assert_eq!(ledger.balance(Jurisdiction::Guian, &Account::FiscalSource), Balance::ZERO);
        assert!(ledger.violations().is_empty());
    }

    #[test]
    fn an_overdrawn_account_is_a_violation() {
        let mut ledger = Ledger::default();
        ledger.post(&Posting {
            jurisdiction: Jurisdiction::Guian,
            from_account: Account::Budget { fiscal_year: 2025 },
            to_account: Account::Disbursed,
            amount: cny(1),
        });
        let violations = ledger.violations();
        assert_eq!(violations.len(), 1);
        assert!(matches!(&violations[0], Violation::Negative { account, .. } if account == "budget:2025"));
    }

    proptest! {
        #[test]
        fn postings_always_sum_to_zero(moves in proptest::collection::vec((0usize..4, 0usize..4, 1u64..100_000_000), 0..50)) {
            let accounts = [
                Account::FiscalSource,
                Account::Budget { fiscal_year: 2025 },
                Account::Disbursed,
                Account::ClawbackDue,
            ];
            let mut ledger = Ledger::default();
            for (from, to, fen) in moves {
                ledger.post(&Posting {
                    jurisdiction: Jurisdiction::Guiyang,
                    from_account: accounts[from].clone(),
                    to_account: accounts[to].clone(),
                    amount: cny(fen),
                });
            }
            let total = ledger
                .trial_balance(Jurisdiction::Guiyang)
                .values()
                .fold(Balance::ZERO, |sum, b| sum.checked_add(*b));
            prop_assert!(total.is_zero());
        }
    }
}
