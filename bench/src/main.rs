//! `voucher-bench`: the measurements behind `scripts/bench.sh` (see BENCHMARKS.md). Each subcommand runs one
//! figure on the workload of `engine::workload` and prints one JSON line on stdout; `report` reads those lines
//! and prints the table of medians and ratios (and writes them as JSON). Not a test: nothing here asserts a
//! time.
//!
//! ```text
//! voucher-bench inprocess --scale S --dir DIR          durable commands/s through the writer, p50/p99
//! voucher-bench http --server BIN --scale S --dir DIR  the same over HTTP, and the no-op route's rate
//! voucher-bench baseline --postgres URL --scale S --dir DIR
//!                                                      one PostgreSQL transaction per command
//! voucher-bench replay --dir DIR                       replay and raw decode+SHA-256 rates, bytes/event,
//!                                                      and replay with the Merkle tree rebuilt
//! voucher-bench inprocess --transparency off ...       the same without the Merkle tree (figure inprocess_off)
//! voucher-bench proofs --dir DIR                       inclusion and consistency proof times at the log's size
//! voucher-bench models --dir DIR                       each read model alone: bytes/event, events/s
//! voucher-bench startup --server BIN --dir DIR         serve on the log until /readyz answers
//! voucher-bench startup-snapshot --server BIN --dir DIR  the same without, then with a snapshot
//! voucher-bench console --server BIN --dir DIR         every console page's server time, p99 (console.rs)
//! voucher-bench report --results FILE [--json OUT]     the table
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

/// mimalloc rather than the system allocator: the read models are millions of small allocations, which
/// start-up and replay build all at once, and mimalloc allocates them faster (replay 1.18x to 1.34x, start-up
/// from a snapshot about a tenth less: BENCHMARKS.md). Resident memory at scale is about the same (within 3 %
/// either way at 1.1 M and 10 M events), plus a fixed 25 to 30 MB that shows only on small ledgers.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod console;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use api::auth::{Authenticator, SECRET_VARIABLE};
use clap::{Parser, Subcommand};
use domain::{Actor, Command};
use engine::clock::Clock;
use engine::workload::{self, Chain, Step, Workload, WorkloadOptions, per_second, quantile_of};
use engine::writer::{self, Loaded};
use futures::StreamExt;
use serde_json::{Value, json};
use store::EventLog;
use store::file::FileLog;
use uuid::Uuid;

mod light;
mod rush;
mod snapshot_parts;
mod startup;

#[derive(Parser)]
#[command(name = "voucher-bench", about = "The ledger's benchmark figures (run by scripts/bench.sh)")]
struct Cli {
    #[command(subcommand)]
    command: Figure,
}

#[derive(Subcommand)]
enum Figure {
    /// Durable commands/s through the writer, in-process, on the embedded log.
    Inprocess {
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        #[arg(long, default_value_t = 64)]
        submitters: usize,
        /// An empty or absent directory for the log.
        #[arg(long)]
        dir: PathBuf,
        /// `on` (the product): the writer extends the Merkle tree and a reader asks for a signed checkpoint
        /// every 10 ms; `off`: no tree (figure `inprocess_off`, for the ratio).
        #[arg(long, default_value = "on", value_parser = ["on", "off"])]
        transparency: String,
    },
    /// Inclusion and consistency proofs at the full size of a log, and signing a checkpoint.
    Proofs {
        #[arg(long)]
        dir: PathBuf,
    },
    /// The workload over HTTP against `voucher-ledger serve`, and the same server's no-op route.
    Http {
        /// The `voucher-ledger` binary.
        #[arg(long)]
        server: PathBuf,
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds of no-op load before and after the workload.
        #[arg(long, default_value_t = 5.0)]
        noop_seconds: f64,
        /// An empty or absent directory for the server's log (and its output, beside it).
        #[arg(long)]
        dir: PathBuf,
        /// `reqwest` (figure `http`) or `light`: the light generator of `light.rs` on one thread (figure
        /// `http_light`).
        #[arg(long, default_value = "reqwest", value_parser = ["reqwest", "light"])]
        client: String,
    },
    /// The rush at a batch's opening (rush.rs): N enterprises claim at once, against the service and against
    /// a PostgreSQL service, from the light generator.
    Rush(rush::RushArgs),
    /// The PostgreSQL claim service the rush's baseline runs against (started by `rush`).
    #[command(hide = true)]
    RushBaselineServe(rush::BaselineArgs),
    /// The same commands stored one PostgreSQL transaction per command in a plain events table.
    Baseline {
        #[arg(long)]
        postgres: String,
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// A scratch directory (the workload is decided into a file log there first, for its events).
        #[arg(long)]
        dir: PathBuf,
    },
    /// Replay of a log: decode, verify, fold every read model; and the raw decode+SHA-256 rate.
    Replay {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Each read model folded alone over a log: its resident bytes/event and events/s (with the decoding),
    /// and the decoding alone; for whoever adds or slims a read model. Not part of the table.
    Models {
        #[arg(long)]
        dir: PathBuf,
        /// One model (or `decoding` for none) in this process; without it, each in a process of its own
        /// (freed memory stays resident, so models measured in one process would hide each other's).
        #[arg(long)]
        model: Option<String>,
    },
    /// Start-up: `voucher-ledger serve` on the log until /readyz answers 200.
    Startup {
        #[arg(long)]
        server: PathBuf,
        #[arg(long)]
        dir: PathBuf,
    },
    /// Start-up on the same log without a snapshot, then (after a clean stop writes one) with it.
    StartupSnapshot {
        #[arg(long)]
        server: PathBuf,
        #[arg(long)]
        dir: PathBuf,
    },
    /// What the snapshot in DIR is made of: each part's encoded bytes and decoding time.
    SnapshotParts {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Every console page's server time (p50, p99 over `loads` loads) on a log, as each role.
    Console {
        #[arg(long)]
        server: PathBuf,
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 100)]
        loads: usize,
    },
    /// The table of medians and ratios from the JSON lines of the other subcommands.
    Report {
        #[arg(long)]
        results: PathBuf,
        /// Also write the figures as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// A line about the machine, printed under the table.
        #[arg(long)]
        machine: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let line = match cli.command {
        Figure::Inprocess { scale, seed, submitters, dir, transparency } => {
            runtime.block_on(inprocess(scale, seed, submitters, &dir, transparency == "on"))?
        }
        Figure::Proofs { dir } => runtime.block_on(proofs(&dir))?,
        Figure::Http { server, scale, seed, connections, noop_seconds, dir, client } => {
            let light = client == "light";
            let runtime = if light { &light::runtime()? } else { &runtime };
            runtime.block_on(http(&server, scale, seed, connections, noop_seconds, &dir, light))?
        }
        Figure::Rush(args) => rush::rush(&args)?,
        Figure::RushBaselineServe(args) => return rush::baseline_serve(&args),
        Figure::Baseline { postgres, scale, seed, connections, dir } => {
            runtime.block_on(baseline(&postgres, scale, seed, connections, &dir))?
        }
        Figure::Replay { dir } => runtime.block_on(replay(&dir))?,
        Figure::Models { dir, model: Some(model) } => runtime.block_on(model_alone(&dir, &model))?,
        Figure::Models { dir, model: None } => models(&dir)?,
        Figure::Startup { server, dir } => runtime.block_on(startup(&server, &dir))?,
        Figure::StartupSnapshot { server, dir } => runtime.block_on(startup::run(&server, &dir))?,
        Figure::Console { server, dir, loads } => runtime.block_on(console::console(&server, &dir, loads))?,
        Figure::SnapshotParts { dir } => snapshot_parts::run(&dir)?,
        Figure::Report { results, json, machine } => {
            report(&results, json.as_deref(), machine.as_deref())?;
            return Ok(());
        }
    };
    println!("{line}");
    Ok(())
}

fn generate(scale: f64, seed: u64) -> anyhow::Result<Workload> {
    let started = Instant::now();
    let workload = workload::generate(WorkloadOptions::scaled(seed, scale))?;
    eprintln!(
        "workload: scale {scale}, {} applicants, {} providers, {} commands (generated in {:.1?})",
        workload.options.applicants,
        workload.options.providers,
        workload.commands(),
        started.elapsed()
    );
    Ok(workload)
}

/// Runs `workload` through a writer on a new file log in `dir`.
async fn run_in_process(
    workload: Workload,
    submitters: usize,
    dir: &Path,
    transparency: bool,
) -> anyhow::Result<(workload::RunReport, u64)> {
    let (log, _) = FileLog::open(dir).with_context(|| format!("opening {}", dir.display()))?;
    let log = Arc::new(log);
    if log.head_now().position > 0 {
        bail!("{} already holds a ledger", dir.display());
    }
    let loaded = Loaded::from_log(log.as_ref()).await?;
    let clock = Clock::manual(workload::morning(workload::start_date()));
    let (handle, shared, task) = writer::spawn_with_task(log.clone(), loaded, clock.clone());
    let signing = if transparency {
        // Checkpoints are signed on request: a reader asks every 10 ms, as clients would.
        let key = tlog::SigningKey::generate("voucher-bench", tlog::Algorithm::Ed25519)
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        let origin = key.name().to_owned();
        shared
            .transparency
            .set_signer(engine::transparency::Signer { key, origin })
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        let transparency = shared.transparency.clone();
        Some(tokio::spawn(async move {
            let mut signed = 0u64;
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if transparency.latest().is_ok() {
                    signed += 1;
                }
                if Arc::strong_count(&transparency) == 1 {
                    return signed;
                }
            }
        }))
    } else {
        shared.transparency.disable();
        None
    };
    let report = workload::run(workload, &handle, &clock, submitters).await?;
    drop(handle);
    if let Some(signing) = signing {
        signing.abort();
    }
    drop(shared);
    task.await.context("the writer task")?;
    Ok((report, log.head_now().position))
}

async fn inprocess(
    scale: f64,
    seed: u64,
    submitters: usize,
    dir: &Path,
    transparency: bool,
) -> anyhow::Result<Value> {
    let workload = generate(scale, seed)?;
    let (report, records) = run_in_process(workload, submitters, dir, transparency).await?;
    if report.refused_total() > 0 {
        eprintln!("inprocess: refused {:?}", report.refused);
    }
    eprintln!(
        "inprocess: {} commands accepted in {:.1?} ({:.0}/s), scheduler {:.1?}, log {records} records",
        report.accepted,
        report.busy,
        report.commands_per_second(),
        report.scheduler
    );
    Ok(json!({
        "figure": if transparency { "inprocess" } else { "inprocess_off" },
        "transparency": transparency,
        "scale": scale,
        "submitters": submitters,
        "commands": report.commands,
        "accepted": report.accepted,
        "refused": report.refused_total(),
        "events": report.events,
        "log_records": records,
        "seconds": report.busy.as_secs_f64(),
        "commands_per_s": report.commands_per_second(),
        "p50_us": report.latency_us(0.50),
        "p99_us": report.latency_us(0.99),
    }))
}

// ---- HTTP ----

/// A `voucher-ledger serve` process this bench started; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SECRET: &str = "voucher-bench key, 32 bytes or more, not a secret";

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Starts `voucher-ledger serve` on the log in `dir` with a manual clock at `now`, its output in `output`, and
/// no objection limit per address.
fn start_server(server: &Path, dir: &Path, now: &str, output: &Path) -> anyhow::Result<Server> {
    let port = free_port()?;
    let log = std::fs::File::create(output).with_context(|| format!("creating {}", output.display()))?;
    let child = std::process::Command::new(server)
        .args(["serve", "--data"])
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--clock", "manual", "--now", now])
        // The load generator is one address standing for every member of the public who objects: the
        // per-address objection limit (429 beyond 20 an hour by default) would refuse the workload's
        // objections from the full scale on and measure refusals instead.
        .args(["--objections-per-address", &u32::MAX.to_string()])
        .env(SECRET_VARIABLE, SECRET)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", server.display()))?;
    Ok(Server { child, base: format!("http://127.0.0.1:{port}") })
}

/// Polls `url` until it answers 200; the time that took.
async fn wait_ready(client: &reqwest::Client, server: &mut Server, url: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            return Ok(started.elapsed());
        }
        if let Some(status) = server.child.try_wait()? {
            bail!("the server exited ({status}) before it was ready");
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("the server was not ready after 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn client(connections: usize) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")
}

/// Requests per second of GET `url` from `connections` concurrent loops for `seconds`.
async fn noop_rate(
    client: &reqwest::Client,
    url: &str,
    connections: usize,
    seconds: f64,
) -> anyhow::Result<f64> {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, done) = (client.clone(), url.to_owned(), done.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let response = client.get(&url).send().await?;
                if !response.status().is_success() {
                    anyhow::bail!("{url} answered {}", response.status());
                }
                response.bytes().await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(per_second(done.load(Ordering::Relaxed), started.elapsed()))
}

/// What the HTTP submitters share.
struct HttpRun {
    client: reqwest::Client,
    base: String,
    tokens: HashMap<String, String>,
    /// The workload's ids to the service's.
    ids: RwLock<HashMap<Uuid, Uuid>>,
    /// Per sample (the service's id), the contracts it drew.
    drawn: RwLock<HashMap<Uuid, Vec<Uuid>>>,
    /// Per sample (the workload's id), the contracts the workload expects, in draw order.
    expected: HashMap<Uuid, Vec<Uuid>>,
    latencies: Mutex<Vec<u32>>,
    refused: Mutex<BTreeMap<String, u64>>,
    accepted: AtomicU64,
}

impl HttpRun {
    fn id(&self, id: Uuid) -> Uuid {
        self.ids.read().unwrap_or_else(|e| e.into_inner()).get(&id).copied().unwrap_or(id)
    }

    async fn step(&self, step: &Step, conn: Option<&mut light::Conn>) -> anyhow::Result<()> {
        let Step { actor, command } = step;
        // A finding names the n-th contract the workload expects its sample to draw: over HTTP, the n-th the
        // service drew (its ids, hence its ranking, differ).
        let finding_contract = match command {
            Command::RecordFinding { sample_id, contract_id, .. } => {
                let index =
                    self.expected.get(sample_id).and_then(|e| e.iter().position(|c| c == contract_id));
                let drawn = self.drawn.read().unwrap_or_else(|e| e.into_inner());
                index.and_then(|i| drawn.get(&self.id(*sample_id)).and_then(|d| d.get(i)).copied())
            }
            _ => None,
        };
        let map = |id: Uuid| match (command, finding_contract) {
            (Command::RecordFinding { contract_id, .. }, Some(drawn)) if *contract_id == id => drawn,
            _ => self.id(id),
        };
        let Some(request) = workload::http_request(command, &map) else {
            bail!("{} has no HTTP request", command.name());
        };
        let token = if request.authenticated {
            Some(self.tokens.get(&actor.subject).context("no token for the actor")?)
        } else {
            None
        };
        let started = Instant::now();
        let (status, body) = if let Some(conn) = conn {
            let body = serde_json::to_vec(&request.body)?;
            let headers: Vec<(&str, &str)> =
                token.map(|token| ("authorization", token.as_str())).into_iter().collect();
            let answer = conn.send(&light::render("POST", &request.path, &headers, &body)).await?;
            (reqwest::StatusCode::from_u16(answer.status)?, answer.body)
        } else {
            let mut builder = self.client.post(format!("{}{}", self.base, request.path)).json(&request.body);
            if let Some(token) = token {
                builder = builder.header(reqwest::header::AUTHORIZATION, token);
            }
            let response = builder.send().await?;
            (response.status(), response.bytes().await?.to_vec())
        };
        let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        if !status.is_success() {
            let code = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|problem| problem.get("code").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| status.as_u16().to_string());
            if status.is_server_error() {
                bail!("{} answered {status}: {}", request.path, String::from_utf8_lossy(&body));
            }
            *self.refused.lock().unwrap_or_else(|e| e.into_inner()).entry(code).or_default() += 1;
            return Ok(());
        }
        self.accepted.fetch_add(1, Ordering::Relaxed);
        self.latencies.lock().unwrap_or_else(|e| e.into_inner()).push(micros);
        if let Some((ours, field)) = workload::created_id(command) {
            let answer: Value = serde_json::from_slice(&body).context("an answer that is not JSON")?;
            let theirs = answer
                .get(field)
                .and_then(Value::as_str)
                .and_then(|text| Uuid::parse_str(text).ok())
                .with_context(|| format!("the answer to {} has no {field}", command.name()))?;
            self.ids.write().unwrap_or_else(|e| e.into_inner()).insert(ours, theirs);
            if let Some(ids) = answer.get("contract_ids").and_then(Value::as_array) {
                let ids =
                    ids.iter().filter_map(Value::as_str).filter_map(|s| Uuid::parse_str(s).ok()).collect();
                self.drawn.write().unwrap_or_else(|e| e.into_inner()).insert(theirs, ids);
            }
        }
        Ok(())
    }
}

/// A token of the operator, who moves the manual clock between the phases.
fn operator_token() -> anyhow::Result<String> {
    let auth = Authenticator::new(SECRET.as_bytes())?;
    let operator = Actor {
        subject: "operator".into(),
        role: domain::Role::Operator,
        jurisdiction: Some(domain::Jurisdiction::Guiyang),
        credit_code: None,
    };
    Ok(auth.mint(&operator, chrono::Utc::now().timestamp(), api::auth::LIFETIME_MAX_DEFAULT_SECONDS)?)
}

fn tokens(workload: &Workload) -> anyhow::Result<HashMap<String, String>> {
    let auth = Authenticator::new(SECRET.as_bytes())?;
    let now = chrono::Utc::now().timestamp();
    let mut tokens = HashMap::new();
    for Step { actor, .. } in workload.steps() {
        if actor.role == domain::Role::Public || tokens.contains_key(&actor.subject) {
            continue;
        }
        let token: &Actor = actor;
        tokens.insert(
            actor.subject.clone(),
            format!("Bearer {}", auth.mint(token, now, api::auth::LIFETIME_MAX_DEFAULT_SECONDS)?),
        );
    }
    Ok(tokens)
}

async fn http(
    server: &Path,
    scale: f64,
    seed: u64,
    connections: usize,
    noop_seconds: f64,
    dir: &Path,
    light: bool,
) -> anyhow::Result<Value> {
    let workload = generate(scale, seed)?;
    let tokens = tokens(&workload)?;
    let operator = format!("Bearer {}", operator_token()?);
    let output = dir.with_extension("server.log");
    let start = workload::morning(workload::start_date()).to_rfc3339();
    let mut server = start_server(server, dir, &start, &output)?;
    let client = client(connections)?;
    let healthz = format!("{}/healthz", server.base);
    wait_ready(&client, &mut server, &healthz).await?;
    let noop_before = if light {
        light::noop_rate(&server.base, "/healthz", connections, noop_seconds).await?.0
    } else {
        noop_rate(&client, &healthz, connections, noop_seconds).await?
    };
    eprintln!("http: no-op before {noop_before:.0}/s");
    let mut conns = Vec::new();
    for _ in 0..if light { connections } else { 0 } {
        conns.push(Some(light::Conn::connect(light::address(&server.base)?).await?));
    }
    let (client_cpu, server_cpu) = (light::cpu_seconds(None), light::cpu_seconds(Some(server.child.id())));

    let Workload { phases, samples, .. } = workload;
    let run = Arc::new(HttpRun {
        client: client.clone(),
        base: server.base.clone(),
        tokens,
        ids: RwLock::new(HashMap::new()),
        drawn: RwLock::new(HashMap::new()),
        expected: samples,
        latencies: Mutex::new(Vec::new()),
        refused: Mutex::new(BTreeMap::new()),
        accepted: AtomicU64::new(0),
    });
    let mut busy = Duration::ZERO;
    for phase in phases {
        let clock = format!("{}/v1/admin/clock", server.base);
        let now = workload::morning(phase.date).to_rfc3339();
        let answer = client
            .post(&clock)
            .header("authorization", &operator)
            .json(&json!({ "now": now }))
            .send()
            .await?;
        if !answer.status().is_success() {
            bail!("setting the clock answered {}", answer.status());
        }
        answer.bytes().await?;
        let started = Instant::now();
        let chains: Arc<Vec<Chain>> = Arc::new(phase.chains);
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for task in 0..connections {
            let (run, chains, next) = (run.clone(), chains.clone(), next.clone());
            let mut conn = conns.get_mut(task).and_then(Option::take);
            tasks.push(tokio::spawn(async move {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(chain) = chains.get(index) else { return anyhow::Ok(conn) };
                    for step in chain {
                        run.step(step, conn.as_mut()).await?;
                    }
                }
            }));
        }
        for (index, task) in tasks.into_iter().enumerate() {
            let conn = task.await??;
            if let Some(slot) = conns.get_mut(index) {
                *slot = conn;
            }
        }
        busy += started.elapsed();
    }
    let client_cpu = (light::cpu_seconds(None) - client_cpu) / busy.as_secs_f64().max(f64::EPSILON);
    let server_cpu =
        (light::cpu_seconds(Some(server.child.id())) - server_cpu) / busy.as_secs_f64().max(f64::EPSILON);
    drop(conns);
    let noop_after = if light {
        light::noop_rate(&server.base, "/healthz", connections, noop_seconds).await?.0
    } else {
        noop_rate(&client, &healthz, connections, noop_seconds).await?
    };
    eprintln!(
        "http: no-op after {noop_after:.0}/s; cores used during the workload: client {client_cpu:.2}, server {server_cpu:.2}"
    );
    drop(server);

    let accepted = run.accepted.load(Ordering::Relaxed);
    let refused = run.refused.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut latencies = std::mem::take(&mut *run.latencies.lock().unwrap_or_else(|e| e.into_inner()));
    latencies.sort_unstable();
    if !refused.is_empty() {
        eprintln!("http: refused {refused:?}");
    }
    let rate = per_second(accepted, busy);
    let noop = (noop_before + noop_after) / 2.0;
    eprintln!("http: {accepted} commands accepted in {busy:.1?} ({rate:.0}/s); no-op {noop:.0}/s");
    Ok(json!({
        "figure": if light { "http_light" } else { "http" },
        "client": if light { "light" } else { "reqwest" },
        "client_cores": client_cpu,
        "server_cores": server_cpu,
        "scale": scale,
        "connections": connections,
        "accepted": accepted,
        "refused": refused.values().sum::<u64>(),
        "seconds": busy.as_secs_f64(),
        "commands_per_s": rate,
        "p50_us": quantile_of(&latencies, 0.50),
        "p99_us": quantile_of(&latencies, 0.99),
        "noop_per_s": noop,
        "noop_before_per_s": noop_before,
        "noop_after_per_s": noop_after,
    }))
}

// ---- PostgreSQL baseline ----

/// One command's events as a plain events table keeps them.
struct BaselineEvent {
    stream: String,
    version: i64,
    id: String,
    event_type: &'static str,
    data: String,
    metadata: String,
}

const BASELINE_TABLE: &str = "
    DROP TABLE IF EXISTS bench_events;
    CREATE TABLE bench_events (
        global_position BIGSERIAL PRIMARY KEY,
        stream_id TEXT NOT NULL,
        stream_version BIGINT NOT NULL,
        event_id UUID NOT NULL,
        event_type TEXT NOT NULL,
        data JSONB NOT NULL,
        metadata JSONB NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        UNIQUE (stream_id, stream_version)
    );";

const BASELINE_INSERT: &str = "INSERT INTO bench_events (stream_id, stream_version, event_id, event_type, data, metadata) \
     VALUES ($1, $2, $3::text::uuid, $4, $5::text::jsonb, $6::text::jsonb)";

/// The workload's commands as the events they record: decided through the writer into a file log in `dir`
/// (not timed), read back and grouped by command.
async fn baseline_commands(workload: Workload, dir: &Path) -> anyhow::Result<Vec<Vec<BaselineEvent>>> {
    let (report, _) = run_in_process(workload, 64, dir, true).await?;
    eprintln!("baseline: {} commands decided into {}", report.accepted, dir.display());
    let log = FileLog::open_read_only(dir)?;
    let mut commands = Vec::new();
    let mut current = Vec::new();
    let mut records = log.read_from(1);
    while let Some(record) = records.next().await {
        let record = record?;
        let recorded = ledger_proto::decode_record(&record)?;
        // The scheduler's commands are not the workload's (the baseline has no scheduler).
        let scheduler = recorded.meta.actor.role == domain::Role::System;
        let data = api::http::commands::event_fields(&recorded.event)?.to_string();
        let metadata = json!({
            "actor": recorded.meta.actor.subject,
            "role": recorded.meta.actor.role.as_str(),
            "correlation_id": recorded.meta.correlation_id,
            "business_date": recorded.meta.business_date,
        })
        .to_string();
        current.push(BaselineEvent {
            stream: recorded.meta.stream,
            version: i64::try_from(recorded.meta.stream_version)?,
            id: recorded.meta.id.to_string(),
            event_type: recorded.event.event_type(),
            data,
            metadata,
        });
        if record.ends_command {
            let events = std::mem::take(&mut current);
            if !scheduler {
                commands.push(events);
            }
        }
    }
    Ok(commands)
}

async fn baseline(url: &str, scale: f64, seed: u64, connections: usize, dir: &Path) -> anyhow::Result<Value> {
    let workload = generate(scale, seed)?;
    let commands = Arc::new(baseline_commands(workload, dir).await?);
    let events: usize = commands.iter().map(Vec::len).sum();
    let (setup, connection) =
        tokio_postgres::connect(url, tokio_postgres::NoTls).await.context("connecting to PostgreSQL")?;
    tokio::spawn(connection);
    setup.batch_execute(BASELINE_TABLE).await.context("creating the events table")?;
    let mut clients = Vec::new();
    for _ in 0..connections {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        clients.push(client);
    }
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut client in clients {
        let (commands, next) = (commands.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let insert = client.prepare(BASELINE_INSERT).await?;
            let mut latencies = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(events) = commands.get(index) else { return anyhow::Ok(latencies) };
                let began = Instant::now();
                let transaction = client.transaction().await?;
                for event in events {
                    transaction
                        .execute(
                            &insert,
                            &[
                                &event.stream,
                                &event.version,
                                &event.id,
                                &event.event_type,
                                &event.data,
                                &event.metadata,
                            ],
                        )
                        .await?;
                }
                transaction.commit().await?;
                latencies.push(u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX));
            }
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let stored: i64 = setup.query_one("SELECT count(*) FROM bench_events", &[]).await?.get(0);
    if usize::try_from(stored)? != events {
        bail!("the events table holds {stored} events, {events} were stored");
    }
    setup.batch_execute("DROP TABLE bench_events").await?;
    let rate = per_second(commands.len() as u64, elapsed);
    eprintln!("baseline: {} commands ({events} events) in {elapsed:.1?} ({rate:.0}/s)", commands.len());
    Ok(json!({
        "figure": "baseline",
        "scale": scale,
        "connections": connections,
        "commands": commands.len(),
        "events": events,
        "seconds": elapsed.as_secs_f64(),
        "commands_per_s": rate,
        "p50_us": quantile_of(&latencies, 0.50),
        "p99_us": quantile_of(&latencies, 0.99),
    }))
}

// ---- replay, start-up ----

/// The resident set size of this process, in bytes (Linux; 0 where /proc is missing).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let kib = line.strip_prefix("VmRSS:")?.trim().trim_end_matches("kB").trim();
                kib.parse::<u64>().ok()
            })
        })
        .map_or(0, |kib| kib * 1024)
}

async fn replay(dir: &Path) -> anyhow::Result<Value> {
    let log = FileLog::open_read_only(dir).with_context(|| format!("opening {}", dir.display()))?;
    let head = log.head_now().position;
    let before = resident_bytes();
    let started = Instant::now();
    let replayed = engine::replay::replay(&log, engine::replay::Until::Head, &mut |_| {}).await?;
    let replay_time = started.elapsed();
    let after = resident_bytes();
    let events = replayed.projections.position();
    if events != head {
        bail!("replayed {events} of {head} records");
    }

    // The limit: read, decode and hash every record, nothing else.
    let started = Instant::now();
    let mut digest = [0u8; 32];
    decode_each(&log, head, |record, recorded| {
        digest = ledger_proto::record_hash(&recorded.prev_hash, &record.bytes);
    })
    .await?;
    let raw_time = started.elapsed();
    if digest != replayed.hash {
        bail!("the raw pass ends on another hash than the replay");
    }
    let bytes_per_event = if events > 0 { after.saturating_sub(before) as f64 / events as f64 } else { 0.0 };
    drop(replayed);

    // The same replay with the Merkle tree rebuilt on the way (as the service's start-up does).
    let started = Instant::now();
    let (tree_events, tree) = replay_with_tree(&log, head).await?;
    let tree_time = started.elapsed();
    if tree_events != head || tree.len() != head {
        bail!("replayed {tree_events} of {head} records with the tree ({} leaves)", tree.len());
    }
    let tree_rate = per_second(events, tree_time);
    let tree_bytes = tree.memory_bytes();
    drop(tree);
    let replay_rate = per_second(events, replay_time);
    let raw_rate = per_second(events, raw_time);
    eprintln!(
        "replay: {events} events in {replay_time:.1?} ({replay_rate:.0}/s), raw {raw_time:.1?} ({raw_rate:.0}/s), \
         {bytes_per_event:.0} bytes/event; with the Merkle tree {tree_time:.1?} ({tree_rate:.0}/s, tree {tree_bytes} bytes)"
    );
    Ok(json!({
        "figure": "replay",
        "events": events,
        "replay_seconds": replay_time.as_secs_f64(),
        "replay_events_per_s": replay_rate,
        "replay_tree_seconds": tree_time.as_secs_f64(),
        "replay_tree_events_per_s": tree_rate,
        "tree_bytes": tree_bytes,
        "raw_seconds": raw_time.as_secs_f64(),
        "raw_decode_hash_per_s": raw_rate,
        "rss_before": before,
        "rss_after": after,
        "bytes_per_event": bytes_per_event,
    }))
}

/// `engine::replay::replay` to the head with the Merkle tree rebuilt in the same pass (the leaves hashed in
/// the verifying stage, as `Loaded::from_log` does): the records folded and the tree.
async fn replay_with_tree(log: &FileLog, head: u64) -> anyhow::Result<(u64, tlog::MerkleTree)> {
    let mut projections = projections::Projections::new();
    let mut tree = tlog::MerkleTree::new(tlog::TreeHash::Sha256);
    tree.reserve(head);
    let mut reader = engine::replay::VerifiedReader::new(log, head).with_leaves(tlog::TreeHash::Sha256);
    while let Some(batch) = reader.next_batch().await? {
        for leaf in reader.take_leaves() {
            tree.push_leaf_hash(leaf);
        }
        for recorded in &batch {
            projections.apply(recorded);
        }
    }
    Ok((projections.position(), tree))
}

/// Inclusion proofs (made and verified) at random positions of the whole log, consistency proofs, and one
/// checkpoint signature, on the tree rebuilt from the log.
async fn proofs(dir: &Path) -> anyhow::Result<Value> {
    let log = FileLog::open_read_only(dir).with_context(|| format!("opening {}", dir.display()))?;
    let head = log.head_now().position;
    if head == 0 {
        bail!("{} holds no ledger", dir.display());
    }
    let started = Instant::now();
    let tree = engine::transparency::build_tree(&log, tlog::TreeHash::Sha256, head).await?;
    let build = started.elapsed();
    let root = tree.root(head).map_err(|error| anyhow::anyhow!("{error}"))?;
    const SAMPLES: usize = 2000;
    let mut made = Vec::with_capacity(SAMPLES);
    let mut checked = Vec::with_capacity(SAMPLES);
    let mut consistency = Vec::with_capacity(SAMPLES);
    // Positions from a fixed-seed generator (SplitMix64): the same samples every run.
    let mut state = 2025u64;
    let mut next = move |below: u64| {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % below
    };
    for _ in 0..SAMPLES {
        let index = next(head);
        let started = Instant::now();
        let path = tree.inclusion_proof(index, head).map_err(|error| anyhow::anyhow!("{error}"))?;
        made.push(started.elapsed().as_secs_f64() * 1e6);
        let leaf = tree.leaf_hash(index).context("leaf")?;
        let started = Instant::now();
        tlog::verify_inclusion(tlog::TreeHash::Sha256, &leaf, index, head, &path, &root)
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        checked.push(started.elapsed().as_secs_f64() * 1e6);
        let first = next(head) + 1;
        let started = Instant::now();
        tree.consistency_proof(first, head).map_err(|error| anyhow::anyhow!("{error}"))?;
        consistency.push(started.elapsed().as_secs_f64() * 1e6);
    }
    let key = tlog::SigningKey::generate("voucher-bench", tlog::Algorithm::Ed25519)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let signer = engine::transparency::Signer { origin: key.name().to_owned(), key };
    let started = Instant::now();
    engine::transparency::sign(&signer, head, root)?;
    let sign_us = started.elapsed().as_secs_f64() * 1e6;
    for values in [&mut made, &mut checked, &mut consistency] {
        values.sort_by(f64::total_cmp);
    }
    let p = |values: &[f64], q: f64| {
        let rank = (q * values.len() as f64).ceil() as usize;
        values.get(rank.clamp(1, values.len().max(1)) - 1).copied().unwrap_or(0.0)
    };
    eprintln!(
        "proofs: tree of {head} leaves built in {build:.1?} ({} bytes); inclusion p50 {:.1} us p99 {:.1} us, \
         verified p50 {:.1} us; consistency p50 {:.1} us; signing {sign_us:.0} us",
        tree.memory_bytes(),
        p(&made, 0.5),
        p(&made, 0.99),
        p(&checked, 0.5),
        p(&consistency, 0.5)
    );
    Ok(json!({
        "figure": "proofs",
        "events": head,
        "tree_build_seconds": build.as_secs_f64(),
        "tree_bytes": tree.memory_bytes(),
        "inclusion_p50_us": p(&made, 0.5),
        "inclusion_p99_us": p(&made, 0.99),
        "inclusion_verify_p50_us": p(&checked, 0.5),
        "consistency_p50_us": p(&consistency, 0.5),
        "sign_us": sign_us,
    }))
}

/// Reads and decodes every record of `log` up to `head`, in order, handing each to `each`.
async fn decode_each(
    log: &FileLog,
    head: u64,
    mut each: impl FnMut(&store::StoredRecord, ledger_proto::Recorded),
) -> anyhow::Result<()> {
    let mut next = 1;
    while next <= head {
        let batch = log.read_batch(next, 4096).await?;
        if batch.is_empty() {
            break;
        }
        for record in &batch {
            each(record, ledger_proto::decode_record(record)?);
        }
        next += batch.len() as u64;
    }
    Ok(())
}

/// Runs [`model_alone`] for the decoding and for each read model, each in a child process.
fn models(dir: &Path) -> anyhow::Result<Value> {
    let exe = std::env::current_exe().context("finding this program")?;
    let mut figures = serde_json::Map::new();
    for name in std::iter::once("decoding").chain(projections::Projections::new().names()) {
        let output = std::process::Command::new(&exe)
            .args(["models", "--model", name, "--dir"])
            .arg(dir)
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("running the {name} measurement"))?;
        if !output.status.success() {
            bail!("the {name} measurement failed: {}", output.status);
        }
        let line: Value = serde_json::from_slice(&output.stdout).context("reading a measurement")?;
        figures.insert(name.to_owned(), line);
    }
    Ok(json!({ "figure": "models", "models": figures }))
}

/// Decodes a log and folds it into one read model (`decoding`: none): resident bytes/event and events/s.
async fn model_alone(dir: &Path, only: &str) -> anyhow::Result<Value> {
    let log = FileLog::open_read_only(dir).with_context(|| format!("opening {}", dir.display()))?;
    let head = log.head_now().position;
    let mut folded = projections::Projections::new();
    if only != "decoding" && !folded.names().contains(&only) {
        bail!("no read model is called {only:?} (there are: {})", folded.names().join(", "));
    }
    let before = resident_bytes();
    let started = Instant::now();
    decode_each(&log, head, |_, recorded| {
        for model in folded.models_mut() {
            if model.name() == only {
                model.apply(&recorded);
            }
        }
    })
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    let bytes_per_event = resident_bytes().saturating_sub(before) as f64 / head.max(1) as f64;
    let rate = head as f64 / seconds.max(f64::EPSILON);
    eprintln!(
        "models: {only:<12} {bytes_per_event:>7.0} bytes/event {rate:>10.0} events/s (decoding included)"
    );
    Ok(json!({ "model": only, "events": head, "bytes_per_event": bytes_per_event, "events_per_s": rate }))
}

async fn startup(server: &Path, dir: &Path) -> anyhow::Result<Value> {
    let events = FileLog::open_read_only(dir)?.head_now().position;
    // The clock at the workload's last day: nothing falls due, so the log is not written.
    let now = "2026-03-02T01:00:00Z";
    let output = dir.with_extension("startup.log");
    let client = client(1)?;
    let mut server = start_server(server, dir, now, &output)?;
    let readyz = format!("{}/readyz", server.base);
    let ready = wait_ready(&client, &mut server, &readyz).await?;
    drop(server);
    eprintln!("startup: ready after {ready:.2?} on {events} events");
    Ok(json!({ "figure": "startup", "events": events, "seconds": ready.as_secs_f64() }))
}

// ---- report ----

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    })
}

fn grouped(value: f64) -> String {
    let rounded = value.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0 { format!("-{out}") } else { out }
}

fn millis(micros: f64) -> String {
    format!("{:.1} ms", micros / 1000.0)
}

fn report(results: &Path, json_out: Option<&Path>, machine: Option<&str>) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(results).with_context(|| format!("reading {}", results.display()))?;
    let mut lines: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in text.lines().filter(|line| line.trim_start().starts_with('{')) {
        let value: Value = serde_json::from_str(line).with_context(|| format!("not JSON: {line}"))?;
        let figure = value.get("figure").and_then(Value::as_str).unwrap_or("?").to_owned();
        lines.entry(figure).or_default().push(value);
    }
    let field = |figure: &str, key: &str| -> Vec<f64> {
        lines.get(figure).map_or_else(Vec::new, |runs| {
            runs.iter().filter_map(|run| run.get(key).and_then(Value::as_f64)).collect()
        })
    };
    let med = |figure: &str, key: &str| median(field(figure, key));
    // Ratios of two figures: per run where both are measured in the same run, the median of those.
    let paired = |a: Vec<f64>, b: Vec<f64>| {
        median(a.iter().zip(&b).filter(|(_, b)| **b > 0.0).map(|(a, b)| a / b).collect())
    };

    let inprocess = med("inprocess", "commands_per_s");
    let baseline = med("baseline", "commands_per_s");
    let http = med("http", "commands_per_s");
    let noop = med("http", "noop_per_s");
    let replay = med("replay", "replay_events_per_s");
    let raw = med("replay", "raw_decode_hash_per_s");
    let bytes = med("replay", "bytes_per_event");
    let events = med("replay", "events");
    let startup = med("startup", "seconds");
    let vs_baseline = paired(field("inprocess", "commands_per_s"), field("baseline", "commands_per_s"));
    let vs_noop = paired(field("http", "commands_per_s"), field("http", "noop_per_s"));
    let vs_raw = paired(field("replay", "replay_events_per_s"), field("replay", "raw_decode_hash_per_s"));
    let inprocess_off = med("inprocess_off", "commands_per_s");
    let vs_tree_off = paired(field("inprocess", "commands_per_s"), field("inprocess_off", "commands_per_s"));
    let replay_tree = med("replay", "replay_tree_events_per_s");
    let vs_replay =
        paired(field("replay", "replay_tree_events_per_s"), field("replay", "replay_events_per_s"));
    let inclusion_p50 = med("proofs", "inclusion_p50_us");
    let inclusion_p99 = med("proofs", "inclusion_p99_us");

    let runs = |figure: &str, key: &str| {
        let values = field(figure, key);
        let shown: Vec<String> = values.iter().map(|v| grouped(*v)).collect();
        format!("[{}]", shown.join(" "))
    };
    let show = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), grouped);
    let verdict = |met: Option<bool>| match met {
        Some(true) => "met",
        Some(false) => "NOT met",
        None => "-",
    };
    let ratio = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}x"));
    let scale = |figure: &str| med(figure, "scale").map_or_else(|| "-".to_owned(), |s| format!("{s}"));

    println!("{:<58} {:>13}  {:<14} runs", "figure (median of runs)", "value", "target");
    let row = |name: String, value: String, target: &str, detail: String| {
        println!("{name:<58} {value:>13}  {target:<14} {detail}");
    };
    row(
        format!("durable commands/s in-process, 64 submitters (scale {})", scale("inprocess")),
        show(inprocess),
        "",
        runs("inprocess", "commands_per_s"),
    );
    row(
        "  latency p50 / p99".into(),
        format!(
            "{} / {}",
            millis(med("inprocess", "p50_us").unwrap_or(0.0)),
            millis(med("inprocess", "p99_us").unwrap_or(0.0))
        ),
        "",
        String::new(),
    );
    row(
        format!("baseline: PostgreSQL, 1 transaction/command (scale {})", scale("baseline")),
        show(baseline),
        "",
        runs("baseline", "commands_per_s"),
    );
    row(
        "  ratio in-process / baseline".into(),
        ratio(vs_baseline),
        &format!(">= 10x {}", verdict(vs_baseline.map(|r| r >= 10.0))),
        String::new(),
    );
    row(
        format!("commands/s over HTTP, 64 connections (scale {})", scale("http")),
        show(http),
        "",
        runs("http", "commands_per_s"),
    );
    row(
        "  latency p50 / p99".into(),
        format!(
            "{} / {}",
            millis(med("http", "p50_us").unwrap_or(0.0)),
            millis(med("http", "p99_us").unwrap_or(0.0))
        ),
        "",
        String::new(),
    );
    row(
        "no-op GET /healthz/s, same server, 64 connections".into(),
        show(noop),
        "",
        runs("http", "noop_per_s"),
    );
    row(
        "  ratio HTTP commands / no-op".into(),
        ratio(vs_noop),
        &format!(">= 0.6x {}", verdict(vs_noop.map(|r| r >= 0.6))),
        String::new(),
    );
    row(
        "replay events/s (decode, verify chain, fold read models)".into(),
        show(replay),
        &format!(">= 1M {}", verdict(replay.map(|r| r >= 1_000_000.0))),
        runs("replay", "replay_events_per_s"),
    );
    row("raw decode + SHA-256 records/s".into(), show(raw), "", runs("replay", "raw_decode_hash_per_s"));
    row(
        "  ratio replay / raw".into(),
        ratio(vs_raw),
        &format!(">= 0.5x {}", verdict(vs_raw.map(|r| r >= 0.5))),
        String::new(),
    );
    row(
        "read models resident bytes/event after replay".into(),
        show(bytes),
        &format!("<= 300 {}", verdict(bytes.map(|b| b <= 300.0))),
        runs("replay", "bytes_per_event"),
    );
    row(
        "start-up (serve until /readyz), seconds".into(),
        startup.map_or_else(|| "-".to_owned(), |s| format!("{s:.2}")),
        "",
        format!(
            "{:?}",
            field("startup", "seconds").iter().map(|s| (s * 100.0).round() / 100.0).collect::<Vec<_>>()
        ),
    );
    row("events replayed".into(), show(events), "", String::new());
    row(
        format!("durable commands/s in-process, Merkle tree off (scale {})", scale("inprocess_off")),
        show(inprocess_off),
        "",
        runs("inprocess_off", "commands_per_s"),
    );
    row(
        "  ratio tree and signing on / off".into(),
        ratio(vs_tree_off),
        &format!(">= 0.9x {}", verdict(vs_tree_off.map(|r| r >= 0.9))),
        String::new(),
    );
    row(
        "inclusion proof at the full log, p50 / p99".into(),
        format!("{} / {}", millis(inclusion_p50.unwrap_or(0.0)), millis(inclusion_p99.unwrap_or(0.0))),
        &format!("< 1 ms {}", verdict(inclusion_p99.map(|us| us < 1000.0))),
        format!("{} leaves", show(med("proofs", "events"))),
    );
    row(
        "replay events/s with the Merkle tree rebuilt".into(),
        show(replay_tree),
        "",
        runs("replay", "replay_tree_events_per_s"),
    );
    row(
        "  ratio replay with tree / without".into(),
        ratio(vs_replay),
        &format!(">= 0.9x {}", verdict(vs_replay.map(|r| r >= 0.9))),
        String::new(),
    );
    let (rush_rows, rush_keys) = rush::figures(&lines);
    for [name, value, target, detail] in rush_rows {
        row(name, value, &target, detail);
    }
    let startup_fields = startup::report(&lines);
    let console_p99 = med("console", "console_page_p99_ms");
    row(
        "console pages' server time, slowest page's p99, ms".into(),
        console_p99.map_or_else(|| "-".to_owned(), |ms| format!("{ms:.1}")),
        &format!("< 50 ms {}", verdict(console_p99.map(|ms| ms < 50.0))),
        format!(
            "{:?}",
            field("console", "console_page_p99_ms")
                .iter()
                .map(|ms| (ms * 10.0).round() / 10.0)
                .collect::<Vec<_>>()
        ),
    );
    if let Some(machine) = machine {
        println!("machine: {machine}");
    }

    if let Some(path) = json_out {
        let number = |value: Option<f64>| value.map_or(Value::Null, |v| json!(v));
        let mut document = json!({
            "commands_per_s_inprocess": number(inprocess),
            "inprocess_p50_us": number(med("inprocess", "p50_us")),
            "inprocess_p99_us": number(med("inprocess", "p99_us")),
            "commands_per_s_http": number(http),
            "http_p50_us": number(med("http", "p50_us")),
            "http_p99_us": number(med("http", "p99_us")),
            "noop_per_s_http": number(noop),
            "baseline_commands_per_s": number(baseline),
            "replay_events_per_s": number(replay),
            "raw_decode_hash_per_s": number(raw),
            "bytes_per_event": number(bytes),
            "events_replayed": number(events),
            "startup_seconds": number(startup),
            "ratio_inprocess_to_baseline": number(vs_baseline),
            "ratio_http_to_noop": number(vs_noop),
            "ratio_replay_to_raw": number(vs_raw),
            "commands_per_s_inprocess_tree_off": number(inprocess_off),
            "ratio_inprocess_tree_on_to_off": number(vs_tree_off),
            "inclusion_proof_p50_us": number(inclusion_p50),
            "inclusion_proof_p99_us": number(inclusion_p99),
            "replay_tree_events_per_s": number(replay_tree),
            "ratio_replay_tree_to_plain": number(vs_replay),
            "console_page_p99_ms": number(console_p99),
            "runs": lines,
            "machine": machine,
        });
        if let Some(object) = document.as_object_mut() {
            object.extend(rush_keys);
            object.extend(startup_fields);
        }
        std::fs::write(path, serde_json::to_string_pretty(&document)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
