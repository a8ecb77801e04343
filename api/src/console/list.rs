//! Every list of the console pages, sorts, filters and downloads as CSV, the same way: a [`List`] names its
//! columns and filters; [`List::select`] applies the request's query string to the rows (the read models'
//! rows as `crate::views` writes them, already limited to what the caller may read); [`List::render`]
//! writes the table with its filter form, sort links, pager and CSV link; [`List::csv`] answers the
//! filtered, sorted rows (every page) in the API's CSV (`projections::csv`).
//!
//! Query parameters are prefixed by the list's id, so two lists on one page do not mix:
//! `{id}_page` (from 1), `{id}_sort` (a column's field), `{id}_dir` (`asc`/`desc`), `{id}_q` (text
//! contained in any column), `{id}_{field}` (a filter: equal), `{id}_format=csv` (the download).

use std::cmp::Ordering;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::console::session::Ctx;

/// Rows per page.
pub const PAGE_SIZE: usize = 25;

/// How a cell is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// As it is.
    Text,
    /// An amount: `¥1,250.50`.
    Money,
    /// A business date in the page's language.
    Date,
    /// An identifier or hash, in monospace.
    Code,
    /// A status or enumerated name, looked up as `value.{text}` in the catalogue.
    Name,
    /// A list (JSON array): its items, comma separated.
    Items,
}

/// A column: the row's field, the catalogue key of its heading, how its cells are shown.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub field: &'static str,
    pub heading: &'static str,
    pub cell: Cell,
}

/// A column (shorthand).
pub const fn col(field: &'static str, heading: &'static str, cell: Cell) -> Column {
    Column { field, heading, cell }
}

/// A list: its id (also its `data-testid` and the prefix of its query parameters), columns, the fields it
/// filters by (a select of the values present), its default sort.
#[derive(Clone, Copy, Debug)]
pub struct List {
    pub id: &'static str,
    pub columns: &'static [Column],
    pub filters: &'static [&'static str],
    pub sort: &'static str,
    pub descending: bool,
}

/// The rows a request selects, and the page of them shown.
#[derive(Debug)]
pub struct Selected {
    /// Every row matching the filters, sorted.
    pub rows: Vec<Value>,
    /// The 1-based page shown.
    pub page: usize,
    pub pages: usize,
    /// The distinct values of each filter field among all the rows (before filtering), for the selects.
    pub choices: Vec<(&'static str, Vec<String>)>,
}

impl Selected {
    /// The rows of the page shown.
    pub fn page_rows(&self) -> &[Value] {
        let start = (self.page - 1) * PAGE_SIZE;
        let end = (start + PAGE_SIZE).min(self.rows.len());
        self.rows.get(start..end).unwrap_or_default()
    }
}

/// A cell's text for sorting, filtering and CSV: strings as they are, other values as JSON.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn compare(a: &Value, b: &Value) -> Ordering {
    let (a, b) = (text_of(a), text_of(b));
    match (a.parse::<Decimal>(), b.parse::<Decimal>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.cmp(&b),
    }
}

impl List {
    fn param<'a>(&self, ctx: &'a Ctx, name: &str) -> Option<&'a str> {
        ctx.param(&format!("{}_{name}", self.id))
    }

    /// Whether the request asks for this list's CSV.
    pub fn wants_csv(&self, ctx: &Ctx) -> bool {
        self.param(ctx, "format") == Some("csv")
    }

    /// Filters, sorts and pages `rows` by the request's query string.
    pub fn select(&self, ctx: &Ctx, rows: Vec<Value>) -> Selected {
        let choices = self
            .filters
            .iter()
            .map(|field| {
                let mut values: Vec<String> = rows.iter().map(|row| text_of(&row[*field])).collect();
                values.sort();
                values.dedup();
                values.retain(|value| !value.is_empty());
                (*field, values)
            })
            .collect();
        let search = self.param(ctx, "q").map(str::to_lowercase);
        let wanted: Vec<(&str, &str)> =
            self.filters.iter().filter_map(|field| Some((*field, self.param(ctx, field)?))).collect();
        let mut rows: Vec<Value> = rows
            .into_iter()
            .filter(|row| wanted.iter().all(|(field, value)| text_of(&row[*field]) == *value))
            .filter(|row| {
                search.as_ref().is_none_or(|search| {
                    self.columns
                        .iter()
                        .any(|column| text_of(&row[column.field]).to_lowercase().contains(search))
                })
            })
            .collect();
        let sort = self
            .param(ctx, "sort")
            .filter(|sort| self.columns.iter().any(|column| column.field == *sort))
            .unwrap_or(self.sort);
        let descending = match self.param(ctx, "dir") {
            Some("desc") => true,
            Some("asc") => false,
            _ => self.descending && sort == self.sort,
        };
        rows.sort_by(|a, b| {
            let order = compare(&a[sort], &b[sort]);
            if descending { order.reverse() } else { order }
        });
        let pages = rows.len().div_ceil(PAGE_SIZE).max(1);
        let page = self.param(ctx, "page").and_then(|page| page.parse().ok()).unwrap_or(1).clamp(1, pages);
        Selected { rows, page, pages, choices }
    }

    /// The selected rows (every page) as CSV, with the list's columns in order, written by the API's CSV
    /// writer (`projections::csv`: text quoted, formula-like cells neutralised).
    pub fn csv(&self, selected: &Selected) -> Response {
        let rows: Vec<Value> = selected
            .rows
            .iter()
            .map(|row| {
                let mut out = serde_json::Map::new();
                for column in self.columns {
                    out.insert(column.field.to_owned(), row[column.field].clone());
                }
                Value::Object(out)
            })
            .collect();
        let body = projections::csv::to_string(&rows);
        let mut response = (StatusCode::OK, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{}.csv\"", self.id)) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        response
    }

    /// A link to this page with `changes` made to the query string (others kept).
    fn link(&self, ctx: &Ctx, changes: &[(String, Option<String>)]) -> String {
        let mut pairs: Vec<(String, String)> = ctx
            .query
            .iter()
            .filter(|(name, _)| {
                name.as_str() != "done" && !changes.iter().any(|(changed, _)| changed == *name)
            })
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        for (name, value) in changes {
            if let Some(value) = value {
                pairs.push((name.clone(), value.clone()));
            }
        }
        pairs.sort();
        let path = ctx.here.split('?').next().unwrap_or("/");
        if pairs.is_empty() {
            return path.to_owned();
        }
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        format!("{path}?{query}")
    }

    /// The table with its filter form, sort links, pager and CSV link; `actions` renders a row's last cell
    /// (its forms), or nothing.
    pub fn render(
        &self,
        ctx: &Ctx,
        selected: &Selected,
        actions: Option<&dyn Fn(&Value) -> Markup>,
    ) -> Markup {
        let lang = ctx.lang;
        let id = self.id;
        let current_sort = self.param(ctx, "sort").unwrap_or(self.sort);
        let current_desc = match self.param(ctx, "dir") {
            Some(dir) => dir == "desc",
            None => self.descending && current_sort == self.sort,
        };
        let path = ctx.here.split('?').next().unwrap_or("/").to_owned();
        let csv =
            self.link(ctx, &[(format!("{id}_format"), Some("csv".into())), (format!("{id}_page"), None)]);
        html! {
            section.list id=(id) data-testid=(id) {
                form.filters method="get" action=(path) data-testid=(format!("{id}-filters")) {
                    label {
                        (lang.t("list.search"))
                        input type="search" name=(format!("{id}_q")) value=(self.param(ctx, "q").unwrap_or_default());
                    }
                    @for (field, values) in &selected.choices {
                        @let name = format!("{id}_{field}");
                        @let chosen = self.param(ctx, field).unwrap_or_default();
                        label {
                            (lang.t(&format!("field.{field}")))
                            select name=(name) {
                                option value="" { (lang.t("list.any")) }
                                @for value in values {
                                    option value=(value) selected[value == chosen] { (shown(ctx, self, field, value)) }
                                }
                            }
                        }
                    }
                    button type="submit" { (lang.t("list.apply")) }
                    a.csv href=(csv) data-testid=(format!("{id}-csv")) download { (lang.t("list.csv")) }
                }
                p.count data-testid=(format!("{id}-count")) {
                    (lang.tf("list.count", &[("n", &selected.rows.len().to_string())]))
                }
                @if selected.rows.is_empty() {
                    p.empty data-testid=(format!("{id}-empty")) { (lang.t("list.empty")) }
                } @else {
                    div.scroll {
                        table {
                            thead { tr {
                                @for column in self.columns {
                                    @let desc = column.field == current_sort && !current_desc;
                                    @let href = self.link(ctx, &[
                                        (format!("{id}_sort"), Some(column.field.to_owned())),
                                        (format!("{id}_dir"), Some(if desc { "desc" } else { "asc" }.to_owned())),
                                        (format!("{id}_page"), None),
                                    ]);
                                    th scope="col" aria-sort=(if column.field == current_sort { if current_desc { "descending" } else { "ascending" } } else { "none" }) {
                                        a href=(href) { (lang.t(column.heading)) }
                                    }
                                }
                                @if actions.is_some() { th scope="col" { (lang.t("list.actions")) } }
                            } }
                            tbody {
                                @for row in selected.page_rows() {
                                    tr {
                                        @for column in self.columns {
                                            td.(cell_class(column.cell)) { (cell(ctx, column, &row[column.field])) }
                                        }
                                        @if let Some(actions) = actions { td.actions { (actions(row)) } }
                                    }
                                }
                            }
                        }
                    }
                }
                @if selected.pages > 1 {
                    nav.pager aria-label=(lang.t("list.pages")) data-testid=(format!("{id}-pager")) {
                        @if selected.page > 1 {
                            a rel="prev" href=(self.link(ctx, &[(format!("{id}_page"), Some((selected.page - 1).to_string()))])) { (lang.t("list.prev")) }
                        }
                        span { (lang.tf("list.page", &[("page", &selected.page.to_string()), ("pages", &selected.pages.to_string())])) }
                        @if selected.page < selected.pages {
                            a rel="next" href=(self.link(ctx, &[(format!("{id}_page"), Some((selected.page + 1).to_string()))])) { (lang.t("list.next")) }
                        }
                    }
                }
            }
        }
    }
}

fn cell_class(cell: Cell) -> &'static str {
    match cell {
        Cell::Money => "num",
        Cell::Code => "code",
        _ => "text",
    }
}

/// A filter value as shown: enumerated names (the usual fields, and any the list shows as `Cell::Name`)
/// through the catalogue, other values as they are.
fn shown(ctx: &Ctx, list: &List, field: &str, value: &str) -> String {
    let named = list.columns.iter().any(|column| column.field == field && matches!(column.cell, Cell::Name));
    match field {
        "status" | "jurisdiction" | "kind" | "category" | "decision" => name(ctx, value),
        _ if named => name(ctx, value),
        _ => value.to_owned(),
    }
}

/// An enumerated name (`admitted`, `guiyang`, ...) in the page's language (`value.{name}`).
pub fn name(ctx: &Ctx, value: &str) -> String {
    let key = format!("value.{value}");
    match crate::console::i18n::CATALOGUE.get(ctx.lang, &key) {
        Some(text) => text.to_owned(),
        None => value.to_owned(),
    }
}

/// A cell as shown.
pub fn cell(ctx: &Ctx, column: &Column, value: &Value) -> Markup {
    let text = text_of(value);
    html! {
        @match column.cell {
            Cell::Money => { @if !text.is_empty() { (ctx.lang.money_text(&text)) } }
            Cell::Date => { (ctx.lang.date_text(&text)) }
            Cell::Code => { code { (text) } }
            Cell::Name => { (name(ctx, &text)) }
            Cell::Items => {
                @let items: Vec<String> = value.as_array().map(|items| items.iter().map(|item| name(ctx, &text_of(item))).collect()).unwrap_or_default();
                (items.join(", "))
            }
            Cell::Text => { (text) }
        }
    }
}
