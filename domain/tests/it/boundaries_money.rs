//! Given/when/then tests of the regulation at the end of its policy (issue 14): money outlives its policy
//! (SPEC §3, Measures art. 11, 12, 14), an expired voucher holds no available money (SPEC §4 Voucher), and
//! the last days of December need the next year's holiday notice (SPEC §6).

use crate::support::*;
use domain::calendar::CalendarYear;
use domain::document::Sha256Hex;
use domain::event::ObjectionTarget;
use domain::event::{Finding, ProviderApplication, ReviewOutcome, Ruling};
use domain::{Account, Command, Event, PolicyBook, Role};

const CONTRACT: u128 = 1;
const REDEMPTION: u128 = 900;

/// A 2025 batch under the shipped Measures (which end 2025-12-31) whose vouchers are valid to 2025-12-31, a
/// verified enterprise holding a 100,000.00 voucher, and an admitted provider.
fn program() -> Vec<Event> {
    admitted_program(
        batch_guide("2025-12-31", &["inspection_testing"]),
        enterprise_registration(APPLICANT),
        application(PROVIDER),
    )
}

fn application(n: u32) -> ProviderApplication {
    provider_application(n, &format!("testing lab {n}"))
}

/// The program with the contract (total 100,000.00, voucher 80,000.00) submitted, signed and filed on
/// 2025-11-03.
fn filed() -> Vec<Event> {
    let mut given = program();
    let submit = Command::SubmitContract {
        contract_id: id(CONTRACT),
        voucher_id: id(VOUCHER),
        provider: code(PROVIDER),
        category: "inspection_testing".into(),
        description: "product certification testing".into(),
        term_start: day("2025-11-03"),
        term_end: day("2025-12-19"),
        total: cny("100000.00"),
        voucher_amount: cny("80000.00"),
        document_sha256: Sha256Hex::parse(&"cd".repeat(32)).expect("digest"),
    };
    assert_eq!(step(&mut given, &provider(), "2025-11-03", submit), "accepted");
    let sign = Command::SignContract { contract_id: id(CONTRACT) };
    assert_eq!(step(&mut given, &applicant(), "2025-11-03", sign), "accepted");
    let filing = Command::FileContract { contract_id: id(CONTRACT) };
    assert_eq!(step(&mut given, &staff(Role::ServiceCenter), "2025-11-03", filing), "accepted");
    given
}

/// Filed, completed 2025-12-22, redemption requested 2025-12-23 and approved in full on 2025-12-30: the last
/// days of the Measures.
fn approved_at_the_end() -> Vec<Event> {
    let mut given = filed();
    let confirm = Command::ConfirmCompletion { contract_id: id(CONTRACT) };
    assert_eq!(step(&mut given, &applicant(), "2025-12-22", confirm), "accepted");
    let request = Command::RequestRedemption {
        redemption_id: id(REDEMPTION),
        contract_id: id(CONTRACT),
        invoice: document("invoice.pdf"),
        remittance_proof: document("remittance.pdf"),
        results: vec![document("test report.pdf")],
    };
    assert_eq!(step(&mut given, &provider(), "2025-12-23", request), "accepted");
    let review = Command::ReviewRedemption { redemption_id: id(REDEMPTION), outcome: ReviewOutcome::Full };
    assert_eq!(step(&mut given, &staff(Role::Reviewer), "2025-12-30", review), "accepted");
    given
}

fn announce(announcement: u128) -> Command {
    Command::AnnounceRedemptions {
        announcement_id: id(announcement),
        jurisdiction: GY,
        redemption_ids: vec![id(REDEMPTION)],
    }
}

fn no_policy_after_the_measures() {
    let book = PolicyBook::shipped();
    assert!(book.in_force(domain::Jurisdiction::Guiyang, day("2025-12-31")).is_some());
    assert!(
        book.in_force(domain::Jurisdiction::Guiyang, day("2026-01-05")).is_none(),
        "the shipped Measures end 2025-12-31"
    );
}

// ---- point 1: money outlives its policy ----

#[test]
fn a_redemption_approved_at_the_end_of_the_measures_is_announced_and_paid_with_no_successor() {
    no_policy_after_the_measures();
    let mut given = approved_at_the_end();
    // Given the Measures expired and no successor was published, when the bureau announces the list on Monday
    // 2026-01-05, then it runs the batch's version's 5 working days: Jan 6, 7, 8, 9, 12.
    let events = check(&given, &staff(Role::Bureau), "2026-01-05", announce(950)).expect("announced");
    assert_eq!(
        events,
        vec![Event::RedemptionsAnnounced {
            announcement_id: id(950),
            jurisdiction: GY,
            redemption_ids: vec![id(REDEMPTION)],
            announced_on: day("2026-01-05"),
            closes_on: day("2026-01-12"),
        }]
    );
    given.extend(events);
    // Objections and rulings go on.
    let objection = Command::FileObjection {
        objection_id: id(60),
        target: ObjectionTarget::Redemption { redemption_id: id(REDEMPTION) },
        text: "the report is a copy".into(),
    };
    assert_eq!(step(&mut given, &public(), "2026-01-07", objection), "accepted");
    let dismiss = Command::RuleOnObjection {
        objection_id: id(60),
        ruling: Ruling::Dismissed,
        reason: "original".into(),
    };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2026-01-09", dismiss), "accepted");
    let close = Command::CloseRedemptionAnnouncement { announcement_id: id(950) };
    assert_eq!(step(&mut given, &system(), "2026-01-13", close), "accepted");
    // Disbursement.
    let disburse = Command::DisburseRedemption {
        redemption_id: id(REDEMPTION),
        payment_reference: "GY-2026-0001".into(),
    };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2026-01-14", disburse), "accepted");
    assert_eq!(balance(&given, Account::Disbursed), "80000.00");
    assert_eq!(balance(&given, Account::ProviderReceivable { provider: code(PROVIDER) }), "0.00");
    // Audit of the previous year, findings, clawback and recovery.
    let draw = Command::DrawSample {
        sample_id: id(70),
        jurisdiction: GY,
        year: 2025,
        size: 5,
        seed: "2026 audit".into(),
    };
    let drawn = check(&given, &staff(Role::Auditor), "2026-03-02", draw).expect("drawn");
    assert!(
        matches!(&drawn[..], [Event::SampleDrawn { contract_ids, .. }] if contract_ids == &vec![id(CONTRACT)])
    );
    given.extend(drawn);
    let finding = Command::RecordFinding {
        sample_id: id(70),
        contract_id: id(CONTRACT),
        finding: Finding::Irregular,
        note: "part of the service not delivered".into(),
    };
    assert_eq!(step(&mut given, &staff(Role::Auditor), "2026-03-09", finding), "accepted");
    let clawback = Command::OrderClawback {
        clawback_id: id(80),
        redemption_id: id(REDEMPTION),
        amount: cny("10000.00"),
        reason: "irregular finding".into(),
    };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2026-03-10", clawback), "accepted");
    let recovery = Command::RecordRecovery { clawback_id: id(80), amount: cny("10000.00") };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2026-03-20", recovery), "accepted");
    assert_eq!(balance(&given, Account::ClawbackDue), "0.00");
    // Only new issuance needs a version in force.
    let claim = Command::ClaimVoucher { batch_id: id(BATCH), voucher_id: id(78) };
    assert_eq!(step(&mut given, &applicant(), "2026-01-05", claim), "no_policy_in_force");
}

#[test]
fn denial_works_after_the_measures_end() {
    let mut given = approved_at_the_end();
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2026-01-05", announce(950)), "accepted");
    let deny = Command::DenyRedemption {
        redemption_id: id(REDEMPTION),
        ground: domain::event::DenialGround::Fraud,
        reason: "forged invoice".into(),
    };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2026-01-08", deny), "accepted");
    assert_eq!(balance(&given, Account::Budget { fiscal_year: 2025 }), "4080000.00");
}

#[test]
fn contracts_are_filed_and_completed_after_the_measures_end_while_the_voucher_is_valid() {
    // A voucher valid into 2026: filing, completion and redemption happen after the Measures end.
    let mut given = program();
    for event in &mut given {
        match event {
            Event::BatchPublished { guide, .. } => guide.valid_until = day("2026-06-30"),
            Event::VoucherIssued { valid_until, .. } => *valid_until = day("2026-06-30"),
            _ => {}
        }
    }
    let submit = |amount: &str| Command::SubmitContract {
        contract_id: id(CONTRACT),
        voucher_id: id(VOUCHER),
        provider: code(PROVIDER),
        category: "inspection_testing".into(),
        description: "testing".into(),
        term_start: day("2026-01-10"),
        term_end: day("2026-02-28"),
        total: cny("100000.00"),
        voucher_amount: cny(amount),
        document_sha256: Sha256Hex::parse(&"cd".repeat(32)).expect("digest"),
    };
    // The share cap is the batch's 80%, with no version in force.
    assert_eq!(step(&mut given, &provider(), "2026-01-06", submit("90000.00")), "share_cap_exceeded");
    assert_eq!(step(&mut given, &provider(), "2026-01-06", submit("80000.00")), "accepted");
    let sign = Command::SignContract { contract_id: id(CONTRACT) };
    assert_eq!(step(&mut given, &applicant(), "2026-01-06", sign), "accepted");
    let filing = Command::FileContract { contract_id: id(CONTRACT) };
    assert_eq!(step(&mut given, &staff(Role::ServiceCenter), "2026-01-07", filing), "accepted");
    let confirm = Command::ConfirmCompletion { contract_id: id(CONTRACT) };
    let events = check(&given, &applicant(), "2026-03-02", confirm).expect("completed");
    // The batch's 60 days after completion.
    assert!(matches!(&events[..], [Event::ServiceCompleted { redemption_deadline, .. }]
        if *redemption_deadline == day("2026-05-01")));
}

#[test]
fn a_list_takes_its_items_batch_version_not_the_successor_in_force() {
    // Given a successor in force from 2026 that announces redemptions for 10 working days, a redemption of a
    // measures-2023 batch is still announced for that version's 5 (Measures art. 11, SPEC §3).
    let mut given = approved_at_the_end();
    let mut successor = PolicyBook::shipped().versions()[0].clone();
    successor.id = "measures-2026".into();
    successor.effective_from = day("2026-01-01");
    successor.effective_until = day("2028-12-31");
    successor.redemption_announcement_working_days = 10;
    given.push(Event::PolicyPublished { policy: successor });
    let events = check(&given, &staff(Role::Bureau), "2026-01-05", announce(950)).expect("announced");
    assert!(matches!(&events[..], [Event::RedemptionsAnnounced { closes_on, .. }]
        if *closes_on == day("2026-01-12")));
}

#[test]
fn a_pending_provider_application_is_decided_after_the_measures_end_but_a_new_one_is_refused() {
    let mut given = program();
    let apply = Command::ApplyAsProvider {
        name: "design studio".into(),
        categories: ["inspection_testing".to_owned()].into_iter().collect(),
        qualifications: vec![document("licence.pdf")],
        contact: "studio@example.cn".into(),
    };
    assert_eq!(step(&mut given, &provider_of(501), "2025-12-30", apply.clone()), "accepted");
    // Decided under the last version that was in force: its 5 working days from Mon 2026-01-05.
    let approve = Command::DecideProvider { provider: code(501), approve: true, reason: String::new() };
    let events = check(&given, &staff(Role::Bureau), "2026-01-05", approve).expect("approved");
    assert!(matches!(&events[..], [Event::ProviderApproved { announcement_closes, .. }]
        if *announcement_closes == day("2026-01-12")));
    // A new application needs a version in force.
    assert_eq!(step(&mut given, &provider_of(502), "2026-01-05", apply), "no_policy_in_force");
}

// ---- point 2: an expired voucher holds no available money ----

#[test]
fn a_filed_contract_of_an_expired_voucher_cancelled_returns_its_money_to_the_budget() {
    let mut given = filed();
    // The voucher expires: its 20,000.00 available returns to the budget; 80,000.00 stay committed.
    let expire = Command::ExpireVoucher { voucher_id: id(VOUCHER) };
    assert_eq!(step(&mut given, &system(), "2026-01-01", expire), "accepted");
    assert_eq!(balance(&given, Account::VoucherAvailable { voucher_id: id(VOUCHER) }), "0.00");
    assert_eq!(balance(&given, Account::VoucherCommitted { voucher_id: id(VOUCHER) }), "80000.00");
    let budget_before = balance(&given, Account::Budget { fiscal_year: 2025 });
    assert_eq!(budget_before, "4020000.00");
    // When the filed contract is cancelled, then the released money goes to the budget in the same command.
    let cancel =
        Command::CancelContract { contract_id: id(CONTRACT), reason: "service no longer needed".into() };
    let events = check(&given, &applicant(), "2026-01-05", cancel).expect("cancelled");
    assert_eq!(
        events,
        vec![
            Event::ContractCancelled {
                contract_id: id(CONTRACT),
                voucher_id: id(VOUCHER),
                jurisdiction: GY,
                released: Some(cny("80000.00")),
                reason: "service no longer needed".into(),
            },
            Event::ReturnedAfterExpiry {
                voucher_id: id(VOUCHER),
                contract_id: id(CONTRACT),
                jurisdiction: GY,
                fiscal_year: 2025,
                returned: cny("80000.00"),
            },
        ]
    );
    given.extend(events);
    assert_eq!(balance(&given, Account::VoucherAvailable { voucher_id: id(VOUCHER) }), "0.00");
    assert_eq!(balance(&given, Account::VoucherCommitted { voucher_id: id(VOUCHER) }), "0.00");
    assert_eq!(balance(&given, Account::Budget { fiscal_year: 2025 }), "4100000.00");
    assert_eq!(fold(&given).violations(), vec![]);
}

#[test]
fn a_cancellation_past_valid_until_before_the_scheduler_ran_returns_the_release_too() {
    let mut given = filed();
    let cancel = Command::CancelContract { contract_id: id(CONTRACT), reason: "late".into() };
    let events = check(&given, &applicant(), "2026-01-01", cancel).expect("cancelled");
    assert!(
        matches!(events.last(), Some(Event::ReturnedAfterExpiry { returned, .. }) if *returned == cny("80000.00"))
    );
    given.extend(events);
    // The scheduler's expiry then returns only the 20,000.00 never committed.
    let expired = check(&given, &system(), "2026-01-01", Command::ExpireVoucher { voucher_id: id(VOUCHER) })
        .expect("expired");
    assert!(matches!(&expired[..], [Event::VoucherExpired { returned: Some(returned), .. }]
        if *returned == cny("20000.00")));
}

#[test]
fn a_cancellation_within_the_validity_keeps_the_money_on_the_voucher() {
    let given = filed();
    let cancel = Command::CancelContract { contract_id: id(CONTRACT), reason: "changed plans".into() };
    let events = check(&given, &applicant(), "2025-12-31", cancel).expect("cancelled");
    assert_eq!(events.len(), 1, "no return to the budget while the voucher is valid: {events:?}");
}

#[test]
fn an_expired_voucher_holding_available_money_is_a_violation() {
    // The log an older version of the ledger would write: the cancellation put the money back on the expired
    // voucher and nothing returned it.
    let mut given = filed();
    given.push(Event::VoucherExpired {
        voucher_id: id(VOUCHER),
        jurisdiction: GY,
        fiscal_year: 2025,
        returned: Some(cny("20000.00")),
    });
    given.push(Event::ContractCancelled {
        contract_id: id(CONTRACT),
        voucher_id: id(VOUCHER),
        jurisdiction: GY,
        released: Some(cny("80000.00")),
        reason: "late".into(),
    });
    let state = fold(&given);
    assert_eq!(state.ledger.violations(), vec![], "the balances alone are fine");
    let violations: Vec<String> = state.violations().iter().map(ToString::to_string).collect();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(
        violations[0].contains("expired voucher") && violations[0].contains("80000.00"),
        "{violations:?}"
    );
}

// ---- point 6: the last days of December ----

#[test]
fn a_period_touching_late_december_2026_needs_the_2027_notice() {
    let mut given = program();
    given.push(Event::ProviderApplied { application: application(501) });
    // Fri 2026-12-18: the period's first day, Mon 12-21, is known, the second, Tue 12-22, is ruled by the 2027
    // notice too.
    let approve = Command::DecideProvider { provider: code(501), approve: true, reason: String::new() };
    assert_eq!(
        step(&mut given, &staff(Role::Bureau), "2026-12-18", approve.clone()),
        "calendar_year_unknown"
    );
    let y2027 = CalendarYear {
        year: 2027,
        notice: "synthetic 2027 notice for the test".into(),
        holidays: [day("2027-01-01")].into_iter().collect(),
        working_weekends: Default::default(),
    };
    let publish = Command::PublishCalendarYear { calendar_year: y2027 };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2026-12-18", publish), "accepted");
    // Mon 21 (1), Tue 22 (2), Wed 23 (3), Thu 24 (4), Fri 25 (5).
    let events = check(&given, &staff(Role::Bureau), "2026-12-18", approve).expect("approved");
    assert!(matches!(&events[..], [Event::ProviderApproved { announcement_closes, .. }]
        if *announcement_closes == day("2026-12-25")));
}
