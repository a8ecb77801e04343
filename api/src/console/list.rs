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
use serde::Serialize;
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

/// The rows a request selects, and the page of them shown. Only the rows shown are converted to JSON (every
/// selected row when the list is downloaded as CSV): filtering, sorting and paging read the rows' fields
/// one at a time ([`List::select_views`], [`pick`]).
#[derive(Debug)]
pub struct Selected {
    /// The converted rows: those of the page shown, or every selected row when the request asks for this
    /// list's CSV.
    pub rows: Vec<Value>,
    /// The index among the selected rows of `rows[0]`.
    offset: usize,
    /// How many rows match the filters (every page).
    pub total: usize,
    /// The 1-based page shown.
    pub page: usize,
    pub pages: usize,
    /// The distinct values of each filter field among all the rows (before filtering), for the selects.
    pub choices: Vec<(&'static str, Vec<String>)>,
}

impl Selected {
    /// The rows of the page shown.
    pub fn page_rows(&self) -> &[Value] {
        let start = ((self.page - 1) * PAGE_SIZE).saturating_sub(self.offset);
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

/// A cell's sort key, computed once per row: its text, and its number when the text is a decimal. Two
/// numbers compare as numbers, anything else as text.
struct Key {
    text: String,
    number: Option<Decimal>,
}

impl Key {
    fn of(value: Value) -> Key {
        let text = match value {
            Value::String(text) => text,
            other => text_of(&other),
        };
        // A decimal is digits with at most one point and a leading sign: a date or an id is not tried.
        let numeric = text.bytes().enumerate().all(|(at, byte)| {
            byte.is_ascii_digit() || byte == b'.' || (at == 0 && (byte == b'-' || byte == b'+'))
        });
        let number = if numeric { text.parse::<Decimal>().ok() } else { None };
        Key { text, number }
    }

    fn compare(&self, other: &Key) -> Ordering {
        match (&self.number, &other.number) {
            (Some(a), Some(b)) => a.cmp(b),
            _ => self.text.cmp(&other.text),
        }
    }
}

/// The value of the top-level field `name` of `view` as `crate::views::to_json(view)[name]` would give it
/// (`Null` when absent), without converting the other fields: a serializer that walks the view's fields
/// (flattened ones too) and converts only the one named.
pub fn pick<T: Serialize + ?Sized>(view: &T, name: &str) -> Value {
    view.serialize(Pick { name }).ok().flatten().unwrap_or(Value::Null)
}

mod picking {
    use serde::Serialize;
    use serde::ser::{self, Impossible};
    use serde_json::{Error, Value};

    /// Serializes a struct or a map into the value of its field `name`.
    pub struct Pick<'a> {
        pub name: &'a str,
    }

    /// The fields walked so far: the value found, and whether the map key just given was the name.
    pub struct Fields<'a> {
        name: &'a str,
        found: Option<Value>,
        wanted: bool,
    }

    fn not_a_struct() -> Error {
        ser::Error::custom("not a struct")
    }

    impl<'a> ser::Serializer for Pick<'a> {
        type Ok = Option<Value>;
        type Error = Error;
        type SerializeSeq = Impossible<Option<Value>, Error>;
        type SerializeTuple = Impossible<Option<Value>, Error>;
        type SerializeTupleStruct = Impossible<Option<Value>, Error>;
        type SerializeTupleVariant = Impossible<Option<Value>, Error>;
        type SerializeMap = Fields<'a>;
        type SerializeStruct = Fields<'a>;
        type SerializeStructVariant = Impossible<Option<Value>, Error>;

        fn serialize_bool(self, _: bool) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_i8(self, _: i8) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_i16(self, _: i16) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_i32(self, _: i32) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_i64(self, _: i64) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_u8(self, _: u8) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_u16(self, _: u16) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_u32(self, _: u32) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_u64(self, _: u64) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_f32(self, _: f32) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_f64(self, _: f64) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_char(self, _: char) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_str(self, _: &str) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_bytes(self, _: &[u8]) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_none(self) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok, Error> {
            value.serialize(self)
        }
        fn serialize_unit(self) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            value: &T,
        ) -> Result<Self::Ok, Error> {
            value.serialize(self)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<Self::Ok, Error> {
            Err(not_a_struct())
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
            Err(not_a_struct())
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
            Err(not_a_struct())
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Error> {
            Err(not_a_struct())
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Error> {
            Err(not_a_struct())
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
            Ok(Fields { name: self.name, found: None, wanted: false })
        }
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
            Ok(Fields { name: self.name, found: None, wanted: false })
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Error> {
            Err(not_a_struct())
        }
    }

    /// Serializes a map key into whether it is the text `.0` (without copying it).
    struct KeyIs<'a>(&'a str);

    macro_rules! not_text {
        ($($method:ident($($arg:ty),*)),* $(,)?) => {
            $(fn $method(self, $(_: $arg),*) -> Result<bool, Error> { Ok(false) })*
        };
    }

    impl ser::Serializer for KeyIs<'_> {
        type Ok = bool;
        type Error = Error;
        type SerializeSeq = Impossible<bool, Error>;
        type SerializeTuple = Impossible<bool, Error>;
        type SerializeTupleStruct = Impossible<bool, Error>;
        type SerializeTupleVariant = Impossible<bool, Error>;
        type SerializeMap = Impossible<bool, Error>;
        type SerializeStruct = Impossible<bool, Error>;
        type SerializeStructVariant = Impossible<bool, Error>;

        not_text!(
            serialize_bool(bool),
            serialize_i8(i8),
            serialize_i16(i16),
            serialize_i32(i32),
            serialize_i64(i64),
            serialize_u8(u8),
            serialize_u16(u16),
            serialize_u32(u32),
            serialize_u64(u64),
            serialize_f32(f32),
            serialize_f64(f64),
            serialize_char(char),
            serialize_bytes(&[u8]),
            serialize_none(),
            serialize_unit(),
            serialize_unit_struct(&'static str),
            serialize_unit_variant(&'static str, u32, &'static str),
        );

        fn serialize_str(self, key: &str) -> Result<bool, Error> {
            Ok(key == self.0)
        }
        fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<bool, Error> {
            value.serialize(self)
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            value: &T,
        ) -> Result<bool, Error> {
            value.serialize(self)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<bool, Error> {
            Ok(false)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
            Err(not_a_struct())
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
            Err(not_a_struct())
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Error> {
            Err(not_a_struct())
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Error> {
            Err(not_a_struct())
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
            Err(not_a_struct())
        }
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
            Err(not_a_struct())
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Error> {
            Err(not_a_struct())
        }
    }

    impl ser::SerializeStruct for Fields<'_> {
        type Ok = Option<Value>;
        type Error = Error;

        fn serialize_field<T: Serialize + ?Sized>(
            &mut self,
            key: &'static str,
            value: &T,
        ) -> Result<(), Error> {
            if key == self.name {
                self.found = Some(serde_json::to_value(value)?);
            }
            Ok(())
        }

        fn end(self) -> Result<Self::Ok, Error> {
            Ok(self.found)
        }
    }

    impl ser::SerializeMap for Fields<'_> {
        type Ok = Option<Value>;
        type Error = Error;

        fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
            // A key that is not text (none in the read models' rows) is not the name.
            self.wanted = key.serialize(KeyIs(self.name)).unwrap_or(false);
            Ok(())
        }

        fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
            if std::mem::take(&mut self.wanted) {
                self.found = Some(serde_json::to_value(value)?);
            }
            Ok(())
        }

        fn end(self) -> Result<Self::Ok, Error> {
            Ok(self.found)
        }
    }
}

use picking::Pick;

impl List {
    fn param<'a>(&self, ctx: &'a Ctx, name: &str) -> Option<&'a str> {
        ctx.param(&format!("{}_{name}", self.id))
    }

    /// Whether the request asks for this list's CSV.
    pub fn wants_csv(&self, ctx: &Ctx) -> bool {
        self.param(ctx, "format") == Some("csv")
    }

    /// Filters, sorts and pages `rows` (JSON rows) by the request's query string.
    pub fn select(&self, ctx: &Ctx, rows: Vec<Value>) -> Selected {
        self.select_with(ctx, rows, |row, field| row[field].clone(), |row| row)
    }

    /// Filters, sorts and pages read-model views by the request's query string, reading their fields one
    /// at a time ([`pick`]); only the rows shown (or downloaded) are converted, each as
    /// `crate::views::to_json` converts it.
    pub fn select_views<T: Serialize>(&self, ctx: &Ctx, views: Vec<&T>) -> Selected {
        self.select_with(ctx, views, |view, field| pick(*view, field), |view| crate::views::to_json(view))
    }

    /// Filters, sorts and pages `items` by the request's query string: `field` gives an item's field as its
    /// JSON row holds it (read for the filters, the search and the sort column only), `row` the item's
    /// whole row, called for the rows of the page shown, or for every selected row when the request asks
    /// for this list's CSV.
    pub fn select_with<T>(
        &self,
        ctx: &Ctx,
        items: Vec<T>,
        field: impl Fn(&T, &str) -> Value,
        row: impl FnMut(T) -> Value,
    ) -> Selected {
        // The filter fields' texts of every item, for the selects and the filters.
        let filtered: Vec<Vec<String>> = items
            .iter()
            .map(|item| self.filters.iter().map(|name| text_of(&field(item, name))).collect())
            .collect();
        let choices = self
            .filters
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let mut values: Vec<String> = filtered.iter().map(|texts| texts[index].clone()).collect();
                values.sort();
                values.dedup();
                values.retain(|value| !value.is_empty());
                (*name, values)
            })
            .collect();
        let search = self.param(ctx, "q").map(str::to_lowercase);
        let wanted: Vec<(usize, &str)> = self
            .filters
            .iter()
            .enumerate()
            .filter_map(|(index, name)| Some((index, self.param(ctx, name)?)))
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
        let mut kept: Vec<(Key, T)> = items
            .into_iter()
            .zip(filtered)
            .filter(|(_, texts)| wanted.iter().all(|(index, value)| texts[*index] == *value))
            .filter(|(item, _)| {
                search.as_ref().is_none_or(|search| {
                    self.columns
                        .iter()
                        .any(|column| text_of(&field(item, column.field)).to_lowercase().contains(search))
                })
            })
            .map(|(item, _)| (Key::of(field(&item, sort)), item))
            .collect();
        // A stable sort: rows with equal keys keep the read model's order, in both directions.
        kept.sort_by(|(a, _), (b, _)| {
            let order = a.compare(b);
            if descending { order.reverse() } else { order }
        });
        let total = kept.len();
        let pages = total.div_ceil(PAGE_SIZE).max(1);
        let page = self.param(ctx, "page").and_then(|page| page.parse().ok()).unwrap_or(1).clamp(1, pages);
        let (offset, shown) =
            if self.wants_csv(ctx) { (0, total) } else { ((page - 1) * PAGE_SIZE, PAGE_SIZE) };
        let rows = kept.into_iter().skip(offset).take(shown).map(|(_, item)| item).map(row).collect();
        Selected { rows, offset, total, page, pages, choices }
    }

    /// The selected rows (every page: a request for this list's CSV converts them all) as CSV, with the
    /// list's columns in order, written by the API's CSV writer (`projections::csv`: text quoted,
    /// formula-like cells neutralised).
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
                    (lang.tf("list.count", &[("n", &selected.total.to_string())]))
                }
                @if selected.total == 0 {
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

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;
    use std::collections::HashMap;

    use rust_decimal::Decimal;
    use serde::Serialize;
    use serde_json::{Value, json};

    use super::{Cell, Key, List, PAGE_SIZE, col, pick, text_of};
    use crate::console::i18n::Lang;
    use crate::console::session::Ctx;

    #[derive(Serialize)]
    struct Inner {
        jurisdiction: &'static str,
        categories: Vec<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    }

    #[derive(Serialize)]
    struct Code(String);

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Outcome {
        Full,
        Reduced { approved: String },
    }

    /// A view shaped like the read models' (a flattened part, optional and skipped fields, a newtype, an
    /// enum, numbers kept as decimal text).
    #[derive(Serialize)]
    struct View {
        id: u32,
        #[serde(flatten)]
        inner: Inner,
        code: Code,
        name: String,
        status: &'static str,
        amount: String,
        on: Option<String>,
        outcome: Option<Outcome>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    }

    fn views() -> Vec<View> {
        (0..63u32)
            .map(|id| View {
                id,
                inner: Inner {
                    jurisdiction: if id % 3 == 0 { "guian" } else { "guiyang" },
                    categories: vec!["inspection_testing"; (id % 2) as usize],
                    note: (id % 4 == 0).then(|| format!("note {id}")),
                },
                code: Code(format!("CODE{:04}", (id * 37) % 101)),
                name: format!("Name {}", (id * 7) % 13),
                status: ["applied", "admitted", "rejected"][(id % 3) as usize],
                // Numbers of several widths: sorted as numbers, not as text.
                amount: format!("{}.{:02}", (id * 389) % 1000, id % 100),
                on: (id % 5 != 0).then(|| format!("2026-0{}-1{}", 1 + id % 9, id % 10)),
                outcome: match id % 3 {
                    0 => None,
                    1 => Some(Outcome::Full),
                    _ => Some(Outcome::Reduced { approved: format!("{id}.00") }),
                },
                reason: (id % 7 == 0).then(|| "late".to_owned()),
            })
            .collect()
    }

    const LIST: List = List {
        id: "things",
        columns: &[
            col("name", "field.name", Cell::Text),
            col("code", "field.provider", Cell::Code),
            col("status", "field.status", Cell::Name),
            col("jurisdiction", "field.jurisdiction", Cell::Name),
            col("amount", "field.amount", Cell::Money),
            col("on", "field.applied_on", Cell::Date),
            col("categories", "field.categories", Cell::Items),
        ],
        filters: &["status", "jurisdiction"],
        sort: "on",
        descending: true,
    };

    fn ctx(query: &str) -> Ctx {
        Ctx {
            lang: Lang::En,
            session: None,
            session_id: None,
            csrf: String::new(),
            secure: false,
            here: format!("/things?{query}"),
            query: form_urlencoded::parse(query.as_bytes()).into_owned().collect::<HashMap<_, _>>(),
            forwarded: axum::http::Extensions::new(),
            headers: axum::http::HeaderMap::new(),
        }
    }

    /// What the lists answered when every row was converted first (the code before rows were read one
    /// field at a time): every selected row, the page, the pages, the choices.
    fn converting_everything(
        list: &List,
        ctx: &Ctx,
        rows: Vec<Value>,
    ) -> (Vec<Value>, usize, usize, Vec<Vec<String>>) {
        let param = |name: &str| ctx.param(&format!("{}_{name}", list.id));
        let choices = list
            .filters
            .iter()
            .map(|field| {
                let mut values: Vec<String> = rows.iter().map(|row| text_of(&row[*field])).collect();
                values.sort();
                values.dedup();
                values.retain(|value| !value.is_empty());
                values
            })
            .collect();
        let search = param("q").map(str::to_lowercase);
        let mut rows: Vec<Value> = rows
            .into_iter()
            .filter(|row| {
                list.filters
                    .iter()
                    .all(|field| param(field).is_none_or(|value| text_of(&row[*field]) == value))
            })
            .filter(|row| {
                search.as_ref().is_none_or(|search| {
                    list.columns
                        .iter()
                        .any(|column| text_of(&row[column.field]).to_lowercase().contains(search))
                })
            })
            .collect();
        let sort =
            param("sort").filter(|sort| list.columns.iter().any(|c| c.field == *sort)).unwrap_or(list.sort);
        let descending = match param("dir") {
            Some("desc") => true,
            Some("asc") => false,
            _ => list.descending && sort == list.sort,
        };
        rows.sort_by(|a, b| {
            let (a, b) = (text_of(&a[sort]), text_of(&b[sort]));
            let order = match (a.parse::<Decimal>(), b.parse::<Decimal>()) {
                (Ok(a), Ok(b)) => a.cmp(&b),
                _ => a.cmp(&b),
            };
            if descending { order.reverse() } else { order }
        });
        let pages = rows.len().div_ceil(PAGE_SIZE).max(1);
        let page = param("page").and_then(|page| page.parse().ok()).unwrap_or(1).clamp(1, pages);
        (rows, page, pages, choices)
    }

    #[test]
    fn pick_gives_each_field_as_the_whole_row_has_it() {
        for view in views() {
            let row = crate::views::to_json(&view);
            let fields = row.as_object().expect("an object");
            assert!(fields.contains_key("jurisdiction"), "the flattened part is in the row");
            for (name, value) in fields {
                assert_eq!(&pick(&view, name), value, "{name} of {}", view.id);
            }
            for absent in ["reason_missing", "inner", "approved", ""] {
                assert_eq!(pick(&view, absent), Value::Null, "{absent}");
            }
            if view.reason.is_none() {
                assert_eq!(pick(&view, "reason"), Value::Null, "a skipped field is null");
            }
        }
        assert_eq!(pick(&json!({"a": {"b": 1}}), "a"), json!({"b": 1}), "a map's entry");
        assert_eq!(pick(&json!([1, 2]), "a"), Value::Null, "not a struct");
    }

    #[test]
    fn reading_fields_one_at_a_time_selects_what_converting_every_row_selected() {
        let views = views();
        let rows: Vec<Value> = views.iter().map(crate::views::to_json).collect();
        let mut queries: Vec<String> = vec![
            String::new(),
            "things_page=2".into(),
            "things_page=3".into(),
            "things_page=99".into(),
            "things_page=0".into(),
            "things_page=x".into(),
            "things_status=admitted".into(),
            "things_status=admitted&things_jurisdiction=guian".into(),
            "things_status=nothing".into(),
            "things_q=name%201".into(),
            "things_q=CODE00&things_page=2".into(),
            "things_sort=nowhere".into(),
            "things_format=csv".into(),
            "things_format=csv&things_status=applied&things_sort=amount".into(),
        ];
        for column in LIST.columns {
            for dir in ["", "&things_dir=asc", "&things_dir=desc"] {
                for page in ["", "&things_page=2"] {
                    queries.push(format!("things_sort={}{dir}{page}", column.field));
                }
            }
        }
        for query in &queries {
            let ctx = ctx(query);
            let (every, page, pages, choices) = converting_everything(&LIST, &ctx, rows.clone());
            for selected in [LIST.select_views(&ctx, views.iter().collect()), LIST.select(&ctx, rows.clone())]
            {
                assert_eq!(
                    (selected.page, selected.pages, selected.total),
                    (page, pages, every.len()),
                    "{query}"
                );
                let chosen: Vec<Vec<String>> =
                    selected.choices.iter().map(|(_, values)| values.clone()).collect();
                assert_eq!(chosen, choices, "{query}");
                let start = (page - 1) * PAGE_SIZE;
                let shown: Vec<Value> = every.iter().skip(start).take(PAGE_SIZE).cloned().collect();
                assert_eq!(selected.page_rows(), shown.as_slice(), "{query}");
                if LIST.wants_csv(&ctx) {
                    assert_eq!(selected.rows, every, "{query}: the CSV has every selected row");
                } else {
                    assert_eq!(selected.rows.len(), shown.len(), "{query}: only the page is converted");
                }
            }
        }
        // The cases above cover more than one page, empty selections and both directions.
        let ctx = ctx("");
        assert!(LIST.select_views(&ctx, views.iter().collect()).pages > 2);
        assert_eq!(Key::of(json!("10.5")).compare(&Key::of(json!("9"))), Ordering::Greater);
        assert_eq!(Key::of(json!("-12.00")).compare(&Key::of(json!("3"))), Ordering::Less);
        assert_eq!(Key::of(json!(7)).compare(&Key::of(json!("10"))), Ordering::Less, "a JSON number");
        assert_eq!(
            Key::of(json!("2025-10-09")).compare(&Key::of(json!("2025-9-30"))),
            Ordering::Less,
            "text"
        );
    }
}
