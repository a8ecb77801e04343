//! Start-up with and without a snapshot (issue 19): `voucher-bench startup-snapshot --server BIN --dir DIR`.
//!
//! On the same log, in one process: the snapshot removed, `voucher-ledger serve` until `/readyz` answers 200
//! (the whole log folded: the figure without a snapshot); then a clean stop (SIGTERM: the writer writes its
//! snapshot; the stop's duration is reported); then `serve` again until `/readyz` (the snapshot loaded and
//! the tail after it, here none, folded: the figure with a snapshot). The server's output must say that the
//! snapshot was used. The snapshot is removed afterwards, so the other figures on the log are unchanged.
//! The report's `startup_s` is the median with a snapshot, `startup_s_no_snapshot` the median without,
//! `startup_events` the log's records.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use store::file::FileLog;

use crate::{client, start_server, wait_ready};

/// The clock the server starts with: the workload's last day, so nothing falls due and the log is not written.
const NOW: &str = "2026-03-02T01:00:00Z";

/// One run: start-up without a snapshot, the clean stop that writes one, start-up with it.
pub async fn run(server: &Path, dir: &Path) -> anyhow::Result<Value> {
    let events = FileLog::open_read_only(dir)?.head_now().position;
    let snapshot = engine::snapshot::path(dir);
    remove(&snapshot)?;
    let client = client(1)?;
    let output = dir.with_extension("startup-snapshot.log");

    let mut first = start_server(server, dir, NOW, &output)?;
    let readyz = format!("{}/readyz", first.base);
    let without = wait_ready(&client, &mut first, &readyz).await?;
    let stop_started = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &first.child.id().to_string()])
        .status()
        .context("sending SIGTERM")?;
    if !status.success() {
        bail!("kill -TERM failed: {status}");
    }
    let exited = tokio::task::spawn_blocking(move || {
        let status = first.child.wait();
        (status, first)
    })
    .await?;
    let stop = stop_started.elapsed();
    let (status, first) = exited;
    drop(first);
    if !status.context("waiting for the server")?.success() {
        bail!("the server did not stop cleanly: see {}", output.display());
    }
    let bytes = std::fs::metadata(&snapshot)
        .with_context(|| format!("no snapshot after a clean stop: see {}", output.display()))?
        .len();

    let second_output = dir.with_extension("startup-snapshot-2.log");
    let mut second = start_server(server, dir, NOW, &second_output)?;
    let readyz = format!("{}/readyz", second.base);
    let with = wait_ready(&client, &mut second, &readyz).await?;
    drop(second);
    let said = std::fs::read_to_string(&second_output).unwrap_or_default();
    if !said.contains("snapshot loaded") {
        bail!("the second start did not use the snapshot: see {}", second_output.display());
    }
    remove(&snapshot)?;
    eprintln!(
        "startup: {events} events, without a snapshot {without:.2?}, with {with:.2?} \
         (snapshot {} MB written in a clean stop of {stop:.2?})",
        bytes / 1_000_000
    );
    Ok(json!({
        "figure": "startup_snapshot",
        "events": events,
        "without_s": without.as_secs_f64(),
        "with_s": with.as_secs_f64(),
        "stop_s": stop.as_secs_f64(),
        "snapshot_bytes": bytes,
    }))
}

fn remove(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error).with_context(|| format!("removing {}", path.display())),
    }
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some(f64::midpoint(values[n / 2 - 1], values[n / 2])),
    }
}

/// The table's rows for start-up with snapshots, and the JSON keys (`startup_s`, `startup_events`, ...).
pub fn report(lines: &BTreeMap<String, Vec<Value>>) -> serde_json::Map<String, Value> {
    let runs = lines.get("startup_snapshot").cloned().unwrap_or_default();
    let field = |key: &str| -> Vec<f64> { runs.iter().filter_map(|run| run.get(key)?.as_f64()).collect() };
    let with = median(field("with_s"));
    let without = median(field("without_s"));
    let ratio = median(
        field("without_s")
            .iter()
            .zip(field("with_s"))
            .filter(|(_, w)| *w > 0.0)
            .map(|(a, w)| a / w)
            .collect(),
    );
    let events = median(field("events"));
    let rounded = |key: &str| field(key).iter().map(|s| (s * 100.0).round() / 100.0).collect::<Vec<_>>();
    let show = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |s| format!("{s:.2}"));
    let met = match with {
        Some(s) if s <= 10.0 => "met",
        Some(_) => "NOT met",
        None => "-",
    };
    println!(
        "{:<58} {:>14}  {:<14} {:?}",
        "start-up with a snapshot (serve until /readyz), seconds",
        show(with),
        format!("<= 10 s {met}"),
        rounded("with_s")
    );
    println!(
        "{:<58} {:>14}  {:<14} {:?}",
        "start-up without a snapshot, same log, same run",
        show(without),
        "",
        rounded("without_s")
    );
    println!(
        "{:<58} {:>14}  {:<14} stop {:?} s, snapshot {} MB",
        "  ratio without / with",
        ratio.map_or_else(|| "-".to_owned(), |r| format!("{r:.1}x")),
        "",
        rounded("stop_s"),
        median(field("snapshot_bytes")).map_or(0.0, |b| (b / 1e6).round())
    );
    println!(
        "{:<58} {:>14}",
        "events in the start-up log",
        events.map_or_else(|| "-".to_owned(), |e| format!("{e:.0}"))
    );
    let number = |value: Option<f64>| value.map_or(Value::Null, |v| json!(v));
    let mut fields = serde_json::Map::new();
    fields.insert("startup_s".into(), number(with));
    fields.insert("startup_events".into(), number(events));
    fields.insert("startup_s_no_snapshot".into(), number(without));
    fields.insert("ratio_startup_no_snapshot_to_snapshot".into(), number(ratio));
    fields.insert("snapshot_stop_s".into(), number(median(field("stop_s"))));
    fields.insert("snapshot_bytes".into(), number(median(field("snapshot_bytes"))));
    fields
}
