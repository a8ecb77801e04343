//! Given/when/then tests of every rule of the ledger core (SPEC §2–5): given recorded events, when a command
//! arrives from an actor on a business date, then these events, or this rejection.

use std::collections::BTreeSet;

use domain::event::{BatchGuide, Registration};
use domain::{
    Actor, ApplicantKind, Balance, CalendarYear, Command, Event, Jurisdiction, Role, Share, State,
    VerificationDecision,
};
use uuid::Uuid;

use crate::support::*;

// ---- fixtures ----

fn actor(role: Role, jurisdiction: Jurisdiction) -> Actor {
    Actor {
        subject: format!("{role}-{jurisdiction}"),
        role,
        jurisdiction: Some(jurisdiction),
        credit_code: None,
    }
}

fn batch_id(n: u128) -> Uuid {
    Uuid::from_u128(0xba7c_0000 + n)
}

fn voucher_id(n: u128) -> Uuid {
    Uuid::from_u128(0x7_0c4e_0000 + n)
}

fn strings(values: &[&str]) -> BTreeSet<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

fn guide(jurisdiction: Jurisdiction, total: &str, face_value: &str) -> BatchGuide {
    BatchGuide {
        jurisdiction,
        fiscal_year: 2025,
        name: "2025 first batch".into(),
        total: cny(total),
        face_value: cny(face_value),
        eligible_kinds: [ApplicantKind::Enterprise, ApplicantKind::ProjectEntity].into_iter().collect(),
        eligible_industries: strings(&["advanced_equipment", "aluminum"]),
        eligible_categories: strings(&["technology_innovation", "inspection_testing"]),
        claim_opens: day("2025-03-01"),
        claim_closes: day("2025-06-30"),
        valid_until: day("2025-12-31"),
        redemption_days: 60,
        max_voucher_share: Share::FULL,
        policy_id: "measures-2023".into(),
    }
}

fn registration(kind: ApplicantKind, n: u32, jurisdiction: Jurisdiction) -> Registration {
    Registration {
        credit_code: code(n),
        name: format!("applicant {n}"),
        kind,
        jurisdiction,
        industry: (kind == ApplicantKind::Enterprise).then(|| "advanced_equipment".to_owned()),
        project_code: (kind == ApplicantKind::ProjectEntity).then(|| format!("2025-520100-{n:06}")),
        independent_legal_person: true,
        tax_compliant: true,
    }
}

fn appropriated(jurisdiction: Jurisdiction, amount: &str) -> Event {
    Event::BudgetAppropriated { jurisdiction, fiscal_year: 2025, amount: cny(amount) }
}

fn published(batch: Uuid, guide: BatchGuide) -> Event {
    Event::BatchPublished { batch_id: batch, guide }
}

fn verified_applicant(kind: ApplicantKind, n: u32, jurisdiction: Jurisdiction) -> Vec<Event> {
    vec![
        Event::ApplicantRegistered { registration: registration(kind, n, jurisdiction) },
        Event::ApplicantVerified { credit_code: code(n) },
    ]
}

/// A funded guiyang batch of `total` with vouchers of `face`, and a verified enterprise applicant 1.
fn program(total: &str, face: &str) -> Vec<Event> {
    let mut events = vec![appropriated(GY, "100000000.00"), published(batch_id(1), guide(GY, total, face))];
    events.extend(verified_applicant(ApplicantKind::Enterprise, 1, GY));
    events
}

fn issued(n: u128, batch: Uuid, applicant: u32, kind: ApplicantKind, face: &str) -> Event {
    Event::VoucherIssued {
        voucher_id: voucher_id(n),
        batch_id: batch,
        jurisdiction: GY,
        applicant: code(applicant),
        kind,
        face_value: cny(face),
        cap_year: 2025,
        annual_cap: cny(if kind == ApplicantKind::Enterprise { "5000000.00" } else { "200000.00" }),
        valid_until: day("2025-12-31"),
    }
}

fn claim(batch: Uuid, voucher: u128) -> Command {
    Command::ClaimVoucher { batch_id: batch, voucher_id: voucher_id(voucher) }
}

// ---- budgets ----

#[test]
fn finance_appropriates_its_own_jurisdictions_budget() {
    let command =
        Command::AppropriateBudget { jurisdiction: GY, fiscal_year: 2025, amount: cny("1000000.00") };
    let events = check(&[], &actor(Role::Finance, GY), "2025-01-10", command.clone()).expect("accepted");
    assert_eq!(events, vec![appropriated(GY, "1000000.00")]);
    assert_eq!(
        outcome_code(check(&[], &actor(Role::Finance, GA), "2025-01-10", command.clone())),
        "forbidden"
    );
    assert_eq!(outcome_code(check(&[], &actor(Role::Bureau, GY), "2025-01-10", command)), "forbidden");
}

// ---- batches ----

#[test]
fn bureau_publishes_a_batch_from_the_budget() {
    let given = [appropriated(GY, "1000000.00")];
    let guide = guide(GY, "1000000.00", "50000.00");
    let events =
        check(&given, &actor(Role::Bureau, GY), "2025-02-01", publish_command(batch_id(1), &guide, None))
            .expect("accepted");
    assert_eq!(events, vec![published(batch_id(1), guide)]);
}

#[test]
fn a_batch_cannot_take_more_than_the_budget_has() {
    let given = [appropriated(GY, "999999.99")];
    let command = publish_command(batch_id(1), &guide(GY, "1000000.00", "50000.00"), None);
    assert_eq!(
        outcome_code(check(&given, &actor(Role::Bureau, GY), "2025-02-01", command)),
        "budget_insufficient"
    );
}

#[test]
fn a_batch_is_refused_when_no_policy_is_in_force() {
    let given = [appropriated(GY, "1000000.00")];
    let mut late = guide(GY, "1000000.00", "50000.00");
    late.claim_opens = day("2026-03-01");
    late.claim_closes = day("2026-06-30");
    let command = publish_command(batch_id(1), &late, None);
    assert_eq!(
        outcome_code(check(&given, &actor(Role::Bureau, GY), "2026-02-01", command)),
        "no_policy_in_force"
    );
}

#[test]
fn a_batch_guide_must_hold_together() {
    let given = [appropriated(GY, "1000000.00")];
    let bureau = actor(Role::Bureau, GY);
    let mut bad_window = guide(GY, "1000000.00", "50000.00");
    bad_window.claim_closes = day("2025-02-28");
    let mut face_over_total = guide(GY, "1000.00", "50000.00");
    face_over_total.total = cny("1000.00");
    let mut unknown_industry = guide(GY, "1000000.00", "50000.00");
    unknown_industry.eligible_industries = strings(&["textiles"]);
    let mut unknown_category = guide(GY, "1000000.00", "50000.00");
    unknown_category.eligible_categories = strings(&["catering"]);
    for bad in [bad_window, face_over_total, unknown_industry, unknown_category] {
        assert_eq!(
            outcome_code(check(&given, &bureau, "2025-02-01", publish_command(batch_id(1), &bad, None))),
            "invalid_batch"
        );
    }
}

#[test]
fn closing_a_batch_early_returns_its_unissued_money() {
    let mut given = program("1000000.00", "50000.00");
    given.push(issued(1, batch_id(1), 1, ApplicantKind::Enterprise, "50000.00"));
    let events =
        check(&given, &actor(Role::Bureau, GY), "2025-04-01", Command::CloseBatch { batch_id: batch_id(1) })
            .expect("accepted");
    assert_eq!(
        events,
        vec![Event::BatchClosed {
            batch_id: batch_id(1),
            jurisdiction: GY,
            fiscal_year: 2025,
            returned: Some(cny("950000.00"))
        }]
    );
    let mut state = State::new();
    for event in given.iter().chain(&events) {
        state.evolve(event);
    }
    assert_eq!(state.budget_available(GY, 2025).to_string(), "99950000.00");
    assert_eq!(state.batch_remaining(batch_id(1), GY), Balance::ZERO);
}

#[test]
fn a_closed_batch_takes_no_claims_and_cannot_close_twice() {
    let mut given = program("1000000.00", "50000.00");
    given.push(Event::BatchClosed {
        batch_id: batch_id(1),
        jurisdiction: GY,
        fiscal_year: 2025,
        returned: Some(cny("1000000.00")),
    });
    let bureau = actor(Role::Bureau, GY);
    assert_eq!(
        outcome_code(check(&given, &bureau, "2025-04-01", Command::CloseBatch { batch_id: batch_id(1) })),
        "batch_closed"
    );
    let enterprise = applicant_actor(ApplicantKind::Enterprise, 1, GY);
    assert_eq!(outcome_code(check(&given, &enterprise, "2025-04-01", claim(batch_id(1), 1))), "batch_closed");
}

// ---- applicants ----

#[test]
fn an_enterprise_registers_itself_only() {
    let registration = registration(ApplicantKind::Enterprise, 1, GY);
    let command = Command::RegisterApplicant { registration: registration.clone() };
    let itself = applicant_actor(ApplicantKind::Enterprise, 1, GY);
    assert_eq!(
        check(&[], &itself, "2025-02-01", command.clone()),
        Ok(vec![Event::ApplicantRegistered { registration }])
    );
    let another = applicant_actor(ApplicantKind::Enterprise, 2, GY);
    assert_eq!(outcome_code(check(&[], &another, "2025-02-01", command.clone())), "forbidden");
    let wrong_jurisdiction = applicant_actor(ApplicantKind::Enterprise, 1, GA);
    assert_eq!(outcome_code(check(&[], &wrong_jurisdiction, "2025-02-01", command)), "forbidden");
}

#[test]
fn registration_needs_an_eligible_industry_or_a_project_code() {
    let itself = applicant_actor(ApplicantKind::Enterprise, 1, GY);
    let mut textiles = registration(ApplicantKind::Enterprise, 1, GY);
    textiles.industry = Some("textiles".into());
    assert_eq!(
        outcome_code(check(
            &[],
            &itself,
            "2025-02-01",
            Command::RegisterApplicant { registration: textiles }
        )),
        "invalid_registration"
    );
    let project = applicant_actor(ApplicantKind::ProjectEntity, 2, GY);
    let mut no_code = registration(ApplicantKind::ProjectEntity, 2, GY);
    no_code.project_code = None;
    assert_eq!(
        outcome_code(check(
            &[],
            &project,
            "2025-02-01",
            Command::RegisterApplicant { registration: no_code }
        )),
        "invalid_registration"
    );
}

#[test]
fn registering_twice_is_a_conflict() {
    let given = verified_applicant(ApplicantKind::Enterprise, 1, GY);
    let command = Command::RegisterApplicant { registration: registration(ApplicantKind::Enterprise, 1, GY) };
    let outcome = check(&given, &applicant_actor(ApplicantKind::Enterprise, 1, GY), "2025-02-01", command);
    assert_eq!(outcome_code(outcome), "applicant_exists");
}

#[test]
fn the_service_center_verifies_and_in_guian_the_bureau_may_too() {
    let verify = |n: u32| Command::DecideVerification {
        credit_code: code(n),
        decision: VerificationDecision::Verified,
        reason: String::new(),
    };
    let given_gy =
        [Event::ApplicantRegistered { registration: registration(ApplicantKind::Enterprise, 1, GY) }];
    let given_ga =
        [Event::ApplicantRegistered { registration: registration(ApplicantKind::Enterprise, 2, GA) }];
    assert_eq!(
        check(&given_gy, &actor(Role::ServiceCenter, GY), "2025-02-02", verify(1)),
        Ok(vec![Event::ApplicantVerified { credit_code: code(1) }])
    );
    assert_eq!(
        outcome_code(check(&given_gy, &actor(Role::Bureau, GY), "2025-02-02", verify(1))),
        "forbidden"
    );
    assert_eq!(outcome_code(check(&given_ga, &actor(Role::Bureau, GA), "2025-02-02", verify(2))), "accepted");
    assert_eq!(
        outcome_code(check(&given_ga, &actor(Role::ServiceCenter, GA), "2025-02-02", verify(2))),
        "accepted"
    );
    assert_eq!(
        outcome_code(check(&given_gy, &actor(Role::ServiceCenter, GA), "2025-02-02", verify(1))),
        "forbidden"
    );
    // Nobody else: not Gui'an's bureau for a Guiyang applicant, not Guiyang's staff nor another role for a
    // Gui'an one.
    for (given, who, n) in [
        (&given_gy, actor(Role::Bureau, GA), 1),
        (&given_ga, actor(Role::ServiceCenter, GY), 2),
        (&given_ga, actor(Role::Bureau, GY), 2),
        (&given_ga, actor(Role::Auditor, GA), 2),
        (&given_ga, actor(Role::Reviewer, GA), 2),
    ] {
        assert_eq!(outcome_code(check(given, &who, "2025-02-02", verify(n))), "forbidden", "{who:?}");
    }
}

#[test]
fn a_rejection_needs_a_reason_and_ends_the_review() {
    let given = [Event::ApplicantRegistered { registration: registration(ApplicantKind::Enterprise, 1, GY) }];
    let center = actor(Role::ServiceCenter, GY);
    let reject = |reason: &str| Command::DecideVerification {
        credit_code: code(1),
        decision: VerificationDecision::Rejected,
        reason: reason.into(),
    };
    assert_eq!(outcome_code(check(&given, &center, "2025-02-02", reject("  "))), "invalid_registration");
    let events = check(&given, &center, "2025-02-02", reject("tax arrears")).expect("accepted");
    assert_eq!(events, vec![Event::ApplicantRejected { credit_code: code(1), reason: "tax arrears".into() }]);
    let mut after: Vec<Event> = given.to_vec();
    after.extend(events);
    assert_eq!(
        outcome_code(check(&after, &center, "2025-02-03", reject("again"))),
        "not_pending_verification"
    );
}

#[test]
fn a_suspended_applicant_cannot_claim() {
    let mut given = program("1000000.00", "50000.00");
    let suspend = Command::SuspendApplicant { credit_code: code(1), reason: "audit finding".into() };
    let events = check(&given, &actor(Role::Bureau, GY), "2025-03-05", suspend.clone()).expect("accepted");
    given.extend(events);
    assert_eq!(
        outcome_code(check(&given, &actor(Role::Bureau, GY), "2025-03-06", suspend)),
        "already_suspended"
    );
    let enterprise = applicant_actor(ApplicantKind::Enterprise, 1, GY);
    assert_eq!(
        outcome_code(check(&given, &enterprise, "2025-03-06", claim(batch_id(1), 1))),
        "applicant_not_verified"
    );
}

// ---- issuance by claim ----

#[test]
fn a_verified_eligible_applicant_claims_a_voucher() {
    let given = program("1000000.00", "50000.00");
    let enterprise = applicant_actor(ApplicantKind::Enterprise, 1, GY);
    let events = check(&given, &enterprise, "2025-03-01", claim(batch_id(1), 1)).expect("accepted");
    assert_eq!(events, vec![issued(1, batch_id(1), 1, ApplicantKind::Enterprise, "50000.00")]);
}

#[test]
fn an_unverified_applicant_cannot_claim() {
    let mut given =
        vec![appropriated(GY, "1000000.00"), published(batch_id(1), guide(GY, "1000000.00", "50000.00"))];
    given.push(Event::ApplicantRegistered { registration: registration(ApplicantKind::Enterprise, 1, GY) });
    let enterprise = applicant_actor(ApplicantKind::Enterprise, 1, GY);
    assert_eq!(
        outcome_code(check(&given, &enterprise, "2025-03-01", claim(batch_id(1), 1))),
        "applicant_not_verified"
    );
}

#[test]
fn claims_are_taken_only_inside_the_window() {
    let given = program("1000000.00", "50000.00");
    let enterprise = applicant_actor(ApplicantKind::Enterprise, 1, GY);
    assert_eq!(
        outcome_code(check(&given, &enterprise, "2025-02-28", claim(batch_id(1), 1))),
        "claim_window_closed"
    );
    assert_eq!(
        outcome_code(check(&given, &enterprise, "2025-07-01", claim(batch_id(1), 1))),
        "claim_window_closed"
    );
    assert_eq!(outcome_code(check(&given, &enterprise, "2025-06-30", claim(batch_id(1), 1))), "accepted");
}

#[test]
fn an_applicant_claims_once_per_batch() {
    let mut given = program("1000000.00", "50000.00");
    given.push(issued(1, batch_id(1), 1, ApplicantKind::Enterprise, "50000.00"));
    let enterprise = applicant_actor(ApplicantKind::Enterprise, 1, GY);
    assert_eq!(
        outcome_code(check(&given, &enterprise, "2025-03-02", claim(batch_id(1), 2))),
        "already_claimed"
    );
}

#[test]
fn a_batch_issues_no_more_than_its_total() {
    let mut given = program("100000.00", "50000.00");
    given.extend(verified_applicant(ApplicantKind::Enterprise, 2, GY));
    given.extend(verified_applicant(ApplicantKind::Enterprise, 3, GY));
    given.push(issued(1, batch_id(1), 1, ApplicantKind::Enterprise, "50000.00"));
    given.push(issued(2, batch_id(1), 2, ApplicantKind::Enterprise, "50000.00"));
    let third = applicant_actor(ApplicantKind::Enterprise, 3, GY);
    assert_eq!(outcome_code(check(&given, &third, "2025-03-02", claim(batch_id(1), 3))), "batch_exhausted");
}

#[test]
fn the_last_voucher_of_a_batch_takes_exactly_what_remains() {
    let mut given = program("100000.00", "50000.00");
    given.extend(verified_applicant(ApplicantKind::Enterprise, 2, GY));
    given.push(issued(1, batch_id(1), 1, ApplicantKind::Enterprise, "50000.00"));
    // 50,000.00 remain: one more voucher of 50,000.00, and the batch is empty.
    let second = applicant_actor(ApplicantKind::Enterprise, 2, GY);
    assert_eq!(step(&mut given, &second, "2025-03-02", claim(batch_id(1), 2)), "accepted");
    assert_eq!(fold(&given).batch_remaining(batch_id(1), GY), Balance::ZERO);
}

#[test]
fn a_batch_guide_may_put_its_dates_on_the_same_day() {
    let given = [appropriated(GY, "1000000.00")];
    let bureau = actor(Role::Bureau, GY);
    // Claims open and close on the day of publication, and the vouchers are valid only that day.
    let one_day = BatchGuide {
        claim_opens: day("2025-06-30"),
        claim_closes: day("2025-06-30"),
        valid_until: day("2025-06-30"),
        ..guide(GY, "1000000.00", "50000.00")
    };
    let publish = |guide: &BatchGuide| publish_command(batch_id(1), guide, None);
    assert_eq!(outcome_code(check(&given, &bureau, "2025-06-30", publish(&one_day))), "accepted");
    // A day off at each end is refused.
    let closed_yesterday =
        BatchGuide { claim_opens: day("2025-06-29"), claim_closes: day("2025-06-29"), ..one_day.clone() };
    assert_eq!(
        outcome_code(check(&given, &bureau, "2025-06-30", publish(&closed_yesterday))),
        "invalid_batch"
    );
    let closes_before_opening = BatchGuide { claim_opens: day("2025-07-01"), ..one_day.clone() };
    assert_eq!(
        outcome_code(check(&given, &bureau, "2025-06-30", publish(&closes_before_opening))),
        "invalid_batch"
    );
    let expires_before_closing = BatchGuide { valid_until: day("2025-06-29"), ..one_day };
    assert_eq!(
        outcome_code(check(&given, &bureau, "2025-06-29", publish(&expires_before_closing))),
        "invalid_batch"
    );
}

#[test]
fn a_batch_of_one_voucher_has_its_face_value_as_its_total() {
    let given = [appropriated(GY, "1000000.00")];
    let bureau = actor(Role::Bureau, GY);
    let one = guide(GY, "50000.00", "50000.00");
    assert_eq!(
        outcome_code(check(&given, &bureau, "2025-02-01", publish_command(batch_id(1), &one, None))),
        "accepted"
    );
    let over = guide(GY, "50000.00", "50000.01");
    assert_eq!(
        outcome_code(check(&given, &bureau, "2025-02-01", publish_command(batch_id(1), &over, None))),
        "invalid_batch"
    );
}

#[test]
fn eligibility_follows_the_batch_guide() {
    let mut given = vec![appropriated(GY, "10000000.00")];
    let mut enterprises_only = guide(GY, "1000000.00", "50000.00");
    enterprises_only.eligible_kinds = [ApplicantKind::Enterprise].into_iter().collect();
    given.push(published(batch_id(1), enterprises_only));
    given.extend(verified_applicant(ApplicantKind::ProjectEntity, 2, GY));
    let mut untaxed = registration(ApplicantKind::Enterprise, 3, GY);
    untaxed.tax_compliant = false;
    given.push(Event::ApplicantRegistered { registration: untaxed });
    given.push(Event::ApplicantVerified { credit_code: code(3) });
    let mut other_industry = registration(ApplicantKind::Enterprise, 4, GY);
    other_industry.industry = Some("ecological_food".into());
    given.push(Event::ApplicantRegistered { registration: other_industry });
    given.push(Event::ApplicantVerified { credit_code: code(4) });
    let project = applicant_actor(ApplicantKind::ProjectEntity, 2, GY);
    assert_eq!(outcome_code(check(&given, &project, "2025-03-02", claim(batch_id(1), 2))), "not_eligible");
    let untaxed = applicant_actor(ApplicantKind::Enterprise, 3, GY);
    assert_eq!(outcome_code(check(&given, &untaxed, "2025-03-02", claim(batch_id(1), 3))), "not_eligible");
    let food = applicant_actor(ApplicantKind::Enterprise, 4, GY);
    assert_eq!(outcome_code(check(&given, &food, "2025-03-02", claim(batch_id(1), 4))), "not_eligible");
}

#[test]
fn a_claim_from_another_jurisdiction_is_forbidden() {
    let mut given = program("1000000.00", "50000.00");
    given.extend(verified_applicant(ApplicantKind::Enterprise, 2, GA));
    let guian_enterprise = applicant_actor(ApplicantKind::Enterprise, 2, GA);
    assert_eq!(
        outcome_code(check(&given, &guian_enterprise, "2025-03-02", claim(batch_id(1), 2))),
        "forbidden"
    );
    assert_eq!(
        outcome_code(check(&given, &actor(Role::Bureau, GY), "2025-03-02", claim(batch_id(1), 2))),
        "forbidden"
    );
}

#[test]
fn a_claim_is_forbidden_unless_the_token_and_the_registration_both_match_the_batch() {
    let mut given = program("1000000.00", "50000.00");
    given.extend(verified_applicant(ApplicantKind::Enterprise, 2, GA));
    given.extend(verified_applicant(ApplicantKind::ProjectEntity, 3, GY));
    // A Guiyang enterprise whose token names Gui'an: the token's jurisdiction is not the batch's.
    let wrong_token = applicant_actor(ApplicantKind::Enterprise, 1, GA);
    assert_eq!(outcome_code(check(&given, &wrong_token, "2025-03-02", claim(batch_id(1), 1))), "forbidden");
    // A Gui'an enterprise whose token names Guiyang: its registration is not the batch's jurisdiction.
    let wrong_registration = applicant_actor(ApplicantKind::Enterprise, 2, GY);
    assert_eq!(
        outcome_code(check(&given, &wrong_registration, "2025-03-02", claim(batch_id(1), 2))),
        "forbidden"
    );
    // A project entity acting as an enterprise: its registration is not of the acting kind.
    let wrong_kind = applicant_actor(ApplicantKind::Enterprise, 3, GY);
    assert_eq!(outcome_code(check(&given, &wrong_kind, "2025-03-02", claim(batch_id(1), 3))), "forbidden");
    // The enterprise acting as what it is, where it is registered, claims.
    let right = applicant_actor(ApplicantKind::Enterprise, 1, GY);
    assert_eq!(outcome_code(check(&given, &right, "2025-03-02", claim(batch_id(1), 1))), "accepted");
}

#[test]
fn no_voucher_is_issued_when_no_policy_is_in_force() {
    let mut given = vec![appropriated(GY, "1000000.00")];
    let mut spanning = guide(GY, "1000000.00", "50000.00");
    spanning.claim_closes = day("2026-03-31");
    spanning.valid_until = day("2026-12-31");
    given.push(published(batch_id(1), spanning));
    given.extend(verified_applicant(ApplicantKind::Enterprise, 1, GY));
    let enterprise = applicant_actor(ApplicantKind::Enterprise, 1, GY);
    assert_eq!(outcome_code(check(&given, &enterprise, "2025-12-31", claim(batch_id(1), 1))), "accepted");
    assert_eq!(
        outcome_code(check(&given, &enterprise, "2026-01-01", claim(batch_id(1), 1))),
        "no_policy_in_force"
    );
}

/// Several batches of `face`, each already claimed by applicant 1, up to `claimed` vouchers.
fn batches_claimed(kind: ApplicantKind, face: &str, claimed: u32, open_batches: u32) -> Vec<Event> {
    let mut events = vec![appropriated(GY, "1000000000.00")];
    events.extend(verified_applicant(kind, 1, GY));
    for n in 0..open_batches {
        events.push(published(batch_id(u128::from(n)), guide(GY, "10000000.00", face)));
    }
    for n in 0..claimed {
        events.push(issued(u128::from(n), batch_id(u128::from(n)), 1, kind, face));
    }
    events
}

#[test]
fn an_enterprise_may_reach_exactly_its_annual_cap_and_not_one_fen_more() {
    // Nine claims of 500,000.00 and a tenth of 500,000.00 reach exactly 5,000,000.00.
    let given = batches_claimed(ApplicantKind::Enterprise, "500000.00", 9, 11);
    let enterprise = applicant_actor(ApplicantKind::Enterprise, 1, GY);
    let mut reaching = given.clone();
    let events =
        check(&given, &enterprise, "2025-03-10", claim(batch_id(9), 9)).expect("reaches exactly the cap");
    reaching.extend(events);
    let mut state = State::new();
    for event in &reaching {
        state.evolve(event);
    }
    assert_eq!(state.issued_in_year(&code(1), 2025).to_string(), "5000000.00");
    assert_eq!(
        outcome_code(check(&reaching, &enterprise, "2025-03-10", claim(batch_id(10), 10))),
        "cap_exceeded"
    );

    // One fen over: 4,999,999.99 issued, then a claim of 0.02.
    let mut near = vec![
        appropriated(GY, "100000000.00"),
        published(batch_id(1), guide(GY, "10000000.00", "4999999.99")),
    ];
    near.extend(verified_applicant(ApplicantKind::Enterprise, 1, GY));
    near.push(issued(1, batch_id(1), 1, ApplicantKind::Enterprise, "4999999.99"));
    near.push(published(batch_id(2), guide(GY, "1000.00", "0.01")));
    near.push(published(batch_id(3), guide(GY, "1000.00", "0.02")));
    assert_eq!(outcome_code(check(&near, &enterprise, "2025-03-10", claim(batch_id(3), 3))), "cap_exceeded");
    assert_eq!(outcome_code(check(&near, &enterprise, "2025-03-10", claim(batch_id(2), 2))), "accepted");
}

#[test]
fn a_project_entity_is_capped_at_two_hundred_thousand() {
    let given = batches_claimed(ApplicantKind::ProjectEntity, "100000.00", 1, 3);
    let project = applicant_actor(ApplicantKind::ProjectEntity, 1, GY);
    let events =
        check(&given, &project, "2025-03-10", claim(batch_id(1), 1)).expect("reaches 200,000.00 exactly");
    let mut after = given.clone();
    after.extend(events);
    assert_eq!(outcome_code(check(&after, &project, "2025-03-10", claim(batch_id(2), 2))), "cap_exceeded");
}

#[test]
fn the_cap_counts_per_shanghai_calendar_year() {
    // Claimed up to the cap in 2025; a batch open across new year accepts a claim in 2026 only under a
    // policy in force then, so publish a successor first.
    let mut given = batches_claimed(ApplicantKind::Enterprise, "500000.00", 10, 10);
    let mut successor = State::new().policies.versions()[0].clone();
    successor.id = "measures-2026".into();
    successor.effective_from = day("2026-01-01");
    successor.effective_until = day("2027-12-31");
    successor.jurisdictions = [GY, GA].into_iter().collect();
    given.push(Event::PolicySigned { policy: successor.clone(), jurisdiction: GY });
    given.push(Event::PolicySigned { policy: successor, jurisdiction: GA });
    let mut spanning = guide(GY, "10000000.00", "500000.00");
    spanning.claim_closes = day("2026-03-31");
    spanning.valid_until = day("2026-12-31");
    given.push(published(batch_id(99), spanning));
    let enterprise = applicant_actor(ApplicantKind::Enterprise, 1, GY);
    assert_eq!(
        outcome_code(check(&given, &enterprise, "2025-12-31", claim(batch_id(99), 99))),
        "cap_exceeded"
    );
    let events = check(&given, &enterprise, "2026-01-01", claim(batch_id(99), 99)).expect("a new year");
    assert!(matches!(&events[0], Event::VoucherIssued { cap_year: 2026, .. }));
}

// ---- policy and calendar ----

#[test]
fn the_bureau_publishes_a_successor_policy_that_does_not_overlap() {
    let bureau = actor(Role::Bureau, GY);
    let mut successor = State::new().policies.versions()[0].clone();
    successor.id = "measures-2026".into();
    successor.effective_from = day("2025-06-01");
    successor.effective_until = day("2027-12-31");
    let publish = |policy| Command::PublishPolicy { policy };
    assert_eq!(
        outcome_code(check(&[], &bureau, "2025-05-01", publish(successor.clone()))),
        "policy_overlaps"
    );
    successor.effective_from = day("2026-01-01");
    assert_eq!(
        outcome_code(check(&[], &actor(Role::Finance, GY), "2025-05-01", publish(successor.clone()))),
        "forbidden"
    );
    assert_eq!(outcome_code(check(&[], &bureau, "2025-05-01", publish(successor))), "accepted");
}

#[test]
fn the_bureau_adds_a_calendar_year_once() {
    let year_2027 = CalendarYear {
        year: 2027,
        notice: "test notice".into(),
        holidays: [day("2027-01-01")].into_iter().collect(),
        working_weekends: BTreeSet::new(),
    };
    let bureau = actor(Role::Bureau, GA);
    let command = Command::PublishCalendarYear { calendar_year: year_2027.clone() };
    let events = check(&[], &bureau, "2026-12-01", command.clone()).expect("accepted");
    assert_eq!(events, vec![Event::CalendarYearPublished { calendar_year: year_2027 }]);
    assert_eq!(outcome_code(check(&events, &bureau, "2026-12-01", command.clone())), "calendar_year_exists");
    let mut state = State::new();
    for event in &events {
        state.evolve(event);
    }
    assert!(state.calendar.knows_year(2027));
    assert_eq!(outcome_code(check(&[], &actor(Role::Auditor, GA), "2026-12-01", command)), "forbidden");
    let mut shipped = State::new().calendar.clone();
    let known = CalendarYear {
        year: 2024,
        notice: "again".into(),
        holidays: BTreeSet::new(),
        working_weekends: BTreeSet::new(),
    };
    assert!(shipped.add_year(known).is_err());
}
