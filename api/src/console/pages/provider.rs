//! The provider's page: apply for admission (with a qualification document hashed in the browser); my
//! admission; my contracts (submit one, with the contract file hashed in the browser); my redemptions
//! (request one for a completed contract, with the invoice, remittance proof and results hashed in the
//! browser: the ledger keeps SHA-256 hashes, never files) and my ratings; and checking a file against the
//! ledger (its hash among my documents).
//!
//! Rows are read for this provider only (its credit code, from the session); every action goes through the
//! API's route (`act::command`), so the API's rules refuse, with their code and message shown.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::{Actor, Role};
use maud::{Markup, html};
use serde_json::{Value, json};

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
        .route("/provider", get(home))
        .route("/provider/application", post(apply))
        .route("/provider/contracts", post(submit_contract))
        .route("/provider/redemptions", post(request_redemption))
}

const ROLES: &[Role] = &[Role::Provider];

/// My contracts.
pub const CONTRACTS: List = List {
    id: "provider-contracts",
    columns: &[
        col("contract_id", "field.contract_id", Cell::Code),
        col("applicant", "field.applicant", Cell::Code),
        col("category", "field.category", Cell::Name),
        col("total", "field.total", Cell::Money),
        col("voucher_amount", "field.voucher_amount", Cell::Money),
        col("status", "field.status", Cell::Name),
        col("submitted_on", "field.submitted_on", Cell::Date),
        col("rating_mean", "field.rating", Cell::Text),
    ],
    filters: &["status", "category"],
    sort: "submitted_on",
    descending: true,
};

/// My redemptions.
pub const REDEMPTIONS: List = List {
    id: "provider-redemptions",
    columns: &[
        col("redemption_id", "field.redemption_id", Cell::Code),
        col("contract_id", "field.contract_id", Cell::Code),
        col("requested", "field.requested", Cell::Money),
        col("approved", "field.approved", Cell::Money),
        col("status", "field.status", Cell::Name),
        col("disbursed_on", "field.disbursed_on", Cell::Date),
    ],
    filters: &["status"],
    sort: "redemption_id",
    descending: true,
};

/// The service categories of the policy in force in the provider's jurisdiction today.
fn categories(console: &Console, actor: &Actor) -> BTreeSet<String> {
    static BOOK: std::sync::LazyLock<domain::policy::PolicyBook> =
        std::sync::LazyLock::new(domain::policy::PolicyBook::shipped);
    let today = super::today(console);
    actor
        .jurisdiction
        .and_then(|jurisdiction| BOOK.in_force(jurisdiction, today))
        .map(|version| version.service_categories.clone())
        .unwrap_or_else(|| {
            BOOK.versions().iter().flat_map(|version| version.service_categories.clone()).collect()
        })
}

/// What the page shows of this provider: its admission, contracts, redemptions, ranking, documents' hashes.
struct Mine {
    admission: Option<Value>,
    contracts: Vec<Value>,
    redemptions: Vec<Value>,
    ranking: Option<Value>,
    hashes: BTreeSet<String>,
}

fn mine(console: &Console, actor: &Actor) -> Mine {
    let projections =
        console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(code) = actor.credit_code.as_ref() else {
        return Mine {
            admission: None,
            contracts: vec![],
            redemptions: vec![],
            ranking: None,
            hashes: BTreeSet::new(),
        };
    };
    let admission = projections.lifecycle.provider(code).map(crate::views::to_json);
    let mut hashes = BTreeSet::new();
    if let Some(view) = projections.lifecycle.provider(code) {
        hashes.extend(view.application.qualifications.iter().map(|document| document.sha256.to_string()));
    }
    let contracts = projections
        .lifecycle
        .contracts_where(|view| &view.terms.provider == code)
        .into_iter()
        .map(|view| {
            hashes.insert(view.terms.document_sha256.to_string());
            let mut row = crate::views::to_json(view);
            if let Some(rating) = &view.rating {
                let mean = f64::from(
                    u16::from(rating.quality)
                        + u16::from(rating.timeliness)
                        + u16::from(rating.professionalism),
                ) / 3.0;
                row["rating_mean"] = json!(format!("{mean:.1}"));
            }
            row
        })
        .collect();
    let redemptions = projections
        .lifecycle
        .redemptions_where(|view| &view.provider == code)
        .into_iter()
        .map(|view| {
            for document in [&view.invoice, &view.remittance_proof].into_iter().chain(view.results.iter()) {
                hashes.insert(document.sha256.to_string());
            }
            crate::views::to_json(view)
        })
        .collect();
    // Only this provider's row of the ranking is converted.
    let ranking = projections
        .rankings
        .ranking(None)
        .iter()
        .find(|ranked| &ranked.provider == code)
        .map(|ranked| crate::views::ranking_row(&projections, ranked, None));
    Mine { admission, contracts, redemptions, ranking, hashes }
}

/// `GET /provider[?check=SHA256]`.
pub async fn home(State(console): State<Console>, ctx: Ctx) -> Response {
    let actor = match require_role(&ctx, ROLES) {
        Ok(actor) => actor,
        Err(response) => return response.into_response(),
    };
    render(&console, &ctx, &actor, None)
}

/// A file input whose SHA-256, name and size the console's script writes into the hidden fields
/// `{prefix}_sha256`, `{prefix}_name`, `{prefix}_size` (the file itself is never sent).
fn document_input(ctx: &Ctx, prefix: &str, label: &str, required: bool) -> Markup {
    let id = format!("{prefix}-file");
    html! {
        label for=(id) { (ctx.t(label)) }
        input type="file" id=(id) data-sha256-into=(format!("{prefix}_sha256")) data-name-into=(format!("{prefix}_name"))
            data-size-into=(format!("{prefix}_size")) required[required] data-testid=(format!("{prefix}-file"));
        input type="hidden" name=(format!("{prefix}_sha256")) data-testid=(format!("{prefix}-sha256"));
        input type="hidden" name=(format!("{prefix}_name"));
        input type="hidden" name=(format!("{prefix}_size"));
    }
}

/// The document `{prefix}_*` fields describe, as the API's document object.
fn document(fields: &Fields, prefix: &str) -> Value {
    let size = fields.get(&format!("{prefix}_size"));
    json!({
        "sha256": fields.get(&format!("{prefix}_sha256")),
        "name": fields.get(&format!("{prefix}_name")),
        "size_bytes": size.parse::<u64>().map_or_else(|_| json!(size), |n| json!(n)),
    })
}

fn render(console: &Console, ctx: &Ctx, actor: &Actor, refused: Option<&Shown>) -> Response {
    let Mine { admission, contracts, redemptions, ranking, hashes } = mine(console, actor);
    let completed: Vec<String> = contracts
        .iter()
        .filter(|row| row["status"] == "completed" && row["redemption_id"].is_null())
        .filter_map(|row| row["contract_id"].as_str().map(str::to_owned))
        .collect();
    let contracts_selected = CONTRACTS.select(ctx, contracts);
    if CONTRACTS.wants_csv(ctx) {
        return CONTRACTS.csv(&contracts_selected);
    }
    let redemptions_selected = REDEMPTIONS.select(ctx, redemptions);
    if REDEMPTIONS.wants_csv(ctx) {
        return REDEMPTIONS.csv(&redemptions_selected);
    }
    let categories = categories(console, actor);
    let code = actor.credit_code.as_ref().map(|code| code.as_str().to_owned()).unwrap_or_default();
    let check =
        ctx.param("check").map(|hash| hash.trim().to_ascii_lowercase()).filter(|hash| !hash.is_empty());
    let main = html! {
        (layout::outcome(ctx, refused))
        p.lead data-testid="provider-code" { (ctx.lang.tf("provider.intro", &[("code", &code)])) }
        section aria-labelledby="admission-heading" {
            h2 #admission-heading { (ctx.t("provider.admission")) }
            @if let Some(admission) = &admission {
                dl.summary data-testid="admission" {
                    dt { (ctx.t("field.name")) } dd { (admission["name"].as_str().unwrap_or_default()) }
                    dt { (ctx.t("field.status")) } dd data-testid="admission-status" { (crate::console::list::name(ctx, admission["status"].as_str().unwrap_or_default())) }
                    dt { (ctx.t("field.categories")) } dd {
                        @let items: Vec<String> = admission["categories"].as_array().map(|items| items.iter().map(|item| crate::console::list::name(ctx, item.as_str().unwrap_or_default())).collect()).unwrap_or_default();
                        (items.join(", "))
                    }
                    @if let Some(closes) = admission["announcement_closes"].as_str() {
                        dt { (ctx.t("field.announcement_closes")) } dd { (ctx.lang.date_text(closes)) }
                    }
                }
            }
            @if admission.as_ref().is_none_or(|admission| admission["status"] == "rejected") {
                form method="post" action="/provider/application" data-testid="apply-form" {
                    (csrf_field(ctx))
                    (idempotency_field())
                    label for="apply-name" { (ctx.t("field.name")) }
                    input type="text" id="apply-name" name="name" required data-testid="apply-name";
                    fieldset {
                        legend { (ctx.t("field.categories")) }
                        @for category in &categories {
                            label.check {
                                input type="checkbox" name=(format!("category_{category}")) value="on" data-testid=(format!("apply-category-{category}"));
                                " " (crate::console::list::name(ctx, category))
                            }
                        }
                    }
                    label for="apply-contact" { (ctx.t("field.contact")) }
                    input type="text" id="apply-contact" name="contact" data-testid="apply-contact";
                    (document_input(ctx, "qualification", "provider.qualification", true))
                    button type="submit" data-testid="apply-submit" { (ctx.t("provider.apply")) }
                }
            }
        }
        section aria-labelledby="ranking-heading" {
            h2 #ranking-heading { (ctx.t("provider.ratings")) }
            @if let Some(ranking) = &ranking {
                dl.summary data-testid="ranking" {
                    dt { (ctx.t("field.rank")) } dd { (ranking["rank"]) }
                    dt { (ctx.t("field.ratings")) } dd { (ranking["ratings"]) }
                    dt { (ctx.t("field.mean")) } dd { (ranking["mean"].as_f64().map_or_else(String::new, |mean| format!("{mean:.2}"))) }
                }
            } @else {
                p data-testid="ranking-none" { (ctx.t("provider.no_ratings")) }
            }
        }
        section aria-labelledby="contracts-heading" {
            h2 #contracts-heading { (ctx.t("provider.contracts")) }
            (CONTRACTS.render(ctx, &contracts_selected, None))
            h3 { (ctx.t("provider.submit_contract")) }
            form method="post" action="/provider/contracts" data-testid="contract-form" {
                (csrf_field(ctx))
                (idempotency_field())
                label for="contract-voucher" { (ctx.t("field.voucher_id")) }
                input type="text" id="contract-voucher" name="voucher_id" required spellcheck="false" data-testid="contract-voucher";
                label for="contract-category" { (ctx.t("field.category")) }
                select id="contract-category" name="category" data-testid="contract-category" {
                    @for category in &categories { option value=(category) { (crate::console::list::name(ctx, category)) } }
                }
                label for="contract-description" { (ctx.t("field.description")) }
                input type="text" id="contract-description" name="description" required data-testid="contract-description";
                label for="contract-start" { (ctx.t("field.term_start")) }
                input type="date" id="contract-start" name="term_start" required data-testid="contract-start";
                label for="contract-end" { (ctx.t("field.term_end")) }
                input type="date" id="contract-end" name="term_end" required data-testid="contract-end";
                label for="contract-total" { (ctx.t("field.total")) }
                input type="text" inputmode="decimal" id="contract-total" name="total" required data-testid="contract-total";
                label for="contract-amount" { (ctx.t("field.voucher_amount")) }
                input type="text" inputmode="decimal" id="contract-amount" name="voucher_amount" required data-testid="contract-amount";
                (document_input(ctx, "contract", "provider.contract_file", true))
                button type="submit" data-testid="contract-submit" { (ctx.t("provider.submit_contract")) }
            }
        }
        section aria-labelledby="redemptions-heading" {
            h2 #redemptions-heading { (ctx.t("provider.redemptions")) }
            (REDEMPTIONS.render(ctx, &redemptions_selected, None))
            h3 { (ctx.t("provider.request_redemption")) }
            @if completed.is_empty() {
                p data-testid="redeemable-none" { (ctx.t("provider.nothing_to_redeem")) }
            } @else {
                form method="post" action="/provider/redemptions" data-testid="redemption-form" {
                    (csrf_field(ctx))
                    (idempotency_field())
                    label for="redemption-contract" { (ctx.t("field.contract_id")) }
                    select id="redemption-contract" name="contract_id" data-testid="redemption-contract" {
                        @for id in &completed { option value=(id) { (id) } }
                    }
                    (document_input(ctx, "invoice", "provider.invoice", true))
                    (document_input(ctx, "remittance", "provider.remittance", true))
                    (document_input(ctx, "result", "provider.result", true))
                    button type="submit" data-testid="redemption-submit" { (ctx.t("provider.request_redemption")) }
                }
            }
        }
        section aria-labelledby="check-heading" {
            h2 #check-heading { (ctx.t("provider.check")) }
            form method="get" action="/provider" data-testid="check-form" {
                (document_input(ctx, "check", "provider.check_file", false))
                label for="check-hash" { (ctx.t("provider.check_hash")) }
                input type="text" id="check-hash" name="check" spellcheck="false" value=(check.clone().unwrap_or_default()) data-testid="check-hash";
                button type="submit" data-testid="check-submit" { (ctx.t("provider.check_submit")) }
            }
            @if let Some(hash) = &check {
                @if hashes.contains(hash) {
                    p.notice role="status" data-testid="check-result" data-found="true" { (ctx.lang.tf("provider.check_found", &[("hash", hash)])) }
                } @else {
                    p.problem role="status" data-testid="check-result" data-found="false" { (ctx.lang.tf("provider.check_missing", &[("hash", hash)])) }
                }
            }
        }
    };
    let status = refused.map_or(StatusCode::OK, |problem| problem.status);
    layout::respond(status, page(ctx, ctx.t("provider.title"), main))
}

fn refuse(console: &Console, ctx: &Ctx, actor: &Actor, problem: &Shown) -> Response {
    render(console, ctx, actor, Some(problem))
}

/// `POST /provider/application`: applies for admission (`POST /v1/providers`).
pub async fn apply(State(console): State<Console>, ctx: Ctx, Form(fields): Form<Fields>) -> Response {
    let actor = match require_role(&ctx, ROLES) {
        Ok(actor) => actor,
        Err(response) => return response.into_response(),
    };
    let categories: Vec<&str> = fields.0.keys().filter_map(|name| name.strip_prefix("category_")).collect();
    let body = json!({
        "name": fields.get("name"),
        "categories": categories,
        "qualifications": [document(&fields, "qualification")],
        "contact": fields.get("contact"),
    });
    match act::command(&console, &ctx, "/v1/providers", &body, fields.idempotency_key()).await {
        Ok(_) => Redirect::to("/provider?done=1").into_response(),
        Err(problem) => refuse(&console, &ctx, &actor, &problem),
    }
}

/// `POST /provider/contracts`: submits a contract (`POST /v1/contracts`).
pub async fn submit_contract(
    State(console): State<Console>,
    ctx: Ctx,
    Form(fields): Form<Fields>,
) -> Response {
    let actor = match require_role(&ctx, ROLES) {
        Ok(actor) => actor,
        Err(response) => return response.into_response(),
    };
    let code = actor.credit_code.as_ref().map(|code| code.as_str().to_owned()).unwrap_or_default();
    let body = json!({
        "voucher_id": fields.get("voucher_id"),
        "provider": code,
        "category": fields.get("category"),
        "description": fields.get("description"),
        "term_start": fields.get("term_start"),
        "term_end": fields.get("term_end"),
        "total": fields.get("total"),
        "voucher_amount": fields.get("voucher_amount"),
        "document_sha256": fields.get("contract_sha256"),
    });
    match act::command(&console, &ctx, "/v1/contracts", &body, fields.idempotency_key()).await {
        Ok(_) => Redirect::to("/provider?done=1").into_response(),
        Err(problem) => refuse(&console, &ctx, &actor, &problem),
    }
}

/// `POST /provider/redemptions`: requests redemption of a completed contract (`POST /v1/redemptions`).
pub async fn request_redemption(
    State(console): State<Console>,
    ctx: Ctx,
    Form(fields): Form<Fields>,
) -> Response {
    let actor = match require_role(&ctx, ROLES) {
        Ok(actor) => actor,
        Err(response) => return response.into_response(),
    };
    let body = json!({
        "contract_id": fields.get("contract_id"),
        "invoice": document(&fields, "invoice"),
        "remittance_proof": document(&fields, "remittance"),
        "results": [document(&fields, "result")],
    });
    match act::command(&console, &ctx, "/v1/redemptions", &body, fields.idempotency_key()).await {
        Ok(_) => Redirect::to("/provider?done=1").into_response(),
        Err(problem) => refuse(&console, &ctx, &actor, &problem),
    }
}
