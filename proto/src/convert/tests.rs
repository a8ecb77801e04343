//! The conversions' tests: every event variant round-trips (from one list of samples that names every
//! variant), the golden bytes of the stored format, and each refusal of a bad field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use chrono::NaiveDate;
use domain::document::{Document, Sha256Hex};
use domain::event::{
    BatchGuide, ContractTerms, DenialGround, Finding, ObjectionTarget, Party, ProviderApplication,
    Registration, ReviewOutcome, Ruling,
};
use domain::{ApplicantKind, Calendar, Cny, CreditCode, Event, Jurisdiction, PolicyBook, Share};
use proptest::prelude::*;
use prost::Message;
use uuid::Uuid;

use super::fields::{denial_ground_name, finding_name, party_name, ruling_name};
use super::{decode_event, encode_event};
use crate::record::{CodecError, date_from_days, days_from_date, uuid_to_bytes};
use crate::v1;

fn code(body: &str) -> CreditCode {
    domain::credit_code::with_check_character(body).unwrap()
}

fn cny(text: &str) -> Cny {
    text.parse().unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn id(text: &str) -> Uuid {
    text.parse().unwrap()
}

fn strings(values: &[&str]) -> BTreeSet<String> {
    values.iter().map(|&value| value.to_owned()).collect()
}

/// Encodes `event`, checks the type name, decodes it again and expects the same event.
fn check_roundtrip(event: &Event) {
    let (event_type, schema_version, payload) = encode_event(event);
    assert_eq!(event_type, event.event_type());
    assert_eq!(schema_version, 1);
    assert_eq!(decode_event(event_type, schema_version, &payload).as_ref(), Ok(event));
}

fn guide() -> BatchGuide {
    BatchGuide {
        jurisdiction: Jurisdiction::Guiyang,
        fiscal_year: 2025,
        name: "2025年第一批助企券".to_owned(),
        total: cny("10000000.00"),
        face_value: cny("50000.00"),
        eligible_kinds: [ApplicantKind::Enterprise, ApplicantKind::ProjectEntity].into(),
        eligible_industries: strings(&["大数据电子信息", "先进装备制造", "新能源汽车"]),
        eligible_categories: strings(&["检验检测", "研发设计", "知识产权"]),
        claim_opens: day("2025-03-03"),
        claim_closes: day("2025-03-31"),
        valid_until: day("2025-12-31"),
        redemption_days: 30,
        max_voucher_share: "0.8".parse().unwrap(),
        policy_id: "measures-2023".to_owned(),
    }
}

fn registration() -> Registration {
    Registration {
        credit_code: code("91520100MA6H00000"),
        name: "贵阳某某电子科技有限公司".to_owned(),
        kind: ApplicantKind::Enterprise,
        jurisdiction: Jurisdiction::Guiyang,
        industry: Some("大数据电子信息".to_owned()),
        project_code: None,
        independent_legal_person: true,
        tax_compliant: true,
    }
}

fn voucher_issued() -> Event {
    Event::VoucherIssued {
        voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
        batch_id: id("01956a3e-0000-7000-8000-000000000001"),
        jurisdiction: Jurisdiction::Guian,
        applicant: code("91520900MA6J12345"),
        kind: ApplicantKind::ProjectEntity,
        face_value: cny("20000.00"),
        cap_year: 2025,
        annual_cap: cny("200000.00"),
        valid_until: day("2025-12-31"),
    }
}

#[test]
fn policy_published_roundtrips() {
    let policy = PolicyBook::shipped().versions()[0].clone();
    check_roundtrip(&Event::PolicyPublished { policy });
}

#[test]
fn a_policy_published_before_joint_signatures_decodes_with_no_jurisdictions() {
    // The bytes an older build wrote: PolicyVersion without field 14.
    let mut policy = PolicyBook::shipped().versions()[0].clone();
    let mut old = v1::PolicyVersion::from(&policy);
    old.jurisdictions.clear();
    let payload = v1::PolicyPublished { policy: Some(old) }.encode_to_vec();
    policy.jurisdictions.clear();
    let decoded = decode_event("PolicyPublished", 1, &payload);
    assert_eq!(decoded, Ok(Event::PolicyPublished { policy: policy.clone() }));
    assert!(Jurisdiction::ALL.iter().all(|j| policy.covers(*j)));
}

#[test]
fn calendar_year_published_roundtrips() {
    let calendar_year = Calendar::shipped().year(2024).cloned().unwrap();
    assert!(!calendar_year.holidays.is_empty() && !calendar_year.working_weekends.is_empty());
    check_roundtrip(&Event::CalendarYearPublished { calendar_year });
}

#[test]
fn budget_appropriated_roundtrips() {
    check_roundtrip(&Event::BudgetAppropriated {
        jurisdiction: Jurisdiction::Guiyang,
        fiscal_year: 2025,
        amount: cny("50000000.00"),
    });
}

#[test]
fn batch_published_roundtrips() {
    check_roundtrip(&Event::BatchPublished {
        batch_id: id("01956a3e-0000-7000-8000-000000000001"),
        guide: guide(),
    });
}

#[test]
fn batch_closed_roundtrips_with_and_without_money_returned() {
    for returned in [Some(cny("1250.50")), None] {
        check_roundtrip(&Event::BatchClosed {
            batch_id: id("01956a3e-0000-7000-8000-000000000001"),
            jurisdiction: Jurisdiction::Guian,
            fiscal_year: 2025,
            returned,
        });
    }
}

#[test]
fn applicant_registered_roundtrips_for_an_enterprise_and_a_project_entity() {
    check_roundtrip(&Event::ApplicantRegistered { registration: registration() });
    let project = Registration {
        credit_code: code("12520900MB1K00007"),
        name: "贵安新区某数据中心项目".to_owned(),
        kind: ApplicantKind::ProjectEntity,
        jurisdiction: Jurisdiction::Guian,
        industry: None,
        project_code: Some("2401-520900-04-01-123456".to_owned()),
        independent_legal_person: true,
        tax_compliant: false,
    };
    check_roundtrip(&Event::ApplicantRegistered { registration: project });
}

#[test]
fn applicant_verified_rejected_and_suspended_roundtrip() {
    let credit_code = code("91520100MA6H00000");
    check_roundtrip(&Event::ApplicantVerified { credit_code: credit_code.clone() });
    check_roundtrip(&Event::ApplicantRejected {
        credit_code: credit_code.clone(),
        reason: "营业执照与申报主体不一致".to_owned(),
    });
    check_roundtrip(&Event::ApplicantSuspended { credit_code, reason: "虚假申报".to_owned() });
}

#[test]
fn voucher_issued_roundtrips() {
    check_roundtrip(&voucher_issued());
}

fn digest(content: &str) -> Sha256Hex {
    use sha2::{Digest, Sha256};
    Sha256Hex::parse(&hex::encode(Sha256::digest(content.as_bytes()))).unwrap()
}

fn document(name: &str, size_bytes: u64) -> Document {
    Document { sha256: digest(name), name: name.to_owned(), size_bytes }
}

fn provider() -> CreditCode {
    code("91520115MA6DP1234")
}

fn contract_terms() -> ContractTerms {
    ContractTerms {
        voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
        jurisdiction: Jurisdiction::Guiyang,
        provider: provider(),
        applicant: code("91520100MA6H00000"),
        category: "检验检测".to_owned(),
        description: "电磁兼容检测及型式试验报告".to_owned(),
        term_start: day("2025-04-01"),
        term_end: day("2025-06-30"),
        total: cny("62500.00"),
        voucher_amount: cny("50000.00"),
        document_sha256: digest("检测服务合同（已签章）.pdf"),
    }
}

/// Lists sample events per variant and generates, from the same list, an exhaustive match over
/// [`Event`]'s variants: a variant added to the domain fails to compile here until it is listed, and it
/// cannot be listed without at least one sample.
macro_rules! every_variant {
    ($($variant:ident => [$($sample:expr),+ $(,)?]),+ $(,)?) => {
        /// The name each variant is listed under (an exhaustive match: no wildcard).
        fn listed_as(event: &Event) -> &'static str {
            match event {
                $(Event::$variant { .. } => stringify!($variant)),+
            }
        }

        /// Every variant with the samples listed for it: (variant name, sample).
        fn every_event_variant() -> Vec<(&'static str, Event)> {
            vec![$($((stringify!($variant), $sample)),+),+]
        }
    };
}

every_variant! {
    PolicyPublished => [Event::PolicyPublished { policy: PolicyBook::shipped().versions()[0].clone() }],
    PolicySigned => [Event::PolicySigned {
        policy: PolicyBook::shipped().versions()[0].clone(),
        jurisdiction: Jurisdiction::Guian,
    }],
    CalendarYearPublished => [Event::CalendarYearPublished {
        calendar_year: Calendar::shipped().year(2024).cloned().unwrap(),
    }],
    BudgetAppropriated => [Event::BudgetAppropriated {
        jurisdiction: Jurisdiction::Guiyang,
        fiscal_year: 2025,
        amount: cny("50000000.00"),
    }],
    BatchPublished => [Event::BatchPublished {
        batch_id: id("01956a3e-0000-7000-8000-000000000001"),
        guide: guide(),
    }],
    BatchClosed => [
        Event::BatchClosed {
            batch_id: id("01956a3e-0000-7000-8000-000000000001"),
            jurisdiction: Jurisdiction::Guiyang,
            fiscal_year: 2025,
            returned: Some(cny("1250.50")),
        },
        Event::BatchClosed {
            batch_id: id("01956a3e-0000-7000-8000-000000000001"),
            jurisdiction: Jurisdiction::Guiyang,
            fiscal_year: 2025,
            returned: None,
        },
    ],
    ApplicantRegistered => [Event::ApplicantRegistered { registration: registration() }],
    ApplicantVerified => [Event::ApplicantVerified { credit_code: code("91520100MA6H00000") }],
    ApplicantRejected => [Event::ApplicantRejected {
        credit_code: code("91520100MA6H00000"),
        reason: "营业执照与申报主体不一致".to_owned(),
    }],
    ApplicantSuspended => [Event::ApplicantSuspended {
        credit_code: code("91520100MA6H00000"),
        reason: "虚假申报".to_owned(),
    }],
    VoucherIssued => [voucher_issued()],
    ProviderApplied => [Event::ProviderApplied {
        application: ProviderApplication {
            provider: provider(),
            name: "贵州某某检测技术有限公司".to_owned(),
            jurisdiction: Jurisdiction::Guiyang,
            categories: strings(&["检验检测", "研发设计"]),
            qualifications: vec![
                document("营业执照.pdf", 482_113),
                document("CMA资质认定证书.pdf", 1_204_377),
                document("CNAS实验室认可证书.pdf", 986_540),
            ],
            contact: "0851-86801234".to_owned(),
        },
    }],
    ProviderApproved => [Event::ProviderApproved {
        provider: provider(),
        announced_on: day("2025-02-10"),
        announcement_closes: day("2025-02-14"),
    }],
    ProviderRejected => [Event::ProviderRejected {
        provider: provider(),
        reason: "资质证书已过有效期".to_owned(),
    }],
    ProviderAdmitted => [Event::ProviderAdmitted { provider: provider() }],
    ProviderSuspended => [Event::ProviderSuspended {
        provider: provider(),
        reason: "与申请主体串通虚开发票".to_owned(),
    }],
    ObjectionFiled => [
        Event::ObjectionFiled {
            objection_id: id("01957b10-1111-7000-8000-00000000000a"),
            target: ObjectionTarget::Provider { provider: provider() },
            jurisdiction: Jurisdiction::Guiyang,
            text: "该机构检测报告存在代签情况".to_owned(),
        },
        Event::ObjectionFiled {
            objection_id: id("01957b10-1111-7000-8000-00000000000b"),
            target: ObjectionTarget::Redemption { redemption_id: id("01957a00-5555-7000-8000-000000000003") },
            jurisdiction: Jurisdiction::Guian,
            text: "服务并未实际完成".to_owned(),
        },
    ],
    ObjectionRuled => [
        Event::ObjectionRuled {
            objection_id: id("01957b10-1111-7000-8000-00000000000a"),
            ruling: Ruling::Upheld,
            reason: "经核查情况属实".to_owned(),
        },
        Event::ObjectionRuled {
            objection_id: id("01957b10-1111-7000-8000-00000000000b"),
            ruling: Ruling::Dismissed,
            reason: "服务成果材料齐全".to_owned(),
        },
    ],
    ContractSubmitted => [
        Event::ContractSubmitted {
            contract_id: id("01956f00-2222-7000-8000-000000000002"),
            terms: contract_terms(),
            submitted_by: Party::Provider,
        },
        Event::ContractSubmitted {
            contract_id: id("01956f00-2222-7000-8000-000000000003"),
            terms: ContractTerms { jurisdiction: Jurisdiction::Guian, ..contract_terms() },
            submitted_by: Party::Applicant,
        },
    ],
    ContractSigned => [
        Event::ContractSigned { contract_id: id("01956f00-2222-7000-8000-000000000002"), party: Party::Applicant },
        Event::ContractSigned { contract_id: id("01956f00-2222-7000-8000-000000000003"), party: Party::Provider },
    ],
    ContractFiled => [Event::ContractFiled {
        contract_id: id("01956f00-2222-7000-8000-000000000002"),
        voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
        jurisdiction: Jurisdiction::Guiyang,
        amount: cny("50000.00"),
        filed_on: day("2025-04-02"),
    }],
    ContractRejected => [Event::ContractRejected {
        contract_id: id("01956f00-2222-7000-8000-000000000002"),
        reason: "合同未加盖骑缝章".to_owned(),
    }],
    ContractCancelled => [
        Event::ContractCancelled {
            contract_id: id("01956f00-2222-7000-8000-000000000002"),
            voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
            jurisdiction: Jurisdiction::Guiyang,
            released: Some(cny("50000.00")),
            reason: "双方协商解除".to_owned(),
        },
        Event::ContractCancelled {
            contract_id: id("01956f00-2222-7000-8000-000000000003"),
            voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
            jurisdiction: Jurisdiction::Guian,
            released: None,
            reason: "提交后未获对方签署".to_owned(),
        },
    ],
    ServiceCompleted => [Event::ServiceCompleted {
        contract_id: id("01956f00-2222-7000-8000-000000000002"),
        voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
        jurisdiction: Jurisdiction::Guiyang,
        provider: provider(),
        amount: cny("50000.00"),
        completed_on: day("2025-06-27"),
        redemption_deadline: day("2025-07-27"),
    }],
    ServiceRated => [Event::ServiceRated {
        contract_id: id("01956f00-2222-7000-8000-000000000002"),
        provider: provider(),
        category: "检验检测".to_owned(),
        quality: 5,
        timeliness: 4,
        professionalism: 1,
        text: "报告质量好，出具略有延迟".to_owned(),
    }],
    RedemptionRequested => [
        Event::RedemptionRequested {
            redemption_id: id("01957a00-5555-7000-8000-000000000003"),
            contract_id: id("01956f00-2222-7000-8000-000000000002"),
            jurisdiction: Jurisdiction::Guiyang,
            provider: provider(),
            amount: cny("50000.00"),
            invoice: document("增值税专用发票.pdf", 88_210),
            remittance_proof: document("银行回单-自付部分.pdf", 64_019),
            results: vec![document("检测报告.pdf", 3_402_118), document("型式试验记录.xlsx", 51_200)],
        },
        Event::RedemptionRequested {
            redemption_id: id("01957a00-5555-7000-8000-000000000004"),
            contract_id: id("01956f00-2222-7000-8000-000000000003"),
            jurisdiction: Jurisdiction::Guian,
            provider: provider(),
            amount: cny("12000.00"),
            invoice: document("发票.pdf", 70_001),
            remittance_proof: document("回单.pdf", 30_002),
            results: Vec::new(),
        },
    ],
    RedemptionReviewed => [
        Event::RedemptionReviewed {
            redemption_id: id("01957a00-5555-7000-8000-000000000003"),
            jurisdiction: Jurisdiction::Guiyang,
            provider: provider(),
            fiscal_year: 2025,
            outcome: ReviewOutcome::Full,
            approved: Some(cny("50000.00")),
            returned: None,
        },
        Event::RedemptionReviewed {
            redemption_id: id("01957a00-5555-7000-8000-000000000004"),
            jurisdiction: Jurisdiction::Guian,
            provider: provider(),
            fiscal_year: 2025,
            outcome: ReviewOutcome::Reduced {
                approved: cny("9600.00"),
                reason: "部分服务内容不属于支持范围".to_owned(),
            },
            approved: Some(cny("9600.00")),
            returned: Some(cny("2400.00")),
        },
        Event::RedemptionReviewed {
            redemption_id: id("01957a00-5555-7000-8000-000000000005"),
            jurisdiction: Jurisdiction::Guiyang,
            provider: provider(),
            fiscal_year: 2024,
            outcome: ReviewOutcome::Rejected { reason: "发票与合同金额不符".to_owned() },
            approved: None,
            returned: Some(cny("30000.00")),
        },
    ],
    RedemptionsAnnounced => [Event::RedemptionsAnnounced {
        announcement_id: id("01957c00-6666-7000-8000-000000000001"),
        jurisdiction: Jurisdiction::Guiyang,
        // Not in ascending order: a list keeps its order.
        redemption_ids: vec![
            id("01957a00-5555-7000-8000-000000000005"),
            id("01957a00-5555-7000-8000-000000000003"),
        ],
        announced_on: day("2025-07-07"),
        closes_on: day("2025-07-11"),
    }],
    RedemptionAnnouncementClosed => [Event::RedemptionAnnouncementClosed {
        announcement_id: id("01957c00-6666-7000-8000-000000000001"),
    }],
    RedemptionStruck => [Event::RedemptionStruck {
        redemption_id: id("01957a00-5555-7000-8000-000000000003"),
        objection_id: id("01957b10-1111-7000-8000-00000000000b"),
        jurisdiction: Jurisdiction::Guiyang,
        provider: provider(),
        fiscal_year: 2025,
        returned: cny("50000.00"),
    }],
    RedemptionDisbursed => [Event::RedemptionDisbursed {
        redemption_id: id("01957a00-5555-7000-8000-000000000003"),
        jurisdiction: Jurisdiction::Guiyang,
        provider: provider(),
        amount: cny("50000.00"),
        payment_reference: "GZCZ-2025-07-001873".to_owned(),
    }],
    RedemptionDenied => [
        Event::RedemptionDenied {
            redemption_id: id("01957a00-5555-7000-8000-000000000004"),
            jurisdiction: Jurisdiction::Guian,
            provider: provider(),
            fiscal_year: 2025,
            ground: DenialGround::Fraud,
            reason: "伪造服务成果".to_owned(),
            returned: cny("9600.00"),
        },
        Event::RedemptionDenied {
            redemption_id: id("01957a00-5555-7000-8000-000000000006"),
            jurisdiction: Jurisdiction::Guiyang,
            provider: provider(),
            fiscal_year: 2025,
            ground: DenialGround::RefusedCooperation,
            reason: "拒不配合核查".to_owned(),
            returned: cny("20000.00"),
        },
    ],
    SampleDrawn => [Event::SampleDrawn {
        sample_id: id("01958000-7777-7000-8000-000000000001"),
        jurisdiction: Jurisdiction::Guiyang,
        year: 2025,
        size: 2,
        seed: "2025-审计-抽查-01".to_owned(),
        as_of_position: 18_446,
        population: 137,
        contract_ids: vec![
            id("01956f00-2222-7000-8000-000000000003"),
            id("01956f00-2222-7000-8000-000000000002"),
        ],
    }],
    FindingRecorded => [
        Event::FindingRecorded {
            sample_id: id("01958000-7777-7000-8000-000000000001"),
            contract_id: id("01956f00-2222-7000-8000-000000000002"),
            finding: Finding::Compliant,
            note: String::new(),
        },
        Event::FindingRecorded {
            sample_id: id("01958000-7777-7000-8000-000000000001"),
            contract_id: id("01956f00-2222-7000-8000-000000000003"),
            finding: Finding::Irregular,
            note: "服务成果与合同约定不符".to_owned(),
        },
        Event::FindingRecorded {
            sample_id: id("01958000-7777-7000-8000-000000000001"),
            contract_id: id("01956f00-2222-7000-8000-000000000004"),
            finding: Finding::RefusedCooperation,
            note: "未按期提供原始记录".to_owned(),
        },
    ],
    ClawbackOrdered => [Event::ClawbackOrdered {
        clawback_id: id("01958100-8888-7000-8000-000000000001"),
        redemption_id: id("01957a00-5555-7000-8000-000000000003"),
        jurisdiction: Jurisdiction::Guiyang,
        provider: provider(),
        amount: cny("50000.00"),
        reason: "审计发现虚构服务".to_owned(),
    }],
    ClawbackRecovered => [Event::ClawbackRecovered {
        clawback_id: id("01958100-8888-7000-8000-000000000001"),
        jurisdiction: Jurisdiction::Guiyang,
        amount: cny("20000.00"),
    }],
    ReferralRecorded => [Event::ReferralRecorded {
        referral_id: id("01958200-9999-7000-8000-000000000001"),
        party: provider(),
        authority: "贵阳市公安局经济犯罪侦查支队".to_owned(),
        note: "涉嫌骗取财政资金".to_owned(),
    }],
    VoucherExpired => [
        Event::VoucherExpired {
            voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
            jurisdiction: Jurisdiction::Guian,
            fiscal_year: 2025,
            returned: Some(cny("8000.00")),
        },
        Event::VoucherExpired {
            voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8c"),
            jurisdiction: Jurisdiction::Guiyang,
            fiscal_year: 2025,
            returned: None,
        },
    ],
    RedemptionWindowLapsed => [Event::RedemptionWindowLapsed {
        contract_id: id("01956f00-2222-7000-8000-000000000002"),
        jurisdiction: Jurisdiction::Guiyang,
        provider: provider(),
        fiscal_year: 2025,
        returned: cny("50000.00"),
    }],
    ReturnedAfterExpiry => [Event::ReturnedAfterExpiry {
        voucher_id: id("01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b"),
        contract_id: id("01956f00-2222-7000-8000-000000000002"),
        jurisdiction: Jurisdiction::Guian,
        fiscal_year: 2025,
        returned: cny("1200.50"),
    }],
}

#[test]
fn every_event_variant_roundtrips() {
    // `listed_as` is an exhaustive match generated from the same list as the samples, so the list names
    // every variant; checking each sample against the name it is listed under leaves no variant untested.
    for (listed, event) in every_event_variant() {
        assert_eq!(listed_as(&event), listed, "{event:?} is listed under {listed}");
        assert_eq!(event.event_type(), listed, "the stored type name is the variant's name");
        check_roundtrip(&event);
    }
}

#[test]
fn stored_names_are_the_serde_names() {
    for party in [Party::Provider, Party::Applicant] {
        assert_eq!(party_name(party), party.as_str());
        assert_eq!(super::fields::party("f", party.as_str()), Ok(party));
    }
    assert_eq!([ruling_name(Ruling::Upheld), ruling_name(Ruling::Dismissed)], ["upheld", "dismissed"]);
    assert_eq!(
        [Finding::Compliant, Finding::Irregular, Finding::RefusedCooperation].map(finding_name),
        ["compliant", "irregular", "refused_cooperation"]
    );
    assert_eq!(
        [DenialGround::Fraud, DenialGround::RefusedCooperation].map(denial_ground_name),
        ["fraud", "refused_cooperation"]
    );
}

#[test]
fn bad_fields_of_the_regulation_events_are_named() {
    let signed = v1::ContractSigned { contract_id: uuid_to_bytes(Uuid::nil()), party: "Provider".to_owned() };
    let error = decode_event("ContractSigned", 1, &signed.encode_to_vec()).unwrap_err();
    assert_eq!(
        error,
        CodecError::InvalidField {
            field: "ContractSigned.party",
            reason: "unknown party \"Provider\"; expected one of: provider, applicant".to_owned(),
        }
    );

    let mut terms = v1::ContractTerms::from(&contract_terms());
    terms.document_sha256 = terms.document_sha256.to_uppercase();
    let submitted = v1::ContractSubmitted {
        contract_id: uuid_to_bytes(Uuid::nil()),
        terms: Some(terms),
        submitted_by: "provider".to_owned(),
    };
    let error = decode_event("ContractSubmitted", 1, &submitted.encode_to_vec()).unwrap_err();
    assert!(
        matches!(error, CodecError::InvalidField { field: "ContractTerms.document_sha256", .. }),
        "{error}"
    );

    let rated = v1::ServiceRated {
        contract_id: uuid_to_bytes(Uuid::nil()),
        provider: provider().as_str().to_owned(),
        category: "检验检测".to_owned(),
        quality: 5,
        timeliness: 256,
        professionalism: 5,
        text: String::new(),
    };
    let error = decode_event("ServiceRated", 1, &rated.encode_to_vec()).unwrap_err();
    assert_eq!(
        error,
        CodecError::InvalidField {
            field: "ServiceRated.timeliness",
            reason: "256 is out of range 0-255".to_owned()
        }
    );

    let announced = v1::RedemptionsAnnounced {
        announcement_id: uuid_to_bytes(Uuid::nil()),
        jurisdiction: "guiyang".to_owned(),
        redemption_ids: vec![uuid_to_bytes(Uuid::nil()), vec![7; 4]],
        announced_on_days: 0,
        closes_on_days: 4,
    };
    let error = decode_event("RedemptionsAnnounced", 1, &announced.encode_to_vec()).unwrap_err();
    assert!(matches!(error, CodecError::InvalidField { field: "RedemptionsAnnounced.redemption_ids", .. }));

    let denied = v1::RedemptionDenied {
        redemption_id: uuid_to_bytes(Uuid::nil()),
        jurisdiction: "guian".to_owned(),
        provider: provider().as_str().to_owned(),
        fiscal_year: 2025,
        ground: "negligence".to_owned(),
        reason: String::new(),
        returned: "1.00".to_owned(),
    };
    let error = decode_event("RedemptionDenied", 1, &denied.encode_to_vec()).unwrap_err();
    assert!(matches!(error, CodecError::InvalidField { field: "RedemptionDenied.ground", .. }));
}

#[test]
fn unset_oneofs_are_refused() {
    let filed = v1::ObjectionFiled {
        objection_id: uuid_to_bytes(Uuid::nil()),
        target: Some(v1::ObjectionTarget { target: None }),
        jurisdiction: "guiyang".to_owned(),
        text: String::new(),
    };
    assert_eq!(
        decode_event("ObjectionFiled", 1, &filed.encode_to_vec()),
        Err(CodecError::InvalidField { field: "ObjectionTarget.target", reason: "missing".to_owned() })
    );

    let reviewed = v1::RedemptionReviewed {
        redemption_id: uuid_to_bytes(Uuid::nil()),
        jurisdiction: "guiyang".to_owned(),
        provider: provider().as_str().to_owned(),
        fiscal_year: 2025,
        outcome: Some(v1::ReviewOutcome { decision: None }),
        approved: None,
        returned: None,
    };
    assert_eq!(
        decode_event("RedemptionReviewed", 1, &reviewed.encode_to_vec()),
        Err(CodecError::InvalidField { field: "ReviewOutcome.decision", reason: "missing".to_owned() })
    );
}

#[test]
fn an_empty_provider_target_is_still_a_provider_target() {
    // A oneof case records its presence even at its default value, so an empty credit code is refused as
    // a credit code rather than read as "no target".
    let target = v1::ObjectionTarget { target: Some(v1::objection_target::Target::Provider(String::new())) };
    let decoded = v1::ObjectionTarget::decode(target.encode_to_vec().as_slice()).unwrap();
    let error = ObjectionTarget::try_from(decoded).unwrap_err();
    assert!(matches!(error, CodecError::InvalidField { field: "ObjectionTarget.provider", .. }));
}

#[test]
fn budget_appropriated_payload_bytes_are_fixed() {
    // Golden bytes of the stored format. They may only change together with a new schema version of
    // BudgetAppropriated (and an upcaster for version 1): records already stored hold these bytes.
    let event = Event::BudgetAppropriated {
        jurisdiction: Jurisdiction::Guiyang,
        fiscal_year: 2025,
        amount: cny("1250.50"),
    };
    let (event_type, schema_version, payload) = encode_event(&event);
    assert_eq!((event_type, schema_version), ("BudgetAppropriated", 1));
    // 0a 07 "guiyang" | 10 e9 0f (2025) | 1a 07 "1250.50"
    assert_eq!(hex::encode(&payload), "0a0767756979616e6710e90f1a07313235302e3530");
    assert_eq!(decode_event(event_type, schema_version, &payload), Ok(event));
}

#[test]
fn unknown_type_or_version_is_refused() {
    let (_, _, payload) = encode_event(&voucher_issued());
    assert_eq!(
        decode_event("VoucherRenamed", 1, &payload),
        Err(CodecError::UnknownEventType { event_type: "VoucherRenamed".to_owned(), schema_version: 1 })
    );
    assert_eq!(
        decode_event("VoucherIssued", 2, &payload),
        Err(CodecError::UnknownEventType { event_type: "VoucherIssued".to_owned(), schema_version: 2 })
    );
}

#[test]
fn bad_fields_are_named() {
    let amount = v1::BudgetAppropriated {
        jurisdiction: "guiyang".to_owned(),
        fiscal_year: 2025,
        amount: "1,250.50".to_owned(),
    };
    let error = decode_event("BudgetAppropriated", 1, &amount.encode_to_vec()).unwrap_err();
    assert!(matches!(error, CodecError::InvalidField { field: "BudgetAppropriated.amount", .. }));
    assert!(error.to_string().contains("\"1,250.50\""), "{error}");

    let jurisdiction = v1::BudgetAppropriated { jurisdiction: "Guiyang".to_owned(), ..amount };
    let error = decode_event("BudgetAppropriated", 1, &jurisdiction.encode_to_vec()).unwrap_err();
    assert!(matches!(error, CodecError::InvalidField { field: "BudgetAppropriated.jurisdiction", .. }));

    let credit_code = v1::ApplicantVerified { credit_code: "91520100MA6H000000".to_owned() };
    let error = decode_event("ApplicantVerified", 1, &credit_code.encode_to_vec()).unwrap_err();
    assert!(matches!(error, CodecError::InvalidField { field: "ApplicantVerified.credit_code", .. }));

    let short_id = v1::BatchPublished { batch_id: vec![1; 15], guide: Some((&guide()).into()) };
    assert_eq!(
        decode_event("BatchPublished", 1, &short_id.encode_to_vec()),
        Err(CodecError::InvalidField {
            field: "BatchPublished.batch_id",
            reason: "a UUID must be 16 bytes, found 15".to_owned()
        })
    );
}

#[test]
fn missing_nested_message_is_refused() {
    let payload = v1::BatchPublished { batch_id: uuid_to_bytes(Uuid::nil()), guide: None }.encode_to_vec();
    assert_eq!(
        decode_event("BatchPublished", 1, &payload),
        Err(CodecError::InvalidField { field: "BatchPublished.guide", reason: "missing".to_owned() })
    );
}

#[test]
fn duplicate_set_members_are_refused() {
    let mut message = v1::BatchGuide::from(&guide());
    message.eligible_kinds = vec!["enterprise".to_owned(), "enterprise".to_owned()];
    let error = domain::event::BatchGuide::try_from(message).unwrap_err();
    assert!(matches!(error, CodecError::InvalidField { field: "BatchGuide.eligible_kinds", .. }));

    let mut message = v1::CalendarYear::from(&Calendar::shipped().year(2024).cloned().unwrap());
    message.holidays_days.push(message.holidays_days[0]);
    let error = domain::CalendarYear::try_from(message).unwrap_err();
    assert!(matches!(error, CodecError::InvalidField { field: "CalendarYear.holidays_days", .. }));
}

#[test]
fn sets_are_written_in_ascending_order() {
    let message = v1::BatchGuide::from(&guide());
    assert_eq!(message.eligible_kinds, ["enterprise", "project_entity"]);
    let mut sorted = message.eligible_industries.clone();
    sorted.sort();
    assert_eq!(message.eligible_industries, sorted);
}

#[test]
fn garbage_payload_is_undecodable() {
    assert!(matches!(decode_event("VoucherIssued", 1, &[0xff; 7]), Err(CodecError::Decode(_))));
}

const MAX_FEN: u64 = 100_000_000_000_000;

fn arb_cny() -> impl Strategy<Value = Cny> {
    (1..=MAX_FEN).prop_map(|fen| Cny::from_fen(fen).unwrap())
}

fn arb_date() -> impl Strategy<Value = NaiveDate> {
    (days_from_date(NaiveDate::MIN)..=days_from_date(NaiveDate::MAX))
        .prop_map(|days| date_from_days(days).unwrap())
}

fn arb_uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

fn arb_jurisdiction() -> impl Strategy<Value = Jurisdiction> {
    proptest::sample::select(Jurisdiction::ALL)
}

fn arb_credit_code() -> impl Strategy<Value = CreditCode> {
    "[0-9A-HJ-NPQRTUWXY]{17}".prop_map(|body| code(&body))
}

proptest! {
    #[test]
    fn prop_budget_appropriated_roundtrips(
        jurisdiction in arb_jurisdiction(),
        fiscal_year in any::<i32>(),
        amount in arb_cny(),
    ) {
        let event = Event::BudgetAppropriated { jurisdiction, fiscal_year, amount };
        let (event_type, schema_version, payload) = encode_event(&event);
        prop_assert_eq!(decode_event(event_type, schema_version, &payload), Ok(event));
    }

    #[test]
    fn prop_voucher_issued_roundtrips(
        voucher_id in arb_uuid(),
        batch_id in arb_uuid(),
        jurisdiction in arb_jurisdiction(),
        applicant in arb_credit_code(),
        kind in proptest::sample::select(ApplicantKind::ALL),
        face_value in arb_cny(),
        cap_year in any::<i32>(),
        annual_cap in arb_cny(),
        valid_until in arb_date(),
    ) {
        let event = Event::VoucherIssued {
            voucher_id, batch_id, jurisdiction, applicant, kind, face_value, cap_year, annual_cap, valid_until,
        };
        let (event_type, schema_version, payload) = encode_event(&event);
        prop_assert_eq!(decode_event(event_type, schema_version, &payload), Ok(event));
    }

    #[test]
    fn prop_share_roundtrips(basis_points in 1i64..=10_000) {
        let share = Share::new(rust_decimal::Decimal::new(basis_points, 4)).unwrap();
        let guide = BatchGuide { max_voucher_share: share, ..guide() };
        let event = Event::BatchPublished { batch_id: Uuid::nil(), guide };
        let (event_type, schema_version, payload) = encode_event(&event);
        prop_assert_eq!(decode_event(event_type, schema_version, &payload), Ok(event));
    }
}

/// The feed's payload as it was before it came from the stored message: the domain event's serde, without
/// the variant's tag.
fn domain_payload(event: &Event) -> serde_json::Value {
    match serde_json::to_value(event).unwrap() {
        serde_json::Value::Object(mut tagged) if tagged.len() == 1 => {
            tagged.remove(event.event_type()).unwrap()
        }
        other => panic!("{other}"),
    }
}

/// Every sample as (type, payload JSON), in the order listed.
fn every_payload_json() -> serde_json::Value {
    let lines: Vec<serde_json::Value> = every_event_variant()
        .iter()
        .map(|(listed, event)| {
            let (event_type, schema_version, payload) = encode_event(event);
            let json = super::payload_json(event_type, schema_version, &payload).unwrap();
            assert_eq!(super::event_payload_json(event), json);
            serde_json::json!({ "type": listed, "payload": json })
        })
        .collect();
    serde_json::Value::Array(lines)
}

#[test]
fn the_payload_json_of_the_stored_message_is_the_domain_events_json() {
    // The JSON the feed sent before it was mapped from the stored message, for every sample of every type.
    for (listed, event) in every_event_variant() {
        let (event_type, schema_version, payload) = encode_event(&event);
        let json = super::payload_json(event_type, schema_version, &payload).unwrap();
        assert_eq!(json, domain_payload(&event), "{listed}: {event:?}");
    }
}

#[test]
fn the_payload_json_of_every_event_type_is_fixed() {
    // Golden JSON of the feed's payloads, one or more samples of every type. It may only change together with
    // the stored format (a new schema version): clients read these fields.
    let golden: serde_json::Value = serde_json::from_str(include_str!("../../tests/payloads.json")).unwrap();
    let actual = every_payload_json();
    if golden != actual {
        panic!(
            "payload JSON differs from tests/payloads.json; now:\n{}",
            serde_json::to_string_pretty(&actual).unwrap()
        );
    }
    let types: BTreeSet<&str> =
        golden.as_array().unwrap().iter().map(|line| line["type"].as_str().unwrap()).collect();
    let listed: BTreeSet<&str> = super::EVENTS.iter().map(|(event_type, _)| *event_type).collect();
    assert_eq!(types, listed, "the golden file holds every event type");
}

#[test]
fn payload_json_refuses_what_decoding_refuses() {
    let short_id = v1::BatchPublished { batch_id: vec![1; 15], guide: Some((&guide()).into()) };
    assert_eq!(
        super::payload_json("BatchPublished", 1, &short_id.encode_to_vec()),
        Err(CodecError::InvalidField {
            field: "BatchPublished.batch_id",
            reason: "a UUID must be 16 bytes, found 15".to_owned()
        })
    );
    assert_eq!(
        super::payload_json("VoucherRenamed", 1, &[]),
        Err(CodecError::UnknownEventType { event_type: "VoucherRenamed".to_owned(), schema_version: 1 })
    );
}
