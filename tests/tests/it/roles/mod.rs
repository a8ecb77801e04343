//! SPEC §2 end to end: every command endpoint, sent by every token role from both jurisdictions against
//! targets in both jurisdictions; exactly the combinations SPEC §2 allows are accepted, every other one is
//! 403 `forbidden` (problem+json) and appends nothing. One matrix per part of the API: [`funding`] (budgets,
//! batches, applicants, claims, policy versions, calendar years) and [`regulation`] (the later lifecycles of
//! Measures art. 8-13). What both matrices share (the roles, the jurisdictions, the kinds of applicant) is
//! here.

use domain::{Jurisdiction, Role};
use e2e::Answer;

mod funding;
mod regulation;

const JURISDICTIONS: [Jurisdiction; 2] = [Jurisdiction::Guiyang, Jurisdiction::Guian];

/// The roles a bearer token may carry (SPEC §2 without `public`, which is unauthenticated).
const ROLES: [Role; 8] = [
    Role::Finance,
    Role::Bureau,
    Role::ServiceCenter,
    Role::Reviewer,
    Role::Auditor,
    Role::Enterprise,
    Role::ProjectEntity,
    Role::Provider,
];

/// The two kinds of applicant, as the API names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Enterprise,
    ProjectEntity,
}

const KINDS: [Kind; 2] = [Kind::Enterprise, Kind::ProjectEntity];

impl Kind {
    fn is_project_entity(self) -> bool {
        self == Kind::ProjectEntity
    }

    /// The token role of an applicant of this kind.
    fn role(self) -> Role {
        match self {
            Kind::Enterprise => Role::Enterprise,
            Kind::ProjectEntity => Role::ProjectEntity,
        }
    }
}

/// The kind of applicant a token role stands for (none for staff and providers).
fn kind_of(role: Role) -> Option<Kind> {
    KINDS.into_iter().find(|kind| kind.role() == role)
}

fn is_problem(answer: &Answer) -> bool {
    answer.content_type.starts_with("application/problem+json")
}

/// What is wrong with the answer to one command of a matrix, if anything. `wanted` is `Ok(status)` for an
/// allowed command (that status and an append) or `Err((status, code))` for a refused one (that status and
/// code as problem+json, and no append). `before` and `after` are the log heads around the command.
fn wrong(
    what: &str,
    answer: &Answer,
    wanted: Result<u16, (u16, &str)>,
    before: u64,
    after: u64,
) -> Option<String> {
    match wanted {
        Ok(accepted) if answer.status != accepted || after <= before => Some(format!(
            "{what}\n  expected {accepted} and an append, got {} {} (head {before} -> {after})",
            answer.status, answer.body
        )),
        Err((status, code))
            if answer.status != status || !is_problem(answer) || answer.code() != code || after != before =>
        {
            Some(format!(
                "{what}\n  expected {status} {code} problem+json and no append, got {} [{}] {} (head {before} -> {after})",
                answer.status, answer.content_type, answer.body
            ))
        }
        Ok(_) | Err(_) => None,
    }
}
