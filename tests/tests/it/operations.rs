//! The operators' kit: the shipped Grafana dashboard and Prometheus alerting rules name only metrics that a
//! freshly started server serves, the rules pass `promtool check rules`, the systemd unit passes
//! `systemd-analyze verify`, and `serve` stops cleanly on SIGTERM and SIGINT (every acknowledged command
//! kept, the log closed, the next start repairs nothing, `verify` passes).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::{Jurisdiction, Role};
use e2e::{Backend, Client, TestStore, token};
use engine::open::StoreSpec;
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

const RULES: &str = "deploy/prometheus/alerts.yml";
const RULES_TESTS: &str = "deploy/prometheus/alerts.test.yml";
const DASHBOARD: &str = "deploy/grafana/voucher-ledger.json";
const UNIT: &str = "deploy/systemd/voucher-ledger.service";

// ---------------------------------------------------------------------------------------------------------
// The names a PromQL expression reads.

/// PromQL's keywords that look like identifiers (binary operators, modifiers, grouping).
const KEYWORDS: [&str; 13] = [
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "atop",
    "inf",
];

/// The metric names an expression reads: its identifiers, without label matchers (`{...}`), ranges and
/// subqueries (`[...]`), string literals, functions and aggregations (an identifier followed by `(`), the
/// label lists of `by`/`without`/`on`/`ignoring`/`group_left`/`group_right`, keywords and numbers.
fn metric_names(expr: &str) -> BTreeSet<String> {
    // Blank out strings, {...} and [...] (keeping the length, so the structure stays).
    let mut plain = String::with_capacity(expr.len());
    let mut chars = expr.chars().peekable();
    let mut depth_brace = 0usize;
    let mut depth_bracket = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                let quote = c;
                plain.push(' ');
                while let Some(inner) = chars.next() {
                    plain.push(' ');
                    if inner == '\\' && quote != '`' {
                        chars.next();
                        plain.push(' ');
                    } else if inner == quote {
                        break;
                    }
                }
            }
            '{' => {
                depth_brace += 1;
                plain.push(' ');
            }
            '}' => {
                depth_brace = depth_brace.saturating_sub(1);
                plain.push(' ');
            }
            '[' => {
                depth_bracket += 1;
                plain.push(' ');
            }
            ']' => {
                depth_bracket = depth_bracket.saturating_sub(1);
                plain.push(' ');
            }
            '#' if depth_brace == 0 && depth_bracket == 0 => {
                // A comment runs to the end of the line.
                for rest in chars.by_ref() {
                    if rest == '\n' {
                        break;
                    }
                }
                plain.push('\n');
            }
            _ if depth_brace > 0 || depth_bracket > 0 => plain.push(' '),
            _ => plain.push(c),
        }
    }
    // Tokens: identifiers, numbers and punctuation.
    let bytes: Vec<char> = plain.chars().collect();
    let mut tokens: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_digit() || (c == '.' && bytes.get(i + 1).is_some_and(char::is_ascii_digit)) {
            // A number, with exponent or duration letters (5m, 1e3, 0x1F): never a name.
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == '.' || bytes[i] == '_')
            {
                i += 1;
            }
            tokens.push("0".into());
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == '_' || bytes[i] == ':')
            {
                i += 1;
            }
            tokens.push(bytes[start..i].iter().collect());
        } else if c.is_whitespace() {
            i += 1;
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    let mut names = BTreeSet::new();
    let mut t = 0;
    while t < tokens.len() {
        let token = &tokens[t];
        let is_identifier = token.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':');
        if !is_identifier {
            t += 1;
            continue;
        }
        let lower = token.to_ascii_lowercase();
        let next = tokens.get(t + 1).map(String::as_str);
        if ["by", "without", "on", "ignoring", "group_left", "group_right"].contains(&lower.as_str())
            && next == Some("(")
        {
            // Skip the label list.
            t += 2;
            while t < tokens.len() && tokens[t] != ")" {
                t += 1;
            }
            t += 1;
            continue;
        }
        // A function or an aggregation: followed by its arguments, or by its grouping (`sum by (le) (...)`).
        let grouping =
            next.is_some_and(|next| ["by", "without"].contains(&next.to_ascii_lowercase().as_str()));
        if KEYWORDS.contains(&lower.as_str()) || lower == "nan" || next == Some("(") || grouping {
            t += 1;
            continue;
        }
        names.insert(token.clone());
        t += 1;
    }
    names
}

#[test]
fn metric_names_are_read_out_of_promql() {
    let expr = r#"histogram_quantile(0.99, sum by (instance, le) (rate(ledger_append_seconds_bucket{job="x",a=~"b(c)"}[5m])))
        / on (instance) group_left (version) voucher_ledger_build_info > 0.5 and ignoring(le) up2 offset 1h
        or absent(ledger_writer_up) # a comment naming not_a_metric
        unless sum(rate(http_requests_total[$__rate_interval])) by (status) > 1e3 * 24 * 3600"#;
    let names: Vec<String> = metric_names(expr).into_iter().collect();
    assert_eq!(
        names,
        [
            "http_requests_total",
            "ledger_append_seconds_bucket",
            "ledger_writer_up",
            "up2",
            "voucher_ledger_build_info"
        ]
    );
}

/// Every PromQL expression of the alerting rules (`expr:` lines, and `expr: |` blocks).
fn rule_expressions() -> Vec<String> {
    let text = std::fs::read_to_string(repo_file(RULES)).expect("alerts.yml");
    let lines: Vec<&str> = text.lines().collect();
    let mut expressions = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("expr:") {
            let rest = rest.trim();
            if rest == "|" || rest == ">" || rest == "|-" || rest == ">-" {
                let indent = line.len() - trimmed.len();
                let mut block = String::new();
                i += 1;
                while i < lines.len() {
                    let next = lines[i];
                    let next_indent = next.len() - next.trim_start().len();
                    if !next.trim().is_empty() && next_indent <= indent {
                        break;
                    }
                    block.push_str(next);
                    block.push('\n');
                    i += 1;
                }
                expressions.push(block);
                continue;
            }
            expressions.push(rest.to_owned());
        }
        i += 1;
    }
    expressions
}

/// Every PromQL expression of the dashboard: the panels' targets and the variables' queries.
fn dashboard_expressions() -> Vec<String> {
    let text = std::fs::read_to_string(repo_file(DASHBOARD)).expect("dashboard JSON");
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut expressions = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            expressions.push(target["expr"].as_str().expect("a target's expr").to_owned());
        }
    }
    for variable in dashboard["templating"]["list"].as_array().expect("templating") {
        if let Some(query) = variable["definition"].as_str() {
            // label_values(METRIC, LABEL): the metric is the first argument.
            if let Some(arguments) = query.strip_prefix("label_values(") {
                let metric = arguments.split(',').next().unwrap_or_default();
                expressions.push(metric.to_owned());
            }
        }
    }
    expressions
}

/// The series names a `/metrics` text serves (a histogram's `_bucket`, `_sum` and `_count` each), and the
/// names it has `# HELP` for.
fn served(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut names = BTreeSet::new();
    let mut helped = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.insert(rest.split_whitespace().next().unwrap_or_default().to_owned());
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            names.insert(line[..end].to_owned());
        }
    }
    (names, helped)
}

// ---------------------------------------------------------------------------------------------------------
// A `serve` child process whose exit we wait for.

const NOW: &str = "2025-03-03T09:00:00+08:00";

struct Served {
    child: Child,
    base: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Served {
    fn start(data: &Path) -> Served {
        Served::start_with(&StoreSpec::File(data.to_owned()), &[])
    }

    /// `serve` on `store` with `extra` arguments (`--read-only`).
    fn start_with(store: &StoreSpec, extra: &[&str]) -> Served {
        let mut command = Command::new(e2e::binary());
        command.arg("serve").args(extra);
        match store {
            StoreSpec::File(data) => command.arg("--data").arg(data),
            StoreSpec::Postgres(url) | StoreSpec::Kurrent(url) => command.arg("--store").arg(url),
        };
        let mut child = command
            .args(["--listen", "127.0.0.1:0", "--clock", "manual", "--now", NOW])
            .env_remove("VOUCHER_LEDGER_STORE")
            .env("VOUCHER_LEDGER_JWT_SECRET", e2e::SECRET)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning voucher-ledger serve");
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let kept = lines.clone();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = sender.send(rest.split_whitespace().next().map(str::to_owned));
                }
                kept.lock().expect("lines").push(line);
            }
            let _ = sender.send(None);
        });
        let address = receiver.recv_timeout(Duration::from_secs(30)).ok().flatten();
        let Some(address) = address else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("server did not start:\n{}", lines.lock().expect("lines").join("\n"));
        };
        Served { child, base: format!("http://{address}"), lines }
    }

    fn stderr(&self) -> String {
        self.lines.lock().expect("lines").join("\n")
    }

    /// Sends `signal` (`TERM`, `INT`) with the `kill` command.
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits (at most 60 s) for the process to exit.
    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting") {
                // Let the reader thread take the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit within 60 s:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------------------
// Metrics from the start.

/// Every metric the dashboard's and the rules' expressions name is served by `/metrics` right after start,
/// before any other request; so is every metric of `engine::metrics::ALL`, each with its help text, and the
/// build info carries the version.
#[tokio::test]
async fn the_dashboard_and_the_rules_name_only_metrics_served_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = Served::start(dir.path());
    let response = reqwest::get(format!("{}/metrics", server.base)).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    let (names, helped) = served(&text);

    let mut named = BTreeSet::new();
    let rules = rule_expressions();
    assert!(rules.len() >= 8, "the rules have {} expressions", rules.len());
    let dashboard = dashboard_expressions();
    assert!(dashboard.len() >= 12, "the dashboard has {} expressions", dashboard.len());
    for expr in rules.iter().chain(&dashboard) {
        let found = metric_names(expr);
        assert!(!found.is_empty(), "no metric named in {expr:?}");
        named.extend(found);
    }
    let missing: Vec<&String> = named.iter().filter(|name| !names.contains(*name)).collect();
    assert!(
        missing.is_empty(),
        "named by the dashboard or rules but not served at start: {missing:?}\n{text}"
    );

    for metric in engine::metrics::ALL {
        let series: Vec<String> = match metric.kind {
            engine::metrics::Kind::Histogram => ["_bucket", "_sum", "_count"]
                .iter()
                .map(|suffix| format!("{}{suffix}", metric.name))
                .collect(),
            _ => vec![metric.name.to_owned()],
        };
        for name in series {
            assert!(names.contains(&name), "{name} is not served at start:\n{text}");
        }
        assert!(helped.contains(metric.name), "{} has no # HELP:\n{text}", metric.name);
    }
    let version = format!("voucher_ledger_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
    assert!(text.lines().any(|line| line == version), "no {version}:\n{text}");
    assert!(text.lines().any(|line| line == "ledger_writer_up 1"), "writer not up:\n{text}");
    assert!(text.lines().any(|line| line == "ledger_store_reachable 1"), "store not reachable:\n{text}");
    assert!(text.lines().any(|line| line == "ledger_replica_lag_records 0"), "lag on a writer:\n{text}");
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{name} has no value:\n{text}"))
    };
    assert!(value("process_resident_memory_bytes") > 1e6, "resident memory:\n{text}");
    assert!(value("ledger_data_disk_size_bytes") >= value("ledger_data_disk_free_bytes"));
    assert!(value("ledger_data_disk_free_bytes") > 0.0);
}

/// The metric names of the rules' and dashboard's expressions.
fn named_metrics() -> BTreeSet<String> {
    rule_expressions().iter().chain(&dashboard_expressions()).flat_map(|expr| metric_names(expr)).collect()
}

async fn metrics_of(base: &str) -> String {
    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.unwrap()
}

/// On PostgreSQL, the writer and a read-only replica serve from the start every series the rules and the
/// dashboard name, except the file log's disk figures: those are absent (the database's disk is the
/// database server's), so the disk alert has nothing to fire on. The replica serves its lag, which is 0 once
/// it has followed the writer's records.
#[tokio::test]
#[cfg_attr(not(e2e_postgres), ignore = "no PostgreSQL: scripts/test.sh starts one")]
async fn on_postgres_the_writer_and_a_replica_serve_what_the_rules_name_but_the_file_log_disk() {
    e2e::require_backend(Backend::Postgres, "operations::on_postgres");
    let store = TestStore::new(Backend::Postgres).await.unwrap();
    let writer = Served::start_with(&store.spec, &[]);
    let named = named_metrics();
    let file_log_only = engine::metrics::FILE_LOG_ONLY;
    let text = metrics_of(&writer.base).await;
    let (served_names, _) = served(&text);
    for name in &named {
        if file_log_only.contains(&name.as_str()) {
            assert!(!served_names.contains(name), "{name} is served on PostgreSQL:\n{text}");
        } else {
            assert!(served_names.contains(name), "{name} is not served on PostgreSQL at start:\n{text}");
        }
    }
    assert!(text.lines().any(|line| line == "ledger_store_reachable 1"), "{text}");

    let client = Client::new(&writer.base);
    let finance = token(Role::Finance, Jurisdiction::Guiyang, "finance-1", None);
    let answer = client
        .post("/v1/budgets/guiyang/2025/appropriations", &finance, &json!({ "amount": "1.00" }))
        .await
        .unwrap();
    assert_eq!(answer.status, 201, "{answer:?}");

    let replica = Served::start_with(&store.spec, &["--read-only"]);
    let text = metrics_of(&replica.base).await;
    let (served_names, _) = served(&text);
    for name in &named {
        if !file_log_only.contains(&name.as_str()) {
            assert!(served_names.contains(name), "{name} is not served by the replica at start:\n{text}");
        }
    }
    assert!(text.lines().any(|line| line == "ledger_replica_lag_records 0"), "lag after loading:\n{text}");
    assert!(text.lines().any(|line| line == "ledger_head_position 1"), "replica head:\n{text}");
}

/// Polls `/metrics` of `base` until it has the line `line` (at most 30 s: the gauges are read every 5 s).
async fn wait_for_metric_line(base: &str, line: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = metrics_of(base).await;
        if text.lines().any(|served| served == line) {
            return;
        }
        assert!(Instant::now() < deadline, "no {line:?} within 30 s:\n{text}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `ledger_store_reachable` (the "store unreachable" alert) turns 0 while the PostgreSQL server is down,
/// and 1 again once it is back and the writer has reloaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_postgres_cluster), ignore = "no PostgreSQL cluster to crash: scripts/test.sh starts one")]
async fn store_reachable_turns_0_while_postgres_is_down_and_1_after() {
    e2e::require_backend(
        Backend::Postgres,
        "operations::store_reachable_turns_0_while_postgres_is_down_and_1_after",
    );
    let cluster = e2e::PostgresCluster::private()
        .expect("built for the cluster of scripts/test.sh: no cluster to stop")
        .expect("a PostgreSQL cluster of the test's own");
    let store = TestStore::on_cluster(&cluster).await.expect("store");
    let writer = Served::start_with(&store.spec, &[]);
    wait_for_metric_line(&writer.base, "ledger_store_reachable 1").await;

    cluster.crash().expect("stop the cluster");
    wait_for_metric_line(&writer.base, "ledger_store_reachable 0").await;

    cluster.restart().expect("restart the cluster");
    let client = Client::new(&writer.base);
    let finance = token(Role::Finance, Jurisdiction::Guiyang, "finance-1", None);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = client
            .post("/v1/budgets/guiyang/2025/appropriations", &finance, &json!({ "amount": "1.00" }))
            .await
            .expect("post");
        if answer.status == 201 {
            break;
        }
        assert!(Instant::now() < deadline, "the writer did not recover: {answer:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_for_metric_line(&writer.base, "ledger_store_reachable 1").await;
    wait_for_metric_line(&writer.base, "ledger_head_position 1").await;
}

// ---------------------------------------------------------------------------------------------------------
// The shipped files, checked by their tools.

/// `promtool check rules` passes on the shipped rules, their unit tests (`promtool test rules`) pass, and
/// they hold the alerts operators need.
#[test]
#[cfg_attr(
    not(e2e_promtool),
    ignore = "no promtool: run scripts/test.sh (as root it installs Debian's prometheus package)"
)]
fn the_alerting_rules_pass_promtool() {
    let promtool = std::env::var("VOUCHER_LEDGER_PROMTOOL")
        .expect("VOUCHER_LEDGER_PROMTOOL is not set: run the tests with scripts/test.sh");
    let output = Command::new(&promtool)
        .args(["check", "rules"])
        .arg(repo_file(RULES))
        .output()
        .unwrap_or_else(|error| panic!("running {promtool}: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "promtool check rules failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("SUCCESS"), "{stdout}");
    // The rules' own unit tests: each alert fires on the series that should raise it, none on a healthy one.
    let output = Command::new(&promtool)
        .args(["test", "rules"])
        .arg(repo_file(RULES_TESTS))
        .output()
        .unwrap_or_else(|error| panic!("running {promtool}: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "promtool test rules failed:\n{stdout}\n{stderr}");
    let text = std::fs::read_to_string(repo_file(RULES)).unwrap();
    for alert in [
        "VoucherLedgerWriterStopped",
        "VoucherLedgerStoreUnreachable",
        "VoucherLedgerAppendLatencyHigh",
        "VoucherLedgerHttp5xx",
        "VoucherLedgerReplicaLag",
        "VoucherLedgerDeadlineOverdue",
        "VoucherLedgerDiskNearlyFull",
    ] {
        assert!(text.contains(&format!("alert: {alert}\n")), "no alert {alert}");
    }
}

/// `systemd-analyze verify` passes on the shipped unit without a warning, and the unit has the hardening
/// the README promises. The unit names the binary at /usr/local/bin, which a test machine lacks: the copy
/// verified here points at the built binary instead, and nothing else differs.
#[test]
#[cfg_attr(
    not(e2e_systemd_analyze),
    ignore = "no systemd-analyze on this machine (scripts/test.sh looks on the PATH)"
)]
fn the_systemd_unit_verifies() {
    let analyze = std::env::var("VOUCHER_LEDGER_SYSTEMD_ANALYZE")
        .expect("VOUCHER_LEDGER_SYSTEMD_ANALYZE is not set: run the tests with scripts/test.sh");
    let unit = std::fs::read_to_string(repo_file(UNIT)).unwrap();
    for line in [
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/voucher-ledger",
        "StateDirectory=voucher-ledger",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectHome=yes",
        "DynamicUser=yes",
        "User=voucher-ledger",
        "CapabilityBoundingSet=",
        "SystemCallFilter=@system-service",
        "Restart=on-failure",
        "KillSignal=SIGTERM",
    ] {
        assert!(unit.lines().any(|unit_line| unit_line == line), "the unit lacks {line}");
    }
    assert!(unit.lines().any(|line| line.starts_with("RestrictAddressFamilies=")));
    assert!(unit.lines().any(|line| line.starts_with("TimeoutStopSec=")));
    let dir = tempfile::tempdir().unwrap();
    let binary = e2e::binary();
    let copy = unit.replace("/usr/local/bin/voucher-ledger", &binary.display().to_string());
    assert_ne!(copy, unit, "the unit's ExecStart names /usr/local/bin/voucher-ledger");
    let path = dir.path().join("voucher-ledger.service");
    std::fs::write(&path, copy).unwrap();
    let output = Command::new(&analyze).arg("verify").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "systemd-analyze verify failed:\n{stderr}");
    // It exits 0 on unknown keys and values it ignores: those are printed, and must not be.
    assert!(stderr.trim().is_empty(), "systemd-analyze verify warned:\n{stderr}");
}

// ---------------------------------------------------------------------------------------------------------
// A clean stop.

/// Clients submitting appropriations at once, each in a loop until the server stops taking them.
const SUBMITTERS: usize = 16;
/// Acknowledged appropriations before the signal is sent (so that the stop comes under load).
const BEFORE_SIGNAL: u64 = 30;

async fn clean_stop(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Served::start(dir.path());
    let finance = token(Role::Finance, Jurisdiction::Guiyang, "finance-1", None);
    let path = "/v1/budgets/guiyang/2025/appropriations";

    let acknowledged = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut submitters = Vec::new();
    for _ in 0..SUBMITTERS {
        let client = Client::new(&server.base);
        let finance = finance.clone();
        let acknowledged = acknowledged.clone();
        submitters.push(tokio::spawn(async move {
            let mut max_position = 0;
            loop {
                match client.post(path, &finance, &json!({ "amount": "1.00" })).await {
                    Ok(answer) if answer.status == 201 => {
                        acknowledged.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        max_position = max_position.max(answer.body["position"].as_u64().unwrap());
                    }
                    Ok(answer) => panic!("an appropriation was answered {answer:?} around the stop"),
                    // Not taken: the server stopped taking requests.
                    Err(_) => return max_position,
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.load(std::sync::atomic::Ordering::SeqCst) < BEFORE_SIGNAL {
        assert!(Instant::now() < deadline, "too few appropriations acknowledged:\n{}", server.stderr());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.signal(signal);
    let mut max_position = 0;
    for submitter in submitters {
        max_position = max_position.max(submitter.await.unwrap());
    }
    let acknowledged = acknowledged.load(std::sync::atomic::Ordering::SeqCst);
    let status = server.wait();
    let stderr = server.stderr();
    assert_eq!(status.code(), Some(0), "serve did not exit 0 on SIG{signal}:\n{stderr}");
    assert!(stderr.contains("a clean stop"), "no clean stop reported:\n{stderr}");
    assert!(stderr.contains("voucher-ledger stopped"), "{stderr}");
    eprintln!("SIG{signal}: {acknowledged} acknowledged");

    // The log was closed: the space written ahead of the appends is cut back to the frames.
    let segments = e2e::segment_files(dir.path()).unwrap();
    let last = std::fs::read(segments.last().unwrap()).unwrap();
    let tail = &last[last.len().saturating_sub(64)..];
    assert!(tail.iter().any(|byte| *byte != 0), "the last segment ends with zeros: the log was not closed");

    // The next start repairs nothing and has every acknowledged command.
    let mut again = Served::start(dir.path());
    let stderr = again.stderr();
    assert!(!stderr.contains("recovered"), "the next start reports a recovery:\n{stderr}");
    assert!(!stderr.contains("torn tail"), "the next start reports a recovery:\n{stderr}");
    let client = Client::new(&again.base);
    let head = e2e::head_position(&client).await.unwrap();
    assert!(head >= max_position, "head {head} is before an acknowledged position {max_position}");
    let budget = client.get("/v1/budgets/guiyang/2025", Some(&finance)).await.unwrap();
    assert_eq!(budget.status, 200, "{budget:?}");
    let appropriated: Decimal = budget.body["appropriated"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        appropriated,
        Decimal::from(acknowledged),
        "the budget holds exactly the acknowledged appropriations (each 1.00)"
    );
    assert_eq!(head, acknowledged, "one record per acknowledged appropriation, nothing else");
    // The clean stop wrote a snapshot at the head, and the next start loaded it instead of folding the log
    // (the budget above was read from it).
    assert!(dir.path().join(engine::snapshot::FILE).is_file(), "no snapshot after a clean stop");
    let loaded = stderr.lines().find(|line| line.contains("snapshot loaded")).unwrap_or_else(|| {
        panic!("the next start did not load the snapshot:\n{stderr}");
    });
    assert!(loaded.contains(&format!("position={head}")), "snapshot not at the head {head}: {loaded}");
    again.signal(signal);
    assert_eq!(again.wait().code(), Some(0), "{}", again.stderr());

    let verification = e2e::run_verify(dir.path()).unwrap();
    assert!(verification.success, "verify failed:\n{}\n{}", verification.stdout, verification.stderr);
}

/// SIGTERM (systemd's stop): in-flight requests are finished, the writer closes the log, exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_stops_cleanly_and_the_next_start_repairs_nothing() {
    clean_stop("TERM").await;
}

/// SIGINT (Ctrl-C): the same clean stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigint_stops_cleanly_and_the_next_start_repairs_nothing() {
    clean_stop("INT").await;
}
