//! Evidence kept by the embedded log: a damaged acknowledged record is refused at `serve`, not cut; a real
//! torn tail is moved to `DATA/quarantine/` with its bytes intact and `verify` reports it; `verify
//! --expect-head POSITION:HASH` (a head kept from `GET /v1/log/head`) catches a log cut back at a record
//! boundary or missing its last segment, which are otherwise valid shorter logs. Each test builds a ledger
//! through the in-process server, stops it, and works on the real binary.

use std::path::Path;
use std::process::{Command, Stdio};

use domain::Role;
use e2e::{Client, InProcessServer, MORNING, ServerProcess, Verification, binary, token};
use tempfile::TempDir;

use super::{
    BODY_FIXED_LEN, FLAG_ENDS_COMMAND, GUIYANG, HEADER_LEN, batch_and_four_applicants, frames, only_segment,
};

/// A stopped ledger (a batch, four verified applicants: 10 records) and its head as `GET /v1/log/head`
/// answered it.
struct Ledger {
    dir: TempDir,
    position: u64,
    hash: String,
}

async fn ledger() -> Ledger {
    let dir = tempfile::tempdir().unwrap();
    let server = InProcessServer::start(dir.path(), MORNING).await.unwrap();
    let client = Client::new(&server.base);
    batch_and_four_applicants(&client).await;
    let auditor = token(Role::Auditor, GUIYANG, "auditor-1", None);
    let head = client.get("/v1/log/head", Some(&auditor)).await.unwrap();
    assert_eq!(head.status, 200, "{head:?}");
    server.stop().await;
    let position = head.body["position"].as_u64().unwrap();
    let hash = head.body["hash"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 64);
    Ledger { dir, position, hash }
}

/// Runs `voucher-ledger verify --data DIR` with `args`.
fn verify(data: &Path, args: &[&str]) -> Verification {
    let output = Command::new(binary())
        .arg("verify")
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("VOUCHER_LEDGER_STORE")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let verification = Verification {
        success: output.status.success(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    eprintln!("verify {args:?}: {verification:?}");
    verification
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flipped_byte_in_the_last_acknowledged_record_is_refused_at_serve_not_cut() {
    let ledger = ledger().await;
    let segment = only_segment(ledger.dir.path());
    let mut bytes = std::fs::read(&segment).unwrap();
    let last = *frames(0, &bytes).last().unwrap();
    assert_eq!(last.position, ledger.position);
    bytes[last.offset + HEADER_LEN + BODY_FIXED_LEN + 5] ^= 0x10;
    std::fs::write(&segment, &bytes).unwrap();

    let verification = verify(ledger.dir.path(), &[]);
    assert_eq!(verification.code, Some(1));
    assert!(verification.stdout.starts_with(&format!("verify: FAILED position={} ", ledger.position)));

    let started =
        ServerProcess::try_start_on(&engine::open::StoreSpec::File(ledger.dir.path().into()), MORNING);
    let error = format!("{:#}", started.err().expect("serve refuses a damaged acknowledged record"));
    assert!(error.contains(&format!("log corrupt at position {}", ledger.position)), "{error}");
    assert_eq!(std::fs::read(&segment).unwrap(), bytes, "nothing was cut");
    assert!(!ledger.dir.path().join("quarantine").exists());
    // The evidence is still there for the next verification.
    assert_eq!(verify(ledger.dir.path(), &[]).code, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_torn_tail_is_quarantined_intact_and_verify_reports_it() {
    let ledger = ledger().await;
    let segment = only_segment(ledger.dir.path());
    let pristine = std::fs::read(&segment).unwrap();
    // What a crash in the middle of the next append leaves: the header and the first part of a frame for
    // the next position.
    let next = ledger.position + 1;
    let mut torn = Vec::new();
    torn.extend_from_slice(&300u32.to_le_bytes());
    torn.extend_from_slice(&0x1234_5678u32.to_le_bytes());
    torn.extend_from_slice(&next.to_le_bytes());
    torn.push(FLAG_ENDS_COMMAND);
    torn.extend_from_slice(&[0xAB; 40]);
    let mut bytes = pristine.clone();
    bytes.extend_from_slice(&torn);
    std::fs::write(&segment, &bytes).unwrap();

    let server = ServerProcess::start(ledger.dir.path(), MORNING).unwrap();
    let stderr = server.stderr();
    server.kill();
    assert!(stderr.contains("quarantine"), "the recovery is reported: {stderr}");
    assert_eq!(std::fs::read(&segment).unwrap(), pristine, "the log is cut back to its acknowledged records");
    let quarantine: Vec<_> =
        std::fs::read_dir(ledger.dir.path().join("quarantine")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(quarantine.len(), 1, "{quarantine:?}");
    assert_eq!(std::fs::read(&quarantine[0]).unwrap(), torn, "the cut bytes are kept unchanged");

    let reported = verify(ledger.dir.path(), &[]);
    assert_eq!(reported.code, Some(2), "intact, but quarantine holds bytes");
    assert!(
        reported.stdout.contains(&format!(
            "verify: QUARANTINE records={0} head={0} hash={1} quarantined={2} bytes in 1 files",
            ledger.position,
            ledger.hash,
            torn.len()
        )),
        "{reported:?}"
    );
    assert!(reported.stdout.contains(&format!("damaged_frame_claims_position={next}")), "{reported:?}");
    let accepted = verify(ledger.dir.path(), &["--accept-quarantine"]);
    assert_eq!(accepted.code, Some(0));
    assert!(accepted.stdout.contains("verify: ok records="), "{accepted:?}");
    assert!(accepted.stdout.contains("quarantined="), "still listed: {accepted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expect_head_catches_a_log_cut_back_at_a_record_boundary() {
    let ledger = ledger().await;
    let expect = format!("{}:{}", ledger.position, ledger.hash);
    let intact = verify(ledger.dir.path(), &["--expect-head", &expect]);
    assert_eq!(intact.code, Some(0), "{intact:?}");
    let upper = format!("{}:sha256:{}", ledger.position, ledger.hash.to_uppercase());
    assert_eq!(verify(ledger.dir.path(), &["--expect-head", &upper]).code, Some(0));

    // Cut back to the end of the previous command: a valid, shorter log.
    let segment = only_segment(ledger.dir.path());
    let bytes = std::fs::read(&segment).unwrap();
    let parsed = frames(0, &bytes);
    let keep = parsed.iter().rev().skip(1).find(|f| f.ends_command).unwrap();
    std::fs::write(&segment, &bytes[..keep.offset + keep.len]).unwrap();
    let plain = verify(ledger.dir.path(), &[]);
    assert_eq!(plain.code, Some(0), "without a kept head a cut-back log is a valid shorter log: {plain:?}");

    let caught = verify(ledger.dir.path(), &["--expect-head", &expect]);
    assert_eq!(caught.code, Some(1), "{caught:?}");
    assert!(
        caught.stdout.starts_with(&format!(
            "verify: FAILED position={} reason=truncated: the log ends at position {}, before the expected head {expect}",
            keep.position + 1,
            keep.position
        )),
        "{caught:?}"
    );

    // A head with another hash at a position the log still has.
    let other = format!("{}:{}", keep.position, ledger.hash);
    let forked = verify(ledger.dir.path(), &["--expect-head", &other]);
    assert_eq!(forked.code, Some(1), "{forked:?}");
    assert!(forked.stdout.contains(&format!("position={} ", keep.position)), "{forked:?}");
    assert!(forked.stdout.contains("not the expected head's"), "{forked:?}");

    let malformed = verify(ledger.dir.path(), &["--expect-head", "12:abc"]);
    assert_eq!(malformed.code, Some(2), "a clap usage error: {malformed:?}");
    assert!(malformed.stderr.contains("not a SHA-256 hash"), "{malformed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expect_head_catches_a_deleted_last_segment() {
    let ledger = ledger().await;
    // Split the one segment in two at a command boundary, as the writer rolls segments.
    let segment = only_segment(ledger.dir.path());
    let bytes = std::fs::read(&segment).unwrap();
    let parsed = frames(0, &bytes);
    let split = parsed.iter().take(parsed.len() / 2).rev().find(|f| f.ends_command).unwrap();
    let at = split.offset + split.len;
    std::fs::write(&segment, &bytes[..at]).unwrap();
    let second = segment.with_file_name(format!("{:020}.seg", split.position + 1));
    std::fs::write(&second, &bytes[at..]).unwrap();
    let expect = format!("{}:{}", ledger.position, ledger.hash);
    assert_eq!(verify(ledger.dir.path(), &["--expect-head", &expect]).code, Some(0));

    let saved = std::fs::read(&second).unwrap();
    std::fs::remove_file(&second).unwrap();
    // Split by hand, the log has no record of its started segments: only the kept head tells.
    assert_eq!(verify(ledger.dir.path(), &[]).code, Some(0));
    let caught = verify(ledger.dir.path(), &["--expect-head", &expect]);
    assert_eq!(caught.code, Some(1), "{caught:?}");
    assert!(
        caught
            .stdout
            .starts_with(&format!("verify: FAILED position={} reason=truncated", split.position + 1)),
        "{caught:?}"
    );

    // Once a writer has opened the two-segment log, DATA/SEGMENTS_STARTED records the second segment, and a
    // plain verify catches its deletion too.
    std::fs::write(&second, &saved).unwrap();
    ServerProcess::start(ledger.dir.path(), MORNING).unwrap().kill();
    assert_eq!(verify(ledger.dir.path(), &[]).code, Some(0));
    std::fs::remove_file(&second).unwrap();
    let plain = verify(ledger.dir.path(), &[]);
    assert_eq!(plain.code, Some(1), "{plain:?}");
    let missing = format!("the segment starting at position {} is missing", split.position + 1);
    assert!(plain.stdout.contains(&missing), "{plain:?}");
}
