//! From a request body to `decide`: the body is parsed as every request type of the HTTP API through the one
//! parser the handlers use (`api::http::parse_body`), each parsed request is built into its command as its
//! handler builds it (path ids taken from the state: the first batch, contract, redemption, ...), and each
//! command is decided against a populated state by every kind of actor. Shared by the stable proptest twin
//! (`tests/tests/it/fuzz_inputs.rs`) and the cargo-fuzz target (`fuzz/fuzz_targets/json_commands.rs`).

use api::http::{bodies as c, bodies as r, parse_body};
use domain::event::{ObjectionTarget, Registration, ReviewOutcome};
use domain::{Actor, Command, Context, CreditCode, Jurisdiction, Role, State};
use uuid::Uuid;

/// The state a log's records fold to.
pub fn fold(records: &[store::StoredRecord]) -> State {
    let mut state = State::new();
    for record in records {
        if let Ok(recorded) = ledger_proto::decode_record(record) {
            state.evolve(&recorded.event);
        }
    }
    state
}

/// Ids a path may name, taken from the state (or random ones when it has none).
struct Paths {
    batch: Uuid,
    contract: Uuid,
    redemption: Uuid,
    objection: Uuid,
    sample: Uuid,
    clawback: Uuid,
    applicant: CreditCode,
    provider: CreditCode,
}

impl Paths {
    fn of(state: &State) -> Option<Paths> {
        Some(Paths {
            batch: state.batches.keys().min().copied().unwrap_or_else(Uuid::nil),
            contract: state.contracts.keys().min().copied().unwrap_or_else(Uuid::nil),
            redemption: state.redemptions.keys().min().copied().unwrap_or_else(Uuid::nil),
            objection: state.objections.keys().min().copied().unwrap_or_else(Uuid::nil),
            sample: state.samples.keys().min().copied().unwrap_or_else(Uuid::nil),
            clawback: state.clawbacks.keys().min().copied().unwrap_or_else(Uuid::nil),
            applicant: state.applicants.keys().min()?.clone(),
            provider: state.providers.keys().min()?.clone(),
        })
    }
}

/// Every command the body parses into, built as the handlers build them.
pub fn commands_from_body(body: &[u8], state: &State) -> Vec<Command> {
    let body = bytes::Bytes::copy_from_slice(body);
    let Some(p) = Paths::of(state) else { return Vec::new() };
    let mut commands = Vec::new();
    let id = Uuid::from_u128(0xf0f0);
    if let Ok(q) = parse_body::<c::AppropriationRequest>(&body) {
        commands.push(Command::AppropriateBudget {
            jurisdiction: Jurisdiction::Guiyang,
            fiscal_year: 2025,
            amount: q.amount,
        });
    }
    if let Ok(q) = parse_body::<c::BatchRequest>(&body) {
        commands.push(Command::PublishBatch {
            batch_id: id,
            jurisdiction: q.jurisdiction,
            fiscal_year: q.fiscal_year,
            name: q.name,
            total: q.total,
            face_value: q.face_value,
            eligible_kinds: q.eligible_kinds,
            eligible_industries: q.eligible_industries,
            eligible_categories: q.eligible_categories,
            claim_opens: q.claim_opens,
            claim_closes: q.claim_closes,
            valid_until: q.valid_until,
            redemption_days: q.redemption_days,
            max_voucher_share: q.max_voucher_share,
        });
    }
    if parse_body::<c::EmptyRequest>(&body).is_ok() {
        commands.push(Command::ClaimVoucher { batch_id: p.batch, voucher_id: id });
        commands.push(Command::CloseBatch { batch_id: p.batch });
        commands.push(Command::SignContract { contract_id: p.contract });
        commands.push(Command::FileContract { contract_id: p.contract });
        commands.push(Command::ConfirmCompletion { contract_id: p.contract });
    }
    if let Ok(q) = parse_body::<c::RegistrationRequest>(&body) {
        commands.push(Command::RegisterApplicant {
            registration: Registration {
                credit_code: q.credit_code,
                name: q.name,
                kind: q.kind,
                jurisdiction: q.jurisdiction,
                industry: q.industry,
                project_code: q.project_code,
                independent_legal_person: q.independent_legal_person.unwrap_or(false),
                tax_compliant: q.tax_compliant.unwrap_or(false),
            },
        });
    }
    if let Ok(q) = parse_body::<c::VerificationRequest>(&body) {
        commands.push(Command::DecideVerification {
            credit_code: p.applicant.clone(),
            decision: q.decision,
            reason: q.reason,
        });
    }
    if let Ok(q) = parse_body::<c::SuspensionRequest>(&body) {
        commands.push(Command::SuspendApplicant { credit_code: p.applicant.clone(), reason: q.reason });
    }
    if let Ok(policy) = parse_body::<domain::PolicyVersion>(&body) {
        commands.push(Command::PublishPolicy { policy });
    }
    if let Ok(calendar_year) = parse_body::<domain::CalendarYear>(&body) {
        commands.push(Command::PublishCalendarYear { calendar_year });
    }
    if let Ok(q) = parse_body::<r::ProviderApplicationRequest>(&body) {
        commands.push(Command::ApplyAsProvider {
            name: q.name,
            categories: q.categories,
            qualifications: q.qualifications,
            contact: q.contact,
        });
    }
    if let Ok(q) = parse_body::<r::ProviderDecisionRequest>(&body) {
        commands.push(Command::DecideProvider {
            provider: p.provider.clone(),
            approve: q.decision == r::ProviderDecision::Approved,
            reason: q.reason,
        });
    }
    if let Ok(q) = parse_body::<r::ReasonRequest>(&body) {
        commands.push(Command::SuspendProvider { provider: p.provider.clone(), reason: q.reason.clone() });
        commands.push(Command::RejectContract { contract_id: p.contract, reason: q.reason.clone() });
        commands.push(Command::CancelContract { contract_id: p.contract, reason: q.reason });
    }
    if let Ok(q) = parse_body::<r::ObjectionRequest>(&body) {
        let target = match q.target {
            r::ObjectionTargetRequest::Provider { provider } => ObjectionTarget::Provider { provider },
            r::ObjectionTargetRequest::Redemption { redemption_id } => {
                ObjectionTarget::Redemption { redemption_id }
            }
        };
        commands.push(Command::FileObjection { objection_id: id, target, text: q.text });
    }
    if let Ok(q) = parse_body::<r::RulingRequest>(&body) {
        commands.push(Command::RuleOnObjection {
            objection_id: p.objection,
            ruling: q.ruling,
            reason: q.reason,
        });
    }
    if let Ok(q) = parse_body::<r::ContractRequest>(&body) {
        commands.push(Command::SubmitContract {
            contract_id: id,
            voucher_id: q.voucher_id,
            provider: q.provider,
            category: q.category,
            description: q.description,
            term_start: q.term_start,
            term_end: q.term_end,
            total: q.total,
            voucher_amount: q.voucher_amount,
            document_sha256: q.document_sha256,
        });
    }
    if let Ok(q) = parse_body::<r::RatingRequest>(&body) {
        commands.push(Command::RateService {
            contract_id: p.contract,
            quality: q.quality,
            timeliness: q.timeliness,
            professionalism: q.professionalism,
            text: q.text,
        });
    }
    if let Ok(q) = parse_body::<r::RedemptionRequest>(&body) {
        commands.push(Command::RequestRedemption {
            redemption_id: id,
            contract_id: q.contract_id,
            invoice: q.invoice,
            remittance_proof: q.remittance_proof,
            results: q.results,
        });
    }
    if let Ok(q) = parse_body::<r::ReviewRequest>(&body) {
        let outcome = match (q.decision, q.approved) {
            (r::ReviewDecision::Reduced, Some(approved)) => {
                ReviewOutcome::Reduced { approved, reason: q.reason }
            }
            (r::ReviewDecision::Rejected, _) => ReviewOutcome::Rejected { reason: q.reason },
            _ => ReviewOutcome::Full,
        };
        commands.push(Command::ReviewRedemption { redemption_id: p.redemption, outcome });
    }
    if let Ok(q) = parse_body::<r::AnnouncementRequest>(&body) {
        commands.push(Command::AnnounceRedemptions {
            announcement_id: id,
            jurisdiction: q.jurisdiction,
            redemption_ids: q.redemption_ids,
        });
    }
    if let Ok(q) = parse_body::<r::DisbursementRequest>(&body) {
        commands.push(Command::DisburseRedemption {
            redemption_id: p.redemption,
            payment_reference: q.payment_reference,
        });
    }
    if let Ok(q) = parse_body::<r::DenialRequest>(&body) {
        commands.push(Command::DenyRedemption {
            redemption_id: p.redemption,
            ground: q.ground,
            reason: q.reason,
        });
    }
    if let Ok(q) = parse_body::<r::SampleRequest>(&body) {
        commands.push(Command::DrawSample {
            sample_id: id,
            jurisdiction: q.jurisdiction,
            year: q.year,
            size: q.size,
            seed: q.seed,
        });
    }
    if let Ok(q) = parse_body::<r::FindingRequest>(&body) {
        commands.push(Command::RecordFinding {
            sample_id: p.sample,
            contract_id: q.contract_id,
            finding: q.finding,
            note: q.note,
        });
    }
    if let Ok(q) = parse_body::<r::ClawbackRequest>(&body) {
        commands.push(Command::OrderClawback {
            clawback_id: id,
            redemption_id: q.redemption_id,
            amount: q.amount,
            reason: q.reason,
        });
    }
    if let Ok(q) = parse_body::<r::RecoveryRequest>(&body) {
        commands.push(Command::RecordRecovery { clawback_id: p.clawback, amount: q.amount });
    }
    if let Ok(q) = parse_body::<r::ReferralRequest>(&body) {
        commands.push(Command::RecordReferral {
            referral_id: id,
            party: q.party,
            authority: q.authority,
            note: q.note,
        });
    }
    commands
}

/// Every kind of actor: each staff role of Guiyang, the state's first applicant and provider, the public.
pub fn actors(state: &State) -> Vec<Actor> {
    let staff = |role: Role| Actor {
        subject: role.to_string(),
        role,
        jurisdiction: Some(Jurisdiction::Guiyang),
        credit_code: None,
    };
    let mut actors: Vec<Actor> =
        [Role::Finance, Role::Bureau, Role::ServiceCenter, Role::Reviewer, Role::Auditor].map(staff).into();
    if let Some((code, applicant)) = state.applicants.iter().min_by(|a, b| a.0.cmp(b.0)) {
        actors.push(Actor {
            subject: "applicant".into(),
            role: match applicant.registration.kind {
                domain::ApplicantKind::Enterprise => Role::Enterprise,
                domain::ApplicantKind::ProjectEntity => Role::ProjectEntity,
            },
            jurisdiction: Some(applicant.registration.jurisdiction),
            credit_code: Some(code.clone()),
        });
    }
    if let Some((code, provider)) = state.providers.iter().min_by(|a, b| a.0.cmp(b.0)) {
        actors.push(Actor {
            subject: "provider".into(),
            role: Role::Provider,
            jurisdiction: Some(provider.application.jurisdiction),
            credit_code: Some(code.clone()),
        });
    }
    actors.push(api::http::extract::public());
    actors
}

/// Parses `body` into every command it can be and decides each against `state` by every actor, on an
/// ordinary date and on the last representable one. `decide` must not panic; an accepted command's events
/// must evolve without panic and keep the ledger balanced.
pub fn decide_body(body: &[u8], state: &State) -> Result<usize, String> {
    let mut accepted = 0;
    for command in commands_from_body(body, state) {
        for actor in actors(state) {
            for business_date in [chrono::NaiveDate::from_ymd_opt(2025, 6, 16), Some(chrono::NaiveDate::MAX)]
            {
                let Some(business_date) = business_date else { continue };
                let context = Context { actor: actor.clone(), business_date, log_position: 1 };
                if let Ok(events) = domain::decide(state, &context, &command) {
                    accepted += 1;
                    let mut after = state.clone();
                    events.iter().for_each(|event| after.evolve(event));
                    let violations = after.ledger.violations();
                    if !violations.is_empty() {
                        return Err(format!("{} broke the ledger: {violations:?}", command.name()));
                    }
                }
            }
        }
    }
    Ok(accepted)
}
