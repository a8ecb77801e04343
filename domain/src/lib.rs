//! The pure core of the voucher ledger: money, identities, policy, calendar, commands, events, `decide` and
//! `evolve`, double-entry postings and the invariants of SPEC §5.
//!
//! # Architecture invariant
//! This crate does no I/O and reads no clock: time, ids and the acting party arrive as inputs in
//! [`Context`] and in the commands. It depends on no async runtime, no protobuf, no web framework and no
//! database (a test in `tests/it/dependencies.rs` checks the manifest). Its outputs are events and rejections.

pub mod actor;
pub mod bounds;
pub mod calendar;
pub mod command;
pub mod credit_code;
pub mod decide;
pub mod document;
pub mod event;
pub mod field;
pub mod ledger;
pub mod money;
pub mod policy;
pub mod rejection;
pub mod state;

pub use actor::{Actor, ApplicantKind, Jurisdiction, Role, UnknownName};
pub use calendar::{Calendar, CalendarError, CalendarYear};
pub use command::{Command, Context, VerificationDecision};
pub use credit_code::{CreditCode, CreditCodeError};
pub use decide::decide;
pub use event::Event;
pub use ledger::{Account, AccountKind, Ledger, Posting, Violation};
pub use money::{Balance, Cny, MoneyError, Share};
pub use policy::{PolicyBook, PolicyError, PolicyVersion};
pub use rejection::{Rejection, RejectionClass};
pub use state::State;

/// Asia/Shanghai has been UTC+8 without daylight saving since 1991; business dates are taken in it.
pub const SHANGHAI_OFFSET_SECONDS: i32 = 8 * 3600;

/// The business date (Asia/Shanghai) of an instant.
///
/// # Example
/// ```
/// use chrono::{TimeZone, Utc, NaiveDate};
/// let instant = Utc.with_ymd_and_hms(2025, 12, 31, 16, 30, 0).unwrap();
/// assert_eq!(domain::business_date(instant), NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
/// ```
pub fn business_date(instant: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    // Checked: at chrono's last instant the offset would overflow; the last date is the answer then.
    let offset = chrono::TimeDelta::seconds(i64::from(SHANGHAI_OFFSET_SECONDS));
    instant.naive_utc().checked_add_signed(offset).map_or(chrono::NaiveDate::MAX, |local| local.date())
}
