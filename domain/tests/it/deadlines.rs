//! The scheduler's deadline index (`State::deadline_index`, kept by `evolve`): it holds exactly the open
//! deadlines, and `due_commands` read from it answers as the full scan. The same comparison runs after every
//! accepted command of the given/when/then tests (`support::check`), of the random sequences
//! (`properties.rs`) and of the arbitrary commands (`no_panic.rs`); these tests pin the index's entries.

use domain::decide::{due_commands, due_commands_by_scan};
use domain::event::Event;
use domain::state::Deadline;
use domain::{Command, State};

use crate::support::*;

fn program() -> Vec<Event> {
    admitted_program(
        batch_guide("2025-11-30", &["inspection_testing"]),
        enterprise_registration(APPLICANT),
        provider_application(PROVIDER, &format!("lab {PROVIDER}")),
    )
}

#[test]
fn the_index_holds_each_open_deadline_once_at_its_date_and_drops_it_when_resolved() {
    let mut given = program();
    let state = fold(&given);
    assert_deadline_index(&state);
    let voucher = Deadline::Voucher(id(VOUCHER));
    let valid_until = state.vouchers[&id(VOUCHER)].valid_until;
    assert!(state.deadline_index().contains(&(valid_until, voucher.clone())), "{:?}", state.deadline_index());
    // The admitted provider's announcement is resolved: no entry for it.
    assert!(!state.deadline_index().iter().any(|(_, d)| matches!(d, Deadline::Provider(_))));

    let after = valid_until.succ_opt().expect("a next day");
    let expire = Command::ExpireVoucher { voucher_id: id(VOUCHER) };
    assert!(due_commands(&state, valid_until).is_empty());
    assert_eq!(due_commands(&state, after), vec![expire.clone()]);
    assert_eq!(step(&mut given, &system(), &after.to_string(), expire), "accepted");
    let expired = fold(&given);
    assert!(!expired.deadline_index().iter().any(|(_, d)| d == &voucher), "{:?}", expired.deadline_index());
    assert!(due_commands(&expired, chrono::NaiveDate::MAX).is_empty());
}

#[test]
fn a_provider_approved_again_moves_its_entry_and_an_empty_state_has_none() {
    assert!(State::new().deadline_index().is_empty());
    let mut given = program();
    let provider = code(PROVIDER + 1);
    given.push(Event::ProviderApplied { application: provider_application(PROVIDER + 1, "lab") });
    for closes in ["2025-10-14", "2025-10-21"] {
        given.push(Event::ProviderApproved {
            provider: provider.clone(),
            announced_on: day("2025-09-29"),
            announcement_closes: day(closes),
        });
    }
    let state = fold(&given);
    let entries: Vec<_> =
        state.deadline_index().iter().filter(|(_, d)| d == &Deadline::Provider(provider.clone())).collect();
    assert_eq!(entries, vec![&(day("2025-10-21"), Deadline::Provider(provider.clone()))]);
    assert_deadline_index(&state);
    let close = Command::CloseProviderAnnouncement { provider };
    assert!(!due_commands(&state, day("2025-10-21")).contains(&close));
    assert!(due_commands(&state, day("2025-10-22")).contains(&close));
    assert_eq!(due_commands(&state, day("2025-10-22")), due_commands_by_scan(&state, day("2025-10-22")));
}

#[test]
fn the_business_date_is_the_date_in_shanghai_eight_hours_ahead_of_utc() {
    use chrono::{NaiveDate, TimeZone, Utc};
    assert_eq!(domain::SHANGHAI_OFFSET_SECONDS, 8 * 60 * 60);
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
    for ((hour, minute, second), expected) in [
        ((0, 0, 0), date(2025, 12, 31)),
        ((15, 59, 59), date(2025, 12, 31)),
        ((16, 0, 0), date(2026, 1, 1)),
        ((23, 59, 59), date(2026, 1, 1)),
    ] {
        let instant = Utc.with_ymd_and_hms(2025, 12, 31, hour, minute, second).single().expect("instant");
        assert_eq!(domain::business_date(instant), expected, "{instant}");
    }
    assert_eq!(domain::business_date(chrono::DateTime::<Utc>::MAX_UTC), NaiveDate::MAX);
}
