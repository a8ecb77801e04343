//! Given/when/then tests of the bounds every command is checked against (`domain::bounds`) and of the checked
//! date arithmetic: a value outside its bound is refused 422 with a stable code and records nothing.

use crate::support::*;
use chrono::NaiveDate;
use domain::document::Sha256Hex;
use domain::event::{BatchGuide, Registration, ReviewOutcome};
use domain::{Actor, CalendarYear, Cny, Command, Event, RejectionClass, Role, State};

fn party(role: Role, n: u32) -> Actor {
    Actor { subject: format!("party-{n}"), role, jurisdiction: Some(GY), credit_code: Some(code(n)) }
}

fn guide(redemption_days: u32) -> BatchGuide {
    BatchGuide { redemption_days, ..batch_guide("2025-11-30", &["inspection_testing"]) }
}

fn registration(name: &str) -> Registration {
    Registration { name: name.into(), ..enterprise_registration(APPLICANT) }
}

/// A batch with `redemption_days` as recorded (events, as an old log may hold them), a verified applicant
/// holding a voucher, an admitted provider, and a filed contract 1 on that voucher.
fn filed_contract(redemption_days: u32) -> Vec<Event> {
    let mut given = admitted_program(
        guide(redemption_days),
        registration("aluminium works"),
        provider_application(PROVIDER, "testing lab"),
    );
    let submit = Command::SubmitContract {
        contract_id: id(1),
        voucher_id: id(77),
        provider: code(PROVIDER),
        category: "inspection_testing".into(),
        description: "product certification testing".into(),
        term_start: day("2025-04-01"),
        term_end: day("2025-05-31"),
        total: cny("100000.00"),
        voucher_amount: cny("80000.00"),
        document_sha256: Sha256Hex::parse(&"cd".repeat(32)).expect("digest"),
    };
    let provider = party(Role::Provider, PROVIDER);
    let applicant = party(Role::Enterprise, APPLICANT);
    for (actor, command) in [
        (&provider, submit),
        (&applicant, Command::SignContract { contract_id: id(1) }),
        (&staff(Role::ServiceCenter), Command::FileContract { contract_id: id(1) }),
    ] {
        let events = check(&given, actor, "2025-04-01", &command).expect("the contract is filed");
        given.extend(events);
    }
    given
}

#[test]
fn a_batch_with_redemption_days_beyond_ten_years_is_refused_out_of_bounds() {
    let budget =
        [Event::BudgetAppropriated { jurisdiction: GY, fiscal_year: 2025, amount: cny("5000000.00") }];
    let bureau = staff(Role::Bureau);
    for days in [u32::MAX, 3651, 0] {
        let outcome =
            check(&budget, &bureau, "2025-03-01", publish_command(id(BATCH), &guide(60), Some(days)));
        assert_eq!(outcome_code(&outcome), "out_of_bounds", "redemption_days {days}");
        let rejection = outcome.expect_err("refused");
        assert_eq!(rejection.class(), RejectionClass::Unprocessable);
        assert!(rejection.to_string().contains("redemption_days"), "{rejection}");
    }
    for days in [None, Some(1), Some(3650)] {
        let outcome = check(&budget, &bureau, "2025-03-01", publish_command(id(BATCH), &guide(60), days));
        assert_eq!(outcome_code(&outcome), "accepted", "redemption_days {days:?}");
    }
}

#[test]
fn a_completion_on_a_recorded_batch_with_huge_redemption_days_is_refused_not_a_panic() {
    // A log written before the bounds may hold such a batch: completing a contract on it overflowed the
    // date arithmetic (a panic of the writer); now it is refused and records nothing.
    let given = filed_contract(u32::MAX);
    let confirm = Command::ConfirmCompletion { contract_id: id(1) };
    let applicant = party(Role::Enterprise, APPLICANT);
    let outcome = check(&given, &applicant, "2025-06-02", &confirm);
    assert_eq!(outcome_code(&outcome), "date_out_of_range");
    assert_eq!(outcome.expect_err("refused").class(), RejectionClass::Unprocessable);
    // The largest bound still gives a date.
    let outcome = check(&filed_contract(3650), &applicant, "2025-06-02", &confirm);
    let events = outcome.expect("accepted");
    assert!(
        matches!(&events[..], [Event::ServiceCompleted { redemption_deadline, .. }] if *redemption_deadline == day("2035-05-31")),
        "{events:?}"
    );
}

#[test]
fn names_are_checked_at_the_door() {
    let applicant = party(Role::Enterprise, APPLICANT);
    let register = |name: &str| Command::RegisterApplicant { registration: registration(name) };
    assert_eq!(outcome_code(check(&[], &applicant, "2025-03-01", register("铝业有限公司"))), "accepted");
    for name in [
        "   ",
        "evil\u{202E}cod.exe",
        "a\u{2066}b",
        "mark\u{200F}",
        "arabic\u{061C}mark",
        "line\nbreak",
        "nul\u{0}",
        &"x".repeat(201),
    ] {
        assert_eq!(
            outcome_code(check(&[], &applicant, "2025-03-01", register(name))),
            "invalid_name",
            "{name:?}"
        );
    }
    let provider = party(Role::Provider, PROVIDER);
    let apply = Command::ApplyAsProvider {
        name: "lab\u{202D}".into(),
        categories: ["inspection_testing".to_owned()].into_iter().collect(),
        qualifications: vec![document("CMA.pdf")],
        contact: "0851".into(),
    };
    assert_eq!(outcome_code(check(&[], &provider, "2025-03-01", &apply)), "invalid_name");
    let mut batch = publish_command(id(BATCH), &guide(60), None);
    if let Command::PublishBatch { name, .. } = &mut batch {
        *name = "batch\u{7}".into();
    }
    assert_eq!(outcome_code(check(&[], &staff(Role::Bureau), "2025-03-01", &batch)), "invalid_name");
}

#[test]
fn dates_counts_lists_and_texts_have_bounds() {
    let bureau = staff(Role::Bureau);
    let auditor = staff(Role::Auditor);
    let mut far = publish_command(id(BATCH), &guide(60), None);
    if let Command::PublishBatch { valid_until, .. } = &mut far {
        *valid_until = NaiveDate::MAX;
    }
    let mut long_ago = publish_command(id(BATCH), &guide(60), None);
    if let Command::PublishBatch { claim_opens, .. } = &mut long_ago {
        *claim_opens = NaiveDate::MIN;
    }
    let huge = "长".repeat(100_000);
    let refused = [
        (&bureau, far),
        (&bureau, long_ago),
        (
            &auditor,
            Command::DrawSample {
                sample_id: id(9),
                jurisdiction: GY,
                year: 2024,
                size: u32::MAX,
                seed: "s".into(),
            },
        ),
        (
            &auditor,
            Command::DrawSample {
                sample_id: id(9),
                jurisdiction: GY,
                year: i32::MIN,
                size: 5,
                seed: "s".into(),
            },
        ),
        (
            &auditor,
            Command::DrawSample {
                sample_id: id(9),
                jurisdiction: GY,
                year: 2024,
                size: 5,
                seed: huge.clone(),
            },
        ),
        (
            &staff(Role::Finance),
            Command::AppropriateBudget { jurisdiction: GY, fiscal_year: i32::MAX, amount: Cny::MAX },
        ),
        (
            &bureau,
            Command::AnnounceRedemptions {
                announcement_id: id(3),
                jurisdiction: GY,
                redemption_ids: (0..1_001).map(id).collect(),
            },
        ),
        (&bureau, Command::DisburseRedemption { redemption_id: id(3), payment_reference: "r".repeat(101) }),
        (&bureau, Command::SuspendProvider { provider: code(PROVIDER), reason: huge.clone() }),
        (
            &staff(Role::Reviewer),
            Command::ReviewRedemption {
                redemption_id: id(3),
                outcome: ReviewOutcome::Rejected { reason: huge.clone() },
            },
        ),
        (
            &Actor { subject: "anyone".into(), role: Role::Public, jurisdiction: None, credit_code: None },
            Command::FileObjection {
                objection_id: id(4),
                target: domain::event::ObjectionTarget::Provider { provider: code(PROVIDER) },
                text: huge.clone(),
            },
        ),
        (
            &party(Role::Provider, PROVIDER),
            Command::RequestRedemption {
                redemption_id: id(5),
                contract_id: id(1),
                invoice: document("invoice.pdf"),
                remittance_proof: document("remittance.pdf"),
                results: vec![document("result.pdf"); 101],
            },
        ),
        (
            &bureau,
            Command::PublishCalendarYear {
                calendar_year: CalendarYear {
                    year: 262_142,
                    notice: "n".into(),
                    holidays: Default::default(),
                    working_weekends: Default::default(),
                },
            },
        ),
    ];
    for (actor, command) in refused {
        let outcome = check(&[], actor, "2025-03-01", &command);
        assert_eq!(outcome_code(&outcome), "out_of_bounds", "{}", command.name());
        assert_eq!(outcome.expect_err("refused").class(), RejectionClass::Unprocessable);
    }
}

#[test]
fn a_policy_version_is_bounded_too() {
    let shipped = State::new()
        .policies
        .in_force(domain::Jurisdiction::Guiyang, day("2025-01-01"))
        .cloned()
        .expect("shipped policy");
    let successor = |change: &dyn Fn(&mut domain::PolicyVersion)| {
        let mut policy = shipped.clone();
        policy.id = "measures-2026".into();
        policy.effective_from = day("2026-01-01");
        policy.effective_until = day("2028-12-31");
        change(&mut policy);
        Command::PublishPolicy { policy }
    };
    let bureau = staff(Role::Bureau);
    assert_eq!(outcome_code(check(&[], &bureau, "2025-03-01", successor(&|_| {}))), "accepted");
    let changes: [&dyn Fn(&mut domain::PolicyVersion); 4] = [
        &|p| p.default_redemption_days = u32::MAX,
        &|p| p.redemption_announcement_working_days = u32::MAX,
        &|p| p.claims_per_batch = 1_000_000,
        &|p| p.effective_until = NaiveDate::MAX,
    ];
    for change in changes {
        let command = successor(change);
        assert_eq!(outcome_code(check(&[], &bureau, "2025-03-01", &command)), "out_of_bounds", "{command:?}");
    }
}

#[test]
fn a_document_of_exactly_four_gibibytes_passes_the_size_bound_and_one_byte_more_does_not() {
    let provider = party(Role::Provider, PROVIDER);
    let request = |size_bytes: u64| Command::RequestRedemption {
        redemption_id: id(5),
        contract_id: id(1),
        invoice: domain::document::Document { size_bytes, ..document("invoice.pdf") },
        remittance_proof: document("remittance.pdf"),
        results: vec![document("result.pdf")],
    };
    assert_eq!(domain::bounds::MAX_DOCUMENT_BYTES, 4_294_967_296);
    // At the bound, the size is not what refuses it (there is no contract: the next rule does).
    let at_bound = check(&[], &provider, "2025-03-01", request(4_294_967_296));
    assert_ne!(outcome_code(&at_bound), "out_of_bounds");
    let over = check(&[], &provider, "2025-03-01", request(4_294_967_297));
    assert_eq!(outcome_code(&over), "out_of_bounds");
}

#[test]
fn a_batchs_lists_of_industries_and_categories_are_bounded_in_length_and_in_each_label() {
    let bureau = staff(Role::Bureau);
    let with = |industries: Vec<String>, categories: Vec<String>| {
        let mut command = publish_command(id(BATCH), &guide(60), None);
        if let Command::PublishBatch { eligible_industries, eligible_categories, .. } = &mut command {
            eligible_industries.extend(industries);
            eligible_categories.extend(categories);
        }
        command
    };
    let many = |prefix: &str| (0..=domain::bounds::MAX_CATEGORIES).map(|n| format!("{prefix}{n}")).collect();
    let long = vec!["长".repeat(domain::bounds::MAX_LABEL_CHARS + 1)];
    for (what, command) in [
        ("65 industries", with(many("industry "), vec![])),
        ("65 categories", with(vec![], many("category "))),
        ("an industry of 201 characters", with(long.clone(), vec![])),
        ("a category of 201 characters", with(vec![], long.clone())),
    ] {
        let outcome = check(&[], &bureau, "2025-03-01", &command);
        assert_eq!(outcome_code(&outcome), "out_of_bounds", "{what}");
    }
    // At the bounds the lists pass the door (the next rule refuses this batch: no policy in force).
    let at_bound = with(vec!["长".repeat(domain::bounds::MAX_LABEL_CHARS)], vec![]);
    assert_ne!(outcome_code(check(&[], &bureau, "2025-03-01", &at_bound)), "out_of_bounds");
}
