//! Redemption announcements run 5 working days of the published holiday calendar (SPEC §3, §6, Measures
//! art. 11): across the 2025 National Day holidays and an adjusted working Saturday, and refused with a
//! clear error when the period would need a year without calendar data, never guessed.

use domain::{Jurisdiction, PolicyBook, Role};
use e2e::{
    accept, account_balance, announce, approved_redemption, complete, nine_am, read, refuse, set_clock, staff,
};
use serde_json::json;

use super::{GY, scene};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_published_on_2025_09_30_closes_at_the_end_of_2025_10_14() -> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let bureau = staff(Role::Bureau, GY);
    set_clock(client, &nine_am("2025-09-01")).await?;
    complete(client, &scene.applicant, &scene.contract_id).await?;
    let redemption_id = approved_redemption(client, GY, &scene.provider, &scene.contract_id).await?;

    // Published on Tuesday 2025-09-30. Oct 1-8 are holidays; the working days after are Thu Oct 9, Fri
    // Oct 10, Sat Oct 11 (an adjusted working day), Mon Oct 13 and Tue Oct 14.
    set_clock(client, &nine_am("2025-09-30")).await?;
    let (announcement_id, closes_on) = announce(client, GY, &[&redemption_id]).await?;
    assert_eq!(closes_on, "2025-10-14");
    let list = read(client, &format!("/v1/announcements/{announcement_id}"), None).await?;
    assert_eq!(list["announced_on"], "2025-09-30", "{list}");
    assert_eq!(list["closes_on"], "2025-10-14", "{list}");
    assert_eq!(list["closed"], false, "{list}");

    // The last minutes of 2025-10-14 are still inside the period: an objection is accepted, and the item is
    // not payable yet.
    set_clock(client, "2025-10-14T23:50:00+08:00").await?;
    let objection = json!({ "target": { "kind": "redemption", "redemption_id": redemption_id },
        "text": "the report is dated before the samples arrived" });
    let answer = accept(client, "/v1/objections", None, &objection, 201, &["ObjectionFiled"]).await?;
    let objection_id = answer.body["objection_id"].as_str().unwrap_or_default().to_owned();
    let disbursement = format!("/v1/redemptions/{redemption_id}/disbursement");
    let pay = json!({ "payment_reference": "GY-2025-1015-001" });
    refuse(client, &disbursement, Some(&bureau), &pay, 422, "not_payable").await?;
    let dismiss = json!({ "ruling": "dismissed", "reason": "the samples were received on 2025-08-20" });
    let ruling = format!("/v1/objections/{objection_id}/ruling");
    accept(client, &ruling, Some(&bureau), &dismiss, 200, &["ObjectionRuled"]).await?;

    // From 2025-10-15 the period is over: the list closes, late objections are refused, and the item is paid.
    set_clock(client, "2025-10-15T00:00:01+08:00").await?;
    let list = read(client, &format!("/v1/announcements/{announcement_id}"), None).await?;
    assert_eq!(list["closed"], true, "{list}");
    assert_eq!(list["closed_on"], "2025-10-15", "{list}");
    assert_eq!(list["items"][0]["status"], "payable", "{list}");
    let late =
        json!({ "target": { "kind": "redemption", "redemption_id": redemption_id }, "text": "too late" });
    let refusal = refuse(client, "/v1/objections", None, &late, 422, "announcement_closed").await;
    let paid = accept(client, &disbursement, Some(&bureau), &pay, 200, &["RedemptionDisbursed"]).await?;
    assert_eq!(paid.body["amount"], "80000.00", "{paid:?}");
    assert_eq!(account_balance(client, GY, "disbursed").await?, "80000.00");

    scene.server.stop().await;
    refusal.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_whose_period_needs_a_year_without_calendar_data_is_refused() -> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let bureau = staff(Role::Bureau, GY);
    complete(client, &scene.applicant, &scene.contract_id).await?;
    let redemption_id = approved_redemption(client, GY, &scene.provider, &scene.contract_id).await?;

    // A successor policy in force 2026-01-01..2027-12-31 (the shipped one's fields, a new id and window).
    let shipped = PolicyBook::shipped();
    let mut successor = serde_json::to_value(
        shipped.versions().first().ok_or_else(|| anyhow::anyhow!("no shipped policy"))?,
    )?;
    successor["id"] = json!("measures-2026");
    successor["effective_from"] = json!("2026-01-01");
    successor["effective_until"] = json!("2027-12-31");
    // Both jurisdictions are named, so both bureaus sign it (SPEC §3 "Who publishes").
    accept(client, "/v1/policies", Some(&bureau), &successor, 201, &["PolicySigned"]).await?;
    let guian_bureau = staff(Role::Bureau, Jurisdiction::Guian);
    accept(client, "/v1/policies", Some(&guian_bureau), &successor, 201, &["PolicySigned"]).await?;

    // Monday 2026-12-28: the 5 working days after it run into 2027, whose calendar is not published.
    set_clock(client, &nine_am("2026-12-28")).await?;
    let body = json!({ "jurisdiction": "guiyang", "redemption_ids": [redemption_id] });
    let refusal =
        refuse(client, "/v1/announcements", Some(&bureau), &body, 422, "calendar_year_unknown").await?;
    let detail = refusal.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("2027"), "the refusal names the missing year: {refusal:?}");

    // Once the bureau publishes 2027 (here a test notice with only New Year's Day off), the same list is
    // accepted: Dec 29, 30, 31, (Jan 1 off, weekend), Jan 4, Jan 5.
    let year = json!({ "year": 2027, "notice": "test notice (not the State Council's)", "holidays": ["2027-01-01"],
        "working_weekends": [] });
    accept(client, "/v1/calendar/years", Some(&bureau), &year, 201, &["CalendarYearPublished"]).await?;
    let (_, closes_on) = announce(client, GY, &[&redemption_id]).await?;
    assert_eq!(closes_on, "2027-01-05");

    scene.server.stop().await;
    Ok(())
}
