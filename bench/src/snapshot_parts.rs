//! `voucher-bench snapshot-parts --dir DIR`: what a snapshot's bytes are made of. Reads `DIR/snapshot`
//! (checksum and version checked, as start-up does), then encodes each part again on its own and prints its
//! size and the time to decode it, so that the largest parts are the ones made smaller first.

use std::path::Path;
use std::time::Instant;

use engine::snapshot;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tlog::TreeHash;

/// The part's encoded bytes and the seconds to decode them back.
fn measure<T: Serialize + DeserializeOwned>(value: &T) -> anyhow::Result<(usize, f64)> {
    let bytes = rmp_serde::to_vec_named(value)?;
    let started = Instant::now();
    let back: T = rmp_serde::from_slice(&bytes)?;
    let seconds = started.elapsed().as_secs_f64();
    drop(back);
    Ok((bytes.len(), seconds))
}

pub fn run(dir: &Path) -> anyhow::Result<Value> {
    let started = Instant::now();
    let snap = snapshot::read(dir, TreeHash::Sha256).map_err(|error| anyhow::anyhow!("snapshot: {error}"))?;
    let read_s = started.elapsed().as_secs_f64();
    let file_bytes = std::fs::metadata(snapshot::path(dir))?.len();
    let events = snap.head.position;
    let parts = &snap.parts;
    let mut rows = Vec::new();
    let mut row = |name: &str, (bytes, seconds): (usize, f64)| {
        rows.push(json!({
            "part": name,
            "bytes": bytes,
            "bytes_per_event": if events == 0 { 0.0 } else { bytes as f64 / events as f64 },
            "decode_s": seconds,
        }));
    };
    row("state", measure(&parts.state)?);
    let p = &parts.projections;
    row("balances", measure(&p.balances)?);
    row("applicants", measure(&p.applicants)?);
    row("lifecycle", measure(&p.lifecycle)?);
    row("history", measure(&p.history)?);
    row("rankings", measure(&p.rankings)?);
    row("anomalies", measure(&p.anomalies)?);
    row("timeline", measure(&p.timeline)?);
    row("stream_versions", measure(&parts.stream_versions)?);
    row("idempotency_keys", measure(&parts.keys)?);
    let tree_bytes: usize = snap.tree.levels().iter().map(|level| 8 + level.len() * 32).sum();
    row("merkle_tree", (tree_bytes, 0.0));
    for r in &rows {
        eprintln!(
            "{:<18} {:>14} bytes {:>8.1} B/event  decode {:>6.2} s",
            r["part"].as_str().unwrap_or_default(),
            r["bytes"],
            r["bytes_per_event"].as_f64().unwrap_or_default(),
            r["decode_s"].as_f64().unwrap_or_default()
        );
    }
    Ok(json!({
        "figure": "snapshot_parts",
        "events": events,
        "snapshot_bytes": file_bytes,
        "snapshot_bytes_per_event": if events == 0 { 0.0 } else { file_bytes as f64 / events as f64 },
        "read_s": read_s,
        "parts": rows,
    }))
}
