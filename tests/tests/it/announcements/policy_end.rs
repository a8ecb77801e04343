//! The end of the Measures over HTTP (issue 14): money outlives its policy (SPEC §3, Measures art. 11, 14),
//! an expired voucher holds no available money (SPEC §4 Voucher), and a period touching the last days of
//! December needs the next year's holiday notice (SPEC §6). Each run ends with `voucher-ledger verify`.

use domain::{PolicyBook, Role};
use e2e::{
    accept, account_balance, announce, approved_redemption, complete, nine_am, read, refuse, set_clock,
    staff, voucher_balances,
};
use serde_json::json;

use super::{GY, TESTING, scene, stop_and_verify};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redemption_approved_on_2025_12_30_is_announced_and_paid_in_january_with_no_successor()
-> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let bureau = staff(Role::Bureau, GY);
    assert!(
        PolicyBook::shipped().in_force(domain::Jurisdiction::Guiyang, "2026-01-05".parse()?).is_none(),
        "no successor is shipped"
    );

    set_clock(client, &nine_am("2025-12-22")).await?;
    complete(client, &scene.applicant, &scene.contract_id).await?;
    set_clock(client, &nine_am("2025-12-30")).await?;
    let redemption_id = approved_redemption(client, GY, &scene.provider, &scene.contract_id).await?;

    // Monday 2026-01-05, under no version: the list runs the batch's version's 5 working days (Jan 6-9, 12).
    set_clock(client, &nine_am("2026-01-05")).await?;
    let (announcement_id, closes_on) = announce(client, GY, &[&redemption_id]).await?;
    assert_eq!(closes_on, "2026-01-12");
    // New issuance still needs a version in force.
    let batch = json!({
        "jurisdiction": "guiyang", "fiscal_year": 2025, "name": "after the Measures",
        "total": "1000.00", "face_value": "100.00", "eligible_kinds": ["enterprise"],
        "eligible_industries": ["aluminum"], "eligible_categories": [TESTING],
        "claim_opens": "2026-01-05", "claim_closes": "2026-02-28", "valid_until": "2026-06-30"
    });
    refuse(client, "/v1/batches", Some(&bureau), &batch, 422, "no_policy_in_force").await?;

    // After the period the scheduler closes the list and the bureau pays: the receivable is settled.
    set_clock(client, &nine_am("2026-01-13")).await?;
    let list = read(client, &format!("/v1/announcements/{announcement_id}"), None).await?;
    assert_eq!(list["closed"], true, "{list}");
    let disbursement = format!("/v1/redemptions/{redemption_id}/disbursement");
    let pay = json!({ "payment_reference": "GY-2026-0113-001" });
    let paid = accept(client, &disbursement, Some(&bureau), &pay, 200, &["RedemptionDisbursed"]).await?;
    assert_eq!(paid.body["amount"], "80000.00", "{paid:?}");
    assert_eq!(account_balance(client, GY, "disbursed").await?, "80000.00");
    assert_eq!(account_balance(client, GY, "provider_receivable").await?, "0.00");

    stop_and_verify(scene).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filed_contract_of_an_expired_voucher_cancelled_returns_its_money_to_the_budget()
-> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    // The scheduler expires the voucher on 2026-01-01: its 20,000.00 available goes back to the budget.
    set_clock(client, &nine_am("2026-01-02")).await?;
    assert_eq!(voucher_balances(client, &scene.voucher_id).await?, ("0.00".into(), "80000.00".into()));
    assert_eq!(account_balance(client, GY, "budget").await?, "9020000.00");

    // Cancelling the filed contract releases 80,000.00, which goes to the budget in the same command.
    let path = format!("/v1/contracts/{}/cancellation", scene.contract_id);
    let cancel = json!({ "reason": "the service is no longer needed" });
    let types = ["ContractCancelled", "ReturnedAfterExpiry"];
    let answer = accept(client, &path, Some(&scene.applicant), &cancel, 200, &types).await?;
    assert_eq!(answer.body["events"][1]["data"]["returned"], "80000.00", "{:?}", answer.body);
    assert_eq!(voucher_balances(client, &scene.voucher_id).await?, ("0.00".into(), "0.00".into()));
    assert_eq!(account_balance(client, GY, "voucher_available").await?, "0.00");
    assert_eq!(account_balance(client, GY, "budget").await?, "9100000.00");

    stop_and_verify(scene).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_period_touching_late_december_2026_is_refused_until_the_2027_notice_is_published()
-> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let bureau = staff(Role::Bureau, GY);
    complete(client, &scene.applicant, &scene.contract_id).await?;
    let redemption_id = approved_redemption(client, GY, &scene.provider, &scene.contract_id).await?;

    // Friday 2026-12-18: the period's working days would be Dec 21, 22, 23, 24, 25; from Dec 22 on they may
    // be moved by the 2027 notice, which is not published.
    set_clock(client, &nine_am("2026-12-18")).await?;
    let body = json!({ "jurisdiction": "guiyang", "redemption_ids": [redemption_id] });
    let refusal =
        refuse(client, "/v1/announcements", Some(&bureau), &body, 422, "calendar_year_unknown").await?;
    let detail = refusal.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("2027"), "the refusal names the missing year: {refusal:?}");

    let year = json!({ "year": 2027, "notice": "test notice (not the State Council's)",
        "holidays": ["2027-01-01"], "working_weekends": [] });
    accept(client, "/v1/calendar/years", Some(&bureau), &year, 201, &["CalendarYearPublished"]).await?;
    let (_, closes_on) = announce(client, GY, &[&redemption_id]).await?;
    assert_eq!(closes_on, "2026-12-25");

    stop_and_verify(scene).await
}
