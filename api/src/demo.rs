//! `voucher-ledger demo`: a realistic program year for both jurisdictions, written through the real command
//! pipeline (the writer, `decide`, the hash-chained log), deterministic from a seed, so a newcomer sees a
//! populated ledger at once and tests can check the invariants over every path of the regulation.

// Amounts here are in fen and written `yuan_fen` (e.g. `200_000_00` is 200,000.00 CNY) so they read as money.
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::document::{Document, Sha256Hex};
use domain::event::{DenialGround, Finding, ObjectionTarget, Registration, ReviewOutcome, Ruling};
use domain::{
    Actor, ApplicantKind, Cny, Command, CreditCode, Event, Jurisdiction, Role, VerificationDecision,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use store::EventLog;
use store::file::FileLog;
use uuid::Uuid;

use crate::clock::Clock;
use crate::writer::{self, Committed, Loaded, WriteError, WriterHandle};

/// The seven eligible industries of the Measures (art. 6).
const INDUSTRIES: [&str; 7] = [
    "advanced_equipment",
    "new_energy_vehicles",
    "electronic_information",
    "phosphorus_chemical",
    "aluminum",
    "health_medicine",
    "ecological_food",
];

/// Service categories the demo's batches pay for.
const CATEGORIES: [&str; 8] = [
    "technology_innovation",
    "industrial_design",
    "inspection_testing",
    "system_certification",
    "standardization_consulting",
    "digital_empowerment",
    "management_consulting",
    "talent_services",
];

/// The size of a demo.
#[derive(Clone, Copy, Debug)]
pub struct DemoOptions {
    pub seed: u64,
    pub applicants: u32,
    pub providers: u32,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions { seed: 2025, applicants: 300, providers: 40 }
    }
}

/// What the demo wrote.
#[derive(Clone, Debug, Default)]
pub struct DemoSummary {
    pub head_position: u64,
    pub head_hash: [u8; 32],
    pub accepted: u64,
    pub refused: u64,
    pub events_by_type: BTreeMap<&'static str, u64>,
    /// Examples to look at: a voucher, a contract, a redemption, an announcement, a sample.
    pub examples: BTreeMap<&'static str, String>,
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Load(#[from] writer::LoadError),
    #[error("the data directory already holds a ledger (head {0}); the demo writes a new one")]
    NotEmpty(u64),
    #[error("demo step {step} failed: {error}")]
    Step { step: &'static str, error: String },
}

struct Driver {
    writer: WriterHandle,
    clock: Clock,
    rng: StdRng,
    summary: DemoSummary,
}

impl Driver {
    /// Submits a command; refusals are counted (the demo includes some on purpose), store failures abort.
    async fn run(&mut self, actor: &Actor, command: Command) -> Result<Option<Committed>, DemoError> {
        let name = command.name();
        match self.writer.submit(command, actor.clone(), None, [0; 32]).await {
            Ok(committed) => {
                self.summary.accepted += 1;
                Ok(Some(committed))
            }
            Err(WriteError::Rejected(rejection)) => {
                self.summary.refused += 1;
                tracing::debug!(command = name, code = rejection.code(), "demo command refused");
                Ok(None)
            }
            Err(error) => Err(DemoError::Step { step: name, error: error.to_string() }),
        }
    }

    /// Moves the clock to 09:00 Shanghai time on `date` and lets the scheduler record what fell due.
    async fn advance(&mut self, date: &str) -> Result<(), DemoError> {
        let date: NaiveDate =
            date.parse().map_err(|_| DemoError::Step { step: "advance", error: date.into() })?;
        self.clock.set(morning(date));
        self.writer
            .tick()
            .await
            .map_err(|error| DemoError::Step { step: "tick", error: error.to_string() })?;
        Ok(())
    }

    /// An entity id drawn from the seeded generator, so the same seed gives the same ids.
    fn new_id(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.rng.random()).into_uuid()
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.rng.random_bool(probability)
    }
}

fn morning(date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_hms_opt(1, 0, 0).unwrap_or_default(); // 09:00 in Asia/Shanghai is 01:00 UTC
    Utc.from_utc_datetime(&naive)
}

fn staff(role: Role, jurisdiction: Jurisdiction) -> Actor {
    Actor {
        subject: format!("{role}-{jurisdiction}"),
        role,
        jurisdiction: Some(jurisdiction),
        credit_code: None,
    }
}

fn party(role: Role, jurisdiction: Jurisdiction, code: &CreditCode) -> Actor {
    Actor {
        subject: format!("{role}-{code}"),
        role,
        jurisdiction: Some(jurisdiction),
        credit_code: Some(code.clone()),
    }
}

fn public() -> Actor {
    Actor { subject: "public".into(), role: Role::Public, jurisdiction: None, credit_code: None }
}

/// A valid credit code: `prefix` region and a serial, with its GB 32100 check character.
fn credit_code(prefix: &str, serial: u32) -> Result<CreditCode, DemoError> {
    domain::credit_code::with_check_character(&format!("{prefix}{serial:09}"))
        .map_err(|error| DemoError::Step { step: "credit_code", error: error.to_string() })
}

fn document(name: &str, salt: u64) -> Document {
    let digest = hex::encode(Sha256::digest(format!("{name}:{salt}").as_bytes()));
    Document {
        sha256: Sha256Hex::parse(&digest).unwrap_or_else(|_| unreachable_digest()),
        name: name.to_owned(),
        size_bytes: 40_000 + salt % 100_000,
    }
}

fn unreachable_digest() -> Sha256Hex {
    // hex::encode of a SHA-256 is always 64 lowercase hex characters.
    Sha256Hex::parse(&"0".repeat(64)).unwrap_or_else(|_| panic!("64 zeros are a valid digest"))
}

fn cny(fen: u64) -> Result<Cny, DemoError> {
    Cny::from_fen(fen).map_err(|error| DemoError::Step { step: "amount", error: error.to_string() })
}

fn id_of(committed: &Option<Committed>, pick: impl Fn(&Event) -> Option<Uuid>) -> Option<Uuid> {
    committed.as_ref()?.events.iter().find_map(|event| pick(&event.event))
}

/// Writes the demo program year into `data_dir`, which must hold no ledger yet.
///
/// # Errors
/// The directory holds a ledger already, the store fails, or a step that must succeed does not.
pub async fn run(data_dir: &Path, options: DemoOptions) -> Result<DemoSummary, DemoError> {
    let (log, _recovery) = FileLog::open(data_dir)?;
    run_on(Arc::new(log), options).await
}

/// Writes the demo program year into an opened, empty store of any backend.
///
/// # Errors
/// The store holds a ledger already, the store fails, or a step that must succeed does not.
pub async fn run_on(log: Arc<dyn EventLog>, options: DemoOptions) -> Result<DemoSummary, DemoError> {
    Ok(run_on_keeping_projections(log, options).await?.0)
}

/// Like [`run_on`], also returning the read models as the writer left them: folded commit by commit as
/// the program year was written (the property tests compare them with a rebuild from the log).
///
/// # Errors
/// See [`run_on`].
pub async fn run_on_keeping_projections(
    log: Arc<dyn EventLog>,
    options: DemoOptions,
) -> Result<(DemoSummary, projections::Projections), DemoError> {
    let head = log.head().await?;
    if head.position > 0 {
        return Err(DemoError::NotEmpty(head.position));
    }
    let loaded = Loaded::from_log(log.as_ref()).await?;
    let clock = Clock::manual(morning(NaiveDate::from_ymd_opt(2025, 1, 6).unwrap_or_default()));
    let (writer, shared, task) = writer::spawn_with_task(log.clone(), loaded, clock.clone());
    let mut driver =
        Driver { writer, clock, rng: StdRng::seed_from_u64(options.seed), summary: DemoSummary::default() };
    program_year(&mut driver, options).await?;
    let Driver { writer, mut summary, .. } = driver;
    drop(writer);
    let _ = task.await;
    let head = *shared.head.borrow();
    summary.head_position = head.position;
    summary.head_hash = head.hash;
    // Count what the log holds, scheduler events included.
    summary.events_by_type = count_events(log.as_ref()).await?;
    let projections = shared.projections.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
    Ok((summary, projections))
}

/// Events in the log by type.
async fn count_events(log: &dyn EventLog) -> Result<BTreeMap<&'static str, u64>, DemoError> {
    use futures::StreamExt;
    let mut counts = BTreeMap::new();
    let mut records = log.read_from(1);
    while let Some(record) = records.next().await {
        let recorded = ledger_proto::decode_record(&record?)
            .map_err(|error| DemoError::Step { step: "count", error: error.to_string() })?;
        *counts.entry(recorded.event.event_type()).or_default() += 1;
    }
    Ok(counts)
}

struct Holder {
    code: CreditCode,
    jurisdiction: Jurisdiction,
    kind: ApplicantKind,
    voucher: Option<(Uuid, u64)>,
}

struct Provider {
    code: CreditCode,
    jurisdiction: Jurisdiction,
    categories: BTreeSet<String>,
}

async fn program_year(d: &mut Driver, options: DemoOptions) -> Result<(), DemoError> {
    let both = [Jurisdiction::Guiyang, Jurisdiction::Guian];
    // Budgets (finance) and batches (bureau), in January.
    for (jurisdiction, fen) in
        [(Jurisdiction::Guiyang, 300_000_000_00u64), (Jurisdiction::Guian, 120_000_000_00)]
    {
        let command = Command::AppropriateBudget { jurisdiction, fiscal_year: 2025, amount: cny(fen)? };
        d.run(&staff(Role::Finance, jurisdiction), command).await?;
    }
    d.advance("2025-02-10").await?;
    let mut batches: BTreeMap<(Jurisdiction, ApplicantKind), (Uuid, u64)> = BTreeMap::new();
    for jurisdiction in both {
        for (kind, total, face) in [
            (ApplicantKind::Enterprise, 60_000_000_00u64, 200_000_00u64),
            (ApplicantKind::ProjectEntity, 5_000_000_00, 50_000_00),
        ] {
            let batch_id = d.new_id();
            let command = Command::PublishBatch {
                batch_id,
                jurisdiction,
                fiscal_year: 2025,
                name: format!("2025 {kind} vouchers, {jurisdiction}"),
                total: cny(total)?,
                face_value: cny(face)?,
                eligible_kinds: [kind].into_iter().collect(),
                eligible_industries: INDUSTRIES.iter().map(|s| (*s).to_owned()).collect(),
                eligible_categories: CATEGORIES.iter().map(|s| (*s).to_owned()).collect(),
                claim_opens: "2025-03-01".parse().unwrap_or_default(),
                claim_closes: "2025-06-30".parse().unwrap_or_default(),
                valid_until: "2025-12-31".parse().unwrap_or_default(),
                redemption_days: None,
                max_voucher_share: Some(domain::Share::parse("0.8").unwrap_or(domain::Share::FULL)),
            };
            if d.run(&staff(Role::Bureau, jurisdiction), command).await?.is_some() {
                batches.insert((jurisdiction, kind), (batch_id, face));
            }
        }
    }

    // Applicants register (February) and are verified; a few are rejected.
    let mut holders = Vec::new();
    for serial in 0..options.applicants {
        let jurisdiction = if d.chance(0.6) { Jurisdiction::Guiyang } else { Jurisdiction::Guian };
        let kind = if d.chance(0.15) { ApplicantKind::ProjectEntity } else { ApplicantKind::Enterprise };
        let code = credit_code("91520100", serial)?;
        let role = if kind == ApplicantKind::Enterprise { Role::Enterprise } else { Role::ProjectEntity };
        let industry = INDUSTRIES[d.rng.random_range(0..INDUSTRIES.len())];
        let registration = Registration {
            credit_code: code.clone(),
            name: format!("贵阳贵安示范企业{serial:03}"),
            kind,
            jurisdiction,
            industry: (kind == ApplicantKind::Enterprise).then(|| industry.to_owned()),
            project_code: (kind == ApplicantKind::ProjectEntity).then(|| format!("2025-520100-{serial:06}")),
            independent_legal_person: true,
            tax_compliant: !d.chance(0.02),
        };
        d.run(&party(role, jurisdiction, &code), Command::RegisterApplicant { registration }).await?;
        let rejected = d.chance(0.04);
        let decision = if rejected { VerificationDecision::Rejected } else { VerificationDecision::Verified };
        let reviewer = if jurisdiction == Jurisdiction::Guian && d.chance(0.3) {
            staff(Role::Bureau, jurisdiction)
        } else {
            staff(Role::ServiceCenter, jurisdiction)
        };
        let reason =
            if rejected { "tax registration not in Guiyang or Gui'an".to_owned() } else { String::new() };
        d.run(&reviewer, Command::DecideVerification { credit_code: code.clone(), decision, reason }).await?;
        if !rejected {
            holders.push(Holder { code, jurisdiction, kind, voucher: None });
        }
    }

    // Providers apply and are approved in early March; their admission announcements run 5 working days.
    d.advance("2025-03-03").await?;
    let mut providers = Vec::new();
    for serial in 0..options.providers {
        let jurisdiction = if d.chance(0.65) { Jurisdiction::Guiyang } else { Jurisdiction::Guian };
        let code = credit_code("52520100", serial)?;
        let count = d.rng.random_range(1..=3);
        let categories: BTreeSet<String> =
            (0..count).map(|_| CATEGORIES[d.rng.random_range(0..CATEGORIES.len())].to_owned()).collect();
        let command = Command::ApplyAsProvider {
            name: format!("贵州示范服务机构{serial:02}"),
            categories: categories.clone(),
            qualifications: vec![document("qualification.pdf", u64::from(serial))],
            contact: format!("0851-8{serial:06}"),
        };
        d.run(&party(Role::Provider, jurisdiction, &code), command).await?;
        let approve = serial % 17 != 16;
        let reason = if approve { String::new() } else { "qualification documents incomplete".into() };
        let decision = Command::DecideProvider { provider: code.clone(), approve, reason };
        d.run(&staff(Role::Bureau, jurisdiction), decision).await?;
        if approve {
            providers.push(Provider { code, jurisdiction, categories });
        }
    }
    // Objections during the announcements: one dismissed, one upheld (that provider is not admitted).
    for (index, ruling) in [(0usize, Ruling::Dismissed), (1, Ruling::Upheld)] {
        let Some(target) = providers.get(index) else { continue };
        let objection_id = d.new_id();
        let command = Command::FileObjection {
            objection_id,
            target: ObjectionTarget::Provider { provider: target.code.clone() },
            text: "资质证书疑似过期".into(),
        };
        let jurisdiction = target.jurisdiction;
        d.run(&public(), command).await?;
        let ruling_command = Command::RuleOnObjection { objection_id, ruling, reason: "核查结论".into() };
        d.run(&staff(Role::Bureau, jurisdiction), ruling_command).await?;
    }
    if providers.len() > 1 {
        providers.remove(1);
    }
    d.advance("2025-03-12").await?; // the announcements have closed: the scheduler admits the providers

    // Claims in March.
    d.advance("2025-03-17").await?;
    for holder in &mut holders {
        let Some((batch_id, face)) = batches.get(&(holder.jurisdiction, holder.kind)).copied() else {
            continue;
        };
        let role =
            if holder.kind == ApplicantKind::Enterprise { Role::Enterprise } else { Role::ProjectEntity };
        let voucher_id = d.new_id();
        let actor = party(role, holder.jurisdiction, &holder.code);
        if d.run(&actor, Command::ClaimVoucher { batch_id, voucher_id }).await?.is_some() {
            holder.voucher = Some((voucher_id, face));
        }
    }

    // Contracts in April: submitted by the provider, signed by the applicant, filed.
    d.advance("2025-04-07").await?;
    let mut contracts = Vec::new();
    let provider_count = providers.len();
    for holder in holders.iter().filter(|h| h.voucher.is_some()) {
        if provider_count == 0 || !d.chance(0.75) {
            continue;
        }
        let Some((voucher_id, face)) = holder.voucher else { continue };
        let provider = &providers[d.rng.random_range(0..provider_count)];
        let Some(category) = provider.categories.iter().next().cloned() else { continue };
        let voucher_fen = face * d.rng.random_range(40..=100) / 100;
        let total_fen = voucher_fen * 5 / 4 + d.rng.random_range(0..50_000_00);
        let contract_id = d.new_id();
        let command = Command::SubmitContract {
            contract_id,
            voucher_id,
            provider: provider.code.clone(),
            category,
            description: "检验检测与认证咨询服务".into(),
            term_start: "2025-04-10".parse().unwrap_or_default(),
            term_end: "2025-06-30".parse().unwrap_or_default(),
            total: cny(total_fen)?,
            voucher_amount: cny(voucher_fen)?,
            document_sha256: document("contract.pdf", u64::from(contracts.len() as u32)).sha256,
        };
        let provider_actor = party(Role::Provider, provider.jurisdiction, &provider.code);
        if d.run(&provider_actor, command).await?.is_none() {
            continue;
        }
        let role =
            if holder.kind == ApplicantKind::Enterprise { Role::Enterprise } else { Role::ProjectEntity };
        let applicant = party(role, holder.jurisdiction, &holder.code);
        d.run(&applicant, Command::SignContract { contract_id }).await?;
        let filer = staff(Role::ServiceCenter, holder.jurisdiction);
        if d.chance(0.03) {
            d.run(&filer, Command::RejectContract { contract_id, reason: "合同金额与服务内容不符".into() })
                .await?;
            continue;
        }
        d.run(&filer, Command::FileContract { contract_id }).await?;
        if d.chance(0.03) {
            d.run(&applicant, Command::CancelContract { contract_id, reason: "服务需求变更".into() }).await?;
            continue;
        }
        contracts.push((contract_id, applicant, provider_actor, holder.jurisdiction));
    }
    d.summary.examples.insert("contract", contracts.first().map(|c| c.0.to_string()).unwrap_or_default());
    if let Some(holder) = holders.iter().find(|h| h.voucher.is_some()) {
        let voucher = holder.voucher.map(|v| v.0.to_string()).unwrap_or_default();
        d.summary.examples.insert("voucher", voucher);
        d.summary.examples.insert("applicant", holder.code.to_string());
    }

    // Services completed in June and rated; redemptions requested and reviewed.
    d.advance("2025-06-16").await?;
    let mut redemptions: BTreeMap<Jurisdiction, Vec<Uuid>> = BTreeMap::new();
    for (n, (contract_id, applicant, provider, jurisdiction)) in contracts.iter().enumerate() {
        if !d.chance(0.92) {
            continue;
        }
        d.run(applicant, Command::ConfirmCompletion { contract_id: *contract_id }).await?;
        if d.chance(0.8) {
            let rating = Command::RateService {
                contract_id: *contract_id,
                quality: d.rng.random_range(3..=5),
                timeliness: d.rng.random_range(2..=5),
                professionalism: d.rng.random_range(3..=5),
                text: "服务规范，报告及时".into(),
            };
            d.run(applicant, rating).await?;
        }
        if !d.chance(0.88) {
            continue; // left unredeemed: the window lapses in August
        }
        let redemption_id = d.new_id();
        let salt = n as u64;
        let request = Command::RequestRedemption {
            redemption_id,
            contract_id: *contract_id,
            invoice: document("invoice.pdf", salt),
            remittance_proof: document("remittance.pdf", salt),
            results: vec![document("service-report.pdf", salt)],
        };
        if d.run(provider, request).await?.is_none() {
            continue;
        }
        let roll: f64 = d.rng.random();
        let outcome = if roll < 0.85 {
            ReviewOutcome::Full
        } else if roll < 0.95 {
            ReviewOutcome::Reduced { approved: cny(1_000_00)?, reason: "部分服务成果未提交".into() }
        } else {
            ReviewOutcome::Rejected { reason: "发票与合同不符".into() }
        };
        let review = Command::ReviewRedemption { redemption_id, outcome };
        let approved = d.run(&staff(Role::Reviewer, *jurisdiction), review).await?.is_some_and(|committed| {
            committed
                .events
                .iter()
                .any(|e| matches!(&e.event, Event::RedemptionReviewed { approved: Some(_), .. }))
        });
        if approved {
            redemptions.entry(*jurisdiction).or_default().push(redemption_id);
        }
    }

    // Announcement lists on 2025-09-30 (they run past the National Day holidays, to 2025-10-14).
    d.advance("2025-09-30").await?;
    let mut announced = Vec::new();
    for (jurisdiction, items) in &redemptions {
        let announcement_id = d.new_id();
        let command = Command::AnnounceRedemptions {
            announcement_id,
            jurisdiction: *jurisdiction,
            redemption_ids: items.clone(),
        };
        let answer = d.run(&staff(Role::Bureau, *jurisdiction), command).await?;
        if id_of(&answer, |e| matches!(e, Event::RedemptionsAnnounced { .. }).then_some(announcement_id))
            .is_some()
        {
            d.summary.examples.insert("announcement", announcement_id.to_string());
            announced.extend(items.iter().map(|id| (*id, *jurisdiction)));
        }
    }
    // Objections during the list: one upheld, one dismissed; two denials for fraud.
    d.advance("2025-10-09").await?;
    for (index, ruling) in [(0usize, Ruling::Upheld), (1, Ruling::Dismissed)] {
        let Some((redemption_id, jurisdiction)) = announced.get(index).copied() else { continue };
        let objection_id = d.new_id();
        let command = Command::FileObjection {
            objection_id,
            target: ObjectionTarget::Redemption { redemption_id },
            text: "该服务未实际开展".into(),
        };
        d.run(&public(), command).await?;
        let ruling_command = Command::RuleOnObjection { objection_id, ruling, reason: "现场核查".into() };
        d.run(&staff(Role::Bureau, jurisdiction), ruling_command).await?;
    }
    for (redemption_id, jurisdiction) in announced.iter().skip(2).take(2) {
        let command = Command::DenyRedemption {
            redemption_id: *redemption_id,
            ground: DenialGround::Fraud,
            reason: "虚开发票".into(),
        };
        d.run(&staff(Role::Bureau, *jurisdiction), command).await?;
    }
    // After the close, the bureau of each voucher's jurisdiction disburses what is payable.
    d.advance("2025-10-15").await?;
    let mut disbursed = Vec::new();
    for (n, (redemption_id, jurisdiction)) in announced.iter().enumerate() {
        let command = Command::DisburseRedemption {
            redemption_id: *redemption_id,
            payment_reference: format!("{}-2025-{n:05}", jurisdiction.as_str().to_uppercase()),
        };
        if d.run(&staff(Role::Bureau, *jurisdiction), command).await?.is_some() {
            disbursed.push((*redemption_id, *jurisdiction));
        }
    }
    d.summary.examples.insert("redemption", disbursed.first().map(|r| r.0.to_string()).unwrap_or_default());

    // The next year: vouchers have expired and lapsed windows returned (scheduler); an audit draws a sample of
    // 2025's contracts per jurisdiction, records findings, and one clawback is ordered and partly recovered.
    d.advance("2026-03-02").await?;
    let auditor = staff(Role::Auditor, Jurisdiction::Guiyang);
    let mut sampled = Vec::new();
    for jurisdiction in both {
        let sample_id = d.new_id();
        let seed = format!("audit-2025-{jurisdiction}-{}", options.seed);
        let command = Command::DrawSample { sample_id, jurisdiction, year: 2025, size: 12, seed };
        let answer = d.run(&auditor, command).await?;
        let ids = answer
            .as_ref()
            .and_then(|c| {
                c.events.iter().find_map(|e| match &e.event {
                    Event::SampleDrawn { contract_ids, .. } => Some(contract_ids.clone()),
                    _ => None,
                })
            })
            .unwrap_or_default();
        if answer.is_some() {
            d.summary.examples.insert("sample", sample_id.to_string());
        }
        for (n, contract_id) in ids.iter().enumerate() {
            let finding = if n == 0 { Finding::Irregular } else { Finding::Compliant };
            let command = Command::RecordFinding {
                sample_id,
                contract_id: *contract_id,
                finding,
                note: "抽查记录".into(),
            };
            d.run(&auditor, command).await?;
        }
        sampled.extend(ids);
    }
    if let Some((redemption_id, jurisdiction)) = disbursed.first().copied() {
        let clawback_id = d.new_id();
        let bureau = staff(Role::Bureau, jurisdiction);
        let order = Command::OrderClawback {
            clawback_id,
            redemption_id,
            amount: cny(5_000_00)?,
            reason: "抽查发现服务成果不实".into(),
        };
        if d.run(&bureau, order).await?.is_some() {
            d.run(&bureau, Command::RecordRecovery { clawback_id, amount: cny(2_000_00)? }).await?;
        }
        if let Some(provider) = providers.last() {
            let suspend = Command::SuspendProvider {
                provider: provider.code.clone(),
                reason: "拒不配合监督检查".into(),
            };
            d.run(&staff(Role::Bureau, provider.jurisdiction), suspend).await?;
            let referral = Command::RecordReferral {
                referral_id: d.new_id(),
                party: provider.code.clone(),
                authority: "贵阳市公安局经济犯罪侦查支队".into(),
                note: "涉嫌虚开发票".into(),
            };
            d.run(&bureau, referral).await?;
        }
    }
    let _ = sampled;
    Ok(())
}
