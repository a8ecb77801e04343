//! Given/when/then tests of the regulation at its joint boundaries (SPEC §3 "Who publishes", §4 Applicant and
//! Audit): policy versions signed by the bureau of each jurisdiction they cover, audits and bureau measures
//! kept to the actor's own jurisdiction, project entities without the enterprise attestations.

use crate::support::*;
use std::collections::BTreeSet;

use domain::event::{BatchGuide, Registration};
use domain::{Actor, ApplicantKind, Command, Event, Jurisdiction, PolicyVersion, Role, Share, State};
use uuid::Uuid;

fn bureau(jurisdiction: Jurisdiction) -> Actor {
    Actor {
        subject: format!("bureau-{jurisdiction}"),
        role: Role::Bureau,
        jurisdiction: Some(jurisdiction),
        credit_code: None,
    }
}

/// A successor of the shipped Measures for 2026–2027 covering `jurisdictions`.
fn successor(jurisdictions: &[Jurisdiction]) -> PolicyVersion {
    let mut version = State::new().policies.versions()[0].clone();
    version.id = "measures-2026".into();
    version.effective_from = day("2026-01-01");
    version.effective_until = day("2027-12-31");
    version.jurisdictions = jurisdictions.iter().copied().collect();
    version
}

fn sign(policy: &PolicyVersion) -> Command {
    Command::PublishPolicy { policy: policy.clone() }
}

/// Decides `command` after `given` and appends its events to `given`.
fn accept(given: &mut Vec<Event>, actor: &Actor, date: &str, command: Command) -> Vec<Event> {
    let events = check(given, actor, date, command).expect("accepted");
    given.extend(events.clone());
    events
}

fn publish_batch(jurisdiction: Jurisdiction) -> Command {
    Command::PublishBatch {
        batch_id: Uuid::from_u128(0xba7c_2026),
        jurisdiction,
        fiscal_year: 2026,
        name: "2026 first batch".into(),
        total: cny("100000.00"),
        face_value: cny("10000.00"),
        eligible_kinds: [ApplicantKind::Enterprise].into_iter().collect(),
        eligible_industries: ["aluminum".to_owned()].into_iter().collect(),
        eligible_categories: ["inspection_testing".to_owned()].into_iter().collect(),
        claim_opens: day("2026-03-01"),
        claim_closes: day("2026-06-30"),
        valid_until: day("2026-12-31"),
        redemption_days: None,
        max_voucher_share: None,
    }
}

fn budgets_2026() -> Vec<Event> {
    [GY, GA]
        .into_iter()
        .map(|jurisdiction| Event::BudgetAppropriated {
            jurisdiction,
            fiscal_year: 2026,
            amount: cny("1000000.00"),
        })
        .collect()
}

// ---- point 3: joint policy ----

#[test]
fn a_joint_version_is_in_force_only_once_both_bureaus_have_signed_it() {
    // Given the shipped Measures and 2026 budgets.
    let mut given = budgets_2026();
    let version = successor(&[GY, GA]);
    // When the guiyang bureau signs, the version waits for guian: no batch can be published under it.
    let events = accept(&mut given, &bureau(GY), "2025-11-03", sign(&version));
    assert_eq!(events, vec![Event::PolicySigned { policy: version.clone(), jurisdiction: GY }]);
    let state = fold(&given);
    assert_eq!(state.policies.in_force(GY, day("2026-02-02")), None);
    assert_eq!(state.policies.pending()["measures-2026"].signed_by, BTreeSet::from([GY]));
    assert_eq!(
        outcome_code(check(&given, &bureau(GY), "2026-02-02", publish_batch(GY))),
        "no_policy_in_force"
    );
    // When the guian bureau signs the same text, it is in force in both jurisdictions.
    let events = accept(&mut given, &bureau(GA), "2025-11-10", sign(&version));
    assert_eq!(events, vec![Event::PolicySigned { policy: version.clone(), jurisdiction: GA }]);
    let state = fold(&given);
    assert!(state.policies.pending().is_empty());
    for jurisdiction in [GY, GA] {
        assert_eq!(state.policies.in_force(jurisdiction, day("2026-02-02")), Some(&version));
        let outcome = check(&given, &bureau(jurisdiction), "2026-02-02", publish_batch(jurisdiction));
        assert_eq!(outcome_code(outcome), "accepted", "{jurisdiction}");
    }
}

#[test]
fn a_bureau_alone_never_changes_the_other_jurisdictions_caps() {
    // Given a version that raises the caps tenfold with no announcement days (the reported attack) ...
    let mut raised = successor(&[GA]);
    raised.annual_cap_enterprise = cny("50000000.00");
    raised.annual_cap_project_entity = cny("2000000.00");
    // ... when guiyang's bureau publishes it for guian only, it is forbidden.
    assert_eq!(outcome_code(check(&[], &bureau(GY), "2025-11-03", sign(&raised))), "forbidden");
    // When it names both, guiyang's signature alone changes nothing in guian.
    raised.jurisdictions = [GY, GA].into_iter().collect();
    let mut given = Vec::new();
    accept(&mut given, &bureau(GY), "2025-11-03", sign(&raised));
    let state = fold(&given);
    assert_eq!(state.policies.in_force(GA, day("2026-02-02")), None);
    assert_eq!(
        state.policies.in_force(GA, day("2025-11-03")).map(|v| v.annual_cap(ApplicantKind::Enterprise)),
        Some(cny("5000000.00"))
    );
    // And announcement periods below 5 working days are refused whoever signs.
    raised.redemption_announcement_working_days = 0;
    assert_eq!(outcome_code(check(&[], &bureau(GY), "2025-11-03", sign(&raised))), "invalid_policy");
    raised.redemption_announcement_working_days = 5;
    raised.provider_announcement_working_days = 4;
    assert_eq!(outcome_code(check(&[], &bureau(GY), "2025-11-03", sign(&raised))), "invalid_policy");
}

#[test]
fn a_version_covering_one_jurisdiction_is_in_force_there_only() {
    // Given guiyang's own 2026 version, signed by guiyang's bureau alone.
    let mut given = budgets_2026();
    accept(&mut given, &bureau(GY), "2025-11-03", sign(&successor(&[GY])));
    // Then guiyang may publish 2026 batches under it, guian may not.
    assert_eq!(outcome_code(check(&given, &bureau(GY), "2026-02-02", publish_batch(GY))), "accepted");
    assert_eq!(
        outcome_code(check(&given, &bureau(GA), "2026-02-02", publish_batch(GA))),
        "no_policy_in_force"
    );
    // And guian's own version for the same window does not overlap guiyang's (other jurisdiction).
    let mut guian = successor(&[GA]);
    guian.id = "guian-2026".into();
    assert_eq!(outcome_code(check(&given, &bureau(GA), "2025-11-03", sign(&guian))), "accepted");
    // But a second guiyang version over the same window does.
    let mut again = successor(&[GY]);
    again.id = "guiyang-2026b".into();
    assert_eq!(outcome_code(check(&given, &bureau(GY), "2025-11-03", sign(&again))), "policy_overlaps");
}

#[test]
fn a_version_is_never_retroactive() {
    let version = successor(&[GY, GA]);
    // A first signature after the window opened is refused ...
    assert_eq!(outcome_code(check(&[], &bureau(GY), "2026-01-02", sign(&version))), "policy_retroactive");
    // ... and so is a last signature after it opened, though the first came in time.
    let mut given = Vec::new();
    accept(&mut given, &bureau(GY), "2025-12-15", sign(&version));
    assert_eq!(outcome_code(check(&given, &bureau(GA), "2026-01-05", sign(&version))), "policy_retroactive");
    // Signed on the first day of its window is fine.
    assert_eq!(outcome_code(check(&given, &bureau(GA), "2026-01-01", sign(&version))), "accepted");
}

#[test]
fn each_bureau_signs_the_same_text_once() {
    let version = successor(&[GY, GA]);
    let mut given = Vec::new();
    accept(&mut given, &bureau(GY), "2025-11-03", sign(&version));
    assert_eq!(
        outcome_code(check(&given, &bureau(GY), "2025-11-04", sign(&version))),
        "policy_already_signed"
    );
    let mut other = version.clone();
    other.annual_cap_enterprise = cny("6000000.00");
    assert_eq!(
        outcome_code(check(&given, &bureau(GA), "2025-11-04", sign(&other))),
        "policy_signature_mismatch"
    );
    // A version must name the jurisdictions it covers.
    let mut nameless = version.clone();
    nameless.id = "nameless".into();
    nameless.jurisdictions.clear();
    assert_eq!(outcome_code(check(&[], &bureau(GY), "2025-11-04", sign(&nameless))), "invalid_policy");
}

#[test]
fn an_old_single_signature_publication_still_covers_both_jurisdictions() {
    // Given a PolicyPublished recorded before joint signatures (no jurisdictions named).
    let mut old = successor(&[]);
    old.jurisdictions.clear();
    let state = fold(&[Event::PolicyPublished { policy: old.clone() }]);
    // Then it is in force in both jurisdictions, as it was.
    assert_eq!(state.policies.in_force(GY, day("2026-02-02")), Some(&old));
    assert_eq!(state.policies.in_force(GA, day("2026-02-02")), Some(&old));
}

// ---- point 5: project entities (art. 6) ----

/// A registration without the independent-legal-person and tax attestations.
fn unattested(kind: ApplicantKind, n: u32) -> Registration {
    Registration {
        credit_code: code(n),
        name: format!("applicant {n}"),
        kind,
        jurisdiction: GY,
        industry: (kind == ApplicantKind::Enterprise).then(|| "aluminum".to_owned()),
        project_code: (kind == ApplicantKind::ProjectEntity).then(|| "2401-520900-04-01-123456".to_owned()),
        independent_legal_person: false,
        tax_compliant: false,
    }
}

/// A funded guiyang batch open to both kinds from 2025-03-01 to 2025-06-30.
fn open_batch() -> Vec<Event> {
    let guide = BatchGuide {
        jurisdiction: GY,
        fiscal_year: 2025,
        name: "2025 batch".into(),
        total: cny("1000000.00"),
        face_value: cny("100000.00"),
        eligible_kinds: [ApplicantKind::Enterprise, ApplicantKind::ProjectEntity].into_iter().collect(),
        eligible_industries: ["aluminum".to_owned()].into_iter().collect(),
        eligible_categories: ["inspection_testing".to_owned()].into_iter().collect(),
        claim_opens: day("2025-03-01"),
        claim_closes: day("2025-06-30"),
        valid_until: day("2025-12-31"),
        redemption_days: 60,
        max_voucher_share: Share::FULL,
        policy_id: "measures-2023".into(),
    };
    vec![
        Event::BudgetAppropriated { jurisdiction: GY, fiscal_year: 2025, amount: cny("1000000.00") },
        Event::BatchPublished { batch_id: Uuid::from_u128(7), guide },
    ]
}

#[test]
fn a_project_entity_registers_with_its_project_code_and_claims_without_the_enterprise_attestations() {
    let mut given = open_batch();
    let center = Actor {
        subject: "center".into(),
        role: Role::ServiceCenter,
        jurisdiction: Some(GY),
        credit_code: None,
    };
    for (kind, n) in [(ApplicantKind::ProjectEntity, 1), (ApplicantKind::Enterprise, 2)] {
        let register = Command::RegisterApplicant { registration: unattested(kind, n) };
        let events = accept(&mut given, &applicant_actor(kind, n, GY), "2025-03-03", register);
        assert!(
            matches!(&events[0], Event::ApplicantRegistered { registration } if registration.kind == kind)
        );
        let verify = Command::DecideVerification {
            credit_code: code(n),
            decision: domain::VerificationDecision::Verified,
            reason: String::new(),
        };
        accept(&mut given, &center, "2025-03-03", verify);
    }
    // The project entity's registration carries its project code.
    let state = fold(&given);
    assert_eq!(
        state.applicants[&code(1)].registration.project_code.as_deref(),
        Some("2401-520900-04-01-123456")
    );
    let claim =
        |n: u128| Command::ClaimVoucher { batch_id: Uuid::from_u128(7), voucher_id: Uuid::from_u128(n) };
    // The project entity claims without the attestations; the enterprise without them may not.
    let events =
        check(&given, &applicant_actor(ApplicantKind::ProjectEntity, 1, GY), "2025-03-10", claim(70));
    assert!(matches!(events.as_deref(), Ok([Event::VoucherIssued { .. }])), "{events:?}");
    let outcome = check(&given, &applicant_actor(ApplicantKind::Enterprise, 2, GY), "2025-03-10", claim(71));
    assert_eq!(outcome_code(outcome), "not_eligible");
    // A project entity without a project code is refused at registration.
    let mut no_code = unattested(ApplicantKind::ProjectEntity, 3);
    no_code.project_code = None;
    let register = Command::RegisterApplicant { registration: no_code };
    let outcome =
        check(&given, &applicant_actor(ApplicantKind::ProjectEntity, 3, GY), "2025-03-10", register);
    assert_eq!(outcome_code(outcome), "invalid_registration");
}
