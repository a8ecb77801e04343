//! The `voucher-ledger` command line: serve, verify, replay, export, migrate-store, backup, demo, sample,
//! token, calendar, keygen, proof, check-proof, check-consistency (the longer bodies live in `api::cli`).

/// mimalloc rather than the system allocator: the read models are millions of small allocations, which
/// start-up and replay build all at once, and mimalloc allocates them faster (replay 1.18x to 1.34x, start-up
/// from a snapshot about a tenth less: BENCHMARKS.md). Resident memory at scale is about the same (within 3 %
/// either way at 1.1 M and 10 M events), plus a fixed 25 to 30 MB that shows only on small ledgers.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use api::auth::{Authenticator, SECRET_VARIABLE};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use domain::{Actor, CreditCode, Jurisdiction, Role};
use engine::clock::Clock;
use engine::open::StoreSpec;
use engine::replay::{Progress, Until};
use engine::verify::Verdict;

#[derive(Parser)]
#[command(
    name = "voucher-ledger",
    version,
    about = "Event-sourced ledger of the Guiyang / Gui'an enterprise-assistance vouchers"
)]
struct Cli {
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ClockMode {
    System,
    Manual,
}

/// `export --format`.
#[derive(Clone, Copy, ValueEnum)]
enum ExportFormatArg {
    Csv,
    Xlsx,
}

#[derive(Subcommand)]
enum CliCommand {
    /// Run the service (on the embedded store in --data, or on --store).
    Serve {
        /// The embedded store's directory.
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// Another store instead of --data: postgres://user:password@host:port/dbname (the password may come
        /// from PGPASSWORD instead), or kurrentdb://host:2113?tls=false&ledger=NAME (build feature kurrentdb).
        #[arg(long, env = "VOUCHER_LEDGER_STORE", hide_env_values = true, conflicts_with = "data")]
        store: Option<StoreSpec>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// `manual` is test mode: the clock stands still at --now and POST /v1/admin/clock moves it.
        #[arg(long, value_enum, default_value_t = ClockMode::System)]
        clock: ClockMode,
        /// The manual clock's start (RFC 3339), required with --clock manual.
        #[arg(long)]
        now: Option<DateTime<Utc>>,
        /// Without VOUCHER_LEDGER_JWT_SECRET: generate a key and print it (development only: refuses a
        /// --listen address that is not loopback).
        #[arg(long)]
        dev: bool,
        /// A read-only replica: open the store read-only, follow the log into the read models, refuse
        /// commands (405 read_only_replica). For extra API nodes beside the one writer.
        #[arg(long)]
        read_only: bool,
        /// With --clock manual: serve a store whose last record was recorded after --now (refused by
        /// default: such a store holds records of the system clock or of a later manual clock).
        #[arg(long)]
        allow_clock_behind_records: bool,
        #[command(flatten)]
        edge: EdgeArgs,
        #[command(flatten)]
        jwt: JwtArgs,
        #[command(flatten)]
        signing: api::cli::transparency::SigningArgs,
    },
    /// Verify the hash chain and the invariants of a ledger, offline (exit 0 when intact, 1 when broken,
    /// 2 when intact but recovery has quarantined bytes, unless --accept-quarantine).
    Verify {
        /// The embedded store's directory.
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// Another store instead of --data: postgres://... or kurrentdb://...
        #[arg(long, env = "VOUCHER_LEDGER_STORE", hide_env_values = true, conflicts_with = "data")]
        store: Option<StoreSpec>,
        /// A head kept earlier from GET /v1/log/head, as POSITION:HASH: fail unless the log reaches that
        /// position and its record there has that hash (catches a log cut back or missing its last segment).
        #[arg(long, value_name = "POSITION:HASH")]
        expect_head: Option<engine::verify::ExpectedHead>,
        /// Exit 0 even when DATA/quarantine/ holds bytes recovery cut from the log (they are still listed).
        #[arg(long)]
        accept_quarantine: bool,
        /// A signed checkpoint as GET /v1/checkpoint served it: fail unless the log extends it (holds its size
        /// and has its root at that size), so a log cut back or rewritten since does not pass.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// With --checkpoint: the verifier key its signature is checked with (NAME+<key id>+<base64>).
        #[arg(long, requires = "checkpoint")]
        key: Option<String>,
    },
    /// Rebuild every read model offline from the log (the hash chain verified on the way), up to --to a
    /// position or the end of a business date, and print a summary. Progress goes to stderr.
    Replay {
        /// The embedded store's directory.
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// Another store instead of --data: postgres://... or kurrentdb://...
        #[arg(long, env = "VOUCHER_LEDGER_STORE", hide_env_values = true, conflicts_with = "data")]
        store: Option<StoreSpec>,
        /// Stop after this log position (a number) or at the end of this business date (YYYY-MM-DD).
        #[arg(long)]
        to: Option<Until>,
    },
    /// Write a read model's table as CSV or XLSX (to stdout, or --output), rebuilt offline from the log. The
    /// tables are the joined ones and every registered read model's own: an unknown name is answered with
    /// their list.
    Export {
        /// The table to write.
        projection: String,
        /// The embedded store's directory.
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// Another store instead of --data: postgres://... or kurrentdb://...
        #[arg(long, env = "VOUCHER_LEDGER_STORE", hide_env_values = true, conflicts_with = "data")]
        store: Option<StoreSpec>,
        /// As of this log position (a number) or the end of this business date (YYYY-MM-DD).
        #[arg(long)]
        to: Option<Until>,
        /// Write to this file instead of stdout.
        #[arg(long)]
        output: Option<PathBuf>,
        /// `csv`, or `xlsx`: a workbook with typed cells (amounts as numbers, dates as dates) for Excel/WPS.
        #[arg(long, value_enum, default_value_t = ExportFormatArg::Csv)]
        format: ExportFormatArg,
        /// Start the CSV with a UTF-8 byte-order mark (Excel and WPS on a Chinese Windows read UTF-8 then).
        #[arg(long)]
        bom: bool,
    },
    /// Copy a ledger into an empty store of another backend (same bytes and hashes) and verify the copy.
    MigrateStore {
        /// The source: a data directory, postgres://... or kurrentdb://... (read-only; a server may keep
        /// running on it).
        #[arg(long)]
        from: StoreSpec,
        /// The empty target: postgres://..., kurrentdb://... or a data directory.
        #[arg(long)]
        to: StoreSpec,
    },
    /// Copy the ledger, while it is served, into a file log directory up to a command boundary and verify
    /// the copy; again on the same DEST, copy only what is new after checking DEST is a prefix of the ledger
    /// (a diverged DEST is refused and left as it was). DEST/BACKUP says whether the copy is complete.
    Backup {
        /// The embedded store's directory (read-only: the server keeps running on it).
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// Another store instead of --data: postgres://... or kurrentdb://...
        #[arg(long, env = "VOUCHER_LEDGER_STORE", hide_env_values = true, conflicts_with = "data")]
        store: Option<StoreSpec>,
        /// The backup directory (a file log; created if missing).
        #[arg(long)]
        to: PathBuf,
        /// Records per append while copying (cut at the next command boundary).
        #[arg(long, default_value_t = engine::backup::BATCH_RECORDS, hide = true)]
        batch_records: usize,
    },
    /// Write a realistic program year for both jurisdictions through the real command pipeline (every
    /// lifecycle path), deterministic from --seed, into an empty store; then print a summary.
    Demo {
        /// The embedded store's directory (must hold no ledger yet).
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// Another store instead of --data: postgres://... or kurrentdb://...
        #[arg(long)]
        store: Option<StoreSpec>,
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        /// Number of applicants (enterprises and project entities).
        #[arg(long, default_value_t = 300)]
        applicants: u32,
        /// Number of providers applying for admission.
        #[arg(long, default_value_t = 40)]
        providers: u32,
    },
    /// Recompute an audit sample offline from the log: a recorded one by --sample-id (and compare), or a new
    /// draw from its inputs.
    Sample {
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// Another store instead of --data: postgres://... or kurrentdb://...
        #[arg(long)]
        store: Option<StoreSpec>,
        /// A recorded sample to recompute and compare.
        #[arg(long, conflicts_with_all = ["jurisdiction", "year", "size", "seed", "as_of_position"])]
        sample_id: Option<uuid::Uuid>,
        #[arg(long, required_unless_present = "sample_id")]
        jurisdiction: Option<Jurisdiction>,
        #[arg(long, required_unless_present = "sample_id")]
        year: Option<i32>,
        #[arg(long, required_unless_present = "sample_id")]
        size: Option<u32>,
        #[arg(long, required_unless_present = "sample_id")]
        seed: Option<String>,
        /// The log position the population is taken at (default: the head).
        #[arg(long)]
        as_of_position: Option<u64>,
    },
    /// Mint a bearer token with the key in VOUCHER_LEDGER_JWT_SECRET.
    Token {
        #[arg(long)]
        role: Role,
        #[arg(long)]
        jurisdiction: Jurisdiction,
        #[arg(long)]
        subject: String,
        #[arg(long)]
        credit_code: Option<String>,
        /// Lifetime in seconds (at most --jwt-max-lifetime-secs).
        #[arg(long, default_value_t = api::auth::LIFETIME_MAX_DEFAULT_SECONDS)]
        ttl_seconds: i64,
        #[command(flatten)]
        jwt: JwtArgs,
    },
    /// Write a checkpoint signing key (mode 0600) and print its verifier key, NAME+<key id>+<base64>.
    Keygen(api::cli::transparency::KeygenArgs),
    /// Write a party's proof bundle offline: its records, each proven against a checkpoint signed here.
    Proof(api::cli::transparency::ProofArgs),
    /// Check a proof bundle offline (signature, inclusion, decoding) and print the history; exit 0 only
    /// when everything checks.
    CheckProof(api::cli::transparency::CheckProofArgs),
    /// Check that a newer signed checkpoint extends an older one (a consistency proof).
    CheckConsistency(api::cli::transparency::CheckConsistencyArgs),
    /// Working-day arithmetic on the shipped holiday calendar.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
}

/// The token rules `serve` checks and `token` mints to.
#[derive(clap::Args)]
struct JwtArgs {
    /// The issuer (`iss`) every token must name; `token` mints it. Without it `iss` is not checked.
    #[arg(long, env = api::auth::ISSUER_VARIABLE)]
    jwt_issuer: Option<String>,
    /// The longest lifetime a token may have (exp - iat, or exp - now without iat), in seconds.
    #[arg(long, default_value_t = api::auth::LIFETIME_MAX_DEFAULT_SECONDS)]
    jwt_max_lifetime_secs: i64,
}

/// `serve`'s limits at the door (see `api::edge`) and where `/metrics` is served.
#[derive(clap::Args)]
struct EdgeArgs {
    /// Seconds a client has to send a request's head; a half-sent request is closed after it.
    #[arg(long, default_value_t = api::edge::HEADER_TIMEOUT_DEFAULT.as_secs())]
    header_timeout_secs: u64,
    /// Seconds a request may take to be answered (body read included; 408 request_timeout after it). The
    /// event feed's stream is not cut by it.
    #[arg(long, default_value_t = api::edge::REQUEST_TIMEOUT_DEFAULT.as_secs())]
    request_timeout_secs: u64,
    /// Connections served at once; each one beyond is answered 503 too_many_connections and closed.
    #[arg(long, default_value_t = api::edge::CONNECTIONS_MAX_DEFAULT)]
    max_connections: usize,
    /// Objections one client address may file per window (429 too_many_objections beyond).
    #[arg(long, default_value_t = api::edge::OBJECTIONS_PER_ADDRESS_DEFAULT)]
    objections_per_address: u32,
    /// The window of --objections-per-address, in seconds.
    #[arg(long, default_value_t = api::edge::OBJECTION_WINDOW_DEFAULT.as_secs())]
    objection_window_secs: u64,
    /// A reverse proxy whose X-Forwarded-For names the client (repeatable); without it the socket's peer is
    /// the client.
    #[arg(long)]
    trusted_proxy: Vec<std::net::IpAddr>,
    /// Serve /metrics on this address only (and no longer on --listen). Without it /metrics stays on --listen.
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
}

impl EdgeArgs {
    fn limits(&self) -> api::edge::EdgeLimits {
        api::edge::EdgeLimits {
            header_timeout: std::time::Duration::from_secs(self.header_timeout_secs.max(1)),
            request_timeout: std::time::Duration::from_secs(self.request_timeout_secs.max(1)),
            connections_max: self.max_connections.max(1),
            objections_per_address: self.objections_per_address,
            objection_window: std::time::Duration::from_secs(self.objection_window_secs.max(1)),
            trusted_proxies: self.trusted_proxy.clone(),
        }
    }
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Print the date on which a period of N working days after DATE ends.
    WorkingDaysAfter { date: NaiveDate, n: u32 },
}

fn main() -> ExitCode {
    api::stdout::end_quietly_when_closed();
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: a log file or a collector gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn run(command: CliCommand) -> anyhow::Result<ExitCode> {
    match command {
        CliCommand::Serve {
            data,
            store,
            listen,
            clock,
            now,
            dev,
            read_only,
            allow_clock_behind_records,
            edge,
            jwt,
            signing,
        } => {
            let clock = match (clock, now) {
                (ClockMode::System, None) => Clock::System,
                (ClockMode::System, Some(_)) => bail!("--now needs --clock manual"),
                (ClockMode::Manual, Some(now)) => engine::clock::manual_within_bounds(now)?,
                (ClockMode::Manual, None) => bail!("--clock manual needs --now RFC3339"),
            };
            if dev && !listen.ip().is_loopback() {
                bail!(
                    "--dev serves with a generated key and is for development on this machine only: it listens on a \
                     loopback address (127.0.0.1 or [::1]), not {listen}"
                );
            }
            let auth = authenticator(dev, &jwt)?;
            let signer = if read_only { None } else { signing.signer(dev)? };
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let store = store.unwrap_or(StoreSpec::File(data));
            // A manual clock may not start behind the log's last record: checked on the store as it is opened
            // for writing (one read of the log), or opened read-only first for a replica.
            let records_not_after = (clock.is_manual() && !allow_clock_behind_records).then(|| clock.now());
            if read_only {
                if let Some(now) = records_not_after {
                    runtime.block_on(engine::open::check_manual_start(&store, now))?;
                }
                runtime.block_on(serve_replica(store, listen, clock, auth, &edge))?;
            } else {
                let start = Start { signer, dev, records_not_after };
                runtime.block_on(serve(store, listen, clock, auth, &edge, start))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        CliCommand::Verify { data, store, expect_head, accept_quarantine, checkpoint, key } => {
            let store = store.unwrap_or(StoreSpec::File(data));
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let verdict = runtime.block_on(engine::verify::verify_store_expecting(&store, expect_head))?;
            if let Some(checkpoint) = checkpoint {
                let check = api::cli::transparency::verify_checkpoint(&store, &checkpoint, key.as_deref());
                if !runtime.block_on(check)? {
                    return Ok(ExitCode::FAILURE);
                }
            }
            let quarantined = engine::verify::quarantined(&store).context("reading the quarantine")?;
            let quarantined_bytes: u64 = quarantined.iter().map(|q| q.bytes).sum();
            for q in &quarantined {
                let frames: Vec<String> =
                    q.frames.iter().map(|(p, h)| format!("{p}:{}", hex::encode(h))).collect();
                println!(
                    "quarantined: {} bytes={} cut_from={} offset={} complete_frames=[{}] damaged_frame_claims_position={}",
                    q.path.display(),
                    q.bytes,
                    q.segment.display(),
                    q.offset,
                    frames.join(","),
                    q.damaged_position.map_or_else(|| "-".into(), |p| p.to_string())
                );
            }
            match verdict {
                Verdict::Intact { records, head_position, head_hash } if !quarantined.is_empty() => {
                    let (word, code) = if accept_quarantine {
                        ("ok", ExitCode::SUCCESS)
                    } else {
                        ("QUARANTINE", ExitCode::from(2))
                    };
                    println!(
                        "verify: {word} records={records} head={head_position} hash={} quarantined={quarantined_bytes} bytes in {} files",
                        hex::encode(head_hash),
                        quarantined.len()
                    );
                    Ok(code)
                }
                Verdict::Intact { records, head_position, head_hash } => {
                    println!(
                        "verify: ok records={records} head={head_position} hash={}",
                        hex::encode(head_hash)
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Verdict::Broken { position, reason } => {
                    println!("verify: FAILED position={position} reason={reason}");
                    Ok(ExitCode::FAILURE)
                }
                Verdict::Violated { records, violations } => {
                    println!("verify: FAILED invariants records={records}");
                    for violation in violations {
                        println!("  {violation}");
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        CliCommand::Replay { data, store, to } => {
            let store = store.unwrap_or(StoreSpec::File(data));
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let replayed = runtime.block_on(replay(&store, to.unwrap_or(Until::Head)))?;
            print_replay_summary(&replayed);
            Ok(ExitCode::SUCCESS)
        }
        CliCommand::Export { projection, data, store, to, output, format, bom } => {
            if !api::views::EXPORTS.iter().any(|(name, _)| *name == projection) {
                let names: Vec<&str> = api::views::EXPORTS.iter().map(|(name, _)| *name).collect();
                bail!("no table {projection:?}: choose one of {}", names.join(", "));
            }
            let store = store.unwrap_or(StoreSpec::File(data));
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let replayed = runtime.block_on(replay(&store, to.unwrap_or(Until::Head)))?;
            let rows = api::views::rows(&replayed.projections, &projection).unwrap_or_default();
            let format = match format {
                ExportFormatArg::Csv => api::export::ExportFormat::Csv,
                ExportFormatArg::Xlsx => api::export::ExportFormat::Xlsx,
            };
            api::export::write_table(&projection, &rows, format, bom, output.as_deref())?;
            eprintln!(
                "export: {projection}: {} rows as of position {}{}",
                rows.len(),
                replayed.projections.position(),
                output.map(|path| format!(" into {}", path.display())).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        CliCommand::Demo { data, store, seed, applicants, providers } => {
            let store = store.unwrap_or(StoreSpec::File(data));
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let options = engine::demo::DemoOptions { seed, applicants, providers };
            let summary = runtime.block_on(async {
                let opened = engine::open::open_store(&store, engine::open::Access::Write).await?;
                anyhow::Ok(engine::demo::run_on(opened.log, options).await?)
            })?;
            println!("demo: wrote {} records into {store} (seed {seed})", summary.head_position);
            println!("  commands accepted={} refused={}", summary.accepted, summary.refused);
            for (event_type, count) in &summary.events_by_type {
                println!("  {event_type:<30} {count}");
            }
            let after: Vec<String> = summary
                .events_after_the_measures
                .iter()
                .map(|(event_type, count)| format!("{event_type}={count}"))
                .collect();
            println!("  after the shipped Measures ended (no successor version): {}", after.join(" "));
            println!("  head hash {}", hex::encode(summary.head_hash));
            println!(
                "try (serve it first: voucher-ledger serve --data DIR, with tokens from voucher-ledger token):"
            );
            for (what, id) in &summary.examples {
                let path = match *what {
                    "voucher" => format!("/v1/vouchers/{id}"),
                    "applicant" => format!("/v1/applicants/{id}"),
                    "contract" => format!("/v1/contracts/{id}"),
                    "redemption" => format!("/v1/redemptions/{id}"),
                    "announcement" => format!("/v1/announcements/{id}"),
                    "sample" => format!("/v1/audits/samples/{id}"),
                    _ => continue,
                };
                println!("  GET http://127.0.0.1:8080{path}");
            }
            println!("  GET http://127.0.0.1:8080/v1/trial-balance/guiyang");
            Ok(ExitCode::SUCCESS)
        }
        CliCommand::Sample { data, store, sample_id, jurisdiction, year, size, seed, as_of_position } => {
            let store = store.unwrap_or(StoreSpec::File(data));
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let draw = runtime.block_on(async {
                let opened = engine::open::open_store(&store, engine::open::Access::ReadOnly).await?;
                let log = opened.log;
                let draw = match (sample_id, jurisdiction, year, size, seed) {
                    (Some(sample_id), ..) => engine::sample::recheck(log.as_ref(), sample_id).await?,
                    (None, Some(jurisdiction), Some(year), Some(size), Some(seed)) => {
                        let as_of = match as_of_position {
                            Some(position) => position,
                            None => log.head().await?.position,
                        };
                        engine::sample::draw(log.as_ref(), jurisdiction, year, size, &seed, as_of).await?
                    }
                    _ => anyhow::bail!("give --sample-id, or --jurisdiction, --year, --size and --seed"),
                };
                anyhow::Ok(draw)
            })?;
            println!(
                "sample: jurisdiction={} year={} size={} seed={:?} as_of_position={} population={}",
                draw.jurisdiction, draw.year, draw.size, draw.seed, draw.as_of_position, draw.population
            );
            for contract_id in &draw.contract_ids {
                println!("{contract_id}");
            }
            match &draw.recorded {
                Some(recorded) if *recorded == draw.contract_ids => {
                    println!("sample: matches the recorded draw");
                    Ok(ExitCode::SUCCESS)
                }
                Some(_) => {
                    println!("sample: DIFFERS from the recorded draw");
                    Ok(ExitCode::FAILURE)
                }
                None => Ok(ExitCode::SUCCESS),
            }
        }
        CliCommand::Backup { data, store, to, batch_records } => {
            api::cli::backup::run(&store.unwrap_or(StoreSpec::File(data)), &to, batch_records)
        }
        CliCommand::MigrateStore { from, to } => {
            if from == to {
                bail!("--from and --to name the same store");
            }
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let report = runtime.block_on(engine::migrate::migrate_store(&from, &to))?;
            println!(
                "migrate-store: copied records={} appends={} from {from} to {to}",
                report.records, report.appends
            );
            println!(
                "verify: ok records={} head={} hash={}",
                report.records,
                report.head.position,
                hex::encode(report.head.hash)
            );
            Ok(ExitCode::SUCCESS)
        }
        CliCommand::Token { role, jurisdiction, subject, credit_code, ttl_seconds, jwt } => {
            let auth = authenticator(false, &jwt)?;
            let credit_code = credit_code.map(|code| CreditCode::parse(&code)).transpose()?;
            let actor = Actor { subject, role, jurisdiction: Some(jurisdiction), credit_code };
            println!("{}", auth.mint(&actor, Utc::now().timestamp(), ttl_seconds)?);
            Ok(ExitCode::SUCCESS)
        }
        CliCommand::Keygen(args) => api::cli::transparency::keygen(args),
        CliCommand::Proof(args) => api::cli::transparency::proof(args),
        CliCommand::CheckProof(args) => api::cli::transparency::check_proof(args),
        CliCommand::CheckConsistency(args) => api::cli::transparency::check_consistency(args),
        CliCommand::Calendar { command: CalendarCommand::WorkingDaysAfter { date, n } } => {
            let calendar = domain::Calendar::shipped();
            println!("{}", calendar.working_days_after(date, n)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Replays the store read-only up to `until`, showing progress on stderr when the run is long (a line at
/// most every second, and the last one when a line was shown).
async fn replay(store: &StoreSpec, until: Until) -> anyhow::Result<engine::replay::Replayed> {
    let opened = engine::open::open_store(store, engine::open::Access::ReadOnly).await?;
    let started = std::time::Instant::now();
    let mut shown = started;
    let mut last: Option<Progress> = None;
    let mut show = |progress: Progress| {
        last = Some(progress);
        if shown.elapsed() >= std::time::Duration::from_secs(1) {
            shown = std::time::Instant::now();
            eprintln!("replay: {} of {} records ({:.0?})", progress.folded, progress.of, started.elapsed());
        }
    };
    let replayed = engine::replay::replay(opened.log.as_ref(), until, &mut show).await?;
    if started.elapsed() >= std::time::Duration::from_secs(1) {
        eprintln!("replay: {} records folded in {:.1?}", replayed.projections.position(), started.elapsed());
    }
    Ok(replayed)
}

fn print_replay_summary(replayed: &engine::replay::Replayed) {
    let projections = &replayed.projections;
    let date = replayed.business_date.map(|date| date.to_string()).unwrap_or_else(|| "-".into());
    println!(
        "replay: ok position={} of head={} business_date={date} hash={}",
        projections.position(),
        replayed.head,
        hex::encode(replayed.hash)
    );
    println!("  read models: {}", projections.names().join(", "));
    let lifecycle = &projections.lifecycle;
    println!(
        "  applicants={} vouchers={} providers={} contracts={} redemptions={} announcements={}",
        projections.applicants.len(),
        projections.balances.voucher_count(),
        lifecycle.providers().len(),
        lifecycle.contracts().len(),
        lifecycle.redemptions().len(),
        lifecycle.announcements().len()
    );
    for jurisdiction in [Jurisdiction::Guiyang, Jurisdiction::Guian] {
        let (accounts, total) = projections.balances.trial_balance(jurisdiction);
        let accounts: Vec<String> =
            accounts.iter().map(|(kind, balance)| format!("{}={balance}", kind.as_str())).collect();
        println!("  trial balance {jurisdiction}: total={total} {}", accounts.join(" "));
    }
    let mut statuses: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
    for redemption in lifecycle.redemptions() {
        *statuses.entry(redemption.status).or_default() += 1;
    }
    let statuses: Vec<String> = statuses.iter().map(|(status, n)| format!("{status}={n}")).collect();
    println!("  redemptions by status: {}", statuses.join(" "));
    let signals = projections.anomalies.signals();
    let mut kinds: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
    for signal in &signals {
        *kinds.entry(signal.kind.as_str()).or_default() += 1;
    }
    let kinds: Vec<String> = kinds.iter().map(|(kind, n)| format!("{kind}={n}")).collect();
    println!("  anomaly signals: {} {}", signals.len(), kinds.join(" "));
    let prior = projections::rankings::PRIOR;
    let ranking = projections.rankings.ranking(None);
    match ranking.first() {
        Some(top) => println!(
            "  rankings: {} rated providers; first {} score={} over {} ratings (prior mean={} weight={})",
            ranking.len(),
            top.provider,
            top.score,
            top.ratings,
            prior.mean,
            prior.weight
        ),
        None => println!("  rankings: no ratings yet"),
    }
}

fn authenticator(dev: bool, jwt: &JwtArgs) -> anyhow::Result<Authenticator> {
    let auth = key_authenticator(dev)?;
    Ok(auth.with_issuer(jwt.jwt_issuer.clone()).with_lifetime_max(jwt.jwt_max_lifetime_secs))
}

fn key_authenticator(dev: bool) -> anyhow::Result<Authenticator> {
    match std::env::var(SECRET_VARIABLE) {
        Ok(secret) => Ok(Authenticator::new(secret.as_bytes())?),
        Err(_) if dev => {
            let secret = hex::encode(rand::random::<[u8; 32]>());
            eprintln!("dev mode: generated JWT key; mint tokens with  export {SECRET_VARIABLE}={secret}");
            Ok(Authenticator::new(secret.as_bytes())?)
        }
        Err(_) => bail!("{SECRET_VARIABLE} is not set (use --dev to generate a key for development)"),
    }
}

/// How `serve` starts its writer: the signing key, development mode, and the manual clock's start to check
/// the log's last record against.
struct Start {
    signer: Option<engine::transparency::Signer>,
    dev: bool,
    records_not_after: Option<DateTime<Utc>>,
}

async fn serve(
    store: StoreSpec,
    listen: SocketAddr,
    clock: Clock,
    auth: Authenticator,
    edge: &EdgeArgs,
    start: Start,
) -> anyhow::Result<()> {
    let Start { signer, dev, records_not_after } = start;
    let ledger = api::server::open_signed(&store, auth, clock, signer, records_not_after).await?;
    if let Some(position) = ledger.recovery.truncated_from_position {
        let kept = ledger.recovery.quarantine.as_ref().map(|q| q.path.display().to_string());
        eprintln!(
            "recovered: cut a torn tail of {} bytes from position {position} (an interrupted append), kept in {}",
            ledger.recovery.truncated_bytes,
            kept.as_deref().unwrap_or("-")
        );
    }
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    let address = listener.local_addr()?;
    let head = ledger.app.shared.head.borrow().position;
    let metrics_listener = match edge.metrics_listen {
        Some(metrics) => {
            let listener = tokio::net::TcpListener::bind(metrics)
                .await
                .with_context(|| format!("listening on {metrics} for /metrics"))?;
            eprintln!("voucher-ledger serving /metrics on http://{}/metrics", listener.local_addr()?);
            Some(listener)
        }
        None => None,
    };
    if dev {
        eprintln!("console: http://{address}/ ; sign in as (dev only, the token is in the fragment):");
        for (role, link) in api::console::dev_links(&ledger.app, &format!("http://{address}")) {
            eprintln!("  {:<15} {link}", role.as_str());
        }
    }
    eprintln!("voucher-ledger listening on http://{address} (store {store}, head {head})");
    let options = api::server::ServeOptions { limits: edge.limits(), metrics_listener };
    api::server::serve_with(listener, ledger.app, options, shutdown_signal()).await?;
    eprintln!("voucher-ledger stopped");
    Ok(())
}

async fn serve_replica(
    store: StoreSpec,
    listen: SocketAddr,
    clock: Clock,
    auth: Authenticator,
    edge: &EdgeArgs,
) -> anyhow::Result<()> {
    if edge.metrics_listen.is_some() {
        bail!("--metrics-listen is served by the writer only; a replica's /metrics stays on --listen");
    }
    let app = api::replica::open(&store, auth, clock).await?;
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    let address = listener.local_addr()?;
    let head = app.shared.head.borrow().position;
    eprintln!("voucher-ledger listening on http://{address} (read-only replica of {store}, head {head})");
    api::replica::serve(listener, app, &edge.limits(), shutdown_signal()).await?;
    eprintln!("voucher-ledger stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
