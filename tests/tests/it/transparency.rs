//! The transparency log end to end (issue 17), with the real binary over real HTTP: on the demo ledger a
//! signed checkpoint verifies with the key `serve` printed or `keygen` wrote, the API's inclusion and
//! consistency proofs verify with `tlog`'s RFC 9162 verifiers, an enterprise's proof bundle is checked
//! offline by `voucher-ledger check-proof` (and fails, naming why, once a record byte, a proof hash or the
//! signature is changed), two signed checkpoints pass `check-consistency`, and a log cut back by one command
//! fails `verify --checkpoint` naming the checkpoint's size. Also: who may download a bundle, and the
//! problem codes of bad proof queries.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use domain::{Jurisdiction, Role};
use e2e::{Client, MORNING, ServerProcess, token};
use engine::open::StoreSpec;
use serde_json::Value;
use tlog::{Checkpoint, NodeHash, TreeHash, VerifierKey};

/// Runs the binary; (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(e2e::binary())
        .args(args)
        .env_remove("VOUCHER_LEDGER_STORE")
        .output()
        .expect("run voucher-ledger");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn text(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The demo ledger (a small program year) in `data`; returns one applicant's credit code it names.
fn demo(data: &Path) -> String {
    let (code, stdout, stderr) =
        run(&["demo", "--data", text(data), "--seed", "7", "--applicants", "40", "--providers", "8"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    stdout
        .lines()
        .find_map(|line| line.split("/v1/applicants/").nth(1))
        .map(|code| code.trim().to_owned())
        .expect("the demo names an applicant")
}

/// Serves `data` (manual clock at MORNING, before the demo's records) with `extra` arguments.
fn serve(data: &Path, extra: &[&str]) -> ServerProcess {
    let mut args = vec!["--allow-clock-behind-records"];
    args.extend_from_slice(extra);
    ServerProcess::try_start_with(&StoreSpec::File(data.to_owned()), MORNING, &args).expect("serve")
}

/// The served checkpoint as text, with its content type.
async fn checkpoint_note(base: &str) -> (u16, String, String) {
    let response = reqwest::get(format!("{base}/v1/checkpoint")).await.expect("GET /v1/checkpoint");
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, content_type, response.text().await.expect("body"))
}

fn opened(note: &str, key: &VerifierKey) -> Checkpoint {
    let text = tlog::open_note(note, std::slice::from_ref(key)).expect("the checkpoint's signature checks");
    Checkpoint::parse(&text).expect("a C2SP checkpoint")
}

fn hashes(value: &Value) -> Vec<NodeHash> {
    value
        .as_array()
        .expect("an array of hashes")
        .iter()
        .map(|hash| {
            let bytes = BASE64.decode(hash.as_str().expect("base64 text")).expect("base64");
            NodeHash::try_from(bytes.as_slice()).expect("32 bytes")
        })
        .collect()
}

fn hash(value: &Value) -> NodeHash {
    hashes(&Value::Array(vec![value.clone()]))[0]
}

/// The first 4 frames' worth of format: `len u32 | crc u32 | position u64 | flags u8 | hash [32] | bytes`.
/// Cuts the (only) segment of `data` back to the end of the command before its last: returns the new head.
fn cut_back_one_command(data: &Path) -> u64 {
    let segments = e2e::segment_files(data).expect("segments");
    let segment = segments.last().expect("a segment");
    let bytes = std::fs::read(segment).expect("read segment");
    // (end offset, position, ends_command) of each frame.
    let mut frames = Vec::new();
    let mut offset = 0;
    while offset + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[offset..offset + 4].try_into().expect("4 bytes")) as usize;
        if len == 0 {
            break; // space written ahead
        }
        let body = &bytes[offset + 8..offset + 8 + len];
        let position = u64::from_le_bytes(body[0..8].try_into().expect("8 bytes"));
        frames.push((offset + 8 + len, position, body[8] & 1 != 0));
        offset += 8 + len;
    }
    let (end, position, _) =
        *frames.iter().rev().skip(1).find(|(_, _, ends)| *ends).expect("a command before the last");
    std::fs::write(segment, &bytes[..end]).expect("cut the segment");
    position
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_demo_ledger_is_checkable_by_anyone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("demo");
    let applicant = demo(&data);

    // A signing key, and an older copy of the log (one command shorter) to sign an older checkpoint on.
    let key_file = dir.path().join("checkpoint.key");
    let (code, stdout, stderr) =
        run(&["keygen", "--name", "voucher-ledger.test/guiyang", "--out", text(&key_file)]);
    assert_eq!(code, Some(0), "{stderr}");
    let key: VerifierKey = stdout.trim().parse().expect("keygen prints the verifier key");
    assert!(stdout.starts_with("voucher-ledger.test/guiyang+"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).expect("key file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the signing key is readable by its owner only");
    }
    let (code, _, stderr) = run(&["keygen", "--name", "other", "--out", text(&key_file)]);
    assert_ne!(code, Some(0), "keygen never overwrites a key");
    assert!(stderr.contains("never overwritten"), "{stderr}");

    let older = dir.path().join("older");
    e2e::copy_dir(&data, &older).expect("copy");
    let older_size = cut_back_one_command(&older);
    let server = serve(&older, &["--signing-key", text(&key_file)]);
    let (_, _, old_note) = checkpoint_note(&server.base).await;
    server.kill();
    let old = opened(&old_note, &key);
    assert_eq!(old.size, older_size);

    // The whole demo ledger, served with the key.
    let server = serve(&data, &["--signing-key", text(&key_file)]);
    let client = Client::new(&server.base);
    let (status, content_type, note) = checkpoint_note(&server.base).await;
    assert_eq!(status, 200, "{note}");
    assert_eq!(content_type, "text/plain; charset=utf-8");
    let checkpoint = opened(&note, &key);
    assert_eq!(checkpoint.origin, "voucher-ledger.test/guiyang", "the origin is the key's name by default");
    assert!(checkpoint.size > older_size, "{} records", checkpoint.size);
    let size = checkpoint.size;

    // Inclusion proofs of the first, a middle and the last record verify against the signed root.
    for position in [1, size / 2, size] {
        let answer = client
            .get(&format!("/v1/proofs/inclusion?position={position}&tree_size={size}"), None)
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(answer.body["leaf_index"], position - 1);
        assert_eq!(answer.body["tree_size"], size);
        tlog::verify_inclusion(
            TreeHash::Sha256,
            &hash(&answer.body["leaf_hash"]),
            position - 1,
            size,
            &hashes(&answer.body["audit_path"]),
            &checkpoint.root,
        )
        .expect("the inclusion proof verifies");
    }
    // The leaf is the record's stored bytes: SHA-256(0x00 || bytes) of the record read from the log.
    let log = store::file::FileLog::open_read_only(&data).expect("read-only log");
    let first = store::EventLog::read_batch(&log, 1, 1).await.expect("read")[0].clone();
    let answer =
        client.get(&format!("/v1/proofs/inclusion?position=1&tree_size={size}"), None).await.unwrap();
    assert_eq!(hash(&answer.body["leaf_hash"]), TreeHash::Sha256.leaf(&first.bytes));

    // The consistency proof between the two signed checkpoints verifies, from the API and by the CLI.
    let answer =
        client.get(&format!("/v1/proofs/consistency?from={older_size}&to={size}"), None).await.unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["first"], older_size);
    assert_eq!(answer.body["second"], size);
    tlog::verify_consistency(
        TreeHash::Sha256,
        older_size,
        size,
        &old.root,
        &checkpoint.root,
        &hashes(&answer.body["consistency"]),
    )
    .expect("the consistency proof verifies");
    let old_file = dir.path().join("old.checkpoint");
    let new_file = dir.path().join("new.checkpoint");
    let proof_file = dir.path().join("consistency.json");
    std::fs::write(&old_file, &old_note).unwrap();
    std::fs::write(&new_file, &note).unwrap();
    std::fs::write(&proof_file, answer.body.to_string()).unwrap();
    let key_text = key.to_string();
    let (code, stdout, _) = run(&[
        "check-consistency",
        text(&old_file),
        text(&new_file),
        "--key",
        &key_text,
        "--proof",
        text(&proof_file),
    ]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "check-consistency: ok origin=voucher-ledger.test/guiyang {size} extends {older_size}"
        )),
        "{stdout}"
    );
    let mut forged = answer.body.clone();
    forged["consistency"][0] = Value::String(BASE64.encode([7u8; 32]));
    std::fs::write(&proof_file, forged.to_string()).unwrap();
    let (code, stdout, _) = run(&[
        "check-consistency",
        text(&old_file),
        text(&new_file),
        "--key",
        &key_text,
        "--proof",
        text(&proof_file),
    ]);
    assert_eq!(code, Some(1), "a changed proof hash fails: {stdout}");
    assert!(stdout.contains("check-consistency: FAILED"), "{stdout}");
    // The proof computed from a local copy of the log instead of the server's.
    let (code, stdout, _) = run(&[
        "check-consistency",
        text(&old_file),
        text(&new_file),
        "--key",
        &key_text,
        "--data",
        text(&data),
    ]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("check-consistency: ok"), "{stdout}");
    // Swapped, the newer is not extended by the older.
    let (code, stdout, _) = run(&[
        "check-consistency",
        text(&new_file),
        text(&old_file),
        "--key",
        &key_text,
        "--proof",
        text(&proof_file),
    ]);
    assert_eq!(code, Some(1), "{stdout}");

    // Bad proof queries: stable problem codes.
    for (query, code) in [
        ("/v1/proofs/inclusion?position=0&tree_size=5", "position_out_of_range"),
        ("/v1/proofs/inclusion?position=6&tree_size=5", "position_out_of_range"),
        (&format!("/v1/proofs/inclusion?position=1&tree_size={}", size + 1), "tree_size_beyond_log"),
        ("/v1/proofs/inclusion?position=x&tree_size=5", "invalid_query"),
        ("/v1/proofs/inclusion?tree_size=5", "invalid_query"),
        ("/v1/proofs/consistency?from=0&to=5", "consistency_out_of_range"),
        ("/v1/proofs/consistency?from=6&to=5", "consistency_out_of_range"),
        (&format!("/v1/proofs/consistency?from=1&to={}", size + 1), "tree_size_beyond_log"),
        ("/v1/proofs/consistency?from=1&to=-1", "invalid_query"),
    ] {
        let answer = client.get(query, None).await.unwrap();
        assert_eq!((answer.status, answer.code()), (400, code), "{query}: {:?}", answer.body);
        assert!(answer.content_type.starts_with("application/problem+json"), "{query}");
    }

    // The announcement lists carry the signed checkpoint that covers them.
    let list = client.get("/v1/announcements", None).await.unwrap();
    assert_eq!(list.status, 200);
    let list_note = list.body["checkpoint"].as_str().expect("the list carries a checkpoint");
    let covering = opened(list_note, &key);
    assert!(covering.size >= list.body["position"].as_u64().expect("position"));
    if let Some(first) = list.body["announcements"][0]["announcement_id"].as_str() {
        let one = client.get(&format!("/v1/announcements/{first}"), None).await.unwrap();
        assert_eq!(one.status, 200);
        opened(one.body["checkpoint"].as_str().expect("an announcement carries a checkpoint"), &key);
    }

    // The enterprise's proof bundle: the enterprise itself, the bureau and auditors; nobody else.
    let auditor = token(Role::Auditor, Jurisdiction::Guiyang, "auditor", None);
    let registration = client.get(&format!("/v1/applicants/{applicant}"), Some(&auditor)).await.unwrap();
    assert_eq!(registration.status, 200, "{:?}", registration.body);
    let jurisdiction: Jurisdiction = registration.body["registration"]["jurisdiction"]
        .as_str()
        .or_else(|| registration.body["jurisdiction"].as_str())
        .expect("jurisdiction")
        .parse()
        .expect("a jurisdiction");
    let other =
        if jurisdiction == Jurisdiction::Guiyang { Jurisdiction::Guian } else { Jurisdiction::Guiyang };
    let own = token(Role::Enterprise, jurisdiction, "owner", Some(&applicant));
    let path = format!("/v1/applicants/{applicant}/proof");
    let bundle = client.get(&path, Some(&own)).await.unwrap();
    assert_eq!(bundle.status, 200, "{:?}", bundle.body);
    assert_eq!(
        client.get(&path, Some(&token(Role::Bureau, jurisdiction, "b", None))).await.unwrap().status,
        200
    );
    assert_eq!(client.get(&path, Some(&auditor)).await.unwrap().status, 200);
    let stranger = token(Role::Enterprise, jurisdiction, "stranger", Some(&e2e::credit_code(99_999)));
    let refused = client.get(&path, Some(&stranger)).await.unwrap();
    assert_eq!(
        (refused.status, refused.code()),
        (404, "applicant_not_found"),
        "another enterprise learns nothing"
    );
    let foreign_bureau = client.get(&path, Some(&token(Role::Bureau, other, "b", None))).await.unwrap();
    assert_eq!(foreign_bureau.status, 404, "{:?}", foreign_bureau.body);
    let finance = client.get(&path, Some(&token(Role::Finance, jurisdiction, "f", None))).await.unwrap();
    assert_eq!((finance.status, finance.code()), (403, "forbidden"));
    assert_eq!(client.get(&path, None).await.unwrap().status, 401);
    server.kill();

    let records = bundle.body["records"].as_array().expect("records");
    assert!(records.len() >= 2, "registration and more: {}", records.len());
    assert_eq!(bundle.body["subject"], applicant.as_str());
    let bundle_file = dir.path().join("bundle.json");
    std::fs::write(&bundle_file, bundle.body.to_string()).unwrap();
    let (code, stdout, stderr) = run(&["check-proof", text(&bundle_file), "--key", &key_text]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("ApplicantRegistered"), "the history in words: {stdout}");
    assert!(
        stdout.contains(&format!("check-proof: ok subject={applicant} records={}", records.len())),
        "{stdout}"
    );

    // Tampered bundles fail, naming why.
    let position = records[0]["position"].as_u64().expect("position");
    let tampered = |change: &dyn Fn(&mut Value)| {
        let mut copy = bundle.body.clone();
        change(&mut copy);
        let file = dir.path().join("tampered.json");
        std::fs::write(&file, copy.to_string()).unwrap();
        let (code, stdout, _) = run(&["check-proof", text(&file), "--key", &key_text]);
        assert_eq!(code, Some(1), "{stdout}");
        assert!(stdout.starts_with("check-proof: FAILED"), "{stdout}");
        stdout
    };
    let byte = tampered(&|bundle| {
        let mut bytes = BASE64.decode(bundle["records"][0]["stored"].as_str().unwrap()).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        bundle["records"][0]["stored"] = Value::String(BASE64.encode(bytes));
    });
    assert!(byte.contains(&format!("record at position {position} is not proven")), "{byte}");
    let proof_hash = tampered(&|bundle| {
        let mut bytes = BASE64.decode(bundle["records"][0]["audit_path"][0].as_str().unwrap()).unwrap();
        bytes[0] ^= 1;
        bundle["records"][0]["audit_path"][0] = Value::String(BASE64.encode(bytes));
    });
    assert!(proof_hash.contains(&format!("record at position {position} is not proven")), "{proof_hash}");
    let signature = tampered(&|bundle| {
        let note = bundle["checkpoint"].as_str().unwrap().to_owned();
        let line = note.lines().last().unwrap().to_owned();
        let signature = line.rsplit(' ').next().unwrap();
        let mut bytes = BASE64.decode(signature).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let changed = line.replace(signature, &BASE64.encode(bytes));
        bundle["checkpoint"] = Value::String(note.replace(&line, &changed));
    });
    assert!(signature.contains("signature does not check"), "{signature}");

    // The same bundle offline, from the log and the key.
    let offline_file = dir.path().join("offline.json");
    let (code, stdout, stderr) = run(&[
        "proof",
        "--data",
        text(&data),
        "--credit-code",
        &applicant,
        "--out",
        text(&offline_file),
        "--signing-key",
        text(&key_file),
    ]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let offline: Value = serde_json::from_str(&std::fs::read_to_string(&offline_file).unwrap()).unwrap();
    assert_eq!(offline["records"], bundle.body["records"], "the same records and proofs as the API's");
    let (code, stdout, _) = run(&["check-proof", text(&offline_file), "--key", &key_text]);
    assert_eq!(code, Some(0), "{stdout}");

    // verify --checkpoint: the log extends the checkpoint; cut back by one command, it fails naming the size.
    let (code, stdout, _) =
        run(&["verify", "--data", text(&data), "--checkpoint", text(&new_file), "--key", &key_text]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("verify: checkpoint ok origin=voucher-ledger.test/guiyang size={size}")),
        "{stdout}"
    );
    let kept = cut_back_one_command(&data);
    assert!(kept < size);
    let (code, stdout, _) =
        run(&["verify", "--data", text(&data), "--checkpoint", text(&new_file), "--key", &key_text]);
    assert_eq!(code, Some(1), "a log cut back fails: {stdout}");
    assert!(stdout.contains(&format!("verify: FAILED checkpoint size={size}")), "{stdout}");
    let (code, stdout, _) = run(&["verify", "--data", text(&data)]);
    assert_eq!(code, Some(0), "without the checkpoint the shorter log is a valid log: {stdout}");
    let (code, stdout, _) =
        run(&["verify", "--data", text(&data), "--checkpoint", text(&new_file), "--key", "x+00000000+AAAA"]);
    assert_ne!(code, Some(0), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dev_mode_signs_with_a_printed_key_and_no_key_means_no_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data: PathBuf = dir.path().join("demo");
    demo(&data);
    let server = serve(&data, &["--dev"]);
    let line = server
        .stderr()
        .lines()
        .find_map(|line| line.split("verifier key ").nth(1).map(str::to_owned))
        .expect("serve --dev prints the verifier key");
    let key: VerifierKey = line.trim().parse().expect("a verifier key");
    let (status, _, note) = checkpoint_note(&server.base).await;
    assert_eq!(status, 200);
    let checkpoint = opened(&note, &key);
    assert_eq!(checkpoint.origin, "voucher-ledger-dev");
    server.kill();

    let server = serve(&data, &[]);
    let client = Client::new(&server.base);
    let answer = client.get("/v1/checkpoint", None).await.unwrap();
    assert_eq!((answer.status, answer.code()), (404, "no_signing_key"), "{:?}", answer.body);
    let proof = client.get("/v1/proofs/inclusion?position=1&tree_size=1", None).await.unwrap();
    assert_eq!(proof.status, 200, "proofs need no key: {:?}", proof.body);
    let list = client.get("/v1/announcements", None).await.unwrap();
    assert_eq!(list.body["checkpoint"], Value::Null);
}

/// The 国密 option: an SM2 key signs checkpoints of an SM3 tree, served and offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_sm2_key_signs_an_sm3_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("demo");
    let applicant = demo(&data);
    let key_file = dir.path().join("sm2.key");
    let (code, stdout, stderr) = run(&[
        "keygen",
        "--name",
        "voucher-ledger.test/guian",
        "--out",
        text(&key_file),
        "--algorithm",
        "sm2",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let key: VerifierKey = stdout.trim().parse().expect("a verifier key");
    assert_eq!(key.algorithm(), tlog::Algorithm::Sm2);

    let server = serve(&data, &["--signing-key", text(&key_file), "--origin", "guian.example/ledger"]);
    let client = Client::new(&server.base);
    let (status, _, note) = checkpoint_note(&server.base).await;
    assert_eq!(status, 200, "{note}");
    let checkpoint = opened(&note, &key);
    assert_eq!(checkpoint.origin, "guian.example/ledger");
    let size = checkpoint.size;
    let answer =
        client.get(&format!("/v1/proofs/inclusion?position=3&tree_size={size}"), None).await.unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let leaf = hash(&answer.body["leaf_hash"]);
    let path = hashes(&answer.body["audit_path"]);
    tlog::verify_inclusion(TreeHash::Sm3, &leaf, 2, size, &path, &checkpoint.root)
        .expect("the SM3 inclusion proof verifies");
    assert!(
        tlog::verify_inclusion(TreeHash::Sha256, &leaf, 2, size, &path, &checkpoint.root).is_err(),
        "the tree is not SHA-256"
    );
    server.kill();

    let bundle_file = dir.path().join("bundle.json");
    let (code, stdout, stderr) = run(&[
        "proof",
        "--data",
        text(&data),
        "--credit-code",
        &applicant,
        "--out",
        text(&bundle_file),
        "--signing-key",
        text(&key_file),
    ]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&bundle_file).unwrap()).unwrap();
    assert_eq!(bundle["tree_hash"], "sm3");
    let (code, stdout, _) = run(&["check-proof", text(&bundle_file), "--key", &key.to_string()]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("(SM2, sm3 tree)"), "{stdout}");
    let checkpoint_file = dir.path().join("sm2.checkpoint");
    std::fs::write(&checkpoint_file, bundle["checkpoint"].as_str().unwrap()).unwrap();
    let (code, stdout, _) = run(&[
        "verify",
        "--data",
        text(&data),
        "--checkpoint",
        text(&checkpoint_file),
        "--key",
        &key.to_string(),
    ]);
    assert_eq!(code, Some(0), "the SM3 tree of the log has the checkpoint's root: {stdout}");
}
