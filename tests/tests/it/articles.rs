//! One scenario per article of the Measures (art. 6 to 13) over real HTTP, each asserting the events the
//! commands recorded, the balances they moved and the refusals (code, and nothing appended) of the rule
//! it proves; and that nothing is disbursed twice, however many requests race.
//!
//! Every scenario starts on Monday 2025-03-03 (the shipped policy is in force 2023-2025) with a budget of
//! 10,000,000.00 and a batch of 1,000,000.00 in vouchers of 100,000.00 in guiyang; the manual clock is
//! moved with `POST /v1/admin/clock`, which runs the scheduler before answering.

use domain::{Jurisdiction, Role};
use e2e::{
    Client, InProcessServer, MORNING, accept, account_balance, admitted_provider, announce,
    approved_provider, approved_redemption, complete, contract_body, credit_code, filed_contract,
    head_position, provider_token, publish_batch, read, redemption_body, refuse, set_clock, staff, token,
    verified_applicant, voucher_balances, voucher_holder,
};
use futures::future::join_all;
use serde_json::{Value, json};

const GY: Jurisdiction = Jurisdiction::Guiyang;
const TESTING: &str = "inspection_testing";

struct Scene {
    server: InProcessServer,
    client: Client,
    batch_id: String,
    _data: tempfile::TempDir,
}

/// A server on 2025-03-03 with the guiyang budget and batch.
async fn scene() -> anyhow::Result<Scene> {
    let data = tempfile::tempdir()?;
    let server = InProcessServer::start(data.path(), MORNING).await?;
    let client = Client::new(&server.base);
    let batch_id = publish_batch(&client, GY, "10000000.00", "1000000.00", "100000.00").await?;
    Ok(Scene { server, client, batch_id, _data: data })
}

/// The scene with enterprise `applicant` holding a voucher and provider `provider` (inspection testing)
/// admitted; the clock is then on 2025-03-11. Returns (applicant token, voucher id, provider token).
async fn parties(scene: &Scene, applicant: u32, provider: u32) -> anyhow::Result<(String, String, String)> {
    let (own, voucher_id) = voucher_holder(&scene.client, GY, &scene.batch_id, applicant).await?;
    let provider = admitted_provider(&scene.client, GY, provider, &[TESTING]).await?;
    Ok((own, voucher_id, provider))
}

fn bureau() -> String {
    staff(Role::Bureau, GY)
}

fn auditor() -> String {
    staff(Role::Auditor, GY)
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

// ---- art. 6: who may receive vouchers ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn art6_only_verified_independent_tax_compliant_enterprises_of_an_eligible_industry_may_claim()
-> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let claim = format!("/v1/batches/{}/claims", scene.batch_id);
    let empty = json!({});
    let register = |n: u32, industry: &str, independent: bool, tax: bool| {
        json!({ "credit_code": credit_code(n), "name": format!("enterprise {n}"), "kind": "enterprise",
            "jurisdiction": "guiyang", "industry": industry,
            "independent_legal_person": independent, "tax_compliant": tax })
    };
    let own = |n: u32| token(Role::Enterprise, GY, &format!("applicant-{n}"), Some(&credit_code(n)));
    let center = staff(Role::ServiceCenter, GY);
    let verify = |n: u32| format!("/v1/applicants/{}/verification", credit_code(n));

    // An industry outside the seven of art. 6 is refused at registration.
    refuse(
        client,
        "/v1/applicants",
        Some(&own(11)),
        &register(11, "textiles", true, true),
        422,
        "invalid_registration",
    )
    .await?;

    // Registered but not yet verified: no voucher.
    let body = register(12, "advanced_equipment", true, true);
    accept(client, "/v1/applicants", Some(&own(12)), &body, 201, &["ApplicantRegistered"]).await?;
    refuse(client, &claim, Some(&own(12)), &empty, 422, "applicant_not_verified").await?;
    // Rejected by the service center: still no voucher.
    let rejection = json!({ "decision": "rejected", "reason": "not an industrial enterprise" });
    accept(client, &verify(12), Some(&center), &rejection, 200, &["ApplicantRejected"]).await?;
    refuse(client, &claim, Some(&own(12)), &empty, 422, "applicant_not_verified").await?;

    // Verified, but an industry of the policy that this batch does not list, not an independent legal
    // person, or not tax compliant: not eligible.
    for (n, industry, independent, tax) in [
        (13, "health_medicine", true, true),
        (14, "advanced_equipment", false, true),
        (15, "advanced_equipment", true, false),
    ] {
        accept(
            client,
            "/v1/applicants",
            Some(&own(n)),
            &register(n, industry, independent, tax),
            201,
            &["ApplicantRegistered"],
        )
        .await?;
        let verified = json!({ "decision": "verified" });
        accept(client, &verify(n), Some(&center), &verified, 200, &["ApplicantVerified"]).await?;
        refuse(client, &claim, Some(&own(n)), &empty, 422, "not_eligible").await?;
    }
    assert_eq!(account_balance(client, GY, "voucher_available").await?, "0.00");

    // A verified, independent, tax-compliant enterprise of an eligible industry claims its voucher.
    let eligible = verified_applicant(client, GY, 16, false).await?;
    let answer = accept(client, &claim, Some(&eligible), &empty, 201, &["VoucherIssued"]).await?;
    let voucher_id = text(&answer.body["voucher_id"]).to_owned();
    assert_eq!(answer.body["face_value"], "100000.00", "{answer:?}");
    assert_eq!(voucher_balances(client, &voucher_id).await?, ("100000.00".into(), "0.00".into()));
    let batch = read(client, &format!("/v1/batches/{}", scene.batch_id), Some(&auditor())).await?;
    assert_eq!(batch["remaining"], "900000.00", "{batch}");
    assert_eq!(account_balance(client, GY, "batch_pool").await?, "900000.00");
    assert_eq!(account_balance(client, GY, "voucher_available").await?, "100000.00");
    let budget = read(client, "/v1/budgets/guiyang/2025", Some(&bureau())).await?;
    assert_eq!(budget["available"], "9000000.00", "{budget}");

    scene.server.stop().await;
    Ok(())
}

// ---- art. 7: the annual cap ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn art7_an_applicants_vouchers_in_a_calendar_year_never_exceed_its_annual_cap() -> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let empty = json!({});
    let claim = |batch_id: &str| format!("/v1/batches/{batch_id}/claims");
    let issued = |n: u32| format!("/v1/applicants/{}/issued?year=2025", credit_code(n));

    // A project entity's cap is 200,000.00: two vouchers of 100,000.00, not a third.
    let second = publish_batch(client, GY, "", "1000000.00", "100000.00").await?;
    let third = publish_batch(client, GY, "", "1000000.00", "100000.00").await?;
    let project = verified_applicant(client, GY, 21, true).await?;
    for batch_id in [&scene.batch_id, &second] {
        accept(client, &claim(batch_id), Some(&project), &empty, 201, &["VoucherIssued"]).await?;
    }
    let refusal = refuse(client, &claim(&third), Some(&project), &empty, 422, "cap_exceeded").await?;
    assert!(text(&refusal.body["detail"]).contains("200000.00"), "{refusal:?}");
    let view = read(client, &issued(21), Some(&project)).await?;
    assert_eq!(
        (view["issued_total"].clone(), view["annual_cap"].clone()),
        (json!("200000.00"), json!("200000.00"))
    );
    assert_eq!(view["vouchers"], 2, "{view}");
    let batch = read(client, &format!("/v1/batches/{third}"), Some(&auditor())).await?;
    assert_eq!(batch["remaining"], "1000000.00", "the refused claim took nothing: {batch}");

    // An enterprise's cap is 5,000,000.00: two vouchers of 2,500,000.00 reach it exactly.
    let finance = staff(Role::Finance, GY);
    let appropriation = json!({ "amount": "10000000.00" });
    accept(
        client,
        "/v1/budgets/guiyang/2025/appropriations",
        Some(&finance),
        &appropriation,
        201,
        &["BudgetAppropriated"],
    )
    .await?;
    let big_a = publish_batch(client, GY, "", "5000000.00", "2500000.00").await?;
    let big_b = publish_batch(client, GY, "", "2500000.00", "2500000.00").await?;
    let enterprise = verified_applicant(client, GY, 22, false).await?;
    for batch_id in [&big_a, &big_b] {
        accept(client, &claim(batch_id), Some(&enterprise), &empty, 201, &["VoucherIssued"]).await?;
    }
    refuse(client, &claim(&third), Some(&enterprise), &empty, 422, "cap_exceeded").await?;
    let view = read(client, &issued(22), Some(&enterprise)).await?;
    assert_eq!(view["issued_total"], "5000000.00", "{view}");
    assert_eq!(view["annual_cap"], "5000000.00", "{view}");

    assert_eq!(account_balance(client, GY, "voucher_available").await?, "5200000.00");
    let budget = read(client, "/v1/budgets/guiyang/2025", Some(&bureau())).await?;
    // 20,000,000.00 appropriated; 1,000,000.00 x 3 + 5,000,000.00 + 2,500,000.00 in batches.
    assert_eq!(budget["available"], "9500000.00", "{budget}");

    scene.server.stop().await;
    Ok(())
}

// ---- art. 8: providers ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn art8_a_provider_is_admitted_after_five_working_days_without_upheld_objection() -> anyhow::Result<()>
{
    let scene = scene().await?;
    let client = &scene.client;
    let (_applicant, voucher_id) = voucher_holder(client, GY, &scene.batch_id, 31).await?;
    let provider = |n: u32| provider_token(GY, n);
    let view = |n: u32| format!("/v1/providers/{}", credit_code(n));
    let objection = |n: u32| json!({ "target": { "kind": "provider", "provider": credit_code(n) }, "text": "its laboratory is not accredited" });

    // Applying needs a category of the policy; the decision is the bureau's, not finance's.
    let bad =
        json!({ "name": "lab", "categories": ["astrology"], "qualifications": [e2e::document("cert.pdf")] });
    refuse(client, "/v1/providers", Some(&provider(501)), &bad, 422, "invalid_request").await?;
    let application = json!({ "name": "lab 501", "categories": [TESTING],
        "qualifications": [e2e::document("CMA certificate.pdf")], "contact": "0851-5010501" });
    accept(client, "/v1/providers", Some(&provider(501)), &application, 201, &["ProviderApplied"]).await?;
    assert_eq!(read(client, &view(501), Some(&provider(501))).await?["status"], "applied");
    let approval = json!({ "decision": "approved" });
    let decision = format!("/v1/providers/{}/decision", credit_code(501));
    refuse(client, &decision, Some(&staff(Role::Finance, GY)), &approval, 403, "forbidden").await?;

    // Approved on Monday 2025-03-03: the announcement runs the 5 working days after it (Mar 4, 5, 6, 7 and
    // Monday Mar 10) and closes at the end of 2025-03-10.
    let answer = accept(client, &decision, Some(&bureau()), &approval, 200, &["ProviderApproved"]).await?;
    assert_eq!(answer.body["announced_on"], "2025-03-03", "{answer:?}");
    assert_eq!(answer.body["announcement_closes"], "2025-03-10", "{answer:?}");
    let (_, closes) = approved_provider(client, GY, 502, &[TESTING]).await?;
    let (_, closes_503) = approved_provider(client, GY, 503, &[TESTING]).await?;
    assert_eq!((closes.as_str(), closes_503.as_str()), ("2025-03-10", "2025-03-10"));

    // Not admitted yet: no contract.
    let terms = contract_body(&voucher_id, &credit_code(501), TESTING, "50000.00", "50000.00");
    refuse(client, "/v1/contracts", Some(&provider(501)), &terms, 422, "provider_not_admitted").await?;

    // Anyone, without a token, objects during the period.
    set_clock(client, &e2e::nine_am("2025-03-07")).await?;
    let mut objection_ids = Vec::new();
    for n in [501, 502] {
        let answer = accept(client, "/v1/objections", None, &objection(n), 201, &["ObjectionFiled"]).await?;
        objection_ids.push(text(&answer.body["objection_id"]).to_owned());
    }
    let filed = read(client, &view(501), Some(&bureau())).await?;
    assert_eq!(filed["objections"][0]["text"], "its laboratory is not accredited", "{filed}");

    // After the period: 503 (no objection) is admitted by the scheduler; an open objection holds 501 and
    // 502; a late objection is refused.
    set_clock(client, &e2e::nine_am("2025-03-11")).await?;
    assert_eq!(read(client, &view(503), Some(&bureau())).await?["status"], "admitted");
    assert_eq!(read(client, &view(501), Some(&bureau())).await?["status"], "announced");
    refuse(client, "/v1/objections", None, &objection(501), 422, "announcement_closed").await?;

    // The bureau dismisses the objection against 501 and upholds the one against 502.
    let ruling = |id: &str| format!("/v1/objections/{id}/ruling");
    let dismiss = json!({ "ruling": "dismissed", "reason": "accreditation certificate CNAS L1234 verified" });
    refuse(client, &ruling(&objection_ids[0]), Some(&provider(503)), &dismiss, 403, "forbidden").await?;
    accept(client, &ruling(&objection_ids[0]), Some(&bureau()), &dismiss, 200, &["ObjectionRuled"]).await?;
    let uphold = json!({ "ruling": "upheld", "reason": "certificate forged" });
    accept(
        client,
        &ruling(&objection_ids[1]),
        Some(&bureau()),
        &uphold,
        200,
        &["ObjectionRuled", "ProviderRejected"],
    )
    .await?;
    // The scheduler admits 501 at its next run (the clock move runs it before answering).
    set_clock(client, "2025-03-11T10:00:00+08:00").await?;
    let admitted = read(client, &view(501), Some(&provider(501))).await?;
    assert_eq!(
        (admitted["status"].clone(), admitted["admitted_on"].clone()),
        (json!("admitted"), json!("2025-03-11"))
    );
    assert_eq!(admitted["objections"][0]["ruling"], "dismissed", "{admitted}");
    let rejected = read(client, &view(502), Some(&bureau())).await?;
    assert_eq!(rejected["status"], "rejected", "{rejected}");

    // Admitted: 501 may contract; 502 may not. Admission moves no money.
    refuse(
        client,
        "/v1/contracts",
        Some(&provider(502)),
        &contract_body(&voucher_id, &credit_code(502), TESTING, "50000.00", "50000.00"),
        422,
        "provider_not_admitted",
    )
    .await?;
    accept(client, "/v1/contracts", Some(&provider(501)), &terms, 201, &["ContractSubmitted"]).await?;
    assert_eq!(account_balance(client, GY, "provider_receivable").await?, "0.00");
    assert_eq!(voucher_balances(client, &voucher_id).await?, ("100000.00".into(), "0.00".into()));

    scene.server.stop().await;
    Ok(())
}

// ---- art. 9: contracts and filing ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn art9_a_contract_is_filed_only_once_both_parties_signed_and_filing_commits_the_voucher_amount()
-> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let (applicant, voucher_id, provider) = parties(&scene, 41, 541).await?;
    let code = credit_code(541);
    let center = staff(Role::ServiceCenter, GY);
    let empty = json!({});

    // The voucher pays no more than its balance and the contract's total, and only categories the provider
    // offers.
    let over = contract_body(&voucher_id, &code, TESTING, "200000.00", "100000.01");
    refuse(client, "/v1/contracts", Some(&provider), &over, 422, "insufficient_balance").await?;
    let above_total = contract_body(&voucher_id, &code, TESTING, "50000.00", "60000.00");
    refuse(client, "/v1/contracts", Some(&provider), &above_total, 422, "invalid_request").await?;
    let not_offered = contract_body(&voucher_id, &code, "technology_innovation", "50000.00", "50000.00");
    refuse(client, "/v1/contracts", Some(&provider), &not_offered, 422, "category_not_offered").await?;
    let bad_amount = json!({ "voucher_id": voucher_id, "provider": code, "category": TESTING, "description": "x",
        "term_start": "2025-03-15", "term_end": "2025-04-15", "total": 100000, "voucher_amount": "1.00",
        "document_sha256": "ab".repeat(32) });
    refuse(client, "/v1/contracts", Some(&provider), &bad_amount, 400, "invalid_amount").await?;

    // The provider submits (its signature); filing waits for the applicant's signature.
    let terms = contract_body(&voucher_id, &code, TESTING, "100000.00", "80000.00");
    let answer =
        accept(client, "/v1/contracts", Some(&provider), &terms, 201, &["ContractSubmitted"]).await?;
    let contract_id = text(&answer.body["contract_id"]).to_owned();
    let path = |action: &str| format!("/v1/contracts/{contract_id}/{action}");
    refuse(client, &path("filing"), Some(&center), &empty, 409, "invalid_state").await?;
    refuse(client, &path("signature"), Some(&provider), &empty, 403, "forbidden").await?;
    accept(client, &path("signature"), Some(&applicant), &empty, 200, &["ContractSigned"]).await?;
    let signed = read(client, &format!("/v1/contracts/{contract_id}"), Some(&applicant)).await?;
    assert_eq!(signed["status"], "signed", "{signed}");
    assert_eq!(signed["signed_by"], json!(["provider", "applicant"]), "{signed}");

    // In guiyang the service center files, not the bureau; filing commits the voucher amount.
    refuse(client, &path("filing"), Some(&bureau()), &empty, 403, "forbidden").await?;
    assert_eq!(voucher_balances(client, &voucher_id).await?, ("100000.00".into(), "0.00".into()));
    let answer = accept(client, &path("filing"), Some(&center), &empty, 200, &["ContractFiled"]).await?;
    assert_eq!(answer.body["amount"], "80000.00", "{answer:?}");
    assert_eq!(voucher_balances(client, &voucher_id).await?, ("20000.00".into(), "80000.00".into()));
    assert_eq!(account_balance(client, GY, "voucher_committed").await?, "80000.00");
    refuse(client, &path("filing"), Some(&center), &empty, 409, "invalid_state").await?;

    // A second contract, submitted by the applicant and signed by the provider, fits only the 20,000.00
    // left; the service center refuses to file it, which moves no money.
    let second = contract_body(&voucher_id, &code, TESTING, "30000.00", "20000.01");
    refuse(client, "/v1/contracts", Some(&applicant), &second, 422, "insufficient_balance").await?;
    let second = contract_body(&voucher_id, &code, TESTING, "30000.00", "20000.00");
    let answer =
        accept(client, "/v1/contracts", Some(&applicant), &second, 201, &["ContractSubmitted"]).await?;
    let second_id = text(&answer.body["contract_id"]).to_owned();
    let signature = format!("/v1/contracts/{second_id}/signature");
    accept(client, &signature, Some(&provider), &empty, 200, &["ContractSigned"]).await?;
    let rejection = json!({ "reason": "the sealed contract does not match the terms" });
    accept(
        client,
        &format!("/v1/contracts/{second_id}/rejection"),
        Some(&center),
        &rejection,
        200,
        &["ContractRejected"],
    )
    .await?;
    assert_eq!(voucher_balances(client, &voucher_id).await?, ("20000.00".into(), "80000.00".into()));

    // Cancelling the filed contract releases its commitment to the voucher.
    let cancel = json!({ "reason": "scope changed" });
    refuse(client, &path("cancellation"), Some(&center), &cancel, 403, "forbidden").await?;
    let answer =
        accept(client, &path("cancellation"), Some(&applicant), &cancel, 200, &["ContractCancelled"]).await?;
    assert_eq!(answer.body["released"], "80000.00", "{answer:?}");
    assert_eq!(voucher_balances(client, &voucher_id).await?, ("100000.00".into(), "0.00".into()));
    let cancelled = read(client, &format!("/v1/contracts/{contract_id}"), Some(&provider)).await?;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");

    scene.server.stop().await;
    Ok(())
}

// ---- art. 10: completion and rating ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn art10_completion_pays_the_committed_amount_to_the_provider_and_the_applicant_rates_once()
-> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let (applicant, voucher_id, provider) = parties(&scene, 51, 551).await?;
    let terms = contract_body(&voucher_id, &credit_code(551), TESTING, "100000.00", "80000.00");
    let contract_id = filed_contract(client, GY, &provider, &applicant, &terms).await?;
    let path = |action: &str| format!("/v1/contracts/{contract_id}/{action}");
    let rating = |quality: u8| json!({ "quality": quality, "timeliness": 4, "professionalism": 5, "text": "thorough" });

    // No rating before completion; only the applicant confirms completion.
    refuse(client, &path("rating"), Some(&applicant), &rating(5), 409, "invalid_state").await?;
    refuse(client, &path("completion"), Some(&provider), &json!({}), 403, "forbidden").await?;
    assert_eq!(account_balance(client, GY, "provider_receivable").await?, "0.00");

    // Completion (2025-03-11) pays the committed amount to the provider; the redemption deadline is 60
    // days later.
    let answer = complete(client, &applicant, &contract_id).await?;
    assert_eq!(answer.body["amount"], "80000.00", "{answer:?}");
    assert_eq!(answer.body["redemption_deadline"], "2025-05-10", "{answer:?}");
    assert_eq!(voucher_balances(client, &voucher_id).await?, ("20000.00".into(), "0.00".into()));
    assert_eq!(account_balance(client, GY, "provider_receivable").await?, "80000.00");
    assert_eq!(account_balance(client, GY, "voucher_committed").await?, "0.00");

    // The applicant rates once, 1 to 5 on each criterion.
    refuse(client, &path("rating"), Some(&applicant), &rating(6), 422, "invalid_request").await?;
    refuse(client, &path("rating"), Some(&provider), &rating(5), 403, "forbidden").await?;
    accept(client, &path("rating"), Some(&applicant), &rating(5), 200, &["ServiceRated"]).await?;
    refuse(client, &path("rating"), Some(&applicant), &rating(4), 409, "already_rated").await?;
    let contract = read(client, &format!("/v1/contracts/{contract_id}"), Some(&provider)).await?;
    assert_eq!(contract["status"], "completed", "{contract}");
    assert_eq!(contract["rating"]["quality"], 5, "{contract}");
    assert_eq!(contract["rating"]["text"], "thorough", "{contract}");

    scene.server.stop().await;
    Ok(())
}

// ---- art. 11: redemption, review, announcement, objection, disbursement ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn art11_a_reviewed_redemption_is_paid_only_after_its_five_working_day_announcement_closes_without_open_objection()
-> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let (applicant, voucher_id, provider) = parties(&scene, 61, 561).await?;
    let terms = contract_body(&voucher_id, &credit_code(561), TESTING, "100000.00", "80000.00");
    let contract_id = filed_contract(client, GY, &provider, &applicant, &terms).await?;
    complete(client, &applicant, &contract_id).await?;

    // The provider requests, with its documents; not the applicant, and not without service results.
    let body = redemption_body(&contract_id);
    refuse(client, "/v1/redemptions", Some(&applicant), &body, 403, "forbidden").await?;
    let mut no_results = body.clone();
    no_results["results"] = json!([]);
    refuse(client, "/v1/redemptions", Some(&provider), &no_results, 422, "invalid_request").await?;
    let answer =
        accept(client, "/v1/redemptions", Some(&provider), &body, 201, &["RedemptionRequested"]).await?;
    let redemption_id = text(&answer.body["redemption_id"]).to_owned();
    assert_eq!(answer.body["amount"], "80000.00", "{answer:?}");
    refuse(client, "/v1/redemptions", Some(&provider), &body, 409, "invalid_state").await?;

    // The reviewer (not the bureau) approves 60,000.00 with a reason; 20,000.00 returns to the budget.
    let review = format!("/v1/redemptions/{redemption_id}/review");
    let reduced =
        json!({ "decision": "reduced", "approved": "60000.00", "reason": "one test not performed" });
    refuse(client, &review, Some(&bureau()), &reduced, 403, "forbidden").await?;
    let budget_before = read(client, "/v1/budgets/guiyang/2025", Some(&bureau())).await?["available"].clone();
    assert_eq!(budget_before, "9000000.00");
    accept(client, &review, Some(&staff(Role::Reviewer, GY)), &reduced, 200, &["RedemptionReviewed"]).await?;
    let budget = read(client, "/v1/budgets/guiyang/2025", Some(&bureau())).await?;
    assert_eq!(budget["available"], "9020000.00", "{budget}");
    assert_eq!(account_balance(client, GY, "provider_receivable").await?, "60000.00");

    // Announced on Tuesday 2025-03-11: 5 working days, closing at the end of Tuesday 2025-03-18.
    let (announcement_id, closes_on) = announce(client, GY, &[&redemption_id]).await?;
    assert_eq!(closes_on, "2025-03-18");
    let list = read(client, &format!("/v1/announcements/{announcement_id}"), None).await?;
    assert_eq!(list["items"][0]["approved"], "60000.00", "the list is public: {list}");
    assert_eq!(list["items"][0]["provider"], credit_code(561), "{list}");

    // Anyone objects; nothing is paid before the close, nor while the objection is open.
    let objection = json!({ "target": { "kind": "redemption", "redemption_id": redemption_id },
        "text": "the tests were subcontracted" });
    let answer = accept(client, "/v1/objections", None, &objection, 201, &["ObjectionFiled"]).await?;
    let objection_id = text(&answer.body["objection_id"]).to_owned();
    let disbursement = format!("/v1/redemptions/{redemption_id}/disbursement");
    let pay = json!({ "payment_reference": "GY-2025-0318-001" });
    refuse(client, &disbursement, Some(&bureau()), &pay, 422, "not_payable").await?;
    set_clock(client, &e2e::nine_am("2025-03-19")).await?;
    let list = read(client, &format!("/v1/announcements/{announcement_id}"), None).await?;
    assert_eq!(list["closed"], true, "{list}");
    refuse(client, &disbursement, Some(&bureau()), &pay, 422, "not_payable").await?;

    // The bureau dismisses it; the bureau of guiyang (not guian) pays, once.
    let dismiss = json!({ "ruling": "dismissed", "reason": "subcontracting is allowed by the contract" });
    accept(
        client,
        &format!("/v1/objections/{objection_id}/ruling"),
        Some(&bureau()),
        &dismiss,
        200,
        &["ObjectionRuled"],
    )
    .await?;
    refuse(client, &disbursement, Some(&staff(Role::Bureau, Jurisdiction::Guian)), &pay, 403, "forbidden")
        .await?;
    let answer = accept(client, &disbursement, Some(&bureau()), &pay, 200, &["RedemptionDisbursed"]).await?;
    assert_eq!(answer.body["amount"], "60000.00", "{answer:?}");
    refuse(client, &disbursement, Some(&bureau()), &pay, 409, "already_disbursed").await?;
    assert_eq!(account_balance(client, GY, "disbursed").await?, "60000.00");
    assert_eq!(account_balance(client, GY, "provider_receivable").await?, "0.00");
    let view = read(client, &format!("/v1/redemptions/{redemption_id}"), Some(&provider)).await?;
    assert_eq!(view["status"], "disbursed", "{view}");
    assert_eq!(view["payment_reference"], "GY-2025-0318-001", "{view}");
    assert_eq!((view["approved"].clone(), view["returned"].clone()), (json!("60000.00"), json!("20000.00")));

    scene.server.stop().await;
    Ok(())
}

// ---- art. 12: denial, clawback, recovery, suspension, referral ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn art12_the_bureau_denies_before_disbursement_and_claws_back_at_most_what_was_disbursed()
-> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let (applicant, voucher_id, provider) = parties(&scene, 71, 571).await?;
    let code = credit_code(571);
    let mut redemptions = Vec::new();
    for _ in 0..2 {
        let terms = contract_body(&voucher_id, &code, TESTING, "40000.00", "40000.00");
        let contract_id = filed_contract(client, GY, &provider, &applicant, &terms).await?;
        complete(client, &applicant, &contract_id).await?;
        redemptions.push(approved_redemption(client, GY, &provider, &contract_id).await?);
    }
    let (denied, paid) = (redemptions[0].clone(), redemptions[1].clone());
    announce(client, GY, &[&denied, &paid]).await?;
    assert_eq!(account_balance(client, GY, "provider_receivable").await?, "80000.00");

    // Suspension: the provider takes no new contract; its pending redemption is denied for fraud.
    let suspension = format!("/v1/providers/{code}/suspension");
    accept(
        client,
        &suspension,
        Some(&bureau()),
        &json!({ "reason": "suspected forged invoices" }),
        200,
        &["ProviderSuspended"],
    )
    .await?;
    let terms = contract_body(&voucher_id, &code, TESTING, "10000.00", "10000.00");
    refuse(client, "/v1/contracts", Some(&provider), &terms, 422, "provider_suspended").await?;
    let denial = json!({ "ground": "fraud", "reason": "the invoice was forged" });
    let deny = |id: &str| format!("/v1/redemptions/{id}/denial");
    refuse(client, &deny(&denied), Some(&staff(Role::Reviewer, GY)), &denial, 403, "forbidden").await?;
    let answer = accept(client, &deny(&denied), Some(&bureau()), &denial, 200, &["RedemptionDenied"]).await?;
    assert_eq!(answer.body["returned"], "40000.00", "{answer:?}");
    refuse(client, &deny(&denied), Some(&bureau()), &denial, 409, "invalid_state").await?;
    assert_eq!(account_balance(client, GY, "provider_receivable").await?, "40000.00");

    // After the close the other one is paid; the denied one never is, and a paid one is no longer deniable.
    set_clock(client, &e2e::nine_am("2025-03-19")).await?;
    let pay = json!({ "payment_reference": "GY-2025-0319-007" });
    let disburse = |id: &str| format!("/v1/redemptions/{id}/disbursement");
    refuse(client, &disburse(&denied), Some(&bureau()), &pay, 422, "not_payable").await?;
    accept(client, &disburse(&paid), Some(&bureau()), &pay, 200, &["RedemptionDisbursed"]).await?;
    refuse(client, &deny(&paid), Some(&bureau()), &denial, 409, "already_disbursed").await?;
    assert_eq!(account_balance(client, GY, "disbursed").await?, "40000.00");

    // Clawbacks never exceed what remains disbursed.
    let clawback =
        |amount: &str| json!({ "redemption_id": paid, "amount": amount, "reason": "audit: forged results" });
    refuse(
        client,
        "/v1/clawbacks",
        Some(&bureau()),
        &clawback("40000.01"),
        422,
        "clawback_exceeds_disbursed",
    )
    .await?;
    let first =
        accept(client, "/v1/clawbacks", Some(&bureau()), &clawback("30000.00"), 201, &["ClawbackOrdered"])
            .await?;
    refuse(
        client,
        "/v1/clawbacks",
        Some(&bureau()),
        &clawback("10000.01"),
        422,
        "clawback_exceeds_disbursed",
    )
    .await?;
    accept(client, "/v1/clawbacks", Some(&bureau()), &clawback("10000.00"), 201, &["ClawbackOrdered"])
        .await?;
    assert_eq!(account_balance(client, GY, "disbursed").await?, "0.00");
    assert_eq!(account_balance(client, GY, "clawback_due").await?, "40000.00");

    // Recoveries may be partial, never more than still due.
    let recoveries = format!("/v1/clawbacks/{}/recoveries", text(&first.body["clawback_id"]));
    accept(
        client,
        &recoveries,
        Some(&bureau()),
        &json!({ "amount": "20000.00" }),
        201,
        &["ClawbackRecovered"],
    )
    .await?;
    refuse(
        client,
        &recoveries,
        Some(&bureau()),
        &json!({ "amount": "10000.01" }),
        422,
        "recovery_exceeds_due",
    )
    .await?;
    accept(
        client,
        &recoveries,
        Some(&bureau()),
        &json!({ "amount": "10000.00" }),
        201,
        &["ClawbackRecovered"],
    )
    .await?;
    assert_eq!(account_balance(client, GY, "clawback_due").await?, "10000.00");
    let view = read(client, &format!("/v1/redemptions/{paid}"), Some(&auditor())).await?;
    assert_eq!(
        (view["clawed_back"].clone(), view["recovered"].clone()),
        (json!("40000.00"), json!("30000.00"))
    );
    assert_eq!(view["clawbacks"][0]["recovered"], "30000.00", "{view}");

    // The referral to the judicial authorities is recorded.
    let referral =
        json!({ "party": code, "authority": "贵阳市公安局经济犯罪侦查支队", "note": "forged invoices" });
    refuse(client, "/v1/referrals", Some(&auditor()), &referral, 403, "forbidden").await?;
    accept(client, "/v1/referrals", Some(&bureau()), &referral, 201, &["ReferralRecorded"]).await?;
    let view = read(client, &format!("/v1/providers/{code}"), Some(&bureau())).await?;
    assert_eq!(view["suspended"], true, "{view}");
    assert_eq!(view["referrals"][0]["authority"], "贵阳市公安局经济犯罪侦查支队", "{view}");
    let denied_view = read(client, &format!("/v1/redemptions/{denied}"), Some(&provider)).await?;
    assert_eq!(denied_view["status"], "denied", "{denied_view}");
    assert_eq!(denied_view["denial"]["ground"], "fraud", "{denied_view}");

    scene.server.stop().await;
    Ok(())
}

// ---- art. 13: audit samples ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn art13_an_audit_sample_is_reproducible_from_its_population_seed_and_size() -> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let (applicant, voucher_id, provider) = parties(&scene, 81, 581).await?;
    let mut population = Vec::new();
    for _ in 0..6 {
        let terms = contract_body(&voucher_id, &credit_code(581), TESTING, "10000.00", "10000.00");
        population.push(filed_contract(client, GY, &provider, &applicant, &terms).await?);
    }

    // Only a past year is sampled, and only by an auditor.
    set_clock(client, &e2e::nine_am("2026-02-02")).await?;
    let draw = json!({ "jurisdiction": "guiyang", "year": 2025, "size": 3, "seed": "guiyang-2025-audit" });
    refuse(client, "/v1/audits/samples", Some(&bureau()), &draw, 403, "forbidden").await?;
    let this_year = json!({ "jurisdiction": "guiyang", "year": 2026, "size": 3, "seed": "s" });
    refuse(client, "/v1/audits/samples", Some(&auditor()), &this_year, 422, "sample_year_not_previous")
        .await?;

    let head = head_position(client).await?;
    let first = accept(client, "/v1/audits/samples", Some(&auditor()), &draw, 201, &["SampleDrawn"]).await?;
    let second = accept(client, "/v1/audits/samples", Some(&auditor()), &draw, 201, &["SampleDrawn"]).await?;
    assert_ne!(first.body["sample_id"], second.body["sample_id"]);
    assert_eq!(first.body["as_of_position"], head, "{first:?}");
    // Nothing but the first draw happened in between: the same population.
    assert_eq!(second.body["as_of_position"], head + 1, "{second:?}");
    assert_eq!((first.body["population"].clone(), second.body["population"].clone()), (json!(6), json!(6)));
    assert_eq!(first.body["contract_ids"], second.body["contract_ids"], "the same draw twice");

    // Anyone can recompute it: rank the population by SHA-256(seed ":" id), take the first `size`.
    let mut ids: Vec<uuid::Uuid> = population.iter().map(|id| id.parse()).collect::<Result<_, _>>()?;
    ids.sort();
    let expected = domain::decide::draw_sample(&ids, "guiyang-2025-audit", 3);
    let drawn: Vec<uuid::Uuid> = serde_json::from_value(first.body["contract_ids"].clone())?;
    assert_eq!(drawn, expected);

    // Findings only on sampled contracts, by an auditor.
    let sample_id = text(&first.body["sample_id"]).to_owned();
    let findings = format!("/v1/audits/samples/{sample_id}/findings");
    let outside = population
        .iter()
        .find(|id| !drawn.iter().any(|d| d.to_string() == **id))
        .cloned()
        .unwrap_or_default();
    let finding = |contract: &str| json!({ "contract_id": contract, "finding": "irregular", "note": "no test records" });
    refuse(client, &findings, Some(&auditor()), &finding(&outside), 422, "not_in_sample").await?;
    refuse(client, &findings, Some(&bureau()), &finding(&drawn[0].to_string()), 403, "forbidden").await?;
    accept(client, &findings, Some(&auditor()), &finding(&drawn[0].to_string()), 201, &["FindingRecorded"])
        .await?;
    let view = read(client, &format!("/v1/audits/samples/{sample_id}"), Some(&bureau())).await?;
    assert_eq!(view["findings"][0]["finding"], "irregular", "{view}");
    assert_eq!(view["seed"], "guiyang-2025-audit", "{view}");
    assert_eq!(client.get(&format!("/v1/audits/samples/{sample_id}"), Some(&provider)).await?.status, 403);
    // An audit moves no money: the voucher's commitments are untouched (its available balance expired).
    assert_eq!(voucher_balances(client, &voucher_id).await?, ("0.00".into(), "60000.00".into()));

    scene.server.stop().await;
    Ok(())
}

// ---- nothing is disbursed twice ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_is_disbursed_twice_under_concurrent_requests() -> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let (applicant, voucher_id, provider) = parties(&scene, 91, 591).await?;
    let terms = contract_body(&voucher_id, &credit_code(591), TESTING, "75000.50", "75000.50");
    let contract_id = filed_contract(client, GY, &provider, &applicant, &terms).await?;
    complete(client, &applicant, &contract_id).await?;
    let redemption_id = approved_redemption(client, GY, &provider, &contract_id).await?;
    let (_, closes_on) = announce(client, GY, &[&redemption_id]).await?;
    set_clock(client, &e2e::nine_am(&e2e::day_after(&closes_on))).await?;

    let path = format!("/v1/redemptions/{redemption_id}/disbursement");
    let bureau = bureau();
    let requests = (0..20).map(|n| {
        let body = json!({ "payment_reference": format!("GY-PAY-{n:02}") }).to_string();
        let (path, bureau) = (&path, &bureau);
        async move { client.post_raw(path, Some(bureau), &body, None).await }
    });
    let answers: Vec<e2e::Answer> = join_all(requests).await.into_iter().collect::<Result<_, _>>()?;
    let paid: Vec<_> = answers.iter().filter(|a| a.status == 200).collect();
    let refused: Vec<_> =
        answers.iter().filter(|a| a.status != 200).map(|a| (a.status, a.code().to_owned())).collect();
    assert_eq!(paid.len(), 1, "exactly one disbursement: {answers:?}");
    assert_eq!(e2e::event_types(paid[0]), ["RedemptionDisbursed"]);
    assert_eq!(refused, vec![(409, "already_disbursed".to_owned()); 19]);
    assert_eq!(account_balance(client, GY, "disbursed").await?, "75000.50");
    let view = read(client, &format!("/v1/redemptions/{redemption_id}"), Some(&bureau)).await?;
    assert_eq!((view["disbursed"].clone(), view["approved"].clone()), (json!("75000.50"), json!("75000.50")));

    scene.server.stop().await;
    Ok(())
}

// ---- the HTTP contract of these routes ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_regulation_requests_are_400_and_reads_follow_the_read_rules() -> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let (applicant, voucher_id, provider) = parties(&scene, 101, 601).await?;
    let terms = contract_body(&voucher_id, &credit_code(601), TESTING, "50000.00", "50000.00");
    let contract_id = filed_contract(client, GY, &provider, &applicant, &terms).await?;
    complete(client, &applicant, &contract_id).await?;
    let redemption_id = approved_redemption(client, GY, &provider, &contract_id).await?;

    // Strict bodies: unknown kinds and fields, bad codes, amounts and digests are 400 and append nothing.
    let objection = |target: Value| json!({ "target": target, "text": "t" });
    let cases = [
        (
            "/v1/objections",
            objection(json!({ "kind": "voucher", "voucher_id": voucher_id })),
            "invalid_request",
        ),
        (
            "/v1/objections",
            objection(json!({ "kind": "provider", "provider": credit_code(601), "extra": 1 })),
            "invalid_request",
        ),
        (
            "/v1/objections",
            objection(json!({ "kind": "provider", "provider": "91520100MA6DK0000Z" })),
            "invalid_credit_code",
        ),
        (
            "/v1/clawbacks",
            json!({ "redemption_id": redemption_id, "amount": 5, "reason": "r" }),
            "invalid_amount",
        ),
        (
            "/v1/contracts",
            {
                let mut t = terms.clone();
                t["document_sha256"] = json!("XYZ");
                t
            },
            "invalid_request",
        ),
        ("/v1/contracts/not-a-uuid/signature", json!({}), "invalid_path"),
        (&*format!("/v1/contracts/{contract_id}/signature"), json!({ "note": "x" }), "invalid_request"),
    ];
    for (path, body, code) in cases {
        refuse(client, path, Some(&bureau()), &body, 400, code).await?;
    }
    let review = format!("/v1/redemptions/{redemption_id}/review");
    let reviewer = staff(Role::Reviewer, GY);
    for (body, code) in [
        (json!({ "decision": "full", "approved": "1.00" }), "invalid_request"),
        (json!({ "decision": "full", "reason": "why" }), "invalid_request"),
        (json!({ "decision": "reduced", "reason": "why" }), "invalid_request"),
        (json!({ "decision": "reduced", "approved": "abc", "reason": "why" }), "invalid_amount"),
        (json!({ "decision": "partial" }), "invalid_request"),
    ] {
        refuse(client, &review, Some(&reviewer), &body, 400, code).await?;
    }
    // An objection needs no token, but a bad one is still refused.
    let target = objection(json!({ "kind": "provider", "provider": credit_code(601) }));
    refuse(client, "/v1/objections", Some("not-a-token"), &target, 401, "invalid_token").await?;

    // Reads: the parties, staff of the jurisdiction and auditors; announcements are public.
    let contract = format!("/v1/contracts/{contract_id}");
    let redemption = format!("/v1/redemptions/{redemption_id}");
    let stranger = token(Role::Enterprise, GY, "applicant-999", Some(&credit_code(999)));
    let other_provider = provider_token(GY, 998);
    let guian_bureau = staff(Role::Bureau, Jurisdiction::Guian);
    let guian_auditor = staff(Role::Auditor, Jurisdiction::Guian);
    for (path, reader, status) in [
        (&contract, Some(&applicant), 200),
        (&contract, Some(&provider), 200),
        (&contract, Some(&guian_auditor), 200),
        (&contract, Some(&stranger), 403),
        (&contract, Some(&guian_bureau), 403),
        (&contract, None, 401),
        (&redemption, Some(&applicant), 200),
        (&redemption, Some(&other_provider), 403),
    ] {
        let answer = client.get(path, reader.map(String::as_str)).await?;
        assert_eq!(answer.status, status, "GET {path}: {answer:?}");
    }
    let unknown = uuid::Uuid::now_v7();
    let answer = client.get(&format!("/v1/announcements/{unknown}"), None).await?;
    assert_eq!((answer.status, answer.code()), (404, "announcement_not_found"), "{answer:?}");
    let answer = client.get(&format!("/v1/audits/samples/{unknown}"), Some(&auditor())).await?;
    assert_eq!((answer.status, answer.code()), (404, "sample_not_found"), "{answer:?}");

    // The OpenAPI document lists the routes.
    let document = read(client, "/openapi.json", None).await?;
    for route in [
        "/v1/providers",
        "/v1/providers/{credit_code}",
        "/v1/providers/{credit_code}/decision",
        "/v1/objections",
        "/v1/contracts/{contract_id}/filing",
        "/v1/redemptions/{redemption_id}/disbursement",
        "/v1/announcements/{announcement_id}",
        "/v1/audits/samples/{sample_id}/findings",
        "/v1/clawbacks/{clawback_id}/recoveries",
        "/v1/referrals",
    ] {
        assert!(document["paths"].get(route).is_some(), "openapi.json has no {route}");
    }

    scene.server.stop().await;
    Ok(())
}
