//! The double-entry ledger of SPEC §5 on its own: the names of its accounts (the trial balance's and the
//! audit exports' column values), which kind each account is, trial balances kept per jurisdiction, and the
//! violations it reports.

use crate::support::*;
use domain::{Account, AccountKind, Balance, Jurisdiction, Ledger, Posting};

fn every_account() -> Vec<Account> {
    vec![
        Account::FiscalSource,
        Account::Budget { fiscal_year: 2025 },
        Account::BatchPool { batch_id: id(BATCH) },
        Account::VoucherAvailable { voucher_id: id(VOUCHER) },
        Account::VoucherCommitted { voucher_id: id(VOUCHER) },
        Account::ProviderReceivable { provider: code(PROVIDER) },
        Account::Disbursed,
        Account::ClawbackDue,
    ]
}

fn posting(jurisdiction: Jurisdiction, from: Account, to: Account, amount: &str) -> Posting {
    Posting { jurisdiction, from_account: from, to_account: to, amount: cny(amount) }
}

#[test]
fn every_account_kind_is_named_in_snake_case_as_it_is_serialized() {
    let names: Vec<&str> = AccountKind::ALL.iter().map(|kind| kind.as_str()).collect();
    assert_eq!(
        names,
        [
            "fiscal_source",
            "budget",
            "batch_pool",
            "voucher_available",
            "voucher_committed",
            "provider_receivable",
            "disbursed",
            "clawback_due"
        ]
    );
    for kind in AccountKind::ALL {
        assert_eq!(serde_json::to_value(kind).expect("json"), serde_json::json!(kind.as_str()));
    }
}

#[test]
fn every_account_has_its_kind_and_a_name_that_starts_with_it() {
    let accounts = every_account();
    let kinds: Vec<AccountKind> = accounts.iter().map(Account::kind).collect();
    assert_eq!(kinds, AccountKind::ALL);
    let names: Vec<String> = accounts.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "fiscal_source".to_owned(),
            "budget:2025".to_owned(),
            format!("batch_pool:{}", id(BATCH)),
            format!("voucher_available:{}", id(VOUCHER)),
            format!("voucher_committed:{}", id(VOUCHER)),
            format!("provider_receivable:{}", code(PROVIDER)),
            "disbursed".to_owned(),
            "clawback_due".to_owned(),
        ]
    );
}

#[test]
fn a_trial_balance_lists_every_kind_and_counts_only_its_own_jurisdiction() {
    let mut ledger = Ledger::default();
    ledger.post(&posting(GY, Account::FiscalSource, Account::Budget { fiscal_year: 2025 }, "1000.00"));
    ledger.post(&posting(GY, Account::FiscalSource, Account::Budget { fiscal_year: 2026 }, "500.00"));
    ledger.post(&posting(GA, Account::FiscalSource, Account::Budget { fiscal_year: 2025 }, "70.00"));
    ledger.post(&posting(GA, Account::Budget { fiscal_year: 2025 }, Account::Disbursed, "20.00"));

    let guiyang = ledger.trial_balance(GY);
    assert_eq!(guiyang.keys().copied().collect::<Vec<_>>(), AccountKind::ALL);
    assert_eq!(guiyang[&AccountKind::FiscalSource], Balance::from_fen(-150_000));
    assert_eq!(guiyang[&AccountKind::Budget], Balance::from_fen(150_000), "two fiscal years, one kind");
    assert_eq!(guiyang[&AccountKind::Disbursed], Balance::ZERO, "Gui'an's payment is not Guiyang's");

    let guian = ledger.trial_balance(GA);
    assert_eq!(guian[&AccountKind::FiscalSource], Balance::from_fen(-7_000));
    assert_eq!(guian[&AccountKind::Budget], Balance::from_fen(5_000));
    assert_eq!(guian[&AccountKind::Disbursed], Balance::from_fen(2_000));
    assert!(ledger.violations().is_empty(), "{:?}", ledger.violations());
}

#[test]
fn only_the_fiscal_source_may_go_negative_and_negatives_are_listed_by_name() {
    let mut ledger = Ledger::default();
    ledger.post(&posting(GY, Account::FiscalSource, Account::Disbursed, "1.00"));
    assert!(ledger.violations().is_empty(), "the treasury is negative by what it gave");

    ledger.post(&posting(GY, Account::ClawbackDue, Account::Disbursed, "2.00"));
    ledger.post(&posting(GA, Account::Budget { fiscal_year: 2025 }, Account::Disbursed, "3.00"));
    let shown: Vec<String> = ledger.violations().iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            format!("{GA}: account budget:2025 is negative (-3.00)"),
            format!("{GY}: account clawback_due is negative (-2.00)"),
        ]
    );
}

// 256 cases of up to 60 postings over 14 accounts of every kind in both jurisdictions: every kind, both
// jurisdictions and repeated accounts (an account posted from and to, several of one kind) occur in almost
// every case, and each case is microseconds.
proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    /// The trial balance is kept with every posting: it equals the sum, per kind, of the balances of the
    /// accounts posted to, in each jurisdiction, after any sequence of postings.
    #[test]
    fn the_kept_trial_balance_equals_the_sum_of_the_accounts_by_kind(
        moves in proptest::collection::vec((0usize..14, 0usize..14, proptest::bool::ANY, 1i64..1_000_000), 0..60),
    ) {
        let accounts: Vec<Account> = every_account()
            .into_iter()
            .chain([
                Account::Budget { fiscal_year: 2026 },
                Account::BatchPool { batch_id: id(BATCH + 1) },
                Account::VoucherAvailable { voucher_id: id(VOUCHER + 1) },
                Account::VoucherCommitted { voucher_id: id(VOUCHER + 1) },
                Account::ProviderReceivable { provider: code(PROVIDER + 1) },
                Account::VoucherAvailable { voucher_id: id(VOUCHER + 2) },
            ])
            .collect();
        let mut ledger = Ledger::default();
        for (from, to, guian, fen) in &moves {
            let jurisdiction = if *guian { GA } else { GY };
            let amount = Balance::from_fen(*fen).to_string();
            ledger.post(&posting(jurisdiction, accounts[*from].clone(), accounts[*to].clone(), &amount));
        }
        for jurisdiction in [GY, GA] {
            let kept = ledger.trial_balance(jurisdiction);
            for kind in AccountKind::ALL {
                let summed = accounts
                    .iter()
                    .filter(|account| account.kind() == kind)
                    .fold(Balance::ZERO, |sum, account| sum.checked_add(ledger.balance(jurisdiction, account)));
                proptest::prop_assert_eq!(kept[&kind], summed, "{} {}", jurisdiction, kind.as_str());
            }
            let total = kept.values().fold(Balance::ZERO, |sum, balance| sum.checked_add(*balance));
            proptest::prop_assert!(total.is_zero(), "{} sums to {}", jurisdiction, total);
        }
    }
}
