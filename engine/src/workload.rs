//! A deterministic program year of any size, as commands: the workload of `voucher-ledger demo` and of the
//! benchmarks (`scripts/bench.sh`, `bench/src/main.rs`).
//!
//! [`generate`] turns a seed and a size into [`Phase`]s of independent [`Chain`]s of commands (budgets and
//! batches, applicants registering and verified, providers applying, approved and admitted, claims,
//! contracts, completions, ratings, redemptions and their review, announcements, objections, denials,
//! disbursements, audit samples, findings, clawbacks, suspensions, referrals), with the proportions of the
//! demo's program year. It crosses the end of the shipped Measures (2025-12-31, no successor): redemptions
//! approved on 2025-12-30 are announced and paid in January 2026, and filed contracts of expired vouchers are
//! cancelled (their money goes back to the budget). It produces commands, never events: whoever runs it goes through the real `decide`
//! and the real log. Within a phase the chains are independent of one another, so any number of
//! submitters may run them concurrently; the commands of one chain depend on the ones before them and run
//! in order. Between phases the clock moves (09:00 Shanghai time on the phase's date) and the scheduler
//! records what fell due (admissions, announcement closes, expiry, lapsed redemption windows).
//!
//! The generator predicts the outcome of every command it writes (which redemptions are approved, which
//! contracts an audit draws), so a run of the workload is accepted command for command; ids are drawn from
//! the seeded generator, so the same seed gives the same commands. Over HTTP the service assigns its own ids:
//! [`created_id`] names the answer field that carries the id a command created, and [`http_request`]
//! renders a command with a mapping from the workload's ids to the service's.

// Amounts here are in fen and written `yuan_fen` (e.g. `200_000_00` is 200,000.00 CNY) so they read as money.
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::document::{Document, Sha256Hex};
use domain::event::{DenialGround, Finding, ObjectionTarget, Registration, ReviewOutcome, Ruling};
use domain::{Actor, ApplicantKind, Cny, Command, CreditCode, Jurisdiction, Role, VerificationDecision};
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::clock::Clock;
use crate::writer::{WriteError, WriterHandle};

/// The seven eligible industries of the Measures (art. 6).
pub const INDUSTRIES: [&str; 7] = [
    "advanced_equipment",
    "new_energy_vehicles",
    "electronic_information",
    "phosphorus_chemical",
    "aluminum",
    "health_medicine",
    "ecological_food",
];

/// Service categories the workload's batches pay for.
pub const CATEGORIES: [&str; 8] = [
    "technology_innovation",
    "industrial_design",
    "inspection_testing",
    "system_certification",
    "standardization_consulting",
    "digital_empowerment",
    "management_consulting",
    "talent_services",
];

/// Applicants of the demo's program year (scale 1).
pub const APPLICANTS_PER_SCALE: f64 = 300.0;
/// Providers of the demo's program year (scale 1).
pub const PROVIDERS_PER_SCALE: f64 = 40.0;
/// Redemptions on one announcement list at most.
const ANNOUNCEMENT_ITEMS_MAX: usize = 200;
/// Of every this many announced redemptions, the first is objected to and struck, the second objected to in
/// vain, the third and fourth denied for fraud (the demo's 2 + 2 of about 150).
const REDEMPTION_INCIDENT_PERIOD: usize = 150;
/// Of every this many disbursed redemptions (approved in full), one is partly clawed back.
const CLAWBACK_PERIOD: usize = 150;
/// Of every this many admitted providers, one has its admission objected to in vain and the next one
/// successfully; and the last of every this many is suspended and referred.
const PROVIDER_INCIDENT_PERIOD: usize = 40;
/// Of every this many filed contracts, the first is completed only in late December 2025 (its redemption
/// approved on 2025-12-30, announced and paid in January 2026 under no successor version), and the second stays
/// filed until its voucher expires and is cancelled in January 2026 (the commitment returns to the budget).
const YEAR_END_PERIOD: usize = 25;
/// Contracts an audit draws per jurisdiction at scale 1.
const SAMPLE_SIZE: f64 = 12.0;
/// The largest sample the domain accepts.
const SAMPLE_SIZE_MAX: u32 = 10_000;

/// The size and seed of a program year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkloadOptions {
    pub seed: u64,
    pub applicants: u32,
    pub providers: u32,
}

impl Default for WorkloadOptions {
    fn default() -> Self {
        WorkloadOptions::scaled(2025, 1.0)
    }
}

impl WorkloadOptions {
    /// The demo's program year times `scale` (300 applicants and 40 providers at scale 1; at least one each).
    pub fn scaled(seed: u64, scale: f64) -> WorkloadOptions {
        let count = |per_scale: f64| {
            let scaled = (per_scale * scale.max(0.0)).round();
            if scaled >= f64::from(u32::MAX) { u32::MAX } else { (scaled as u32).max(1) }
        };
        WorkloadOptions {
            seed,
            applicants: count(APPLICANTS_PER_SCALE),
            providers: count(PROVIDERS_PER_SCALE),
        }
    }

    /// How many times the demo's program year this is (money and samples grow with it, never below 1).
    fn factor(&self) -> u64 {
        (u64::from(self.applicants)).div_ceil(APPLICANTS_PER_SCALE as u64).max(1)
    }
}

/// One command and who sends it.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub actor: Actor,
    pub command: Command,
}

/// Commands that run in order, each after the answer to the one before.
pub type Chain = Vec<Step>;

/// A stretch of the program year: the clock is set to 09:00 of `date`, the scheduler runs, then the chains
/// run (concurrently with one another).
#[derive(Clone, Debug, PartialEq)]
pub struct Phase {
    pub name: &'static str,
    pub date: NaiveDate,
    pub chains: Vec<Chain>,
}

/// A generated program year.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub options: WorkloadOptions,
    pub phases: Vec<Phase>,
    /// Ids to look at afterwards: a voucher, an applicant, a contract, a redemption, an announcement, a sample.
    pub examples: BTreeMap<&'static str, String>,
    /// Per audit sample, the contracts the generator expects it to draw, in draw order; the findings on a
    /// sample name them in this order (over HTTP, the n-th finding names the n-th contract drawn).
    pub samples: HashMap<Uuid, Vec<Uuid>>,
}

impl Workload {
    /// Every command of the workload.
    pub fn commands(&self) -> usize {
        self.phases.iter().flat_map(|phase| &phase.chains).map(Vec::len).sum()
    }

    /// Every step in the order of a single submitter.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.phases.iter().flat_map(|phase| &phase.chains).flatten()
    }
}

/// Why a workload could not be generated.
#[derive(Debug, thiserror::Error)]
#[error("workload: {0}")]
pub struct WorkloadError(String);

fn invalid(what: &str, error: impl std::fmt::Display) -> WorkloadError {
    WorkloadError(format!("{what}: {error}"))
}

/// 09:00 in Asia/Shanghai (01:00 UTC) on `date`.
pub fn morning(date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_hms_opt(1, 0, 0).unwrap_or_default();
    Utc.from_utc_datetime(&naive)
}

/// The date the workload starts on (the clock's start when a service runs it).
pub fn start_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 6).unwrap_or_default()
}

/// A staff member of `role` in `jurisdiction`.
pub fn staff(role: Role, jurisdiction: Jurisdiction) -> Actor {
    Actor {
        subject: format!("{role}-{jurisdiction}"),
        role,
        jurisdiction: Some(jurisdiction),
        credit_code: None,
    }
}

/// An applicant or provider acting as its credit code.
pub fn party(role: Role, jurisdiction: Jurisdiction, code: &CreditCode) -> Actor {
    Actor {
        subject: format!("{role}-{code}"),
        role,
        jurisdiction: Some(jurisdiction),
        credit_code: Some(code.clone()),
    }
}

/// Anyone, without a token.
pub fn public() -> Actor {
    Actor { subject: "public".into(), role: Role::Public, jurisdiction: None, credit_code: None }
}

/// A valid credit code: `prefix` region and a serial, with its GB 32100 check character.
///
/// # Errors
/// When `prefix` and the serial do not make 17 valid characters.
pub fn credit_code(prefix: &str, serial: u32) -> Result<CreditCode, WorkloadError> {
    domain::credit_code::with_check_character(&format!("{prefix}{serial:09}"))
        .map_err(|error| invalid("credit code", error))
}

/// A document reference with a digest derived from its name and salt.
pub fn document(name: &str, salt: u64) -> Result<Document, WorkloadError> {
    let digest = hex::encode(Sha256::digest(format!("{name}:{salt}").as_bytes()));
    Ok(Document {
        sha256: Sha256Hex::parse(&digest).map_err(|error| invalid("digest", error))?,
        name: name.to_owned(),
        size_bytes: 40_000 + salt % 100_000,
    })
}

/// The largest appropriation the workload makes in one command (100,000,000,000.00 CNY, a tenth of what one
/// amount may be): larger budgets are appropriated in parts.
const APPROPRIATION_MAX_FEN: u64 = 100_000_000_000_00;

/// An amount in fen.
pub fn cny(fen: u64) -> Result<Cny, WorkloadError> {
    Cny::from_fen(fen).map_err(|error| invalid("amount", error))
}

fn date(text: &str) -> Result<NaiveDate, WorkloadError> {
    text.parse().map_err(|error| invalid(text, error))
}

fn applicant_role(kind: ApplicantKind) -> Role {
    if kind == ApplicantKind::Enterprise { Role::Enterprise } else { Role::ProjectEntity }
}

struct Generator {
    rng: StdRng,
    phases: Vec<Phase>,
    examples: BTreeMap<&'static str, String>,
    samples: HashMap<Uuid, Vec<Uuid>>,
}

impl Generator {
    /// An entity id drawn from the seeded generator, so the same seed gives the same ids.
    fn new_id(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.rng.random()).into_uuid()
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.rng.random_bool(probability)
    }

    fn phase(&mut self, name: &'static str, date: &str, chains: Vec<Chain>) -> Result<(), WorkloadError> {
        let date = self::date(date)?;
        self.phases.push(Phase { name, date, chains });
        Ok(())
    }
}

fn step(actor: &Actor, command: Command) -> Step {
    Step { actor: actor.clone(), command }
}

struct Holder {
    code: CreditCode,
    jurisdiction: Jurisdiction,
    kind: ApplicantKind,
    eligible: bool,
}

struct Provider {
    code: CreditCode,
    jurisdiction: Jurisdiction,
    categories: BTreeSet<String>,
}

struct Contract {
    id: Uuid,
    voucher_fen: u64,
    applicant: Actor,
    provider: Actor,
    jurisdiction: Jurisdiction,
}

/// Generates the program year of `options`.
///
/// # Errors
/// Only for sizes that make invalid identifiers (more than a billion applicants or providers).
pub fn generate(options: WorkloadOptions) -> Result<Workload, WorkloadError> {
    let mut g = Generator {
        rng: StdRng::seed_from_u64(options.seed),
        phases: Vec::new(),
        examples: BTreeMap::new(),
        samples: HashMap::new(),
    };
    let factor = options.factor();
    let both = [Jurisdiction::Guiyang, Jurisdiction::Guian];

    // Budgets (finance), in January.
    let mut chains = Vec::new();
    for (jurisdiction, fen) in
        [(Jurisdiction::Guiyang, 300_000_000_00u64), (Jurisdiction::Guian, 120_000_000_00)]
    {
        // One command's amount is bounded (`Cny`): a large scale's budget is appropriated in parts.
        let mut left = fen * factor;
        let mut chain = Vec::new();
        while left > 0 {
            let part = left.min(APPROPRIATION_MAX_FEN);
            left -= part;
            let command = Command::AppropriateBudget { jurisdiction, fiscal_year: 2025, amount: cny(part)? };
            chain.push(step(&staff(Role::Finance, jurisdiction), command));
        }
        chains.push(chain);
    }
    g.phase("budgets", "2025-01-06", chains)?;

    // Batches (bureau) and applicants registering and being verified (February); a few are rejected.
    let mut chains = Vec::new();
    let mut batches: BTreeMap<(Jurisdiction, ApplicantKind), (Uuid, u64)> = BTreeMap::new();
    for jurisdiction in both {
        for (kind, total, face) in [
            (ApplicantKind::Enterprise, 60_000_000_00u64, 200_000_00u64),
            (ApplicantKind::ProjectEntity, 5_000_000_00, 50_000_00),
        ] {
            let batch_id = g.new_id();
            let command = Command::PublishBatch {
                batch_id,
                jurisdiction,
                fiscal_year: 2025,
                name: format!("2025 {kind} vouchers, {jurisdiction}"),
                total: cny(total * factor)?,
                face_value: cny(face)?,
                eligible_kinds: [kind].into_iter().collect(),
                eligible_industries: INDUSTRIES.iter().map(|s| (*s).to_owned()).collect(),
                eligible_categories: CATEGORIES.iter().map(|s| (*s).to_owned()).collect(),
                claim_opens: date("2025-03-01")?,
                claim_closes: date("2025-06-30")?,
                valid_until: date("2025-12-31")?,
                redemption_days: None,
                max_voucher_share: Some(domain::Share::parse("0.8").unwrap_or(domain::Share::FULL)),
            };
            chains.push(vec![step(&staff(Role::Bureau, jurisdiction), command)]);
            batches.insert((jurisdiction, kind), (batch_id, face));
        }
    }
    let mut holders = Vec::new();
    for serial in 0..options.applicants {
        let jurisdiction = if g.chance(0.6) { Jurisdiction::Guiyang } else { Jurisdiction::Guian };
        let kind = if g.chance(0.15) { ApplicantKind::ProjectEntity } else { ApplicantKind::Enterprise };
        let code = credit_code("91520100", serial)?;
        let industry = INDUSTRIES[g.rng.random_range(0..INDUSTRIES.len())];
        let tax_compliant = !g.chance(0.02);
        let registration = Registration {
            credit_code: code.clone(),
            name: format!("贵阳贵安示范企业{serial:03}"),
            kind,
            jurisdiction,
            industry: (kind == ApplicantKind::Enterprise).then(|| industry.to_owned()),
            project_code: (kind == ApplicantKind::ProjectEntity).then(|| format!("2025-520100-{serial:06}")),
            independent_legal_person: true,
            tax_compliant,
        };
        let applicant = party(applicant_role(kind), jurisdiction, &code);
        let rejected = g.chance(0.04);
        let decision = if rejected { VerificationDecision::Rejected } else { VerificationDecision::Verified };
        let reviewer = if jurisdiction == Jurisdiction::Guian && g.chance(0.3) {
            staff(Role::Bureau, jurisdiction)
        } else {
            staff(Role::ServiceCenter, jurisdiction)
        };
        let reason =
            if rejected { "tax registration not in Guiyang or Gui'an".to_owned() } else { String::new() };
        chains.push(vec![
            step(&applicant, Command::RegisterApplicant { registration }),
            step(&reviewer, Command::DecideVerification { credit_code: code.clone(), decision, reason }),
        ]);
        if !rejected {
            // A holder that is not tax compliant would be refused a voucher: it does not claim one.
            holders.push(Holder { code, jurisdiction, kind, eligible: tax_compliant });
        }
    }
    g.phase("batches and applicants", "2025-02-10", chains)?;

    // Providers apply and are decided in early March; their admission announcements run 5 working days.
    // Objections during the announcements: one dismissed, the next one upheld (that provider is not admitted).
    let mut chains = Vec::new();
    let mut providers = Vec::new();
    let mut approved = 0usize;
    for serial in 0..options.providers {
        let jurisdiction = if g.chance(0.65) { Jurisdiction::Guiyang } else { Jurisdiction::Guian };
        let code = credit_code("52520100", serial)?;
        let count = g.rng.random_range(1..=3);
        let categories: BTreeSet<String> =
            (0..count).map(|_| CATEGORIES[g.rng.random_range(0..CATEGORIES.len())].to_owned()).collect();
        let applicant = party(Role::Provider, jurisdiction, &code);
        let bureau = staff(Role::Bureau, jurisdiction);
        let command = Command::ApplyAsProvider {
            name: format!("贵州示范服务机构{serial:02}"),
            categories: categories.clone(),
            qualifications: vec![document("qualification.pdf", u64::from(serial))?],
            contact: format!("0851-8{serial:06}"),
        };
        let approve = serial % 17 != 16;
        let reason = if approve { String::new() } else { "qualification documents incomplete".into() };
        let mut chain = vec![
            step(&applicant, command),
            step(&bureau, Command::DecideProvider { provider: code.clone(), approve, reason }),
        ];
        let mut admitted = approve;
        if approve {
            let incident = approved % PROVIDER_INCIDENT_PERIOD;
            approved += 1;
            if incident < 2 {
                let ruling = if incident == 0 { Ruling::Dismissed } else { Ruling::Upheld };
                let objection_id = g.new_id();
                let target = ObjectionTarget::Provider { provider: code.clone() };
                chain.push(step(
                    &public(),
                    Command::FileObjection { objection_id, target, text: "资质证书疑似过期".into() },
                ));
                chain.push(step(
                    &bureau,
                    Command::RuleOnObjection { objection_id, ruling, reason: "核查结论".into() },
                ));
                admitted = ruling == Ruling::Dismissed;
            }
        }
        chains.push(chain);
        if admitted {
            providers.push(Provider { code, jurisdiction, categories });
        }
    }
    g.phase("providers", "2025-03-03", chains)?;
    // The announcements have closed: the scheduler admits the providers.
    g.phase("admissions", "2025-03-12", Vec::new())?;

    // Claims in March.
    let mut chains = Vec::new();
    let mut vouchers: Vec<(usize, Uuid, u64)> = Vec::new();
    for (index, holder) in holders.iter().enumerate() {
        let Some((batch_id, face)) = batches.get(&(holder.jurisdiction, holder.kind)).copied() else {
            continue;
        };
        if !holder.eligible {
            continue;
        }
        let voucher_id = g.new_id();
        let actor = party(applicant_role(holder.kind), holder.jurisdiction, &holder.code);
        chains.push(vec![step(&actor, Command::ClaimVoucher { batch_id, voucher_id })]);
        vouchers.push((index, voucher_id, face));
    }
    g.phase("claims", "2025-03-17", chains)?;

    // Contracts in April: submitted by the provider, signed by the applicant, filed (a few are refused filing,
    // a few cancelled after filing).
    let mut chains = Vec::new();
    let mut contracts: Vec<Contract> = Vec::new();
    for &(index, voucher_id, face) in &vouchers {
        if providers.is_empty() || !g.chance(0.75) {
            continue;
        }
        let holder = &holders[index];
        let provider = &providers[g.rng.random_range(0..providers.len())];
        let Some(category) = provider.categories.iter().next().cloned() else { continue };
        let voucher_fen = face * g.rng.random_range(40..=100) / 100;
        let total_fen = voucher_fen * 5 / 4 + g.rng.random_range(0..50_000_00);
        let contract_id = g.new_id();
        let command = Command::SubmitContract {
            contract_id,
            voucher_id,
            provider: provider.code.clone(),
            category,
            description: "检验检测与认证咨询服务".into(),
            term_start: date("2025-04-10")?,
            term_end: date("2025-06-30")?,
            total: cny(total_fen)?,
            voucher_amount: cny(voucher_fen)?,
            document_sha256: document("contract.pdf", contracts.len() as u64)?.sha256,
        };
        let provider_actor = party(Role::Provider, provider.jurisdiction, &provider.code);
        let applicant = party(applicant_role(holder.kind), holder.jurisdiction, &holder.code);
        let filer = staff(Role::ServiceCenter, holder.jurisdiction);
        let mut chain =
            vec![step(&provider_actor, command), step(&applicant, Command::SignContract { contract_id })];
        if g.chance(0.03) {
            chain.push(step(
                &filer,
                Command::RejectContract { contract_id, reason: "合同金额与服务内容不符".into() },
            ));
            chains.push(chain);
            continue;
        }
        chain.push(step(&filer, Command::FileContract { contract_id }));
        if g.chance(0.03) {
            chain.push(step(
                &applicant,
                Command::CancelContract { contract_id, reason: "服务需求变更".into() },
            ));
            chains.push(chain);
            continue;
        }
        chains.push(chain);
        contracts.push(Contract {
            id: contract_id,
            voucher_fen,
            applicant,
            provider: provider_actor,
            jurisdiction: holder.jurisdiction,
        });
    }
    g.phase("contracts", "2025-04-07", chains)?;
    if let Some(contract) = contracts.first() {
        g.examples.insert("contract", contract.id.to_string());
    }
    if let Some(&(index, voucher_id, _)) = vouchers.first() {
        g.examples.insert("voucher", voucher_id.to_string());
        g.examples.insert("applicant", holders[index].code.to_string());
    }

    // Services completed in June and rated; redemptions requested and reviewed.
    let mut chains = Vec::new();
    // Approved redemptions per jurisdiction, with the amount approved in full (none when reduced).
    let mut approved_redemptions: BTreeMap<Jurisdiction, Vec<(Uuid, Option<u64>)>> = BTreeMap::new();
    let mut year_end: Vec<&Contract> = Vec::new();
    let mut cancelled_after_expiry: Vec<&Contract> = Vec::new();
    for (n, contract) in contracts.iter().enumerate() {
        match n % YEAR_END_PERIOD {
            0 => {
                year_end.push(contract);
                continue;
            }
            1 => {
                cancelled_after_expiry.push(contract);
                continue;
            }
            _ => {}
        }
        if !g.chance(0.92) {
            continue;
        }
        let contract_id = contract.id;
        let mut chain = vec![step(&contract.applicant, Command::ConfirmCompletion { contract_id })];
        if g.chance(0.8) {
            let rating = Command::RateService {
                contract_id,
                quality: g.rng.random_range(3..=5),
                timeliness: g.rng.random_range(2..=5),
                professionalism: g.rng.random_range(3..=5),
                text: "服务规范，报告及时".into(),
            };
            chain.push(step(&contract.applicant, rating));
        }
        if !g.chance(0.88) {
            chains.push(chain); // left unredeemed: the window lapses in August
            continue;
        }
        let redemption_id = g.new_id();
        let salt = n as u64;
        chain.push(step(
            &contract.provider,
            Command::RequestRedemption {
                redemption_id,
                contract_id,
                invoice: document("invoice.pdf", salt)?,
                remittance_proof: document("remittance.pdf", salt)?,
                results: vec![document("service-report.pdf", salt)?],
            },
        ));
        let roll: f64 = g.rng.random();
        let (outcome, approved) = if roll < 0.85 {
            (ReviewOutcome::Full, Some(Some(contract.voucher_fen)))
        } else if roll < 0.95 {
            let outcome = ReviewOutcome::Reduced {
                approved: cny(1_000_00)?,
                reason: "部分服务成果未提交".into(),
            };
            (outcome, Some(None))
        } else {
            (ReviewOutcome::Rejected { reason: "发票与合同不符".into() }, None)
        };
        chain.push(step(
            &staff(Role::Reviewer, contract.jurisdiction),
            Command::ReviewRedemption { redemption_id, outcome },
        ));
        chains.push(chain);
        if let Some(full) = approved {
            approved_redemptions.entry(contract.jurisdiction).or_default().push((redemption_id, full));
        }
    }
    g.phase("completions and redemptions", "2025-06-16", chains)?;

    // Announcement lists on 2025-09-30 (they run past the National Day holidays, to 2025-10-14).
    let mut chains = Vec::new();
    let mut announced: Vec<(Uuid, Option<u64>, Jurisdiction)> = Vec::new();
    for (jurisdiction, items) in &approved_redemptions {
        for list in items.chunks(ANNOUNCEMENT_ITEMS_MAX) {
            let announcement_id = g.new_id();
            let command = Command::AnnounceRedemptions {
                announcement_id,
                jurisdiction: *jurisdiction,
                redemption_ids: list.iter().map(|(id, _)| *id).collect(),
            };
            chains.push(vec![step(&staff(Role::Bureau, *jurisdiction), command)]);
            g.examples.entry("announcement").or_insert_with(|| announcement_id.to_string());
            announced.extend(list.iter().map(|(id, full)| (*id, *full, *jurisdiction)));
        }
    }
    g.phase("announcements", "2025-09-30", chains)?;

    // Objections during the lists (one upheld, one dismissed) and denials for fraud.
    let mut chains = Vec::new();
    let mut payable = Vec::new();
    for (index, &(redemption_id, full, jurisdiction)) in announced.iter().enumerate() {
        let bureau = staff(Role::Bureau, jurisdiction);
        match index % REDEMPTION_INCIDENT_PERIOD {
            incident @ (0 | 1) => {
                let ruling = if incident == 0 { Ruling::Upheld } else { Ruling::Dismissed };
                let objection_id = g.new_id();
                let target = ObjectionTarget::Redemption { redemption_id };
                chains.push(vec![
                    step(
                        &public(),
                        Command::FileObjection {
                            objection_id, target, text: "该服务未实际开展".into()
                        },
                    ),
                    step(
                        &bureau,
                        Command::RuleOnObjection { objection_id, ruling, reason: "现场核查".into() },
                    ),
                ]);
                if ruling == Ruling::Dismissed {
                    payable.push((redemption_id, full, jurisdiction));
                }
            }
            2 | 3 => {
                let command = Command::DenyRedemption {
                    redemption_id,
                    ground: DenialGround::Fraud,
                    reason: "虚开发票".into(),
                };
                chains.push(vec![step(&bureau, command)]);
            }
            _ => payable.push((redemption_id, full, jurisdiction)),
        }
    }
    g.phase("objections and denials", "2025-10-09", chains)?;

    // After the close, the bureau of each voucher's jurisdiction disburses what is payable.
    let mut chains = Vec::new();
    for (n, &(redemption_id, _, jurisdiction)) in payable.iter().enumerate() {
        let command = Command::DisburseRedemption {
            redemption_id,
            payment_reference: format!("{}-2025-{n:05}", jurisdiction.as_str().to_uppercase()),
        };
        chains.push(vec![step(&staff(Role::Bureau, jurisdiction), command)]);
    }
    g.phase("disbursements", "2025-10-15", chains)?;
    if let Some((redemption_id, ..)) = payable.first() {
        g.examples.insert("redemption", redemption_id.to_string());
    }

    // The end of the Measures (2025-12-31, no successor version): services completed and redemptions
    // requested in late December, approved on 2025-12-30, announced on 2026-01-05 and paid after the list
    // closes; and contracts left filed until their vouchers expired, cancelled in January.
    let mut chains = Vec::new();
    let mut year_end_redemptions: Vec<(Uuid, &Contract)> = Vec::new();
    for (n, contract) in year_end.iter().enumerate() {
        let contract_id = contract.id;
        let redemption_id = g.new_id();
        let salt = (contracts.len() + n) as u64;
        chains.push(vec![
            step(&contract.applicant, Command::ConfirmCompletion { contract_id }),
            step(
                &contract.provider,
                Command::RequestRedemption {
                    redemption_id,
                    contract_id,
                    invoice: document("invoice.pdf", salt)?,
                    remittance_proof: document("remittance.pdf", salt)?,
                    results: vec![document("service-report.pdf", salt)?],
                },
            ),
        ]);
        year_end_redemptions.push((redemption_id, contract));
    }
    g.phase("year-end completions", "2025-12-22", chains)?;
    let chains = year_end_redemptions
        .iter()
        .map(|(redemption_id, contract)| {
            let review =
                Command::ReviewRedemption { redemption_id: *redemption_id, outcome: ReviewOutcome::Full };
            vec![step(&staff(Role::Reviewer, contract.jurisdiction), review)]
        })
        .collect();
    g.phase("year-end reviews", "2025-12-30", chains)?;
    let mut chains = Vec::new();
    for jurisdiction in both {
        let items: Vec<Uuid> = year_end_redemptions
            .iter()
            .filter(|(_, contract)| contract.jurisdiction == jurisdiction)
            .map(|(id, _)| *id)
            .collect();
        for list in items.chunks(ANNOUNCEMENT_ITEMS_MAX) {
            let command = Command::AnnounceRedemptions {
                announcement_id: g.new_id(),
                jurisdiction,
                redemption_ids: list.to_vec(),
            };
            chains.push(vec![step(&staff(Role::Bureau, jurisdiction), command)]);
        }
    }
    for contract in &cancelled_after_expiry {
        let cancel = Command::CancelContract {
            contract_id: contract.id,
            reason: "服务未能在有效期内开展".into(),
        };
        chains.push(vec![step(&contract.applicant, cancel)]);
    }
    g.phase("after the Measures", "2026-01-05", chains)?;
    let chains = year_end_redemptions
        .iter()
        .enumerate()
        .map(|(n, (redemption_id, contract))| {
            let command = Command::DisburseRedemption {
                redemption_id: *redemption_id,
                payment_reference: format!("{}-2026-{n:05}", contract.jurisdiction.as_str().to_uppercase()),
            };
            vec![step(&staff(Role::Bureau, contract.jurisdiction), command)]
        })
        .collect();
    g.phase("January disbursements", "2026-01-13", chains)?;

    // The next year: vouchers have expired and lapsed windows returned (scheduler); an audit draws a sample of
    // 2025's contracts per jurisdiction and records findings; clawbacks are ordered and partly recovered;
    // providers are suspended and referred.
    let mut chains = Vec::new();
    let size = ((SAMPLE_SIZE * factor as f64) as u32).min(SAMPLE_SIZE_MAX);
    for jurisdiction in both {
        // Each jurisdiction's own auditor (Measures art. 12).
        let auditor = staff(Role::Auditor, jurisdiction);
        let sample_id = g.new_id();
        let seed = format!("audit-2025-{jurisdiction}-{}", options.seed);
        // A cancelled contract is no longer filed, so it is not in the population.
        let mut population: Vec<Uuid> = contracts
            .iter()
            .filter(|c| {
                c.jurisdiction == jurisdiction && !cancelled_after_expiry.iter().any(|x| x.id == c.id)
            })
            .map(|c| c.id)
            .collect();
        population.sort();
        let drawn = domain::decide::draw_sample(&population, &seed, size);
        let mut chain =
            vec![step(&auditor, Command::DrawSample { sample_id, jurisdiction, year: 2025, size, seed })];
        for (n, contract_id) in drawn.iter().enumerate() {
            let finding = if n == 0 { Finding::Irregular } else { Finding::Compliant };
            chain.push(step(
                &auditor,
                Command::RecordFinding {
                    sample_id,
                    contract_id: *contract_id,
                    finding,
                    note: "抽查记录".into(),
                },
            ));
        }
        chains.push(chain);
        g.examples.entry("sample").or_insert_with(|| sample_id.to_string());
        g.samples.insert(sample_id, drawn);
    }
    let full: Vec<(Uuid, Jurisdiction)> = payable
        .iter()
        .filter(|(_, full, _)| full.is_some_and(|fen| fen >= 5_000_00))
        .map(|(id, _, j)| (*id, *j))
        .collect();
    for (redemption_id, jurisdiction) in full.iter().step_by(CLAWBACK_PERIOD) {
        let clawback_id = g.new_id();
        let bureau = staff(Role::Bureau, *jurisdiction);
        chains.push(vec![
            step(
                &bureau,
                Command::OrderClawback {
                    clawback_id,
                    redemption_id: *redemption_id,
                    amount: cny(5_000_00)?,
                    reason: "抽查发现服务成果不实".into(),
                },
            ),
            step(&bureau, Command::RecordRecovery { clawback_id, amount: cny(2_000_00)? }),
        ]);
    }
    for provider in providers.iter().rev().step_by(PROVIDER_INCIDENT_PERIOD) {
        let bureau = staff(Role::Bureau, provider.jurisdiction);
        let suspend = Command::SuspendProvider {
            provider: provider.code.clone(),
            reason: "拒不配合监督检查".into(),
        };
        let referral = Command::RecordReferral {
            referral_id: g.new_id(),
            party: provider.code.clone(),
            authority: "贵阳市公安局经济犯罪侦查支队".into(),
            note: "涉嫌虚开发票".into(),
        };
        chains.push(vec![step(&bureau, suspend), step(&bureau, referral)]);
    }
    g.phase("audits and enforcement", "2026-03-02", chains)?;

    let Generator { phases, examples, samples, .. } = g;
    Ok(Workload { options, phases, examples, samples })
}

/// What running a workload did.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// Commands submitted.
    pub commands: u64,
    /// Commands accepted (durable when answered).
    pub accepted: u64,
    /// Commands refused, by rejection code (or `unavailable`).
    pub refused: BTreeMap<String, u64>,
    /// Events the accepted commands recorded (scheduler events not included).
    pub events: u64,
    /// Time the submitters were running (the scheduler's turns between phases not included).
    pub busy: Duration,
    /// Answer latency of every accepted command, in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// Time the scheduler's turns between phases took.
    pub scheduler: Duration,
}

impl RunReport {
    /// Commands refused in all.
    pub fn refused_total(&self) -> u64 {
        self.refused.values().sum()
    }

    /// Accepted commands per second of `busy` time.
    pub fn commands_per_second(&self) -> f64 {
        per_second(self.accepted, self.busy)
    }

    /// The latency at `quantile` (0 to 1) of the accepted commands, in microseconds.
    pub fn latency_us(&self, quantile: f64) -> u32 {
        quantile_of(&self.latencies_us, quantile)
    }
}

/// `count` per second of `elapsed` (0 for no time).
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 { count as f64 / seconds } else { 0.0 }
}

/// The value at `quantile` (0 to 1) of sorted `values` (nearest rank; 0 when empty).
pub fn quantile_of(values: &[u32], quantile: f64) -> u32 {
    if values.is_empty() {
        return 0;
    }
    let rank = (quantile.clamp(0.0, 1.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// What one chain did.
#[derive(Default)]
struct ChainOutcome {
    accepted: u64,
    events: u64,
    refused: Vec<String>,
    latencies_us: Vec<u32>,
    stopped: Option<String>,
}

/// Runs `workload` through a writer: for each phase, sets `clock` and runs the scheduler, then runs the
/// phase's chains with `submitters` of them in flight at once (1 runs every command in order). Refused
/// commands are counted and the chain goes on; a store failure (`Unavailable`) stops the run.
///
/// # Errors
/// The writer stopped or could not record (the message says why).
pub async fn run(
    workload: Workload,
    writer: &WriterHandle,
    clock: &Clock,
    submitters: usize,
) -> Result<RunReport, WorkloadError> {
    let mut report = RunReport::default();
    for phase in workload.phases {
        let started = Instant::now();
        clock.set(morning(phase.date));
        writer.tick().await.map_err(|error| invalid("scheduler", error))?;
        report.scheduler += started.elapsed();
        let started = Instant::now();
        let mut outcomes = futures::stream::iter(phase.chains)
            .map(|chain| run_chain(writer, chain))
            .buffer_unordered(submitters.max(1));
        while let Some(outcome) = outcomes.next().await {
            if let Some(error) = outcome.stopped {
                return Err(invalid(phase.name, error));
            }
            report.accepted += outcome.accepted;
            report.events += outcome.events;
            report.commands += outcome.accepted + outcome.refused.len() as u64;
            for code in outcome.refused {
                *report.refused.entry(code).or_default() += 1;
            }
            report.latencies_us.extend(outcome.latencies_us);
        }
        report.busy += started.elapsed();
    }
    report.latencies_us.sort_unstable();
    Ok(report)
}

async fn run_chain(writer: &WriterHandle, chain: Chain) -> ChainOutcome {
    let mut outcome = ChainOutcome::default();
    for Step { actor, command } in chain {
        let started = Instant::now();
        match writer.submit(command, actor, None, [0; 32]).await {
            Ok(committed) => {
                let micros = started.elapsed().as_micros();
                outcome.latencies_us.push(u32::try_from(micros).unwrap_or(u32::MAX));
                outcome.accepted += 1;
                outcome.events += committed.events.len() as u64;
            }
            Err(WriteError::Rejected(rejection)) => outcome.refused.push(rejection.code().to_owned()),
            Err(WriteError::IdempotencyKeyReused(_)) => outcome.refused.push("idempotency_key_reused".into()),
            Err(error @ WriteError::Unavailable(_)) => {
                outcome.stopped = Some(error.to_string());
                return outcome;
            }
        }
    }
    outcome
}

/// A command as an HTTP request of the service's API.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    /// The path, e.g. `/v1/contracts/{id}/signature` (every command is a POST).
    pub path: String,
    /// The JSON body.
    pub body: Value,
    /// False for a request sent without a token (objections, by the public).
    pub authenticated: bool,
}

/// The id a command creates and the field of the service's answer that carries the id the service chose:
/// over HTTP the service assigns ids, so later commands must name the service's.
pub fn created_id(command: &Command) -> Option<(Uuid, &'static str)> {
    match command {
        Command::PublishBatch { batch_id, .. } => Some((*batch_id, "batch_id")),
        Command::ClaimVoucher { voucher_id, .. } => Some((*voucher_id, "voucher_id")),
        Command::FileObjection { objection_id, .. } => Some((*objection_id, "objection_id")),
        Command::SubmitContract { contract_id, .. } => Some((*contract_id, "contract_id")),
        Command::RequestRedemption { redemption_id, .. } => Some((*redemption_id, "redemption_id")),
        Command::AnnounceRedemptions { announcement_id, .. } => Some((*announcement_id, "announcement_id")),
        Command::DrawSample { sample_id, .. } => Some((*sample_id, "sample_id")),
        Command::OrderClawback { clawback_id, .. } => Some((*clawback_id, "clawback_id")),
        Command::RecordReferral { referral_id, .. } => Some((*referral_id, "referral_id")),
        _ => None,
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Renders a command of the workload as the HTTP request that makes the service decide it, with every id
/// passed through `id` (the workload's id to the service's). `None` for commands the HTTP API does not take
/// (the scheduler's, policies and calendars are not in a workload).
pub fn http_request(command: &Command, id: &dyn Fn(Uuid) -> Uuid) -> Option<HttpRequest> {
    let post = |path: String, body: Value| Some(HttpRequest { path, body, authenticated: true });
    match command {
        Command::AppropriateBudget { jurisdiction, fiscal_year, amount } => post(
            format!("/v1/budgets/{jurisdiction}/{fiscal_year}/appropriations"),
            json!({ "amount": to_json(amount) }),
        ),
        Command::PublishBatch {
            jurisdiction,
            fiscal_year,
            name,
            total,
            face_value,
            eligible_kinds,
            eligible_industries,
            eligible_categories,
            claim_opens,
            claim_closes,
            valid_until,
            redemption_days,
            max_voucher_share,
            ..
        } => post(
            "/v1/batches".into(),
            json!({
                "jurisdiction": to_json(jurisdiction),
                "fiscal_year": fiscal_year,
                "name": name,
                "total": to_json(total),
                "face_value": to_json(face_value),
                "eligible_kinds": to_json(eligible_kinds),
                "eligible_industries": eligible_industries,
                "eligible_categories": eligible_categories,
                "claim_opens": claim_opens,
                "claim_closes": claim_closes,
                "valid_until": valid_until,
                "redemption_days": redemption_days,
                "max_voucher_share": max_voucher_share.map(|share| to_json(&share)),
            }),
        ),
        Command::RegisterApplicant { registration } => post("/v1/applicants".into(), to_json(registration)),
        Command::DecideVerification { credit_code, decision, reason } => post(
            format!("/v1/applicants/{credit_code}/verification"),
            json!({ "decision": to_json(decision), "reason": reason }),
        ),
        Command::ClaimVoucher { batch_id, .. } => {
            post(format!("/v1/batches/{}/claims", id(*batch_id)), json!({}))
        }
        Command::ApplyAsProvider { name, categories, qualifications, contact } => post(
            "/v1/providers".into(),
            json!({ "name": name, "categories": categories, "qualifications": to_json(qualifications), "contact": contact }),
        ),
        Command::DecideProvider { provider, approve, reason } => post(
            format!("/v1/providers/{provider}/decision"),
            json!({ "decision": if *approve { "approved" } else { "rejected" }, "reason": reason }),
        ),
        Command::SuspendProvider { provider, reason } => {
            post(format!("/v1/providers/{provider}/suspension"), json!({ "reason": reason }))
        }
        Command::FileObjection { target, text, .. } => {
            let target = match target {
                ObjectionTarget::Provider { provider } => {
                    json!({ "kind": "provider", "provider": to_json(provider) })
                }
                ObjectionTarget::Redemption { redemption_id } => {
                    json!({ "kind": "redemption", "redemption_id": id(*redemption_id) })
                }
            };
            Some(HttpRequest {
                path: "/v1/objections".into(),
                body: json!({ "target": target, "text": text }),
                authenticated: false,
            })
        }
        Command::RuleOnObjection { objection_id, ruling, reason } => post(
            format!("/v1/objections/{}/ruling", id(*objection_id)),
            json!({ "ruling": to_json(ruling), "reason": reason }),
        ),
        Command::SubmitContract {
            voucher_id,
            provider,
            category,
            description,
            term_start,
            term_end,
            total,
            voucher_amount,
            document_sha256,
            ..
        } => post(
            "/v1/contracts".into(),
            json!({
                "voucher_id": id(*voucher_id),
                "provider": to_json(provider),
                "category": category,
                "description": description,
                "term_start": term_start,
                "term_end": term_end,
                "total": to_json(total),
                "voucher_amount": to_json(voucher_amount),
                "document_sha256": to_json(document_sha256),
            }),
        ),
        Command::SignContract { contract_id } => {
            post(format!("/v1/contracts/{}/signature", id(*contract_id)), json!({}))
        }
        Command::FileContract { contract_id } => {
            post(format!("/v1/contracts/{}/filing", id(*contract_id)), json!({}))
        }
        Command::RejectContract { contract_id, reason } => {
            post(format!("/v1/contracts/{}/rejection", id(*contract_id)), json!({ "reason": reason }))
        }
        Command::CancelContract { contract_id, reason } => {
            post(format!("/v1/contracts/{}/cancellation", id(*contract_id)), json!({ "reason": reason }))
        }
        Command::ConfirmCompletion { contract_id } => {
            post(format!("/v1/contracts/{}/completion", id(*contract_id)), json!({}))
        }
        Command::RateService { contract_id, quality, timeliness, professionalism, text } => post(
            format!("/v1/contracts/{}/rating", id(*contract_id)),
            json!({ "quality": quality, "timeliness": timeliness, "professionalism": professionalism, "text": text }),
        ),
        Command::RequestRedemption { contract_id, invoice, remittance_proof, results, .. } => post(
            "/v1/redemptions".into(),
            json!({
                "contract_id": id(*contract_id),
                "invoice": to_json(invoice),
                "remittance_proof": to_json(remittance_proof),
                "results": to_json(results),
            }),
        ),
        Command::ReviewRedemption { redemption_id, outcome } => {
            post(format!("/v1/redemptions/{}/review", id(*redemption_id)), to_json(outcome))
        }
        Command::AnnounceRedemptions { jurisdiction, redemption_ids, .. } => post(
            "/v1/announcements".into(),
            json!({
                "jurisdiction": to_json(jurisdiction),
                "redemption_ids": redemption_ids.iter().map(|r| id(*r)).collect::<Vec<_>>(),
            }),
        ),
        Command::DisburseRedemption { redemption_id, payment_reference } => post(
            format!("/v1/redemptions/{}/disbursement", id(*redemption_id)),
            json!({ "payment_reference": payment_reference }),
        ),
        Command::DenyRedemption { redemption_id, ground, reason } => post(
            format!("/v1/redemptions/{}/denial", id(*redemption_id)),
            json!({ "ground": to_json(ground), "reason": reason }),
        ),
        Command::DrawSample { jurisdiction, year, size, seed, .. } => post(
            "/v1/audits/samples".into(),
            json!({ "jurisdiction": to_json(jurisdiction), "year": year, "size": size, "seed": seed }),
        ),
        Command::RecordFinding { sample_id, contract_id, finding, note } => post(
            format!("/v1/audits/samples/{}/findings", id(*sample_id)),
            json!({ "contract_id": id(*contract_id), "finding": to_json(finding), "note": note }),
        ),
        Command::OrderClawback { redemption_id, amount, reason, .. } => post(
            "/v1/clawbacks".into(),
            json!({ "redemption_id": id(*redemption_id), "amount": to_json(amount), "reason": reason }),
        ),
        Command::RecordRecovery { clawback_id, amount } => post(
            format!("/v1/clawbacks/{}/recoveries", id(*clawback_id)),
            json!({ "amount": to_json(amount) }),
        ),
        Command::RecordReferral { party, authority, note, .. } => post(
            "/v1/referrals".into(),
            json!({ "party": to_json(party), "authority": authority, "note": note }),
        ),
        Command::SuspendApplicant { credit_code, reason } => {
            post(format!("/v1/applicants/{credit_code}/suspension"), json!({ "reason": reason }))
        }
        Command::CloseBatch { batch_id } => post(format!("/v1/batches/{}/closure", id(*batch_id)), json!({})),
        Command::PublishPolicy { .. }
        | Command::PublishCalendarYear { .. }
        | Command::CloseProviderAnnouncement { .. }
        | Command::CloseRedemptionAnnouncement { .. }
        | Command::ExpireVoucher { .. }
        | Command::LapseRedemptionWindow { .. } => None,
    }
}
