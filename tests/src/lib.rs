//! Helpers shared by the end-to-end tests: a real server (in-process on a loopback socket, or the
//! `voucher-ledger` binary as a child process), tokens, credit codes, and an HTTP client.
//!
//! # Backends
//! Tests that must hold on every store take a [`Backend`] and are instantiated once per backend with
//! [`per_backend!`]. A [`TestStore`] is a fresh, empty store for one test: a temporary directory, or a new
//! database on the PostgreSQL server whose URL is in `VOUCHER_LEDGER_TEST_POSTGRES_URL` (`scripts/test.sh`
//! starts a throwaway cluster and sets it). A variant that cannot run here is `ignored` with its reason, never
//! reported as passed: which backends the tests are built for is decided at build time (`tests/build.rs`).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use domain::{Actor, CreditCode, Jurisdiction, Role};
use engine::open::StoreSpec;
use serde_json::Value;

/// The JWT key every test server and token uses.
pub const SECRET: &str = "e2e-test-key-0123456789abcdef0123456789";

/// A business morning inside the shipped policy's window and a batch's claim window.
pub const MORNING: &str = "2025-03-03T09:00:00+08:00";

/// A valid unified social credit code for test applicant `n`.
pub fn credit_code(n: u32) -> String {
    let body = format!("915201{n:011}");
    domain::credit_code::with_check_character(&body).map(|code| code.as_str().to_owned()).unwrap_or(body)
}

/// A token for an actor.
pub fn token(role: Role, jurisdiction: Jurisdiction, subject: &str, credit_code: Option<&str>) -> String {
    let auth = api::auth::Authenticator::new(SECRET.as_bytes()).expect("test key is long enough");
    let actor = Actor {
        subject: subject.to_owned(),
        role,
        jurisdiction: Some(jurisdiction),
        credit_code: credit_code.map(|code| CreditCode::parse(code).expect("valid test credit code")),
    };
    auth.mint(&actor, chrono::Utc::now().timestamp(), 3600).expect("mint")
}

/// The `voucher-ledger` binary built next to this test executable (`scripts/test.sh` builds it first).
///
/// # Panics
/// When the binary has not been built.
pub fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("VOUCHER_LEDGER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target profile dir");
    let binary = dir.join("voucher-ledger");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build --bins` first (scripts/test.sh does)",
        binary.display()
    );
    binary
}

/// A `voucher-ledger serve` child process on a free loopback port.
pub struct ServerProcess {
    pub base: String,
    /// The data directory (empty when the server runs on another store).
    pub data: PathBuf,
    /// The store it serves.
    pub store: StoreSpec,
    child: Child,
    stderr_lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts the binary on `data` with a manual clock at `now`, and waits until it listens.
    ///
    /// # Errors
    /// When it exits before listening (its stderr is in the error).
    pub fn start(data: &Path, now: &str) -> anyhow::Result<ServerProcess> {
        ServerProcess::start_on(&StoreSpec::File(data.to_owned()), now)
    }

    /// Starts the binary on `store` (`--data DIR` or `--store URL`) with a manual clock at `now`, and waits
    /// until it listens.
    ///
    /// # Errors
    /// When it exits before listening (its stderr is in the error).
    pub fn start_on(store: &StoreSpec, now: &str) -> anyhow::Result<ServerProcess> {
        // A PostgreSQL server notices a killed predecessor's session (and releases its writer lock) a moment
        // after the kill: retry while the refusal is the lock.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match ServerProcess::try_start_on(store, now) {
                Err(error)
                    if matches!(store, StoreSpec::Postgres(_))
                        && format!("{error:#}").contains("is locked by another writer process")
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
                result => return result,
            }
        }
    }

    /// Like [`ServerProcess::start_on`], once: a refused lock is an error at once.
    ///
    /// # Errors
    /// When it exits before listening (its stderr is in the error).
    pub fn try_start_on(store: &StoreSpec, now: &str) -> anyhow::Result<ServerProcess> {
        ServerProcess::try_start_with(store, now, &[])
    }

    /// Like [`ServerProcess::try_start_on`], with more `serve` arguments (limits, `--metrics-listen`, ...).
    ///
    /// # Errors
    /// When it exits before listening (its stderr is in the error).
    pub fn try_start_with(store: &StoreSpec, now: &str, extra: &[&str]) -> anyhow::Result<ServerProcess> {
        let mut command = Command::new(binary());
        command.arg("serve").args(extra);
        match store {
            StoreSpec::File(data) => command.arg("--data").arg(data),
            StoreSpec::Postgres(url) | StoreSpec::Kurrent(url) => command.arg("--store").arg(url),
        };
        let mut child = command
            .env_remove("VOUCHER_LEDGER_STORE")
            .args(["--listen", "127.0.0.1:0", "--clock", "manual", "--now", now])
            .env("VOUCHER_LEDGER_JWT_SECRET", SECRET)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("spawning voucher-ledger serve")?;
        let stderr = child.stderr.take().context("stderr")?;
        let (sender, receiver) = std::sync::mpsc::channel::<Option<String>>();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut kept) = kept.lock() {
                    kept.push(line.clone());
                }
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = sender.send(rest.split_whitespace().next().map(str::to_owned));
                }
            }
            let _ = sender.send(None);
        });
        match receiver.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(address)) => Ok(ServerProcess {
                base: format!("http://{address}"),
                data: match store {
                    StoreSpec::File(data) => data.clone(),
                    StoreSpec::Postgres(_) | StoreSpec::Kurrent(_) => PathBuf::new(),
                },
                store: store.clone(),
                child,
                stderr_lines: lines,
            }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let output = lines.lock().map(|lines| lines.join("\n")).unwrap_or_default();
                bail!("server did not start:\n{output}")
            }
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr_lines.lock().map(|lines| lines.join("\n")).unwrap_or_default()
    }

    /// Kills the process with SIGKILL (no graceful shutdown) and waits for it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server running inside the test process on a real loopback socket.
pub struct InProcessServer {
    pub base: String,
    pub address: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    store: StoreSpec,
}

impl InProcessServer {
    /// Opens the embedded store in `data` and serves it with a manual clock at `now`.
    ///
    /// # Errors
    /// When the store cannot be opened or the socket bound.
    pub async fn start(data: &Path, now: &str) -> anyhow::Result<InProcessServer> {
        InProcessServer::start_on(&StoreSpec::File(data.to_owned()), now).await
    }

    /// Opens `store` and serves it with a manual clock at `now`.
    ///
    /// # Errors
    /// When the store cannot be opened or the socket bound.
    pub async fn start_on(store: &StoreSpec, now: &str) -> anyhow::Result<InProcessServer> {
        let auth = api::auth::Authenticator::new(SECRET.as_bytes())?;
        let now = chrono::DateTime::parse_from_rfc3339(now)?.with_timezone(&chrono::Utc);
        let ledger = api::server::open(store, auth, engine::clock::Clock::manual(now)).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            // The in-process server tests the ledger's rules, not the door: the role matrix alone files more
            // objections from 127.0.0.1 than one address may per hour, so the per-address limit is lifted
            // here (tests/tests/edge_security.rs tests it against the binary with its flags).
            let limits = api::edge::EdgeLimits { objections_per_address: u32::MAX, ..Default::default() };
            let options = api::server::ServeOptions { limits, metrics_listener: None };
            let _ = api::server::serve_with(listener, ledger.app, options, async move {
                let _ = signal.await;
            })
            .await;
        });
        Ok(InProcessServer {
            base: format!("http://{address}"),
            address,
            shutdown: Some(shutdown),
            task: Some(task),
            store: store.clone(),
        })
    }

    /// Stops the server gracefully (finishing in-flight requests) and releases the store. On the file log it
    /// waits (up to 10 s) until the writer task has closed the log, which cuts the space written ahead, so
    /// the files a test reads next hold exactly the frames.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let StoreSpec::File(dir) = &self.store {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                match store::file::FileLog::open(dir) {
                    Err(store::StoreError::Locked { .. }) if std::time::Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    // Opened (and closed again at once), or not lockable for another reason: done waiting.
                    _ => break,
                }
            }
        }
    }
}

/// A JSON-over-HTTP client for one server.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    http: reqwest::Client,
}

/// A response: status and JSON body (Null when the body is not JSON), and the content type.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub content_type: String,
}

impl Answer {
    /// The problem `code`, or "" when the body has none.
    pub fn code(&self) -> &str {
        self.body.get("code").and_then(Value::as_str).unwrap_or("")
    }
}

/// The longest any request of a test may take (connecting, sending, and reading the whole answer).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

impl Client {
    /// A client for `base` (e.g. `http://127.0.0.1:8080`). Every request has [`REQUEST_TIMEOUT`]: a server
    /// that hangs fails the test with a transport error instead of holding the suite until CI's limit.
    pub fn new(base: &str) -> Client {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("http client");
        Client { base: base.to_owned(), http }
    }

    /// POSTs `body` (raw text) with an optional token and idempotency key.
    ///
    /// # Errors
    /// Transport errors only; every HTTP status is an `Answer`.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        body: &str,
        key: Option<&str>,
    ) -> anyhow::Result<Answer> {
        let mut request = self.http.post(format!("{}{path}", self.base)).body(body.to_owned());
        request = request.header("content-type", "application/json");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        answer(request.send().await?).await
    }

    /// POSTs a JSON value.
    ///
    /// # Errors
    /// Transport errors only.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> anyhow::Result<Answer> {
        self.post_raw(path, Some(token), &body.to_string(), None).await
    }

    /// GETs a path with an optional token.
    ///
    /// # Errors
    /// Transport errors only.
    pub async fn get(&self, path: &str, token: Option<&str>) -> anyhow::Result<Answer> {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().await?).await
    }
}

async fn answer(response: reqwest::Response) -> anyhow::Result<Answer> {
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let bytes = response.bytes().await?;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(Answer { status, body, content_type })
}

/// Builds the usual program: finance appropriates `budget`, the bureau publishes a batch; returns its id.
///
/// # Errors
/// When a step is not accepted.
pub async fn publish_batch(
    client: &Client,
    jurisdiction: Jurisdiction,
    budget: &str,
    total: &str,
    face_value: &str,
) -> anyhow::Result<String> {
    let finance = token(Role::Finance, jurisdiction, "finance-1", None);
    let bureau = token(Role::Bureau, jurisdiction, "bureau-1", None);
    let path = format!("/v1/budgets/{jurisdiction}/2025/appropriations");
    if !budget.is_empty() {
        let answer = client.post(&path, &finance, &serde_json::json!({ "amount": budget })).await?;
        anyhow::ensure!(answer.status == 201, "appropriation: {answer:?}");
    }
    let batch = serde_json::json!({
        "jurisdiction": jurisdiction, "fiscal_year": 2025, "name": "test batch",
        "total": total, "face_value": face_value,
        "eligible_kinds": ["enterprise", "project_entity"],
        "eligible_industries": ["advanced_equipment", "aluminum"],
        "eligible_categories": ["technology_innovation", "inspection_testing"],
        "claim_opens": "2025-03-01", "claim_closes": "2025-06-30", "valid_until": "2025-12-31"
    });
    let answer = client.post("/v1/batches", &bureau, &batch).await?;
    anyhow::ensure!(answer.status == 201, "batch: {answer:?}");
    Ok(answer.body["batch_id"].as_str().unwrap_or_default().to_owned())
}

/// Registers and verifies applicant `n` (an enterprise in advanced equipment, or a project entity).
///
/// # Errors
/// When a step is not accepted.
pub async fn verified_applicant(
    client: &Client,
    jurisdiction: Jurisdiction,
    n: u32,
    project_entity: bool,
) -> anyhow::Result<String> {
    let code = credit_code(n);
    let role = if project_entity { Role::ProjectEntity } else { Role::Enterprise };
    let own = token(role, jurisdiction, &format!("applicant-{n}"), Some(&code));
    let registration = if project_entity {
        serde_json::json!({ "credit_code": code, "name": format!("project {n}"), "kind": "project_entity",
            "jurisdiction": jurisdiction, "project_code": format!("2025-520100-{n:06}"),
            "independent_legal_person": true, "tax_compliant": true })
    } else {
        serde_json::json!({ "credit_code": code, "name": format!("enterprise {n}"), "kind": "enterprise",
            "jurisdiction": jurisdiction, "industry": "advanced_equipment",
            "independent_legal_person": true, "tax_compliant": true })
    };
    let answer = client.post("/v1/applicants", &own, &registration).await?;
    anyhow::ensure!(answer.status == 201, "registration: {answer:?}");
    let center = token(Role::ServiceCenter, jurisdiction, "center-1", None);
    let path = format!("/v1/applicants/{code}/verification");
    let answer = client.post(&path, &center, &serde_json::json!({ "decision": "verified" })).await?;
    anyhow::ensure!(answer.status == 200, "verification: {answer:?}");
    Ok(own)
}

/// The log head position of a server.
///
/// # Errors
/// Transport errors.
pub async fn head_position(client: &Client) -> anyhow::Result<u64> {
    let auditor = token(Role::Auditor, Jurisdiction::Guiyang, "auditor-1", None);
    let answer = client.get("/v1/log/head", Some(&auditor)).await?;
    answer.body["position"].as_u64().context("head position")
}

/// What `voucher-ledger verify --data DIR` printed and how it exited.
#[derive(Debug, Clone)]
pub struct Verification {
    /// True when it exited with status 0.
    pub success: bool,
    /// The exit code (None when killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `voucher-ledger verify --data DIR` (the built binary) and waits for it.
///
/// # Errors
/// When the binary cannot be run.
pub fn run_verify(data: &Path) -> anyhow::Result<Verification> {
    run_verify_on(&StoreSpec::File(data.to_owned()))
}

/// Runs `voucher-ledger verify` on `store` (`--data DIR` or `--store URL`) and waits for it.
///
/// # Errors
/// When the binary cannot be run.
pub fn run_verify_on(store: &StoreSpec) -> anyhow::Result<Verification> {
    let mut command = Command::new(binary());
    command.arg("verify");
    match store {
        StoreSpec::File(data) => command.arg("--data").arg(data),
        StoreSpec::Postgres(url) | StoreSpec::Kurrent(url) => command.arg("--store").arg(url),
    };
    let output = command
        .env_remove("VOUCHER_LEDGER_STORE")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .context("running voucher-ledger verify")?;
    Ok(Verification {
        success: output.status.success(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// The segment files of an embedded log's data directory (`DIR/segments/*.seg`), in position order.
///
/// # Errors
/// When the directory cannot be read.
pub fn segment_files(data: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let dir = data.join("segments");
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "seg") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Copies the directory tree `from` into `to` (created if needed): files and subdirectories.
///
/// # Errors
/// On I/O failure.
pub fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying to {}", target.display()))?;
        }
    }
    Ok(())
}

/// The variable holding the URL of the PostgreSQL server the tests create their databases on (a superuser
/// or a role that may create databases).
pub const POSTGRES_URL_VARIABLE: &str = "VOUCHER_LEDGER_TEST_POSTGRES_URL";

/// When set to `1`, a PostgreSQL test without a server fails instead of being ignored (`.ci/run` sets it).
pub const REQUIRE_POSTGRES_VARIABLE: &str = "VOUCHER_LEDGER_REQUIRE_POSTGRES";

/// The directory of the throwaway cluster of `scripts/pg-cluster.sh`, which lets a test crash and restart the
/// server (set by `scripts/test.sh`).
pub const POSTGRES_DIR_VARIABLE: &str = "VOUCHER_LEDGER_TEST_POSTGRES_DIR";

/// A store backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded file log (`--data DIR`).
    File,
    /// PostgreSQL (`--store postgres://...`).
    Postgres,
    /// KurrentDB (`--store kurrentdb://...`), when [`KURRENTDB_URL_VARIABLE`] names a server.
    Kurrent,
}

/// The variable holding the URL of a KurrentDB server (`kurrentdb://host:2113?tls=false`) the KurrentDB
/// tests run on, each in a fresh stream. Unset: they are ignored (see `tests/build.rs`).
pub const KURRENTDB_URL_VARIABLE: &str = "KURRENTDB_URL";

/// The KurrentDB server's URL, when set.
pub fn kurrentdb_url() -> Option<String> {
    std::env::var(KURRENTDB_URL_VARIABLE).ok().filter(|url| !url.is_empty())
}

/// Checks that `backend` can run here, for a test that was built to run on it (`per_backend!` and the
/// PostgreSQL-only tests are `ignored` otherwise, see `tests/build.rs`): a server built for but gone at run
/// time is a failure, never a silent pass.
///
/// # Panics
/// When the backend's server URL is not set at run time.
pub fn require_backend(backend: Backend, test: &str) {
    match backend {
        Backend::File => {}
        Backend::Kurrent => assert!(
            kurrentdb_url().is_some(),
            "{test}: built for KurrentDB but {KURRENTDB_URL_VARIABLE} is not set at run time"
        ),
        Backend::Postgres => assert!(
            std::env::var(POSTGRES_URL_VARIABLE).is_ok_and(|url| !url.is_empty()),
            "{test}: {POSTGRES_URL_VARIABLE} is not set: the PostgreSQL tests must run (scripts/test.sh starts \
             a server; {REQUIRE_POSTGRES_VARIABLE}=1 or a URL at build time builds them)"
        ),
    }
}

/// Controls a throwaway PostgreSQL cluster of `scripts/pg-cluster.sh`: crash it and start it again.
///
/// A test that crashes or stops its server takes a cluster of its own ([`PostgresCluster::private`]): the
/// cluster `scripts/test.sh` starts is shared by every test of the binary, which run side by side, so
/// crashing that one would fail whichever of them was talking to it at the time.
#[derive(Debug, Clone)]
pub struct PostgresCluster {
    inner: Arc<ClusterDir>,
}

#[derive(Debug)]
struct ClusterDir {
    dir: PathBuf,
    /// The administrator URL of a cluster started for one test (destroyed with it); `None` for the shared one.
    private_url: Option<String>,
}

impl Drop for ClusterDir {
    fn drop(&mut self) {
        if self.private_url.is_some() {
            let _ = pg_cluster_script("destroy", &self.dir);
        }
    }
}

fn pg_cluster_script(action: &str, dir: &Path) -> anyhow::Result<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-cluster.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg(action)
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {} {action}", script.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "pg-cluster.sh {action} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

impl PostgresCluster {
    /// The cluster the tests run on, when `scripts/test.sh` started it (`None` for a server given by URL).
    pub fn from_env() -> Option<PostgresCluster> {
        std::env::var_os(POSTGRES_DIR_VARIABLE).map(|dir| PostgresCluster {
            inner: Arc::new(ClusterDir { dir: PathBuf::from(dir), private_url: None }),
        })
    }

    /// A cluster of the calling test's own, started by `pg-cluster.sh start` in a new temporary directory and
    /// destroyed when the last clone is dropped, for a test that crashes or stops its server. `None` when
    /// `scripts/test.sh` started no cluster for the tests (a server given by URL only: PostgreSQL's programs
    /// may not be here then).
    pub fn private() -> Option<anyhow::Result<PostgresCluster>> {
        Self::from_env()?;
        let dir = std::env::temp_dir().join(format!("voucher-ledger-pg-{}", uuid::Uuid::now_v7().simple()));
        Some(
            pg_cluster_script("start", &dir)
                .map(|url| PostgresCluster { inner: Arc::new(ClusterDir { dir, private_url: Some(url) }) }),
        )
    }

    /// Stops the server the hard way (`pg_ctl stop -m immediate`: no checkpoint, like a power cut).
    ///
    /// # Errors
    /// When `pg_ctl` fails.
    pub fn crash(&self) -> anyhow::Result<()> {
        pg_cluster_script("crash", &self.inner.dir).map(drop)
    }

    /// Starts the server again on the same port and waits until crash recovery is done.
    ///
    /// # Errors
    /// When `pg_ctl` fails.
    pub fn restart(&self) -> anyhow::Result<()> {
        pg_cluster_script("restart", &self.inner.dir).map(drop)
    }
}

/// A fresh, empty store for one test: a temporary directory, or a new database on the test server (dropped,
/// best effort, when the `TestStore` is).
pub struct TestStore {
    pub backend: Backend,
    pub spec: StoreSpec,
    _dir: Option<tempfile::TempDir>,
    database: Option<(String, String)>,
}

impl std::fmt::Debug for TestStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TestStore({})", self.spec)
    }
}

impl TestStore {
    /// A new empty store of `backend`.
    ///
    /// # Errors
    /// When the directory or database cannot be created (or no PostgreSQL server URL is set).
    pub async fn new(backend: Backend) -> anyhow::Result<TestStore> {
        match backend {
            Backend::File => {
                let dir = tempfile::tempdir()?;
                Ok(TestStore {
                    backend,
                    spec: StoreSpec::File(dir.path().join("data")),
                    _dir: Some(dir),
                    database: None,
                })
            }
            Backend::Kurrent => {
                let url = kurrentdb_url().with_context(|| format!("{KURRENTDB_URL_VARIABLE} is not set"))?;
                // A fresh stream (ledger) per test on the one server.
                let separator = if url.contains('?') { '&' } else { '?' };
                let name = format!("test{}", uuid::Uuid::now_v7().simple());
                Ok(TestStore {
                    backend,
                    spec: StoreSpec::Kurrent(format!("{url}{separator}ledger={name}")),
                    _dir: None,
                    database: None,
                })
            }
            Backend::Postgres => {
                let admin = std::env::var(POSTGRES_URL_VARIABLE)
                    .with_context(|| format!("{POSTGRES_URL_VARIABLE} is not set"))?;
                TestStore::postgres_at(admin).await
            }
        }
    }

    /// A new empty store on `cluster`: a database of its own on a cluster started for the test, or on the
    /// shared test server.
    ///
    /// # Errors
    /// When the database cannot be created.
    pub async fn on_cluster(cluster: &PostgresCluster) -> anyhow::Result<TestStore> {
        match &cluster.inner.private_url {
            Some(admin) => TestStore::postgres_at(admin.clone()).await,
            None => TestStore::new(Backend::Postgres).await,
        }
    }

    async fn postgres_at(admin: String) -> anyhow::Result<TestStore> {
        let name = format!("vl_test_{}", uuid::Uuid::now_v7().simple());
        let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
            .await
            .context("connecting to the test PostgreSQL server")?;
        let driver = tokio::spawn(connection);
        client.batch_execute(&format!("CREATE DATABASE {name}")).await.context("CREATE DATABASE")?;
        drop(client);
        let _ = driver.await;
        let url = database_url(&admin, &name);
        Ok(TestStore {
            backend: Backend::Postgres,
            spec: StoreSpec::Postgres(url),
            _dir: None,
            database: Some((admin, name)),
        })
    }

    /// The data directory (file backend).
    ///
    /// # Panics
    /// For PostgreSQL.
    pub fn data_dir(&self) -> &Path {
        match &self.spec {
            StoreSpec::File(dir) => dir,
            StoreSpec::Postgres(_) | StoreSpec::Kurrent(_) => {
                panic!("a database store has no data directory")
            }
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        let Some((admin, name)) = self.database.take() else { return };
        // Drop may run inside a runtime: do it on a thread of its own, and wait (servers are stopped by now).
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let (client, connection) =
                    tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.ok()?;
                let driver = tokio::spawn(connection);
                let result =
                    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                drop(client);
                let _ = driver.await;
                result.ok()
            })
        });
        let _ = dropped.join();
    }
}

/// `url` with its database name replaced by `name` (any query string kept).
pub fn database_url(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    format!("{}/{name}{query}", &base[..path_start])
}

/// What a test scenario returns: nothing, or a `Result` (for `?`).
pub trait TestOutcome {
    /// As a result.
    ///
    /// # Errors
    /// The scenario's error.
    fn into_result(self) -> anyhow::Result<()>;
}

impl TestOutcome for () {
    fn into_result(self) -> anyhow::Result<()> {
        Ok(())
    }
}

impl TestOutcome for anyhow::Result<()> {
    fn into_result(self) -> anyhow::Result<()> {
        self
    }
}

/// Instantiates `async fn scenario(backend: Backend)` once per backend, as the tests `scenario::file`,
/// `scenario::postgres` and `scenario::kurrentdb`; the worker thread count of the multi-threaded runtime is
/// the second argument. A third argument lists the backends when not all of them apply (e.g.
/// `[file, postgres]` for a test of what KurrentDB does not have).
///
/// A variant that cannot run here is reported `ignored` with its reason, never `ok`: `postgres` unless the
/// tests were built with a PostgreSQL server (cfg `e2e_postgres`, see `tests/build.rs`: `scripts/test.sh`
/// starts one; `VOUCHER_LEDGER_REQUIRE_POSTGRES=1` makes it run and fail without one), `kurrentdb` unless
/// built with `KURRENTDB_URL` and the `kurrentdb` feature (cfg `e2e_kurrentdb`).
#[macro_export]
macro_rules! per_backend {
    ($scenario:ident, $threads:literal) => {
        $crate::per_backend!($scenario, $threads, [file, postgres, kurrentdb]);
    };
    ($scenario:ident, $threads:literal, [$($backend:ident),+]) => {
        mod $scenario {
            $($crate::per_backend!(@variant $scenario, $threads, $backend);)+
        }
    };
    (@variant $scenario:ident, $threads:literal, file) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
        async fn file() -> anyhow::Result<()> {
            $crate::TestOutcome::into_result(super::$scenario($crate::Backend::File).await)
        }
    };
    (@variant $scenario:ident, $threads:literal, postgres) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
        #[cfg_attr(not(e2e_postgres), ignore = "no PostgreSQL: scripts/test.sh starts one")]
        async fn postgres() -> anyhow::Result<()> {
            $crate::require_backend($crate::Backend::Postgres, concat!(module_path!(), "::postgres"));
            $crate::TestOutcome::into_result(super::$scenario($crate::Backend::Postgres).await)
        }
    };
    (@variant $scenario:ident, $threads:literal, kurrentdb) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
        #[cfg_attr(
            not(e2e_kurrentdb),
            ignore = "no KurrentDB: KURRENTDB_URL=kurrentdb://host:2113?tls=false scripts/test.sh runs it"
        )]
        async fn kurrentdb() -> anyhow::Result<()> {
            $crate::require_backend($crate::Backend::Kurrent, concat!(module_path!(), "::kurrentdb"));
            $crate::TestOutcome::into_result(super::$scenario($crate::Backend::Kurrent).await)
        }
    };
}

// ---- The regulation's later lifecycles (Measures art. 8-13): scenario helpers ----

/// A token for the staff member `{role}-1` of a jurisdiction (bureau, service center, reviewer, ...).
pub fn staff(role: Role, jurisdiction: Jurisdiction) -> String {
    token(role, jurisdiction, &format!("{role}-1"), None)
}

/// A token for provider `n` (credit code [`credit_code`]`(n)`) in a jurisdiction.
pub fn provider_token(jurisdiction: Jurisdiction, n: u32) -> String {
    token(Role::Provider, jurisdiction, &format!("provider-{n}"), Some(&credit_code(n)))
}

/// 09:00 Asia/Shanghai on `date` (`YYYY-MM-DD`), as RFC 3339.
pub fn nine_am(date: &str) -> String {
    format!("{date}T09:00:00+08:00")
}

/// The day after `date` (`YYYY-MM-DD`).
///
/// # Panics
/// When `date` is not a date.
pub fn day_after(date: &str) -> String {
    let day: chrono::NaiveDate = date.parse().expect("a YYYY-MM-DD date");
    day.succ_opt().expect("a next day").to_string()
}

/// Moves the manual clock to `now` (RFC 3339). The server runs its scheduler before answering, so the
/// answer's `deadline_events` counts the deadline events recorded.
///
/// # Errors
/// Transport errors, or when the clock is not moved (200).
pub async fn set_clock(client: &Client, now: &str) -> anyhow::Result<Answer> {
    let body = serde_json::json!({ "now": now }).to_string();
    let operator = token(Role::Operator, Jurisdiction::Guiyang, "operator-1", None);
    let answer = client.post_raw("/v1/admin/clock", Some(&operator), &body, None).await?;
    anyhow::ensure!(answer.status == 200, "clock to {now}: {answer:?}");
    Ok(answer)
}

/// The event types a command answer recorded, in order.
pub fn event_types(answer: &Answer) -> Vec<String> {
    answer.body["events"]
        .as_array()
        .map(|events| events.iter().filter_map(|e| e["type"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// A document reference `{sha256, name, size_bytes}`; the digest is derived from the name, so different
/// names give different digests.
pub fn document(name: &str) -> Value {
    use std::fmt::Write as _;
    let mut digest = String::with_capacity(64);
    let bytes: Vec<u8> = name.bytes().chain(std::iter::once(0x5a)).collect();
    for index in 0..32_u8 {
        let byte = bytes[usize::from(index) % bytes.len()] ^ index.wrapping_mul(37);
        let _ = write!(digest, "{byte:02x}");
    }
    serde_json::json!({ "sha256": digest, "name": name, "size_bytes": 2048 })
}

/// POSTs a command and checks it was accepted with `status` and recorded exactly the events `types`.
///
/// # Errors
/// Transport errors, or any other answer.
pub async fn accept(
    client: &Client,
    path: &str,
    token: Option<&str>,
    body: &Value,
    status: u16,
    types: &[&str],
) -> anyhow::Result<Answer> {
    let answer = client.post_raw(path, token, &body.to_string(), None).await?;
    anyhow::ensure!(
        answer.status == status && event_types(&answer) == types,
        "POST {path} {body}: expected {status} with events {types:?}, got {} {}",
        answer.status,
        answer.body
    );
    Ok(answer)
}

/// POSTs a command and checks it was refused with `status` and the problem `code`, and appended nothing.
///
/// # Errors
/// Transport errors, or any other answer, or a moved log head.
pub async fn refuse(
    client: &Client,
    path: &str,
    token: Option<&str>,
    body: &Value,
    status: u16,
    code: &str,
) -> anyhow::Result<Answer> {
    let before = head_position(client).await?;
    let answer = client.post_raw(path, token, &body.to_string(), None).await?;
    let after = head_position(client).await?;
    anyhow::ensure!(
        answer.status == status
            && answer.code() == code
            && answer.content_type.starts_with("application/problem+json"),
        "POST {path} {body}: expected {status} {code}, got {} {}",
        answer.status,
        answer.body
    );
    anyhow::ensure!(after == before, "POST {path}: a refusal appended records (head {before} -> {after})");
    Ok(answer)
}

/// GETs a path and checks the answer is 200.
///
/// # Errors
/// Transport errors, or any other status.
pub async fn read(client: &Client, path: &str, token: Option<&str>) -> anyhow::Result<Value> {
    let answer = client.get(path, token).await?;
    anyhow::ensure!(answer.status == 200, "GET {path}: {answer:?}");
    Ok(answer.body)
}

/// The balance of one account kind (e.g. `provider_receivable`) in a jurisdiction's trial balance, and
/// checks the trial balance sums to zero.
///
/// # Errors
/// Transport errors, a missing account, or a trial balance that does not sum to zero.
pub async fn account_balance(
    client: &Client,
    jurisdiction: Jurisdiction,
    account: &str,
) -> anyhow::Result<String> {
    let auditor = token(Role::Auditor, jurisdiction, "auditor-1", None);
    let body = read(client, &format!("/v1/trial-balance/{jurisdiction}"), Some(&auditor)).await?;
    anyhow::ensure!(
        body["total"] == "0.00",
        "the trial balance of {jurisdiction} does not sum to zero: {body}"
    );
    body["accounts"]
        .as_array()
        .and_then(|accounts| accounts.iter().find(|a| a["account"] == account))
        .and_then(|a| a["balance"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("no account {account} in {body}"))
}

/// A voucher's `(available, committed)` balances.
///
/// # Errors
/// Transport errors or a missing voucher.
pub async fn voucher_balances(client: &Client, voucher_id: &str) -> anyhow::Result<(String, String)> {
    let auditor = token(Role::Auditor, Jurisdiction::Guiyang, "auditor-1", None);
    let body = read(client, &format!("/v1/vouchers/{voucher_id}"), Some(&auditor)).await?;
    let text = |field: &str| body[field].as_str().map(str::to_owned).context("voucher balance");
    Ok((text("available")?, text("committed")?))
}

/// Registers and verifies enterprise `n` and claims a voucher from `batch_id`; returns its token and the
/// voucher id.
///
/// # Errors
/// When a step is not accepted.
pub async fn voucher_holder(
    client: &Client,
    jurisdiction: Jurisdiction,
    batch_id: &str,
    n: u32,
) -> anyhow::Result<(String, String)> {
    let own = verified_applicant(client, jurisdiction, n, false).await?;
    let answer = client.post(&format!("/v1/batches/{batch_id}/claims"), &own, &serde_json::json!({})).await?;
    anyhow::ensure!(answer.status == 201, "claim: {answer:?}");
    let voucher_id = answer.body["voucher_id"].as_str().context("voucher_id")?.to_owned();
    Ok((own, voucher_id))
}

/// Provider `n` applies offering `categories`, and the bureau approves it on the current business date.
/// Returns the provider's token and the last day of its admission announcement.
///
/// # Errors
/// When a step is not accepted.
pub async fn approved_provider(
    client: &Client,
    jurisdiction: Jurisdiction,
    n: u32,
    categories: &[&str],
) -> anyhow::Result<(String, String)> {
    let own = provider_token(jurisdiction, n);
    let application = serde_json::json!({
        "name": format!("provider {n}"), "categories": categories,
        "qualifications": [document(&format!("provider {n} licence.pdf"))], "contact": format!("0851-{n:07}"),
    });
    accept(client, "/v1/providers", Some(&own), &application, 201, &["ProviderApplied"]).await?;
    let path = format!("/v1/providers/{}/decision", credit_code(n));
    let bureau = staff(Role::Bureau, jurisdiction);
    let decision = serde_json::json!({ "decision": "approved" });
    let answer = accept(client, &path, Some(&bureau), &decision, 200, &["ProviderApproved"]).await?;
    let closes = answer.body["announcement_closes"].as_str().context("announcement_closes")?.to_owned();
    Ok((own, closes))
}

/// Provider `n` applies and is approved, then the clock moves to 09:00 of the day after its announcement
/// closes, where the scheduler admits it. Returns the provider's token. Note: this moves the clock.
///
/// # Errors
/// When a step is not accepted or the provider is not admitted.
pub async fn admitted_provider(
    client: &Client,
    jurisdiction: Jurisdiction,
    n: u32,
    categories: &[&str],
) -> anyhow::Result<String> {
    let (own, closes) = approved_provider(client, jurisdiction, n, categories).await?;
    set_clock(client, &nine_am(&day_after(&closes))).await?;
    let view = read(client, &format!("/v1/providers/{}", credit_code(n)), Some(&own)).await?;
    anyhow::ensure!(view["status"] == "admitted", "provider {n} is not admitted: {view}");
    Ok(own)
}

/// The body of `POST /v1/contracts` for a 2025 service of `category`.
pub fn contract_body(
    voucher_id: &str,
    provider: &str,
    category: &str,
    total: &str,
    voucher_amount: &str,
) -> Value {
    serde_json::json!({
        "voucher_id": voucher_id, "provider": provider, "category": category,
        "description": format!("{category} service"), "term_start": "2025-03-15", "term_end": "2025-08-31",
        "total": total, "voucher_amount": voucher_amount,
        "document_sha256": document(&format!("contract {voucher_id} {total} {voucher_amount}"))["sha256"],
    })
}

/// The provider submits `body`, the applicant signs, the service center files; returns the contract id.
///
/// # Errors
/// When a step is not accepted.
pub async fn filed_contract(
    client: &Client,
    jurisdiction: Jurisdiction,
    provider: &str,
    applicant: &str,
    body: &Value,
) -> anyhow::Result<String> {
    let answer = accept(client, "/v1/contracts", Some(provider), body, 201, &["ContractSubmitted"]).await?;
    let contract_id = answer.body["contract_id"].as_str().context("contract_id")?.to_owned();
    let empty = serde_json::json!({});
    let signature = format!("/v1/contracts/{contract_id}/signature");
    accept(client, &signature, Some(applicant), &empty, 200, &["ContractSigned"]).await?;
    let center = staff(Role::ServiceCenter, jurisdiction);
    let filing = format!("/v1/contracts/{contract_id}/filing");
    accept(client, &filing, Some(&center), &empty, 200, &["ContractFiled"]).await?;
    Ok(contract_id)
}

/// The applicant confirms the contract's service complete.
///
/// # Errors
/// When it is not accepted.
pub async fn complete(client: &Client, applicant: &str, contract_id: &str) -> anyhow::Result<Answer> {
    let path = format!("/v1/contracts/{contract_id}/completion");
    accept(client, &path, Some(applicant), &serde_json::json!({}), 200, &["ServiceCompleted"]).await
}

/// The body of `POST /v1/redemptions` for a contract, with an invoice, a remittance proof and one result.
pub fn redemption_body(contract_id: &str) -> Value {
    serde_json::json!({
        "contract_id": contract_id,
        "invoice": document(&format!("invoice {contract_id}.pdf")),
        "remittance_proof": document(&format!("remittance {contract_id}.pdf")),
        "results": [document(&format!("report {contract_id}.pdf"))],
    })
}

/// The provider requests redemption of a completed contract and the jurisdiction's reviewer approves it in
/// full; returns the redemption id.
///
/// # Errors
/// When a step is not accepted.
pub async fn approved_redemption(
    client: &Client,
    jurisdiction: Jurisdiction,
    provider: &str,
    contract_id: &str,
) -> anyhow::Result<String> {
    let body = redemption_body(contract_id);
    let answer =
        accept(client, "/v1/redemptions", Some(provider), &body, 201, &["RedemptionRequested"]).await?;
    let redemption_id = answer.body["redemption_id"].as_str().context("redemption_id")?.to_owned();
    let reviewer = staff(Role::Reviewer, jurisdiction);
    let review = format!("/v1/redemptions/{redemption_id}/review");
    let full = serde_json::json!({ "decision": "full" });
    accept(client, &review, Some(&reviewer), &full, 200, &["RedemptionReviewed"]).await?;
    Ok(redemption_id)
}

/// The bureau puts redemptions on an announcement list on the current business date; returns the
/// announcement id and its `closes_on`.
///
/// # Errors
/// When it is not accepted.
pub async fn announce(
    client: &Client,
    jurisdiction: Jurisdiction,
    redemption_ids: &[&str],
) -> anyhow::Result<(String, String)> {
    let bureau = staff(Role::Bureau, jurisdiction);
    let body = serde_json::json!({ "jurisdiction": jurisdiction, "redemption_ids": redemption_ids });
    let answer =
        accept(client, "/v1/announcements", Some(&bureau), &body, 201, &["RedemptionsAnnounced"]).await?;
    let id = answer.body["announcement_id"].as_str().context("announcement_id")?.to_owned();
    let closes_on = answer.body["closes_on"].as_str().context("closes_on")?.to_owned();
    Ok((id, closes_on))
}
