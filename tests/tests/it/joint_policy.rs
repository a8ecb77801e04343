//! The regulation at its joint boundaries over HTTP (SPEC §3 "Who publishes", §4 Applicant and Audit, §8):
//! policy versions signed by the bureau of every jurisdiction they name, and what a bureau or an auditor of
//! one jurisdiction may do in the other.

use domain::{Jurisdiction, PolicyBook, Role};
use e2e::{
    Client, InProcessServer, MORNING, accept, admitted_provider, complete, contract_body, credit_code,
    filed_contract, nine_am, read, refuse, set_clock, staff, voucher_holder,
};
use serde_json::{Value, json};

const GY: Jurisdiction = Jurisdiction::Guiyang;
const GA: Jurisdiction = Jurisdiction::Guian;

/// The shipped Measures as a JSON body with a new id, window and jurisdictions.
fn version(id: &str, from: &str, until: &str, jurisdictions: &[Jurisdiction]) -> anyhow::Result<Value> {
    let shipped = PolicyBook::shipped();
    let mut body = serde_json::to_value(
        shipped.versions().first().ok_or_else(|| anyhow::anyhow!("no shipped policy"))?,
    )?;
    body["id"] = json!(id);
    body["effective_from"] = json!(from);
    body["effective_until"] = json!(until);
    body["jurisdictions"] = json!(jurisdictions);
    Ok(body)
}

fn batch_2026(jurisdiction: Jurisdiction) -> Value {
    json!({
        "jurisdiction": jurisdiction, "fiscal_year": 2026, "name": "2026 batch",
        "total": "100000.00", "face_value": "10000.00",
        "eligible_kinds": ["enterprise"], "eligible_industries": ["aluminum"],
        "eligible_categories": ["inspection_testing"],
        "claim_opens": "2026-03-01", "claim_closes": "2026-06-30", "valid_until": "2026-12-31"
    })
}

async fn appropriate_2026(client: &Client, jurisdiction: Jurisdiction) -> anyhow::Result<()> {
    let path = format!("/v1/budgets/{jurisdiction}/2026/appropriations");
    let body = json!({ "amount": "1000000.00" });
    accept(client, &path, Some(&staff(Role::Finance, jurisdiction)), &body, 201, &["BudgetAppropriated"])
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_version_needs_the_signature_of_each_bureau_it_names() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let server = InProcessServer::start(data.path(), &nine_am("2025-11-03")).await?;
    let client = &Client::new(&server.base);
    let (guiyang, guian) = (staff(Role::Bureau, GY), staff(Role::Bureau, GA));
    appropriate_2026(client, GY).await?;
    appropriate_2026(client, GA).await?;

    // Guiyang's bureau cannot raise guian's caps tenfold with no announcement days.
    let mut raised = version("raised-2026", "2026-01-01", "2027-12-31", &[GA])?;
    raised["annual_cap_enterprise"] = json!("50000000.00");
    raised["redemption_announcement_working_days"] = json!(0);
    refuse(client, "/v1/policies", Some(&guiyang), &raised, 403, "forbidden").await?;
    // Announcement periods below 5 working days are refused, even for its own jurisdiction; so are zero caps
    // and a version that names no jurisdiction.
    raised["jurisdictions"] = json!([GY]);
    refuse(client, "/v1/policies", Some(&guiyang), &raised, 422, "invalid_policy").await?;
    let mut zero = version("zero-2026", "2026-01-01", "2027-12-31", &[GY])?;
    zero["annual_cap_project_entity"] = json!("0.00");
    refuse(client, "/v1/policies", Some(&guiyang), &zero, 400, "invalid_amount").await?;
    let mut nameless = version("nameless-2026", "2026-01-01", "2027-12-31", &[])?;
    nameless.as_object_mut().map(|body| body.remove("jurisdictions"));
    refuse(client, "/v1/policies", Some(&guiyang), &nameless, 422, "invalid_policy").await?;

    // A joint version signed by guiyang alone is not in force: no 2026 batch under it.
    let joint = version("measures-2026", "2026-01-01", "2027-12-31", &[GY, GA])?;
    accept(client, "/v1/policies", Some(&guiyang), &joint, 201, &["PolicySigned"]).await?;
    refuse(client, "/v1/policies", Some(&guiyang), &joint, 409, "policy_already_signed").await?;
    let mut altered = joint.clone();
    altered["annual_cap_enterprise"] = json!("6000000.00");
    refuse(client, "/v1/policies", Some(&guian), &altered, 409, "policy_signature_mismatch").await?;
    set_clock(client, &nine_am("2026-01-05")).await?;
    refuse(client, "/v1/batches", Some(&guiyang), &batch_2026(GY), 422, "no_policy_in_force").await?;
    // Guian's signature now would make it retroactive.
    refuse(client, "/v1/policies", Some(&guian), &joint, 422, "policy_retroactive").await?;

    // A version from February, signed by both bureaus, is in force in both jurisdictions.
    let february = version("measures-2026-02", "2026-02-01", "2027-12-31", &[GY, GA])?;
    accept(client, "/v1/policies", Some(&guian), &february, 201, &["PolicySigned"]).await?;
    accept(client, "/v1/policies", Some(&guiyang), &february, 201, &["PolicySigned"]).await?;
    set_clock(client, &nine_am("2026-02-02")).await?;
    for (jurisdiction, bureau) in [(GY, &guiyang), (GA, &guian)] {
        accept(client, "/v1/batches", Some(bureau), &batch_2026(jurisdiction), 201, &["BatchPublished"])
            .await?;
    }
    // Its window is taken in both jurisdictions: a guiyang-only version overlapping it is refused.
    let overlapping = version("guiyang-2027", "2027-01-01", "2027-12-31", &[GY])?;
    refuse(client, "/v1/policies", Some(&guiyang), &overlapping, 422, "policy_overlaps").await?;
    drop(server);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditors_and_bureaus_act_only_in_their_own_jurisdiction() -> anyhow::Result<()> {
    // Given a guiyang contract filed in 2025 between applicant 1 and provider 501.
    let data = tempfile::tempdir()?;
    let server = InProcessServer::start(data.path(), MORNING).await?;
    let client = &Client::new(&server.base);
    let batch_id = e2e::publish_batch(client, GY, "10000000.00", "1000000.00", "100000.00").await?;
    let (applicant, voucher_id) = voucher_holder(client, GY, &batch_id, 1).await?;
    let provider = admitted_provider(client, GY, 501, &["inspection_testing"]).await?;
    let terms = contract_body(&voucher_id, &credit_code(501), "inspection_testing", "100000.00", "80000.00");
    filed_contract(client, GY, &provider, &applicant, &terms).await?;
    set_clock(client, &nine_am("2026-02-02")).await?;
    let (guiyang_auditor, guian_auditor) = (staff(Role::Auditor, GY), staff(Role::Auditor, GA));

    // An auditor samples only its own jurisdiction, and only the previous year.
    let draw = json!({ "jurisdiction": "guiyang", "year": 2025, "size": 1, "seed": "guiyang-2025" });
    refuse(client, "/v1/audits/samples", Some(&guian_auditor), &draw, 403, "forbidden").await?;
    let older = json!({ "jurisdiction": "guiyang", "year": 2024, "size": 1, "seed": "guiyang-2024" });
    refuse(client, "/v1/audits/samples", Some(&guiyang_auditor), &older, 422, "sample_year_not_previous")
        .await?;
    let sample =
        accept(client, "/v1/audits/samples", Some(&guiyang_auditor), &draw, 201, &["SampleDrawn"]).await?;
    let sample_id = sample.body["sample_id"].as_str().unwrap_or_default().to_owned();
    let contract_id = sample.body["contract_ids"][0].clone();
    // Findings too; guian's auditor may still read the sample.
    let findings = format!("/v1/audits/samples/{sample_id}/findings");
    let finding = json!({ "contract_id": contract_id, "finding": "irregular", "note": "" });
    refuse(client, &findings, Some(&guian_auditor), &finding, 403, "forbidden").await?;
    accept(client, &findings, Some(&guiyang_auditor), &finding, 201, &["FindingRecorded"]).await?;
    let read = client.get(&format!("/v1/audits/samples/{sample_id}"), Some(&guian_auditor)).await?;
    assert_eq!(read.status, 200, "{read:?}");

    // Guian's bureau neither refers nor suspends guiyang's parties; guiyang's bureau does.
    let (guiyang, guian) = (staff(Role::Bureau, GY), staff(Role::Bureau, GA));
    let referral = json!({ "party": credit_code(1), "authority": "public security bureau", "note": "" });
    refuse(client, "/v1/referrals", Some(&guian), &referral, 403, "forbidden").await?;
    accept(client, "/v1/referrals", Some(&guiyang), &referral, 201, &["ReferralRecorded"]).await?;
    let suspension = json!({ "reason": "refused cooperation" });
    let path = format!("/v1/providers/{}/suspension", credit_code(501));
    refuse(client, &path, Some(&guian), &suspension, 403, "forbidden").await?;
    drop(server);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_entity_claims_without_the_enterprise_attestations() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let server = InProcessServer::start(data.path(), MORNING).await?;
    let client = &Client::new(&server.base);
    let batch_id = e2e::publish_batch(client, GY, "10000000.00", "1000000.00", "100000.00").await?;
    // A project entity registers with its project code and no attestations.
    let code = credit_code(31);
    let own = e2e::token(Role::ProjectEntity, GY, "project-31", Some(&code));
    let registration = json!({ "credit_code": code, "name": "project 31", "kind": "project_entity",
        "jurisdiction": "guiyang", "project_code": "2401-520900-04-01-123456" });
    accept(client, "/v1/applicants", Some(&own), &registration, 201, &["ApplicantRegistered"]).await?;
    let read = client.get(&format!("/v1/applicants/{code}"), Some(&staff(Role::Bureau, GY))).await?;
    assert_eq!(read.status, 200, "{read:?}");
    assert!(read.body.to_string().contains("2401-520900-04-01-123456"), "{read:?}");
    let verification = json!({ "decision": "verified" });
    let path = format!("/v1/applicants/{code}/verification");
    accept(client, &path, Some(&staff(Role::ServiceCenter, GY)), &verification, 200, &["ApplicantVerified"])
        .await?;
    // It claims a voucher.
    let claims = format!("/v1/batches/{batch_id}/claims");
    accept(client, &claims, Some(&own), &json!({}), 201, &["VoucherIssued"]).await?;
    // An enterprise must still state its attestations.
    let enterprise_code = credit_code(32);
    let enterprise = e2e::token(Role::Enterprise, GY, "enterprise-32", Some(&enterprise_code));
    let body = json!({ "credit_code": enterprise_code, "name": "enterprise 32", "kind": "enterprise",
        "jurisdiction": "guiyang", "industry": "aluminum" });
    refuse(client, "/v1/applicants", Some(&enterprise), &body, 400, "invalid_request").await?;
    drop(server);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_paid_in_both_jurisdictions_shows_each_jurisdictions_money() -> anyhow::Result<()> {
    // Given provider 501, admitted in guiyang, completing 80,000.00 of services in guiyang and 30,000.00 in
    // guian.
    let data = tempfile::tempdir()?;
    let server = InProcessServer::start(data.path(), MORNING).await?;
    let client = &Client::new(&server.base);
    let guiyang_batch = e2e::publish_batch(client, GY, "10000000.00", "1000000.00", "100000.00").await?;
    let guian_batch = e2e::publish_batch(client, GA, "10000000.00", "1000000.00", "100000.00").await?;
    let (guiyang_applicant, guiyang_voucher) = voucher_holder(client, GY, &guiyang_batch, 1).await?;
    let (guian_applicant, guian_voucher) = voucher_holder(client, GA, &guian_batch, 2).await?;
    let provider = admitted_provider(client, GY, 501, &["inspection_testing"]).await?;
    let code = credit_code(501);
    for (jurisdiction, token, applicant, voucher, amount) in [
        (GY, provider.clone(), &guiyang_applicant, &guiyang_voucher, "80000.00"),
        // A provider acts with the token of the jurisdiction that admitted it, in both jurisdictions.
        (GA, provider.clone(), &guian_applicant, &guian_voucher, "30000.00"),
    ] {
        let terms = contract_body(voucher, &code, "inspection_testing", "100000.00", amount);
        let contract_id = filed_contract(client, jurisdiction, &token, applicant, &terms).await?;
        complete(client, applicant, &contract_id).await?;
    }

    // Then its balance keeps the totals under the existing names and shows each jurisdiction beside them.
    let balance = read(client, &format!("/v1/providers/{code}/balance"), Some(&provider)).await?;
    assert_eq!(balance["jurisdiction"], "guiyang", "{balance}");
    assert_eq!((&balance["completed"], &balance["receivable"]), (&json!("110000.00"), &json!("110000.00")));
    let rows: Vec<(Value, Value, Value)> = balance["by_jurisdiction"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| (r["jurisdiction"].clone(), r["completed"].clone(), r["receivable"].clone()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        rows,
        vec![
            (json!("guiyang"), json!("80000.00"), json!("80000.00")),
            (json!("guian"), json!("30000.00"), json!("30000.00")),
        ],
        "{balance}"
    );

    // And the export has one row per provider and jurisdiction.
    let output = std::process::Command::new(e2e::binary())
        .args(["export", "provider-balances", "--data"])
        .arg(data.path())
        .env_remove("VOUCHER_LEDGER_STORE")
        .env("RUST_LOG", "warn")
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout} {}", String::from_utf8_lossy(&output.stderr));
    let rows: Vec<&str> = stdout.lines().filter(|line| line.contains(&code)).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(rows[0].contains("guiyang") && rows[0].contains("80000.00"), "{stdout}");
    assert!(rows[1].contains("guian") && rows[1].contains("30000.00"), "{stdout}");
    server.stop().await;
    Ok(())
}
