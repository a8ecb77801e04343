//! The service center's pages, for its own jurisdiction: applicants to verify (verify or reject) and signed
//! contracts to file or reject, each through the API's route (`pages::perform`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::{Actor, Role};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::{Fields, Render, perform, seg, text};
use crate::console::guard::{Refusal, require_role};
use crate::console::layout::{self, Shown, back_field, csrf_field, idempotency_field, page};
use crate::console::list::{Cell, List, col};
use crate::console::session::Ctx;
use crate::console::state::Console;

/// This role's routes.
pub fn routes() -> Router<Console> {
    Router::new()
        .route(
            "/service-center",
            get(|State(c): State<Console>, ctx: Ctx| async move { applicants(&c, &ctx, None) }),
        )
        .route(
            "/service-center/contracts",
            get(|State(c): State<Console>, ctx: Ctx| async move { contracts(&c, &ctx, None) }),
        )
        .route("/service-center/act/{action}", post(act))
}

fn staff(ctx: &Ctx) -> Result<Actor, Refusal> {
    require_role(ctx, &[Role::ServiceCenter])
}

fn answer(ctx: &Ctx, refused: Option<&Shown>, title: &str, main: Markup) -> Response {
    let status = refused.map_or(StatusCode::OK, |problem| problem.status);
    layout::respond(status, page(ctx, title, main))
}

/// Registrations waiting for verification.
pub const APPLICANTS_TO_VERIFY: List = List {
    id: "applicants-to-verify",
    columns: &[
        col("name", "field.name", Cell::Text),
        col("credit_code", "field.credit_code", Cell::Code),
        col("kind", "field.kind", Cell::Name),
        col("industry", "field.industry", Cell::Name),
        col("project_code", "field.project_code", Cell::Code),
        col("independent_legal_person", "field.independent_legal_person", Cell::Name),
        col("tax_compliant", "field.tax_compliant", Cell::Name),
    ],
    filters: &["kind", "industry"],
    sort: "registered_at_position",
    descending: false,
};

fn applicants(console: &Console, ctx: &Ctx, refused: Option<&Shown>) -> Response {
    let actor = match staff(ctx) {
        Ok(actor) => actor,
        Err(refusal) => return refusal.into_response(),
    };
    let selected = {
        let projections =
            console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        // In registration order, as the `applicants` table (`crate::views::applicants`).
        let mut pending: Vec<_> = projections
            .applicants
            .all()
            .into_iter()
            .filter(|view| {
                view.status == "pending" && actor.jurisdiction == Some(view.registration.jurisdiction)
            })
            .collect();
        pending.sort_by_key(|view| view.registered_at_position);
        APPLICANTS_TO_VERIFY.select_views(ctx, pending)
    };
    if APPLICANTS_TO_VERIFY.wants_csv(ctx) {
        return APPLICANTS_TO_VERIFY.csv(&selected);
    }
    let decide = |row: &Value| {
        html! {
            form method="post" action="/service-center/act/verify" data-testid="verify-form" {
                (csrf_field(ctx)) (idempotency_field()) (back_field(ctx))
                input type="hidden" name="credit_code" value=(text(row, "credit_code"));
                input type="text" name="reason" placeholder=(ctx.t("field.reason")) aria-label=(ctx.t("field.reason"));
                button type="submit" name="decision" value="verified" data-testid="verify" { (ctx.t("service_center.verify")) }
                button.danger type="submit" name="decision" value="rejected" data-testid="reject-applicant" { (ctx.t("service_center.reject")) }
            }
        }
    };
    let main = html! {
        (layout::outcome(ctx, refused))
        (APPLICANTS_TO_VERIFY.render(ctx, &selected, Some(&decide)))
    };
    answer(ctx, refused, ctx.t("service_center.applicants"), main)
}

/// Contracts both parties signed, waiting to be filed.
pub const CONTRACTS_TO_FILE: List = List {
    id: "contracts-to-file",
    columns: &[
        col("contract_id", "field.contract_id", Cell::Code),
        col("applicant", "field.applicant", Cell::Code),
        col("provider", "field.provider", Cell::Code),
        col("category", "field.category", Cell::Name),
        col("total", "field.total", Cell::Money),
        col("voucher_amount", "field.voucher_amount", Cell::Money),
        col("submitted_on", "field.submitted_on", Cell::Date),
        col("document_sha256", "field.document_sha256", Cell::Code),
    ],
    filters: &["category"],
    sort: "submitted_on",
    descending: false,
};

fn contracts(console: &Console, ctx: &Ctx, refused: Option<&Shown>) -> Response {
    let actor = match staff(ctx) {
        Ok(actor) => actor,
        Err(refusal) => return refusal.into_response(),
    };
    let selected = {
        let projections =
            console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let signed = projections.lifecycle.contracts_where(|view| {
            view.status == "signed" && actor.jurisdiction == Some(view.terms.jurisdiction)
        });
        CONTRACTS_TO_FILE.select_views(ctx, signed)
    };
    if CONTRACTS_TO_FILE.wants_csv(ctx) {
        return CONTRACTS_TO_FILE.csv(&selected);
    }
    let decide = |row: &Value| {
        let id = text(row, "contract_id");
        html! {
            form method="post" action="/service-center/act/file" data-testid="file-contract-form" {
                (csrf_field(ctx)) (idempotency_field()) (back_field(ctx))
                input type="hidden" name="contract_id" value=(id);
                button type="submit" data-testid="file-contract" { (ctx.t("service_center.file")) }
            }
            form method="post" action="/service-center/act/reject-contract" data-testid="reject-contract-form" {
                (csrf_field(ctx)) (idempotency_field()) (back_field(ctx))
                input type="hidden" name="contract_id" value=(id);
                input type="text" name="reason" required placeholder=(ctx.t("field.reason")) aria-label=(ctx.t("field.reason"));
                button.danger type="submit" data-testid="reject-contract" { (ctx.t("service_center.reject")) }
            }
        }
    };
    let main = html! {
        (layout::outcome(ctx, refused))
        p.lead { (ctx.t("service_center.contracts.intro")) }
        (CONTRACTS_TO_FILE.render(ctx, &selected, Some(&decide)))
    };
    answer(ctx, refused, ctx.t("service_center.contracts"), main)
}

/// `POST /service-center/act/{action}`.
async fn act(
    State(console): State<Console>,
    Path(action): Path<String>,
    ctx: Ctx,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(refusal) = staff(&ctx) {
        return refusal.into_response();
    }
    let (path, body, render): (String, Value, Render) = match action.as_str() {
        "verify" => (
            format!("/v1/applicants/{}/verification", seg(fields.get("credit_code"))),
            json!({"decision": fields.get("decision"), "reason": fields.get("reason")}),
            applicants,
        ),
        "file" => (format!("/v1/contracts/{}/filing", seg(fields.get("contract_id"))), json!({}), contracts),
        "reject-contract" => (
            format!("/v1/contracts/{}/rejection", seg(fields.get("contract_id"))),
            json!({"reason": fields.get("reason")}),
            contracts,
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    perform(&console, &ctx, &fields, &path, &body, render).await
}
