//! CSV of query rows: every projection query that answers JSON rows can answer the same rows as CSV.
//!
//! A row is a JSON object; its columns are its fields. The columns of a table are the fields of all its
//! rows, in the order they first appear. A cell is a string as it is, a number or boolean as JSON writes it,
//! null as the empty cell, and an array or object as its compact JSON text. So a CSV row parsed back gives
//! each JSON field's text: `tests/tests/read_side.rs` checks this over real HTTP.

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
    let mut out = ::csv::Writer::from_writer(writer);
    out.write_record(&columns)?;
    for row in rows {
        let cells = columns.iter().map(|column| match row {
            Value::Object(fields) => fields.get(column).map(cell).unwrap_or_default(),
            other => cell(other),
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
/// assert_eq!(text, "provider,score,tags\n915201000000000013,4.6,\"[\"\"a\"\"]\"\n");
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
    fn no_rows_is_an_empty_body() {
        assert_eq!(to_string(&[]), "");
    }
}
