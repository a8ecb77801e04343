//! What the given/when/then tests of `domain` share: folding a history, deciding a command with the
//! invariants checked after every acceptance, and the small constructors of dates, amounts, codes, ids,
//! actors and documents. Each test binary uses a part of it.
#![allow(dead_code)]

use std::borrow::Borrow;

use chrono::NaiveDate;
use domain::document::{Document, Sha256Hex};
use domain::{
    Actor, ApplicantKind, Cny, Command, Context, CreditCode, Event, Jurisdiction, Rejection, Role, State,
};
use uuid::Uuid;

pub const GY: Jurisdiction = Jurisdiction::Guiyang;
pub const GA: Jurisdiction = Jurisdiction::Guian;

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
    }
    outcome
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
pub fn batch_guide(valid_until: &str, categories: &[&str]) -> domain::event::BatchGuide {
    domain::event::BatchGuide {
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
pub fn enterprise_registration(n: u32) -> domain::event::Registration {
    domain::event::Registration {
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
