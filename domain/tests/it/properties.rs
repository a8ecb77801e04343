//! Laws of the domain, over random command sequences: every accepted command keeps the ledger balanced and
//! non-negative and the annual caps, batch totals and budgets unexceeded; folding the recorded events again
//! gives the same state.

use chrono::{NaiveDate, TimeDelta};
use domain::event::Registration;
use domain::{
    Actor, ApplicantKind, Balance, Cny, Command, Context, CreditCode, Event, Jurisdiction, Role, State,
    VerificationDecision,
};
use proptest::prelude::*;
use uuid::Uuid;

fn code(n: u8) -> CreditCode {
    domain::credit_code::with_check_character(&format!("915201{:011}", u32::from(n))).expect("valid code")
}

fn jurisdiction(n: u8) -> Jurisdiction {
    if n.is_multiple_of(2) { Jurisdiction::Guiyang } else { Jurisdiction::Guian }
}

/// One random step: who does what.
#[derive(Clone, Debug)]
enum Step {
    Appropriate { jurisdiction: u8, fen: u64 },
    PublishBatch { jurisdiction: u8, total_fen: u64, face_fen: u64 },
    Register { applicant: u8, project: bool },
    Verify { applicant: u8 },
    Claim { applicant: u8, batch: usize },
    CloseBatch { batch: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..2, 1u64..200_000_000).prop_map(|(jurisdiction, fen)| Step::Appropriate { jurisdiction, fen }),
        (0u8..2, 1u64..100_000_000, 1u64..300_000_000).prop_map(|(jurisdiction, total_fen, face_fen)| {
            Step::PublishBatch { jurisdiction, total_fen, face_fen }
        }),
        (0u8..8, any::<bool>()).prop_map(|(applicant, project)| Step::Register { applicant, project }),
        (0u8..8).prop_map(|applicant| Step::Verify { applicant }),
        (0u8..8, 0usize..6).prop_map(|(applicant, batch)| Step::Claim { applicant, batch }),
        (0usize..6).prop_map(|batch| Step::CloseBatch { batch }),
    ]
}

fn staff(role: Role, jurisdiction: Jurisdiction) -> Actor {
    Actor { subject: role.to_string(), role, jurisdiction: Some(jurisdiction), credit_code: None }
}

/// Turns a step into an actor and a command against the batches published so far.
fn command(
    step: &Step,
    batches: &[(Uuid, Jurisdiction)],
    kinds: &[Option<bool>; 8],
    n: usize,
) -> (Actor, Command) {
    let cny = |fen: u64| Cny::from_fen(fen).expect("positive");
    match step {
        Step::Appropriate { jurisdiction: j, fen } => (
            staff(Role::Finance, jurisdiction(*j)),
            Command::AppropriateBudget {
                jurisdiction: jurisdiction(*j),
                fiscal_year: 2025,
                amount: cny(*fen),
            },
        ),
        Step::PublishBatch { jurisdiction: j, total_fen, face_fen } => (
            staff(Role::Bureau, jurisdiction(*j)),
            Command::PublishBatch {
                batch_id: Uuid::from_u128(n as u128 + 1),
                jurisdiction: jurisdiction(*j),
                fiscal_year: 2025,
                name: format!("batch {n}"),
                total: cny(*total_fen),
                face_value: cny(*face_fen),
                eligible_kinds: [ApplicantKind::Enterprise, ApplicantKind::ProjectEntity]
                    .into_iter()
                    .collect(),
                eligible_industries: ["aluminum".to_owned()].into_iter().collect(),
                eligible_categories: ["other".to_owned()].into_iter().collect(),
                claim_opens: "2025-03-01".parse().expect("date"),
                claim_closes: "2025-12-31".parse().expect("date"),
                valid_until: "2025-12-31".parse().expect("date"),
                redemption_days: None,
                max_voucher_share: None,
            },
        ),
        Step::Register { applicant, project } => {
            let kind = if *project { ApplicantKind::ProjectEntity } else { ApplicantKind::Enterprise };
            let actor = applicant_actor(*applicant, *project);
            let registration = Registration {
                credit_code: code(*applicant),
                name: format!("applicant {applicant}"),
                kind,
                jurisdiction: jurisdiction(*applicant),
                industry: (!project).then(|| "aluminum".to_owned()),
                project_code: project.then(|| "2025-520100-000001".to_owned()),
                independent_legal_person: true,
                tax_compliant: true,
            };
            (actor, Command::RegisterApplicant { registration })
        }
        Step::Verify { applicant } => (
            staff(Role::ServiceCenter, jurisdiction(*applicant)),
            Command::DecideVerification {
                credit_code: code(*applicant),
                decision: VerificationDecision::Verified,
                reason: String::new(),
            },
        ),
        Step::Claim { applicant, batch } => {
            let project = kinds[usize::from(*applicant)].unwrap_or(false);
            let batch_id = batches.get(*batch).map_or(Uuid::nil(), |(id, _)| *id);
            (
                applicant_actor(*applicant, project),
                Command::ClaimVoucher { batch_id, voucher_id: Uuid::from_u128(1_000_000 + n as u128) },
            )
        }
        Step::CloseBatch { batch } => {
            let (batch_id, j) = batches.get(*batch).copied().unwrap_or((Uuid::nil(), Jurisdiction::Guiyang));
            (staff(Role::Bureau, j), Command::CloseBatch { batch_id })
        }
    }
}

fn applicant_actor(applicant: u8, project: bool) -> Actor {
    Actor {
        subject: format!("applicant-{applicant}"),
        role: if project { Role::ProjectEntity } else { Role::Enterprise },
        jurisdiction: Some(jurisdiction(applicant)),
        credit_code: Some(code(applicant)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_accepted_command_keeps_every_invariant_and_replay_gives_the_same_state(
        random in proptest::collection::vec(step(), 1..120)
    ) {
        // A funded program in both jurisdictions and eight verified applicants first, so that claims, caps and
        // exhausted batches are reached; then the random steps.
        let mut steps = vec![
            Step::Appropriate { jurisdiction: 0, fen: 5_000_000_000 },
            Step::Appropriate { jurisdiction: 1, fen: 5_000_000_000 },
            Step::PublishBatch { jurisdiction: 0, total_fen: 300_000_000, face_fen: 100_000_000 },
            Step::PublishBatch { jurisdiction: 1, total_fen: 2_000_000_000, face_fen: 15_000_000 },
        ];
        for applicant in 0..8u8 {
            steps.push(Step::Register { applicant, project: applicant.is_multiple_of(3) });
            steps.push(Step::Verify { applicant });
        }
        steps.extend(random);

        let mut state = State::new();
        let mut recorded: Vec<Event> = Vec::new();
        let mut batches: Vec<(Uuid, Jurisdiction)> = Vec::new();
        let mut kinds: [Option<bool>; 8] = [None; 8];
        let start: NaiveDate = "2025-03-03".parse().expect("date");
        for (n, step) in steps.iter().enumerate() {
            let (actor, command) = command(step, &batches, &kinds, n);
            let date = start + TimeDelta::days(i64::try_from(n / 10).unwrap_or(0));
            let context = Context { actor, business_date: date, log_position: recorded.len() as u64 };
            let Ok(events) = domain::decide(&state, &context, &command) else { continue };
            prop_assert!(!events.is_empty());
            for event in &events {
                state.evolve(event);
                match event {
                    Event::BatchPublished { batch_id, guide } => batches.push((*batch_id, guide.jurisdiction)),
                    Event::ApplicantRegistered { registration } => {
                        let index = (0u8..8).position(|a| code(a) == registration.credit_code).unwrap_or(0);
                        kinds[index] = Some(registration.kind == ApplicantKind::ProjectEntity);
                    }
                    _ => {}
                }
            }
            recorded.extend(events);
            // Balanced, and nothing but the fiscal source negative.
            prop_assert_eq!(state.violations(), vec![]);
            // The scheduler's deadline index is the one a rebuild gives, and answers as the full scan.
            crate::support::assert_deadline_index(&state);
            // The annual cap per applicant kind is never exceeded.
            for ((credit_code, _), issued) in &state.issued_by_year {
                let kind = state.applicants.get(credit_code).map(|a| a.registration.kind).unwrap_or(ApplicantKind::Enterprise);
                let cap = state.policies.versions()[0].annual_cap(kind);
                prop_assert!(*issued <= Balance::from(cap), "{credit_code} issued {issued} over {cap}");
            }
        }
        prop_assert!(recorded.len() >= 20, "the fixed prefix alone records 20 events");
        // Folding the recorded events again gives the same state.
        let mut replayed = State::new();
        for event in &recorded {
            replayed.evolve(event);
        }
        prop_assert_eq!(replayed, state);
    }
}
