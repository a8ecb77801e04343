//! The command line as an operator uses it: calendar arithmetic, token minting, serve's refusal to run
//! without a key.

use std::process::Command;

fn run(args: &[&str], secret: Option<&str>) -> (bool, String, String) {
    let mut command = Command::new(e2e::binary());
    command.args(args).env_remove("VOUCHER_LEDGER_JWT_SECRET");
    if let Some(secret) = secret {
        command.env("VOUCHER_LEDGER_JWT_SECRET", secret);
    }
    let output = command.output().expect("run voucher-ledger");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    )
}

#[test]
fn working_days_after_follows_the_state_council_calendar() {
    // 2024-09-29 (Sunday) is a working day; 10-01..10-07 are the National Day holiday.
    assert_eq!(run(&["calendar", "working-days-after", "2024-09-27", "5"], None).1, "2024-10-10");
    // Spring Festival 2025: 01-28..02-04 off, 01-26 (Sunday) and 02-08 (Saturday) worked.
    assert_eq!(run(&["calendar", "working-days-after", "2025-01-24", "2"], None).1, "2025-01-27");
}

#[test]
fn a_period_needing_an_unknown_year_is_refused_with_a_clear_error() {
    let (ok, stdout, stderr) = run(&["calendar", "working-days-after", "2026-12-28", "5"], None);
    assert!(!ok, "stdout: {stdout}");
    assert!(stderr.contains("2027"), "stderr should name the unknown year: {stderr}");
}

#[test]
fn a_minted_token_is_accepted_by_the_same_key_only() {
    let (ok, token, stderr) = run(
        &["token", "--role", "bureau", "--jurisdiction", "guian", "--subject", "clerk-7"],
        Some(e2e::SECRET),
    );
    assert!(ok, "{stderr}");
    let auth = api::auth::Authenticator::new(e2e::SECRET.as_bytes()).expect("key");
    let actor = auth.verify(&token).expect("token verifies");
    assert_eq!(actor.subject, "clerk-7");
    assert_eq!(actor.role, domain::Role::Bureau);
    assert_eq!(actor.jurisdiction, Some(domain::Jurisdiction::Guian));
    let other = api::auth::Authenticator::new(b"another-key-another-key-another-key").expect("key");
    assert!(other.verify(&token).is_err());
}

#[test]
fn a_token_needs_the_key_and_a_valid_credit_code() {
    let (ok, _, stderr) =
        run(&["token", "--role", "bureau", "--jurisdiction", "guian", "--subject", "c"], None);
    assert!(!ok);
    assert!(stderr.contains("VOUCHER_LEDGER_JWT_SECRET"), "{stderr}");
    let args = [
        "token",
        "--role",
        "enterprise",
        "--jurisdiction",
        "guiyang",
        "--subject",
        "e",
        "--credit-code",
        "91520100MA6DK00001",
    ];
    let (ok, _, stderr) = run(&args, Some(e2e::SECRET));
    assert!(!ok, "a credit code with a wrong check character must be refused");
    assert!(stderr.contains("check"), "{stderr}");
}

#[test]
fn serve_refuses_to_start_without_a_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8 path");
    let (ok, _, stderr) = run(&["serve", "--data", data, "--listen", "127.0.0.1:0"], None);
    assert!(!ok);
    assert!(stderr.contains("VOUCHER_LEDGER_JWT_SECRET"), "{stderr}");
}

#[test]
fn demo_writes_a_program_year_that_verifies_and_whose_sample_recomputes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("demo");
    let data = data.to_str().expect("utf-8 path");
    let (ok, stdout, stderr) =
        run(&["demo", "--data", data, "--seed", "5", "--applicants", "60", "--providers", "10"], None);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("demo: wrote "), "{stdout}");
    assert!(stdout.contains("RedemptionDisbursed"), "{stdout}");
    let (ok, verified, _) = run(&["verify", "--data", data], None);
    assert!(ok, "{verified}");
    assert!(verified.starts_with("verify: ok records="), "{verified}");
    let sample_id = stdout
        .lines()
        .find_map(|line| line.split("/v1/audits/samples/").nth(1))
        .expect("the demo names a sample")
        .trim()
        .to_owned();
    let (ok, sample, stderr) = run(&["sample", "--data", data, "--sample-id", &sample_id], None);
    assert!(ok, "{sample}{stderr}");
    assert!(sample.ends_with("sample: matches the recorded draw"), "{sample}");
    // A second demo into the same directory is refused.
    let (ok, _, stderr) = run(&["demo", "--data", data], None);
    assert!(!ok);
    assert!(stderr.contains("already holds a ledger"), "{stderr}");
}
