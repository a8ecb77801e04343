//! The route an idempotency key is bound to. A key is accepted again only with the same route and the same
//! body bytes: the writer keeps `SHA-256(route, 0, body)` in the record's metadata, so these strings are
//! stored in the log and must never change (the test below pins every one of them).

use domain::Command;

/// The route string of a command submitted over HTTP, or `None` for the scheduler's commands (they carry no
/// idempotency key). Path parameters appear in their parsed form (a UUID in lowercase with hyphens, a
/// credit code as parsed), so two spellings of one path are one route.
pub fn route(command: &Command) -> Option<String> {
    Some(match command {
        Command::PublishPolicy { .. } => "publish_policy".into(),
        Command::PublishCalendarYear { .. } => "publish_calendar_year".into(),
        Command::AppropriateBudget { jurisdiction, fiscal_year, .. } => {
            format!("appropriate:{jurisdiction}:{fiscal_year}")
        }
        Command::PublishBatch { .. } => "publish_batch".into(),
        Command::CloseBatch { batch_id } => format!("close_batch:{batch_id}"),
        Command::RegisterApplicant { .. } => "register_applicant".into(),
        Command::DecideVerification { credit_code, .. } => format!("verification:{credit_code}"),
        Command::SuspendApplicant { credit_code, .. } => format!("suspension:{credit_code}"),
        Command::ClaimVoucher { batch_id, .. } => format!("claim:{batch_id}"),
        Command::ApplyAsProvider { .. } => "apply_as_provider".into(),
        Command::DecideProvider { provider, .. } => format!("provider_decision:{provider}"),
        Command::SuspendProvider { provider, .. } => format!("provider_suspension:{provider}"),
        Command::FileObjection { .. } => "file_objection".into(),
        Command::RuleOnObjection { objection_id, .. } => format!("objection_ruling:{objection_id}"),
        Command::SubmitContract { .. } => "submit_contract".into(),
        Command::SignContract { contract_id } => format!("contract_signature:{contract_id}"),
        Command::FileContract { contract_id } => format!("contract_filing:{contract_id}"),
        Command::RejectContract { contract_id, .. } => format!("contract_rejection:{contract_id}"),
        Command::CancelContract { contract_id, .. } => format!("contract_cancellation:{contract_id}"),
        Command::ConfirmCompletion { contract_id } => format!("contract_completion:{contract_id}"),
        Command::RateService { contract_id, .. } => format!("contract_rating:{contract_id}"),
        Command::RequestRedemption { .. } => "request_redemption".into(),
        Command::ReviewRedemption { redemption_id, .. } => format!("redemption_review:{redemption_id}"),
        Command::AnnounceRedemptions { .. } => "announce_redemptions".into(),
        Command::DisburseRedemption { redemption_id, .. } => {
            format!("redemption_disbursement:{redemption_id}")
        }
        Command::DenyRedemption { redemption_id, .. } => format!("redemption_denial:{redemption_id}"),
        Command::DrawSample { .. } => "draw_sample".into(),
        Command::RecordFinding { sample_id, .. } => format!("sample_finding:{sample_id}"),
        Command::OrderClawback { .. } => "order_clawback".into(),
        Command::RecordRecovery { clawback_id, .. } => format!("clawback_recovery:{clawback_id}"),
        Command::RecordReferral { .. } => "record_referral".into(),
        Command::CloseProviderAnnouncement { .. }
        | Command::CloseRedemptionAnnouncement { .. }
        | Command::ExpireVoucher { .. }
        | Command::LapseRedemptionWindow { .. } => return None,
    })
}

#[cfg(test)]
mod tests {
    use domain::event::{DenialGround, Finding, ObjectionTarget, Registration, ReviewOutcome, Ruling};
    use domain::{ApplicantKind, Cny, Command, CreditCode, Jurisdiction, PolicyVersion};
    use serde::de::DeserializeOwned;
    use serde_json::json;
    use uuid::Uuid;

    fn from<T: DeserializeOwned>(value: serde_json::Value) -> T {
        match serde_json::from_value(value) {
            Ok(value) => value,
            Err(error) => panic!("test value: {error}"),
        }
    }

    /// Every command the HTTP API submits, with the route string stored (as part of the request digest) in
    /// the records it writes: these strings are part of the log's contents and are pinned here, byte for
    /// byte, as they were when the HTTP handlers computed them inline.
    #[test]
    fn every_command_route_string_is_pinned() {
        let id = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00ab);
        let id_text = "01900000-0000-7000-8000-0000000000ab";
        let code: CreditCode = from(json!("91520100MA6DK0000F"));
        let code_text = code.to_string();
        assert_eq!(code_text, "91520100MA6DK0000F");
        let cny: Cny = from(json!("100.00"));
        let document: domain::document::Document =
            from(json!({"sha256": "ab".repeat(32), "name": "invoice.pdf", "size_bytes": 10}));
        let policy =
            match PolicyVersion::from_toml(include_str!("../../../domain/data/policy/measures-2023.toml")) {
                Ok(policy) => policy,
                Err(error) => panic!("policy: {error}"),
            };
        let calendar_year =
            from(json!({"year": 2026, "notice": "n", "holidays": [], "working_weekends": []}));
        let registration = Registration {
            credit_code: code.clone(),
            name: "n".into(),
            kind: ApplicantKind::Enterprise,
            jurisdiction: Jurisdiction::Guiyang,
            industry: None,
            project_code: None,
            independent_legal_person: true,
            tax_compliant: true,
        };
        let date = chrono::NaiveDate::MIN;
        let cases: Vec<(Command, String)> = vec![
            (Command::PublishPolicy { policy }, "publish_policy".into()),
            (Command::PublishCalendarYear { calendar_year }, "publish_calendar_year".into()),
            (
                Command::AppropriateBudget {
                    jurisdiction: Jurisdiction::Guian,
                    fiscal_year: 2025,
                    amount: cny,
                },
                "appropriate:guian:2025".into(),
            ),
            (
                Command::PublishBatch {
                    batch_id: id,
                    jurisdiction: Jurisdiction::Guiyang,
                    fiscal_year: 2025,
                    name: "b".into(),
                    total: cny,
                    face_value: cny,
                    eligible_kinds: Default::default(),
                    eligible_industries: Default::default(),
                    eligible_categories: Default::default(),
                    claim_opens: date,
                    claim_closes: date,
                    valid_until: date,
                    redemption_days: None,
                    max_voucher_share: None,
                },
                "publish_batch".into(),
            ),
            (Command::CloseBatch { batch_id: id }, format!("close_batch:{id_text}")),
            (Command::RegisterApplicant { registration }, "register_applicant".into()),
            (
                Command::DecideVerification {
                    credit_code: code.clone(),
                    decision: from(json!("verified")),
                    reason: "".into(),
                },
                format!("verification:{code_text}"),
            ),
            (
                Command::SuspendApplicant { credit_code: code.clone(), reason: "r".into() },
                format!("suspension:{code_text}"),
            ),
            (Command::ClaimVoucher { batch_id: id, voucher_id: Uuid::nil() }, format!("claim:{id_text}")),
            (
                Command::ApplyAsProvider {
                    name: "p".into(),
                    categories: Default::default(),
                    qualifications: vec![],
                    contact: "".into(),
                },
                "apply_as_provider".into(),
            ),
            (
                Command::DecideProvider { provider: code.clone(), approve: true, reason: "".into() },
                format!("provider_decision:{code_text}"),
            ),
            (
                Command::SuspendProvider { provider: code.clone(), reason: "r".into() },
                format!("provider_suspension:{code_text}"),
            ),
            (
                Command::FileObjection {
                    objection_id: id,
                    target: ObjectionTarget::Provider { provider: code.clone() },
                    text: "t".into(),
                },
                "file_objection".into(),
            ),
            (
                Command::RuleOnObjection {
                    objection_id: id,
                    ruling: from::<Ruling>(json!("dismissed")),
                    reason: "r".into(),
                },
                format!("objection_ruling:{id_text}"),
            ),
            (
                Command::SubmitContract {
                    contract_id: id,
                    voucher_id: id,
                    provider: code.clone(),
                    category: "c".into(),
                    description: "d".into(),
                    term_start: date,
                    term_end: date,
                    total: cny,
                    voucher_amount: cny,
                    document_sha256: from(json!("ab".repeat(32))),
                },
                "submit_contract".into(),
            ),
            (Command::SignContract { contract_id: id }, format!("contract_signature:{id_text}")),
            (Command::FileContract { contract_id: id }, format!("contract_filing:{id_text}")),
            (
                Command::RejectContract { contract_id: id, reason: "r".into() },
                format!("contract_rejection:{id_text}"),
            ),
            (
                Command::CancelContract { contract_id: id, reason: "r".into() },
                format!("contract_cancellation:{id_text}"),
            ),
            (Command::ConfirmCompletion { contract_id: id }, format!("contract_completion:{id_text}")),
            (
                Command::RateService {
                    contract_id: id,
                    quality: 5,
                    timeliness: 5,
                    professionalism: 5,
                    text: "".into(),
                },
                format!("contract_rating:{id_text}"),
            ),
            (
                Command::RequestRedemption {
                    redemption_id: id,
                    contract_id: id,
                    invoice: document.clone(),
                    remittance_proof: document.clone(),
                    results: vec![document],
                },
                "request_redemption".into(),
            ),
            (
                Command::ReviewRedemption { redemption_id: id, outcome: ReviewOutcome::Full },
                format!("redemption_review:{id_text}"),
            ),
            (
                Command::AnnounceRedemptions {
                    announcement_id: id,
                    jurisdiction: Jurisdiction::Guiyang,
                    redemption_ids: vec![id],
                },
                "announce_redemptions".into(),
            ),
            (
                Command::DisburseRedemption { redemption_id: id, payment_reference: "p".into() },
                format!("redemption_disbursement:{id_text}"),
            ),
            (
                Command::DenyRedemption {
                    redemption_id: id,
                    ground: from::<DenialGround>(json!("fraud")),
                    reason: "r".into(),
                },
                format!("redemption_denial:{id_text}"),
            ),
            (
                Command::DrawSample {
                    sample_id: id,
                    jurisdiction: Jurisdiction::Guiyang,
                    year: 2025,
                    size: 1,
                    seed: "s".into(),
                },
                "draw_sample".into(),
            ),
            (
                Command::RecordFinding {
                    sample_id: id,
                    contract_id: Uuid::nil(),
                    finding: from::<Finding>(json!("compliant")),
                    note: "".into(),
                },
                format!("sample_finding:{id_text}"),
            ),
            (
                Command::OrderClawback {
                    clawback_id: id,
                    redemption_id: id,
                    amount: cny,
                    reason: "r".into(),
                },
                "order_clawback".into(),
            ),
            (
                Command::RecordRecovery { clawback_id: id, amount: cny },
                format!("clawback_recovery:{id_text}"),
            ),
            (
                Command::RecordReferral {
                    referral_id: id,
                    party: code.clone(),
                    authority: "a".into(),
                    note: "".into(),
                },
                "record_referral".into(),
            ),
        ];
        assert_eq!(cases.len(), 31, "every command route of the HTTP API");
        for (command, expected) in &cases {
            assert_eq!(super::route(command).as_deref(), Some(expected.as_str()), "{}", command.name());
        }
        for scheduled in [
            Command::CloseProviderAnnouncement { provider: code.clone() },
            Command::CloseRedemptionAnnouncement { announcement_id: id },
            Command::ExpireVoucher { voucher_id: id },
            Command::LapseRedemptionWindow { contract_id: id },
        ] {
            assert_eq!(super::route(&scheduled), None, "{}", scheduled.name());
        }
    }
}
