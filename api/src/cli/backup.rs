//! `voucher-ledger backup`: the command line around `engine::backup` (what it prints and how it exits).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use engine::backup::{self, Progress};
use engine::open::StoreSpec;

/// Backs up the ledger in `from` into `to` and prints what was copied and the verified head. A progress
/// line follows every append (`backup: copied to position P of T`).
///
/// # Errors
/// The backup refused (a diverged or foreign DEST) or failed; DEST is as the error says.
pub fn run(from: &StoreSpec, to: &Path, batch_records: usize) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let mut progress = |p: Progress| println!("backup: copied to position {} of {}", p.copied_to, p.target);
    let report = runtime.block_on(backup::backup(from, to, batch_records, &mut progress))?;
    if let Some(marker) = &report.resumed {
        println!("backup: completed an interrupted backup (its marker said: {marker})");
    }
    if let Some(path) = &report.removed_quarantine {
        println!(
            "backup: removed {} (the torn tail of the interrupted backup, copied again from the source)",
            path.display()
        );
    }
    let copied = if report.copied == 0 {
        "nothing new".to_owned()
    } else {
        format!("positions {}..={}", report.before + 1, report.head.position)
    };
    println!(
        "backup: copied {copied} ({} records, {} appends) from {from} to {}; total {} records",
        report.copied,
        report.appends,
        to.display(),
        report.head.position
    );
    println!(
        "verify: ok records={} head={} hash={}",
        report.head.position,
        report.head.position,
        hex::encode(report.head.hash)
    );
    Ok(ExitCode::SUCCESS)
}
