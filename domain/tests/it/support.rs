//! What the given/when/then tests of `domain` share: folding a history, deciding a command with the
//! invariants checked after every acceptance, and the small constructors of dates, amounts, codes, ids,
//! actors and documents. Each test binary uses a part of it.
#![allow(dead_code)]

use std::borrow::Borrow;

use chrono::NaiveDate;
use domain::document::{Document, Sha256Hex};
use domain::event::{BatchGuide, ProviderApplication, Registration};
use domain::{
    Account, Actor, ApplicantKind, Cny, Command, Context, CreditCode, Event, Jurisdiction, Rejection, Role,
    State,
};
use uuid::Uuid;

pub const GY: Jurisdiction = Jurisdiction::Guiyang;
pub const GA: Jurisdiction = Jurisdiction::Guian;

/// The credit code numbers of the applicant and the provider of the shared program, and its batch and voucher ids.
pub const APPLICANT: u32 = 1;
pub const PROVIDER: u32 = 500;
pub const BATCH: u128 = 7;
pub const VOUCHER: u128 = 77;

/// The state a history folds to.
pub fn fold(events: &[Event]) -> State {
    let mut state = State::new();
    for event in events {
        state.evolve(event);
    }
    state
}

/// Folds `given`, decides `command` as `actor` on `date`, and checks every state invariant
/// (`State::violations`: the ledger's and the vouchers') after an acceptance.
pub fn check(
    given: &[Event],
    actor: &Actor,
    date: &str,
    command: impl Borrow<Command>,
) -> Result<Vec<Event>, Rejection> {
    let command = command.borrow();
    let state = fold(given);
    let context =
        Context { actor: actor.clone(), business_date: day(date), log_position: given.len() as u64 };
    let outcome = domain::decide(&state, &context, command);
    if let Ok(events) = &outcome {
        let mut after = state.clone();
        for event in events {
            after.evolve(event);
        }
        assert_eq!(after.violations(), vec![], "invariants broken by {command:?}");
        assert_deadline_index(&after);
    }
    outcome
}

/// The dates worth asking the scheduler about in `state`: every open deadline's date, the days around it,
/// and the ends of the calendar.
pub fn scheduler_dates(state: &State) -> Vec<NaiveDate> {
    let mut dates = vec![NaiveDate::MIN, NaiveDate::MAX];
    for (date, _) in state.deadlines_by_scan() {
        dates.extend([date.pred_opt(), Some(date), date.succ_opt()].into_iter().flatten());
    }
    dates.sort();
    dates.dedup();
    dates
}

/// The deadline index `evolve` keeps equals a rebuild from the whole state, and the scheduler's answer from
/// it equals the full scan's at every date around every deadline.
pub fn assert_deadline_index(state: &State) {
    assert_eq!(
        state.deadline_index(),
        &state.deadlines_by_scan(),
        "the deadline index drifted from the state"
    );
    for date in scheduler_dates(state) {
        assert_eq!(
            domain::decide::due_commands(state, date),
            domain::decide::due_commands_by_scan(state, date),
            "due commands on {date}"
        );
    }
}

/// Decides and, when accepted, appends the events to `given`; returns the outcome's code.
pub fn step(given: &mut Vec<Event>, actor: &Actor, date: &str, command: Command) -> &'static str {
    match check(given, actor, date, command) {
        Ok(events) => {
            given.extend(events);
            "accepted"
        }
        Err(rejection) => rejection.code(),
    }
}

/// `accepted`, or the rejection's stable code.
pub fn outcome_code(outcome: impl Borrow<Result<Vec<Event>, Rejection>>) -> &'static str {
    match outcome.borrow() {
        Ok(_) => "accepted",
        Err(rejection) => rejection.code(),
    }
}

pub fn day(text: &str) -> NaiveDate {
    text.parse().expect("test date")
}

pub fn cny(text: &str) -> Cny {
    Cny::parse(text).expect("test amount")
}

/// A valid unified social credit code numbered `n`.
pub fn code(n: u32) -> CreditCode {
    domain::credit_code::with_check_character(&format!("915201{n:011}")).expect("valid code")
}

pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// Staff of `role` in Guiyang.
pub fn staff(role: Role) -> Actor {
    Actor { subject: format!("{role}"), role, jurisdiction: Some(GY), credit_code: None }
}

/// The applicant numbered `n` of `kind` in `jurisdiction`, acting for itself.
pub fn applicant_actor(kind: ApplicantKind, n: u32, jurisdiction: Jurisdiction) -> Actor {
    let role = match kind {
        ApplicantKind::Enterprise => Role::Enterprise,
        ApplicantKind::ProjectEntity => Role::ProjectEntity,
    };
    Actor {
        subject: format!("applicant-{n}"),
        role,
        jurisdiction: Some(jurisdiction),
        credit_code: Some(code(n)),
    }
}

/// The enterprise [`APPLICANT`] of Guiyang, acting for itself.
pub fn applicant() -> Actor {
    Actor {
        subject: "ent".into(),
        role: Role::Enterprise,
        jurisdiction: Some(GY),
        credit_code: Some(code(APPLICANT)),
    }
}

/// Provider `n` of Guiyang, acting for itself.
pub fn provider_of(n: u32) -> Actor {
    Actor {
        subject: format!("prov{n}"),
        role: Role::Provider,
        jurisdiction: Some(GY),
        credit_code: Some(code(n)),
    }
}

/// The provider [`PROVIDER`], acting for itself.
pub fn provider() -> Actor {
    provider_of(PROVIDER)
}

/// The balance of a Guiyang account after `given`.
pub fn balance(given: &[Event], account: Account) -> String {
    fold(given).ledger.balance(GY, &account).to_string()
}

pub fn system() -> Actor {
    Actor { subject: "scheduler".into(), role: Role::System, jurisdiction: None, credit_code: None }
}

pub fn public() -> Actor {
    Actor { subject: "anyone".into(), role: Role::Public, jurisdiction: None, credit_code: None }
}

pub fn document(name: &str) -> Document {
    Document {
        sha256: Sha256Hex::parse(&"ab".repeat(32)).expect("digest"),
        name: name.into(),
        size_bytes: 1024,
    }
}

/// A 2025 Guiyang batch of 1,000,000.00 in vouchers of 100,000.00 for aluminium enterprises, claimable from
/// March to June, paying at most 80% of a contract, redeemable 60 days after completion, under the shipped
/// Measures; its vouchers are valid until `valid_until` and pay for `categories`.
pub fn batch_guide(valid_until: &str, categories: &[&str]) -> BatchGuide {
    BatchGuide {
        jurisdiction: GY,
        fiscal_year: 2025,
        name: "batch".into(),
        total: cny("1000000.00"),
        face_value: cny("100000.00"),
        eligible_kinds: [ApplicantKind::Enterprise].into_iter().collect(),
        eligible_industries: ["aluminum".to_owned()].into_iter().collect(),
        eligible_categories: categories.iter().map(|category| (*category).to_owned()).collect(),
        claim_opens: day("2025-03-01"),
        claim_closes: day("2025-06-30"),
        valid_until: day(valid_until),
        redemption_days: 60,
        max_voucher_share: domain::Share::parse("0.8").expect("share"),
        policy_id: "measures-2023".into(),
    }
}

/// An attested aluminium enterprise of Guiyang with credit code number `n`.
pub fn enterprise_registration(n: u32) -> Registration {
    Registration {
        credit_code: code(n),
        name: "aluminium works".into(),
        kind: ApplicantKind::Enterprise,
        jurisdiction: GY,
        industry: Some("aluminum".into()),
        project_code: None,
        independent_legal_person: true,
        tax_compliant: true,
    }
}

/// Provider `n`'s application, under `name`, to offer inspection testing, with its CMA certificate.
pub fn provider_application(n: u32, name: &str) -> ProviderApplication {
    ProviderApplication {
        provider: code(n),
        name: name.into(),
        jurisdiction: GY,
        categories: ["inspection_testing".to_owned()].into_iter().collect(),
        qualifications: vec![document("CMA certificate.pdf")],
        contact: "0851-1234567".into(),
    }
}

/// A funded 2025 program: 5,000,000.00 appropriated, batch [`BATCH`] published with `guide`, the applicant
/// of `registration` verified and holding voucher [`VOUCHER`] of 100,000.00 valid until the guide's
/// `valid_until`, and the provider of `application` approved (announced 2025-03-03 to 2025-03-10) and
/// admitted.
pub fn admitted_program(
    guide: BatchGuide,
    registration: Registration,
    application: ProviderApplication,
) -> Vec<Event> {
    let applicant = registration.credit_code.clone();
    let provider = application.provider.clone();
    let valid_until = guide.valid_until;
    vec![
        Event::BudgetAppropriated { jurisdiction: GY, fiscal_year: 2025, amount: cny("5000000.00") },
        Event::BatchPublished { batch_id: id(BATCH), guide },
        Event::ApplicantRegistered { registration },
        Event::ApplicantVerified { credit_code: applicant.clone() },
        Event::VoucherIssued {
            voucher_id: id(VOUCHER),
            batch_id: id(BATCH),
            jurisdiction: GY,
            applicant,
            kind: ApplicantKind::Enterprise,
            face_value: cny("100000.00"),
            cap_year: 2025,
            annual_cap: cny("5000000.00"),
            valid_until,
        },
        Event::ProviderApplied { application },
        Event::ProviderApproved {
            provider: provider.clone(),
            announced_on: day("2025-03-03"),
            announcement_closes: day("2025-03-10"),
        },
        Event::ProviderAdmitted { provider },
    ]
}

/// The command that publishes `guide` as batch `batch_id`, with `redemption_days` as given and the policy's
/// default share cap.
pub fn publish_command(batch_id: Uuid, guide: &BatchGuide, redemption_days: Option<u32>) -> Command {
    Command::PublishBatch {
        batch_id,
        jurisdiction: guide.jurisdiction,
        fiscal_year: guide.fiscal_year,
        name: guide.name.clone(),
        total: guide.total,
        face_value: guide.face_value,
        eligible_kinds: guide.eligible_kinds.clone(),
        eligible_industries: guide.eligible_industries.clone(),
        eligible_categories: guide.eligible_categories.clone(),
        claim_opens: guide.claim_opens,
        claim_closes: guide.claim_closes,
        valid_until: guide.valid_until,
        redemption_days,
        max_voucher_share: None,
    }
}
