//! `voucher-ledger export TABLE`: a table's rows ([`crate::views::rows`]) written as CSV (after a UTF-8
//! byte-order mark with `--bom`) or as an XLSX workbook of one sheet (`--format xlsx`), to stdout or
//! `--output FILE`. The same rows and the same writers as the HTTP answers' `?format=csv` / `?format=xlsx`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, bail};
use serde_json::Value;

/// The file format of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ExportFormat {
    /// CSV (`projections::csv`): text quoted, formula-like cells neutralized.
    #[default]
    Csv,
    /// An XLSX workbook ([`crate::xlsx`]): typed cells, a bold header row frozen in place.
    Xlsx,
}

/// Writes `rows` of the table `table` in `format` (CSV after a byte-order mark when `bom`) into `output`,
/// or to stdout (a reader that closes it early ends the command quietly: [`crate::stdout`]).
///
/// # Errors
/// `--bom` with XLSX; XLSX to a terminal (binary bytes are no use there); a table that does not fit a
/// spreadsheet; a file that cannot be created or written.
pub fn write_table(
    table: &str,
    rows: &[Value],
    format: ExportFormat,
    bom: bool,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    if format == ExportFormat::Xlsx {
        if bom {
            bail!("--bom is for CSV: an XLSX workbook is read as UTF-8 without one");
        }
        if output.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            bail!("an XLSX workbook is binary: give --output FILE.xlsx, or redirect stdout to a file");
        }
    }
    match output {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
            let mut file = std::io::BufWriter::new(file);
            write(table, rows, format, bom, &mut file)
                .with_context(|| format!("writing {}", path.display()))?;
            let file = file.into_inner().map_err(|error| error.into_error())?;
            file.sync_all().with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let mut out = std::io::BufWriter::new(crate::stdout::Stdout);
            write(table, rows, format, bom, &mut out).context("writing to stdout")?;
            out.flush().context("writing to stdout")?;
        }
    }
    Ok(())
}

/// Writes the rows into `out`: CSV as it goes, XLSX once the workbook is made.
fn write(
    table: &str,
    rows: &[Value],
    format: ExportFormat,
    bom: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match format {
        ExportFormat::Csv => {
            if bom {
                out.write_all(projections::csv::BOM.as_bytes())?;
            }
            projections::csv::write_rows(rows, &mut *out)?;
        }
        ExportFormat::Xlsx => {
            out.write_all(&crate::xlsx::workbook(&[crate::xlsx::Sheet { name: table, rows }])?)?;
        }
    }
    Ok(())
}
