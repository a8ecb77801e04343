//! Tables of the read models: the rows that list queries answer (as JSON, or CSV) and that
//! `voucher-ledger export PROJECTION` writes as CSV. One function per table, so that an export and its
//! HTTP list give the same rows.

use domain::{AccountKind, Jurisdiction};
use projections::Projections;
use serde_json::{Value, json};

/// `view` as JSON (`Null` only if a view cannot be serialized, which the derived impls rule out).
pub fn to_json<T: serde::Serialize>(view: &T) -> Value {
    serde_json::to_value(view).unwrap_or(Value::Null)
}

/// What a column holds, as a spreadsheet cell types it ([`crate::xlsx`]). Rows are JSON, where an amount or
/// a date is a string: the kind says what the string is, so a cell's type never depends on its text's look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Money (`Cny`, `Balance`): a decimal's text with two places; a number shown `#,##0.00`.
    Amount,
    /// Another decimal's text (a share of a total); a number.
    Decimal,
    /// A `YYYY-MM-DD` business date; a date cell.
    Date,
    /// An RFC 3339 instant; a date-time cell (UTC).
    Instant,
    /// A JSON integer (a count, a year, a log position); a number.
    Integer,
    /// A JSON number that may have a fraction (a mean, a score); a number.
    Number,
    /// A JSON boolean; a boolean cell.
    Boolean,
    /// Text: identifiers (credit codes, UUIDs, hashes), names, statuses, and lists or objects as their JSON
    /// text; a text cell.
    Text,
}

/// The kind of every column of the tables above and of the query answers, by field name (a name means one
/// thing in every table; a list or an object is always a text cell of its JSON, so `vouchers`, a count in
/// `applicant-years`, is also the list of an applicant's vouchers in its answer). `tests/tests/it/exports.rs`
/// checks that every column of every table and answer is here, so a new field is typed on purpose (an
/// undeclared one is typed by its JSON value).
pub const COLUMNS: &[(&str, Kind)] = {
    use Kind::{Amount, Boolean, Date, Decimal, Instant, Integer, Number, Text};
    &[
        // Money.
        ("allocated_to_batches", Amount),
        ("annual_cap", Amount),
        ("appropriated", Amount),
        ("approved", Amount),
        ("available", Amount),
        ("balance", Amount),
        ("clawed_back", Amount),
        ("committed", Amount),
        ("completed", Amount),
        ("disbursed", Amount),
        ("face_value", Amount),
        ("issued", Amount),
        ("issued_total", Amount),
        ("receivable", Amount),
        ("recovered", Amount),
        ("released", Amount),
        ("remaining", Amount),
        ("requested", Amount),
        ("returned", Amount),
        ("returned_after_expiry", Amount),
        ("returned_from_batches", Amount),
        ("returned_on_close", Amount),
        ("total", Amount),
        ("voucher_amount", Amount),
        ("amount", Amount),
        // Other decimals.
        ("max_voucher_share", Decimal),
        // Business dates.
        ("admitted_on", Date),
        ("announced_on", Date),
        ("announcement_closes", Date),
        ("applied_on", Date),
        ("business_date", Date),
        ("claim_closes", Date),
        ("claim_opens", Date),
        ("closed_on", Date),
        ("closes_on", Date),
        ("completed_on", Date),
        ("disbursed_on", Date),
        ("drawn_on", Date),
        ("filed_on", Date),
        ("issued_on", Date),
        ("ordered_on", Date),
        ("redemption_deadline", Date),
        ("requested_on", Date),
        ("submitted_on", Date),
        ("term_end", Date),
        ("term_start", Date),
        ("valid_until", Date),
        // Instants.
        ("recorded_at", Instant),
        // Integers.
        ("announced_at_position", Integer),
        ("applied_at_position", Integer),
        ("as_of_position", Integer),
        ("batches", Integer),
        ("contracts_completed", Integer),
        ("fiscal_year", Integer),
        ("issued_at_position", Integer),
        ("item_count", Integer),
        ("objections_open", Integer),
        ("population", Integer),
        ("position", Integer),
        ("published_at_position", Integer),
        ("rank", Integer),
        ("ratings", Integer),
        ("redemption_days", Integer),
        ("redemptions_disbursed", Integer),
        ("registered_at_position", Integer),
        ("requested_at_position", Integer),
        ("size", Integer),
        ("stream_version", Integer),
        ("submitted_at_position", Integer),
        ("vouchers", Integer),
        ("vouchers_issued", Integer),
        ("year", Integer),
        // Fractional numbers.
        ("mean", Number),
        ("prior_mean", Number),
        ("prior_weight", Number),
        ("score", Number),
        // Flags.
        ("closed", Boolean),
        ("independent_legal_person", Boolean),
        ("lapsed", Boolean),
        ("suspended", Boolean),
        ("tax_compliant", Boolean),
        // Text.
        ("account", Text),
        ("actor", Text),
        ("announcement_id", Text),
        ("applicant", Text),
        ("batch_id", Text),
        ("by_jurisdiction", Text),
        ("cancellation_reason", Text),
        ("categories", Text),
        ("category", Text),
        ("checkpoint", Text),
        ("clawbacks", Text),
        ("contact", Text),
        ("contract_id", Text),
        ("contract_ids", Text),
        ("credit_code", Text),
        ("denial", Text),
        ("description", Text),
        ("detail", Text),
        ("document_sha256", Text),
        ("drawn_by", Text),
        ("eligible_categories", Text),
        ("eligible_industries", Text),
        ("eligible_kinds", Text),
        ("findings", Text),
        ("hash", Text),
        ("industry", Text),
        ("invoice", Text),
        ("jurisdiction", Text),
        ("jurisdictions", Text),
        ("kind", Text),
        ("name", Text),
        ("objections", Text),
        ("payload", Text),
        ("payment_reference", Text),
        ("policy_id", Text),
        ("prev_hash", Text),
        ("project_code", Text),
        ("provider", Text),
        ("provider_name", Text),
        ("qualifications", Text),
        ("rating", Text),
        ("reason", Text),
        ("records", Text),
        ("redemption_id", Text),
        ("redemption_ids", Text),
        ("referrals", Text),
        ("rejection_reason", Text),
        ("remittance_proof", Text),
        ("results", Text),
        ("review", Text),
        ("sample_id", Text),
        ("seed", Text),
        ("signed_by", Text),
        ("status", Text),
        ("stream", Text),
        ("struck_by", Text),
        ("subject", Text),
        ("submitted_by", Text),
        ("suspension_reason", Text),
        ("type", Text),
        ("voucher_id", Text),
    ]
};

/// The declared kind of the column `name` ([`COLUMNS`]), or `None` for a column no table declares.
pub fn column_kind(name: &str) -> Option<Kind> {
    COLUMNS.iter().find(|(column, _)| *column == name).map(|(_, kind)| *kind)
}

/// The tables `export` knows, with what each holds: the joined tables below ([`JOINED`]) and those the
/// registered read models export by themselves ([`Projections::tables`]).
pub static EXPORTS: std::sync::LazyLock<Vec<(&'static str, &'static str)>> =
    std::sync::LazyLock::new(|| JOINED.iter().copied().chain(Projections::tables()).collect());

/// The tables of this file, each built from one or more read models.
pub const JOINED: [(&str, &str); 13] = [
    ("vouchers", "every voucher with its available and committed balances"),
    ("applicant-years", "what each applicant was issued per calendar year, against its annual cap"),
    ("applicants", "every registration and its standing"),
    ("providers", "every provider's application and standing"),
    ("provider-balances", "what each provider was owed, returned, paid, clawed back and recovered"),
    ("batches", "every batch's guide, what it issued and what remains"),
    ("budgets", "every fiscal year's budget and what is available"),
    ("trial-balance", "every account kind of both jurisdictions (each jurisdiction sums to zero)"),
    ("rankings", "providers by the Bayesian average of their ratings, with the prior"),
    ("contracts", "every contract and where it stands"),
    ("redemptions", "every redemption and where it stands"),
    ("announcements", "every redemption announcement list"),
    ("anomalies", "fraud and error signals, each with the records behind it"),
];

/// The rows of the table `name`, or `None` for a name not in [`EXPORTS`].
pub fn rows(projections: &Projections, name: &str) -> Option<Vec<Value>> {
    Some(match name {
        "vouchers" => vouchers(projections),
        "applicant-years" => applicant_years(projections),
        "applicants" => applicants(projections),
        "providers" => projections.lifecycle.providers().iter().map(to_json).collect(),
        "provider-balances" => provider_balances(projections),
        "batches" => batches(projections),
        "budgets" => budgets(projections),
        "trial-balance" => [Jurisdiction::Guiyang, Jurisdiction::Guian]
            .into_iter()
            .flat_map(|jurisdiction| trial_balance(projections, jurisdiction))
            .collect(),
        "rankings" => rankings(projections, None),
        "contracts" => projections.lifecycle.contracts().iter().map(to_json).collect(),
        "redemptions" => projections.lifecycle.redemptions().iter().map(to_json).collect(),
        "announcements" => announcements(projections),
        "anomalies" => anomalies(projections),
        other => return projections.table(other),
    })
}

/// A voucher with its balances, as `GET /v1/vouchers/{id}` answers it (without `position`).
pub fn voucher_row(projections: &Projections, voucher_id: uuid::Uuid) -> Option<Value> {
    let (view, available, committed) = projections.balances.voucher(voucher_id)?;
    let mut row = to_json(view);
    row["available"] = json!(available);
    row["committed"] = json!(committed);
    Some(row)
}

/// Every voucher with its balances, in issuance order.
pub fn vouchers(projections: &Projections) -> Vec<Value> {
    projections
        .balances
        .vouchers()
        .into_iter()
        .filter_map(|(view, _, _)| voucher_row(projections, view.voucher_id))
        .collect()
}

/// What each applicant was issued per year.
pub fn applicant_years(projections: &Projections) -> Vec<Value> {
    projections
        .balances
        .issued_by_year()
        .into_iter()
        .map(|(credit_code, year, issued)| {
            json!({
                "credit_code": credit_code,
                "year": year,
                "issued_total": issued.issued_total,
                "vouchers": issued.vouchers,
                "annual_cap": issued.annual_cap,
            })
        })
        .collect()
}

/// Every registration, in registration order.
pub fn applicants(projections: &Projections) -> Vec<Value> {
    let mut views = projections.applicants.all();
    views.sort_by_key(|view| view.registered_at_position);
    views.into_iter().map(to_json).collect()
}

/// A provider's money, as `GET /v1/providers/{code}/balance` answers it (without `position`): the totals
/// over the jurisdictions it was paid in (`completed`, `receivable`, ...; `jurisdiction` is the one that
/// admitted it), and beside them `by_jurisdiction`, one entry per jurisdiction it was paid in (SPEC §8).
pub fn provider_balance_row(projections: &Projections, provider: &domain::CreditCode) -> Option<Value> {
    let (view, receivable) = projections.balances.provider(provider)?;
    let application = projections.lifecycle.provider(provider).map(|p| &p.application);
    let mut row = to_json(&view);
    row["receivable"] = json!(receivable);
    row["name"] = json!(application.map(|a| a.name.clone()));
    if let Some(application) = application {
        row["jurisdiction"] = json!(application.jurisdiction);
    }
    let by_jurisdiction: Vec<Value> = projections
        .balances
        .provider_by_jurisdiction(provider)
        .into_iter()
        .map(|(view, receivable)| jurisdiction_row(view, receivable))
        .collect();
    row["by_jurisdiction"] = json!(by_jurisdiction);
    Some(row)
}

/// One jurisdiction's figures of a provider (without the provider's code and name).
fn jurisdiction_row(view: &projections::balances::ProviderBalanceView, receivable: domain::Balance) -> Value {
    let mut row = to_json(view);
    if let Some(fields) = row.as_object_mut() {
        fields.remove("provider");
    }
    row["receivable"] = json!(receivable);
    row
}

/// Every provider's money, one row per provider and jurisdiction it was paid in (by credit code, then
/// jurisdiction), so no row mixes two jurisdictions' money.
pub fn provider_balances(projections: &Projections) -> Vec<Value> {
    projections
        .balances
        .providers()
        .into_iter()
        .map(|(view, receivable)| {
            let mut row = to_json(view);
            row["receivable"] = json!(receivable);
            let name = projections.lifecycle.provider(&view.provider).map(|p| p.application.name.clone());
            row["name"] = json!(name);
            row
        })
        .collect()
}

/// A batch with what remains, as `GET /v1/batches/{id}` answers it (without `position`).
pub fn batch_row(projections: &Projections, batch_id: uuid::Uuid) -> Option<Value> {
    let (view, remaining) = projections.balances.batch(batch_id)?;
    let mut row = to_json(view);
    row["remaining"] = json!(remaining);
    Some(row)
}

/// Every batch, in publication order.
pub fn batches(projections: &Projections) -> Vec<Value> {
    projections
        .balances
        .batches()
        .into_iter()
        .filter_map(|(view, _)| batch_row(projections, view.batch_id))
        .collect()
}

/// A budget, as `GET /v1/budgets/{jurisdiction}/{year}` answers it (without `position`).
pub fn budget_row(projections: &Projections, jurisdiction: Jurisdiction, fiscal_year: i32) -> Option<Value> {
    let (view, available) = projections.balances.budget(jurisdiction, fiscal_year)?;
    let mut row = to_json(view);
    row["jurisdiction"] = json!(jurisdiction);
    row["fiscal_year"] = json!(fiscal_year);
    row["available"] = json!(available);
    Some(row)
}

/// Every budget, by jurisdiction and fiscal year.
pub fn budgets(projections: &Projections) -> Vec<Value> {
    projections
        .balances
        .budgets()
        .into_iter()
        .filter_map(|(jurisdiction, year, _, _)| budget_row(projections, jurisdiction, year))
        .collect()
}

/// A jurisdiction's trial balance: one row per account kind of SPEC §5.
pub fn trial_balance(projections: &Projections, jurisdiction: Jurisdiction) -> Vec<Value> {
    let (accounts, _total) = projections.balances.trial_balance(jurisdiction);
    AccountKind::ALL
        .iter()
        .map(|kind| {
            json!({
                "jurisdiction": jurisdiction,
                "account": kind.as_str(),
                "balance": accounts.get(kind).copied().unwrap_or_default(),
            })
        })
        .collect()
}

/// The providers ranked by the Bayesian average of their ratings (overall, or in one category); each row
/// states the prior too, so that a CSV row carries it.
pub fn rankings(projections: &Projections, category: Option<&str>) -> Vec<Value> {
    projections
        .rankings
        .ranking(category)
        .iter()
        .map(|ranked| ranking_row(projections, ranked, category))
        .collect()
}

/// One row of [`rankings`].
pub fn ranking_row(
    projections: &Projections,
    ranked: &projections::rankings::RankedProvider,
    category: Option<&str>,
) -> Value {
    let prior = projections::rankings::PRIOR;
    let mut row = to_json(ranked);
    row["name"] = json!(projections.lifecycle.provider(&ranked.provider).map(|p| p.application.name.clone()));
    row["category"] = json!(category);
    row["prior_mean"] = json!(prior.mean);
    row["prior_weight"] = json!(prior.weight);
    row
}

/// Every announcement list with its items' count.
pub fn announcements(projections: &Projections) -> Vec<Value> {
    announcements_where(projections, |_| true)
}

/// The announcement lists `keep` accepts, as rows of [`announcements`] (only those are converted).
pub fn announcements_where(
    projections: &Projections,
    keep: impl Fn(&projections::lifecycle::AnnouncementView) -> bool,
) -> Vec<Value> {
    projections
        .lifecycle
        .announcements()
        .into_iter()
        .filter(|view| keep(view))
        .map(|view| {
            let mut row = to_json(view);
            row["item_count"] = json!(view.redemption_ids.len());
            row
        })
        .collect()
}

/// Every anomaly signal, ordered by the first record behind it.
pub fn anomalies(projections: &Projections) -> Vec<Value> {
    projections.anomalies.signals().iter().map(to_json).collect()
}

#[cfg(test)]
mod tests {
    use projections::Projections;

    /// Every table `export` lists has rows (the joined ones and those the registered models export), and
    /// no name is listed twice.
    #[test]
    fn every_export_is_known_once() {
        let empty = Projections::new();
        let names: Vec<&str> = super::EXPORTS.iter().map(|(name, _)| *name).collect();
        assert!(names.len() >= super::JOINED.len(), "{names:?}");
        for name in &names {
            assert!(super::rows(&empty, name).is_some(), "{name} has no rows");
            assert_eq!(names.iter().filter(|other| *other == name).count(), 1, "{name} is listed twice");
        }
        assert!(super::rows(&empty, "no-such-table").is_none());
    }

    /// A column is declared once.
    #[test]
    fn every_column_is_declared_once() {
        for (name, _) in super::COLUMNS {
            assert_eq!(super::COLUMNS.iter().filter(|(other, _)| other == name).count(), 1, "{name}");
        }
    }
}
