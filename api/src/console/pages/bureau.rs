//! The bureau's pages, for its own jurisdiction: the dashboard per fiscal year (budget, issued, committed,
//! paid, clawed back; money by stage, use over time, providers by category), the work queues (providers to
//! decide, objections to rule, approved redemptions to announce, payable redemptions to pay), batches
//! (publish, close early), providers and their rankings, and clawbacks, recoveries, suspensions and
//! referrals. Every action is the API's route (`pages::perform`).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Datelike;
use domain::{Actor, Jurisdiction, Role};
use maud::{Markup, html};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Fields, Render, decimal, in_jurisdiction, perform, rows, seg, text, today};
use crate::console::guard::{Refusal, require_role};
use crate::console::i18n;
use crate::console::layout::{self, Shown, back_field, csrf_field, idempotency_field, page};
use crate::console::list::{Cell, List, Selected, col};
use crate::console::session::Ctx;
use crate::console::state::Console;
use crate::console::svg;

/// This role's routes.
pub fn routes() -> Router<Console> {
    Router::new()
        .route("/bureau", get(|State(c): State<Console>, ctx: Ctx| async move { dashboard(&c, &ctx, None) }))
        .route(
            "/bureau/queues",
            get(|State(c): State<Console>, ctx: Ctx| async move { queues(&c, &ctx, None) }),
        )
        .route(
            "/bureau/providers",
            get(|State(c): State<Console>, ctx: Ctx| async move { providers(&c, &ctx, None) }),
        )
        .route(
            "/bureau/batches",
            get(|State(c): State<Console>, ctx: Ctx| async move { batches(&c, &ctx, None) }),
        )
        .route(
            "/bureau/enforcement",
            get(|State(c): State<Console>, ctx: Ctx| async move { enforcement(&c, &ctx, None) }),
        )
        .route("/bureau/act/{action}", post(act))
}

fn bureau(ctx: &Ctx) -> Result<(Actor, Jurisdiction), Refusal> {
    let actor = require_role(ctx, &[Role::Bureau])?;
    let jurisdiction = actor.jurisdiction.ok_or(Refusal::Forbidden(ctx.lang))?;
    Ok((actor, jurisdiction))
}

fn answer(ctx: &Ctx, refused: Option<&Shown>, title: &str, main: Markup) -> Response {
    let status = refused.map_or(StatusCode::OK, |problem| problem.status);
    layout::respond(status, page(ctx, title, main))
}

// ---- the dashboard ----

/// The budgets of the jurisdiction (every fiscal year).
pub const BUDGETS: List = List {
    id: "budgets",
    columns: &[
        col("fiscal_year", "field.fiscal_year", Cell::Text),
        col("appropriated", "field.appropriated", Cell::Money),
        col("allocated_to_batches", "field.allocated_to_batches", Cell::Money),
        col("available", "field.available", Cell::Money),
        col("batches", "field.batches", Cell::Text),
    ],
    filters: &["fiscal_year"],
    sort: "fiscal_year",
    descending: true,
};

/// The dashboard's figures for one jurisdiction and fiscal year.
#[derive(Debug, Default)]
pub struct Figures {
    pub budget: Decimal,
    /// The year's money by stage, kept by the balances read model.
    pub money: projections::balances::YearMoneyView,
    /// Admitted providers per service category.
    pub providers_by_category: BTreeMap<String, u32>,
}

/// Reads the figures from the read models (typed, under one read lock: the dashboard is the page read most).
pub fn figures(console: &Console, jurisdiction: Jurisdiction, year: i32) -> Figures {
    let projections =
        console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut figures = Figures::default();
    if let Some((budget, _)) = projections.balances.budget(jurisdiction, year) {
        figures.budget = budget.appropriated.amount();
    }
    figures.money = projections.balances.year_money(jurisdiction, year);
    let admitted = |provider: &projections::lifecycle::ProviderView| {
        provider.application.jurisdiction == jurisdiction && provider.status == "admitted"
    };
    for provider in projections.lifecycle.providers_where(admitted) {
        for category in &provider.application.categories {
            *figures.providers_by_category.entry(category.clone()).or_default() += 1;
        }
    }
    figures
}

fn dashboard(console: &Console, ctx: &Ctx, refused: Option<&Shown>) -> Response {
    let (_, jurisdiction) = match bureau(ctx) {
        Ok(found) => found,
        Err(refusal) => return refusal.into_response(),
    };
    let budgets = rows(console, "budgets", |row| row["jurisdiction"] == jurisdiction.as_str());
    let years: Vec<i32> = {
        let mut years: Vec<i32> =
            budgets.iter().filter_map(|row| row["fiscal_year"].as_i64()?.try_into().ok()).collect();
        years.push(today(console).year());
        years.sort_unstable();
        years.dedup();
        years
    };
    let latest_budget = budgets.iter().filter_map(|row| row["fiscal_year"].as_i64()).max();
    let year = ctx
        .param("year")
        .and_then(|year| year.parse().ok())
        .or(latest_budget.and_then(|year| i32::try_from(year).ok()))
        .unwrap_or_else(|| today(console).year());
    let selected = BUDGETS.select(ctx, budgets);
    if BUDGETS.wants_csv(ctx) {
        return BUDGETS.csv(&selected);
    }
    let f = figures(console, jurisdiction, year);
    let lang = ctx.lang;
    let money = &f.money;
    let stages = [
        ("dashboard.budget", f.budget),
        ("dashboard.issued", money.issued.amount()),
        ("dashboard.committed", money.committed.amount()),
        ("dashboard.completed_to_review", money.completed_to_review.amount()),
        ("dashboard.approved_to_pay", money.approved_to_pay.amount()),
        ("dashboard.paid", money.paid.amount()),
        ("dashboard.clawed_back", money.clawed_back.amount()),
    ];
    let bars: Vec<(String, Decimal, String)> =
        stages.iter().map(|(key, amount)| (lang.t(key).to_owned(), *amount, i18n::money(*amount))).collect();
    let months: Vec<(String, Decimal)> = (1..=12)
        .map(|month| {
            (
                lang.tf("chart.month", &[("m", &month.to_string())]),
                money.issued_by_month.get(&month).map(|issued| issued.amount()).unwrap_or_default(),
            )
        })
        .collect();
    let categories: Vec<(String, Decimal, String)> = f
        .providers_by_category
        .iter()
        .map(|(category, count)| {
            (crate::console::list::name(ctx, category), Decimal::from(*count), count.to_string())
        })
        .collect();
    let main = html! {
        (layout::outcome(ctx, refused))
        form.filters method="get" action="/bureau" data-testid="dashboard-year" {
            label {
                (ctx.t("field.jurisdiction"))
                output { (crate::console::list::name(ctx, jurisdiction.as_str())) }
            }
            label {
                (ctx.t("field.fiscal_year"))
                select name="year" {
                    @for candidate in &years {
                        option value=(candidate) selected[*candidate == year] { (candidate) }
                    }
                }
            }
            button type="submit" { (ctx.t("list.apply")) }
        }
        dl.cards data-testid="dashboard-figures" {
            @for (key, amount) in &stages {
                div.card data-testid=(key.replace('.', "-")) {
                    dt { (ctx.t(key)) }
                    dd { (i18n::money(*amount)) }
                }
            }
        }
        h2 { (ctx.t("chart.money_by_stage")) }
        (svg::bars("chart-money-by-stage", ctx.t("chart.money_by_stage"), &bars))
        h2 { (ctx.t("chart.use_over_time")) }
        (svg::columns("chart-use-over-time", &lang.tf("chart.use_over_time_of", &[("year", &year.to_string())]), &months))
        h2 { (ctx.t("chart.providers_by_category")) }
        @if categories.is_empty() {
            p.empty { (ctx.t("list.empty")) }
        } @else {
            (svg::bars("chart-providers-by-category", ctx.t("chart.providers_by_category"), &categories))
        }
        h2 { (ctx.t("bureau.budgets")) }
        (BUDGETS.render(ctx, &selected, None))
    };
    answer(ctx, refused, ctx.t("bureau.dashboard"), main)
}

// ---- the work queues ----

/// Providers whose application waits for the bureau's decision.
pub const PROVIDERS_TO_DECIDE: List = List {
    id: "providers-to-decide",
    columns: &[
        col("name", "field.name", Cell::Text),
        col("provider", "field.provider", Cell::Code),
        col("categories", "field.categories", Cell::Items),
        col("applied_on", "field.applied_on", Cell::Date),
        col("contact", "field.contact", Cell::Text),
    ],
    filters: &[],
    sort: "applied_on",
    descending: false,
};

/// Objections not yet ruled on.
pub const OBJECTIONS_TO_RULE: List = List {
    id: "objections-to-rule",
    columns: &[
        col("objection_id", "field.objection_id", Cell::Code),
        col("target_kind", "field.target_kind", Cell::Name),
        col("target", "field.target", Cell::Code),
        col("text", "field.text", Cell::Text),
        col("filed_on", "field.filed_on", Cell::Date),
    ],
    filters: &["target_kind"],
    sort: "filed_on",
    descending: false,
};

/// Redemptions the reviewer approved, not yet on an announcement list.
pub const REDEMPTIONS_TO_ANNOUNCE: List = List {
    id: "redemptions-to-announce",
    columns: &[
        col("redemption_id", "field.redemption_id", Cell::Code),
        col("provider", "field.provider", Cell::Code),
        col("requested", "field.requested", Cell::Money),
        col("approved", "field.approved", Cell::Money),
        col("requested_on", "field.requested_on", Cell::Date),
    ],
    filters: &[],
    sort: "requested_on",
    descending: false,
};

/// Redemptions whose announcement ended: payable.
pub const REDEMPTIONS_TO_PAY: List = List {
    id: "redemptions-to-pay",
    columns: &[
        col("redemption_id", "field.redemption_id", Cell::Code),
        col("provider", "field.provider", Cell::Code),
        col("approved", "field.approved", Cell::Money),
        col("announcement_closes", "field.announcement_closes", Cell::Date),
    ],
    filters: &[],
    sort: "announcement_closes",
    descending: false,
};

/// An open objection as a row of [`OBJECTIONS_TO_RULE`].
fn objection_row(objection: &projections::lifecycle::ObjectionView) -> Value {
    let (kind, target) = match &objection.target {
        domain::event::ObjectionTarget::Provider { provider } => ("provider", provider.as_str().to_owned()),
        domain::event::ObjectionTarget::Redemption { redemption_id } => {
            ("redemption", redemption_id.to_string())
        }
    };
    json!({
        "objection_id": objection.objection_id.to_string(),
        "target_kind": kind,
        "target": target,
        "text": crate::views::to_json(&objection.text),
        "filed_on": objection.filed_on.to_string(),
    })
}

/// A field of an open objection's row (the one read for the list's filter, search and sort).
fn objection_field(objection: &projections::lifecycle::ObjectionView, field: &str) -> Value {
    match field {
        "filed_on" => json!(objection.filed_on.to_string()),
        "target_kind" => json!(match objection.target {
            domain::event::ObjectionTarget::Provider { .. } => "provider",
            domain::event::ObjectionTarget::Redemption { .. } => "redemption",
        }),
        _ => objection_row(objection)[field].clone(),
    }
}

/// The open objections of the jurisdiction, filtered, sorted and paged by the request.
fn open_objections(console: &Console, ctx: &Ctx, jurisdiction: Jurisdiction) -> Selected {
    let projections =
        console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut ids: Vec<uuid::Uuid> = Vec::new();
    for provider in projections.lifecycle.providers() {
        ids.extend(&provider.objections);
    }
    for redemption in projections.lifecycle.redemptions() {
        ids.extend(&redemption.objections);
    }
    ids.sort_unstable();
    ids.dedup();
    let open: Vec<_> = projections
        .lifecycle
        .objections(&ids)
        .into_iter()
        .filter(|objection| objection.jurisdiction == jurisdiction && objection.ruling.is_none())
        .collect();
    OBJECTIONS_TO_RULE.select_with(
        ctx,
        open,
        |objection, field| objection_field(objection, field),
        objection_row,
    )
}

/// The jurisdiction's redemptions in `status`, filtered, sorted and paged by the request for `list`.
fn redemptions_in(
    console: &Console,
    ctx: &Ctx,
    list: &List,
    jurisdiction: Jurisdiction,
    status: &str,
) -> Selected {
    let projections =
        console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let redemptions = projections.lifecycle.redemptions_where(|redemption| {
        redemption.status == status && redemption.jurisdiction == jurisdiction
    });
    list.select_views(ctx, redemptions)
}

/// The jurisdiction's providers that `keep` accepts, filtered, sorted and paged by the request for `list`.
fn providers_in(
    console: &Console,
    ctx: &Ctx,
    list: &List,
    jurisdiction: Jurisdiction,
    keep: impl Fn(&projections::lifecycle::ProviderView) -> bool,
) -> Selected {
    let projections =
        console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let providers = projections
        .lifecycle
        .providers_where(|provider| provider.application.jurisdiction == jurisdiction && keep(provider));
    list.select_views(ctx, providers)
}

fn reason_input(ctx: &Ctx, required: bool) -> Markup {
    html! {
        input type="text" name="reason" placeholder=(ctx.t("field.reason")) aria-label=(ctx.t("field.reason")) required[required];
    }
}

fn hidden(name: &str, value: &str) -> Markup {
    html! { input type="hidden" name=(name) value=(value); }
}

fn queues(console: &Console, ctx: &Ctx, refused: Option<&Shown>) -> Response {
    let (_, jurisdiction) = match bureau(ctx) {
        Ok(found) => found,
        Err(refusal) => return refusal.into_response(),
    };
    let to_decide = providers_in(console, ctx, &PROVIDERS_TO_DECIDE, jurisdiction, |provider| {
        provider.status == "applied"
    });
    let to_rule = open_objections(console, ctx, jurisdiction);
    let to_announce = redemptions_in(console, ctx, &REDEMPTIONS_TO_ANNOUNCE, jurisdiction, "approved");
    let to_pay = redemptions_in(console, ctx, &REDEMPTIONS_TO_PAY, jurisdiction, "payable");
    for (list, selected) in [
        (&PROVIDERS_TO_DECIDE, &to_decide),
        (&OBJECTIONS_TO_RULE, &to_rule),
        (&REDEMPTIONS_TO_ANNOUNCE, &to_announce),
        (&REDEMPTIONS_TO_PAY, &to_pay),
    ] {
        if list.wants_csv(ctx) {
            return list.csv(selected);
        }
    }
    let decide = |row: &Value| {
        let code = text(row, "provider");
        html! {
            form method="post" action="/bureau/act/decide-provider" data-testid="decide-provider-form" {
                (csrf_field(ctx)) (idempotency_field()) (back_field(ctx)) (hidden("provider", code))
                (reason_input(ctx, false))
                button type="submit" name="decision" value="approved" data-testid="approve-provider" { (ctx.t("bureau.approve")) }
                button.danger type="submit" name="decision" value="rejected" data-testid="reject-provider" { (ctx.t("bureau.reject")) }
            }
        }
    };
    let rule = |row: &Value| {
        html! {
            form method="post" action="/bureau/act/rule" data-testid="rule-form" {
                (csrf_field(ctx)) (idempotency_field()) (back_field(ctx)) (hidden("objection_id", text(row, "objection_id")))
                (reason_input(ctx, true))
                button type="submit" name="ruling" value="upheld" data-testid="uphold" { (ctx.t("bureau.uphold")) }
                button.secondary type="submit" name="ruling" value="dismissed" data-testid="dismiss" { (ctx.t("bureau.dismiss")) }
            }
        }
    };
    let pick = |row: &Value| {
        let id = text(row, "redemption_id");
        html! {
            label.pick {
                input type="checkbox" name="redemption_id" value=(id) form="announce-form" checked data-testid="announce-pick";
                (ctx.t("bureau.include"))
            }
        }
    };
    let pay = |row: &Value| {
        html! {
            form method="post" action="/bureau/act/disburse" data-testid="disburse-form" {
                (csrf_field(ctx)) (idempotency_field()) (back_field(ctx)) (hidden("redemption_id", text(row, "redemption_id")))
                input type="text" name="payment_reference" required placeholder=(ctx.t("field.payment_reference")) aria-label=(ctx.t("field.payment_reference"));
                button type="submit" data-testid="disburse" { (ctx.t("bureau.pay")) }
            }
        }
    };
    let main = html! {
        (layout::outcome(ctx, refused))
        h2 { (ctx.t("bureau.queue.providers")) }
        (PROVIDERS_TO_DECIDE.render(ctx, &to_decide, Some(&decide)))
        h2 { (ctx.t("bureau.queue.objections")) }
        (OBJECTIONS_TO_RULE.render(ctx, &to_rule, Some(&rule)))
        h2 { (ctx.t("bureau.queue.announce")) }
        (REDEMPTIONS_TO_ANNOUNCE.render(ctx, &to_announce, Some(&pick)))
        @if !to_announce.rows.is_empty() {
            form method="post" action="/bureau/act/announce" id="announce-form" data-testid="announce-form" {
                (csrf_field(ctx)) (idempotency_field()) (back_field(ctx))
                button type="submit" data-testid="announce" { (ctx.t("bureau.announce")) }
            }
        }
        h2 { (ctx.t("bureau.queue.pay")) }
        (REDEMPTIONS_TO_PAY.render(ctx, &to_pay, Some(&pay)))
    };
    answer(ctx, refused, ctx.t("bureau.queues"), main)
}

// ---- providers and rankings ----

/// The jurisdiction's providers, every status.
pub const PROVIDERS: List = List {
    id: "providers",
    columns: &[
        col("name", "field.name", Cell::Text),
        col("provider", "field.provider", Cell::Code),
        col("status", "field.status", Cell::Name),
        col("suspended", "field.suspended", Cell::Name),
        col("categories", "field.categories", Cell::Items),
        col("applied_on", "field.applied_on", Cell::Date),
        col("admitted_on", "field.admitted_on", Cell::Date),
    ],
    filters: &["status", "suspended"],
    sort: "applied_on",
    descending: true,
};

/// Providers by the Bayesian average of their ratings.
pub const RANKINGS: List = List {
    id: "rankings",
    columns: &[
        col("rank", "field.rank", Cell::Text),
        col("name", "field.name", Cell::Text),
        col("provider", "field.provider", Cell::Code),
        col("ratings", "field.ratings", Cell::Text),
        col("mean", "field.mean", Cell::Text),
        col("score", "field.score", Cell::Text),
    ],
    filters: &[],
    sort: "rank",
    descending: false,
};

fn providers(console: &Console, ctx: &Ctx, refused: Option<&Shown>) -> Response {
    let (_, jurisdiction) = match bureau(ctx) {
        Ok(found) => found,
        Err(refusal) => return refusal.into_response(),
    };
    let all = providers_in(console, ctx, &PROVIDERS, jurisdiction, |_| true);
    let ranked = {
        let projections =
            console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let ranking = projections.rankings.ranking(None);
        RANKINGS.select_with(
            ctx,
            ranking.iter().collect(),
            |ranked, field| match field {
                "name" => crate::views::ranking_row(&projections, ranked, None)[field].clone(),
                _ => crate::console::list::pick(*ranked, field),
            },
            |ranked| crate::views::ranking_row(&projections, ranked, None),
        )
    };
    if PROVIDERS.wants_csv(ctx) {
        return PROVIDERS.csv(&all);
    }
    if RANKINGS.wants_csv(ctx) {
        return RANKINGS.csv(&ranked);
    }
    let suspend = |row: &Value| {
        html! {
            @if row["status"] == "admitted" && row["suspended"] != json!(true) {
                form method="post" action="/bureau/act/suspend-provider" data-testid="suspend-provider-form" {
                    (csrf_field(ctx)) (idempotency_field()) (back_field(ctx)) (hidden("provider", text(row, "provider")))
                    (reason_input(ctx, true))
                    button.danger type="submit" data-testid="suspend-provider" { (ctx.t("bureau.suspend")) }
                }
            }
        }
    };
    let main = html! {
        (layout::outcome(ctx, refused))
        (PROVIDERS.render(ctx, &all, Some(&suspend)))
        h2 { (ctx.t("bureau.rankings")) }
        (RANKINGS.render(ctx, &ranked, None))
    };
    answer(ctx, refused, ctx.t("bureau.providers"), main)
}

// ---- batches ----

/// The jurisdiction's batches.
pub const BATCHES: List = List {
    id: "batches",
    columns: &[
        col("name", "field.name", Cell::Text),
        col("fiscal_year", "field.fiscal_year", Cell::Text),
        col("eligible_kinds", "field.eligible_kinds", Cell::Items),
        col("total", "field.batch_total", Cell::Money),
        col("face_value", "field.face_value", Cell::Money),
        col("issued", "field.issued", Cell::Money),
        col("remaining", "field.remaining", Cell::Money),
        col("claim_opens", "field.claim_opens", Cell::Date),
        col("claim_closes", "field.claim_closes", Cell::Date),
        col("closed", "field.closed", Cell::Name),
    ],
    filters: &["fiscal_year", "closed"],
    sort: "claim_opens",
    descending: true,
};

fn batches(console: &Console, ctx: &Ctx, refused: Option<&Shown>) -> Response {
    let (actor, jurisdiction) = match bureau(ctx) {
        Ok(found) => found,
        Err(refusal) => return refusal.into_response(),
    };
    let selected = BATCHES.select(ctx, rows(console, "batches", |row| in_jurisdiction(&actor, row)));
    if BATCHES.wants_csv(ctx) {
        return BATCHES.csv(&selected);
    }
    let close = |row: &Value| {
        html! {
            @if row["closed"] != json!(true) {
                form method="post" action="/bureau/act/close-batch" data-testid="close-batch-form" {
                    (csrf_field(ctx)) (idempotency_field()) (back_field(ctx)) (hidden("batch_id", text(row, "batch_id")))
                    button.danger type="submit" data-testid="close-batch" { (ctx.t("bureau.close_batch")) }
                }
            }
        }
    };
    let year = today(console).year();
    let main = html! {
        (layout::outcome(ctx, refused))
        (BATCHES.render(ctx, &selected, Some(&close)))
        h2 #publish { (ctx.t("bureau.publish")) }
        p.lead { (ctx.t("bureau.publish.intro")) }
        form method="post" action="/bureau/act/publish-batch" id="publish-batch-form" data-testid="publish-batch-form" {
            (csrf_field(ctx)) (idempotency_field()) (back_field(ctx))
            input type="hidden" name="jurisdiction" value=(jurisdiction.as_str());
            label { (ctx.t("field.name")) input type="text" name="name" required; }
            label { (ctx.t("field.fiscal_year")) input type="number" name="fiscal_year" value=(year) required; }
            label { (ctx.t("field.batch_total")) input type="text" name="total" inputmode="decimal" required placeholder="1000000.00"; }
            label { (ctx.t("field.face_value")) input type="text" name="face_value" inputmode="decimal" required placeholder="200000.00"; }
            label {
                (ctx.t("field.eligible_kinds"))
                select name="eligible_kind" multiple size="2" {
                    option value="enterprise" selected { (crate::console::list::name(ctx, "enterprise")) }
                    option value="project_entity" { (crate::console::list::name(ctx, "project_entity")) }
                }
            }
            label { (ctx.t("field.eligible_industries")) input type="text" name="eligible_industries" required placeholder="aluminum, new_energy_vehicles"; }
            label { (ctx.t("field.eligible_categories")) input type="text" name="eligible_categories" required placeholder="industrial_design, inspection_testing"; }
            label { (ctx.t("field.claim_opens")) input type="date" name="claim_opens" required; }
            label { (ctx.t("field.claim_closes")) input type="date" name="claim_closes" required; }
            label { (ctx.t("field.valid_until")) input type="date" name="valid_until" required; }
            label { (ctx.t("field.max_voucher_share")) input type="text" name="max_voucher_share" inputmode="decimal" placeholder="0.8"; }
            button type="submit" data-testid="publish-batch" { (ctx.t("bureau.publish")) }
        }
    };
    answer(ctx, refused, ctx.t("bureau.batches"), main)
}

// ---- clawbacks, recoveries, suspensions, referrals ----

/// Paid redemptions of the jurisdiction (where a clawback is ordered).
pub const PAID: List = List {
    id: "paid-redemptions",
    columns: &[
        col("redemption_id", "field.redemption_id", Cell::Code),
        col("provider", "field.provider", Cell::Code),
        col("disbursed", "field.disbursed", Cell::Money),
        col("clawed_back", "field.clawed_back", Cell::Money),
        col("recovered", "field.recovered", Cell::Money),
        col("disbursed_on", "field.disbursed_on", Cell::Date),
    ],
    filters: &[],
    sort: "disbursed_on",
    descending: true,
};

/// Clawbacks ordered in the jurisdiction.
pub const CLAWBACKS: List = List {
    id: "clawbacks",
    columns: &[
        col("clawback_id", "field.clawback_id", Cell::Code),
        col("redemption_id", "field.redemption_id", Cell::Code),
        col("provider", "field.provider", Cell::Code),
        col("amount", "field.amount", Cell::Money),
        col("recovered", "field.recovered", Cell::Money),
        col("reason", "field.reason", Cell::Text),
        col("ordered_on", "field.ordered_on", Cell::Date),
    ],
    filters: &[],
    sort: "ordered_on",
    descending: true,
};

/// The clawbacks ordered in the jurisdiction, filtered, sorted and paged by the request.
fn clawbacks(console: &Console, ctx: &Ctx, jurisdiction: Jurisdiction) -> Selected {
    let projections =
        console.app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let ordered = projections.lifecycle.clawbacks_where(|clawback| clawback.jurisdiction == jurisdiction);
    CLAWBACKS.select_views(ctx, ordered)
}

fn enforcement(console: &Console, ctx: &Ctx, refused: Option<&Shown>) -> Response {
    let (_, jurisdiction) = match bureau(ctx) {
        Ok(found) => found,
        Err(refusal) => return refusal.into_response(),
    };
    let paid = redemptions_in(console, ctx, &PAID, jurisdiction, "disbursed");
    let ordered = clawbacks(console, ctx, jurisdiction);
    if PAID.wants_csv(ctx) {
        return PAID.csv(&paid);
    }
    if CLAWBACKS.wants_csv(ctx) {
        return CLAWBACKS.csv(&ordered);
    }
    let claw = |row: &Value| {
        html! {
            form method="post" action="/bureau/act/clawback" data-testid="clawback-form" {
                (csrf_field(ctx)) (idempotency_field()) (back_field(ctx)) (hidden("redemption_id", text(row, "redemption_id")))
                input type="text" name="amount" inputmode="decimal" required placeholder=(ctx.t("field.amount")) aria-label=(ctx.t("field.amount"));
                (reason_input(ctx, true))
                button.danger type="submit" data-testid="clawback" { (ctx.t("bureau.clawback")) }
            }
        }
    };
    let recover = |row: &Value| {
        html! {
            @if decimal(&row["recovered"]) < decimal(&row["amount"]) {
                form method="post" action="/bureau/act/recover" data-testid="recover-form" {
                    (csrf_field(ctx)) (idempotency_field()) (back_field(ctx)) (hidden("clawback_id", text(row, "clawback_id")))
                    input type="text" name="amount" inputmode="decimal" required placeholder=(ctx.t("field.amount")) aria-label=(ctx.t("field.amount"));
                    button type="submit" data-testid="recover" { (ctx.t("bureau.recover")) }
                }
            }
        }
    };
    let main = html! {
        (layout::outcome(ctx, refused))
        h2 { (ctx.t("bureau.paid")) }
        (PAID.render(ctx, &paid, Some(&claw)))
        h2 { (ctx.t("bureau.clawbacks")) }
        (CLAWBACKS.render(ctx, &ordered, Some(&recover)))
        h2 { (ctx.t("bureau.suspend_applicant")) }
        form method="post" action="/bureau/act/suspend-applicant" id="suspend-applicant-form" data-testid="suspend-applicant-form" {
            (csrf_field(ctx)) (idempotency_field()) (back_field(ctx))
            label { (ctx.t("field.credit_code")) input type="text" name="credit_code" required pattern="[0-9A-Z]{18}"; }
            label { (ctx.t("field.reason")) input type="text" name="reason" required; }
            button.danger type="submit" data-testid="suspend-applicant" { (ctx.t("bureau.suspend")) }
        }
        h2 { (ctx.t("bureau.refer")) }
        form method="post" action="/bureau/act/refer" id="referral-form" data-testid="referral-form" {
            (csrf_field(ctx)) (idempotency_field()) (back_field(ctx))
            label { (ctx.t("field.credit_code")) input type="text" name="party" required pattern="[0-9A-Z]{18}"; }
            label { (ctx.t("field.authority")) input type="text" name="authority" required; }
            label { (ctx.t("field.note")) input type="text" name="note" required; }
            button.danger type="submit" data-testid="refer" { (ctx.t("bureau.refer")) }
        }
    };
    answer(ctx, refused, ctx.t("bureau.enforcement"), main)
}

// ---- actions ----

/// A comma- or space-separated list of names.
fn names(text: &str) -> Vec<String> {
    text.split([',', ' ', '，', '、'])
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `POST /bureau/act/{action}`: the action's API route and body, from the form.
async fn act(
    State(console): State<Console>,
    Path(action): Path<String>,
    ctx: Ctx,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let all = fields.clone();
    let fields = Fields(fields.into_iter().collect());
    let (path, body, render): (String, Value, Render) = match action.as_str() {
        "decide-provider" => (
            format!("/v1/providers/{}/decision", seg(fields.get("provider"))),
            json!({"decision": fields.get("decision"), "reason": fields.get("reason")}),
            queues,
        ),
        "rule" => (
            format!("/v1/objections/{}/ruling", seg(fields.get("objection_id"))),
            json!({"ruling": fields.get("ruling"), "reason": fields.get("reason")}),
            queues,
        ),
        "announce" => {
            let ids: Vec<&str> = all
                .iter()
                .filter(|(name, _)| name == "redemption_id")
                .map(|(_, value)| value.as_str())
                .collect();
            let jurisdiction =
                ctx.actor().and_then(|actor| actor.jurisdiction).map(|j| j.as_str()).unwrap_or_default();
            (
                "/v1/announcements".to_owned(),
                json!({"jurisdiction": jurisdiction, "redemption_ids": ids}),
                queues,
            )
        }
        "disburse" => (
            format!("/v1/redemptions/{}/disbursement", seg(fields.get("redemption_id"))),
            json!({"payment_reference": fields.get("payment_reference")}),
            queues,
        ),
        "suspend-provider" => (
            format!("/v1/providers/{}/suspension", seg(fields.get("provider"))),
            json!({"reason": fields.get("reason")}),
            providers,
        ),
        "close-batch" => (format!("/v1/batches/{}/closure", seg(fields.get("batch_id"))), json!({}), batches),
        "publish-batch" => {
            // Every kind picked in the form's multiple select (the issuance guide may name both).
            let kinds: Vec<&str> =
                all.iter().filter(|(name, _)| name == "eligible_kind").map(|(_, kind)| kind.trim()).collect();
            let mut body = json!({
                "jurisdiction": fields.get("jurisdiction"),
                "fiscal_year": fields.get("fiscal_year").parse::<i64>().unwrap_or_default(),
                "name": fields.get("name"),
                "total": fields.get("total"),
                "face_value": fields.get("face_value"),
                "eligible_kinds": kinds,
                "eligible_industries": names(fields.get("eligible_industries")),
                "eligible_categories": names(fields.get("eligible_categories")),
                "claim_opens": fields.get("claim_opens"),
                "claim_closes": fields.get("claim_closes"),
                "valid_until": fields.get("valid_until"),
            });
            if !fields.get("max_voucher_share").is_empty() {
                body["max_voucher_share"] = json!(fields.get("max_voucher_share"));
            }
            ("/v1/batches".to_owned(), body, batches)
        }
        "clawback" => (
            "/v1/clawbacks".to_owned(),
            json!({"redemption_id": fields.get("redemption_id"), "amount": fields.get("amount"), "reason": fields.get("reason")}),
            enforcement,
        ),
        "recover" => (
            format!("/v1/clawbacks/{}/recoveries", seg(fields.get("clawback_id"))),
            json!({"amount": fields.get("amount")}),
            enforcement,
        ),
        "suspend-applicant" => (
            format!("/v1/applicants/{}/suspension", seg(fields.get("credit_code"))),
            json!({"reason": fields.get("reason")}),
            enforcement,
        ),
        "refer" => (
            "/v1/referrals".to_owned(),
            json!({"party": fields.get("party"), "authority": fields.get("authority"), "note": fields.get("note")}),
            enforcement,
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    if let Err(refusal) = bureau(&ctx) {
        return refusal.into_response();
    }
    perform(&console, &ctx, &fields, &path, &body, render).await
}
