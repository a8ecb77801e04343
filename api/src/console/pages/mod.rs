//! The console's pages, one module per role (`CONSOLE_API.md` at the repository's root says how a page
//! module is written). Each module exports `routes() -> Router<Console>`; add a module here and one line
//! in [`routes`].

pub mod applicant;
pub mod auditor;
pub mod bureau;
pub mod provider;
pub mod public;
pub mod reviewer;
pub mod service_center;
pub mod signin;

use std::collections::HashMap;

use axum::Router;

use crate::console::act;
use crate::console::guard::is_local_path;
use crate::console::layout::{Shown, with_done};
use crate::console::list;
use crate::console::session::Ctx;
use crate::console::state::Console;

/// Every page's routes.
pub fn routes() -> Router<Console> {
    Router::new()
        .merge(public::routes())
        .merge(bureau::routes())
        .merge(service_center::routes())
        .merge(reviewer::routes())
        .merge(auditor::routes())
        .merge(applicant::routes())
        .merge(provider::routes())
}

/// A submitted form's fields (the CSRF field was checked before the handler ran).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct Fields(pub HashMap<String, String>);

impl Fields {
    /// A field's value, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", |value| value.trim())
    }

    /// The form's idempotency key.
    pub fn idempotency_key(&self) -> Option<&str> {
        Some(self.get("idempotency_key")).filter(|key| !key.is_empty())
    }
}

/// The working days after `from` up to and including `to` (an announcement's period), by the shipped
/// holiday calendar; `None` when a year is not in it.
pub fn working_days_between(from: chrono::NaiveDate, to: chrono::NaiveDate) -> Option<u32> {
    static CALENDAR: std::sync::LazyLock<domain::calendar::Calendar> =
        std::sync::LazyLock::new(domain::calendar::Calendar::shipped);
    let mut days = 0;
    let mut date = from.succ_opt()?;
    while date <= to {
        if CALENDAR.is_working_day(date).ok()? {
            days += 1;
        }
        date = date.succ_opt()?;
    }
    Some(days)
}

/// Today's business date (Asia/Shanghai) on the ledger's clock.
pub fn today(console: &Console) -> chrono::NaiveDate {
    crate::console::i18n::business_date(console.app.clock.now())
}

/// The read models' rows of `table` (`crate::views::rows`) that `keep` accepts, under one read lock.
pub fn rows(
    console: &Console,
    table: &str,
    keep: impl Fn(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    let projections =
        console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    crate::views::rows(&projections, table).unwrap_or_default().into_iter().filter(|row| keep(row)).collect()
}

/// Whether a row's `jurisdiction` is the actor's (staff read their own jurisdiction's rows).
pub fn in_jurisdiction(actor: &domain::Actor, row: &serde_json::Value) -> bool {
    actor.jurisdiction.is_some_and(|jurisdiction| row["jurisdiction"].as_str() == Some(jurisdiction.as_str()))
}

/// How a page renders itself, with the refusal of an action when there was one.
pub type Render = fn(&Console, &Ctx, Option<&Shown>) -> axum::response::Response;

/// Submits an action's command through the API (`act::command`), then goes back to the page the form was on
/// (its `back` field) with `?done=1`, or shows that page again with the refusal (in `#problem`, with the
/// refusal's status).
pub async fn perform(
    console: &Console,
    ctx: &Ctx,
    fields: &Fields,
    path: &str,
    body: &serde_json::Value,
    render: Render,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let back = Some(fields.get("back")).filter(|back| is_local_path(back)).unwrap_or("/");
    match act::command(console, ctx, path, body, fields.idempotency_key()).await {
        Ok(_) => axum::response::Redirect::to(&with_done(back)).into_response(),
        Err(problem) => render(console, &ctx.at(back), Some(&problem)),
    }
}

/// A row's field as text ("" when absent).
pub fn text<'a>(row: &'a serde_json::Value, field: &str) -> &'a str {
    row[field].as_str().unwrap_or_default()
}

/// A decimal amount's text as a `Decimal` (zero when it is not one).
pub fn decimal(value: &serde_json::Value) -> rust_decimal::Decimal {
    list::text_of(value).parse().unwrap_or_default()
}

/// A form's value as one path segment of an API route (percent-encoded: a `/` or `?` in it cannot reach
/// another route; the API refuses what is not an id with `invalid_path`).
pub fn seg(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
