//! Given/when/then tests of the regulation's later lifecycles (Measures art. 8-13): providers, contracts,
//! ratings, redemptions, announcements, denials, audits, clawbacks, and the scheduler's deadlines.

use crate::support::*;
use std::collections::BTreeSet;

use domain::decide::{draw_sample, due_commands, sample_population};
use domain::document::Sha256Hex;
use domain::event::{
    ContractTerms, DenialGround, Finding, ObjectionTarget, Party, ProviderApplication, ReviewOutcome, Ruling,
};
use domain::{Account, Actor, Balance, Command, Event, Jurisdiction, Rejection, Role};
use uuid::Uuid;

/// A funded batch (share cap 80%), a verified enterprise holding a 100,000.00 voucher, and an admitted provider
/// offering inspection testing.
fn program() -> Vec<Event> {
    admitted_program(
        batch_guide("2025-11-30", &["inspection_testing", "industrial_design"]),
        enterprise_registration(APPLICANT),
        provider_application(PROVIDER, "testing lab"),
    )
}

fn submit(contract: u128, total: &str, amount: &str) -> Command {
    Command::SubmitContract {
        contract_id: id(contract),
        voucher_id: id(VOUCHER),
        provider: code(PROVIDER),
        category: "inspection_testing".into(),
        description: "product certification testing".into(),
        term_start: day("2025-04-01"),
        term_end: day("2025-05-31"),
        total: cny(total),
        voucher_amount: cny(amount),
        document_sha256: Sha256Hex::parse(&"cd".repeat(32)).expect("digest"),
    }
}

/// The program with contract 1 (total 100,000.00, voucher 80,000.00) submitted, signed and filed on 2025-04-01.
fn filed() -> Vec<Event> {
    let mut given = program();
    assert_eq!(step(&mut given, &provider(), "2025-04-01", submit(1, "100000.00", "80000.00")), "accepted");
    assert_eq!(
        step(&mut given, &applicant(), "2025-04-01", Command::SignContract { contract_id: id(1) }),
        "accepted"
    );
    let filing = Command::FileContract { contract_id: id(1) };
    assert_eq!(step(&mut given, &staff(Role::ServiceCenter), "2025-04-01", filing), "accepted");
    given
}

/// Filed, then completed on 2025-06-02.
fn completed() -> Vec<Event> {
    let mut given = filed();
    let confirm = Command::ConfirmCompletion { contract_id: id(1) };
    assert_eq!(step(&mut given, &applicant(), "2025-06-02", confirm), "accepted");
    given
}

fn request(redemption: u128) -> Command {
    Command::RequestRedemption {
        redemption_id: id(redemption),
        contract_id: id(1),
        invoice: document("invoice.pdf"),
        remittance_proof: document("remittance.pdf"),
        results: vec![document("test report.pdf")],
    }
}

/// Completed, redemption 900 requested, approved in full and announced on 2025-09-30 (closes 2025-10-14).
fn announced() -> Vec<Event> {
    let mut given = completed();
    assert_eq!(step(&mut given, &provider(), "2025-06-03", request(900)), "accepted");
    let review = Command::ReviewRedemption { redemption_id: id(900), outcome: ReviewOutcome::Full };
    assert_eq!(step(&mut given, &staff(Role::Reviewer), "2025-06-10", review), "accepted");
    let announce = Command::AnnounceRedemptions {
        announcement_id: id(950),
        jurisdiction: GY,
        redemption_ids: vec![id(900)],
    };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-09-30", announce), "accepted");
    given
}

// ---- art. 8: providers ----

#[test]
fn an_approved_provider_is_announced_for_five_working_days() {
    let mut given = program();
    let other = Actor { credit_code: Some(code(501)), ..provider() };
    let apply = Command::ApplyAsProvider {
        name: "design studio".into(),
        categories: ["industrial_design".to_owned()].into_iter().collect(),
        qualifications: vec![document("licence.pdf")],
        contact: "studio@example.cn".into(),
    };
    assert_eq!(step(&mut given, &other, "2025-09-29", apply), "accepted");
    let approve = Command::DecideProvider { provider: code(501), approve: true, reason: String::new() };
    assert_eq!(step(&mut given, &staff(Role::Finance), "2025-09-30", approve.clone()), "forbidden");
    let events = check(&given, &staff(Role::Bureau), "2025-09-30", approve).expect("approved");
    // Oct 1-8 are the National Day holidays and Sat Oct 11 is a working day: the fifth working day is Oct 14.
    assert_eq!(
        events,
        vec![Event::ProviderApproved {
            provider: code(501),
            announced_on: day("2025-09-30"),
            announcement_closes: day("2025-10-14")
        }]
    );
}

#[test]
fn a_provider_is_admitted_only_after_its_announcement_closes_without_an_upheld_objection() {
    let mut given = program();
    given.truncate(given.len() - 1); // announced, not yet admitted (closes 2025-03-10)
    let close = Command::CloseProviderAnnouncement { provider: code(PROVIDER) };
    assert_eq!(step(&mut given, &system(), "2025-03-10", close.clone()), "nothing_due");
    let objection = Command::FileObjection {
        objection_id: id(31),
        target: ObjectionTarget::Provider { provider: code(PROVIDER) },
        text: "the lab's certificate has lapsed".into(),
    };
    assert_eq!(step(&mut given, &public(), "2025-03-07", objection), "accepted");
    // An open objection holds the admission, even after the period.
    assert!(due_commands(&fold(&given), day("2025-03-11")).is_empty());
    assert_eq!(step(&mut given, &system(), "2025-03-11", close.clone()), "nothing_due");
    let dismiss = Command::RuleOnObjection {
        objection_id: id(31),
        ruling: Ruling::Dismissed,
        reason: "renewed".into(),
    };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-03-12", dismiss), "accepted");
    assert_eq!(due_commands(&fold(&given), day("2025-03-12")), vec![close.clone()]);
    assert_eq!(step(&mut given, &system(), "2025-03-12", close.clone()), "accepted");
    assert_eq!(step(&mut given, &system(), "2025-03-13", close), "nothing_due");
}

#[test]
fn an_upheld_objection_refuses_admission_and_late_objections_are_refused() {
    let mut given = program();
    given.truncate(given.len() - 1);
    let objection = |n: u128| Command::FileObjection {
        objection_id: id(n),
        target: ObjectionTarget::Provider { provider: code(PROVIDER) },
        text: "falsified qualification".into(),
    };
    assert_eq!(step(&mut given, &public(), "2025-03-11", objection(40)), "announcement_closed");
    assert_eq!(step(&mut given, &public(), "2025-03-10", objection(41)), "accepted");
    let uphold =
        Command::RuleOnObjection { objection_id: id(41), ruling: Ruling::Upheld, reason: "forged".into() };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-03-12", uphold), "accepted");
    assert_eq!(
        step(
            &mut given,
            &system(),
            "2025-03-13",
            Command::CloseProviderAnnouncement { provider: code(PROVIDER) }
        ),
        "nothing_due"
    );
    assert_eq!(
        step(&mut given, &provider(), "2025-04-01", submit(1, "100000.00", "80000.00")),
        "provider_not_admitted"
    );
}

#[test]
fn a_suspended_provider_takes_no_new_contract() {
    let mut given = program();
    let suspend = Command::SuspendProvider { provider: code(PROVIDER), reason: "audit".into() };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-04-01", suspend), "accepted");
    assert_eq!(
        step(&mut given, &provider(), "2025-04-01", submit(1, "100000.00", "80000.00")),
        "provider_suspended"
    );
}

// ---- art. 9, 10: contracts ----

#[test]
fn filing_commits_the_voucher_amount_and_completion_pays_the_provider() {
    let given = filed();
    assert_eq!(balance(&given, Account::VoucherAvailable { voucher_id: id(VOUCHER) }), "20000.00");
    assert_eq!(balance(&given, Account::VoucherCommitted { voucher_id: id(VOUCHER) }), "80000.00");
    let done = completed();
    assert_eq!(balance(&done, Account::VoucherCommitted { voucher_id: id(VOUCHER) }), "0.00");
    assert_eq!(balance(&done, Account::ProviderReceivable { provider: code(PROVIDER) }), "80000.00");
}

#[test]
fn a_contract_is_filed_only_once_both_parties_signed() {
    let mut given = program();
    assert_eq!(step(&mut given, &provider(), "2025-04-01", submit(1, "100000.00", "80000.00")), "accepted");
    let filing = Command::FileContract { contract_id: id(1) };
    assert_eq!(step(&mut given, &staff(Role::ServiceCenter), "2025-04-01", filing.clone()), "invalid_state");
    // The submitter cannot countersign its own contract.
    assert_eq!(
        step(&mut given, &provider(), "2025-04-01", Command::SignContract { contract_id: id(1) }),
        "forbidden"
    );
    assert_eq!(
        step(&mut given, &applicant(), "2025-04-01", Command::SignContract { contract_id: id(1) }),
        "accepted"
    );
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-04-01", filing.clone()), "forbidden");
    assert_eq!(step(&mut given, &staff(Role::ServiceCenter), "2025-04-01", filing), "accepted");
}

/// The service center rejects a submitted contract with a reason; a rejected contract is no longer
/// submitted: it is not rejected twice, signed or filed.
#[test]
fn a_rejected_contract_is_neither_rejected_again_nor_signed_nor_filed() {
    let mut given = program();
    assert_eq!(step(&mut given, &provider(), "2025-04-01", submit(1, "100000.00", "80000.00")), "accepted");
    let reject = Command::RejectContract { contract_id: id(1), reason: "seal missing".into() };
    assert_eq!(step(&mut given, &staff(Role::ServiceCenter), "2025-04-02", reject.clone()), "accepted");
    assert_eq!(step(&mut given, &staff(Role::ServiceCenter), "2025-04-02", reject), "invalid_state");
    let sign = Command::SignContract { contract_id: id(1) };
    assert_eq!(step(&mut given, &applicant(), "2025-04-02", sign), "invalid_state");
    let filing = Command::FileContract { contract_id: id(1) };
    assert_eq!(step(&mut given, &staff(Role::ServiceCenter), "2025-04-02", filing), "invalid_state");
}

/// A party signs as itself only: a provider's token for another provider is not the contract's provider,
/// and the applicant's credit code under another applicant kind or in the other jurisdiction is not the
/// applicant (SPEC §2: the token's role, code and jurisdiction must all be the party's).
#[test]
fn only_the_contracts_parties_with_their_own_role_and_jurisdiction_sign_it() {
    let sign = Command::SignContract { contract_id: id(1) };
    // The applicant submitted: another provider of the same jurisdiction cannot sign as the provider.
    let mut given = program();
    assert_eq!(step(&mut given, &applicant(), "2025-04-01", submit(1, "100000.00", "80000.00")), "accepted");
    assert_eq!(step(&mut given, &provider_of(PROVIDER + 50), "2025-04-01", sign.clone()), "forbidden");
    assert_eq!(step(&mut given, &provider(), "2025-04-01", sign.clone()), "accepted");

    // The provider submitted: the applicant's code as a project entity, or in Gui'an, is not the applicant.
    let mut given = program();
    assert_eq!(step(&mut given, &provider(), "2025-04-01", submit(1, "100000.00", "80000.00")), "accepted");
    let other_kind = Actor { role: Role::ProjectEntity, ..applicant() };
    assert_eq!(step(&mut given, &other_kind, "2025-04-01", sign.clone()), "forbidden");
    let other_place = Actor { jurisdiction: Some(GA), ..applicant() };
    assert_eq!(step(&mut given, &other_place, "2025-04-01", sign.clone()), "forbidden");
    assert_eq!(step(&mut given, &applicant(), "2025-04-01", sign), "accepted");
}

/// A refusal for the state a thing is in names that state by its stable name (the API's detail and the
/// console show it): a provider admitted, a contract submitted, signed, completed, a redemption approved.
#[test]
fn a_refusal_for_the_wrong_state_names_the_state_the_thing_is_in() {
    fn status_of(outcome: Result<Vec<Event>, Rejection>) -> String {
        match outcome {
            Err(Rejection::InvalidState { status, .. }) => status,
            other => panic!("expected invalid_state, got {other:?}"),
        }
    }
    let mut given = program();
    let decide = Command::DecideProvider { provider: code(PROVIDER), approve: true, reason: String::new() };
    assert_eq!(status_of(check(&given, &staff(Role::Bureau), "2025-04-01", decide)), "admitted");
    let confirm = Command::ConfirmCompletion { contract_id: id(1) };
    assert_eq!(step(&mut given, &provider(), "2025-04-01", submit(1, "100000.00", "80000.00")), "accepted");
    assert_eq!(status_of(check(&given, &applicant(), "2025-04-01", confirm.clone())), "submitted");
    let sign = Command::SignContract { contract_id: id(1) };
    assert_eq!(step(&mut given, &applicant(), "2025-04-01", sign), "accepted");
    assert_eq!(status_of(check(&given, &applicant(), "2025-04-01", confirm.clone())), "signed");

    let mut given = completed();
    assert_eq!(status_of(check(&given, &applicant(), "2025-06-03", confirm)), "completed");
    assert_eq!(step(&mut given, &provider(), "2025-06-03", request(900)), "accepted");
    let review = Command::ReviewRedemption { redemption_id: id(900), outcome: ReviewOutcome::Full };
    assert_eq!(step(&mut given, &staff(Role::Reviewer), "2025-06-10", review.clone()), "accepted");
    assert_eq!(status_of(check(&given, &staff(Role::Reviewer), "2025-06-11", review)), "approved");
}

#[test]
fn a_voucher_pays_no_more_than_the_share_cap_or_its_balance() {
    let given = program();
    // 80% of 100,000.00 is 80,000.00.
    assert_eq!(
        outcome_code(check(&given, &provider(), "2025-04-01", submit(1, "100000.00", "80000.01"))),
        "share_cap_exceeded"
    );
    assert_eq!(
        outcome_code(check(&given, &provider(), "2025-04-01", submit(1, "200000.00", "100000.01"))),
        "insufficient_balance"
    );
    assert_eq!(
        outcome_code(check(&given, &provider(), "2025-04-01", submit(1, "200000.00", "100000.00"))),
        "accepted"
    );
}

#[test]
fn provider_and_applicant_may_not_be_the_same_legal_person() {
    let mut given = program();
    // The applicant also applied and was admitted as a provider.
    given.push(Event::ProviderApplied {
        application: ProviderApplication {
            provider: code(APPLICANT),
            name: "in-house lab".into(),
            jurisdiction: GY,
            categories: ["inspection_testing".to_owned()].into_iter().collect(),
            qualifications: vec![document("cert.pdf")],
            contact: "x".into(),
        },
    });
    given.push(Event::ProviderAdmitted { provider: code(APPLICANT) });
    let Command::SubmitContract {
        contract_id,
        voucher_id,
        category,
        description,
        term_start,
        term_end,
        total,
        voucher_amount,
        document_sha256,
        ..
    } = submit(1, "100000.00", "80000.00")
    else {
        unreachable!()
    };
    let own = Command::SubmitContract {
        contract_id,
        voucher_id,
        provider: code(APPLICANT),
        category,
        description,
        term_start,
        term_end,
        total,
        voucher_amount,
        document_sha256,
    };
    assert_eq!(outcome_code(check(&given, &applicant(), "2025-04-01", own)), "same_legal_person");
}

#[test]
fn a_category_must_be_offered_by_the_provider_and_eligible_for_the_batch() {
    let given = program();
    let Command::SubmitContract {
        contract_id,
        voucher_id,
        provider: p,
        description,
        term_start,
        term_end,
        total,
        voucher_amount,
        document_sha256,
        ..
    } = submit(1, "100000.00", "80000.00")
    else {
        unreachable!()
    };
    let with = |category: &str| Command::SubmitContract {
        contract_id,
        voucher_id,
        provider: p.clone(),
        category: category.into(),
        description: description.clone(),
        term_start,
        term_end,
        total,
        voucher_amount,
        document_sha256: document_sha256.clone(),
    };
    assert_eq!(
        outcome_code(check(&given, &provider(), "2025-04-01", with("industrial_design"))),
        "category_not_offered"
    );
    assert_eq!(
        outcome_code(check(&given, &applicant(), "2025-04-01", with("talent_services"))),
        "category_not_offered"
    );
}

#[test]
fn cancelling_a_filed_contract_releases_the_commitment() {
    let mut given = filed();
    let cancel = Command::CancelContract { contract_id: id(1), reason: "scope changed".into() };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-04-02", cancel.clone()), "forbidden");
    assert_eq!(step(&mut given, &applicant(), "2025-04-02", cancel), "accepted");
    assert_eq!(balance(&given, Account::VoucherAvailable { voucher_id: id(VOUCHER) }), "100000.00");
    assert_eq!(balance(&given, Account::VoucherCommitted { voucher_id: id(VOUCHER) }), "0.00");
}

#[test]
fn the_applicant_rates_a_completed_service_once() {
    let mut given = filed();
    let rate = |quality| Command::RateService {
        contract_id: id(1),
        quality,
        timeliness: 4,
        professionalism: 5,
        text: "good".into(),
    };
    assert_eq!(step(&mut given, &applicant(), "2025-06-01", rate(5)), "invalid_state");
    assert_eq!(
        step(&mut given, &applicant(), "2025-06-02", Command::ConfirmCompletion { contract_id: id(1) }),
        "accepted"
    );
    assert_eq!(step(&mut given, &applicant(), "2025-06-03", rate(6)), "invalid_request");
    assert_eq!(step(&mut given, &provider(), "2025-06-03", rate(5)), "forbidden");
    assert_eq!(step(&mut given, &applicant(), "2025-06-03", rate(5)), "accepted");
    assert_eq!(step(&mut given, &applicant(), "2025-06-04", rate(4)), "already_rated");
}

// ---- art. 11: redemptions ----

#[test]
fn a_redemption_is_requested_within_the_batch_deadline() {
    let given = completed();
    // Completed 2025-06-02, 60 days: the deadline is 2025-08-01.
    assert_eq!(
        outcome_code(check(&given, &provider(), "2025-08-02", request(900))),
        "redemption_deadline_passed"
    );
    assert_eq!(outcome_code(check(&given, &applicant(), "2025-08-01", request(900))), "forbidden");
    assert_eq!(outcome_code(check(&given, &provider(), "2025-08-01", request(900))), "accepted");
}

#[test]
fn a_reduced_approval_returns_the_difference_to_the_budget() {
    let mut given = completed();
    assert_eq!(step(&mut given, &provider(), "2025-06-03", request(900)), "accepted");
    let budget_before = balance(&given, Account::Budget { fiscal_year: 2025 });
    let review = Command::ReviewRedemption {
        redemption_id: id(900),
        outcome: ReviewOutcome::Reduced {
            approved: cny("60000.00"),
            reason: "one test not performed".into(),
        },
    };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-06-10", review.clone()), "forbidden");
    assert_eq!(step(&mut given, &staff(Role::Reviewer), "2025-06-10", review), "accepted");
    assert_eq!(budget_before, "4000000.00");
    assert_eq!(balance(&given, Account::Budget { fiscal_year: 2025 }), "4020000.00");
    assert_eq!(balance(&given, Account::ProviderReceivable { provider: code(PROVIDER) }), "60000.00");
}

#[test]
fn a_rejected_redemption_returns_everything_to_the_budget() {
    let mut given = completed();
    assert_eq!(step(&mut given, &provider(), "2025-06-03", request(900)), "accepted");
    let review = Command::ReviewRedemption {
        redemption_id: id(900),
        outcome: ReviewOutcome::Rejected { reason: "no results".into() },
    };
    assert_eq!(step(&mut given, &staff(Role::Reviewer), "2025-06-10", review), "accepted");
    assert_eq!(balance(&given, Account::ProviderReceivable { provider: code(PROVIDER) }), "0.00");
    assert_eq!(balance(&given, Account::Budget { fiscal_year: 2025 }), "4080000.00");
}

#[test]
fn an_announced_redemption_is_paid_only_after_the_list_closes_and_only_once() {
    let mut given = announced();
    let disburse =
        Command::DisburseRedemption { redemption_id: id(900), payment_reference: "GY-PAY-0001".into() };
    // Refused with the reason the bureau can act on: the list is still open.
    match check(&given, &staff(Role::Bureau), "2025-10-14", &disburse) {
        Err(Rejection::NotPayable { reason, .. }) => assert_eq!(reason, "its announcement has not closed"),
        other => panic!("expected not_payable, got {other:?}"),
    }
    let state = fold(&given);
    assert!(
        due_commands(&state, day("2025-10-14"))
            .iter()
            .all(|c| !matches!(c, Command::CloseRedemptionAnnouncement { .. }))
    );
    let close = Command::CloseRedemptionAnnouncement { announcement_id: id(950) };
    assert!(due_commands(&state, day("2025-10-15")).contains(&close));
    assert_eq!(step(&mut given, &system(), "2025-10-15", close), "accepted");
    // A late objection is refused as late, also once the scheduler has closed the list.
    let late = Command::FileObjection {
        objection_id: id(61),
        target: ObjectionTarget::Redemption { redemption_id: id(900) },
        text: "too late".into(),
    };
    assert_eq!(step(&mut given, &public(), "2025-10-15", late), "announcement_closed");
    let guian_bureau = Actor { jurisdiction: Some(Jurisdiction::Guian), ..staff(Role::Bureau) };
    assert_eq!(step(&mut given, &guian_bureau, "2025-10-15", disburse.clone()), "forbidden");
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-10-15", disburse.clone()), "accepted");
    assert_eq!(balance(&given, Account::Disbursed), "80000.00");
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-10-16", disburse), "already_disbursed");
}

/// A redemption whose list has closed is not paid while an objection to it is still open; once the
/// objection is dismissed it is.
#[test]
fn a_redemption_is_not_paid_while_an_objection_to_it_is_open() {
    let mut given = announced();
    let object = Command::FileObjection {
        objection_id: id(62),
        target: ObjectionTarget::Redemption { redemption_id: id(900) },
        text: "the invoice looks forged".into(),
    };
    assert_eq!(step(&mut given, &public(), "2025-10-10", object), "accepted");
    let close = Command::CloseRedemptionAnnouncement { announcement_id: id(950) };
    assert_eq!(step(&mut given, &system(), "2025-10-15", close), "accepted");
    let disburse =
        Command::DisburseRedemption { redemption_id: id(900), payment_reference: "GY-PAY-0002".into() };
    match check(&given, &staff(Role::Bureau), "2025-10-15", &disburse) {
        Err(Rejection::NotPayable { reason, .. }) => assert_eq!(reason, "an objection is open"),
        other => panic!("expected not_payable, got {other:?}"),
    }
    let dismiss = Command::RuleOnObjection {
        objection_id: id(62),
        ruling: Ruling::Dismissed,
        reason: "checked".into(),
    };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-10-16", dismiss), "accepted");
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-10-16", disburse), "accepted");
}

#[test]
fn only_approved_redemptions_are_announced_each_once() {
    let mut given = completed();
    assert_eq!(step(&mut given, &provider(), "2025-06-03", request(900)), "accepted");
    let bureau = staff(Role::Bureau);
    let announce = |announcement: u128, redemptions: &[u128]| Command::AnnounceRedemptions {
        announcement_id: id(announcement),
        jurisdiction: GY,
        redemption_ids: redemptions.iter().map(|n| id(*n)).collect(),
    };
    // Not reviewed yet.
    assert_eq!(outcome_code(check(&given, &bureau, "2025-09-30", announce(950, &[900]))), "invalid_state");
    let review = Command::ReviewRedemption { redemption_id: id(900), outcome: ReviewOutcome::Full };
    assert_eq!(step(&mut given, &staff(Role::Reviewer), "2025-06-10", review), "accepted");
    // Approved, but listed twice on one list.
    assert_eq!(
        outcome_code(check(&given, &bureau, "2025-09-30", announce(950, &[900, 900]))),
        "invalid_state"
    );
    assert_eq!(step(&mut given, &bureau, "2025-09-30", announce(950, &[900])), "accepted");
    // Already on a list.
    assert_eq!(outcome_code(check(&given, &bureau, "2025-10-08", announce(951, &[900]))), "invalid_state");
}

#[test]
fn a_redemption_takes_objections_through_its_lists_closing_day_while_it_is_on_the_list() {
    // The list of 2025-09-30 closes on 2025-10-14: that day is still inside the period.
    let object = |objection: u128| Command::FileObjection {
        objection_id: id(objection),
        target: ObjectionTarget::Redemption { redemption_id: id(900) },
        text: "the report is copied from another firm's".into(),
    };
    let mut given = announced();
    assert_eq!(step(&mut given, &public(), "2025-10-14", object(60)), "accepted");
    assert_eq!(step(&mut given, &public(), "2025-10-15", object(61)), "announcement_closed");

    // Denied by the bureau while on the list: it is off the list, so nothing is left to object to.
    let mut given = announced();
    let deny = Command::DenyRedemption {
        redemption_id: id(900),
        ground: DenialGround::Fraud,
        reason: "forged invoice".into(),
    };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-10-13", deny), "accepted");
    assert_eq!(step(&mut given, &public(), "2025-10-14", object(62)), "invalid_state");
}

#[test]
fn an_upheld_objection_strikes_a_redemption_from_its_list() {
    let mut given = announced();
    let objection = Command::FileObjection {
        objection_id: id(60),
        target: ObjectionTarget::Redemption { redemption_id: id(900) },
        text: "the service was never delivered".into(),
    };
    assert_eq!(step(&mut given, &public(), "2025-10-09", objection), "accepted");
    let uphold = Command::RuleOnObjection {
        objection_id: id(60),
        ruling: Ruling::Upheld,
        reason: "confirmed on site".into(),
    };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-10-13", uphold), "accepted");
    assert!(
        matches!(given.last(), Some(Event::RedemptionStruck { returned, .. }) if *returned == cny("80000.00"))
    );
    assert_eq!(balance(&given, Account::ProviderReceivable { provider: code(PROVIDER) }), "0.00");
}

// ---- art. 12: denial, clawback ----

#[test]
fn the_bureau_may_deny_a_redemption_any_time_before_disbursement() {
    let mut given = announced();
    let deny = Command::DenyRedemption {
        redemption_id: id(900),
        ground: DenialGround::Fraud,
        reason: "forged invoice".into(),
    };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-10-10", deny.clone()), "accepted");
    assert_eq!(balance(&given, Account::ProviderReceivable { provider: code(PROVIDER) }), "0.00");
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-10-11", deny), "invalid_state");
}

#[test]
fn a_clawback_never_exceeds_what_remains_disbursed_and_recoveries_may_be_partial() {
    let mut given = announced();
    assert_eq!(
        step(
            &mut given,
            &system(),
            "2025-10-15",
            Command::CloseRedemptionAnnouncement { announcement_id: id(950) }
        ),
        "accepted"
    );
    let disburse =
        Command::DisburseRedemption { redemption_id: id(900), payment_reference: "GY-PAY-1".into() };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-10-15", disburse), "accepted");
    let order = |n: u128, amount: &str| Command::OrderClawback {
        clawback_id: id(n),
        redemption_id: id(900),
        amount: cny(amount),
        reason: "irregular".into(),
    };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2026-03-01", order(70, "50000.00")), "accepted");
    assert_eq!(
        step(&mut given, &staff(Role::Bureau), "2026-03-01", order(71, "30000.01")),
        "clawback_exceeds_disbursed"
    );
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2026-03-01", order(71, "30000.00")), "accepted");
    let recover = |amount: &str| Command::RecordRecovery { clawback_id: id(70), amount: cny(amount) };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2026-03-05", recover("20000.00")), "accepted");
    assert_eq!(
        step(&mut given, &staff(Role::Bureau), "2026-03-06", recover("30000.01")),
        "recovery_exceeds_due"
    );
    assert_eq!(balance(&given, Account::ClawbackDue), "60000.00");
    assert_eq!(balance(&given, Account::Disbursed), "0.00");
}

// ---- art. 12, 13: audits ----

#[test]
fn an_audit_sample_is_a_deterministic_function_of_population_seed_and_size() {
    let population: Vec<Uuid> = (1..=50).map(id).collect();
    let first = draw_sample(&population, "2026-audit-seed", 5);
    assert_eq!(first, draw_sample(&population, "2026-audit-seed", 5));
    assert_eq!(first.len(), 5);
    assert_eq!(first.iter().collect::<BTreeSet<_>>().len(), 5);
    assert_ne!(first, draw_sample(&population, "another seed", 5));
    assert_eq!(draw_sample(&population, "2026-audit-seed", 500).len(), 50);
}

#[test]
fn an_auditor_samples_a_past_years_contracts_and_records_findings() {
    let mut given = completed();
    let auditor = staff(Role::Auditor);
    let draw =
        |year| Command::DrawSample { sample_id: id(80), jurisdiction: GY, year, size: 3, seed: "s".into() };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2026-02-01", draw(2025)), "forbidden");
    // Only the previous year (上年度, art. 12) of the draw's date: not this year, not an older one.
    assert_eq!(step(&mut given, &auditor, "2026-02-01", draw(2026)), "sample_year_not_previous");
    assert_eq!(step(&mut given, &auditor, "2026-02-01", draw(2024)), "sample_year_not_previous");
    // Only in the jurisdiction of the auditor's token (each bureau commissions its own checks).
    assert_eq!(step(&mut given, &guian(Role::Auditor), "2026-02-01", draw(2025)), "forbidden");
    assert_eq!(step(&mut given, &auditor, "2026-02-01", draw(2025)), "accepted");
    assert!(
        matches!(given.last(), Some(Event::SampleDrawn { contract_ids, population: 1, .. }) if *contract_ids == vec![id(1)])
    );
    let finding = |contract| Command::RecordFinding {
        sample_id: id(80),
        contract_id: id(contract),
        finding: Finding::Irregular,
        note: "n".into(),
    };
    assert_eq!(step(&mut given, &auditor, "2026-02-02", finding(2)), "not_in_sample");
    assert_eq!(step(&mut given, &guian(Role::Auditor), "2026-02-02", finding(1)), "forbidden");
    assert_eq!(step(&mut given, &auditor, "2026-02-02", finding(1)), "accepted");
}

#[test]
fn an_audit_population_is_the_jurisdictions_contracts_filed_in_the_year_and_nothing_else() {
    // Contract 1 of Guiyang, filed on 2025-04-01; contract 2 submitted and signed but never filed.
    let mut given = filed();
    assert_eq!(step(&mut given, &provider(), "2025-04-02", submit(2, "1000.00", "800.00")), "accepted");
    let state = fold(&given);
    assert_eq!(sample_population(&state, GY, 2025), vec![id(1)]);
    assert!(sample_population(&state, GY, 2024).is_empty(), "another year's population");
    assert!(sample_population(&state, GA, 2025).is_empty(), "another jurisdiction's population");
}

fn guian(role: Role) -> Actor {
    Actor { jurisdiction: Some(Jurisdiction::Guian), ..staff(role) }
}

#[test]
fn a_bureau_acts_only_on_parties_and_money_of_its_own_jurisdiction() {
    // Given a guiyang redemption disbursed and clawed back, with its guiyang applicant and provider.
    let mut given = announced();
    let close = Command::CloseRedemptionAnnouncement { announcement_id: id(950) };
    assert_eq!(step(&mut given, &system(), "2025-10-15", close), "accepted");
    let disburse =
        Command::DisburseRedemption { redemption_id: id(900), payment_reference: "GY-PAY-1".into() };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-10-15", disburse), "accepted");
    let order = Command::OrderClawback {
        clawback_id: id(70),
        redemption_id: id(900),
        amount: cny("10000.00"),
        reason: "irregular".into(),
    };
    let (gy, ga) = (staff(Role::Bureau), guian(Role::Bureau));
    // When guian's bureau acts on them, each measure is forbidden; guiyang's bureau may.
    assert_eq!(step(&mut given, &ga, "2026-03-01", order.clone()), "forbidden");
    assert_eq!(step(&mut given, &gy, "2026-03-01", order), "accepted");
    let recover = Command::RecordRecovery { clawback_id: id(70), amount: cny("100.00") };
    assert_eq!(step(&mut given, &ga, "2026-03-02", recover.clone()), "forbidden");
    assert_eq!(step(&mut given, &gy, "2026-03-02", recover), "accepted");
    for party in [APPLICANT, PROVIDER] {
        let referral = Command::RecordReferral {
            referral_id: id(600 + u128::from(party)),
            party: code(party),
            authority: "public security bureau".into(),
            note: String::new(),
        };
        assert_eq!(step(&mut given, &ga, "2026-03-03", referral.clone()), "forbidden", "{party}");
        assert_eq!(step(&mut given, &gy, "2026-03-03", referral), "accepted", "{party}");
    }
    let suspend_applicant =
        Command::SuspendApplicant { credit_code: code(APPLICANT), reason: "fraud".into() };
    assert_eq!(step(&mut given, &ga, "2026-03-04", suspend_applicant.clone()), "forbidden");
    assert_eq!(step(&mut given, &gy, "2026-03-04", suspend_applicant), "accepted");
    // A provider is suspended by the bureau that admitted it (its admission is what a suspension withdraws).
    let suspend_provider = Command::SuspendProvider { provider: code(PROVIDER), reason: "fraud".into() };
    assert_eq!(step(&mut given, &ga, "2026-03-04", suspend_provider.clone()), "forbidden");
    assert_eq!(step(&mut given, &gy, "2026-03-04", suspend_provider), "accepted");
}

#[test]
fn a_bureau_refers_a_provider_it_admitted_or_that_contracted_in_its_jurisdiction_and_no_other() {
    // A contract in Gui'an, submitted by `provider` (folded as recorded: the Gui'an program behind it is
    // not what this test is about).
    let in_guian = |contract: u128, provider: u32| Event::ContractSubmitted {
        contract_id: id(contract),
        terms: ContractTerms {
            voucher_id: id(9_000 + contract),
            jurisdiction: GA,
            provider: code(provider),
            applicant: code(APPLICANT + 1),
            category: "inspection_testing".into(),
            description: "testing in Gui'an".into(),
            term_start: day("2025-04-01"),
            term_end: day("2025-05-31"),
            total: cny("1000.00"),
            voucher_amount: cny("800.00"),
            document_sha256: Sha256Hex::parse(&"ab".repeat(32)).expect("digest"),
        },
        submitted_by: Party::Provider,
    };
    let refer = |n: u128| Command::RecordReferral {
        referral_id: id(n),
        party: code(PROVIDER),
        authority: "market supervision bureau".into(),
        note: String::new(),
    };
    // Admitted in Guiyang, contracted in Guiyang only; another provider contracted in Gui'an.
    let mut given = filed();
    given.push(in_guian(2, PROVIDER + 1));
    assert_eq!(outcome_code(check(&given, &guian(Role::Bureau), "2025-06-01", refer(600))), "forbidden");
    assert_eq!(outcome_code(check(&given, &staff(Role::Bureau), "2025-06-01", refer(600))), "accepted");
    // Once it contracted in Gui'an too, Gui'an's bureau answers for that money and may refer it.
    let mut given = filed();
    given.push(in_guian(3, PROVIDER));
    assert_eq!(outcome_code(check(&given, &guian(Role::Bureau), "2025-06-01", refer(601))), "accepted");
}

#[test]
fn a_bureau_announces_only_redemptions_of_its_own_jurisdiction() {
    // Given guiyang's redemption 900, approved in full and not yet announced.
    let mut given = completed();
    assert_eq!(step(&mut given, &provider(), "2025-06-03", request(900)), "accepted");
    let review = Command::ReviewRedemption { redemption_id: id(900), outcome: ReviewOutcome::Full };
    assert_eq!(step(&mut given, &staff(Role::Reviewer), "2025-06-10", review), "accepted");
    let announce = |jurisdiction| Command::AnnounceRedemptions {
        announcement_id: id(950),
        jurisdiction,
        redemption_ids: vec![id(900)],
    };
    let ga = guian(Role::Bureau);
    // When guian's bureau lists it on an announcement of its own, the list is refused (another
    // jurisdiction's redemption); under guiyang's name, guian's bureau is forbidden.
    let before = given.len();
    assert_eq!(step(&mut given, &ga, "2025-09-30", announce(Jurisdiction::Guian)), "invalid_request");
    let refused = check(&given, &ga, "2025-09-30", announce(Jurisdiction::Guian));
    assert!(matches!(refused, Err(Rejection::InvalidAnnouncement(_))), "{refused:?}");
    assert_eq!(step(&mut given, &ga, "2025-09-30", announce(GY)), "forbidden");
    assert_eq!(given.len(), before, "a refused announcement records nothing");
    // Then guiyang's bureau may announce it.
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-09-30", announce(GY)), "accepted");
}

// ---- deadlines ----

#[test]
fn an_expired_voucher_returns_its_available_balance_and_keeps_committed_money_payable() {
    let mut given = filed();
    let expire = Command::ExpireVoucher { voucher_id: id(VOUCHER) };
    assert_eq!(step(&mut given, &system(), "2025-11-30", expire.clone()), "nothing_due");
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-12-01", expire.clone()), "forbidden");
    assert_eq!(step(&mut given, &system(), "2025-12-01", expire.clone()), "accepted");
    assert_eq!(balance(&given, Account::VoucherAvailable { voucher_id: id(VOUCHER) }), "0.00");
    assert_eq!(balance(&given, Account::VoucherCommitted { voucher_id: id(VOUCHER) }), "80000.00");
    assert_eq!(step(&mut given, &system(), "2025-12-02", expire), "nothing_due");
    // The committed money is still paid on completion.
    assert_eq!(
        step(&mut given, &applicant(), "2025-12-05", Command::ConfirmCompletion { contract_id: id(1) }),
        "accepted"
    );
    assert_eq!(balance(&given, Account::ProviderReceivable { provider: code(PROVIDER) }), "80000.00");
}

#[test]
fn an_unredeemed_receivable_lapses_back_to_the_budget_after_the_deadline() {
    let mut given = completed();
    let lapse = Command::LapseRedemptionWindow { contract_id: id(1) };
    assert_eq!(step(&mut given, &system(), "2025-08-01", lapse.clone()), "nothing_due");
    assert!(due_commands(&fold(&given), day("2025-08-02")).contains(&lapse));
    assert_eq!(step(&mut given, &system(), "2025-08-02", lapse), "accepted");
    assert_eq!(balance(&given, Account::ProviderReceivable { provider: code(PROVIDER) }), "0.00");
    assert_eq!(step(&mut given, &provider(), "2025-08-02", request(900)), "invalid_state");
}

#[test]
fn every_jurisdiction_still_sums_to_zero_after_the_whole_lifecycle() {
    let given = announced();
    let state = fold(&given);
    let total = state.ledger.trial_balance(GY).values().fold(Balance::ZERO, |sum, b| sum.checked_add(*b));
    assert!(total.is_zero());
    assert_eq!(state.ledger.violations(), vec![]);
    let _ = Party::Provider;
}

#[test]
fn an_item_takes_no_more_than_the_limit_of_open_objections() {
    use domain::decide::OBJECTIONS_OPEN_MAX;
    let objection = |n: u32, target: ObjectionTarget| Command::FileObjection {
        objection_id: id(u128::from(n) + 10_000),
        target,
        text: "flood".into(),
    };
    // A provider during its admission announcement.
    let mut given = program();
    given.truncate(given.len() - 1);
    let provider_target = ObjectionTarget::Provider { provider: code(PROVIDER) };
    for n in 0..OBJECTIONS_OPEN_MAX {
        assert_eq!(
            step(&mut given, &public(), "2025-03-07", objection(n, provider_target.clone())),
            "accepted"
        );
    }
    let count = given.len();
    let over = objection(OBJECTIONS_OPEN_MAX, provider_target.clone());
    assert_eq!(
        check(&given, &public(), "2025-03-07", over.clone()),
        Err(Rejection::TooManyObjectionsOpen { open: OBJECTIONS_OPEN_MAX, limit: OBJECTIONS_OPEN_MAX })
    );
    assert_eq!(step(&mut given, &public(), "2025-03-07", over.clone()), "too_many_objections_open");
    assert_eq!(given.len(), count, "a refused objection records nothing");
    // A ruling frees a place.
    let dismiss =
        Command::RuleOnObjection { objection_id: id(10_000), ruling: Ruling::Dismissed, reason: "no".into() };
    assert_eq!(step(&mut given, &staff(Role::Bureau), "2025-03-07", dismiss), "accepted");
    assert_eq!(step(&mut given, &public(), "2025-03-07", over), "accepted");

    // A redemption on an announcement list.
    let mut given = announced();
    let redemption_target = ObjectionTarget::Redemption { redemption_id: id(900) };
    for n in 0..OBJECTIONS_OPEN_MAX {
        assert_eq!(
            step(&mut given, &public(), "2025-10-01", objection(n, redemption_target.clone())),
            "accepted"
        );
    }
    let over = objection(OBJECTIONS_OPEN_MAX, redemption_target);
    assert_eq!(step(&mut given, &public(), "2025-10-01", over), "too_many_objections_open");
}
