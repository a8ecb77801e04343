//! XLSX of query rows: the same rows as CSV ([`projections::csv`]), as a workbook whose cells are typed, for
//! the bureau's staff who open exports in Excel or WPS (a CSV without a byte-order mark reads as GBK there).
//!
//! One sheet per table: a bold header row (the columns, in the order CSV writes them), frozen below it, and a
//! row per JSON row. A cell's type comes from its column's declared kind ([`crate::views::column_kind`],
//! beside the table definitions), not from the look of its text: amounts are numbers shown with two decimals
//! (`#,##0.00`), dates are date cells (`yyyy-mm-dd`), instants are date-time cells in UTC, counts and
//! positions are numbers, flags are booleans, and everything else is a text cell (a credit code of 18 digits
//! stays text, never a rounded number). A list or an object is the text of its JSON, as in CSV, and so is a
//! value that does not fit its column's kind, so nothing is lost. A column no table declares is typed by its JSON value (number, boolean, or text).
//!
//! Formula injection: a text cell is always a string, never a formula, whatever it begins with; one a
//! spreadsheet would run if it were typed in ([`projections::csv::is_formula_like`]) also carries Excel's
//! quote prefix, so that editing the cell keeps it text (the XLSX form of the CSV's leading `'`), while its
//! value stays the JSON text itself.

use std::collections::HashMap;

use rust_decimal::Decimal;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};
use serde_json::Value;

use crate::error::ApiError;
use crate::views::{Kind, column_kind};

/// The media type of an XLSX workbook (`Accept:` it, or `?format=xlsx`).
pub const MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The most characters a cell holds (Excel's limit).
pub const CELL_CHARS_MAX: usize = 32_767;

/// The most rows a sheet holds, the header included (Excel's limit).
pub const SHEET_ROWS_MAX: usize = 1_048_576;

/// The most columns a sheet holds (Excel's limit).
pub const SHEET_COLUMNS_MAX: usize = 16_384;

/// The number format of amounts: thousands separated, two decimals.
pub const AMOUNT_FORMAT: &str = "#,##0.00";

/// The number format of dates.
pub const DATE_FORMAT: &str = "yyyy-mm-dd";

/// The number format of instants (UTC, as the JSON's `Z` says).
pub const INSTANT_FORMAT: &str = "yyyy-mm-dd hh:mm:ss";

/// The longest a column is made, in character widths (longer text wraps past the cell's edge, as usual).
const COLUMN_WIDTH_MAX: usize = 60;

/// One sheet: its name (made valid: at most 31 characters, none of `[]:*?/\`) and its rows.
#[derive(Clone, Copy, Debug)]
pub struct Sheet<'a> {
    pub name: &'a str,
    pub rows: &'a [Value],
}

/// Why a workbook could not be written.
#[derive(Debug, thiserror::Error)]
pub enum XlsxError {
    #[error(
        "sheet {sheet:?}, row {row}, column {column:?} holds {chars} characters, more than a spreadsheet cell \
         holds ({CELL_CHARS_MAX}): ask for CSV or JSON"
    )]
    CellTooLong { sheet: String, row: usize, column: String, chars: usize },
    #[error(
        "sheet {sheet:?} has {rows} rows, more than a spreadsheet holds ({} below its header): ask for CSV or \
         JSON, or fewer rows",
        SHEET_ROWS_MAX - 1
    )]
    TooManyRows { sheet: String, rows: usize },
    #[error("sheet {sheet:?} has {columns} columns, more than a spreadsheet holds ({SHEET_COLUMNS_MAX})")]
    TooManyColumns { sheet: String, columns: usize },
    #[error("writing XLSX: {0}")]
    Writer(#[from] rust_xlsxwriter::XlsxError),
}

impl From<XlsxError> for ApiError {
    /// A table that does not fit a spreadsheet is 406 `xlsx_limit` (the same rows are there as CSV or JSON);
    /// a failure of the writer itself is 500.
    fn from(error: XlsxError) -> ApiError {
        match error {
            XlsxError::CellTooLong { .. }
            | XlsxError::TooManyRows { .. }
            | XlsxError::TooManyColumns { .. } => {
                ApiError::new(axum::http::StatusCode::NOT_ACCEPTABLE, "xlsx_limit", error.to_string())
            }
            XlsxError::Writer(_) => {
                tracing::error!(%error, "XLSX answer failed");
                ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", error.to_string())
            }
        }
    }
}

/// A valid sheet name from `name`: the characters Excel refuses replaced by `_`, at most 31 characters (of
/// UTF-16), not blank, not starting or ending with an apostrophe.
pub fn sheet_name(name: &str) -> String {
    let mut out = String::new();
    let mut units = 0;
    for c in name.chars() {
        let c = if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') { '_' } else { c };
        if units + c.len_utf16() > 31 {
            break;
        }
        units += c.len_utf16();
        out.push(c);
    }
    let out = out.trim_matches('\'');
    if out.is_empty() { "rows".to_owned() } else { out.to_owned() }
}

/// The formats of one workbook.
struct Formats {
    header: Format,
    amount: Format,
    integer: Format,
    date: Format,
    instant: Format,
    /// A text cell that a spreadsheet would run as a formula if typed in: Excel's quote prefix.
    quoted: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new().set_bold(),
            amount: Format::new().set_num_format(AMOUNT_FORMAT),
            integer: Format::new().set_num_format("0"),
            date: Format::new().set_num_format(DATE_FORMAT),
            instant: Format::new().set_num_format(INSTANT_FORMAT),
            quoted: Format::new().set_quote_prefix(),
        }
    }
}

/// The workbook of `sheets`, as the bytes of an `.xlsx` file.
///
/// # Errors
/// When a sheet exceeds a spreadsheet's limits (rows, columns, characters in a cell), or the writer fails.
pub fn workbook(sheets: &[Sheet<'_>]) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let mut used: Vec<String> = Vec::new();
    for sheet in sheets {
        let mut name = sheet_name(sheet.name);
        // Sheet names are unique in a workbook (Excel compares them without case).
        let mut n = 1;
        while used.iter().any(|other| other.eq_ignore_ascii_case(&name)) {
            n += 1;
            let suffix = format!(" ({n})");
            name = format!(
                "{}{suffix}",
                sheet_name(sheet.name).chars().take(31 - suffix.len()).collect::<String>()
            );
        }
        used.push(name.clone());
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(&name)?;
        write_sheet(worksheet, &name, sheet.rows, &formats)?;
    }
    if sheets.is_empty() {
        workbook.add_worksheet();
    }
    Ok(workbook.save_to_buffer()?)
}

/// Writes the header and the rows of one sheet, its frozen pane and its column widths.
fn write_sheet(
    worksheet: &mut Worksheet,
    name: &str,
    rows: &[Value],
    formats: &Formats,
) -> Result<(), XlsxError> {
    let columns = projections::csv::columns(rows);
    if columns.is_empty() {
        // No rows, so no columns: an empty sheet (CSV answers an empty body).
        return Ok(());
    }
    if rows.len() >= SHEET_ROWS_MAX {
        return Err(XlsxError::TooManyRows { sheet: name.to_owned(), rows: rows.len() });
    }
    if columns.len() > SHEET_COLUMNS_MAX {
        return Err(XlsxError::TooManyColumns { sheet: name.to_owned(), columns: columns.len() });
    }
    let mut widths: HashMap<u16, usize> = HashMap::new();
    for (index, column) in columns.iter().enumerate() {
        let col = u16::try_from(index)
            .map_err(|_| XlsxError::TooManyColumns { sheet: name.to_owned(), columns: columns.len() })?;
        worksheet.write_string_with_format(0, col, column.as_str(), &formats.header)?;
        widths.insert(col, display_width(column));
        let kind = column_kind(column);
        for (at, row) in rows.iter().enumerate() {
            let value = match row {
                Value::Object(fields) => fields.get(column).unwrap_or(&Value::Null),
                other => other,
            };
            // `at` < SHEET_ROWS_MAX (checked above), so the row number fits.
            let row_number = u32::try_from(at + 1).unwrap_or(u32::MAX);
            let width =
                write_cell(worksheet, row_number, col, kind, value, formats).map_err(
                    |error| match error {
                        CellError::TooLong(chars) => XlsxError::CellTooLong {
                            sheet: name.to_owned(),
                            row: at + 1,
                            column: column.clone(),
                            chars,
                        },
                        CellError::Writer(error) => XlsxError::Writer(error),
                    },
                )?;
            let widest = widths.entry(col).or_default();
            *widest = (*widest).max(width);
        }
    }
    worksheet.set_freeze_panes(1, 0)?;
    for (col, width) in widths {
        // Two characters of margin (the header's bold and a filter arrow); at least 6, at most the cap.
        let width = (width + 2).clamp(6, COLUMN_WIDTH_MAX);
        worksheet.set_column_width(col, u32::try_from(width).unwrap_or(60))?;
    }
    Ok(())
}

enum CellError {
    TooLong(usize),
    Writer(rust_xlsxwriter::XlsxError),
}

impl From<rust_xlsxwriter::XlsxError> for CellError {
    fn from(error: rust_xlsxwriter::XlsxError) -> CellError {
        CellError::Writer(error)
    }
}

/// Writes one cell as its column's kind says (its text when the value does not fit the kind); answers the
/// width it shows in, in character widths.
fn write_cell(
    worksheet: &mut Worksheet,
    row: u32,
    col: u16,
    kind: Option<Kind>,
    value: &Value,
    formats: &Formats,
) -> Result<usize, CellError> {
    match (kind, value) {
        (_, Value::Null) => return Ok(0),
        // A list or an object is the text of its JSON, whatever the column's kind (below).
        (_, Value::Array(_) | Value::Object(_)) => {}
        (Some(Kind::Amount), Value::String(text)) => {
            if let Some(number) = amount(text) {
                worksheet.write_number_with_format(row, col, number, &formats.amount)?;
                // The shown text has a separator per three digits.
                return Ok(text.len() + text.len() / 3);
            }
        }
        (Some(Kind::Decimal), Value::String(text)) => {
            if let Some(number) = amount(text) {
                worksheet.write_number(row, col, number)?;
                return Ok(text.len());
            }
        }
        (Some(Kind::Date), Value::String(text)) => {
            if let Some(date) = date(text) {
                worksheet.write_datetime_with_format(row, col, &date, &formats.date)?;
                return Ok(DATE_FORMAT.len());
            }
        }
        (Some(Kind::Instant), Value::String(text)) => {
            if let Some(instant) = instant(text) {
                worksheet.write_datetime_with_format(row, col, &instant, &formats.instant)?;
                return Ok(INSTANT_FORMAT.len());
            }
        }
        (Some(Kind::Integer) | None, Value::Number(number)) if integer(number).is_some() => {
            if let Some(integer) = integer(number) {
                worksheet.write_number_with_format(row, col, integer, &formats.integer)?;
                return Ok(number.to_string().len());
            }
        }
        (Some(Kind::Number) | None, Value::Number(number)) => {
            if let Some(float) = number.as_f64() {
                worksheet.write_number(row, col, float)?;
                return Ok(number.to_string().len());
            }
        }
        (Some(Kind::Boolean) | None, Value::Bool(flag)) => {
            worksheet.write_boolean(row, col, *flag)?;
            return Ok(5);
        }
        _ => {}
    }
    // Text: a string as it is, anything else as the JSON text CSV writes; always a string cell.
    let text = projections::csv::cell(value);
    if text.is_empty() {
        // An empty text is an empty cell, as in CSV.
        return Ok(0);
    }
    let chars = text.chars().count();
    if chars > CELL_CHARS_MAX {
        return Err(CellError::TooLong(chars));
    }
    let width = display_width(&text);
    if projections::csv::is_formula_like(&text) {
        worksheet.write_string_with_format(row, col, text, &formats.quoted)?;
    } else {
        worksheet.write_string(row, col, text)?;
    }
    Ok(width)
}

/// An amount (a decimal's text, two places; or another decimal's) as the number its cell holds, when that
/// number is exactly it.
///
/// A cell holds an f64. The conversion happens here, at the cell's edge only: the decimal's text is exact
/// to two places, and the f64 parsed from it (correctly rounded) is written into the file as the shortest
/// text that reads back as that f64, which for a decimal of at most 15 significant digits (every amount the
/// ledger's bounds allow) is the decimal itself. That is checked, not assumed: the f64's own shortest text
/// must equal the decimal, or `None` (and the amount is written as text, exact still).
pub fn amount(text: &str) -> Option<f64> {
    let exact: Decimal = text.parse().ok()?;
    let number: f64 = text.parse().ok()?;
    let written: Decimal = format!("{number}").parse().ok()?;
    (number.is_finite() && written == exact).then_some(number)
}

/// A JSON integer as a cell's number, when it is one exactly (|n| ≤ 2^53).
fn integer(number: &serde_json::Number) -> Option<f64> {
    const EXACT: u64 = 1 << 53;
    if let Some(n) = number.as_u64() {
        return (n <= EXACT).then_some(n as f64);
    }
    number.as_i64().filter(|n| n.unsigned_abs() <= EXACT).map(|n| n as f64)
}

/// A `YYYY-MM-DD` date as a date cell's value (Excel's dates run from 1900 to 9999).
fn date(text: &str) -> Option<ExcelDateTime> {
    use chrono::Datelike as _;
    let date = text.parse::<chrono::NaiveDate>().ok()?;
    let year = u16::try_from(date.year()).ok()?;
    let month = u8::try_from(date.month()).ok()?;
    let day = u8::try_from(date.day()).ok()?;
    ExcelDateTime::from_ymd(year, month, day).ok()
}

/// An RFC 3339 instant as a date-time cell's value, in UTC, to the millisecond (Excel's precision).
fn instant(text: &str) -> Option<ExcelDateTime> {
    use chrono::Timelike as _;
    let instant = chrono::DateTime::parse_from_rfc3339(text).ok()?.naive_utc();
    let day = date(&instant.date().to_string())?;
    let hour = u16::try_from(instant.hour()).ok()?;
    let minute = u8::try_from(instant.minute()).ok()?;
    let millis = instant.nanosecond().min(999_999_999) / 1_000_000;
    let seconds = f64::from(instant.second()) + f64::from(millis) / 1000.0;
    day.and_hms(hour, minute, seconds).ok()
}

/// The width `text` shows in, in character widths: a CJK (or other wide) character counts two.
fn display_width(text: &str) -> usize {
    text.chars().map(|c| if u32::from(c) >= 0x2E80 { 2 } else { 1 }).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_or_text() {
        assert_eq!(amount("-500.00"), Some(-500.0));
        assert_eq!(amount("0.10"), Some(0.1));
        assert_eq!(amount("1234567890123.45"), Some(1_234_567_890_123.45));
        // 19 significant digits do not survive an f64: written as text instead.
        assert_eq!(amount("12345678901234567.89"), None);
        assert_eq!(amount("n/a"), None);
    }

    #[test]
    fn sheet_names_are_valid() {
        assert_eq!(sheet_name("provider-balances"), "provider-balances");
        assert_eq!(sheet_name("a/b[c]"), "a_b_c_");
        assert_eq!(sheet_name(&"x".repeat(40)).len(), 31);
        assert_eq!(sheet_name("''"), "rows");
    }

    #[test]
    fn dates_and_instants_parse() {
        assert!(date("2025-03-03").is_some());
        assert!(date("03/03/2025").is_none());
        assert!(instant("2025-03-03T01:00:00.250Z").is_some());
        assert!(instant("2025-03-03").is_none());
    }
}
