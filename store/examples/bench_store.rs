//! Durable appends per second of each backend, one command per append and grouped: run by
//! `scripts/bench-store.sh` (release build, a throwaway PostgreSQL cluster), not a test.
//!
//! ```text
//! bench_store --dir DIR [--postgres URL] [--runs 5] [--single 2000] [--groups 50] [--group-size 1000]
//! ```
//! Each run measures the file log (in a fresh directory under DIR) and PostgreSQL (in a fresh database on the
//! server at URL, which must allow CREATE DATABASE) back to back, so that the ratio of the two in one run is
//! not skewed by the disk's mood; the table ends with the median of each figure over the runs. Records are
//! envelope-shaped (stream and version fields, a 300-byte payload), so PostgreSQL maintains its unique index.

#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use store::file::FileLog;
use store::postgres::PgLog;
use store::{EventLog, Head, StoredRecord};

struct Args {
    dir: PathBuf,
    postgres: Option<String>,
    runs: usize,
    single: usize,
    groups: usize,
    group_size: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        dir: std::env::temp_dir(),
        postgres: None,
        runs: 5,
        single: 2000,
        groups: 50,
        group_size: 1000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--dir" => args.dir = PathBuf::from(&value),
            "--postgres" => args.postgres = Some(value.clone()),
            "--runs" => args.runs = number()?,
            "--single" => args.single = number()?,
            "--groups" => args.groups = number()?,
            "--group-size" => args.group_size = number()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn varint(mut value: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A record shaped like an envelope: stream (field 2), stream version (field 3), a payload (field 14).
fn record(position: u64, ends_command: bool) -> StoredRecord {
    let mut bytes = Vec::with_capacity(360);
    let stream = format!("voucher-{position:016x}");
    varint(2 << 3 | 2, &mut bytes);
    varint(stream.len() as u64, &mut bytes);
    bytes.extend_from_slice(stream.as_bytes());
    varint(3 << 3, &mut bytes);
    varint(1, &mut bytes);
    varint(4 << 3, &mut bytes);
    varint(position, &mut bytes);
    varint(14 << 3 | 2, &mut bytes);
    varint(300, &mut bytes);
    bytes.extend((0..300u64).map(|i| (i ^ position) as u8));
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&position.to_le_bytes());
    StoredRecord { position, ends_command, hash, bytes }
}

/// Appends `appends` batches of `size` single-record commands; returns records per second.
async fn measure(log: &dyn EventLog, appends: usize, size: usize) -> Result<f64, String> {
    let mut head = log.head().await.map_err(|e| e.to_string())?;
    let started = Instant::now();
    for _ in 0..appends {
        let batch: Vec<StoredRecord> = (1..=size as u64).map(|i| record(head.position + i, true)).collect();
        let last = batch.last().map(|r| Head { position: r.position, hash: r.hash }).ok_or("empty batch")?;
        head = log.append(head, batch).await.map_err(|e| e.to_string())?;
        if head != last {
            return Err(format!("append returned {head:?}, expected {last:?}"));
        }
    }
    Ok((appends * size) as f64 / started.elapsed().as_secs_f64())
}

async fn create_database(admin: &str, name: &str) -> Result<String, String> {
    let (client, connection) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    let driver = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .map_err(|e| format!("CREATE DATABASE: {e}"))?;
    drop(client);
    let _ = driver.await;
    let (base, query) = admin.split_once('?').map_or((admin, String::new()), |(b, q)| (b, format!("?{q}")));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..].find('/').map_or(base.len(), |i| authority + i);
    Ok(format!("{}/{name}{query}", &base[..path]))
}

struct Figures {
    single: f64,
    grouped: f64,
}

async fn bench_file(dir: &Path, args: &Args) -> Result<Figures, String> {
    let (log, _) = FileLog::open(dir).map_err(|e| e.to_string())?;
    let single = measure(&log, args.single, 1).await?;
    let grouped = measure(&log, args.groups, args.group_size).await?;
    Ok(Figures { single, grouped })
}

async fn bench_postgres(url: &str, args: &Args) -> Result<Figures, String> {
    let log = PgLog::open(url).await.map_err(|e| e.to_string())?;
    let single = measure(&log, args.single, 1).await?;
    let grouped = measure(&log, args.groups, args.group_size).await?;
    Ok(Figures { single, grouped })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = parse_args()?;
    println!(
        "durable appends: single = {} appends of 1 record; grouped = {} appends of {} records (one transaction / fdatasync each)",
        args.single, args.groups, args.group_size
    );
    println!(
        "{:>4} {:>14} {:>14} {:>14} {:>14} {:>9} {:>9}",
        "run", "file 1/app", "pg 1/app", "file grouped", "pg grouped", "ratio 1", "ratio g"
    );
    let (
        mut file_single,
        mut pg_single,
        mut file_grouped,
        mut pg_grouped,
        mut ratio_single,
        mut ratio_grouped,
    ) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 1..=args.runs {
        let dir = args.dir.join(format!("bench-file-{}-{run}", std::process::id()));
        let file = bench_file(&dir, &args).await;
        let _ = std::fs::remove_dir_all(&dir);
        let file = file?;
        file_single.push(file.single);
        file_grouped.push(file.grouped);
        let pg = match &args.postgres {
            Some(admin) => {
                let url = create_database(admin, &format!("bench_{}_{run}", std::process::id())).await?;
                Some(bench_postgres(&url, &args).await?)
            }
            None => None,
        };
        match pg {
            Some(pg) => {
                pg_single.push(pg.single);
                pg_grouped.push(pg.grouped);
                ratio_single.push(file.single / pg.single);
                ratio_grouped.push(file.grouped / pg.grouped);
                println!(
                    "{run:>4} {:>14.0} {:>14.0} {:>14.0} {:>14.0} {:>9.2} {:>9.2}",
                    file.single,
                    pg.single,
                    file.grouped,
                    pg.grouped,
                    file.single / pg.single,
                    file.grouped / pg.grouped
                );
            }
            None => println!("{run:>4} {:>14.0} {:>14} {:>14.0} {:>14}", file.single, "-", file.grouped, "-"),
        }
    }
    println!(
        "{:>4} {:>14.0} {:>14.0} {:>14.0} {:>14.0} {:>9.2} {:>9.2}",
        "med",
        median(&mut file_single),
        median(&mut pg_single),
        median(&mut file_grouped),
        median(&mut pg_grouped),
        median(&mut ratio_single),
        median(&mut ratio_grouped)
    );
    println!("(records per second; ratio = file / PostgreSQL in the same run, median of the per-run ratios)");
    Ok(())
}
