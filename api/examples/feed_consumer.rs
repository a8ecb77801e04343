//! An out-of-process read model fed by the event feed: follows `GET /v1/events` (NDJSON) from a position,
//! checks that every record links to the one before it (`prev_hash` is the previous `hash`), and keeps what
//! each provider was paid and clawed back, printing each change and a summary when the feed ends.
//!
//! ```text
//! export VOUCHER_LEDGER_TOKEN=$(voucher-ledger token --role auditor --jurisdiction guiyang --subject feed)
//! cargo run -p api --example feed_consumer -- --url http://127.0.0.1:8080 [--from 1] [--no-follow]
//! ```
//!
//! It keeps its place in `--checkpoint FILE` (the last position folded, and its hash), so a restarted
//! consumer resumes where it stopped and still checks the link to the record before. A consumer in another
//! language needs nothing more: read lines, parse JSON, fold, remember the position.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;
use rust_decimal::Decimal;
use serde_json::Value;

#[derive(Parser)]
struct Options {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An auditor's or the bureau's bearer token.
    #[arg(long, env = "VOUCHER_LEDGER_TOKEN")]
    token: String,
    /// Where to start when there is no checkpoint.
    #[arg(long, default_value_t = 1)]
    from: u64,
    /// Stop at the head instead of following new records.
    #[arg(long)]
    no_follow: bool,
    /// A file keeping the last position folded and its hash.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
}

/// What the consumer keeps: money per provider.
#[derive(Default)]
struct Payments {
    disbursed: BTreeMap<String, Decimal>,
    clawed_back: BTreeMap<String, Decimal>,
}

impl Payments {
    /// Folds one feed line; returns a description when something changed.
    fn apply(&mut self, line: &Value) -> anyhow::Result<Option<String>> {
        let payload = &line["payload"];
        let amount = || -> anyhow::Result<Decimal> {
            payload["amount"].as_str().context("amount")?.parse().context("amount is a decimal")
        };
        let provider = payload["provider"].as_str().unwrap_or_default().to_owned();
        match line["type"].as_str() {
            Some("RedemptionDisbursed") => {
                let amount = amount()?;
                *self.disbursed.entry(provider.clone()).or_default() += amount;
                Ok(Some(format!("paid {amount} to {provider}")))
            }
            Some("ClawbackOrdered") => {
                let amount = amount()?;
                *self.clawed_back.entry(provider.clone()).or_default() += amount;
                Ok(Some(format!("ordered {amount} back from {provider}")))
            }
            _ => Ok(None),
        }
    }
}

/// The last position folded and its hash.
struct Checkpoint {
    position: u64,
    hash: String,
}

fn load(path: &Option<PathBuf>) -> anyhow::Result<Option<Checkpoint>> {
    let Some(path) = path else { return Ok(None) };
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(None) };
    let (position, hash) = text.trim().split_once(' ').context("checkpoint is `POSITION HASH`")?;
    Ok(Some(Checkpoint { position: position.parse()?, hash: hash.to_owned() }))
}

fn save(path: &Option<PathBuf>, checkpoint: &Checkpoint) -> anyhow::Result<()> {
    if let Some(path) = path {
        std::fs::write(path, format!("{} {}\n", checkpoint.position, checkpoint.hash))?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let mut last = load(&options.checkpoint)?;
    let from = last.as_ref().map_or(options.from, |checkpoint| checkpoint.position + 1);
    let follow = if options.no_follow { "false" } else { "true" };
    let url = format!("{}/v1/events?from={from}&follow={follow}", options.url);
    let mut response = reqwest::Client::new().get(&url).bearer_auth(&options.token).send().await?;
    if !response.status().is_success() {
        bail!("{url}: {} {}", response.status(), response.text().await.unwrap_or_default());
    }
    eprintln!("feed_consumer: reading {url}");
    let mut payments = Payments::default();
    let mut buffer = String::new();
    let mut folded = 0u64;
    while let Some(chunk) = response.chunk().await? {
        buffer.push_str(std::str::from_utf8(&chunk)?);
        while let Some(end) = buffer.find('\n') {
            let text: String = buffer.drain(..=end).collect();
            let line: Value = serde_json::from_str(text.trim_end())?;
            if let Some(error) = line.get("error") {
                bail!("the feed stopped: {error}");
            }
            let position = line["position"].as_u64().context("position")?;
            let hash = line["hash"].as_str().context("hash")?.to_owned();
            if let Some(previous) = &last {
                let prev_hash = line["prev_hash"].as_str().unwrap_or_default();
                if position != previous.position + 1 || prev_hash != previous.hash {
                    bail!(
                        "record {position} does not follow record {} (prev_hash {prev_hash})",
                        previous.position
                    );
                }
            }
            if let Some(change) = payments.apply(&line)? {
                println!("{position} {} {change}", line["business_date"].as_str().unwrap_or_default());
            }
            last = Some(Checkpoint { position, hash });
            folded += 1;
        }
        if let Some(checkpoint) = &last {
            save(&options.checkpoint, checkpoint)?;
        }
    }
    println!("folded {folded} records up to position {}", last.as_ref().map_or(0, |c| c.position));
    for (provider, amount) in &payments.disbursed {
        let clawed_back = payments.clawed_back.get(provider).copied().unwrap_or_default();
        println!("{provider} disbursed={amount} clawed_back={clawed_back}");
    }
    Ok(())
}
