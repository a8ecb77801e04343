//! The third-party reviewer's page, for its jurisdiction: redemptions to review, with their documents'
//! SHA-256 hashes (a file can be checked against them in the browser), approved in full, reduced or
//! rejected through the API's route (`pages::perform`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::{Actor, Role};
use maud::html;
use serde_json::{Value, json};

use projections::lifecycle::RedemptionView;

use super::{Fields, perform, seg, text};
use crate::console::guard::{Refusal, require_role};
use crate::console::layout::{self, Shown, back_field, csrf_field, idempotency_field, page};
use crate::console::list::{Cell, List, col, pick};
use crate::console::session::Ctx;
use crate::console::state::Console;

/// This role's routes.
pub fn routes() -> Router<Console> {
    Router::new()
        .route(
            "/reviewer",
            get(|State(c): State<Console>, ctx: Ctx| async move { redemptions(&c, &ctx, None) }),
        )
        .route("/reviewer/act/{action}", post(act))
}

fn reviewer(ctx: &Ctx) -> Result<Actor, Refusal> {
    require_role(ctx, &[Role::Reviewer])
}

/// Redemptions requested, waiting for review.
pub const REDEMPTIONS_TO_REVIEW: List = List {
    id: "redemptions-to-review",
    columns: &[
        col("redemption_id", "field.redemption_id", Cell::Code),
        col("contract_id", "field.contract_id", Cell::Code),
        col("provider", "field.provider", Cell::Code),
        col("requested", "field.requested", Cell::Money),
        col("requested_on", "field.requested_on", Cell::Date),
        col("documents", "field.documents", Cell::Text),
    ],
    filters: &["provider"],
    sort: "requested_on",
    descending: false,
};

/// "invoice.pdf sha256" lines of a redemption's documents.
fn documents(row: &Value) -> Value {
    let mut lines = Vec::new();
    let mut push = |document: &Value| {
        if let (Some(name), Some(hash)) = (document["name"].as_str(), document["sha256"].as_str()) {
            lines.push(format!("{name} {hash}"));
        }
    };
    push(&row["invoice"]);
    push(&row["remittance_proof"]);
    for result in row["results"].as_array().into_iter().flatten() {
        push(result);
    }
    json!(lines.join("\n"))
}

fn redemptions(console: &Console, ctx: &Ctx, refused: Option<&Shown>) -> Response {
    let actor = match reviewer(ctx) {
        Ok(actor) => actor,
        Err(refusal) => return refusal.into_response(),
    };
    let selected = {
        let projections =
            console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let requested = projections.lifecycle.redemptions_where(|view| {
            view.status == "requested" && actor.jurisdiction == Some(view.jurisdiction)
        });
        let documents_of = |view: &RedemptionView| {
            documents(&json!({
                "invoice": pick(view, "invoice"),
                "remittance_proof": pick(view, "remittance_proof"),
                "results": pick(view, "results"),
            }))
        };
        REDEMPTIONS_TO_REVIEW.select_with(
            ctx,
            requested,
            |view, field| if field == "documents" { documents_of(view) } else { pick(*view, field) },
            |view| {
                let mut row = crate::views::to_json(view);
                row["documents"] = documents(&row);
                row
            },
        )
    };
    if REDEMPTIONS_TO_REVIEW.wants_csv(ctx) {
        return REDEMPTIONS_TO_REVIEW.csv(&selected);
    }
    let review = |row: &Value| {
        let id = text(row, "redemption_id");
        html! {
            form method="post" action="/reviewer/act/review" data-testid="review-form" {
                (csrf_field(ctx)) (idempotency_field()) (back_field(ctx))
                input type="hidden" name="redemption_id" value=(id);
                input type="text" name="approved" inputmode="decimal" placeholder=(ctx.t("reviewer.approved_if_reduced")) aria-label=(ctx.t("reviewer.approved_if_reduced"));
                input type="text" name="reason" placeholder=(ctx.t("field.reason")) aria-label=(ctx.t("field.reason"));
                button type="submit" name="decision" value="full" data-testid="review-full" { (ctx.t("reviewer.full")) }
                button.secondary type="submit" name="decision" value="reduced" data-testid="review-reduced" { (ctx.t("reviewer.reduced")) }
                button.danger type="submit" name="decision" value="rejected" data-testid="review-rejected" { (ctx.t("reviewer.rejected")) }
            }
        }
    };
    let main = html! {
        (layout::outcome(ctx, refused))
        p.lead { (ctx.t("reviewer.intro")) }
        (REDEMPTIONS_TO_REVIEW.render(ctx, &selected, Some(&review)))
        h2 #check { (ctx.t("reviewer.check")) }
        form id="check-file" data-testid="check-file" {
            label {
                (ctx.t("reviewer.check.pick"))
                input type="file" id="check-file-input" data-sha256-into="check_sha256";
            }
            label {
                (ctx.t("reviewer.check.hash"))
                output name="check_sha256" id="check-sha256" data-testid="check-sha256" {}
            }
        }
    };
    let status = refused.map_or(StatusCode::OK, |problem| problem.status);
    layout::respond(status, page(ctx, ctx.t("reviewer.title"), main))
}

/// `POST /reviewer/act/review`: full (no amount, no reason), reduced (the amount approved and a reason) or
/// rejected (a reason).
async fn act(
    State(console): State<Console>,
    Path(action): Path<String>,
    ctx: Ctx,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(refusal) = reviewer(&ctx) {
        return refusal.into_response();
    }
    if action != "review" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let decision = fields.get("decision");
    let mut body = json!({"decision": decision});
    if decision != "full" {
        body["reason"] = json!(fields.get("reason"));
    }
    if decision == "reduced" {
        body["approved"] = json!(fields.get("approved"));
    }
    let path = format!("/v1/redemptions/{}/review", seg(fields.get("redemption_id")));
    perform(&console, &ctx, &fields, &path, &body, redemptions).await
}
