//! Spreadsheets that open right, with the real binary: every table answer over HTTP as XLSX (`?format=xlsx`
//! and `Accept:`) read back with a reader not written here (`calamine`) and compared cell by cell with the
//! JSON answer of the same query (amounts numbers equal to two decimals, dates date cells, a bold header
//! row, the pane frozen below it); `export --format xlsx` of every table of the registry opens and holds the
//! rows of its CSV; a text a spreadsheet would run as a formula is a string cell, never a formula; the CSV's
//! byte-order mark when asked (`?bom=true`, `export --bom`) and only then; bad `format` / `bom` values are
//! 400 problems; and every command whose stdout is a pipe its reader has closed ends quietly, status 0.
//!
//! The ledger is the demo's (every lifecycle path), written by `voucher-ledger demo` once per test.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use api::views::Kind;
use calamine::{Data, Reader as _};
use domain::{Jurisdiction, Role};
use e2e::{ServerProcess, token};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A demo ledger in a temporary directory (`voucher-ledger demo`), and the sample id it names.
struct Demo {
    _dir: tempfile::TempDir,
    data: PathBuf,
    sample_id: String,
}

fn demo() -> Demo {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("ledger");
    let output = Command::new(e2e::binary())
        .args(["demo", "--seed", "18", "--applicants", "40", "--providers", "8", "--data"])
        .arg(&data)
        .env_remove("VOUCHER_LEDGER_STORE")
        .output()
        .expect("run demo");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "demo: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    let sample_id = stdout
        .lines()
        .find_map(|line| line.split("/v1/audits/samples/").nth(1))
        .expect("the demo names a sample")
        .trim()
        .to_owned();
    Demo { _dir: dir, data, sample_id }
}

/// Runs `voucher-ledger ARGS --data DATA` and answers (status code, stdout bytes, stderr text).
fn cli(data: &Path, args: &[&str]) -> (Option<i32>, Vec<u8>, String) {
    let output = Command::new(e2e::binary())
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("VOUCHER_LEDGER_STORE")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run voucher-ledger");
    (output.status.code(), output.stdout, String::from_utf8_lossy(&output.stderr).into_owned())
}

/// One sheet read back by calamine: its name, its rows of cells (the header first).
struct SheetRead {
    name: String,
    cells: Vec<Vec<Data>>,
    /// The sheet's own XML (`xl/worksheets/sheet1.xml`) and the workbook's styles, for what calamine does not
    /// read: the frozen pane and the cells' formats.
    sheet_xml: String,
    styles_xml: String,
}

fn read_xlsx(bytes: &[u8]) -> SheetRead {
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec()))
            .expect("calamine opens the XLSX");
    let names = workbook.sheet_names();
    assert_eq!(names.len(), 1, "one sheet per table: {names:?}");
    let name = names[0].clone();
    let range = workbook.worksheet_range(&name).expect("the sheet reads");
    let cells: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
    // A text cell is never a formula.
    let formulas = workbook.worksheet_formula(&name).expect("formulas read");
    assert!(
        formulas.used_cells().all(|(_, _, formula)| formula.is_empty()),
        "{name}: a cell holds a formula"
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX is a zip");
    let mut part = |path: &str| {
        let mut text = String::new();
        zip.by_name(path).expect(path).read_to_string(&mut text).expect(path);
        text
    };
    let sheet_xml = part("xl/worksheets/sheet1.xml");
    let styles_xml = part("xl/styles.xml");
    SheetRead { name, cells, sheet_xml, styles_xml }
}

impl SheetRead {
    /// The header row's texts.
    fn header(&self) -> Vec<String> {
        self.cells.first().map(|row| row.iter().map(ToString::to_string).collect()).unwrap_or_default()
    }

    /// The attribute `name` of the first element `<tag ...>` after `from` in `xml`.
    fn attribute<'a>(xml: &'a str, element: &str, name: &str) -> Option<&'a str> {
        let at = xml.find(element)?;
        let tag = &xml[at..at + xml[at..].find('>')?];
        let value = tag.split(&format!(" {name}=\"")).nth(1)?;
        value.split('"').next()
    }

    /// The style (bold, number format code) of the cell at `reference` (`A1`).
    fn style(&self, reference: &str) -> (bool, String) {
        let index: usize = Self::attribute(&self.sheet_xml, &format!("<c r=\"{reference}\""), "s")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let xfs = self.styles_xml.split("<cellXfs").nth(1).expect("cellXfs");
        let xf = xfs.split("<xf ").nth(index + 1).expect("the cell's xf");
        let font: usize =
            Self::attribute(&format!("<xf {xf}"), "<xf", "fontId").and_then(|s| s.parse().ok()).unwrap_or(0);
        let format: u32 = Self::attribute(&format!("<xf {xf}"), "<xf", "numFmtId")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let fonts = self.styles_xml.split("<fonts").nth(1).expect("fonts");
        let font = fonts.split("<font>").nth(font + 1).or_else(|| fonts.split("<font ").nth(font + 1));
        let bold = font.is_some_and(|font| font.split("</font>").next().is_some_and(|f| f.contains("<b/>")));
        let code = self
            .styles_xml
            .split("<numFmt ")
            .skip(1)
            .find(|entry| entry.starts_with(&format!("numFmtId=\"{format}\"")))
            .and_then(|entry| entry.split("formatCode=\"").nth(1))
            .and_then(|code| code.split('"').next())
            .map(|code| code.replace("&quot;", "\""))
            .unwrap_or_else(|| format!("builtin {format}"));
        (bold, code)
    }

    /// True when the pane is frozen below the header row.
    fn frozen_below_header(&self) -> bool {
        let pane = self.sheet_xml.split("<pane ").nth(1).unwrap_or_default();
        pane.contains("ySplit=\"1\"")
            && pane.contains("state=\"frozen\"")
            && pane.contains("topLeftCell=\"A2\"")
    }
}

/// The column reference of column `index` (0 = A), for columns below 702.
fn column_letters(index: usize) -> String {
    let letters = |n: usize| char::from(b'A' + u8::try_from(n).unwrap_or(0));
    if index < 26 {
        letters(index).to_string()
    } else {
        format!("{}{}", letters(index / 26 - 1), letters(index % 26))
    }
}

/// The text a CSV cell holds for a JSON value (strings as they are, null empty, anything else as JSON).
fn json_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Checks that `cell` is what the spreadsheet must hold for `text` (a JSON value's text) in a column of
/// `kind`; answers the kind of cell it was, for the caller's count.
fn assert_cell(what: &str, kind: Option<Kind>, cell: &Data, value: &Value) -> &'static str {
    let text = json_text(value);
    let text = text.as_str();
    if text.is_empty() {
        assert_eq!(cell, &Data::Empty, "{what}: an empty value is an empty cell");
        return "empty";
    }
    if value.is_array() || value.is_object() {
        // A list or an object is its JSON text, in a column of any kind.
        assert_eq!(cell, &Data::String(text.to_owned()), "{what}: a list or object is its JSON text");
        return "text";
    }
    match (kind, cell) {
        (Some(Kind::Amount | Kind::Decimal), Data::Float(number)) => {
            let written: Decimal = format!("{number}").parse().expect("a number");
            let expected: Decimal = text.parse().expect("an amount");
            assert_eq!(written, expected, "{what}: amount {number} for {text}");
            assert_eq!(written.round_dp(2), expected, "{what}: to two decimals");
            "number"
        }
        (Some(Kind::Date), Data::DateTime(date)) => {
            let date = date.as_datetime().expect("a date");
            assert_eq!(date.date().to_string(), text, "{what}: a date cell");
            assert_eq!(date.time(), chrono::NaiveTime::MIN, "{what}: a date has no time");
            "date"
        }
        (Some(Kind::Instant), Data::DateTime(instant)) => {
            let instant = instant.as_datetime().expect("a date-time");
            let expected = chrono::DateTime::parse_from_rfc3339(text).expect("an instant").naive_utc();
            let off = (instant - expected).num_milliseconds().abs();
            assert!(off <= 1, "{what}: {instant} for {text}");
            "date"
        }
        (Some(Kind::Integer), Data::Float(number)) => {
            assert_eq!(format!("{number}"), text, "{what}: an integer");
            "number"
        }
        (Some(Kind::Integer), Data::Int(number)) => {
            assert_eq!(number.to_string(), text, "{what}: an integer");
            "number"
        }
        (Some(Kind::Number), Data::Float(number)) => {
            assert_eq!(*number, text.parse::<f64>().expect("a number"), "{what}");
            "number"
        }
        (Some(Kind::Boolean), Data::Bool(flag)) => {
            assert_eq!(flag.to_string(), text, "{what}: a boolean");
            "boolean"
        }
        (Some(Kind::Text), Data::String(cell_text)) => {
            assert_eq!(cell_text, text, "{what}: a text cell holds the text itself");
            "text"
        }
        (kind, cell) => panic!("{what}: a column of kind {kind:?} holds {cell:?} for {text:?}"),
    }
}

/// Checks the sheet holds exactly `rows` (JSON objects) under a bold, frozen header, each cell typed by its
/// column's declared kind; answers how many cells of each type it saw.
fn assert_sheet_is_rows(what: &str, sheet: &SheetRead, rows: &[Value]) -> BTreeMap<&'static str, usize> {
    let mut seen = BTreeMap::new();
    if rows.is_empty() {
        assert!(sheet.cells.iter().flatten().all(|cell| cell == &Data::Empty), "{what}: no rows, no cells");
        return seen;
    }
    let header = sheet.header();
    let mut fields: Vec<String> =
        rows.iter().filter_map(Value::as_object).flat_map(|row| row.keys().cloned()).collect();
    fields.sort();
    fields.dedup();
    let mut columns = header.clone();
    columns.sort();
    assert_eq!(columns, fields, "{what}: the header names every field once");
    assert_eq!(sheet.cells.len(), rows.len() + 1, "{what}: a header row and one row per JSON row");
    assert!(sheet.frozen_below_header(), "{what}: the pane is frozen below the header: {}", sheet.sheet_xml);
    assert!(sheet.style("A1").0, "{what}: the header is bold");
    for (index, column) in header.iter().enumerate() {
        let kind = api::views::column_kind(column);
        assert!(kind.is_some(), "{what}: column {column} has no declared kind (api/src/views.rs COLUMNS)");
        for (at, row) in rows.iter().enumerate() {
            let cell = sheet.cells[at + 1].get(index).unwrap_or(&Data::Empty);
            let value = row.get(column).unwrap_or(&Value::Null);
            let type_seen = assert_cell(&format!("{what} row {} column {column}", at + 1), kind, cell, value);
            *seen.entry(type_seen).or_default() += 1;
            let reference = format!("{}{}", column_letters(index), at + 2);
            let (_, format) = sheet.style(&reference);
            match (type_seen, kind) {
                ("number", Some(Kind::Amount)) => assert_eq!(format, "#,##0.00", "{what} {reference}"),
                ("date", Some(Kind::Date)) => assert_eq!(format, "yyyy-mm-dd", "{what} {reference}"),
                _ => {}
            }
        }
    }
    seen
}

/// A GET: status, content type, body bytes.
async fn get(base: &str, path: &str, bearer: Option<&str>, accept: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, content_type, response.bytes().await.expect("body").to_vec())
}

fn with_query(path: &str, pair: &str) -> String {
    if path.contains('?') { format!("{path}&{pair}") } else { format!("{path}?{pair}") }
}

/// Serves the demo ledger with the real binary (a manual clock that stands still, so nothing changes
/// between the JSON and the XLSX of a query).
fn serve(demo: &Demo) -> ServerProcess {
    ServerProcess::try_start_with(
        &engine::open::StoreSpec::File(demo.data.clone()),
        e2e::MORNING,
        &["--allow-clock-behind-records"],
    )
    .expect("serve the demo ledger")
}

/// Every table query of the HTTP API (each one that answers CSV), with the field holding its rows (`""`:
/// the answer is one row), built from the ids the list answers name.
async fn queries(base: &str, auditor: &str, demo: &Demo) -> Vec<(String, &'static str)> {
    let list = |path: &'static str, field: &'static str| async move {
        let (status, _, body) = get(base, path, Some(auditor), None).await;
        assert_eq!(status, 200, "{path}");
        let body: Value = serde_json::from_slice(&body).expect("json");
        body[field].as_array().cloned().unwrap_or_default()
    };
    let vouchers = list("/v1/vouchers", "vouchers").await;
    let redemptions = list("/v1/redemptions", "redemptions").await;
    let announcements = list("/v1/announcements", "announcements").await;
    let batches = list("/v1/batches", "batches").await;
    let first = |rows: &[Value], field: &str| rows.first().map(|row| json_text(&row[field])).expect(field);
    // A redemption that was disbursed has every field filled.
    let redemption = redemptions
        .iter()
        .find(|row| row["status"] == "disbursed")
        .or(redemptions.first())
        .cloned()
        .expect("the demo has redemptions");
    let voucher = first(&vouchers, "voucher_id");
    let applicant = first(&vouchers, "applicant");
    let provider = json_text(&redemption["provider"]);
    let contract = json_text(&redemption["contract_id"]);
    let redemption_id = json_text(&redemption["redemption_id"]);
    vec![
        ("/v1/vouchers".into(), "vouchers"),
        (format!("/v1/vouchers/{voucher}"), ""),
        (format!("/v1/vouchers/{voucher}/history"), "records"),
        ("/v1/batches".into(), "batches"),
        (format!("/v1/batches/{}", first(&batches, "batch_id")), ""),
        ("/v1/budgets".into(), "budgets"),
        ("/v1/budgets/guiyang/2025".into(), ""),
        ("/v1/trial-balance/guiyang".into(), "accounts"),
        (format!("/v1/applicants/{applicant}"), ""),
        (format!("/v1/applicants/{applicant}/issued?year=2025"), ""),
        (format!("/v1/providers/{provider}"), ""),
        (format!("/v1/providers/{provider}/balance"), ""),
        ("/v1/rankings/providers".into(), "providers"),
        (format!("/v1/contracts/{contract}"), ""),
        (format!("/v1/contracts/{contract}/dossier"), "records"),
        ("/v1/redemptions".into(), "redemptions"),
        (format!("/v1/redemptions/{redemption_id}"), ""),
        ("/v1/announcements".into(), "announcements"),
        (format!("/v1/announcements/{}", first(&announcements, "announcement_id")), "items"),
        ("/v1/anomalies".into(), "signals"),
        (format!("/v1/audits/samples/{}", demo.sample_id), ""),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_query_answers_xlsx_whose_cells_are_its_json() {
    let demo = demo();
    let server = serve(&demo);
    let base = server.base.clone();
    let auditor = token(Role::Auditor, Jurisdiction::Guiyang, "auditor-1", None);
    let mut seen: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (path, field) in queries(&base, &auditor, &demo).await {
        let (status, content_type, json_bytes) = get(&base, &path, Some(&auditor), None).await;
        assert_eq!((status, content_type.as_str()), (200, "application/json"), "{path}");
        let body: Value = serde_json::from_slice(&json_bytes).expect("json");
        let rows =
            if field.is_empty() { vec![body.clone()] } else { body[field].as_array().cloned().unwrap() };
        let by_query = with_query(&path, "format=xlsx");
        let (status, content_type, bytes) = get(&base, &by_query, Some(&auditor), None).await;
        assert_eq!((status, content_type.as_str()), (200, XLSX), "{by_query}");
        let sheet = read_xlsx(&bytes);
        assert_eq!(
            sheet.name,
            if field.is_empty() { "answer" } else { field },
            "{by_query}: the sheet's name"
        );
        for (kind, count) in assert_sheet_is_rows(&by_query, &sheet, &rows) {
            *seen.entry(kind).or_default() += count;
        }
        // Asked with Accept instead: the same workbook's cells.
        let (status, content_type, by_accept) =
            get(&base, &path, Some(&auditor), Some(&format!("{XLSX}, application/json;q=0.5"))).await;
        assert_eq!((status, content_type.as_str()), (200, XLSX), "{path} with Accept");
        assert_eq!(read_xlsx(&by_accept).cells, sheet.cells, "{path}: Accept and ?format=xlsx agree");
    }
    // The demo's answers hold every type of cell.
    for kind in ["number", "date", "boolean", "text", "empty"] {
        assert!(seen.get(kind).is_some_and(|n| *n > 0), "no {kind} cell in any answer: {seen:?}");
    }
}

#[test]
fn every_exported_table_in_xlsx_opens_and_holds_the_rows_of_its_csv() {
    let demo = demo();
    let out = tempfile::tempdir().expect("tempdir");
    let mut seen_rows = 0;
    for (table, _) in api::views::EXPORTS.iter() {
        let (code, csv_bytes, stderr) = cli(&demo.data, &["export", table]);
        assert_eq!(code, Some(0), "export {table}: {stderr}");
        let file = out.path().join(format!("{table}.xlsx"));
        let file_arg = file.to_str().expect("utf-8 path");
        let (code, stdout, stderr) =
            cli(&demo.data, &["export", table, "--format", "xlsx", "--output", file_arg]);
        assert_eq!(code, Some(0), "export {table} --format xlsx: {stderr}");
        assert!(stdout.is_empty(), "--output: nothing on stdout");
        let bytes = std::fs::read(&file).expect("the XLSX file");
        // The same workbook to stdout.
        let (code, to_stdout, stderr) = cli(&demo.data, &["export", table, "--format", "xlsx"]);
        assert_eq!(code, Some(0), "{stderr}");
        let sheet = read_xlsx(&bytes);
        assert_eq!(read_xlsx(&to_stdout).cells, sheet.cells, "export {table}: stdout and --output agree");
        assert_eq!(sheet.name, *table, "one sheet named after its table");
        // The CSV's rows, as JSON texts: each XLSX cell is its CSV cell typed (the CSV's leading `'` of a
        // formula-like text is the CSV's own escape: the XLSX holds the text itself).
        let mut reader = csv::Reader::from_reader(csv_bytes.as_slice());
        let rows: Vec<Value> = if csv_bytes.is_empty() {
            Vec::new()
        } else {
            let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_owned).collect();
            reader
                .records()
                .map(|record| {
                    let record = record.expect("record");
                    let row: serde_json::Map<String, Value> = header
                        .iter()
                        .zip(record.iter())
                        .map(|(column, text)| {
                            let text = match text.strip_prefix('\'') {
                                Some(rest) if projections::csv::is_formula_like(rest) => rest,
                                _ => text,
                            };
                            (column.clone(), if text.is_empty() { Value::Null } else { json!(text) })
                        })
                        .collect();
                    Value::Object(row)
                })
                .collect()
        };
        if !rows.is_empty() {
            // Every field of the table is a CSV column, so every row has every column (null when empty).
            let header = sheet.header();
            let csv_header: Vec<String> = rows[0].as_object().unwrap().keys().cloned().collect();
            let mut sorted = header.clone();
            sorted.sort();
            let mut csv_sorted = csv_header;
            csv_sorted.sort();
            assert_eq!(sorted, csv_sorted, "export {table}: the same columns");
        }
        assert_sheet_is_rows(&format!("export {table}"), &sheet, &rows);
        seen_rows += rows.len();
    }
    assert!(seen_rows > 100, "the demo's tables hold rows: {seen_rows}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_formula_like_name_is_a_text_cell_never_a_formula() {
    let demo = demo();
    let server = serve(&demo);
    let base = server.base.clone();
    let code = e2e::credit_code(9_001);
    let owner = token(Role::Enterprise, Jurisdiction::Guiyang, "formula", Some(&code));
    let name = "=HYPERLINK(\"http://evil.example\",\"click\")";
    let registration = json!({ "credit_code": code, "name": name, "kind": "enterprise",
        "jurisdiction": "guiyang", "industry": "advanced_equipment",
        "independent_legal_person": true, "tax_compliant": true });
    let answer = e2e::Client::new(&base).post("/v1/applicants", &owner, &registration).await.expect("post");
    assert_eq!(answer.status, 201, "{answer:?}");
    let auditor = token(Role::Auditor, Jurisdiction::Guiyang, "auditor-1", None);
    let (status, _, bytes) =
        get(&base, &format!("/v1/applicants/{code}?format=xlsx"), Some(&auditor), None).await;
    assert_eq!(status, 200);
    // read_xlsx asserts that no cell holds a formula.
    let sheet = read_xlsx(&bytes);
    let column = sheet.header().iter().position(|c| c == "name").expect("a name column");
    assert_eq!(sheet.cells[1][column], Data::String(name.to_owned()), "the text itself, as a string");
    // Excel's quote prefix on it: editing the cell keeps it text.
    let reference = format!("{}2", column_letters(column));
    let index: usize = SheetRead::attribute(&sheet.sheet_xml, &format!("<c r=\"{reference}\""), "s")
        .and_then(|s| s.parse().ok())
        .expect("a styled cell");
    let xf =
        sheet.styles_xml.split("<cellXfs").nth(1).and_then(|xfs| xfs.split("<xf ").nth(index + 1)).unwrap();
    assert!(xf.contains("quotePrefix=\"1\""), "{xf}");
    // Text that merely contains `=` is not prefixed.
    let id_column = sheet.header().iter().position(|c| c == "credit_code").expect("credit_code");
    assert_eq!(sheet.cells[1][id_column], Data::String(code.clone()), "an 18-digit code stays text");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_starts_with_a_byte_order_mark_when_asked_and_only_then() {
    let demo = demo();
    let server = serve(&demo);
    let base = server.base.clone();
    let auditor = token(Role::Auditor, Jurisdiction::Guiyang, "auditor-1", None);
    let (status, content_type, plain) = get(&base, "/v1/vouchers?format=csv", Some(&auditor), None).await;
    assert_eq!((status, content_type.as_str()), (200, "text/csv; charset=utf-8"));
    assert!(!plain.starts_with(BOM) && plain.starts_with(b"\""), "no BOM by default");
    for (path, accept) in
        [("/v1/vouchers?format=csv&bom=true", None), ("/v1/vouchers?bom=true", Some("text/csv"))]
    {
        let (status, content_type, with_bom) = get(&base, path, Some(&auditor), accept).await;
        assert_eq!((status, content_type.as_str()), (200, "text/csv; charset=utf-8"), "{path}");
        assert_eq!(with_bom.get(..3), Some(BOM), "{path}: EF BB BF first");
        assert_eq!(&with_bom[3..], plain.as_slice(), "{path}: then the same CSV");
    }
    let (status, _, explicit_false) =
        get(&base, "/v1/vouchers?format=csv&bom=false", Some(&auditor), None).await;
    assert_eq!((status, explicit_false), (200, plain.clone()));
    // The CLI: stdout and --output.
    let (code, csv, stderr) = cli(&demo.data, &["export", "vouchers"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!csv.starts_with(BOM) && !csv.is_empty());
    let (code, with_bom, stderr) = cli(&demo.data, &["export", "vouchers", "--bom"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!((&with_bom[..3], &with_bom[3..]), (BOM, csv.as_slice()));
    let out = tempfile::tempdir().expect("tempdir");
    let file = out.path().join("vouchers.csv");
    let (code, _, stderr) =
        cli(&demo.data, &["export", "vouchers", "--bom", "--output", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(std::fs::read(&file).expect("file"), with_bom);
    // A BOM is CSV's: refused with XLSX.
    let (code, _, stderr) = cli(&demo.data, &["export", "vouchers", "--format", "xlsx", "--bom"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("--bom is for CSV"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_format_and_bom_values_are_400_problems() {
    let demo = demo();
    let server = serve(&demo);
    let base = server.base.clone();
    let auditor = token(Role::Auditor, Jurisdiction::Guiyang, "auditor-1", None);
    for path in [
        "/v1/vouchers?format=pdf",
        "/v1/vouchers?format=XLSX",
        "/v1/vouchers?format=csv&bom=maybe",
        "/v1/vouchers?format=csv&bom=1",
        "/v1/vouchers?format=json&bom=true",
        "/v1/vouchers?format=xlsx&bom=true",
        "/v1/announcements?bom=true",
    ] {
        let (status, content_type, body) = get(&base, path, Some(&auditor), None).await;
        let body: Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!((status, content_type.as_str()), (400, "application/problem+json"), "{path}: {body}");
        assert_eq!(body["code"], "invalid_query", "{path}: {body}");
    }
    // The CLI: an unknown format is clap's usage error.
    let (code, _, stderr) = cli(&demo.data, &["export", "vouchers", "--format", "pdf"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("pdf"), "{stderr}");
}

/// Runs the binary with its stdout a pipe whose reading end is already closed, so its first write to
/// stdout fails with a broken pipe: it must end quietly, with status 0 and nothing about the pipe.
fn run_into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let output = Command::new(e2e::binary())
        .args(args)
        .env_remove("VOUCHER_LEDGER_STORE")
        .env("VOUCHER_LEDGER_JWT_SECRET", e2e::SECRET)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("run voucher-ledger");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_command_writing_to_a_closed_pipe_ends_quietly_with_status_0() {
    let demo = demo();
    let data = demo.data.to_str().expect("utf-8 path");
    let commands: Vec<Vec<&str>> = vec![
        vec!["export", "vouchers", "--data", data],
        vec!["export", "vouchers", "--bom", "--data", data],
        vec!["export", "trial-balance", "--format", "xlsx", "--data", data],
        vec!["replay", "--data", data],
        vec!["verify", "--data", data],
        vec!["sample", "--sample-id", &demo.sample_id, "--data", data],
        vec!["calendar", "working-days-after", "2025-03-03", "5"],
        vec!["token", "--role", "auditor", "--jurisdiction", "guiyang", "--subject", "pipe"],
    ];
    for args in commands {
        let (code, stderr) = run_into_closed_pipe(&args);
        assert_eq!(code, Some(0), "{args:?}: status; stderr: {stderr}");
        for text in ["Broken pipe", "broken pipe", "failed printing", "panicked", "error"] {
            assert!(!stderr.contains(text), "{args:?}: {text:?} on stderr: {stderr}");
        }
    }
    // A pipe that stays open gets the whole output, as before.
    let (code, stdout, _) = cli(&demo.data, &["export", "vouchers"]);
    assert_eq!(code, Some(0));
    assert!(String::from_utf8_lossy(&stdout).lines().count() > 10);
}
