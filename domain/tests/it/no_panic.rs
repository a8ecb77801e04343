//! `decide` never panics: arbitrary commands of every kind (extreme numbers, dates at chrono's limits, huge
//! strings, odd Unicode) from arbitrary actors on arbitrary dates, against states built by folding a populated
//! program and then every random command that was accepted. Whenever a command is accepted, its events evolve
//! the state without panic and the ledger's invariants hold. `decide::due_commands` is driven with extreme
//! dates too, and what it returns is decided as the scheduler would.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use domain::decide::due_commands;
use domain::document::{Document, Sha256Hex};
use domain::event::{DenialGround, Finding, ObjectionTarget, Registration, ReviewOutcome, Ruling};
use domain::{
    Actor, ApplicantKind, CalendarYear, Cny, Command, Context, CreditCode, Event, Jurisdiction,
    PolicyVersion, Role, Share, State, VerificationDecision,
};
use proptest::prelude::*;
use proptest::strategy::Union;
use uuid::Uuid;

use crate::support::*;

const ANNOUNCED_PROVIDER: u32 = 501;

fn actor(role: Role, credit_code: Option<u32>) -> Actor {
    Actor { subject: format!("{role}"), role, jurisdiction: Some(GY), credit_code: credit_code.map(code) }
}

fn provider_applied(provider: u32) -> Event {
    Event::ProviderApplied { application: provider_application(provider, &format!("lab {provider}")) }
}

/// A populated program, folded: a funded batch, a verified applicant with a voucher, an admitted provider, a
/// provider under announcement, contract 1 completed with redemption 900 approved and announced (list 950),
/// and contract 2 filed.
fn populated() -> (State, Vec<Event>) {
    let mut events = admitted_program(
        batch_guide("2025-11-30", &["inspection_testing"]),
        enterprise_registration(APPLICANT),
        provider_application(PROVIDER, &format!("lab {PROVIDER}")),
    );
    events.extend([
        provider_applied(ANNOUNCED_PROVIDER),
        Event::ProviderApproved {
            provider: code(ANNOUNCED_PROVIDER),
            announced_on: day("2025-09-29"),
            announcement_closes: day("2025-10-14"),
        },
    ]);
    let mut state = State::new();
    events.iter().for_each(|event| state.evolve(event));
    let submit = |contract: u128| Command::SubmitContract {
        contract_id: id(contract),
        voucher_id: id(77),
        provider: code(PROVIDER),
        category: "inspection_testing".into(),
        description: "testing".into(),
        term_start: day("2025-04-01"),
        term_end: day("2025-05-31"),
        total: cny("40000.00"),
        voucher_amount: cny("30000.00"),
        document_sha256: Sha256Hex::parse(&"cd".repeat(32)).expect("digest"),
    };
    let provider = actor(Role::Provider, Some(PROVIDER));
    let applicant = actor(Role::Enterprise, Some(APPLICANT));
    let steps: Vec<(Actor, &str, Command)> = vec![
        (provider.clone(), "2025-04-01", submit(1)),
        (applicant.clone(), "2025-04-01", Command::SignContract { contract_id: id(1) }),
        (actor(Role::ServiceCenter, None), "2025-04-01", Command::FileContract { contract_id: id(1) }),
        (applicant.clone(), "2025-06-02", Command::ConfirmCompletion { contract_id: id(1) }),
        (
            provider.clone(),
            "2025-06-03",
            Command::RequestRedemption {
                redemption_id: id(900),
                contract_id: id(1),
                invoice: document("invoice.pdf"),
                remittance_proof: document("remittance.pdf"),
                results: vec![document("report.pdf")],
            },
        ),
        (
            actor(Role::Reviewer, None),
            "2025-06-10",
            Command::ReviewRedemption { redemption_id: id(900), outcome: ReviewOutcome::Full },
        ),
        (
            actor(Role::Bureau, None),
            "2025-09-30",
            Command::AnnounceRedemptions {
                announcement_id: id(950),
                jurisdiction: GY,
                redemption_ids: vec![id(900)],
            },
        ),
        (provider.clone(), "2025-09-30", submit(2)),
        (applicant, "2025-09-30", Command::SignContract { contract_id: id(2) }),
        (actor(Role::ServiceCenter, None), "2025-09-30", Command::FileContract { contract_id: id(2) }),
    ];
    for (actor, date, command) in steps {
        let context = Context { actor, business_date: day(date), log_position: events.len() as u64 };
        let accepted = domain::decide(&state, &context, &command).expect("the program's step is accepted");
        accepted.iter().for_each(|event| state.evolve(event));
        events.extend(accepted);
    }
    (state, events)
}

// ---- generators: ordinary values mixed with extremes ----

fn uuid() -> BoxedStrategy<Uuid> {
    prop_oneof![
        9 => prop::sample::select(vec![1u128, 2, 7, 77, 900, 950]).prop_map(id),
        1 => any::<u128>().prop_map(id),
    ]
    .boxed()
}

fn credit_code() -> BoxedStrategy<CreditCode> {
    prop::sample::select(vec![APPLICANT, 2, PROVIDER, ANNOUNCED_PROVIDER, 99_999_999]).prop_map(code).boxed()
}

fn date() -> BoxedStrategy<NaiveDate> {
    prop_oneof![
        4 => (0i64..1_200).prop_map(|n| day("2024-01-01") + chrono::TimeDelta::days(n)),
        1 => prop::sample::select(vec![NaiveDate::MIN, NaiveDate::MAX, day("2100-12-31"), day("1999-12-31")]),
        1 => any::<i32>().prop_filter_map("a date", NaiveDate::from_num_days_from_ce_opt),
    ]
    .boxed()
}

fn number() -> BoxedStrategy<u32> {
    prop_oneof![3 => 0u32..100, 1 => Just(u32::MAX), 1 => Just(3651u32), 1 => any::<u32>()].boxed()
}

fn year() -> BoxedStrategy<i32> {
    prop_oneof![3 => 2020i32..2030, 1 => Just(i32::MIN), 1 => Just(i32::MAX), 1 => any::<i32>()].boxed()
}

fn amount() -> BoxedStrategy<Cny> {
    prop_oneof![
        3 => (1u64..20_000_000).prop_map(|fen| Cny::from_fen(fen).expect("positive")),
        1 => Just(Cny::MAX),
        1 => Just(cny("0.01")),
    ]
    .boxed()
}

fn share() -> BoxedStrategy<Option<Share>> {
    prop_oneof![
        Just(None),
        prop::sample::select(vec!["1", "0.0001", "0.5"]).prop_map(|s| Share::parse(s).ok())
    ]
    .boxed()
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z ]{0,12}",
        1 => ".{0,40}",
        1 => (1usize..4).prop_map(|n| "长".repeat(5_000 * n)),
        1 => prop::sample::select(vec!["", " ", "\u{202E}exe.txt", "=HYPERLINK(1)", "\u{0}\u{7f}", "a\u{2066}b\u{2069}"])
            .prop_map(str::to_owned),
    ]
    .boxed()
}

fn labels() -> BoxedStrategy<BTreeSet<String>> {
    let label = prop_oneof![
        3 => prop::sample::select(vec!["aluminum", "inspection_testing", "other", "industrial_design"])
            .prop_map(str::to_owned),
        1 => text(),
    ];
    prop_oneof![4 => prop::collection::btree_set(label, 0..4), 1 => (60usize..70).prop_map(|n| {
        (0..n).map(|i| format!("label {i}")).collect()
    })]
    .boxed()
}

fn doc() -> BoxedStrategy<Document> {
    (text(), prop_oneof![Just(0u64), Just(u64::MAX), 1u64..10_000_000])
        .prop_map(|(name, size_bytes)| Document {
            sha256: Sha256Hex::parse(&"ef".repeat(32)).expect("digest"),
            name,
            size_bytes,
        })
        .boxed()
}

fn docs() -> BoxedStrategy<Vec<Document>> {
    prop_oneof![4 => prop::collection::vec(doc(), 0..3), 1 => (100usize..103).prop_map(|n| vec![document("d"); n])]
        .boxed()
}

fn jurisdiction() -> BoxedStrategy<Jurisdiction> {
    prop_oneof![4 => Just(GY), 1 => Just(Jurisdiction::Guian)].boxed()
}

fn kind() -> BoxedStrategy<ApplicantKind> {
    prop_oneof![Just(ApplicantKind::Enterprise), Just(ApplicantKind::ProjectEntity)].boxed()
}

fn actor_strategy() -> BoxedStrategy<Actor> {
    let roles = vec![
        Role::Finance,
        Role::Bureau,
        Role::ServiceCenter,
        Role::Reviewer,
        Role::Auditor,
        Role::Enterprise,
        Role::ProjectEntity,
        Role::Provider,
        Role::Public,
        Role::System,
    ];
    (
        prop::sample::select(roles),
        prop_oneof![3 => Just(Some(GY)), 1 => Just(Some(Jurisdiction::Guian)), 1 => Just(None)],
        prop_oneof![Just(None), credit_code().prop_map(Some)],
    )
        .prop_map(|(role, jurisdiction, credit_code)| Actor {
            subject: format!("{role}"),
            role,
            jurisdiction,
            credit_code,
        })
        .boxed()
}

fn policy() -> BoxedStrategy<PolicyVersion> {
    let shipped = State::new().policies.versions()[0].clone();
    (text(), date(), date(), labels(), labels(), number(), number(), number(), number())
        .prop_map(move |(id, from, until, industries, categories, a, b, claims, days)| PolicyVersion {
            id,
            effective_from: from,
            effective_until: until,
            eligible_industries: industries,
            service_categories: categories,
            redemption_announcement_working_days: a,
            provider_announcement_working_days: b,
            claims_per_batch: claims,
            default_redemption_days: days,
            ..shipped.clone()
        })
        .boxed()
}

fn calendar_year() -> BoxedStrategy<CalendarYear> {
    (year(), text(), prop::collection::btree_set(date(), 0..5), prop::collection::btree_set(date(), 0..3))
        .prop_map(|(year, notice, holidays, working_weekends)| CalendarYear {
            year,
            notice,
            holidays,
            working_weekends,
        })
        .boxed()
}

fn registration() -> BoxedStrategy<Registration> {
    (
        credit_code(),
        text(),
        kind(),
        jurisdiction(),
        prop::option::of(text()),
        prop::option::of(text()),
        any::<bool>(),
    )
        .prop_map(|(credit_code, name, kind, jurisdiction, industry, project_code, flag)| Registration {
            credit_code,
            name,
            kind,
            jurisdiction,
            industry,
            project_code,
            independent_legal_person: flag,
            tax_compliant: flag,
        })
        .boxed()
}

/// Every command kind, each with arbitrary fields.
fn command() -> BoxedStrategy<Command> {
    let arms: Vec<BoxedStrategy<Command>> = vec![
        policy().prop_map(|policy| Command::PublishPolicy { policy }).boxed(),
        calendar_year().prop_map(|calendar_year| Command::PublishCalendarYear { calendar_year }).boxed(),
        (jurisdiction(), year(), amount())
            .prop_map(|(jurisdiction, fiscal_year, amount)| Command::AppropriateBudget {
                jurisdiction,
                fiscal_year,
                amount,
            })
            .boxed(),
        (
            (uuid(), jurisdiction(), year(), text(), amount(), amount()),
            (labels(), labels(), date(), date(), date(), prop::option::of(number()), share()),
        )
            .prop_map(
                |(
                    (batch_id, jurisdiction, fiscal_year, name, total, face_value),
                    (industries, categories, claim_opens, claim_closes, valid_until, redemption_days, share),
                )| Command::PublishBatch {
                    batch_id,
                    jurisdiction,
                    fiscal_year,
                    name,
                    total,
                    face_value,
                    eligible_kinds: [ApplicantKind::Enterprise].into_iter().collect(),
                    eligible_industries: industries,
                    eligible_categories: categories,
                    claim_opens,
                    claim_closes,
                    valid_until,
                    redemption_days,
                    max_voucher_share: share,
                },
            )
            .boxed(),
        uuid().prop_map(|batch_id| Command::CloseBatch { batch_id }).boxed(),
        registration().prop_map(|registration| Command::RegisterApplicant { registration }).boxed(),
        (credit_code(), any::<bool>(), text())
            .prop_map(|(credit_code, verified, reason)| Command::DecideVerification {
                credit_code,
                decision: if verified {
                    VerificationDecision::Verified
                } else {
                    VerificationDecision::Rejected
                },
                reason,
            })
            .boxed(),
        (credit_code(), text())
            .prop_map(|(credit_code, reason)| Command::SuspendApplicant { credit_code, reason })
            .boxed(),
        (uuid(), uuid())
            .prop_map(|(batch_id, voucher_id)| Command::ClaimVoucher { batch_id, voucher_id })
            .boxed(),
        (text(), labels(), docs(), text())
            .prop_map(|(name, categories, qualifications, contact)| Command::ApplyAsProvider {
                name,
                categories,
                qualifications,
                contact,
            })
            .boxed(),
        (credit_code(), any::<bool>(), text())
            .prop_map(|(provider, approve, reason)| Command::DecideProvider { provider, approve, reason })
            .boxed(),
        (credit_code(), text())
            .prop_map(|(provider, reason)| Command::SuspendProvider { provider, reason })
            .boxed(),
        (
            uuid(),
            prop_oneof![
                credit_code().prop_map(|provider| ObjectionTarget::Provider { provider }),
                uuid().prop_map(|redemption_id| ObjectionTarget::Redemption { redemption_id }),
            ],
            text(),
        )
            .prop_map(|(objection_id, target, text)| Command::FileObjection { objection_id, target, text })
            .boxed(),
        (uuid(), any::<bool>(), text())
            .prop_map(|(objection_id, upheld, reason)| Command::RuleOnObjection {
                objection_id,
                ruling: if upheld { Ruling::Upheld } else { Ruling::Dismissed },
                reason,
            })
            .boxed(),
        ((uuid(), uuid(), credit_code(), text(), text()), (date(), date(), amount(), amount()))
            .prop_map(
                |(
                    (contract_id, voucher_id, provider, category, description),
                    (term_start, term_end, total, voucher_amount),
                )| {
                    Command::SubmitContract {
                        contract_id,
                        voucher_id,
                        provider,
                        category,
                        description,
                        term_start,
                        term_end,
                        total,
                        voucher_amount,
                        document_sha256: Sha256Hex::parse(&"cd".repeat(32)).expect("digest"),
                    }
                },
            )
            .boxed(),
        uuid().prop_map(|contract_id| Command::SignContract { contract_id }).boxed(),
        uuid().prop_map(|contract_id| Command::FileContract { contract_id }).boxed(),
        (uuid(), text())
            .prop_map(|(contract_id, reason)| Command::RejectContract { contract_id, reason })
            .boxed(),
        (uuid(), text())
            .prop_map(|(contract_id, reason)| Command::CancelContract { contract_id, reason })
            .boxed(),
        uuid().prop_map(|contract_id| Command::ConfirmCompletion { contract_id }).boxed(),
        (uuid(), any::<u8>(), any::<u8>(), any::<u8>(), text())
            .prop_map(|(contract_id, quality, timeliness, professionalism, text)| Command::RateService {
                contract_id,
                quality,
                timeliness,
                professionalism,
                text,
            })
            .boxed(),
        (uuid(), uuid(), doc(), doc(), docs())
            .prop_map(|(redemption_id, contract_id, invoice, remittance_proof, results)| {
                Command::RequestRedemption { redemption_id, contract_id, invoice, remittance_proof, results }
            })
            .boxed(),
        (
            uuid(),
            prop_oneof![
                Just(ReviewOutcome::Full),
                (amount(), text()).prop_map(|(approved, reason)| ReviewOutcome::Reduced { approved, reason }),
                text().prop_map(|reason| ReviewOutcome::Rejected { reason }),
            ],
        )
            .prop_map(|(redemption_id, outcome)| Command::ReviewRedemption { redemption_id, outcome })
            .boxed(),
        (
            uuid(),
            jurisdiction(),
            prop_oneof![
                4 => prop::collection::vec(uuid(), 0..4),
                1 => (1_000usize..1_003).prop_map(|n| vec![id(900); n]),
            ],
        )
            .prop_map(|(announcement_id, jurisdiction, redemption_ids)| Command::AnnounceRedemptions {
                announcement_id,
                jurisdiction,
                redemption_ids,
            })
            .boxed(),
        (uuid(), text())
            .prop_map(|(redemption_id, payment_reference)| Command::DisburseRedemption {
                redemption_id,
                payment_reference,
            })
            .boxed(),
        (uuid(), any::<bool>(), text())
            .prop_map(|(redemption_id, fraud, reason)| Command::DenyRedemption {
                redemption_id,
                ground: if fraud { DenialGround::Fraud } else { DenialGround::RefusedCooperation },
                reason,
            })
            .boxed(),
        (uuid(), jurisdiction(), year(), number(), text())
            .prop_map(|(sample_id, jurisdiction, year, size, seed)| Command::DrawSample {
                sample_id,
                jurisdiction,
                year,
                size,
                seed,
            })
            .boxed(),
        (uuid(), uuid(), 0u8..3, text())
            .prop_map(|(sample_id, contract_id, finding, note)| Command::RecordFinding {
                sample_id,
                contract_id,
                finding: match finding {
                    0 => Finding::Compliant,
                    1 => Finding::Irregular,
                    _ => Finding::RefusedCooperation,
                },
                note,
            })
            .boxed(),
        (uuid(), uuid(), amount(), text())
            .prop_map(|(clawback_id, redemption_id, amount, reason)| Command::OrderClawback {
                clawback_id,
                redemption_id,
                amount,
                reason,
            })
            .boxed(),
        (uuid(), amount())
            .prop_map(|(clawback_id, amount)| Command::RecordRecovery { clawback_id, amount })
            .boxed(),
        (uuid(), credit_code(), text(), text())
            .prop_map(|(referral_id, party, authority, note)| Command::RecordReferral {
                referral_id,
                party,
                authority,
                note,
            })
            .boxed(),
        credit_code().prop_map(|provider| Command::CloseProviderAnnouncement { provider }).boxed(),
        uuid().prop_map(|announcement_id| Command::CloseRedemptionAnnouncement { announcement_id }).boxed(),
        uuid().prop_map(|voucher_id| Command::ExpireVoucher { voucher_id }).boxed(),
        uuid().prop_map(|contract_id| Command::LapseRedemptionWindow { contract_id }).boxed(),
    ];
    assert_eq!(arms.len(), 35, "one arm per command kind");
    Union::new(arms).boxed()
}

/// Decides `command` and, when accepted, evolves `state` with its events and checks the invariants.
fn decide_and_fold(
    state: &mut State,
    events: &mut Vec<Event>,
    actor: Actor,
    date: NaiveDate,
    command: &Command,
) -> Result<bool, TestCaseError> {
    let context = Context { actor, business_date: date, log_position: events.len() as u64 };
    let Ok(accepted) = domain::decide(state, &context, command) else { return Ok(false) };
    prop_assert!(!accepted.is_empty(), "{} accepted without an event", command.name());
    accepted.iter().for_each(|event| state.evolve(event));
    prop_assert_eq!(state.ledger.violations(), vec![], "after {:?}", command);
    crate::support::assert_deadline_index(state);
    events.extend(accepted);
    Ok(true)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn decide_never_panics_and_what_it_accepts_keeps_every_invariant(
        steps in prop::collection::vec((actor_strategy(), date(), command()), 1..40),
        scheduler_dates in prop::collection::vec(date(), 0..3),
    ) {
        let (mut state, mut events) = populated();
        for (actor, date, command) in &steps {
            decide_and_fold(&mut state, &mut events, actor.clone(), *date, command)?;
        }
        let scheduler = Actor { subject: "scheduler".into(), role: Role::System, jurisdiction: None, credit_code: None };
        for date in scheduler_dates.iter().chain(&[NaiveDate::MIN, NaiveDate::MAX]) {
            for command in due_commands(&state, *date) {
                decide_and_fold(&mut state, &mut events, scheduler.clone(), *date, &command)?;
            }
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_command_kind_from_its_rightful_actor_never_panics(command in command(), date in date()) {
        // Every role that may act, so that rules beyond authorization run on the extreme values, on the
        // arbitrary date and on the edges of the representable dates.
        let (state, events) = populated();
        let actors = [Role::Bureau, Role::Finance, Role::ServiceCenter, Role::Reviewer, Role::Auditor]
            .map(|role| actor(role, None))
            .into_iter()
            .chain([actor(Role::Enterprise, Some(APPLICANT)), actor(Role::Provider, Some(PROVIDER))]);
        for actor in actors {
            for date in [date, NaiveDate::MAX, NaiveDate::MIN, day("2100-12-31")] {
                decide_and_fold(&mut state.clone(), &mut events.clone(), actor.clone(), date, &command)?;
            }
        }
    }
}

#[test]
fn a_completion_on_the_last_representable_day_is_refused_not_a_panic() {
    let (state, events) = populated();
    let context = Context {
        actor: actor(Role::Enterprise, Some(APPLICANT)),
        business_date: NaiveDate::MAX,
        log_position: events.len() as u64,
    };
    let outcome = domain::decide(&state, &context, &Command::ConfirmCompletion { contract_id: id(2) });
    assert_eq!(outcome.map_err(|rejection| rejection.code()), Err("date_out_of_range"));
    assert!(!due_commands(&state, NaiveDate::MAX).is_empty());
    assert!(due_commands(&state, NaiveDate::MIN).is_empty());
}
