//! The enterprise's and the project entity's page: open batches and claiming a voucher; my vouchers; my
//! contracts with what I can do to each (sign, confirm the service complete, rate); the history of each
//! voucher and contract with its records and hashes.
//!
//! The rows are read from the read models for this applicant only (its credit code, from the session);
//! every action goes through the API's route (`act::command`), so the API's rules refuse what the applicant
//! may not do, with their stable code and message shown on the page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::{Actor, Role};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::Fields;
use super::auditor::{checked, history_rows_page};
use crate::console::act;
use crate::console::guard::require_role;
use crate::console::layout::{self, Shown, csrf_field, idempotency_field, page};
use crate::console::list::{Cell, List, col};
use crate::console::session::Ctx;
use crate::console::state::Console;

/// This role's routes.
pub fn routes() -> Router<Console> {
    Router::new()
        .route("/applicant", get(home))
        .route("/applicant/claims", post(claim))
        .route("/applicant/contracts/{id}/{action}", post(contract_action))
        .route("/applicant/vouchers/{id}", get(voucher_history))
        .route("/applicant/contracts/{id}", get(contract_history))
}

const ROLES: &[Role] = &[Role::Enterprise, Role::ProjectEntity];

/// Batches open for claims today.
pub const BATCHES: List = List {
    id: "open-batches",
    columns: &[
        col("name", "field.name", Cell::Text),
        col("jurisdiction", "field.jurisdiction", Cell::Name),
        col("fiscal_year", "field.fiscal_year", Cell::Text),
        col("face_value", "field.face_value", Cell::Money),
        col("remaining", "field.remaining", Cell::Money),
        col("claim_closes", "field.claim_closes", Cell::Date),
        col("valid_until", "field.valid_until", Cell::Date),
    ],
    filters: &["jurisdiction", "fiscal_year"],
    sort: "claim_closes",
    descending: false,
};

/// My vouchers with their balances.
pub const VOUCHERS: List = List {
    id: "my-vouchers",
    columns: &[
        col("voucher_id", "field.voucher_id", Cell::Code),
        col("face_value", "field.face_value", Cell::Money),
        col("available", "field.available", Cell::Money),
        col("committed", "field.committed", Cell::Money),
        col("issued_on", "field.issued_on", Cell::Date),
        col("valid_until", "field.valid_until", Cell::Date),
    ],
    filters: &["valid_until"],
    sort: "issued_on",
    descending: true,
};

/// My contracts.
pub const CONTRACTS: List = List {
    id: "my-contracts",
    columns: &[
        col("contract_id", "field.contract_id", Cell::Code),
        col("provider", "field.provider", Cell::Code),
        col("category", "field.category", Cell::Name),
        col("total", "field.total", Cell::Money),
        col("voucher_amount", "field.voucher_amount", Cell::Money),
        col("status", "field.status", Cell::Name),
        col("submitted_on", "field.submitted_on", Cell::Date),
    ],
    filters: &["status", "category"],
    sort: "submitted_on",
    descending: true,
};

fn code_of(actor: &Actor) -> String {
    actor.credit_code.as_ref().map(|code| code.as_str().to_owned()).unwrap_or_default()
}

/// The rows of the three lists, for this applicant.
fn rows_of(console: &Console, actor: &Actor) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let today = super::today(console);
    let projections =
        console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let batches = projections
        .balances
        .batches()
        .into_iter()
        .filter(|(view, _)| {
            !view.closed
                && view.guide.claim_opens <= today
                && today <= view.guide.claim_closes
                && actor.jurisdiction == Some(view.guide.jurisdiction)
        })
        .filter_map(|(view, _)| crate::views::batch_row(&projections, view.batch_id))
        .collect();
    let Some(code) = actor.credit_code.as_ref() else { return (batches, Vec::new(), Vec::new()) };
    let vouchers = projections
        .balances
        .vouchers_of(code)
        .into_iter()
        .filter_map(|view| crate::views::voucher_row(&projections, view.voucher_id))
        .collect();
    let contracts = projections
        .lifecycle
        .contracts_where(|view| &view.terms.applicant == code)
        .into_iter()
        .map(crate::views::to_json)
        .collect();
    (batches, vouchers, contracts)
}

/// `GET /applicant`.
pub async fn home(State(console): State<Console>, ctx: Ctx) -> Response {
    let actor = match require_role(&ctx, ROLES) {
        Ok(actor) => actor,
        Err(response) => return response.into_response(),
    };
    render(&console, &ctx, &actor, None)
}

fn render(console: &Console, ctx: &Ctx, actor: &Actor, refused: Option<&Shown>) -> Response {
    let (batches, vouchers, contracts) = rows_of(console, actor);
    let batches_selected = BATCHES.select(ctx, batches);
    if BATCHES.wants_csv(ctx) {
        return BATCHES.csv(&batches_selected);
    }
    let vouchers_selected = VOUCHERS.select(ctx, vouchers);
    if VOUCHERS.wants_csv(ctx) {
        return VOUCHERS.csv(&vouchers_selected);
    }
    let contracts_selected = CONTRACTS.select(ctx, contracts);
    if CONTRACTS.wants_csv(ctx) {
        return CONTRACTS.csv(&contracts_selected);
    }
    let claim = |row: &Value| -> Markup {
        html! {
            form.inline method="post" action="/applicant/claims" data-testid="claim-form" {
                (csrf_field(ctx))
                (idempotency_field())
                input type="hidden" name="batch_id" value=(row["batch_id"].as_str().unwrap_or_default());
                button type="submit" data-testid="claim-submit" { (ctx.t("applicant.claim")) }
            }
        }
    };
    let voucher_actions = |row: &Value| -> Markup {
        html! {
            a href=(format!("/applicant/vouchers/{}", row["voucher_id"].as_str().unwrap_or_default())) data-testid="voucher-history" {
                (ctx.t("applicant.history"))
            }
        }
    };
    let contract_actions = |row: &Value| -> Markup { contract_actions(ctx, row) };
    let main = html! {
        (layout::outcome(ctx, refused))
        p.lead data-testid="applicant-code" { (ctx.lang.tf("applicant.intro", &[("code", &code_of(actor))])) }
        h2 { (ctx.t("applicant.open_batches")) }
        (BATCHES.render(ctx, &batches_selected, Some(&claim)))
        h2 { (ctx.t("applicant.vouchers")) }
        (VOUCHERS.render(ctx, &vouchers_selected, Some(&voucher_actions)))
        h2 { (ctx.t("applicant.contracts")) }
        (CONTRACTS.render(ctx, &contracts_selected, Some(&contract_actions)))
    };
    let status = refused.map_or(StatusCode::OK, |problem| problem.status);
    layout::respond(status, page(ctx, ctx.t("applicant.title"), main))
}

/// A contract's actions: its history, and the forms of what an applicant does next (the API decides).
fn contract_actions(ctx: &Ctx, row: &Value) -> Markup {
    let id = row["contract_id"].as_str().unwrap_or_default();
    let status = row["status"].as_str().unwrap_or_default();
    let signed =
        row["signed_by"].as_array().is_some_and(|parties| parties.iter().any(|party| party == "applicant"));
    let rated = !row["rating"].is_null();
    let action = |name: &str, label: &str| -> Markup {
        html! {
            form.inline method="post" action=(format!("/applicant/contracts/{id}/{name}")) data-testid=(format!("{name}-form")) {
                (csrf_field(ctx))
                (idempotency_field())
                button type="submit" data-testid=(format!("{name}-submit")) { (ctx.t(label)) }
            }
        }
    };
    html! {
        a href=(format!("/applicant/contracts/{id}")) data-testid="contract-history" { (ctx.t("applicant.history")) }
        @if status == "submitted" && !signed { " " (action("sign", "applicant.sign")) }
        @if status == "filed" { " " (action("complete", "applicant.complete")) }
        @if !rated && status == "completed" {
            form.inline method="post" action=(format!("/applicant/contracts/{id}/rate")) data-testid="rate-form" {
                (csrf_field(ctx))
                (idempotency_field())
                @for (field, label) in [("quality", "field.quality"), ("timeliness", "field.timeliness"), ("professionalism", "field.professionalism")] {
                    label for=(format!("{field}-{id}")) { (ctx.t(label)) }
                    select id=(format!("{field}-{id}")) name=(field) data-testid=(format!("rate-{field}")) {
                        @for score in (1..=5).rev() { option value=(score) { (score) } }
                    }
                }
                label for=(format!("text-{id}")) { (ctx.t("field.comment")) }
                input type="text" id=(format!("text-{id}")) name="text" data-testid="rate-text";
                button type="submit" data-testid="rate-submit" { (ctx.t("applicant.rate")) }
            }
        }
    }
}

/// `POST /applicant/claims`: claims a voucher from a batch (`POST /v1/batches/{id}/claims`).
pub async fn claim(State(console): State<Console>, ctx: Ctx, Form(fields): Form<Fields>) -> Response {
    let actor = match require_role(&ctx, ROLES) {
        Ok(actor) => actor,
        Err(response) => return response.into_response(),
    };
    let path = format!("/v1/batches/{}/claims", fields.get("batch_id"));
    match act::command(&console, &ctx, &path, &json!({}), fields.idempotency_key()).await {
        Ok(_) => Redirect::to("/applicant?done=1").into_response(),
        Err(problem) => render(&console, &ctx, &actor, Some(&problem)),
    }
}

/// `POST /applicant/contracts/{id}/{sign|complete|rate}`: the API's signature, completion or rating.
pub async fn contract_action(
    State(console): State<Console>,
    ctx: Ctx,
    Path((id, action)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Response {
    let actor = match require_role(&ctx, ROLES) {
        Ok(actor) => actor,
        Err(response) => return response.into_response(),
    };
    let score =
        |name: &str| fields.get(name).parse::<u8>().map_or_else(|_| json!(fields.get(name)), |n| json!(n));
    let (path, body) = match action.as_str() {
        "sign" => (format!("/v1/contracts/{id}/signature"), json!({})),
        "complete" => (format!("/v1/contracts/{id}/completion"), json!({})),
        "rate" => (
            format!("/v1/contracts/{id}/rating"),
            json!({
                "quality": score("quality"), "timeliness": score("timeliness"),
                "professionalism": score("professionalism"), "text": fields.get("text"),
            }),
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match act::command(&console, &ctx, &path, &body, fields.idempotency_key()).await {
        Ok(_) => Redirect::to("/applicant?done=1").into_response(),
        Err(problem) => render(&console, &ctx, &actor, Some(&problem)),
    }
}

/// `GET /applicant/vouchers/{id}`: my voucher's history (the API's, as the applicant may read it).
pub async fn voucher_history(State(console): State<Console>, ctx: Ctx, Path(id): Path<String>) -> Response {
    if let Err(response) = require_role(&ctx, ROLES) {
        return response.into_response();
    }
    let title = ctx.t("applicant.voucher_history");
    history(
        &console,
        &ctx,
        &format!("/v1/vouchers/{id}/history"),
        title,
        &format!("/applicant/vouchers/{id}"),
    )
    .await
}

/// `GET /applicant/contracts/{id}`: my contract's history (the API's dossier, as the applicant may read it).
pub async fn contract_history(State(console): State<Console>, ctx: Ctx, Path(id): Path<String>) -> Response {
    if let Err(response) = require_role(&ctx, ROLES) {
        return response.into_response();
    }
    let title = ctx.t("applicant.contract_history");
    history(
        &console,
        &ctx,
        &format!("/v1/contracts/{id}/dossier"),
        title,
        &format!("/applicant/contracts/{id}"),
    )
    .await
}

async fn history(console: &Console, ctx: &Ctx, api: &str, title: &str, here: &str) -> Response {
    match act::query(console, ctx, api).await {
        Ok(body) => {
            let records = checked(console, body["records"].as_array().cloned().unwrap_or_default()).await;
            history_rows_page(
                ctx,
                title,
                html! {},
                records,
                &format!("{here}?records_format=csv"),
                "/applicant",
                false,
            )
        }
        Err(shown) => {
            let main = html! {
                (layout::outcome(ctx, Some(&shown)))
                p { a href="/applicant" { (ctx.t("applicant.back")) } }
            };
            layout::respond(shown.status, page(ctx, title, main))
        }
    }
}
