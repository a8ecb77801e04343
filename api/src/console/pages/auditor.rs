//! The auditor's pages: any voucher's or contract's history with its records and hashes and whether the
//! chain checks there; a single record by position; the ledger "as of" a chosen date (the API's
//! `as_of_date`: as the ledger stood at the end of that business date); audit samples (draw, see, record
//! findings); anomalies, each linking to its records; downloads (the API's CSV of each table, as of the
//! chosen date too).
//!
//! Reads of a past state go through the API's own routes with the session's token (`act::query`), so the
//! auditor reads what the API lets an auditor read, with the same as-of rule; the main page's current
//! trial balance and anomalies (what an auditor reads there without an as-of date) are read from the read
//! models directly, as the API's routes read them, only the page of anomalies shown converted. Every action
//! goes through `act::command`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::{Jurisdiction, Role};
use ledger_proto::{ChainVerifier, Head};
use maud::{Markup, html};
use serde_json::{Value, json};
use uuid::Uuid;

use super::Fields;
use crate::console::act;
use crate::console::guard::require_role;
use crate::console::layout::{self, Shown, csrf_field, idempotency_field, page};
use crate::console::list::{Cell, List, col};
use crate::console::session::Ctx;
use crate::console::state::Console;

/// This role's routes.
pub fn routes() -> Router<Console> {
    Router::new()
        .route("/auditor", get(home))
        .route("/auditor/history", get(lookup))
        .route("/auditor/vouchers/{id}", get(voucher_history))
        .route("/auditor/contracts/{id}", get(contract_history))
        .route("/auditor/records/{position}", get(record))
        .route("/auditor/samples", post(draw))
        .route("/auditor/samples/{id}", get(sample))
        .route("/auditor/samples/{id}/findings", post(finding))
        .route("/auditor/download/{table}", get(download))
}

const ROLES: &[Role] = &[Role::Auditor];

/// The trial balance of a jurisdiction as of the chosen date.
pub const TRIAL_BALANCE: List = List {
    id: "trial-balance",
    columns: &[
        col("jurisdiction", "field.jurisdiction", Cell::Name),
        col("account", "field.account", Cell::Name),
        col("balance", "field.balance", Cell::Money),
    ],
    filters: &["jurisdiction", "account"],
    sort: "account",
    descending: false,
};

/// The audit samples drawn.
pub const SAMPLES: List = List {
    id: "samples",
    columns: &[
        col("sample_id", "field.sample_id", Cell::Code),
        col("jurisdiction", "field.jurisdiction", Cell::Name),
        col("year", "field.fiscal_year", Cell::Text),
        col("size", "field.size", Cell::Text),
        col("population", "field.population", Cell::Text),
        col("findings_count", "field.findings", Cell::Text),
        col("drawn_on", "field.drawn_on", Cell::Date),
    ],
    filters: &["jurisdiction", "year"],
    sort: "drawn_on",
    descending: true,
};

/// Anomaly signals.
pub const ANOMALIES: List = List {
    id: "anomalies",
    columns: &[
        col("kind", "field.kind", Cell::Name),
        col("subject", "field.subject", Cell::Code),
        col("jurisdictions", "field.jurisdictions", Cell::Items),
        col("detail", "field.detail", Cell::Text),
    ],
    filters: &["kind"],
    sort: "kind",
    descending: false,
};

/// The records of a history (a voucher's or a contract's).
pub const RECORDS: List = List {
    id: "records",
    columns: &[
        col("position", "field.position", Cell::Text),
        col("type", "field.type", Cell::Text),
        col("business_date", "field.business_date", Cell::Date),
        col("stream", "field.stream", Cell::Code),
        col("hash", "field.hash", Cell::Code),
        col("prev_hash", "field.prev_hash", Cell::Code),
        col("chain", "field.chain", Cell::Name),
    ],
    filters: &["type", "chain"],
    sort: "position",
    descending: false,
};

/// The contracts of a sample, with their findings.
pub const SAMPLE_CONTRACTS: List = List {
    id: "sample-contracts",
    columns: &[
        col("contract_id", "field.contract_id", Cell::Code),
        col("finding", "field.finding", Cell::Name),
        col("note", "field.note", Cell::Text),
    ],
    filters: &["finding"],
    sort: "contract_id",
    descending: false,
};

/// The tables an auditor downloads as CSV: (name, the API's path, catalogue key).
const DOWNLOADS: &[(&str, &str, &str)] = &[
    ("vouchers", "/v1/vouchers", "download.vouchers"),
    ("redemptions", "/v1/redemptions", "download.redemptions"),
    ("batches", "/v1/batches", "download.batches"),
    ("budgets", "/v1/budgets", "download.budgets"),
    ("anomalies", "/v1/anomalies", "download.anomalies"),
    ("trial-balance-guiyang", "/v1/trial-balance/guiyang", "download.trial_balance_guiyang"),
    ("trial-balance-guian", "/v1/trial-balance/guian", "download.trial_balance_guian"),
];

/// The chosen as-of date (`?as_of=YYYY-MM-DD`), if a valid one.
fn as_of(ctx: &Ctx) -> Option<chrono::NaiveDate> {
    ctx.param("as_of").and_then(|text| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
}

/// `?as_of_date=...` for the API, or nothing.
fn as_of_query(ctx: &Ctx, first: bool) -> String {
    as_of(ctx).map_or_else(String::new, |date| format!("{}as_of_date={date}", if first { '?' } else { '&' }))
}

/// `GET /auditor`.
pub async fn home(State(console): State<Console>, ctx: Ctx) -> Response {
    if let Err(response) = require_role(&ctx, ROLES) {
        return response.into_response();
    }
    render_home(&console, &ctx, None).await
}

async fn render_home(console: &Console, ctx: &Ctx, refused: Option<&Shown>) -> Response {
    // The ledger as of the chosen date: the trial balance of both jurisdictions, through the API (the
    // as-of rule, its limits and refusals); without a date, the current state from the read models.
    let mut balances = Vec::new();
    let mut position = Value::Null;
    let mut problem = refused.cloned();
    if as_of(ctx).is_none() {
        let projections =
            console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        position = json!(projections.position());
        for jurisdiction in [Jurisdiction::Guiyang, Jurisdiction::Guian] {
            for account in crate::views::trial_balance(&projections, jurisdiction) {
                balances.push(json!({
                    "jurisdiction": jurisdiction.as_str(),
                    "account": account["account"],
                    "balance": account["balance"],
                }));
            }
        }
    }
    for jurisdiction in
        [Jurisdiction::Guiyang, Jurisdiction::Guian].into_iter().filter(|_| as_of(ctx).is_some())
    {
        let path = format!("/v1/trial-balance/{jurisdiction}{}", as_of_query(ctx, true));
        match act::query(console, ctx, &path).await {
            Ok(body) => {
                position = body["position"].clone();
                for account in body["accounts"].as_array().cloned().unwrap_or_default() {
                    balances.push(json!({
                        "jurisdiction": jurisdiction.as_str(),
                        "account": account["account"],
                        "balance": account["balance"],
                    }));
                }
            }
            Err(shown) => {
                problem.get_or_insert(shown);
            }
        }
    }
    let balances_selected = TRIAL_BALANCE.select(ctx, balances);
    if TRIAL_BALANCE.wants_csv(ctx) {
        return TRIAL_BALANCE.csv(&balances_selected);
    }
    let samples_selected = samples_selected(console, ctx);
    if SAMPLES.wants_csv(ctx) {
        return SAMPLES.csv(&samples_selected);
    }
    // Every signal (an auditor reads them all, `GET /v1/anomalies`), only the page shown converted.
    let anomalies_selected = {
        let projections =
            console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        // The kind (the filter and the default sort) without building the signal; a signal is built for
        // the page shown, or for a search or another sort.
        let fired: Vec<_> = projections.anomalies.fired().collect();
        ANOMALIES.select_with(
            ctx,
            fired,
            |fired, field| match field {
                "kind" => Value::from(fired.kind().as_str()),
                _ => fired
                    .signal()
                    .map(|signal| crate::console::list::pick(&signal, field))
                    .unwrap_or_default(),
            },
            |fired| fired.signal().map(|signal| crate::views::to_json(&signal)).unwrap_or_default(),
        )
    };
    if ANOMALIES.wants_csv(ctx) {
        return ANOMALIES.csv(&anomalies_selected);
    }
    let today = super::today(console);
    let chosen = as_of(ctx).map(|date| date.to_string()).unwrap_or_default();
    let anomaly_records = |row: &Value| -> Markup {
        html! {
            @for position in row["records"].as_array().cloned().unwrap_or_default() {
                @let position = position.as_u64().unwrap_or_default();
                a href=(format!("/auditor/records/{position}")) data-testid="anomaly-record" {
                    (ctx.lang.tf("auditor.record_link", &[("position", &position.to_string())]))
                }
                " "
            }
        }
    };
    let main = html! {
        (layout::outcome(ctx, problem.as_ref()))
        section aria-labelledby="as-of-heading" {
            h2 #as-of-heading { (ctx.t("auditor.as_of")) }
            form method="get" action="/auditor" data-testid="as-of-form" {
                label for="as-of" { (ctx.t("auditor.as_of_date")) }
                input type="date" id="as-of" name="as_of" value=(chosen) max=(today.to_string()) data-testid="as-of-date";
                button type="submit" data-testid="as-of-submit" { (ctx.t("auditor.as_of_show")) }
            }
            p data-testid="as-of-shown" data-position=(position.as_u64().unwrap_or_default()) {
                @if let Some(date) = as_of(ctx) {
                    (ctx.lang.tf("auditor.as_of_at", &[("date", &ctx.lang.date(date)), ("position", &position.to_string())]))
                } @else {
                    (ctx.lang.tf("auditor.as_of_now", &[("position", &position.to_string())]))
                }
            }
            (TRIAL_BALANCE.render(ctx, &balances_selected, None))
        }
        section aria-labelledby="history-heading" {
            h2 #history-heading { (ctx.t("auditor.history")) }
            form method="get" action="/auditor/history" data-testid="history-form" {
                label for="history-id" { (ctx.t("auditor.history_id")) }
                input type="text" id="history-id" name="id" required spellcheck="false" autocomplete="off" data-testid="history-id";
                button type="submit" data-testid="history-submit" { (ctx.t("auditor.history_show")) }
            }
        }
        section aria-labelledby="samples-heading" {
            h2 #samples-heading { (ctx.t("auditor.samples")) }
            (draw_form(ctx, today))
            (SAMPLES.render(ctx, &samples_selected, Some(&|row: &Value| html! {
                a href=(format!("/auditor/samples/{}", row["sample_id"].as_str().unwrap_or_default())) data-testid="sample-open" {
                    (ctx.t("auditor.sample_open"))
                }
            })))
        }
        section aria-labelledby="anomalies-heading" {
            h2 #anomalies-heading { (ctx.t("auditor.anomalies")) }
            (ANOMALIES.render(ctx, &anomalies_selected, Some(&anomaly_records)))
        }
        section aria-labelledby="downloads-heading" {
            h2 #downloads-heading { (ctx.t("auditor.downloads")) }
            p { (ctx.t("auditor.downloads_intro")) }
            ul data-testid="downloads" {
                @for (name, _, key) in DOWNLOADS {
                    li { a href=(format!("/auditor/download/{name}{}", as_of_query(ctx, true))) download data-testid=(format!("download-{name}")) { (ctx.t(key)) } }
                }
            }
        }
    };
    let status = refused.map_or(StatusCode::OK, |problem| problem.status);
    layout::respond(status, page(ctx, ctx.t("auditor.title"), main))
}

fn draw_form(ctx: &Ctx, today: chrono::NaiveDate) -> Markup {
    use chrono::Datelike as _;
    html! {
        form method="post" action="/auditor/samples" data-testid="draw-form" {
            (csrf_field(ctx))
            (idempotency_field())
            label for="draw-jurisdiction" { (ctx.t("field.jurisdiction")) }
            select id="draw-jurisdiction" name="jurisdiction" data-testid="draw-jurisdiction" {
                @for jurisdiction in [Jurisdiction::Guiyang, Jurisdiction::Guian] {
                    option value=(jurisdiction.as_str()) { (ctx.t(&format!("value.{}", jurisdiction.as_str()))) }
                }
            }
            label for="draw-year" { (ctx.t("field.fiscal_year")) }
            input type="number" id="draw-year" name="year" value=(today.year()) required data-testid="draw-year";
            label for="draw-size" { (ctx.t("field.size")) }
            input type="number" id="draw-size" name="size" value="5" min="1" required data-testid="draw-size";
            label for="draw-seed" { (ctx.t("field.seed")) }
            input type="text" id="draw-seed" name="seed" required data-testid="draw-seed";
            button type="submit" data-testid="draw-submit" { (ctx.t("auditor.draw")) }
        }
    }
}

/// Every sample as a row (the lifecycle model keeps them; an auditor reads them all).
/// The samples, filtered, sorted and paged by the request; only the rows shown are converted (a sample holds
/// its drawn contracts and their findings, which the list does not show).
fn samples_selected(console: &Console, ctx: &Ctx) -> crate::console::list::Selected {
    let projections =
        console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let row = |sample: &projections::lifecycle::SampleView| {
        let mut row = crate::views::to_json(sample);
        row["findings_count"] = json!(sample.findings.len());
        row
    };
    SAMPLES.select_with(
        ctx,
        projections.lifecycle.samples(),
        |sample, field| match field {
            "findings_count" => json!(sample.findings.len()),
            _ => crate::console::list::pick(*sample, field),
        },
        row,
    )
}

/// `GET /auditor/history?id=...`: a voucher's or a contract's history, whichever the id names.
pub async fn lookup(State(console): State<Console>, ctx: Ctx) -> Response {
    if let Err(response) = require_role(&ctx, ROLES) {
        return response.into_response();
    }
    let id = ctx.param("id").unwrap_or_default().trim().to_owned();
    let Ok(uuid) = id.parse::<Uuid>() else {
        let shown = Shown {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_id".into(),
            title: ctx.t("auditor.history_not_found").to_owned(),
            detail: ctx.lang.tf("auditor.history_not_an_id", &[("id", &id)]),
        };
        return render_home(&console, &ctx, Some(&shown)).await;
    };
    let (voucher, contract) = {
        let projections =
            console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        (projections.balances.voucher(uuid).is_some(), projections.lifecycle.contract(uuid).is_some())
    };
    if voucher {
        Redirect::to(&format!("/auditor/vouchers/{uuid}")).into_response()
    } else if contract {
        Redirect::to(&format!("/auditor/contracts/{uuid}")).into_response()
    } else {
        let shown = Shown {
            status: StatusCode::NOT_FOUND,
            code: "not_found".into(),
            title: ctx.t("auditor.history_not_found").to_owned(),
            detail: ctx.lang.tf("auditor.history_unknown", &[("id", &id)]),
        };
        render_home(&console, &ctx, Some(&shown)).await
    }
}

/// Whether the record at `position` checks: its stored hash is SHA-256 of its predecessor's hash and its
/// bytes, and its envelope links to its predecessor (itself checked the same way against the hash its own
/// envelope carries). `Err` with the reason otherwise. The whole log is checked by `voucher-ledger verify`;
/// this is the check of the records a page shows.
pub async fn chain_checks(console: &Console, position: u64) -> Result<(), String> {
    if position == 0 {
        return Err("position 0".into());
    }
    let from = position.saturating_sub(1).max(1);
    let records = console.app.log.read_batch(from, 2).await.map_err(|error| error.to_string())?;
    let mut verifier = if position == 1 {
        ChainVerifier::new()
    } else {
        let previous = records.first().filter(|record| record.position == position - 1).ok_or("not read")?;
        let envelope = ledger_proto::open(previous).map_err(|error| error.to_string())?;
        let before =
            ledger_proto::record::hash_from_bytes(&envelope.prev_hash).map_err(|error| error.to_string())?;
        let mut verifier = ChainVerifier::resume(Head { position: position - 2, hash: before });
        verifier.check(previous).map_err(|error| error.to_string())?;
        verifier
    };
    let record = records.iter().find(|record| record.position == position).ok_or("not read")?;
    verifier.check(record).map(|_| ()).map_err(|error| error.to_string())
}

/// The records of a history with the chain check of each (`chain`: `checks` or `broken`).
pub async fn checked(console: &Console, records: Vec<Value>) -> Vec<Value> {
    let mut rows = Vec::with_capacity(records.len());
    for mut record in records {
        let position = record["position"].as_u64().unwrap_or_default();
        let check = chain_checks(console, position).await;
        record["chain"] = json!(if check.is_ok() { "checks" } else { "broken" });
        if let Err(reason) = check {
            record["chain_error"] = json!(reason);
        }
        rows.push(record);
    }
    rows
}

/// The page of a history: `title`, a summary, the records with their chain check, a CSV link, the way back;
/// with `record_links`, each record links to its page (`/auditor/records/{position}`).
pub fn history_rows_page(
    ctx: &Ctx,
    title: &str,
    summary: Markup,
    records: Vec<Value>,
    csv: &str,
    back: &str,
    record_links: bool,
) -> Response {
    let all_check = records.iter().all(|record| record["chain"] == "checks");
    let selected = RECORDS.select(ctx, records);
    if RECORDS.wants_csv(ctx) {
        return RECORDS.csv(&selected);
    }
    let link = |row: &Value| -> Markup {
        let position = row["position"].as_u64().unwrap_or_default();
        html! {
            a href=(format!("/auditor/records/{position}")) { (ctx.lang.tf("auditor.record_link", &[("position", &position.to_string())])) }
        }
    };
    let main = html! {
        (summary)
        p data-testid="chain-verdict" data-checks=(all_check) class=(if all_check { "notice" } else { "problem" }) role="status" {
            @if all_check { (ctx.t("auditor.chain_checks")) } @else { (ctx.t("auditor.chain_broken")) }
        }
        p { a href=(csv) download data-testid="history-csv" { (ctx.t("auditor.history_csv")) } }
        (RECORDS.render(ctx, &selected, if record_links { Some(&link) } else { None }))
        p { a href=(back) { (ctx.t("history.back")) } }
    };
    layout::respond(StatusCode::OK, page(ctx, title, main))
}

fn refused_page(ctx: &Ctx, shown: &Shown) -> Response {
    let main = html! {
        (layout::outcome(ctx, Some(shown)))
        p { a href="/auditor" { (ctx.t("auditor.back")) } }
    };
    layout::respond(shown.status, page(ctx, ctx.t("auditor.title"), main))
}

/// `GET /auditor/vouchers/{id}`: the voucher, its records and their chain check.
pub async fn voucher_history(State(console): State<Console>, ctx: Ctx, Path(id): Path<String>) -> Response {
    if let Err(response) = require_role(&ctx, ROLES) {
        return response.into_response();
    }
    let voucher = act::query(&console, &ctx, &format!("/v1/vouchers/{id}")).await;
    let history = act::query(&console, &ctx, &format!("/v1/vouchers/{id}/history")).await;
    let (voucher, history) = match (voucher, history) {
        (Ok(voucher), Ok(history)) => (voucher, history),
        (Err(shown), _) | (_, Err(shown)) => return refused_page(&ctx, &shown),
    };
    let records = checked(&console, history["records"].as_array().cloned().unwrap_or_default()).await;
    let summary = html! {
        dl.summary data-testid="voucher-summary" {
            dt { (ctx.t("field.voucher_id")) } dd { code { (id) } }
            dt { (ctx.t("field.applicant")) } dd { code { (voucher["applicant"].as_str().unwrap_or_default()) } }
            dt { (ctx.t("field.face_value")) } dd { (ctx.lang.money_text(voucher["face_value"].as_str().unwrap_or_default())) }
            dt { (ctx.t("field.available")) } dd { (ctx.lang.money_text(voucher["available"].as_str().unwrap_or_default())) }
            dt { (ctx.t("field.committed")) } dd { (ctx.lang.money_text(voucher["committed"].as_str().unwrap_or_default())) }
        }
    };
    let title = ctx.t("auditor.voucher_history");
    history_rows_page(
        &ctx,
        title,
        summary,
        records,
        &format!("/auditor/vouchers/{id}?records_format=csv"),
        "/auditor",
        true,
    )
}

/// `GET /auditor/contracts/{id}`: the contract's dossier, its records and their chain check.
pub async fn contract_history(State(console): State<Console>, ctx: Ctx, Path(id): Path<String>) -> Response {
    if let Err(response) = require_role(&ctx, ROLES) {
        return response.into_response();
    }
    let dossier = match act::query(&console, &ctx, &format!("/v1/contracts/{id}/dossier")).await {
        Ok(dossier) => dossier,
        Err(shown) => return refused_page(&ctx, &shown),
    };
    let records = checked(&console, dossier["records"].as_array().cloned().unwrap_or_default()).await;
    let contract = &dossier["contract"];
    let documents = dossier["documents"].as_array().cloned().unwrap_or_default();
    let summary = html! {
        dl.summary data-testid="contract-summary" {
            dt { (ctx.t("field.contract_id")) } dd { code { (id) } }
            dt { (ctx.t("field.status")) } dd { (crate::console::list::name(&ctx, contract["status"].as_str().unwrap_or_default())) }
            dt { (ctx.t("field.provider")) } dd { code { (contract["provider"].as_str().unwrap_or_default()) } }
            dt { (ctx.t("field.applicant")) } dd { code { (contract["applicant"].as_str().unwrap_or_default()) } }
            dt { (ctx.t("field.total")) } dd { (ctx.lang.money_text(contract["total"].as_str().unwrap_or_default())) }
            dt { (ctx.t("field.voucher_amount")) } dd { (ctx.lang.money_text(contract["voucher_amount"].as_str().unwrap_or_default())) }
        }
        h2 { (ctx.t("field.documents")) }
        ul data-testid="documents" {
            @for document in &documents {
                li {
                    (crate::console::list::name(&ctx, document["document"].as_str().unwrap_or_default())) ": "
                    code { (document["sha256"].as_str().unwrap_or_default()) }
                }
            }
        }
        h2 { (ctx.t("auditor.records")) }
    };
    let title = ctx.t("auditor.contract_history");
    history_rows_page(
        &ctx,
        title,
        summary,
        records,
        &format!("/auditor/contracts/{id}?records_format=csv"),
        "/auditor",
        true,
    )
}

/// `GET /auditor/records/{position}`: one record of the log, decoded, with its hashes and chain check.
pub async fn record(State(console): State<Console>, ctx: Ctx, Path(position): Path<String>) -> Response {
    if let Err(response) = require_role(&ctx, ROLES) {
        return response.into_response();
    }
    let not_found = || Shown {
        status: StatusCode::NOT_FOUND,
        code: "record_not_found".into(),
        title: ctx.t("auditor.record_not_found").to_owned(),
        detail: ctx.lang.tf("auditor.record_not_found_detail", &[("position", &position)]),
    };
    let Ok(number) = position.parse::<u64>() else { return refused_page(&ctx, &not_found()) };
    let records = match console.app.log.read_batch(number, 1).await {
        Ok(records) => records,
        Err(_) => return refused_page(&ctx, &not_found()),
    };
    let Some(stored) = records.first().filter(|record| record.position == number) else {
        return refused_page(&ctx, &not_found());
    };
    let Ok(recorded) = ledger_proto::decode_record(stored) else { return refused_page(&ctx, &not_found()) };
    let check = chain_checks(&console, number).await;
    let payload =
        serde_json::to_string_pretty(&ledger_proto::event_payload_json(&recorded.event)).unwrap_or_default();
    let main = html! {
        dl.summary data-testid="record-summary" {
            dt { (ctx.t("field.position")) } dd { (number) }
            dt { (ctx.t("field.type")) } dd { (recorded.event.event_type()) }
            dt { (ctx.t("field.business_date")) } dd { (ctx.lang.date(recorded.meta.business_date)) }
            dt { (ctx.t("field.hash")) } dd { code data-testid="record-hash" { (hex::encode(recorded.hash)) } }
            dt { (ctx.t("field.prev_hash")) } dd { code { (hex::encode(recorded.prev_hash)) } }
        }
        p data-testid="chain-verdict" data-checks=(check.is_ok()) class=(if check.is_ok() { "notice" } else { "problem" }) role="status" {
            @match &check {
                Ok(()) => { (ctx.t("auditor.chain_checks")) }
                Err(reason) => { (ctx.t("auditor.chain_broken")) " " (reason) }
            }
        }
        h2 { (ctx.t("auditor.payload")) }
        pre.payload tabindex="0" { (payload) }
        p { a href="/auditor" { (ctx.t("auditor.back")) } }
    };
    layout::respond(
        StatusCode::OK,
        page(&ctx, &ctx.lang.tf("auditor.record_title", &[("position", &position)]), main),
    )
}

/// `POST /auditor/samples`: draws a sample (`POST /v1/audits/samples`) and opens it.
pub async fn draw(State(console): State<Console>, ctx: Ctx, Form(fields): Form<Fields>) -> Response {
    if let Err(response) = require_role(&ctx, ROLES) {
        return response.into_response();
    }
    let number =
        |name: &str| fields.get(name).parse::<i64>().map_or_else(|_| json!(fields.get(name)), |n| json!(n));
    let body = json!({
        "jurisdiction": fields.get("jurisdiction"),
        "year": number("year"),
        "size": number("size"),
        "seed": fields.get("seed"),
    });
    match act::command(&console, &ctx, "/v1/audits/samples", &body, fields.idempotency_key()).await {
        Ok(answer) => {
            let id = answer["sample_id"].as_str().unwrap_or_default();
            Redirect::to(&format!("/auditor/samples/{id}?done=1")).into_response()
        }
        Err(problem) => render_home(&console, &ctx, Some(&problem)).await,
    }
}

/// `GET /auditor/samples/{id}`: the sample's contracts (each linking to its history) and the findings form.
pub async fn sample(State(console): State<Console>, ctx: Ctx, Path(id): Path<String>) -> Response {
    if let Err(response) = require_role(&ctx, ROLES) {
        return response.into_response();
    }
    render_sample(&console, &ctx, &id, None).await
}

async fn render_sample(console: &Console, ctx: &Ctx, id: &str, refused: Option<&Shown>) -> Response {
    let sample = match act::query(console, ctx, &format!("/v1/audits/samples/{id}")).await {
        Ok(sample) => sample,
        Err(shown) => return refused_page(ctx, &shown),
    };
    let findings = sample["findings"].as_array().cloned().unwrap_or_default();
    let rows: Vec<Value> = sample["contract_ids"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|contract| {
            let finding = findings.iter().rev().find(|finding| finding["contract_id"] == contract);
            json!({
                "contract_id": contract,
                "finding": finding.map_or(json!("pending"), |finding| finding["finding"].clone()),
                "note": finding.map_or(Value::Null, |finding| finding["note"].clone()),
            })
        })
        .collect();
    let selected = SAMPLE_CONTRACTS.select(ctx, rows);
    if SAMPLE_CONTRACTS.wants_csv(ctx) {
        return SAMPLE_CONTRACTS.csv(&selected);
    }
    let actions = |row: &Value| -> Markup {
        let contract = row["contract_id"].as_str().unwrap_or_default();
        html! {
            a href=(format!("/auditor/contracts/{contract}")) data-testid="sample-contract-history" { (ctx.t("auditor.history_show")) }
            form.inline method="post" action=(format!("/auditor/samples/{id}/findings")) data-testid="finding-form" {
                (csrf_field(ctx))
                (idempotency_field())
                input type="hidden" name="contract_id" value=(contract);
                label for=(format!("finding-{contract}")) { (ctx.t("field.finding")) }
                select id=(format!("finding-{contract}")) name="finding" data-testid="finding-select" {
                    @for finding in ["compliant", "irregular", "refused_cooperation"] {
                        option value=(finding) { (crate::console::list::name(ctx, finding)) }
                    }
                }
                label for=(format!("note-{contract}")) { (ctx.t("field.note")) }
                input type="text" id=(format!("note-{contract}")) name="note" data-testid="finding-note";
                button type="submit" data-testid="finding-submit" { (ctx.t("auditor.record_finding")) }
            }
        }
    };
    let main = html! {
        (layout::outcome(ctx, refused))
        dl.summary data-testid="sample-summary" {
            dt { (ctx.t("field.sample_id")) } dd { code { (id) } }
            dt { (ctx.t("field.jurisdiction")) } dd { (crate::console::list::name(ctx, sample["jurisdiction"].as_str().unwrap_or_default())) }
            dt { (ctx.t("field.fiscal_year")) } dd { (sample["year"]) }
            dt { (ctx.t("field.seed")) } dd { code { (sample["seed"].as_str().unwrap_or_default()) } }
            dt { (ctx.t("field.population")) } dd { (sample["population"]) }
            dt { (ctx.t("field.as_of_position")) } dd { (sample["as_of_position"]) }
        }
        (SAMPLE_CONTRACTS.render(ctx, &selected, Some(&actions)))
        p { a href="/auditor" { (ctx.t("auditor.back")) } }
    };
    let status = refused.map_or(StatusCode::OK, |problem| problem.status);
    layout::respond(status, page(ctx, ctx.t("auditor.sample_title"), main))
}

/// `POST /auditor/samples/{id}/findings`: records a finding (`POST /v1/audits/samples/{id}/findings`).
pub async fn finding(
    State(console): State<Console>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(response) = require_role(&ctx, ROLES) {
        return response.into_response();
    }
    let body = json!({ "contract_id": fields.get("contract_id"), "finding": fields.get("finding"), "note": fields.get("note") });
    let path = format!("/v1/audits/samples/{id}/findings");
    match act::command(&console, &ctx, &path, &body, fields.idempotency_key()).await {
        Ok(_) => Redirect::to(&format!("/auditor/samples/{id}?done=1")).into_response(),
        Err(problem) => render_sample(&console, &ctx, &id, Some(&problem)).await,
    }
}

/// `GET /auditor/download/{table}[?as_of=...]`: the API's CSV of a table, as of the chosen date.
pub async fn download(State(console): State<Console>, ctx: Ctx, Path(table): Path<String>) -> Response {
    if let Err(response) = require_role(&ctx, ROLES) {
        return response.into_response();
    }
    let Some((name, path, _)) = DOWNLOADS.iter().find(|(name, _, _)| *name == table) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let name = match as_of(&ctx) {
        Some(date) => format!("{name}-{date}"),
        None => (*name).to_owned(),
    };
    act::csv_download(&console, &ctx, &format!("{path}{}", as_of_query(&ctx, true)), &name).await
}
