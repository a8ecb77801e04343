//! `verify` catches a log whose hash chain is intact but whose facts break the invariants of SPEC §5: such
//! a log can only come from a bug or from someone rewriting the log with valid hashes.

use domain::event::BatchGuide;
use domain::{Actor, ApplicantKind, Cny, Event, Jurisdiction, Role, Share};
use engine::verify::{Verdict, verify_dir};
use ledger_proto::RecordMeta;
use store::file::FileLog;
use store::{EventLog, Head};
use uuid::Uuid;

fn meta(event: &Event, version: u64) -> RecordMeta {
    RecordMeta {
        id: Uuid::now_v7(),
        stream: event.stream(),
        stream_version: version,
        recorded_at: chrono::Utc::now(),
        business_date: "2025-03-03".parse().expect("date"),
        actor: Actor {
            subject: "forger".into(),
            role: Role::Bureau,
            jurisdiction: Some(Jurisdiction::Guiyang),
            credit_code: None,
        },
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
        idempotency_key: None,
        request_digest: None,
    }
}

/// Writes `events` as a valid hash chain, one command each, straight into the log (no `decide`).
async fn forge(dir: &std::path::Path, events: &[Event]) {
    let (log, _) = FileLog::open(dir).expect("open");
    let mut head = Head::GENESIS;
    for (index, event) in events.iter().enumerate() {
        let record = ledger_proto::seal_event(
            &meta(event, index as u64 + 1),
            event,
            head.position + 1,
            head.hash,
            true,
        );
        head = log.append(head, vec![record]).await.expect("append");
    }
}

fn cny(text: &str) -> Cny {
    Cny::parse(text).expect("amount")
}

fn batch(total: &str) -> Event {
    Event::BatchPublished {
        batch_id: Uuid::from_u128(1),
        guide: BatchGuide {
            jurisdiction: Jurisdiction::Guiyang,
            fiscal_year: 2025,
            name: "forged".into(),
            total: cny(total),
            face_value: cny("100.00"),
            eligible_kinds: [ApplicantKind::Enterprise].into_iter().collect(),
            eligible_industries: ["aluminum".to_owned()].into_iter().collect(),
            eligible_categories: ["other".to_owned()].into_iter().collect(),
            claim_opens: "2025-03-01".parse().expect("date"),
            claim_closes: "2025-06-30".parse().expect("date"),
            valid_until: "2025-12-31".parse().expect("date"),
            redemption_days: 60,
            max_voucher_share: Share::FULL,
            policy_id: "measures-2023".into(),
        },
    }
}

#[tokio::test]
async fn a_batch_larger_than_its_budget_is_named_by_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let appropriation = Event::BudgetAppropriated {
        jurisdiction: Jurisdiction::Guiyang,
        fiscal_year: 2025,
        amount: cny("1000.00"),
    };
    forge(dir.path(), &[appropriation, batch("1000.01")]).await;
    match verify_dir(dir.path()).await.expect("verify") {
        Verdict::Violated { violations, .. } => {
            assert!(
                violations.iter().any(|v| v.starts_with("position 2:")
                    && v.contains("budget:2025")
                    && v.contains("negative")),
                "{violations:?}"
            );
        }
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[tokio::test]
async fn a_balanced_forged_log_within_its_budget_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let appropriation = Event::BudgetAppropriated {
        jurisdiction: Jurisdiction::Guiyang,
        fiscal_year: 2025,
        amount: cny("1000.00"),
    };
    forge(dir.path(), &[appropriation, batch("1000.00")]).await;
    assert!(matches!(verify_dir(dir.path()).await.expect("verify"), Verdict::Intact { records: 2, .. }));
}

#[tokio::test]
async fn a_second_disbursement_of_one_redemption_is_a_violation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let provider = domain::credit_code::with_check_character("52520100000000001").expect("code");
    let redemption_id = Uuid::from_u128(9);
    let disbursed = Event::RedemptionDisbursed {
        redemption_id,
        jurisdiction: Jurisdiction::Guiyang,
        provider,
        amount: cny("10.00"),
        payment_reference: "twice".into(),
    };
    forge(dir.path(), &[disbursed.clone(), disbursed]).await;
    match verify_dir(dir.path()).await.expect("verify") {
        Verdict::Violated { violations, .. } => {
            assert!(violations.iter().any(|v| v.contains("negative")), "{violations:?}");
            assert!(
                violations.iter().any(|v| v.starts_with("position 2:") && v.contains("disbursed twice")),
                "{violations:?}"
            );
        }
        other => panic!("expected a violation, got {other:?}"),
    }
}
