//! CSV of query rows: every projection query that answers JSON rows can answer the same rows as CSV.
//!
//! A row is a JSON object; its columns are its fields. The columns of a table are the fields of all its
//! rows, in the order they first appear. A cell is a string as it is, a number or boolean as JSON writes it,
//! null as the empty cell, and an array or object as its compact JSON text. So a CSV row parsed back gives
//! each JSON field's text: `tests/tests/read_side.rs` checks this over real HTTP.
//!
//! Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that begins with `=`, `+`, `-` or `@`
//! (or a tab or carriage return, which some strip first; also their full-width forms) as a formula, and
//! names come from applicants and providers. Such a text cell is written with a single quote before it
//! ([`neutralized`]), and every text cell is quoted; a cell that is a plain decimal number (an amount such
//! as `-500.00`, a count) is left as it is and unquoted, so numbers stay numbers. `cell` (used to filter
//! and count rows) gives the unescaped text: escaping is for the written file only.
//!
//! Excel and WPS on a Chinese Windows read a CSV file without a byte-order mark as GBK, so UTF-8 text
//! (names, reasons) shows as mojibake there: [`BOM`] written first, on request (`?bom=true`, `export --bom`),
//! makes them read UTF-8. It is not written by default, since most other readers take it for part of the
//! first column's name.

use serde_json::Value;

/// Why CSV could not be written (only an I/O failure of the underlying writer).
#[derive(Debug, thiserror::Error)]
#[error("writing CSV: {0}")]
pub struct CsvError(#[from] ::csv::Error);

/// The text of one cell.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => value.to_string(),
    }
}

/// The characters that make a spreadsheet read a cell as a formula when the cell begins with one.
const FORMULA_STARTS: [char; 10] =
    ['=', '+', '-', '@', '\t', '\r', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}'];

/// The UTF-8 byte-order mark (bytes EF BB BF), written before a CSV on request.
pub const BOM: &str = "\u{FEFF}";

/// True for a text a spreadsheet would run as a formula if it were typed into a cell: one that begins with
/// one of `= + - @`, a tab or a carriage return (or a full-width form of the first four), unless it is a
/// plain decimal number such as `-500.00`.
pub fn is_formula_like(text: &str) -> bool {
    text.starts_with(FORMULA_STARTS) && !is_plain_number(text)
}

/// True for a plain decimal number: an optional minus, digits, and optionally a point and digits.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// A cell's text as written to a file: a cell a spreadsheet would run as a formula gets a single quote in
/// front (a plain number, negative amounts included, is left alone).
pub fn neutralized(text: String) -> String {
    if is_formula_like(&text) { format!("'{text}") } else { text }
}

/// The columns of `rows`: every field, in the order it first appears (a non-object row is one `value`).
pub fn columns(rows: &[Value]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for row in rows {
        match row {
            Value::Object(fields) => {
                for key in fields.keys() {
                    if !columns.iter().any(|column| column == key) {
                        columns.push(key.clone());
                    }
                }
            }
            _ if !columns.iter().any(|column| column == "value") => columns.push("value".to_owned()),
            _ => {}
        }
    }
    columns
}

/// Writes `rows` as CSV with a header line into `writer`; nothing at all when there are no rows.
///
/// # Errors
/// When `writer` fails.
pub fn write_rows<W: std::io::Write>(rows: &[Value], writer: W) -> Result<(), CsvError> {
    let columns = columns(rows);
    if columns.is_empty() {
        // No rows, so no columns: an empty body (a header of no fields would read back as one empty field).
        return Ok(());
    }
    // Text quoted, numbers bare: an escaped cell stays quoted, an amount stays a number.
    let mut out = ::csv::WriterBuilder::new().quote_style(::csv::QuoteStyle::NonNumeric).from_writer(writer);
    out.write_record(&columns)?;
    for row in rows {
        let cells = columns.iter().map(|column| match row {
            Value::Object(fields) => neutralized(fields.get(column).map(cell).unwrap_or_default()),
            other => neutralized(cell(other)),
        });
        out.write_record(cells)?;
    }
    out.flush().map_err(::csv::Error::from)?;
    Ok(())
}

/// `rows` as CSV text.
///
/// # Example
/// ```
/// let rows = vec![serde_json::json!({ "provider": "915201000000000013", "score": 4.6, "tags": ["a"] })];
/// let text = projections::csv::to_string(&rows);
/// assert_eq!(text, "\"provider\",\"score\",\"tags\"\n915201000000000013,4.6,\"[\"\"a\"\"]\"\n");
/// ```
pub fn to_string(rows: &[Value]) -> String {
    let mut bytes = Vec::new();
    // Writing into memory cannot fail.
    let _infallible = write_rows(rows, &mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rows_parse_back_to_their_cells() {
        let rows = vec![
            json!({ "a": "x, \"quoted\"\nline", "b": 1, "c": null }),
            json!({ "a": "y", "d": { "k": [1, 2] }, "b": true }),
        ];
        let text = to_string(&rows);
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_owned).collect();
        assert_eq!(header, vec!["a", "b", "c", "d"]);
        let parsed: Vec<Vec<String>> = reader
            .records()
            .map(|record| record.expect("record").iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(parsed[0], vec!["x, \"quoted\"\nline", "1", "", ""]);
        assert_eq!(parsed[1], vec!["y", "true", "", "{\"k\":[1,2]}"]);
    }

    #[test]
    fn the_byte_order_mark_is_ef_bb_bf() {
        assert_eq!(BOM.as_bytes(), [0xEF, 0xBB, 0xBF]);
        assert!(is_formula_like("=1+2") && is_formula_like("\u{FF20}x") && !is_formula_like("-500.00"));
        assert!(!is_formula_like("Guiyang = good") && !is_formula_like(""));
    }

    #[test]
    fn no_rows_is_an_empty_body() {
        assert_eq!(to_string(&[]), "");
    }

    #[test]
    fn formula_cells_are_neutralized_and_amounts_stay_numbers() {
        let rows = vec![
            json!({ "name": "=HYPERLINK(\"http://x\",\"y\")", "balance": "-500.00", "n": -3 }),
            json!({ "name": "+1+2", "balance": "12.50", "n": 4 }),
            json!({ "name": "-1+2", "balance": "0.00" }),
            json!({ "name": "@SUM(A1)", "balance": "-0.01" }),
            json!({ "name": "\t=1+2", "balance": "1" }),
            json!({ "name": "\r=1+2" }),
            json!({ "name": "\u{FF1D}1+2" }),
            json!({ "name": "Guiyang Lab = good", "balance": "-inf" }),
        ];
        let text = to_string(&rows);
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_owned).collect();
        assert_eq!(header, vec!["balance", "n", "name"]);
        let parsed: Vec<Vec<String>> = reader
            .records()
            .map(|record| record.expect("record").iter().map(str::to_owned).collect())
            .collect();
        let names: Vec<&str> = parsed.iter().map(|row| row[2].as_str()).collect();
        assert_eq!(
            names,
            vec![
                "'=HYPERLINK(\"http://x\",\"y\")",
                "'+1+2",
                "'-1+2",
                "'@SUM(A1)",
                "'\t=1+2",
                "'\r=1+2",
                "'\u{FF1D}1+2",
                "Guiyang Lab = good",
            ]
        );
        let balances: Vec<&str> = parsed.iter().map(|row| row[0].as_str()).collect();
        assert_eq!(balances, vec!["-500.00", "12.50", "0.00", "-0.01", "1", "", "", "'-inf"]);
        assert_eq!(parsed[0][1], "-3");
        // In the file: escaped cells quoted, amounts bare.
        assert!(text.contains("12.50,4,\"'+1+2\""), "{text}");
        assert!(text.contains("-500.00,-3,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""), "{text}");
        // Filtering and counting see the text itself.
        assert_eq!(cell(&json!("=1+2")), "=1+2");
    }
}
