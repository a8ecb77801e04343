//! SPEC §2 end to end for budgets, batches, applicants, claims, policy versions and calendar years: every
//! command endpoint, sent by every token role from both jurisdictions against targets in both
//! jurisdictions. Exactly the combinations SPEC §2 allows are accepted; every other one is
//! 403 `forbidden` (problem+json) and appends nothing. Missing, foreign-key and expired tokens are 401.

use std::collections::BTreeMap;

use anyhow::Context as _;
use domain::{Actor, Jurisdiction, Role};
use e2e::{Client, InProcessServer, MORNING, credit_code, head_position, publish_batch, token};
use serde_json::{Value, json};

use super::{JURISDICTIONS, KINDS, Kind, ROLES, is_problem, kind_of, wrong};

/// The command endpoints of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Endpoint {
    Appropriation,
    BatchPublication,
    BatchClosure,
    Registration,
    Verification,
    Suspension,
    Claim,
    PolicyPublication,
    CalendarYearPublication,
}

impl Endpoint {
    const ALL: [Endpoint; 9] = [
        Endpoint::Appropriation,
        Endpoint::BatchPublication,
        Endpoint::BatchClosure,
        Endpoint::Registration,
        Endpoint::Verification,
        Endpoint::Suspension,
        Endpoint::Claim,
        Endpoint::PolicyPublication,
        Endpoint::CalendarYearPublication,
    ];

    /// The status of an accepted command.
    fn accepted_status(self) -> u16 {
        match self {
            Endpoint::BatchClosure | Endpoint::Verification | Endpoint::Suspension => 200,
            _ => 201,
        }
    }

    /// The targets the matrix tries: both jurisdictions, and for applicant commands both kinds of
    /// applicant; a policy version names the jurisdictions it covers (one each here); calendar years belong
    /// to no jurisdiction (one target).
    fn targets(self) -> Vec<Target> {
        match self {
            Endpoint::CalendarYearPublication => {
                vec![Target { jurisdiction: None, kind: None }]
            }
            Endpoint::Registration | Endpoint::Claim => JURISDICTIONS
                .iter()
                .flat_map(|&j| KINDS.iter().map(move |&k| Target { jurisdiction: Some(j), kind: Some(k) }))
                .collect(),
            _ => JURISDICTIONS.iter().map(|&j| Target { jurisdiction: Some(j), kind: None }).collect(),
        }
    }
}

/// What a command acts on: a jurisdiction's budget, batch or applicant (of a kind, for registrations and
/// claims), or nothing jurisdictional.
#[derive(Clone, Copy, Debug)]
struct Target {
    jurisdiction: Option<Jurisdiction>,
    kind: Option<Kind>,
}

/// The oracle, written from SPEC §2:
/// - finance appropriates its own jurisdiction's budget;
/// - the bureau publishes and closes its own jurisdiction's batches and suspends its applicants;
///   a bureau signs policy versions naming its own jurisdiction (SPEC §3 "Who publishes"; a version
///   naming one jurisdiction is in force with its one signature); any bureau publishes calendar years;
/// - the service center verifies the applicants of its jurisdiction; in guian the bureau may do what the
///   service center does;
/// - an enterprise or project entity registers itself (its kind, its credit code, its jurisdiction) and
///   claims, as itself, from batches of its jurisdiction;
/// - reviewer, auditor and provider issue none of these commands.
fn oracle(endpoint: Endpoint, role: Role, actor: Jurisdiction, target: Target) -> bool {
    let own = target.jurisdiction == Some(actor);
    let acts_as = match role {
        Role::Enterprise => Some(Kind::Enterprise),
        Role::ProjectEntity => Some(Kind::ProjectEntity),
        _ => None,
    };
    match endpoint {
        Endpoint::Appropriation => role == Role::Finance && own,
        Endpoint::BatchPublication | Endpoint::BatchClosure | Endpoint::Suspension => {
            role == Role::Bureau && own
        }
        Endpoint::Verification => {
            own && (role == Role::ServiceCenter || (role == Role::Bureau && actor == Jurisdiction::Guian))
        }
        Endpoint::Registration | Endpoint::Claim => own && acts_as.is_some() && acts_as == target.kind,
        Endpoint::PolicyPublication => role == Role::Bureau && own,
        Endpoint::CalendarYearPublication => role == Role::Bureau,
    }
}

/// A request ready to send.
struct Case {
    path: String,
    body: Value,
    token: String,
}

/// Builds fresh targets so that an allowed command can only succeed.
struct Fixture {
    client: Client,
    /// The batch of each jurisdiction claims are made from.
    claim_batches: BTreeMap<Jurisdiction, String>,
    /// A registered applicant of each kind in each jurisdiction (the identity of applicant tokens when the
    /// command is not about an applicant).
    residents: BTreeMap<(Jurisdiction, Kind), String>,
    next_applicant: u32,
    next_policy_year: i32,
    next_calendar_year: i32,
}

fn jurisdiction_of(target: Target) -> Jurisdiction {
    target.jurisdiction.unwrap_or(Jurisdiction::Guiyang)
}

fn batch_body(jurisdiction: Jurisdiction, total: &str) -> Value {
    json!({
        "jurisdiction": jurisdiction, "fiscal_year": 2025, "name": "roles batch",
        "total": total, "face_value": "50000.00",
        "eligible_kinds": ["enterprise", "project_entity"],
        "eligible_industries": ["advanced_equipment", "aluminum"],
        "eligible_categories": ["technology_innovation", "inspection_testing"],
        "claim_opens": "2025-03-01", "claim_closes": "2025-06-30", "valid_until": "2025-12-31"
    })
}

fn registration_body(code: &str, n: u32, kind: Kind, jurisdiction: Jurisdiction) -> Value {
    match kind {
        Kind::Enterprise => json!({
            "credit_code": code, "name": format!("enterprise {n}"), "kind": "enterprise",
            "jurisdiction": jurisdiction, "industry": "advanced_equipment",
            "independent_legal_person": true, "tax_compliant": true
        }),
        Kind::ProjectEntity => json!({
            "credit_code": code, "name": format!("project {n}"), "kind": "project_entity",
            "jurisdiction": jurisdiction, "project_code": format!("2025-520100-{n:06}"),
            "independent_legal_person": true, "tax_compliant": true
        }),
    }
}

fn policy_body(year: i32, jurisdiction: Jurisdiction) -> Value {
    json!({
        "id": format!("roles-{year}"), "title": "roles matrix successor", "jurisdictions": [jurisdiction],
        "effective_from": format!("{year}-01-01"), "effective_until": format!("{year}-12-31"),
        "annual_cap_enterprise": "5000000.00", "annual_cap_project_entity": "200000.00",
        "eligible_industries": ["advanced_equipment", "aluminum"],
        "service_categories": ["technology_innovation", "inspection_testing"],
        "redemption_announcement_working_days": 5, "provider_announcement_working_days": 5,
        "claims_per_batch": 1, "default_redemption_days": 60, "default_max_voucher_share": "1"
    })
}

fn calendar_body(year: i32) -> Value {
    json!({
        "year": year, "notice": format!("roles matrix notice {year}"),
        "holidays": [format!("{year}-01-01")], "working_weekends": []
    })
}

/// The credit code a provider token carries: a legal person that is not an applicant.
fn provider_code(jurisdiction: Jurisdiction) -> String {
    credit_code(if jurisdiction == Jurisdiction::Guiyang { 990_001 } else { 990_002 })
}

impl Fixture {
    async fn new(client: Client) -> anyhow::Result<Fixture> {
        let mut fixture = Fixture {
            client,
            claim_batches: BTreeMap::new(),
            residents: BTreeMap::new(),
            next_applicant: 1,
            next_policy_year: 2030,
            next_calendar_year: 2030,
        };
        for jurisdiction in JURISDICTIONS {
            // A large budget for the batches the matrix publishes and closes, and a batch to claim from.
            let batch =
                publish_batch(&fixture.client, jurisdiction, "100000000.00", "5000000.00", "50000.00")
                    .await?;
            fixture.claim_batches.insert(jurisdiction, batch);
            for kind in KINDS {
                let code = fixture.applicant(jurisdiction, kind, true).await?;
                fixture.residents.insert((jurisdiction, kind), code);
            }
        }
        Ok(fixture)
    }

    /// Registers a fresh applicant (verified when asked) and returns its credit code.
    async fn applicant(
        &mut self,
        jurisdiction: Jurisdiction,
        kind: Kind,
        verified: bool,
    ) -> anyhow::Result<String> {
        let n = self.next_applicant;
        self.next_applicant += 1;
        if verified {
            e2e::verified_applicant(&self.client, jurisdiction, n, kind.is_project_entity()).await?;
            return Ok(credit_code(n));
        }
        let code = credit_code(n);
        let role = if kind.is_project_entity() { Role::ProjectEntity } else { Role::Enterprise };
        let own = token(role, jurisdiction, &format!("applicant-{n}"), Some(&code));
        let answer = self
            .client
            .post("/v1/applicants", &own, &registration_body(&code, n, kind, jurisdiction))
            .await?;
        anyhow::ensure!(answer.status == 201, "registration of fixture applicant {n}: {answer:?}");
        Ok(code)
    }

    /// A fresh batch of `jurisdiction` (to be closed).
    async fn fresh_batch(&self, jurisdiction: Jurisdiction) -> anyhow::Result<String> {
        let bureau = token(Role::Bureau, jurisdiction, "bureau-fixture", None);
        let answer = self.client.post("/v1/batches", &bureau, &batch_body(jurisdiction, "50000.00")).await?;
        anyhow::ensure!(answer.status == 201, "fixture batch: {answer:?}");
        answer.body["batch_id"].as_str().map(str::to_owned).context("fixture batch id")
    }

    /// The credit code an actor's token carries when the command is not about an applicant: its own
    /// applicant for applicant roles, a provider's code for providers, none for staff.
    fn identity(&self, role: Role, actor: Jurisdiction) -> Option<String> {
        match (role, kind_of(role)) {
            (_, Some(kind)) => self.residents.get(&(actor, kind)).cloned(),
            (Role::Provider, None) => Some(provider_code(actor)),
            _ => None,
        }
    }

    /// Builds the request of `endpoint` by `role` of `actor` against a fresh `target`.
    async fn prepare(
        &mut self,
        endpoint: Endpoint,
        role: Role,
        actor: Jurisdiction,
        target: Target,
    ) -> anyhow::Result<Case> {
        let subject = format!("{role}-{actor}");
        let jurisdiction = jurisdiction_of(target);
        let mut identity = self.identity(role, actor);
        let (path, body) = match endpoint {
            Endpoint::Appropriation => {
                (format!("/v1/budgets/{jurisdiction}/2025/appropriations"), json!({ "amount": "1000.00" }))
            }
            Endpoint::BatchPublication => ("/v1/batches".to_owned(), batch_body(jurisdiction, "50000.00")),
            Endpoint::BatchClosure => {
                let batch = self.fresh_batch(jurisdiction).await?;
                (format!("/v1/batches/{batch}/closure"), json!({}))
            }
            Endpoint::Registration => {
                let n = self.next_applicant;
                self.next_applicant += 1;
                let code = credit_code(n);
                let kind = target.kind.unwrap_or(Kind::Enterprise);
                // Applicant and provider tokens carry the code being registered: only the applicant itself,
                // acting as its own kind in its own jurisdiction, may register it.
                if role == Role::Provider || kind_of(role).is_some() {
                    identity = Some(code.clone());
                }
                ("/v1/applicants".to_owned(), registration_body(&code, n, kind, jurisdiction))
            }
            Endpoint::Verification | Endpoint::Suspension => {
                // The target is a fresh pending applicant; an applicant token is that applicant itself.
                let kind = kind_of(role).unwrap_or(Kind::Enterprise);
                let code = self.applicant(jurisdiction, kind, false).await?;
                if kind_of(role).is_some() {
                    identity = Some(code.clone());
                }
                if endpoint == Endpoint::Verification {
                    (format!("/v1/applicants/{code}/verification"), json!({ "decision": "verified" }))
                } else {
                    (format!("/v1/applicants/{code}/suspension"), json!({ "reason": "roles matrix" }))
                }
            }
            Endpoint::Claim => {
                // Tokens that carry a credit code carry a fresh verified applicant of the target kind,
                // registered in the actor's jurisdiction (providers too, to try to claim for it).
                if identity.is_some() {
                    let kind = target.kind.unwrap_or(Kind::Enterprise);
                    identity = Some(self.applicant(actor, kind, true).await?);
                }
                let batch = self.claim_batches.get(&jurisdiction).context("claim batch")?;
                (format!("/v1/batches/{batch}/claims"), json!({}))
            }
            Endpoint::PolicyPublication => {
                let year = self.next_policy_year;
                self.next_policy_year += 1;
                ("/v1/policies".to_owned(), policy_body(year, jurisdiction))
            }
            Endpoint::CalendarYearPublication => {
                let year = self.next_calendar_year;
                self.next_calendar_year += 1;
                ("/v1/calendar/years".to_owned(), calendar_body(year))
            }
        };
        let token = token(role, actor, &subject, identity.as_deref());
        Ok(Case { path, body, token })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_endpoint_by_every_role_in_both_jurisdictions() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let server = InProcessServer::start(data.path(), MORNING).await?;
    let client = Client::new(&server.base);
    let mut fixture = Fixture::new(client.clone()).await?;

    let mut failures = Vec::new();
    let (mut checked, mut allowed, mut forbidden) = (0usize, 0usize, 0usize);
    for endpoint in Endpoint::ALL {
        for target in endpoint.targets() {
            for role in ROLES {
                for actor in JURISDICTIONS {
                    let expected = oracle(endpoint, role, actor, target);
                    let case = fixture.prepare(endpoint, role, actor, target).await?;
                    let before = head_position(&client).await?;
                    let answer = client.post(&case.path, &case.token, &case.body).await?;
                    let after = head_position(&client).await?;
                    checked += 1;
                    let what = format!(
                        "{endpoint:?} by {role} of {actor} on {target:?}: POST {} {}",
                        case.path, case.body
                    );
                    let wanted = if expected {
                        allowed += 1;
                        Ok(endpoint.accepted_status())
                    } else {
                        forbidden += 1;
                        Err((403, "forbidden"))
                    };
                    failures.extend(wrong(&what, &answer, wanted, before, after));
                }
            }
        }
    }

    // Impostors: an applicant token whose credit code is not the one registered, or whose jurisdiction is
    // not the applicant's, acts for no one.
    for actor in JURISDICTIONS {
        for kind in KINDS {
            let role = if kind.is_project_entity() { Role::ProjectEntity } else { Role::Enterprise };
            // Registering another code than the token's.
            let n = fixture.next_applicant;
            fixture.next_applicant += 1;
            let own = fixture.residents.get(&(actor, kind)).context("resident")?.clone();
            let body = registration_body(&credit_code(n), n, kind, actor);
            let impostor = token(role, actor, "impostor", Some(&own));
            let case = Case { path: "/v1/applicants".to_owned(), body, token: impostor };
            // Claiming with a token of the batch's jurisdiction for an applicant registered in the other one.
            let other =
                if actor == Jurisdiction::Guiyang { Jurisdiction::Guian } else { Jurisdiction::Guiyang };
            let foreign = fixture.applicant(other, kind, true).await?;
            let batch = fixture.claim_batches.get(&actor).context("claim batch")?;
            let claim = Case {
                path: format!("/v1/batches/{batch}/claims"),
                body: json!({}),
                token: token(role, actor, "impostor", Some(&foreign)),
            };
            for case in [case, claim] {
                let before = head_position(&client).await?;
                let answer = client.post(&case.path, &case.token, &case.body).await?;
                let after = head_position(&client).await?;
                checked += 1;
                forbidden += 1;
                if answer.status != 403
                    || !is_problem(&answer)
                    || answer.code() != "forbidden"
                    || after != before
                {
                    failures.push(format!(
                        "impostor {role} of {actor}: POST {} {}\n  expected 403 forbidden and no append, got {} [{}] {} (head {before} -> {after})",
                        case.path, case.body, answer.status, answer.content_type, answer.body
                    ));
                }
            }
        }
    }

    // Authentication: no token, a token signed with another key, an expired token: 401 `invalid_token`.
    let other_key = api::auth::Authenticator::new(b"another-key-of-at-least-32-bytes-xxxxxxxx")?;
    let signer = api::auth::Authenticator::new(e2e::SECRET.as_bytes())?;
    let now = chrono::Utc::now().timestamp();
    for endpoint in Endpoint::ALL {
        // A request that the right token would have had accepted.
        let (role, actor) = match endpoint {
            Endpoint::Appropriation => (Role::Finance, Jurisdiction::Guiyang),
            Endpoint::Verification => (Role::ServiceCenter, Jurisdiction::Guiyang),
            Endpoint::Registration | Endpoint::Claim => (Role::Enterprise, Jurisdiction::Guiyang),
            _ => (Role::Bureau, Jurisdiction::Guiyang),
        };
        let target = Target { jurisdiction: Some(actor), kind: Some(Kind::Enterprise) };
        let target =
            if endpoint.targets()[0].jurisdiction.is_none() { endpoint.targets()[0] } else { target };
        assert!(oracle(endpoint, role, actor, target), "{endpoint:?}: the control case must be allowed");
        let case = fixture.prepare(endpoint, role, actor, target).await?;
        let actor: Actor = signer.verify(&case.token)?;
        let foreign = other_key.mint(&actor, now, 3600)?;
        let expired = signer.mint(&actor, now - 7200, 600)?;
        let body = case.body.to_string();
        for (label, bearer) in
            [("no token", None), ("another key", Some(foreign.as_str())), ("expired", Some(expired.as_str()))]
        {
            let before = head_position(&client).await?;
            let answer = client.post_raw(&case.path, bearer, &body, None).await?;
            let after = head_position(&client).await?;
            if answer.status != 401
                || !is_problem(&answer)
                || answer.code() != "invalid_token"
                || after != before
            {
                failures.push(format!(
                    "{endpoint:?} with {label}: POST {} {body}\n  expected 401 invalid_token problem+json and no append, got {} [{}] {} (head {before} -> {after})",
                    case.path, answer.status, answer.content_type, answer.body
                ));
            }
        }
        // Control: the same request with the right token is accepted.
        let answer = client.post(&case.path, &case.token, &case.body).await?;
        if answer.status != endpoint.accepted_status() {
            failures.push(format!(
                "{endpoint:?} control with the right token: got {} {}",
                answer.status, answer.body
            ));
        }
    }

    println!("roles: checked={checked} allowed={allowed} forbidden={forbidden}");
    server.stop().await;
    assert!(failures.is_empty(), "{} role check(s) failed:\n{}", failures.len(), failures.join("\n"));
    Ok(())
}
