//! SPEC §2 end to end for the regulation's later lifecycles (Measures art. 8-13): every command endpoint of
//! providers, objections, contracts, ratings, redemptions, announcements, disbursements, denials, audit
//! samples, findings, clawbacks, recoveries and referrals, sent by every token role from both jurisdictions
//! against targets in both jurisdictions. Applicant and provider tokens carry a credit code: the concerned
//! party's own code, or (the "impostor" cases, where a party may act) an unrelated party's code. Exactly the
//! combinations SPEC §2 allows are accepted (each on a fresh target, so an allowed command can only succeed);
//! every other one is 403 `forbidden` (problem+json) and appends nothing. Without a token, an objection is
//! accepted and every other command is 401 `invalid_token`.

use std::collections::BTreeMap;

use anyhow::Context as _;
use domain::{Jurisdiction, Role};
use e2e::{
    Client, InProcessServer, MORNING, contract_body, credit_code, document, head_position, nine_am,
    publish_batch, redemption_body, set_clock, staff, token, verified_applicant,
};
use serde_json::{Value, json};

use super::{JURISDICTIONS, KINDS, Kind, ROLES, kind_of, wrong};

/// The service category every provider of the matrix offers and every batch lists.
const TESTING: &str = "inspection_testing";

/// What every contract of the matrix pays from its voucher (its total too).
const AMOUNT: &str = "100.00";

/// Who a token speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Identity {
    /// Staff: no credit code.
    Staff,
    /// An applicant or provider token carrying the concerned party's own credit code.
    Own,
    /// An applicant or provider token carrying an unrelated party's credit code (same role, registered and
    /// verified or admitted in the target's jurisdiction).
    Impostor,
}

/// When a command can be tried: the clock only moves forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// 2025-03-11: providers admitted, announcements open.
    Opening,
    /// 2025-03-19: the redemption announcements of 2025-03-11 have closed.
    Payment,
    /// 2026-01-05: 2025 is a past year that can be sampled.
    Audit,
}

const PHASES: [Phase; 3] = [Phase::Opening, Phase::Payment, Phase::Audit];

/// What a target is about, where an endpoint has more than one kind of target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum On {
    Plain,
    /// An objection against a provider's admission; a contract submitted by the provider (so the applicant
    /// signs); a referral of a provider.
    Provider,
    /// A contract submitted by the applicant (so the provider signs); a referral of an applicant.
    Applicant,
    /// An objection against a redemption on an announcement list.
    Redemption,
}

/// What a command acts on: something of a jurisdiction (a provider, an objection, a contract with the
/// voucher of an applicant of a kind, a redemption, a sample, a clawback, a party), or nothing jurisdictional
/// (a provider's own application).
#[derive(Clone, Copy, Debug)]
struct Target {
    jurisdiction: Option<Jurisdiction>,
    kind: Option<Kind>,
    on: On,
}

/// The command endpoints of the regulation's later lifecycles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Endpoint {
    ProviderApplication,
    ProviderDecision,
    ProviderSuspension,
    ObjectionFiling,
    ObjectionRuling,
    ContractSubmission,
    ContractSignature,
    ContractFiling,
    ContractRejection,
    ContractCancellation,
    ServiceCompletion,
    ServiceRating,
    RedemptionRequest,
    RedemptionReview,
    RedemptionAnnouncement,
    RedemptionDisbursement,
    RedemptionDenial,
    SampleDraw,
    FindingRecord,
    ClawbackOrder,
    RecoveryRecord,
    Referral,
}

impl Endpoint {
    const ALL: [Endpoint; 22] = [
        Endpoint::ProviderApplication,
        Endpoint::ProviderDecision,
        Endpoint::ProviderSuspension,
        Endpoint::ObjectionFiling,
        Endpoint::ObjectionRuling,
        Endpoint::ContractSubmission,
        Endpoint::ContractSignature,
        Endpoint::ContractFiling,
        Endpoint::ContractRejection,
        Endpoint::ContractCancellation,
        Endpoint::ServiceCompletion,
        Endpoint::ServiceRating,
        Endpoint::RedemptionRequest,
        Endpoint::RedemptionReview,
        Endpoint::RedemptionAnnouncement,
        Endpoint::RedemptionDisbursement,
        Endpoint::RedemptionDenial,
        Endpoint::SampleDraw,
        Endpoint::FindingRecord,
        Endpoint::ClawbackOrder,
        Endpoint::RecoveryRecord,
        Endpoint::Referral,
    ];

    /// The status of an accepted command.
    fn accepted_status(self) -> u16 {
        match self {
            Endpoint::ProviderApplication
            | Endpoint::ObjectionFiling
            | Endpoint::ContractSubmission
            | Endpoint::RedemptionRequest
            | Endpoint::RedemptionAnnouncement
            | Endpoint::SampleDraw
            | Endpoint::FindingRecord
            | Endpoint::ClawbackOrder
            | Endpoint::RecoveryRecord
            | Endpoint::Referral => 201,
            _ => 200,
        }
    }

    fn phase(self) -> Phase {
        match self {
            Endpoint::RedemptionDisbursement | Endpoint::ClawbackOrder | Endpoint::RecoveryRecord => {
                Phase::Payment
            }
            Endpoint::SampleDraw | Endpoint::FindingRecord => Phase::Audit,
            _ => Phase::Opening,
        }
    }

    /// Commands only a party of a contract may issue: there an impostor is tried too.
    fn party_gated(self) -> bool {
        matches!(
            self,
            Endpoint::ContractSubmission
                | Endpoint::ContractSignature
                | Endpoint::ContractCancellation
                | Endpoint::ServiceCompletion
                | Endpoint::ServiceRating
                | Endpoint::RedemptionRequest
        )
    }

    /// The targets tried: both jurisdictions; for contracts, the vouchers of both kinds of applicant (and for
    /// signatures, contracts submitted by either party); objections against providers and redemptions;
    /// referrals of applicants and providers. Redemptions are of an enterprise's voucher.
    fn targets(self) -> Vec<Target> {
        let each = |kinds: &[Option<Kind>], ons: &[On]| {
            let mut targets = Vec::new();
            for jurisdiction in JURISDICTIONS {
                for &kind in kinds {
                    for &on in ons {
                        targets.push(Target { jurisdiction: Some(jurisdiction), kind, on });
                    }
                }
            }
            targets
        };
        let kinds = [Some(Kind::Enterprise), Some(Kind::ProjectEntity)];
        match self {
            Endpoint::ProviderApplication => vec![Target { jurisdiction: None, kind: None, on: On::Plain }],
            Endpoint::ProviderDecision
            | Endpoint::ProviderSuspension
            | Endpoint::SampleDraw
            | Endpoint::FindingRecord => each(&[None], &[On::Plain]),
            Endpoint::ObjectionFiling | Endpoint::ObjectionRuling => {
                each(&[Some(Kind::Enterprise)], &[On::Provider, On::Redemption])
            }
            Endpoint::ContractSignature => each(&kinds, &[On::Provider, On::Applicant]),
            Endpoint::ContractSubmission
            | Endpoint::ContractFiling
            | Endpoint::ContractRejection
            | Endpoint::ContractCancellation
            | Endpoint::ServiceCompletion
            | Endpoint::ServiceRating
            | Endpoint::RedemptionRequest => each(&kinds, &[On::Plain]),
            Endpoint::RedemptionReview
            | Endpoint::RedemptionAnnouncement
            | Endpoint::RedemptionDisbursement
            | Endpoint::RedemptionDenial
            | Endpoint::ClawbackOrder
            | Endpoint::RecoveryRecord => each(&[Some(Kind::Enterprise)], &[On::Plain]),
            Endpoint::Referral => each(&[None], &[On::Applicant, On::Provider]),
        }
    }
}

/// The identities a role's token is tried with on an endpoint.
fn identities(endpoint: Endpoint, role: Role) -> Vec<Identity> {
    match role {
        Role::Provider | Role::Enterprise | Role::ProjectEntity if endpoint.party_gated() => {
            vec![Identity::Own, Identity::Impostor]
        }
        Role::Provider | Role::Enterprise | Role::ProjectEntity => vec![Identity::Own],
        _ => vec![Identity::Staff],
    }
}

/// How many tokened cases one target of an endpoint takes.
fn cases_per_target(endpoint: Endpoint) -> usize {
    ROLES.iter().map(|&role| identities(endpoint, role).len()).sum::<usize>() * JURISDICTIONS.len()
}

/// The oracle, written from SPEC §2 and the regulation's rules:
/// - a provider applies for admission as itself (the code of its token); the bureau of the provider's
///   jurisdiction decides on it and suspends it;
/// - anyone files an objection; the bureau of the announcement's jurisdiction rules on it;
/// - a contract is submitted by the provider named in it or by the voucher's applicant, signed by the other
///   party, cancelled by either party, completed and rated by the applicant; the service center of the
///   contract's jurisdiction (in guian also the bureau) files or rejects it;
/// - the contract's provider requests redemption; a reviewer of the jurisdiction reviews it; the bureau of
///   the jurisdiction announces, disburses or denies it, orders clawbacks and records recoveries;
/// - an auditor draws samples and records findings in the jurisdiction of its token (Measures art. 12); the
///   bureau of the party's jurisdiction records a referral.
///
/// A party acts for itself only as itself: a token of its role (an applicant's kind, or provider), naming its
/// own credit code, of its own jurisdiction (a request outside the actor's role or jurisdiction is refused).
/// Every party of a target is registered (or admitted) in the target's jurisdiction.
fn oracle(endpoint: Endpoint, role: Role, identity: Identity, actor: Jurisdiction, target: Target) -> bool {
    let own = target.jurisdiction == Some(actor);
    let itself = identity == Identity::Own && own;
    let as_provider = itself && role == Role::Provider;
    let as_applicant = itself && target.kind.is_some_and(|kind| kind.role() == role);
    let bureau_here = own && role == Role::Bureau;
    match endpoint {
        Endpoint::ProviderApplication => role == Role::Provider,
        Endpoint::ProviderDecision
        | Endpoint::ProviderSuspension
        | Endpoint::ObjectionRuling
        | Endpoint::RedemptionAnnouncement
        | Endpoint::RedemptionDisbursement
        | Endpoint::RedemptionDenial
        | Endpoint::ClawbackOrder
        | Endpoint::RecoveryRecord => bureau_here,
        Endpoint::ObjectionFiling => true,
        Endpoint::ContractSubmission | Endpoint::ContractCancellation => as_provider || as_applicant,
        Endpoint::ContractSignature => match target.on {
            On::Provider => as_applicant,
            On::Applicant => as_provider,
            On::Plain | On::Redemption => false,
        },
        Endpoint::ContractFiling | Endpoint::ContractRejection => {
            own && (role == Role::ServiceCenter || (role == Role::Bureau && actor == Jurisdiction::Guian))
        }
        Endpoint::ServiceCompletion | Endpoint::ServiceRating => as_applicant,
        Endpoint::RedemptionRequest => as_provider,
        Endpoint::RedemptionReview => own && role == Role::Reviewer,
        Endpoint::SampleDraw | Endpoint::FindingRecord => own && role == Role::Auditor,
        Endpoint::Referral => bureau_here,
    }
}

/// A request ready to send (no token: the public).
struct Case {
    path: String,
    body: Value,
    token: Option<String>,
}

/// A verified applicant holding a voucher.
struct Holder {
    code: String,
    voucher_id: String,
}

fn provider_bearer(jurisdiction: Jurisdiction, code: &str) -> String {
    token(Role::Provider, jurisdiction, &format!("provider-{code}"), Some(code))
}

fn applicant_bearer(jurisdiction: Jurisdiction, kind: Kind, code: &str) -> String {
    token(kind.role(), jurisdiction, &format!("applicant-{code}"), Some(code))
}

fn text(value: &Value, field: &str) -> anyhow::Result<String> {
    value[field].as_str().map(str::to_owned).with_context(|| format!("no {field} in {value}"))
}

/// Builds fresh targets so that an allowed command can only succeed.
struct Fixture {
    client: Client,
    next_code: u32,
    /// The voucher holder of each kind in each jurisdiction: the applicant of every contract of the matrix.
    holders: BTreeMap<(Jurisdiction, Kind), Holder>,
    /// An unrelated verified applicant of each kind in each jurisdiction (impostors).
    strangers: BTreeMap<(Jurisdiction, Kind), String>,
    /// The admitted provider of each jurisdiction: the provider of every contract of the matrix.
    providers: BTreeMap<Jurisdiction, String>,
    /// An unrelated admitted provider of each jurisdiction (impostors).
    rivals: BTreeMap<Jurisdiction, String>,
    /// A provider and a redemption of each jurisdiction on an open announcement (objection targets).
    announced_providers: BTreeMap<Jurisdiction, String>,
    announced_redemptions: BTreeMap<Jurisdiction, String>,
    /// Redemptions on the lists of 2025-03-11, to be disbursed by the matrix.
    payable: BTreeMap<Jurisdiction, Vec<String>>,
    /// Redemptions on the lists of 2025-03-11, disbursed once they close, to be clawed back by the matrix.
    to_claw_back: BTreeMap<Jurisdiction, Vec<String>>,
    /// One redemption of each jurisdiction, disbursed once its list closes, that the clawbacks recovered by
    /// the matrix are ordered on.
    recoverable: BTreeMap<Jurisdiction, String>,
}

impl Fixture {
    /// Budgets, batches, voucher holders and strangers of both kinds, two providers per jurisdiction applied
    /// on 2025-03-03 and admitted on 2025-03-11 (where the clock is left), and the announcements of 2025-03-11.
    async fn new(client: Client) -> anyhow::Result<Fixture> {
        let mut fixture = Fixture {
            client,
            next_code: 1,
            holders: BTreeMap::new(),
            strangers: BTreeMap::new(),
            providers: BTreeMap::new(),
            rivals: BTreeMap::new(),
            announced_providers: BTreeMap::new(),
            announced_redemptions: BTreeMap::new(),
            payable: BTreeMap::new(),
            to_claw_back: BTreeMap::new(),
            recoverable: BTreeMap::new(),
        };
        for jurisdiction in JURISDICTIONS {
            let batch =
                publish_batch(&fixture.client, jurisdiction, "10000000.00", "1000000.00", "100000.00")
                    .await?;
            for kind in KINDS {
                let n = fixture.number();
                let own =
                    verified_applicant(&fixture.client, jurisdiction, n, kind == Kind::ProjectEntity).await?;
                let claim = format!("/v1/batches/{batch}/claims");
                let answer = fixture.command(&claim, Some(&own), &json!({}), 201).await?;
                let holder = Holder { code: credit_code(n), voucher_id: text(&answer, "voucher_id")? };
                fixture.holders.insert((jurisdiction, kind), holder);
                let n = fixture.number();
                verified_applicant(&fixture.client, jurisdiction, n, kind == Kind::ProjectEntity).await?;
                fixture.strangers.insert((jurisdiction, kind), credit_code(n));
            }
            let provider = fixture.approved_provider(jurisdiction).await?;
            fixture.providers.insert(jurisdiction, provider);
            let rival = fixture.approved_provider(jurisdiction).await?;
            fixture.rivals.insert(jurisdiction, rival);
        }
        set_clock(&fixture.client, &nine_am("2025-03-11")).await?;
        let auditor = staff(Role::Auditor, Jurisdiction::Guiyang);
        for code in fixture.providers.values().chain(fixture.rivals.values()) {
            let view = fixture.client.get(&format!("/v1/providers/{code}"), Some(&auditor)).await?;
            anyhow::ensure!(view.body["status"] == "admitted", "fixture provider {code}: {view:?}");
        }

        // On 2025-03-11: a provider under announcement, and announcement lists that close on 2025-03-18.
        for jurisdiction in JURISDICTIONS {
            let provider = fixture.approved_provider(jurisdiction).await?;
            fixture.announced_providers.insert(jurisdiction, provider);
            let objected = fixture.approved_redemption(jurisdiction).await?;
            let mut payable = Vec::new();
            for _ in 0..=cases_per_target(Endpoint::RedemptionDisbursement) {
                payable.push(fixture.approved_redemption(jurisdiction).await?);
            }
            let mut to_claw_back = Vec::new();
            for _ in 0..=cases_per_target(Endpoint::ClawbackOrder) {
                to_claw_back.push(fixture.approved_redemption(jurisdiction).await?);
            }
            let recoverable = fixture.approved_redemption(jurisdiction).await?;
            let mut listed: Vec<&String> = vec![&objected, &recoverable];
            listed.extend(payable.iter().chain(&to_claw_back));
            let body = json!({ "jurisdiction": jurisdiction, "redemption_ids": listed });
            let bureau = staff(Role::Bureau, jurisdiction);
            let answer = fixture.command("/v1/announcements", Some(&bureau), &body, 201).await?;
            anyhow::ensure!(answer["closes_on"] == "2025-03-18", "fixture announcement: {answer}");
            fixture.announced_redemptions.insert(jurisdiction, objected);
            fixture.payable.insert(jurisdiction, payable);
            fixture.to_claw_back.insert(jurisdiction, to_claw_back);
            fixture.recoverable.insert(jurisdiction, recoverable);
        }
        Ok(fixture)
    }

    /// Moves the clock to the phase and builds what it needs.
    async fn enter(&mut self, phase: Phase) -> anyhow::Result<()> {
        match phase {
            Phase::Opening => {}
            Phase::Payment => {
                set_clock(&self.client, &nine_am("2025-03-19")).await?;
                for jurisdiction in JURISDICTIONS {
                    let mut disbursed: Vec<String> =
                        self.to_claw_back.get(&jurisdiction).cloned().unwrap_or_default();
                    disbursed.push(self.recoverable.get(&jurisdiction).context("recoverable")?.clone());
                    for redemption_id in disbursed {
                        self.disburse(jurisdiction, &redemption_id).await?;
                    }
                }
            }
            Phase::Audit => {
                set_clock(&self.client, &nine_am("2026-01-05")).await?;
            }
        }
        Ok(())
    }

    fn number(&mut self) -> u32 {
        let n = self.next_code;
        self.next_code += 1;
        n
    }

    /// POSTs a fixture command and checks its status; returns the answer's body.
    async fn command(
        &self,
        path: &str,
        bearer: Option<&str>,
        body: &Value,
        status: u16,
    ) -> anyhow::Result<Value> {
        let answer = self.client.post_raw(path, bearer, &body.to_string(), None).await?;
        anyhow::ensure!(answer.status == status, "fixture POST {path} {body}: {answer:?}");
        Ok(answer.body)
    }

    /// Dismisses, as the bureau of `jurisdiction`, every objection still open against the item at `path`.
    async fn rule_open_objections(&self, jurisdiction: Jurisdiction, path: &str) -> anyhow::Result<()> {
        let bureau = staff(Role::Bureau, jurisdiction);
        let answer = self.client.get(path, Some(&bureau)).await?;
        anyhow::ensure!(answer.status == 200, "fixture GET {path}: {answer:?}");
        let objections = answer.body["objections"].as_array().cloned().unwrap_or_default();
        for objection in objections.iter().filter(|objection| objection["ruling"].is_null()) {
            let objection_id = text(objection, "objection_id")?;
            let ruling = json!({ "ruling": "dismissed", "reason": "roles matrix: clearing open objections" });
            self.command(&format!("/v1/objections/{objection_id}/ruling"), Some(&bureau), &ruling, 200)
                .await?;
        }
        Ok(())
    }

    /// A fresh provider of `jurisdiction` that has applied (offering inspection testing); its credit code.
    async fn applied_provider(&mut self, jurisdiction: Jurisdiction) -> anyhow::Result<String> {
        let code = credit_code(self.number());
        let body = json!({ "name": format!("provider {code}"), "categories": [TESTING],
            "qualifications": [document(&format!("licence {code}.pdf"))], "contact": "0851-0000000" });
        self.command("/v1/providers", Some(&provider_bearer(jurisdiction, &code)), &body, 201).await?;
        Ok(code)
    }

    /// A fresh provider approved by the bureau today (its admission announcement is open).
    async fn approved_provider(&mut self, jurisdiction: Jurisdiction) -> anyhow::Result<String> {
        let code = self.applied_provider(jurisdiction).await?;
        let path = format!("/v1/providers/{code}/decision");
        let bureau = staff(Role::Bureau, jurisdiction);
        self.command(&path, Some(&bureau), &json!({ "decision": "approved" }), 200).await?;
        Ok(code)
    }

    /// A fresh registered (not verified) enterprise of `jurisdiction`; its credit code.
    async fn registered_applicant(&mut self, jurisdiction: Jurisdiction) -> anyhow::Result<String> {
        let n = self.number();
        let code = credit_code(n);
        let body = json!({ "credit_code": code, "name": format!("enterprise {n}"), "kind": "enterprise",
            "jurisdiction": jurisdiction, "industry": "advanced_equipment",
            "independent_legal_person": true, "tax_compliant": true });
        let own = applicant_bearer(jurisdiction, Kind::Enterprise, &code);
        self.command("/v1/applicants", Some(&own), &body, 201).await?;
        Ok(code)
    }

    fn holder(&self, jurisdiction: Jurisdiction, kind: Kind) -> anyhow::Result<&Holder> {
        self.holders.get(&(jurisdiction, kind)).context("holder")
    }

    fn provider(&self, jurisdiction: Jurisdiction) -> anyhow::Result<String> {
        self.providers.get(&jurisdiction).cloned().context("provider")
    }

    fn terms(&self, jurisdiction: Jurisdiction, kind: Kind) -> anyhow::Result<Value> {
        let holder = self.holder(jurisdiction, kind)?;
        Ok(contract_body(&holder.voucher_id, &self.provider(jurisdiction)?, TESTING, AMOUNT, AMOUNT))
    }

    fn party_bearer(&self, jurisdiction: Jurisdiction, kind: Kind, party: On) -> anyhow::Result<String> {
        Ok(match party {
            On::Provider => provider_bearer(jurisdiction, &self.provider(jurisdiction)?),
            _ => applicant_bearer(jurisdiction, kind, &self.holder(jurisdiction, kind)?.code),
        })
    }

    /// A fresh contract submitted by `by` (the provider or the applicant); its id.
    async fn submitted(&self, jurisdiction: Jurisdiction, kind: Kind, by: On) -> anyhow::Result<String> {
        let bearer = self.party_bearer(jurisdiction, kind, by)?;
        let answer =
            self.command("/v1/contracts", Some(&bearer), &self.terms(jurisdiction, kind)?, 201).await?;
        text(&answer, "contract_id")
    }

    /// A fresh contract submitted by the provider and signed by the applicant.
    async fn signed(&self, jurisdiction: Jurisdiction, kind: Kind) -> anyhow::Result<String> {
        let contract_id = self.submitted(jurisdiction, kind, On::Provider).await?;
        let applicant = self.party_bearer(jurisdiction, kind, On::Applicant)?;
        let path = format!("/v1/contracts/{contract_id}/signature");
        self.command(&path, Some(&applicant), &json!({}), 200).await?;
        Ok(contract_id)
    }

    /// A fresh contract filed by the service center.
    async fn filed(&self, jurisdiction: Jurisdiction, kind: Kind) -> anyhow::Result<String> {
        let contract_id = self.signed(jurisdiction, kind).await?;
        let path = format!("/v1/contracts/{contract_id}/filing");
        self.command(&path, Some(&staff(Role::ServiceCenter, jurisdiction)), &json!({}), 200).await?;
        Ok(contract_id)
    }

    /// A fresh contract whose service the applicant confirmed complete.
    async fn completed(&self, jurisdiction: Jurisdiction, kind: Kind) -> anyhow::Result<String> {
        let contract_id = self.filed(jurisdiction, kind).await?;
        let applicant = self.party_bearer(jurisdiction, kind, On::Applicant)?;
        let path = format!("/v1/contracts/{contract_id}/completion");
        self.command(&path, Some(&applicant), &json!({}), 200).await?;
        Ok(contract_id)
    }

    /// A fresh redemption requested by the provider of a completed contract (an enterprise's voucher).
    async fn requested_redemption(&self, jurisdiction: Jurisdiction) -> anyhow::Result<String> {
        let contract_id = self.completed(jurisdiction, Kind::Enterprise).await?;
        let provider = self.party_bearer(jurisdiction, Kind::Enterprise, On::Provider)?;
        let answer =
            self.command("/v1/redemptions", Some(&provider), &redemption_body(&contract_id), 201).await?;
        text(&answer, "redemption_id")
    }

    /// A fresh redemption approved in full by the jurisdiction's reviewer.
    async fn approved_redemption(&self, jurisdiction: Jurisdiction) -> anyhow::Result<String> {
        let redemption_id = self.requested_redemption(jurisdiction).await?;
        let path = format!("/v1/redemptions/{redemption_id}/review");
        let reviewer = staff(Role::Reviewer, jurisdiction);
        self.command(&path, Some(&reviewer), &json!({ "decision": "full" }), 200).await?;
        Ok(redemption_id)
    }

    async fn disburse(&self, jurisdiction: Jurisdiction, redemption_id: &str) -> anyhow::Result<()> {
        let path = format!("/v1/redemptions/{redemption_id}/disbursement");
        let body = json!({ "payment_reference": format!("PAY-{redemption_id}") });
        self.command(&path, Some(&staff(Role::Bureau, jurisdiction)), &body, 200).await?;
        Ok(())
    }

    /// Builds the request of `endpoint` by `role` (speaking for `identity`) of `actor` against a fresh
    /// `target`. `role` None is the public (no token).
    async fn prepare(
        &mut self,
        endpoint: Endpoint,
        role: Option<Role>,
        identity: Identity,
        actor: Jurisdiction,
        target: Target,
    ) -> anyhow::Result<Case> {
        let jurisdiction = target.jurisdiction.unwrap_or(actor);
        let role_kind = role.and_then(kind_of);
        let kind = target.kind.or(role_kind).unwrap_or(Kind::Enterprise);
        // The parties concerned: by default the provider and the applicant of the target's contracts.
        let mut provider = self.provider(jurisdiction)?;
        let mut applicant = self.holder(jurisdiction, kind)?.code.clone();
        let target_kind = target.kind.unwrap_or(Kind::Enterprise);
        let (path, body) = match endpoint {
            Endpoint::ProviderApplication => {
                // Whoever applies, applies as the fresh code of its token.
                let code = credit_code(self.number());
                provider.clone_from(&code);
                applicant.clone_from(&code);
                let body = json!({ "name": format!("provider {code}"), "categories": [TESTING],
                    "qualifications": [document(&format!("licence {code}.pdf"))], "contact": "0851-1111111" });
                ("/v1/providers".to_owned(), body)
            }
            Endpoint::ProviderDecision | Endpoint::ProviderSuspension => {
                provider = self.applied_provider(jurisdiction).await?;
                if endpoint == Endpoint::ProviderDecision {
                    (format!("/v1/providers/{provider}/decision"), json!({ "decision": "approved" }))
                } else {
                    (format!("/v1/providers/{provider}/suspension"), json!({ "reason": "roles matrix" }))
                }
            }
            Endpoint::ObjectionFiling | Endpoint::ObjectionRuling => {
                let (against, item) = if target.on == On::Provider {
                    provider = self.announced_providers.get(&jurisdiction).context("announced")?.clone();
                    (json!({ "kind": "provider", "provider": provider }), format!("/v1/providers/{provider}"))
                } else {
                    let redemption_id = self.announced_redemptions.get(&jurisdiction).context("announced")?;
                    (
                        json!({ "kind": "redemption", "redemption_id": redemption_id }),
                        format!("/v1/redemptions/{redemption_id}"),
                    )
                };
                // The matrix files many objections against one item; an item takes only so many open at
                // once (too_many_objections_open), so the bureau rules on those left open first.
                self.rule_open_objections(jurisdiction, &item).await?;
                let objection = json!({ "target": against, "text": "roles matrix objection" });
                if endpoint == Endpoint::ObjectionFiling {
                    ("/v1/objections".to_owned(), objection)
                } else {
                    let answer = self.command("/v1/objections", None, &objection, 201).await?;
                    let objection_id = text(&answer, "objection_id")?;
                    let ruling = json!({ "ruling": "dismissed", "reason": "roles matrix ruling" });
                    (format!("/v1/objections/{objection_id}/ruling"), ruling)
                }
            }
            Endpoint::ContractSubmission => {
                ("/v1/contracts".to_owned(), self.terms(jurisdiction, target_kind)?)
            }
            Endpoint::ContractSignature => {
                let contract_id = self.submitted(jurisdiction, target_kind, target.on).await?;
                (format!("/v1/contracts/{contract_id}/signature"), json!({}))
            }
            Endpoint::ContractFiling => {
                let contract_id = self.signed(jurisdiction, target_kind).await?;
                (format!("/v1/contracts/{contract_id}/filing"), json!({}))
            }
            Endpoint::ContractRejection => {
                let contract_id = self.signed(jurisdiction, target_kind).await?;
                (format!("/v1/contracts/{contract_id}/rejection"), json!({ "reason": "roles matrix" }))
            }
            Endpoint::ContractCancellation => {
                let contract_id = self.filed(jurisdiction, target_kind).await?;
                (format!("/v1/contracts/{contract_id}/cancellation"), json!({ "reason": "roles matrix" }))
            }
            Endpoint::ServiceCompletion => {
                let contract_id = self.filed(jurisdiction, target_kind).await?;
                (format!("/v1/contracts/{contract_id}/completion"), json!({}))
            }
            Endpoint::ServiceRating => {
                let contract_id = self.completed(jurisdiction, target_kind).await?;
                let rating = json!({ "quality": 5, "timeliness": 4, "professionalism": 5, "text": "fine" });
                (format!("/v1/contracts/{contract_id}/rating"), rating)
            }
            Endpoint::RedemptionRequest => {
                let contract_id = self.completed(jurisdiction, target_kind).await?;
                ("/v1/redemptions".to_owned(), redemption_body(&contract_id))
            }
            Endpoint::RedemptionReview => {
                let redemption_id = self.requested_redemption(jurisdiction).await?;
                (format!("/v1/redemptions/{redemption_id}/review"), json!({ "decision": "full" }))
            }
            Endpoint::RedemptionAnnouncement => {
                let redemption_id = self.approved_redemption(jurisdiction).await?;
                let body = json!({ "jurisdiction": jurisdiction, "redemption_ids": [redemption_id] });
                ("/v1/announcements".to_owned(), body)
            }
            Endpoint::RedemptionDisbursement => {
                let pool = self.payable.get_mut(&jurisdiction).context("payable pool")?;
                let redemption_id = pool.pop().context("the payable pool is exhausted")?;
                let body = json!({ "payment_reference": format!("PAY-{redemption_id}") });
                (format!("/v1/redemptions/{redemption_id}/disbursement"), body)
            }
            Endpoint::RedemptionDenial => {
                let redemption_id = self.requested_redemption(jurisdiction).await?;
                let body = json!({ "ground": "fraud", "reason": "roles matrix" });
                (format!("/v1/redemptions/{redemption_id}/denial"), body)
            }
            Endpoint::SampleDraw | Endpoint::FindingRecord => {
                let draw = json!({ "jurisdiction": jurisdiction, "year": 2025, "size": 1,
                    "seed": format!("roles-{}", self.number()) });
                if endpoint == Endpoint::SampleDraw {
                    ("/v1/audits/samples".to_owned(), draw)
                } else {
                    let auditor = staff(Role::Auditor, jurisdiction);
                    let sample = self.command("/v1/audits/samples", Some(&auditor), &draw, 201).await?;
                    let sample_id = text(&sample, "sample_id")?;
                    let contract_id = sample["contract_ids"][0].as_str().context("an empty sample")?;
                    let body = json!({ "contract_id": contract_id, "finding": "compliant", "note": "" });
                    (format!("/v1/audits/samples/{sample_id}/findings"), body)
                }
            }
            Endpoint::ClawbackOrder => {
                let pool = self.to_claw_back.get_mut(&jurisdiction).context("clawback pool")?;
                let redemption_id = pool.pop().context("the clawback pool is exhausted")?;
                let body =
                    json!({ "redemption_id": redemption_id, "amount": AMOUNT, "reason": "roles matrix" });
                ("/v1/clawbacks".to_owned(), body)
            }
            Endpoint::RecoveryRecord => {
                let redemption_id = self.recoverable.get(&jurisdiction).context("recoverable")?;
                let order =
                    json!({ "redemption_id": redemption_id, "amount": "1.00", "reason": "roles matrix" });
                let bureau = staff(Role::Bureau, jurisdiction);
                let answer = self.command("/v1/clawbacks", Some(&bureau), &order, 201).await?;
                let clawback_id = text(&answer, "clawback_id")?;
                (format!("/v1/clawbacks/{clawback_id}/recoveries"), json!({ "amount": "1.00" }))
            }
            Endpoint::Referral => {
                let party = if target.on == On::Provider {
                    provider = self.applied_provider(jurisdiction).await?;
                    provider.clone()
                } else {
                    applicant = self.registered_applicant(jurisdiction).await?;
                    applicant.clone()
                };
                let body = json!({ "party": party, "authority": "roles matrix authority", "note": "" });
                ("/v1/referrals".to_owned(), body)
            }
        };
        let Some(role) = role else { return Ok(Case { path, body, token: None }) };
        let subject = format!("{role}-{actor}");
        let code = match (identity, role_kind) {
            (Identity::Staff, _) => None,
            (Identity::Own, None) => Some(provider),
            (Identity::Own, Some(_)) => Some(applicant),
            (Identity::Impostor, None) => Some(self.rivals.get(&jurisdiction).context("rival")?.clone()),
            (Identity::Impostor, Some(own_kind)) => {
                Some(self.strangers.get(&(jurisdiction, own_kind)).context("stranger")?.clone())
            }
        };
        Ok(Case { path, body, token: Some(token(role, actor, &subject, code.as_deref())) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_regulation_endpoint_by_every_role_in_both_jurisdictions() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let data = tempfile::tempdir()?;
    let server = InProcessServer::start(data.path(), MORNING).await?;
    let client = Client::new(&server.base);
    let mut fixture = Fixture::new(client.clone()).await?;

    let mut failures = Vec::new();
    let (mut checked, mut allowed, mut forbidden, mut unauthenticated) = (0usize, 0usize, 0usize, 0usize);
    for phase in PHASES {
        fixture.enter(phase).await?;
        for endpoint in Endpoint::ALL.into_iter().filter(|endpoint| endpoint.phase() == phase) {
            for target in endpoint.targets() {
                let mut cases = Vec::new();
                for role in ROLES {
                    for identity in identities(endpoint, role) {
                        for actor in JURISDICTIONS {
                            cases.push((Some(role), identity, actor));
                        }
                    }
                }
                // The public, without a token.
                cases.push((None, Identity::Staff, target.jurisdiction.unwrap_or(Jurisdiction::Guiyang)));
                for (role, identity, actor) in cases {
                    let expected = match role {
                        Some(role) => oracle(endpoint, role, identity, actor, target),
                        None => endpoint == Endpoint::ObjectionFiling,
                    };
                    let case = fixture.prepare(endpoint, role, identity, actor, target).await?;
                    let before = head_position(&client).await?;
                    let answer = client
                        .post_raw(&case.path, case.token.as_deref(), &case.body.to_string(), None)
                        .await?;
                    let after = head_position(&client).await?;
                    checked += 1;
                    let who = match role {
                        Some(role) => format!("{role} ({identity:?}) of {actor}"),
                        None => "the public (no token)".to_owned(),
                    };
                    let what =
                        format!("{endpoint:?} by {who} on {target:?}: POST {} {}", case.path, case.body);
                    let wanted = if expected {
                        allowed += 1;
                        Ok(endpoint.accepted_status())
                    } else if role.is_some() {
                        forbidden += 1;
                        Err((403, "forbidden"))
                    } else {
                        unauthenticated += 1;
                        Err((401, "invalid_token"))
                    };
                    failures.extend(wrong(&what, &answer, wanted, before, after));
                }
            }
        }
    }

    println!(
        "roles_regulation: checked={checked} allowed={allowed} forbidden={forbidden} unauthenticated={unauthenticated} ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    server.stop().await;
    assert!(failures.is_empty(), "{} role check(s) failed:\n{}", failures.len(), failures.join("\n"));
    Ok(())
}
