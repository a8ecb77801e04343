//! The public page, without sign-in: the current announcements (providers' admissions and redemption lists)
//! with their periods in working days, and the form to object (`POST /objections`, the API's
//! `POST /v1/objections`: the same per-address limit).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::{Fields, today, working_days_between};
use crate::console::act;
use crate::console::layout::{self, Shown, csrf_field, idempotency_field, page};
use crate::console::list::{Cell, List, col};
use crate::console::session::Ctx;
use crate::console::state::Console;

/// This page's routes.
pub fn routes() -> Router<Console> {
    Router::new().route("/", get(home)).route("/objections", post(object))
}

/// Providers in their admission announcement.
pub const ADMISSIONS: List = List {
    id: "admissions",
    columns: &[
        col("name", "field.name", Cell::Text),
        col("provider", "field.provider", Cell::Code),
        col("jurisdiction", "field.jurisdiction", Cell::Name),
        col("categories", "field.categories", Cell::Items),
        col("announced_on", "field.announced_on", Cell::Date),
        col("announcement_closes", "field.announcement_closes", Cell::Date),
        col("period", "field.period", Cell::Text),
    ],
    filters: &["jurisdiction"],
    sort: "announcement_closes",
    descending: false,
};

/// Redemptions on an open announcement list.
pub const REDEMPTION_LISTS: List = List {
    id: "redemption-lists",
    columns: &[
        col("redemption_id", "field.redemption_id", Cell::Code),
        col("provider", "field.provider", Cell::Code),
        col("jurisdiction", "field.jurisdiction", Cell::Name),
        col("approved", "field.approved", Cell::Money),
        col("announced_on", "field.announced_on", Cell::Date),
        col("closes_on", "field.closes_on", Cell::Date),
        col("period", "field.period", Cell::Text),
    ],
    filters: &["jurisdiction"],
    sort: "closes_on",
    descending: false,
};

fn date(row: &Value, field: &str) -> Option<NaiveDate> {
    row[field].as_str().and_then(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
}

/// "5 working days (2 left)".
fn period(ctx: &Ctx, from: Option<NaiveDate>, to: Option<NaiveDate>, today: NaiveDate) -> Value {
    let (Some(from), Some(to)) = (from, to) else { return Value::Null };
    let total = working_days_between(from, to).map_or_else(|| "?".to_owned(), |days| days.to_string());
    let left =
        working_days_between(today.max(from), to).map_or_else(|| "?".to_owned(), |days| days.to_string());
    json!(ctx.lang.tf("period.working_days", &[("n", &total), ("left", &left)]))
}

/// The rows of both lists, as of today.
fn announcements(console: &Console, ctx: &Ctx) -> (Vec<Value>, Vec<Value>) {
    let today = today(console);
    let projections =
        console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Only the providers under announcement and the open lists are converted (a few among many).
    let mut admissions: Vec<Value> = projections
        .lifecycle
        .providers_where(|view| view.status == "announced")
        .into_iter()
        .map(crate::views::to_json)
        .collect();
    for row in &mut admissions {
        row["period"] = period(ctx, date(row, "announced_on"), date(row, "announcement_closes"), today);
    }
    let lists: Vec<Value> = crate::views::announcements_where(&projections, |view| !view.closed);
    let mut items = Vec::new();
    for list in &lists {
        let ids: Vec<uuid::Uuid> = list["redemption_ids"]
            .as_array()
            .map(|ids| ids.iter().filter_map(|id| id.as_str()?.parse().ok()).collect())
            .unwrap_or_default();
        for id in ids {
            let Some(redemption) = projections.lifecycle.redemption(id) else { continue };
            let redemption = crate::views::to_json(redemption);
            items.push(json!({
                "redemption_id": id.to_string(),
                "provider": redemption["provider"],
                "jurisdiction": list["jurisdiction"],
                "approved": redemption["approved"],
                "announced_on": list["announced_on"],
                "closes_on": list["closes_on"],
                "period": period(ctx, date(list, "announced_on"), date(list, "closes_on"), today),
            }));
        }
    }
    (admissions, items)
}

/// `GET /`.
pub async fn home(State(console): State<Console>, ctx: Ctx) -> Response {
    render(&console, &ctx, None)
}

fn render(console: &Console, ctx: &Ctx, refused: Option<&Shown>) -> Response {
    let (admissions, items) = announcements(console, ctx);
    let admissions_selected = ADMISSIONS.select(ctx, admissions.clone());
    if ADMISSIONS.wants_csv(ctx) {
        return ADMISSIONS.csv(&admissions_selected);
    }
    let items_selected = REDEMPTION_LISTS.select(ctx, items.clone());
    if REDEMPTION_LISTS.wants_csv(ctx) {
        return REDEMPTION_LISTS.csv(&items_selected);
    }
    let main = html! {
        (layout::outcome(ctx, refused))
        p.lead { (ctx.t("public.intro")) }
        h2 { (ctx.t("public.admissions")) }
        (ADMISSIONS.render(ctx, &admissions_selected, None))
        h2 { (ctx.t("public.redemption_lists")) }
        (REDEMPTION_LISTS.render(ctx, &items_selected, None))
        h2 #object { (ctx.t("public.object")) }
        (objection_form(ctx, &admissions, &items))
    };
    let status = refused.map_or(StatusCode::OK, |problem| problem.status);
    layout::respond(status, page(ctx, ctx.t("public.title"), main))
}

fn objection_form(ctx: &Ctx, admissions: &[Value], items: &[Value]) -> Markup {
    html! {
        form method="post" action="/objections" id="objection-form" data-testid="objection-form" {
            (csrf_field(ctx))
            (idempotency_field())
            label for="objection-target" { (ctx.t("public.object.target")) }
            select id="objection-target" name="target" required data-testid="objection-target" {
                @for row in admissions {
                    @let code = row["provider"].as_str().unwrap_or_default();
                    option value=(format!("provider:{code}")) {
                        (ctx.t("public.object.provider")) " " (row["name"].as_str().unwrap_or_default()) " (" (code) ")"
                    }
                }
                @for row in items {
                    @let id = row["redemption_id"].as_str().unwrap_or_default();
                    option value=(format!("redemption:{id}")) { (ctx.t("public.object.redemption")) " " (id) }
                }
            }
            label for="objection-text" { (ctx.t("public.object.text")) }
            textarea id="objection-text" name="text" rows="4" required data-testid="objection-text" {}
            button type="submit" data-testid="objection-submit" { (ctx.t("public.object.submit")) }
        }
    }
}

/// `POST /objections`: the form's target (`provider:CODE` or `redemption:UUID`) and text, filed through
/// `POST /v1/objections`.
pub async fn object(State(console): State<Console>, ctx: Ctx, Form(fields): Form<Fields>) -> Response {
    let target = match fields.get("target").split_once(':') {
        Some(("provider", code)) => json!({"kind": "provider", "provider": code}),
        Some(("redemption", id)) => json!({"kind": "redemption", "redemption_id": id}),
        _ => json!({"kind": "none"}),
    };
    let body = json!({"target": target, "text": fields.get("text")});
    match act::command(&console, &ctx, "/v1/objections", &body, fields.idempotency_key()).await {
        Ok(_) => Redirect::to("/?done=1#object").into_response(),
        Err(problem) => render(&console, &ctx, Some(&problem)),
    }
}
