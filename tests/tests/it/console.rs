//! The console (issue 16) in a real browser: headless Debian Chromium driven from node by `playwright-core`
//! (`tests/browser/`, pinned in its package-lock.json), against the real `voucher-ledger serve` binary on a
//! loopback port. Each test prepares a ledger over the HTTP API (the e2e helpers), then runs one script of
//! `tests/browser/` that clicks through a role's main flow in zh-CN and in en (sign in through the link with
//! the token in the URL fragment, act, see the result, sign out), checks that a refused action shows the
//! rule's message, runs axe-core on every page it visits (no serious or critical violation) and writes a
//! screenshot of the role's main page per language under `target/console-screenshots/`. A script that fails
//! fails the test with its output.
//!
//! Built only where `scripts/test.sh` found Chromium, node and `tests/browser`'s npm packages
//! (`VOUCHER_LEDGER_CHROMIUM`, `tests/build.rs`: cfg `e2e_browser`); elsewhere the tests are ignored with
//! the reason, and in CI (`VOUCHER_LEDGER_REQUIRE_POSTGRES=1`) they are built and fail when a piece is
//! missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

const IGNORED: &str = "no chromium/node/npm packages: run scripts/test.sh (as root it installs Debian's chromium and \
                       runs npm ci in tests/browser)";

/// Where the scripts and their npm packages are.
fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Where screenshots go: `console-screenshots/` in the target directory the binary was built in.
fn screenshots() -> PathBuf {
    let binary = e2e::binary();
    let target = binary.parent().and_then(Path::parent).map_or_else(std::env::temp_dir, Path::to_path_buf);
    target.join("console-screenshots")
}

/// The browser the scripts drive, and node; fails (never skips) when a piece is missing, since this module
/// is built only where they were found or are required.
fn tools() -> (String, String) {
    let chromium =
        std::env::var("VOUCHER_LEDGER_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(Path::new(&chromium).exists(), "no chromium at {chromium}: {IGNORED}");
    let node = std::env::var("VOUCHER_LEDGER_NODE").unwrap_or_else(|_| "node".to_owned());
    let version = Command::new(&node).arg("--version").output();
    assert!(version.is_ok_and(|output| output.status.success()), "no node ({node}): {IGNORED}");
    let packages = scripts().join("node_modules").join("playwright-core");
    assert!(
        packages.exists(),
        "{} is missing: run `npm ci` in tests/browser ({IGNORED})",
        packages.display()
    );
    (chromium, node)
}

/// Runs `tests/browser/<script>` against `base` with the tokens and the prepared ids; fails with its output.
fn run_script(script: &str, base: &str, tokens: &Value, fixture: &Value) -> String {
    let (chromium, node) = tools();
    let output = Command::new(node)
        .arg(scripts().join(script))
        .current_dir(scripts())
        .env("CONSOLE_BASE", base)
        .env("CONSOLE_TOKENS", tokens.to_string())
        .env("CONSOLE_FIXTURE", fixture.to_string())
        .env("CONSOLE_OUT", screenshots())
        .env("CHROMIUM", chromium)
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "tests/browser/{script} failed:\n{stdout}\n{stderr}");
    stdout
}

/// The harness itself: Chromium starts from node as the scripts launch it, and axe-core reports a serious
/// violation on a page that has one (so a clean report on the console means something).
#[test]
#[cfg_attr(not(e2e_browser), ignore = "no chromium/node/npm packages: run scripts/test.sh")]
fn the_harness_drives_chromium_and_axe_finds_violations() {
    let stdout = run_script("harness.mjs", "http://127.0.0.1:9", &json!({}), &json!({}));
    assert!(stdout.contains("axe-core found"), "{stdout}");
}
