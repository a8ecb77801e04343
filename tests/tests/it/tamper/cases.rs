//! Tampering with a stopped ledger's files: `voucher-ledger verify` fails and names the position of the
//! first record that is not what was written. Each test builds a log through the in-process server, stops
//! it, and damages a copy of its data directory.

use e2e::{Client, InProcessServer, MORNING, Verification, copy_dir, head_position, run_verify};
use tempfile::TempDir;

use super::{Frame, batch_and_four_applicants, fix_crc, frames, only_segment};

/// The record of this position is the one damaged (in the middle of the log).
const K: u64 = 7;

/// A stopped ledger: an appropriation, a batch, four verified applicants and four claims (14 records).
struct Pristine {
    dir: TempDir,
    head: u64,
}

async fn pristine() -> Pristine {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = InProcessServer::start(dir.path(), MORNING).await.expect("server");
    let client = Client::new(&server.base);
    let (batch, tokens) = batch_and_four_applicants(&client).await;
    for own in &tokens {
        let answer = client
            .post_raw(&format!("/v1/batches/{batch}/claims"), Some(own), "{}", None)
            .await
            .expect("claim");
        assert_eq!(answer.status, 201, "claim: {answer:?}");
    }
    let head = head_position(&client).await.expect("head");
    server.stop().await;
    assert_eq!(head, 14, "2 + 4 × 2 + 4 records");
    Pristine { dir, head }
}

/// Copies the pristine directory, rewrites the copy's segment with `change`, and runs `verify` on the copy.
fn verify_tampered(pristine: &Pristine, change: impl FnOnce(&mut Vec<u8>, &[Frame])) -> Verification {
    let copy = tempfile::tempdir().expect("tempdir");
    copy_dir(pristine.dir.path(), copy.path()).expect("copy");
    let segment = only_segment(copy.path());
    let mut bytes = std::fs::read(&segment).expect("read segment");
    let parsed = frames(0, &bytes);
    assert_eq!(parsed.len() as u64, pristine.head);
    assert!(parsed.iter().zip(1..).all(|(frame, position)| frame.position == position), "{parsed:?}");
    let before = bytes.clone();
    change(&mut bytes, &parsed);
    assert_ne!(bytes, before, "the change changed something");
    std::fs::write(&segment, &bytes).expect("write segment");
    let verification = run_verify(copy.path()).expect("verify runs");
    // The pristine log is untouched by the tampering of its copy.
    assert!(run_verify(pristine.dir.path()).expect("verify runs").success);
    verification
}

fn assert_fails_at(verification: &Verification, position: u64) {
    eprint!("{}", verification.stdout);
    assert!(!verification.success, "verify must fail: {verification:?}");
    assert_eq!(verification.code, Some(1), "{verification:?}");
    assert!(verification.stdout.starts_with("verify: FAILED"), "{verification:?}");
    assert!(
        verification.stdout.contains(&format!("position={position} ")),
        "verify names position {position}: {verification:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_untouched_log_verifies() {
    let pristine = pristine().await;
    let verification = run_verify(pristine.dir.path()).expect("verify runs");
    assert!(verification.success, "{verification:?}");
    assert_eq!(verification.code, Some(0));
    let head = pristine.head;
    assert!(
        verification.stdout.starts_with(&format!("verify: ok records={head} head={head} hash=")),
        "{verification:?}"
    );
    let hash = verification.stdout.trim().rsplit("hash=").next().expect("hash");
    assert_eq!(hash.len(), 64, "a SHA-256 in hex: {verification:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_changed_byte_is_named_by_position() {
    let pristine = pristine().await;
    let verification = verify_tampered(&pristine, |bytes, frames| {
        let record = frames[(K - 1) as usize].record();
        bytes[record.start + record.len() / 2] ^= 0x01;
    });
    assert_fails_at(&verification, K);
    assert!(verification.stdout.contains("CRC"), "the frame's CRC catches it: {verification:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deleted_record_is_named_by_position() {
    let pristine = pristine().await;
    let verification = verify_tampered(&pristine, |bytes, frames| {
        bytes.drain(frames[(K - 1) as usize].range());
    });
    assert_fails_at(&verification, K);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn swapped_records_are_named_by_position() {
    let pristine = pristine().await;
    let verification = verify_tampered(&pristine, |bytes, frames| {
        let first = frames[(K - 1) as usize];
        let second = frames[K as usize];
        let mut swapped = bytes[second.range()].to_vec();
        swapped.extend_from_slice(&bytes[first.range()]);
        bytes.splice(first.offset..second.offset + second.len, swapped);
    });
    assert_fails_at(&verification, K);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_truncated_tail_is_named_by_position() {
    let pristine = pristine().await;
    let head = pristine.head;
    let verification = verify_tampered(&pristine, |bytes, frames| {
        let last = frames.last().expect("frames");
        assert_eq!(last.position, head);
        bytes.truncate(last.offset + last.len / 2);
    });
    assert_fails_at(&verification, head);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_changed_byte_with_a_fixed_crc_is_caught_by_the_hash_chain() {
    let pristine = pristine().await;
    let verification = verify_tampered(&pristine, |bytes, frames| {
        let frame = frames[(K - 1) as usize];
        // Change a character of the actor's subject, so the record still decodes: only the hash can tell.
        let record = &bytes[frame.record()];
        let at = ["applicant-", "center-", "bureau-", "finance-"]
            .iter()
            .find_map(|subject| record.windows(subject.len()).position(|window| window == subject.as_bytes()))
            .expect("record k names its actor");
        bytes[frame.record().start + at] = b'X';
        fix_crc(bytes, &frame);
    });
    assert_fails_at(&verification, K);
    assert!(verification.stdout.contains("hash mismatch"), "the hash chain catches it: {verification:?}");
}
