//! The rush at a batch's opening (issue 19 point 3, BENCHMARKS.md "The rush"): N verified enterprises,
//! each with its own token and `Idempotency-Key`, claim one batch at the instant it opens, over HTTP, from
//! the light generator (`light.rs`, one thread) on `--connections` keep-alive connections opened beforehand.
//!
//! The ledger is set up in-process first (not timed: budget, an earlier batch that brings every tenth
//! enterprise within one voucher of its annual cap, the rush batch with money for half of them, N
//! registrations and verifications), then `voucher-ledger serve` runs on it (release binary, file log) with
//! its manual clock on the batch's opening day, and every claim is sent at once.
//!
//! The baseline is the service a user would otherwise build: a small HTTP server (`rush-baseline-serve`,
//! this binary, axum) that verifies the same JWT and runs one PostgreSQL transaction per claim: the
//! idempotency key looked up, the batch row locked (`SELECT ... FOR UPDATE`) and its money checked, the
//! applicant checked verified, its yearly total locked, checked against the cap and updated, the batch's
//! money decremented and the event inserted. The same generator drives both, with the same connections.
//!
//! Checked after each rush (`issued_ok`): every claim answered (201 or a refusal, no 5xx, no timeout),
//! exactly as many vouchers as the money allows (from the log for the service, the tables for the baseline),
//! no applicant-year over its cap (from the log's `VoucherIssued` events, all of them), and claims decided
//! in the order the service received them: no claim issued that was sent after an exhausted refusal had
//! been answered, and of two issued claims where one was answered before the other was sent, the first
//! holds the lower log position.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use api::auth::Authenticator;
use domain::{ApplicantKind, Balance, Command, CreditCode, Event, Jurisdiction, Role, VerificationDecision};
use engine::workload::{self, Phase, Step, Workload, WorkloadOptions, cny, credit_code, party, staff};
use serde_json::{Value, json};
use store::EventLog as _;
use store::file::FileLog;
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::light;

/// The rush's face value, in fen (200,000.00 yuan).
const FACE_FEN: u64 = 20_000_000;
/// The earlier batch's face value: the enterprise cap (5,000,000.00) less 100,000.00, so that one rush
/// voucher more would exceed the cap.
const EARLIER_FACE_FEN: u64 = 490_000_000;
/// Every `CAPPED_EVERY`-th enterprise holds a voucher of the earlier batch.
const CAPPED_EVERY: usize = 10;

#[derive(clap::Args)]
pub struct RushArgs {
    /// The `voucher-ledger` binary.
    #[arg(long)]
    server: PathBuf,
    /// PostgreSQL for the baseline; without it, the baseline is not run.
    #[arg(long)]
    postgres: Option<String>,
    /// Enterprises claiming (the batch has money for half of them).
    #[arg(long, default_value_t = 20_000)]
    enterprises: usize,
    /// Keep-alive connections of the generator (the server serves 512 at most by default).
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// PostgreSQL connections of the baseline's service (the cluster allows 300).
    #[arg(long, default_value_t = 256)]
    baseline_pool: usize,
    /// An empty or absent directory for the ledger (and the servers' output, beside it).
    #[arg(long)]
    dir: PathBuf,
}

#[derive(clap::Args)]
pub struct BaselineArgs {
    #[arg(long)]
    postgres: String,
    #[arg(long)]
    listen: String,
    #[arg(long, default_value_t = 256)]
    pool: usize,
}

/// The rush's ledger: who claims, and what the batch allows.
struct Setup {
    batch_id: Uuid,
    codes: Vec<CreditCode>,
    capped: Vec<bool>,
    /// Vouchers the rush batch's money allows.
    allowed: usize,
    opening: chrono::DateTime<chrono::Utc>,
}

fn date(text: &str) -> anyhow::Result<chrono::NaiveDate> {
    text.parse().with_context(|| format!("date {text}"))
}

/// The setup as a workload run through the writer in-process (the fastest path; not timed).
fn setup_workload(enterprises: usize) -> anyhow::Result<(Workload, Setup)> {
    let jurisdiction = Jurisdiction::Guiyang;
    let codes: Vec<CreditCode> = (0..enterprises)
        .map(|serial| credit_code("91520100", u32::try_from(serial).unwrap_or(u32::MAX)))
        .collect::<Result<_, _>>()?;
    let capped: Vec<bool> =
        (0..enterprises).map(|serial| serial % CAPPED_EVERY == CAPPED_EVERY - 1).collect();
    let capped_count = capped.iter().filter(|c| **c).count() as u64;
    let allowed = (enterprises / 2).max(1);
    let rush_total = FACE_FEN * allowed as u64;
    let earlier_total = (EARLIER_FACE_FEN * capped_count).max(EARLIER_FACE_FEN);
    let bureau = staff(Role::Bureau, jurisdiction);
    let industries: std::collections::BTreeSet<String> =
        workload::INDUSTRIES.iter().map(|s| (*s).to_owned()).collect();
    let batch = |batch_id, name: &str, total, face, opens: &str| -> anyhow::Result<Command> {
        Ok(Command::PublishBatch {
            batch_id,
            jurisdiction,
            fiscal_year: 2025,
            name: name.to_owned(),
            total: cny(total)?,
            face_value: cny(face)?,
            eligible_kinds: [ApplicantKind::Enterprise].into_iter().collect(),
            eligible_industries: industries.clone(),
            eligible_categories: workload::CATEGORIES.iter().map(|s| (*s).to_owned()).collect(),
            claim_opens: date(opens)?,
            claim_closes: date("2025-06-30")?,
            valid_until: date("2025-12-31")?,
            redemption_days: None,
            max_voucher_share: None,
        })
    };
    let earlier_id = Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0001);
    let batch_id = Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0002);
    let step = |actor: &domain::Actor, command| Step { actor: actor.clone(), command };
    let budget = Command::AppropriateBudget {
        jurisdiction,
        fiscal_year: 2025,
        amount: cny(rush_total + earlier_total)?,
    };
    let mut phases = vec![
        Phase {
            name: "budget",
            date: date("2025-02-10")?,
            chains: vec![vec![step(&staff(Role::Finance, jurisdiction), budget)]],
        },
        Phase {
            name: "batches",
            date: date("2025-02-10")?,
            chains: vec![
                vec![step(
                    &bureau,
                    batch(earlier_id, "earlier", earlier_total, EARLIER_FACE_FEN, "2025-02-10")?,
                )],
                vec![step(&bureau, batch(batch_id, "the rush", rush_total, FACE_FEN, "2025-03-03")?)],
            ],
        },
    ];
    let reviewer = staff(Role::ServiceCenter, jurisdiction);
    let mut chains = Vec::new();
    for (serial, code) in codes.iter().enumerate() {
        let registration = domain::event::Registration {
            credit_code: code.clone(),
            name: format!("抢券企业{serial:05}"),
            kind: ApplicantKind::Enterprise,
            jurisdiction,
            industry: Some(workload::INDUSTRIES[serial % workload::INDUSTRIES.len()].to_owned()),
            project_code: None,
            independent_legal_person: true,
            tax_compliant: true,
        };
        let applicant = party(Role::Enterprise, jurisdiction, code);
        let mut chain = vec![
            step(&applicant, Command::RegisterApplicant { registration }),
            step(
                &reviewer,
                Command::DecideVerification {
                    credit_code: code.clone(),
                    decision: VerificationDecision::Verified,
                    reason: String::new(),
                },
            ),
        ];
        if capped[serial] {
            chain.push(step(
                &applicant,
                Command::ClaimVoucher { batch_id: earlier_id, voucher_id: Uuid::now_v7() },
            ));
        }
        chains.push(chain);
    }
    phases.push(Phase { name: "enterprises", date: date("2025-02-10")?, chains });
    let opening = workload::morning(date("2025-03-03")?);
    let workload = Workload {
        options: WorkloadOptions { seed: 0, applicants: u32::try_from(enterprises)?, providers: 0 },
        phases,
        examples: Default::default(),
        samples: HashMap::new(),
    };
    Ok((workload, Setup { batch_id, codes, capped, allowed, opening }))
}

/// One claim as the generator saw it.
#[derive(Clone)]
struct Outcome {
    sent: Duration,
    answered: Duration,
    status: u16,
    body: Vec<u8>,
}

/// What a rush measured.
struct Rush {
    outcomes: Vec<Outcome>,
    drain: Duration,
    client_cores: f64,
}

/// Sends every request at once over `connections` connections opened beforehand (each connection sends
/// its next request when the last is answered) and records when each was sent and answered.
async fn fire(base: &str, requests: Vec<Vec<u8>>, connections: usize) -> anyhow::Result<Rush> {
    let address = light::address(base)?;
    let mut conns = Vec::new();
    for _ in 0..connections.clamp(1, requests.len().max(1)) {
        conns.push(light::Conn::connect(address).await?);
    }
    let total = requests.len();
    let requests = Arc::new(requests);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let outcomes: Arc<Mutex<Vec<Option<Outcome>>>> = Arc::new(Mutex::new(vec![None; total]));
    let cpu = light::cpu_seconds(None);
    let origin = Instant::now();
    let mut tasks = Vec::new();
    for mut conn in conns {
        let (requests, next, outcomes) = (requests.clone(), next.clone(), outcomes.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(request) = requests.get(index) else { return anyhow::Ok(()) };
                let sent = origin.elapsed();
                let answer = tokio::time::timeout(Duration::from_secs(60), conn.send(request))
                    .await
                    .context("a claim was not answered within 60 s")??;
                let answered = origin.elapsed();
                let outcome = Outcome { sent, answered, status: answer.status, body: answer.body };
                if let Some(slot) = outcomes.lock().unwrap_or_else(|e| e.into_inner()).get_mut(index) {
                    *slot = Some(outcome);
                }
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let wall = origin.elapsed();
    let client_cores = (light::cpu_seconds(None) - cpu) / wall.as_secs_f64().max(f64::EPSILON);
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap_or_else(|e| e.into_inner()));
    let outcomes: Vec<Outcome> = outcomes.into_iter().flatten().collect();
    if outcomes.len() != total {
        bail!("{} of {total} claims answered", outcomes.len());
    }
    let first = outcomes.iter().map(|o| o.sent).min().unwrap_or_default();
    let last = outcomes.iter().map(|o| o.answered).max().unwrap_or_default();
    Ok(Rush { outcomes, drain: last.saturating_sub(first), client_cores })
}

/// The claim requests, one per enterprise, each with its token and idempotency key.
fn requests(setup: &Setup, prefix: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    let auth = Authenticator::new(crate::SECRET.as_bytes())?;
    let now = chrono::Utc::now().timestamp();
    let path = format!("/v1/batches/{}/claims", setup.batch_id);
    setup
        .codes
        .iter()
        .enumerate()
        .map(|(serial, code)| {
            let actor = party(Role::Enterprise, Jurisdiction::Guiyang, code);
            let token = format!("Bearer {}", auth.mint(&actor, now, 3600)?);
            let key = format!("{prefix}-{serial}");
            Ok(light::render("POST", &path, &[("authorization", &token), ("idempotency-key", &key)], b"{}"))
        })
        .collect()
}

/// A claim's decision as answered: issued at a log position, or refused with a code.
enum Decision {
    Issued(u64),
    Refused(String),
}

fn decisions(rush: &Rush) -> anyhow::Result<Vec<Decision>> {
    rush.outcomes
        .iter()
        .map(|outcome| {
            let body: Value = serde_json::from_slice(&outcome.body).unwrap_or(Value::Null);
            match outcome.status {
                201 => Ok(Decision::Issued(body.get("position").and_then(Value::as_u64).unwrap_or(0))),
                400..=499 => {
                    Ok(Decision::Refused(body.get("code").and_then(Value::as_str).unwrap_or("?").to_owned()))
                }
                status => bail!("a claim answered {status}: {}", String::from_utf8_lossy(&outcome.body)),
            }
        })
        .collect()
}

/// The checks of the module's comment that the answers alone allow; `positions` (per claim, the log position
/// of its voucher where one was issued) come from the log or the answers. Each failure is a line of the
/// returned list.
fn check_answers(
    setup: &Setup,
    rush: &Rush,
    decisions: &[Decision],
    positions: &[Option<u64>],
) -> Vec<String> {
    let mut failures = Vec::new();
    let eligible = setup.capped.iter().filter(|c| !**c).count();
    let expected = setup.allowed.min(eligible);
    let issued = decisions.iter().filter(|d| matches!(d, Decision::Issued(_))).count();
    if issued != expected {
        failures.push(format!("{issued} vouchers issued, the money allows {expected}"));
    }
    for (serial, decision) in decisions.iter().enumerate() {
        match decision {
            Decision::Issued(_) if setup.capped[serial] => {
                failures.push(format!("enterprise {serial} was issued a voucher over its cap"));
            }
            Decision::Refused(code) if code != "batch_exhausted" && code != "cap_exceeded" => {
                failures.push(format!("enterprise {serial} was refused {code}"));
            }
            _ => {}
        }
    }
    // No voucher for a claim sent after an exhausted refusal was answered.
    let first_exhausted = decisions
        .iter()
        .zip(&rush.outcomes)
        .filter(|(d, _)| matches!(d, Decision::Refused(code) if code == "batch_exhausted"))
        .map(|(_, o)| o.answered)
        .min();
    if let Some(first_exhausted) = first_exhausted {
        let late = decisions
            .iter()
            .zip(&rush.outcomes)
            .filter(|(d, o)| matches!(d, Decision::Issued(_)) && o.sent > first_exhausted)
            .count();
        if late > 0 {
            failures
                .push(format!("{late} claims issued that were sent after an exhausted refusal was answered"));
        }
    }
    // Issued claims: answered-before-sent implies a lower position.
    let mut issued: Vec<(Duration, Duration, u64)> =
        rush.outcomes.iter().zip(positions).filter_map(|(o, p)| p.map(|p| (o.sent, o.answered, p))).collect();
    if issued.iter().any(|(_, _, p)| *p == 0) {
        failures.push("an issued claim without a log position".into());
    }
    let mut by_answer = issued.clone();
    by_answer.sort_by_key(|(_, answered, _)| *answered);
    issued.sort_by_key(|(sent, _, _)| *sent);
    let (mut before, mut highest, mut disordered) = (0, 0u64, 0usize);
    for (sent, _, position) in &issued {
        while let Some((_, answered, earlier)) = by_answer.get(before)
            && answered < sent
        {
            highest = highest.max(*earlier);
            before += 1;
        }
        if highest >= *position {
            disordered += 1;
        }
    }
    if disordered > 0 {
        failures.push(format!(
            "{disordered} issued claims hold a lower position than a claim answered before they were sent"
        ));
    }
    failures
}

/// Reads the service's log after the rush: the rush batch's vouchers per applicant (their positions), and
/// any applicant-year whose vouchers exceed the cap they were issued under.
async fn read_log(dir: &Path, batch_id: Uuid) -> anyhow::Result<(HashMap<CreditCode, u64>, Vec<String>)> {
    let log = FileLog::open_read_only(dir)?;
    let head = log.head_now().position;
    let mut rush = HashMap::new();
    let mut totals: HashMap<(CreditCode, i32), (Balance, domain::Cny)> = HashMap::new();
    let mut next = 1;
    while next <= head {
        let batch = log.read_batch(next, 4096).await?;
        if batch.is_empty() {
            break;
        }
        for record in &batch {
            let recorded = ledger_proto::decode_record(record)?;
            if let Event::VoucherIssued {
                batch_id: issued_from,
                applicant,
                face_value,
                cap_year,
                annual_cap,
                ..
            } = recorded.event
            {
                if issued_from == batch_id && rush.insert(applicant.clone(), recorded.position).is_some() {
                    bail!("{applicant} holds two vouchers of the rush batch");
                }
                let total = totals.entry((applicant, cap_year)).or_insert((Balance::from_fen(0), annual_cap));
                total.0 = total.0.add(face_value);
                total.1 = annual_cap;
            }
        }
        next += batch.len() as u64;
    }
    let over = totals
        .into_iter()
        .filter(|(_, (issued, cap))| *issued > Balance::from(*cap))
        .map(|((code, year), (issued, cap))| format!("{code} holds {issued} in {year}, over its cap {cap}"))
        .collect();
    Ok((rush, over))
}

fn latency_ms(rush: &Rush, quantile: f64) -> f64 {
    let mut micros: Vec<u32> = rush
        .outcomes
        .iter()
        .map(|o| u32::try_from(o.answered.saturating_sub(o.sent).as_micros()).unwrap_or(u32::MAX))
        .collect();
    micros.sort_unstable();
    f64::from(workload::quantile_of(&micros, quantile)) / 1000.0
}

/// `voucher-bench rush`: the rush against the service, then against the PostgreSQL baseline.
pub fn rush(args: &RushArgs) -> anyhow::Result<Value> {
    let (workload, setup) = setup_workload(args.enterprises)?;
    let started = Instant::now();
    let (report, records) =
        tokio::runtime::Runtime::new()?.block_on(crate::run_in_process(workload, 256, &args.dir, true))?;
    if report.refused_total() > 0 {
        bail!("the rush's setup was refused: {:?}", report.refused);
    }
    eprintln!(
        "rush: {} enterprises registered and verified, {records} records, in {:.1?}",
        args.enterprises,
        started.elapsed()
    );
    let runtime = light::runtime()?;
    let ours = runtime.block_on(rush_service(args, &setup))?;
    let baseline = match &args.postgres {
        Some(url) => Some(runtime.block_on(rush_baseline(args, &setup, url))?),
        None => None,
    };
    let mut line = json!({
        "figure": "rush",
        "enterprises": args.enterprises,
        "connections": args.connections,
        "allowed": setup.allowed,
        "claims_per_s": ours["claims_per_s"],
        "p50_ms": ours["p50_ms"],
        "p99_ms": ours["p99_ms"],
        "drain_s": ours["drain_s"],
        "issued_ok": ours["issued_ok"],
        "client_cores": ours["client_cores"],
        "server_cores": ours["server_cores"],
        "service": ours,
    });
    if let Some(baseline) = baseline {
        line["baseline_claims_per_s"] = baseline["claims_per_s"].clone();
        line["baseline_p99_ms"] = baseline["p99_ms"].clone();
        line["baseline_drain_s"] = baseline["drain_s"].clone();
        line["baseline"] = baseline;
    }
    Ok(line)
}

/// Summarises a rush: rate, latencies, drain, the checks.
fn summary(name: &str, rush: &Rush, failures: &[String], server_cores: f64) -> Value {
    let claims = rush.outcomes.len() as u64;
    let rate = workload::per_second(claims, rush.drain);
    let issued = rush.outcomes.iter().filter(|o| o.status == 201).count();
    eprintln!(
        "rush ({name}): {claims} claims, {issued} issued, drained in {:.3?} ({rate:.0}/s), p50 {:.1} ms, p99 {:.1} ms; \
         cores: client {:.2}, server {server_cores:.2}; checks: {}",
        rush.drain,
        latency_ms(rush, 0.50),
        latency_ms(rush, 0.99),
        rush.client_cores,
        if failures.is_empty() { "held".to_owned() } else { failures.join("; ") }
    );
    json!({
        "claims": claims,
        "issued": issued,
        "claims_per_s": rate,
        "p50_ms": latency_ms(rush, 0.50),
        "p99_ms": latency_ms(rush, 0.99),
        "drain_s": rush.drain.as_secs_f64(),
        "issued_ok": failures.is_empty(),
        "failures": failures,
        "client_cores": rush.client_cores,
        "server_cores": server_cores,
    })
}

async fn rush_service(args: &RushArgs, setup: &Setup) -> anyhow::Result<Value> {
    let requests = requests(setup, "rush")?;
    let output = args.dir.with_extension("rush-server.log");
    let mut server = crate::start_server(&args.server, &args.dir, &setup.opening.to_rfc3339(), &output)?;
    let client = crate::client(1)?;
    let readyz = format!("{}/readyz", server.base);
    crate::wait_ready(&client, &mut server, &readyz).await?;
    let pid = server.child.id();
    let server_cpu = light::cpu_seconds(Some(pid));
    let rush = fire(&server.base, requests, args.connections).await?;
    let server_cores =
        (light::cpu_seconds(Some(pid)) - server_cpu) / rush.drain.as_secs_f64().max(f64::EPSILON);
    drop(server);
    let decisions = decisions(&rush)?;
    let (positions, mut failures) = read_log(&args.dir, setup.batch_id).await?;
    let by_claim: Vec<Option<u64>> = setup.codes.iter().map(|code| positions.get(code).copied()).collect();
    let answered = decisions.iter().filter(|d| matches!(d, Decision::Issued(_))).count();
    if answered != positions.len() {
        failures.push(format!("{answered} claims answered issued, the log holds {}", positions.len()));
    }
    for (decision, position) in decisions.iter().zip(&by_claim) {
        if let (Decision::Issued(answer), Some(position)) = (decision, position)
            && answer != position
        {
            failures.push(format!("a claim answered position {answer}, its voucher is at {position}"));
            break;
        }
    }
    failures.extend(check_answers(setup, &rush, &decisions, &by_claim));
    Ok(summary("service", &rush, &failures, server_cores))
}

// ---- the PostgreSQL baseline ----

const SCHEMA: &str = "
    DROP TABLE IF EXISTS rush_events, rush_applicant_years, rush_applicants, rush_batches;
    CREATE TABLE rush_batches (
        batch_id UUID PRIMARY KEY,
        remaining NUMERIC(20, 2) NOT NULL,
        face_value NUMERIC(20, 2) NOT NULL,
        annual_cap NUMERIC(20, 2) NOT NULL,
        cap_year INT NOT NULL
    );
    CREATE TABLE rush_applicants (credit_code TEXT PRIMARY KEY, verified BOOLEAN NOT NULL);
    CREATE TABLE rush_applicant_years (
        credit_code TEXT NOT NULL,
        year INT NOT NULL,
        issued NUMERIC(20, 2) NOT NULL,
        PRIMARY KEY (credit_code, year)
    );
    CREATE TABLE rush_events (
        global_position BIGSERIAL PRIMARY KEY,
        stream_id TEXT NOT NULL,
        event_id UUID NOT NULL,
        event_type TEXT NOT NULL,
        data JSONB NOT NULL,
        idempotency_key TEXT UNIQUE,
        recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );";

/// The statements of one claim's transaction.
struct Statements {
    replayed: tokio_postgres::Statement,
    lock_batch: tokio_postgres::Statement,
    verified: tokio_postgres::Statement,
    lock_year: tokio_postgres::Statement,
    take_money: tokio_postgres::Statement,
    add_to_year: tokio_postgres::Statement,
    insert_event: tokio_postgres::Statement,
}

async fn prepare(client: &tokio_postgres::Client) -> Result<Statements, tokio_postgres::Error> {
    Ok(Statements {
        replayed: client.prepare("SELECT global_position FROM rush_events WHERE idempotency_key = $1").await?,
        lock_batch: client
            .prepare(
                "SELECT remaining >= face_value, face_value::text, annual_cap::text, cap_year \
                 FROM rush_batches WHERE batch_id = $1::text::uuid FOR UPDATE",
            )
            .await?,
        verified: client.prepare("SELECT verified FROM rush_applicants WHERE credit_code = $1").await?,
        lock_year: client
            .prepare(
                "SELECT issued + $3::text::numeric <= $4::text::numeric FROM rush_applicant_years \
                 WHERE credit_code = $1 AND year = $2 FOR UPDATE",
            )
            .await?,
        take_money: client
            .prepare("UPDATE rush_batches SET remaining = remaining - face_value WHERE batch_id = $1::text::uuid")
            .await?,
        add_to_year: client
            .prepare(
                "INSERT INTO rush_applicant_years (credit_code, year, issued) VALUES ($1, $2, $3::text::numeric) \
                 ON CONFLICT (credit_code, year) DO UPDATE SET issued = rush_applicant_years.issued + EXCLUDED.issued",
            )
            .await?,
        insert_event: client
            .prepare(
                "INSERT INTO rush_events (stream_id, event_id, event_type, data, idempotency_key) \
                 VALUES ($1, $2::text::uuid, 'VoucherIssued', $3::text::jsonb, $4) RETURNING global_position",
            )
            .await?,
    })
}

/// Creates the baseline's tables and fills them as the service's setup filled its log.
async fn seed(url: &str, setup: &Setup) -> anyhow::Result<()> {
    let (client, connection) =
        tokio_postgres::connect(url, tokio_postgres::NoTls).await.context("connecting to PostgreSQL")?;
    tokio::spawn(connection);
    client.batch_execute(SCHEMA).await.context("creating the rush tables")?;
    let remaining = domain::Cny::from_fen(FACE_FEN * setup.allowed as u64)?.to_string();
    client
        .execute(
            "INSERT INTO rush_batches VALUES ($1::text::uuid, $2::text::numeric, $3::text::numeric, '5000000.00', 2025)",
            &[&setup.batch_id.to_string(), &remaining, &domain::Cny::from_fen(FACE_FEN)?.to_string()],
        )
        .await?;
    let codes: Vec<String> = setup.codes.iter().map(ToString::to_string).collect();
    let issued: Vec<String> = setup
        .capped
        .iter()
        .map(|capped| if *capped { "4900000.00".to_owned() } else { "0.00".to_owned() })
        .collect();
    client.execute("INSERT INTO rush_applicants SELECT unnest($1::text[]), true", &[&codes]).await?;
    client
        .execute(
            "INSERT INTO rush_applicant_years SELECT c, 2025, i::numeric FROM unnest($1::text[], $2::text[]) AS t(c, i)",
            &[&codes, &issued],
        )
        .await?;
    client.batch_execute("VACUUM ANALYZE rush_batches, rush_applicants, rush_applicant_years").await?;
    Ok(())
}

async fn rush_baseline(args: &RushArgs, setup: &Setup, url: &str) -> anyhow::Result<Value> {
    seed(url, setup).await?;
    let requests = requests(setup, "rush-baseline")?;
    let port = crate::free_port()?;
    let output = args.dir.with_extension("rush-baseline.log");
    let log = std::fs::File::create(&output)?;
    let child = std::process::Command::new(std::env::current_exe()?)
        .args(["rush-baseline-serve", "--postgres", url, "--listen", &format!("127.0.0.1:{port}")])
        .args(["--pool", &args.baseline_pool.min(args.connections).to_string()])
        .env(api::auth::SECRET_VARIABLE, crate::SECRET)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting the baseline's service")?;
    let mut server = crate::Server { child, base: format!("http://127.0.0.1:{port}") };
    let client = crate::client(1)?;
    let readyz = format!("{}/readyz", server.base);
    crate::wait_ready(&client, &mut server, &readyz).await?;
    let pid = server.child.id();
    let server_cpu = light::cpu_seconds(Some(pid));
    let rush = fire(&server.base, requests, args.connections).await?;
    let server_cores =
        (light::cpu_seconds(Some(pid)) - server_cpu) / rush.drain.as_secs_f64().max(f64::EPSILON);
    drop(server);
    let decisions = decisions(&rush)?;
    let positions: Vec<Option<u64>> = decisions
        .iter()
        .map(|d| match d {
            Decision::Issued(position) => Some(*position),
            Decision::Refused(_) => None,
        })
        .collect();
    let mut failures = check_answers(setup, &rush, &decisions, &positions);
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let stored: i64 = client.query_one("SELECT count(*) FROM rush_events", &[]).await?.get(0);
    let over: i64 = client
        .query_one("SELECT count(*) FROM rush_applicant_years WHERE issued > 5000000.00", &[])
        .await?
        .get(0);
    let issued = positions.iter().flatten().count();
    if usize::try_from(stored)? != issued {
        failures.push(format!("{issued} claims answered issued, the table holds {stored}"));
    }
    if over > 0 {
        failures.push(format!("{over} applicant-years over the cap"));
    }
    client
        .batch_execute("DROP TABLE rush_events, rush_applicant_years, rush_applicants, rush_batches")
        .await?;
    Ok(summary("PostgreSQL baseline", &rush, &failures, server_cores))
}

/// What the baseline's handlers share.
struct Baseline {
    auth: Authenticator,
    pool: Mutex<Vec<(tokio_postgres::Client, Statements)>>,
    permits: Semaphore,
}

type Answer = (axum::http::StatusCode, axum::Json<Value>);

fn problem(status: axum::http::StatusCode, code: &str) -> Answer {
    (status, axum::Json(json!({ "code": code })))
}

/// `voucher-bench rush-baseline-serve`: the PostgreSQL claim service (see the module's comment).
pub fn baseline_serve(args: &BaselineArgs) -> anyhow::Result<()> {
    let secret = std::env::var(api::auth::SECRET_VARIABLE).context("the JWT key")?;
    tokio::runtime::Runtime::new()?.block_on(async {
        let mut pool = Vec::new();
        for _ in 0..args.pool.max(1) {
            let (client, connection) = tokio_postgres::connect(&args.postgres, tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            let statements = prepare(&client).await?;
            pool.push((client, statements));
        }
        let state = Arc::new(Baseline {
            auth: Authenticator::new(secret.as_bytes())?,
            permits: Semaphore::new(pool.len()),
            pool: Mutex::new(pool),
        });
        let router = axum::Router::new()
            .route("/readyz", axum::routing::get(|| async { "ok" }))
            .route("/v1/batches/{batch_id}/claims", axum::routing::post(baseline_claim))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind(&args.listen).await?;
        use axum::serve::ListenerExt as _;
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        axum::serve(listener, router).await?;
        anyhow::Ok(())
    })
}

async fn baseline_claim(
    axum::extract::State(state): axum::extract::State<Arc<Baseline>>,
    axum::extract::Path(batch_id): axum::extract::Path<Uuid>,
    headers: axum::http::HeaderMap,
) -> Answer {
    use axum::http::StatusCode;
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let Ok(actor) = state.auth.verify(token) else {
        return problem(StatusCode::UNAUTHORIZED, "invalid_token");
    };
    let Some(code) = actor.credit_code.map(|code| code.to_string()) else {
        return problem(StatusCode::FORBIDDEN, "forbidden");
    };
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let Ok(_permit) = state.permits.acquire().await else {
        return problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    };
    let Some((mut client, statements)) = state.pool.lock().unwrap_or_else(|e| e.into_inner()).pop() else {
        return problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    };
    let answer = claim_transaction(&mut client, &statements, batch_id, &code, key.as_deref()).await;
    state.pool.lock().unwrap_or_else(|e| e.into_inner()).push((client, statements));
    match answer {
        Ok(answer) => answer,
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({ "code": "unavailable", "detail": error.to_string() })),
        ),
    }
}

async fn claim_transaction(
    client: &mut tokio_postgres::Client,
    s: &Statements,
    batch_id: Uuid,
    code: &str,
    key: Option<&str>,
) -> Result<Answer, tokio_postgres::Error> {
    use axum::http::StatusCode;
    if let Some(key) = key
        && let Some(row) = client.query_opt(&s.replayed, &[&key]).await?
    {
        let position: i64 = row.get(0);
        return Ok((StatusCode::CREATED, axum::Json(json!({ "position": position, "replayed": true }))));
    }
    let transaction = client.transaction().await?;
    let batch = batch_id.to_string();
    let Some(row) = transaction.query_opt(&s.lock_batch, &[&batch]).await? else {
        return Ok(problem(StatusCode::NOT_FOUND, "batch_not_found"));
    };
    let (enough, face, cap, year): (bool, String, String, i32) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    if !enough {
        return Ok(problem(StatusCode::CONFLICT, "batch_exhausted"));
    }
    let verified =
        transaction.query_opt(&s.verified, &[&code]).await?.is_some_and(|row| row.get::<_, bool>(0));
    if !verified {
        return Ok(problem(StatusCode::CONFLICT, "applicant_not_verified"));
    }
    let within = transaction
        .query_opt(&s.lock_year, &[&code, &year, &face, &cap])
        .await?
        .is_none_or(|row| row.get::<_, bool>(0));
    if !within {
        return Ok(problem(StatusCode::CONFLICT, "cap_exceeded"));
    }
    transaction.execute(&s.take_money, &[&batch]).await?;
    transaction.execute(&s.add_to_year, &[&code, &year, &face]).await?;
    let voucher_id = Uuid::now_v7();
    let data = json!({ "voucher_id": voucher_id, "batch_id": batch_id, "applicant": code, "face_value": face,
        "cap_year": year, "annual_cap": cap })
    .to_string();
    let row = transaction
        .query_one(&s.insert_event, &[&format!("voucher-{voucher_id}"), &voucher_id.to_string(), &data, &key])
        .await?;
    transaction.commit().await?;
    let position: i64 = row.get(0);
    Ok((StatusCode::CREATED, axum::Json(json!({ "voucher_id": voucher_id, "position": position }))))
}

/// The rush's rows of the table and its keys of the JSON document, from the `rush` lines.
pub fn figures(
    lines: &std::collections::BTreeMap<String, Vec<Value>>,
) -> (Vec<[String; 4]>, serde_json::Map<String, Value>) {
    let runs = lines.get("rush").cloned().unwrap_or_default();
    let field = |key: &str| -> Vec<f64> {
        runs.iter().filter_map(|run| run.get(key).and_then(Value::as_f64)).collect()
    };
    let med = |key: &str| crate::median(field(key));
    let ratio = crate::median(
        field("claims_per_s")
            .iter()
            .zip(field("baseline_claims_per_s"))
            .filter(|(_, b)| *b > 0.0)
            .map(|(a, b)| a / b)
            .collect(),
    );
    let ok =
        (!runs.is_empty()).then(|| runs.iter().all(|run| run.get("issued_ok") == Some(&Value::Bool(true))));
    let shown = |key: &str| {
        format!("[{}]", field(key).iter().map(|v| crate::grouped(*v)).collect::<Vec<_>>().join(" "))
    };
    let verdict = |met: Option<bool>| match met {
        Some(true) => "met",
        Some(false) => "NOT met",
        None => "-",
    };
    let show = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), crate::grouped);
    let enterprises = med("enterprises").map_or_else(|| "-".to_owned(), crate::grouped);
    let mut rows = vec![
        [
            format!("rush: {enterprises} enterprises claim one batch, claims/s"),
            show(med("claims_per_s")),
            String::new(),
            shown("claims_per_s"),
        ],
        [
            "  latency p50 / p99".into(),
            format!("{:.1} / {:.1} ms", med("p50_ms").unwrap_or(0.0), med("p99_ms").unwrap_or(0.0)),
            String::new(),
            String::new(),
        ],
        [
            "  drain (first claim sent to last answer)".into(),
            med("drain_s").map_or_else(|| "-".to_owned(), |s| format!("{s:.2} s")),
            format!("<= 2 s {}", verdict(med("drain_s").map(|s| s <= 2.0))),
            format!("{:?}", field("drain_s").iter().map(|s| (s * 100.0).round() / 100.0).collect::<Vec<_>>()),
        ],
        [
            "  count, caps and order held".into(),
            ok.map_or_else(|| "-".to_owned(), |ok| ok.to_string()),
            String::new(),
            String::new(),
        ],
        [
            "rush baseline: PostgreSQL, SELECT ... FOR UPDATE per claim".into(),
            show(med("baseline_claims_per_s")),
            String::new(),
            shown("baseline_claims_per_s"),
        ],
        [
            "  ratio rush / baseline".into(),
            ratio.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x")),
            format!(">= 10x {}", verdict(ratio.map(|r| r >= 10.0))),
            String::new(),
        ],
    ];
    let light = lines.get("http_light").cloned().unwrap_or_default();
    let light_field = |key: &str| -> Vec<f64> {
        light.iter().filter_map(|run| run.get(key).and_then(Value::as_f64)).collect()
    };
    let light_ratio = crate::median(
        light_field("commands_per_s")
            .iter()
            .zip(light_field("noop_per_s"))
            .filter(|(_, b)| *b > 0.0)
            .map(|(a, b)| a / b)
            .collect(),
    );
    let commands_light = crate::median(light_field("commands_per_s"));
    let noop_light = crate::median(light_field("noop_per_s"));
    let client_cores = crate::median(light_field("client_cores"));
    rows.push([
        "commands/s over HTTP, light generator (1 thread)".into(),
        show(commands_light),
        String::new(),
        format!(
            "[{}]",
            light_field("commands_per_s").iter().map(|v| crate::grouped(*v)).collect::<Vec<_>>().join(" ")
        ),
    ]);
    rows.push([
        "no-op GET /healthz/s, light generator".into(),
        show(noop_light),
        String::new(),
        String::new(),
    ]);
    rows.push([
        "  ratio HTTP commands / no-op, light generator".into(),
        light_ratio.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x")),
        format!(">= 0.6x {}", verdict(light_ratio.map(|r| r >= 0.6))),
        format!("generator used {:.2} cores", client_cores.unwrap_or(0.0)),
    ]);
    let number = |v: Option<f64>| v.map_or(Value::Null, |v| json!(v));
    let mut keys = serde_json::Map::new();
    keys.insert("rush_claims_per_s".into(), number(med("claims_per_s")));
    keys.insert("rush_baseline_claims_per_s".into(), number(med("baseline_claims_per_s")));
    keys.insert("rush_p50_ms".into(), number(med("p50_ms")));
    keys.insert("rush_p99_ms".into(), number(med("p99_ms")));
    keys.insert("rush_drain_s".into(), number(med("drain_s")));
    keys.insert("rush_issued_ok".into(), ok.map_or(Value::Null, Value::Bool));
    keys.insert("ratio_rush_to_baseline".into(), number(ratio));
    keys.insert("rush_client_cores".into(), number(med("client_cores")));
    keys.insert("commands_per_s_http_light".into(), number(commands_light));
    keys.insert("noop_per_s_http_light".into(), number(noop_light));
    keys.insert("ratio_http_light_to_noop".into(), number(light_ratio));
    keys.insert("http_light_client_cores".into(), number(client_cores));
    (rows, keys)
}
