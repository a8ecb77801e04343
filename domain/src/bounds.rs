//! The bounds of every number, date, list and text a command carries, in one table, checked once at the
//! entry of [`crate::decide`] by [`check_bounds`].
//!
//! A value outside its bound is refused with `out_of_bounds` (a number, date, list or text) or `invalid_name`
//! (a party's or a batch's name), 422, before any rule looks at it; a refused command records nothing. The
//! bounds are far from any real use and close enough that no arithmetic on an accepted value can overflow:
//! a date within [`DATES`] plus at most [`MAX_REDEMPTION_DAYS`] days stays a valid date, a list is short
//! enough to fold in one request. Money needs no entry here: [`crate::Cny`] is at most
//! [`crate::Cny::MAX`] (10^12 yuan) by construction, so a sum of amounts overflows a [`crate::Balance`]
//! (about 7.9 × 10^26) only after some 10^14 commands.
//!
//! [`check_bounds`] matches every command kind without a catch-all arm: a new command does not compile until
//! its bounds are stated here.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use chrono::NaiveDate;

use crate::document::Document;
use crate::event::{Registration, ReviewOutcome};
use crate::{CalendarYear, Command, PolicyVersion, Rejection};

/// The business dates a command may name (claim windows, validity, contract terms, policy windows): the
/// ledger started in 2023 and the calendar and fiscal years end in 2100; a date outside is a typo.
pub const DATES: RangeInclusive<NaiveDate> =
    match (NaiveDate::from_ymd_opt(2000, 1, 1), NaiveDate::from_ymd_opt(2100, 12, 31)) {
        (Some(first), Some(last)) => first..=last,
        _ => panic!("the date window is a valid pair of dates"),
    };
/// The fiscal years a budget, a batch or an audit sample may name; anything outside is a typo.
pub const FISCAL_YEARS: RangeInclusive<i32> = 2000..=2100;
/// The years a holiday calendar may be published for (the shipped notices start in 2020; 1990 keeps room
/// for historical data, 2100 matches [`FISCAL_YEARS`]).
pub const CALENDAR_YEARS: RangeInclusive<i32> = 1990..=2100;
/// A batch's redemption deadline in days after completion: 1 day to ten years. A date in [`DATES`] plus
/// this many days is always a valid date (4294967295 days overflowed the date arithmetic).
pub const REDEMPTION_DAYS: RangeInclusive<u32> = 1..=MAX_REDEMPTION_DAYS;
/// The largest [`REDEMPTION_DAYS`] value.
pub const MAX_REDEMPTION_DAYS: u32 = 3650;
/// An announcement period in working days: a year of working days is the most any successor could mean, and
/// it keeps the calendar walk short. The lower limit is the Measures' own (art. 11: at least 5 working days),
/// a rule of policy validation (`invalid_policy`), not a bound of the input.
pub const ANNOUNCEMENT_WORKING_DAYS: RangeInclusive<u32> = 0..=250;
/// Claims one applicant may make on one batch under a policy version: the Measures say 1.
pub const CLAIMS_PER_BATCH: RangeInclusive<u32> = 1..=100;
/// The largest audit sample: more than any jurisdiction files contracts in a year at today's scale, and
/// small enough to rank in one request.
pub const MAX_SAMPLE_SIZE: u32 = 10_000;
/// Redemptions on one announcement list: a list is read by the public; the workload publishes lists of 200.
pub const MAX_ANNOUNCED_REDEMPTIONS: usize = 1_000;
/// Service categories or industries in one list (a batch's, a provider's, a policy's): the Measures name 13
/// categories and 7 industries.
pub const MAX_CATEGORIES: usize = 64;
/// Documents attached to one command (qualifications, service results).
pub const MAX_DOCUMENTS: usize = 100;
/// The largest document the ledger refers to, in bytes (it keeps the hash only): 4 GiB, far above any scan.
pub const MAX_DOCUMENT_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// Dates in one year's holiday notice (a year and the December before it).
pub const MAX_CALENDAR_DATES: usize = 400;
/// A name (applicant, provider, batch), in characters: Chinese legal names are under 60.
pub const MAX_NAME_CHARS: usize = 200;
/// A short label (a category, an industry, a project code, a policy id, a notice number, a document name,
/// a contact, an authority), in characters.
pub const MAX_LABEL_CHARS: usize = 200;
/// A payment reference, in characters: bank references are under 40.
pub const MAX_PAYMENT_REFERENCE_CHARS: usize = 100;
/// An audit sample's seed, in characters.
pub const MAX_SEED_CHARS: usize = 256;
/// A reason, a note or a rating's text, in characters: a paragraph or two.
pub const MAX_REASON_CHARS: usize = 2_000;
/// A contract's description, a policy's title or an objection's text, in characters.
pub const MAX_TEXT_CHARS: usize = 4_000;

/// Characters that reorder displayed text (bidirectional embeddings, overrides, isolates and marks): in a
/// name they make one party look like another.
const BIDI_CONTROLS: [char; 12] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
];

/// Checks every bound of `command`.
///
/// # Errors
/// `out_of_bounds` for a number, date, list or text outside its bound; `invalid_name` for a blank name, a
/// name too long, or one with control or bidirectional formatting characters.
pub fn check_bounds(command: &Command) -> Result<(), Rejection> {
    match command {
        Command::PublishPolicy { policy } => check_policy(policy),
        Command::PublishCalendarYear { calendar_year } => check_calendar_year(calendar_year),
        Command::AppropriateBudget { jurisdiction: _, fiscal_year, amount: _ } => {
            range("fiscal_year", *fiscal_year, &FISCAL_YEARS)
        }
        Command::PublishBatch {
            batch_id: _,
            jurisdiction: _,
            fiscal_year,
            name,
            total: _,
            face_value: _,
            eligible_kinds: _,
            eligible_industries,
            eligible_categories,
            claim_opens,
            claim_closes,
            valid_until,
            redemption_days,
            max_voucher_share: _,
        } => {
            range("fiscal_year", *fiscal_year, &FISCAL_YEARS)?;
            check_name("name", name)?;
            labels("eligible_industries", eligible_industries)?;
            labels("eligible_categories", eligible_categories)?;
            date("claim_opens", *claim_opens)?;
            date("claim_closes", *claim_closes)?;
            date("valid_until", *valid_until)?;
            match redemption_days {
                Some(days) => range("redemption_days", *days, &REDEMPTION_DAYS),
                None => Ok(()),
            }
        }
        Command::CloseBatch { batch_id: _ } => Ok(()),
        Command::RegisterApplicant { registration } => check_registration(registration),
        Command::DecideVerification { credit_code: _, decision: _, reason }
        | Command::SuspendApplicant { credit_code: _, reason }
        | Command::DecideProvider { provider: _, approve: _, reason }
        | Command::SuspendProvider { provider: _, reason }
        | Command::RuleOnObjection { objection_id: _, ruling: _, reason }
        | Command::RejectContract { contract_id: _, reason }
        | Command::CancelContract { contract_id: _, reason }
        | Command::DenyRedemption { redemption_id: _, ground: _, reason } => {
            text("reason", reason, MAX_REASON_CHARS)
        }
        Command::ClaimVoucher { batch_id: _, voucher_id: _ } => Ok(()),
        Command::ApplyAsProvider { name, categories, qualifications, contact } => {
            check_name("name", name)?;
            labels("categories", categories)?;
            documents("qualifications", qualifications)?;
            text("contact", contact, MAX_LABEL_CHARS)
        }
        Command::FileObjection { objection_id: _, target: _, text: objection } => {
            text("text", objection, MAX_TEXT_CHARS)
        }
        Command::SubmitContract {
            contract_id: _,
            voucher_id: _,
            provider: _,
            category,
            description,
            term_start,
            term_end,
            total: _,
            voucher_amount: _,
            document_sha256: _,
        } => {
            text("category", category, MAX_LABEL_CHARS)?;
            text("description", description, MAX_TEXT_CHARS)?;
            date("term_start", *term_start)?;
            date("term_end", *term_end)
        }
        Command::SignContract { contract_id: _ }
        | Command::FileContract { contract_id: _ }
        | Command::ConfirmCompletion { contract_id: _ } => Ok(()),
        Command::RateService {
            contract_id: _,
            quality: _,
            timeliness: _,
            professionalism: _,
            text: rating,
        } => text("text", rating, MAX_REASON_CHARS),
        Command::RequestRedemption {
            redemption_id: _,
            contract_id: _,
            invoice,
            remittance_proof,
            results,
        } => {
            document("invoice", invoice)?;
            document("remittance_proof", remittance_proof)?;
            documents("results", results)
        }
        Command::ReviewRedemption { redemption_id: _, outcome } => match outcome {
            ReviewOutcome::Full => Ok(()),
            ReviewOutcome::Reduced { approved: _, reason } | ReviewOutcome::Rejected { reason } => {
                text("reason", reason, MAX_REASON_CHARS)
            }
        },
        Command::AnnounceRedemptions { announcement_id: _, jurisdiction: _, redemption_ids } => {
            length("redemption_ids", redemption_ids.len(), MAX_ANNOUNCED_REDEMPTIONS)
        }
        Command::DisburseRedemption { redemption_id: _, payment_reference } => {
            text("payment_reference", payment_reference, MAX_PAYMENT_REFERENCE_CHARS)
        }
        Command::DrawSample { sample_id: _, jurisdiction: _, year, size, seed } => {
            range("year", *year, &FISCAL_YEARS)?;
            range("size", *size, &(1..=MAX_SAMPLE_SIZE))?;
            text("seed", seed, MAX_SEED_CHARS)
        }
        Command::RecordFinding { sample_id: _, contract_id: _, finding: _, note } => {
            text("note", note, MAX_REASON_CHARS)
        }
        Command::OrderClawback { clawback_id: _, redemption_id: _, amount: _, reason } => {
            text("reason", reason, MAX_REASON_CHARS)
        }
        Command::RecordRecovery { clawback_id: _, amount: _ } => Ok(()),
        Command::RecordReferral { referral_id: _, party: _, authority, note } => {
            text("authority", authority, MAX_LABEL_CHARS)?;
            text("note", note, MAX_REASON_CHARS)
        }
        Command::CloseProviderAnnouncement { provider: _ }
        | Command::CloseRedemptionAnnouncement { announcement_id: _ }
        | Command::ExpireVoucher { voucher_id: _ }
        | Command::LapseRedemptionWindow { contract_id: _ } => Ok(()),
    }
}

/// The date `days` days after `date`, with checked arithmetic: records written before the bounds may hold a
/// batch with any `redemption_days`, and a completion on it is refused rather than overflowing.
///
/// # Errors
/// `date_out_of_range` when the result is past the last date chrono represents.
pub fn days_after(date: NaiveDate, days: u32) -> Result<NaiveDate, Rejection> {
    date.checked_add_days(chrono::Days::new(u64::from(days)))
        .ok_or_else(|| Rejection::DateOutOfRange(format!("{days} days after {date}")))
}

/// Checks a party's or a batch's name at the door: not blank, at most [`MAX_NAME_CHARS`] characters, no
/// control characters and no bidirectional formatting characters.
///
/// # Errors
/// `invalid_name`, naming the field and what is wrong.
pub fn check_name(field: &'static str, name: &str) -> Result<(), Rejection> {
    let invalid = |detail: String| Err(Rejection::InvalidName { field, detail });
    if name.trim().is_empty() {
        return invalid("must not be blank".into());
    }
    if name.chars().nth(MAX_NAME_CHARS).is_some() {
        return invalid(format!("more than {MAX_NAME_CHARS} characters"));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return invalid(format!("contains the control character U+{:04X}", u32::from(c)));
    }
    if let Some(c) = name.chars().find(|c| BIDI_CONTROLS.contains(c)) {
        return invalid(format!("contains the bidirectional formatting character U+{:04X}", u32::from(c)));
    }
    Ok(())
}

fn check_registration(registration: &Registration) -> Result<(), Rejection> {
    check_name("name", &registration.name)?;
    if let Some(industry) = &registration.industry {
        text("industry", industry, MAX_LABEL_CHARS)?;
    }
    if let Some(project_code) = &registration.project_code {
        text("project_code", project_code, MAX_LABEL_CHARS)?;
    }
    Ok(())
}

fn check_policy(policy: &PolicyVersion) -> Result<(), Rejection> {
    text("id", &policy.id, MAX_LABEL_CHARS)?;
    text("title", &policy.title, MAX_TEXT_CHARS)?;
    date("effective_from", policy.effective_from)?;
    date("effective_until", policy.effective_until)?;
    labels("eligible_industries", &policy.eligible_industries)?;
    labels("service_categories", &policy.service_categories)?;
    range(
        "redemption_announcement_working_days",
        policy.redemption_announcement_working_days,
        &ANNOUNCEMENT_WORKING_DAYS,
    )?;
    range(
        "provider_announcement_working_days",
        policy.provider_announcement_working_days,
        &ANNOUNCEMENT_WORKING_DAYS,
    )?;
    range("claims_per_batch", policy.claims_per_batch, &CLAIMS_PER_BATCH)?;
    range("default_redemption_days", policy.default_redemption_days, &REDEMPTION_DAYS)
}

fn check_calendar_year(calendar_year: &CalendarYear) -> Result<(), Rejection> {
    range("year", calendar_year.year, &CALENDAR_YEARS)?;
    text("notice", &calendar_year.notice, MAX_LABEL_CHARS)?;
    length("holidays", calendar_year.holidays.len(), MAX_CALENDAR_DATES)?;
    length("working_weekends", calendar_year.working_weekends.len(), MAX_CALENDAR_DATES)
}

fn out_of_bounds(field: &'static str, detail: String) -> Rejection {
    Rejection::OutOfBounds { field, detail }
}

fn range<T>(field: &'static str, value: T, bounds: &RangeInclusive<T>) -> Result<(), Rejection>
where
    T: PartialOrd + std::fmt::Display,
{
    if bounds.contains(&value) {
        Ok(())
    } else {
        Err(out_of_bounds(field, format!("{value} is outside {}..={}", bounds.start(), bounds.end())))
    }
}

fn date(field: &'static str, value: NaiveDate) -> Result<(), Rejection> {
    range(field, value, &DATES)
}

fn length(field: &'static str, len: usize, max: usize) -> Result<(), Rejection> {
    if len <= max { Ok(()) } else { Err(out_of_bounds(field, format!("{len} items, at most {max}"))) }
}

fn text(field: &'static str, value: &str, max_chars: usize) -> Result<(), Rejection> {
    // Counting stops past the limit, so a huge text costs no more than the limit.
    let chars = value.chars().take(max_chars.saturating_add(1)).count();
    if chars <= max_chars {
        Ok(())
    } else {
        Err(out_of_bounds(field, format!("more than {max_chars} characters")))
    }
}

fn labels(field: &'static str, values: &BTreeSet<String>) -> Result<(), Rejection> {
    length(field, values.len(), MAX_CATEGORIES)?;
    values.iter().try_for_each(|value| text(field, value, MAX_LABEL_CHARS))
}

fn document(field: &'static str, value: &Document) -> Result<(), Rejection> {
    text(field, &value.name, MAX_LABEL_CHARS)?;
    if value.size_bytes > MAX_DOCUMENT_BYTES {
        return Err(out_of_bounds(
            field,
            format!("size {} bytes, at most {MAX_DOCUMENT_BYTES}", value.size_bytes),
        ));
    }
    Ok(())
}

fn documents(field: &'static str, values: &[Document]) -> Result<(), Rejection> {
    length(field, values.len(), MAX_DOCUMENTS)?;
    values.iter().try_for_each(|value| document(field, value))
}
