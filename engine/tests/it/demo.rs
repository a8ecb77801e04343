//! The demo program year: every lifecycle path of the regulation through the real pipeline, and the whole
//! log verifies afterwards (chain and invariants).

use engine::demo::{DemoOptions, run};
use engine::verify::{Verdict, verify_dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_walks_every_lifecycle_path_and_its_log_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = DemoOptions { seed: 7, applicants: 120, providers: 18 };
    let summary = run(dir.path(), options).await.expect("demo runs");
    for event_type in [
        "BudgetAppropriated",
        "BatchPublished",
        "ApplicantRegistered",
        "ApplicantVerified",
        "ApplicantRejected",
        "VoucherIssued",
        "ProviderApplied",
        "ProviderApproved",
        "ProviderRejected",
        "ProviderAdmitted",
        "ObjectionFiled",
        "ObjectionRuled",
        "ContractSubmitted",
        "ContractSigned",
        "ContractFiled",
        "ServiceCompleted",
        "ServiceRated",
        "RedemptionRequested",
        "RedemptionReviewed",
        "RedemptionsAnnounced",
        "RedemptionAnnouncementClosed",
        "RedemptionStruck",
        "RedemptionDenied",
        "RedemptionDisbursed",
        "SampleDrawn",
        "FindingRecorded",
        "ClawbackOrdered",
        "ClawbackRecovered",
        "ProviderSuspended",
        "ReferralRecorded",
        "VoucherExpired",
        "RedemptionWindowLapsed",
    ] {
        let count = summary.events_by_type.get(event_type).copied().unwrap_or(0);
        assert!(count > 0, "the demo recorded no {event_type}: {:?}", summary.events_by_type);
    }
    assert!(summary.head_position > 500, "a program year of 120 applicants: {}", summary.head_position);
    // The demo crosses the end of the Measures (2025-12-31) with no successor version: redemptions approved
    // in late December are announced and paid in January 2026, and filed contracts of expired vouchers are
    // cancelled, their money returned to the budget in the same command.
    let after = &summary.events_after_the_measures;
    for event_type in [
        "VoucherExpired",
        "RedemptionsAnnounced",
        "RedemptionAnnouncementClosed",
        "RedemptionDisbursed",
        "ContractCancelled",
        "ReturnedAfterExpiry",
    ] {
        assert!(
            after.get(event_type).copied().unwrap_or(0) > 0,
            "no {event_type} after the Measures: {after:?}"
        );
    }
    assert_eq!(after.get("ReturnedAfterExpiry"), after.get("ContractCancelled"), "{after:?}");
    assert_eq!(after.get("PolicyPublished"), None, "no successor version: {after:?}");
    assert_eq!(summary.refused, 0, "every command of the workload is accepted");
    match verify_dir(dir.path()).await.expect("verify runs") {
        Verdict::Intact { records, head_position, head_hash } => {
            assert_eq!(records, summary.head_position);
            assert_eq!(head_position, summary.head_position);
            assert_eq!(head_hash, summary.head_hash);
        }
        other => panic!("the demo's log does not verify: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_is_deterministic_from_its_seed() {
    let options = DemoOptions { seed: 11, applicants: 40, providers: 8 };
    let first = tempfile::tempdir().expect("tempdir");
    let second = tempfile::tempdir().expect("tempdir");
    let a = run(first.path(), options).await.expect("demo");
    let b = run(second.path(), options).await.expect("demo");
    assert_eq!(a.events_by_type, b.events_by_type);
    assert_eq!(a.accepted, b.accepted);
    assert_eq!(a.refused, b.refused);
    assert_eq!(a.examples, b.examples, "the same seed gives the same entity ids");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_refuses_a_data_dir_that_holds_a_ledger() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = DemoOptions { seed: 1, applicants: 5, providers: 3 };
    run(dir.path(), options).await.expect("first demo");
    assert!(matches!(run(dir.path(), options).await, Err(engine::demo::DemoError::NotEmpty(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_sample_recomputed_offline_from_the_log_equals_the_recorded_one() {
    use store::EventLog;
    let dir = tempfile::tempdir().expect("tempdir");
    let options = DemoOptions { seed: 3, applicants: 80, providers: 12 };
    let summary = run(dir.path(), options).await.expect("demo");
    let sample_id: uuid::Uuid = summary.examples["sample"].parse().expect("a sample id");
    let log = store::file::FileLog::open_read_only(dir.path()).expect("log");
    let draw = engine::sample::recheck(&log, sample_id).await.expect("recheck");
    assert!(!draw.contract_ids.is_empty());
    assert_eq!(Some(draw.contract_ids.clone()), draw.recorded);
    // The same inputs at a later position would see the same 2025 population here, but another seed differs.
    let other = engine::sample::draw(
        &log,
        draw.jurisdiction,
        draw.year,
        draw.size,
        "another seed",
        draw.as_of_position,
    )
    .await
    .expect("draw");
    assert_eq!(other.population, draw.population);
    if draw.population > draw.contract_ids.len() {
        assert_ne!(other.contract_ids, draw.contract_ids);
    }
    assert!(log.head().await.expect("head").position > draw.as_of_position);
}
