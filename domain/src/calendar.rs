//! The working-day calendar of mainland China (SPEC §6): each year's holidays and adjusted working weekends
//! (调休) as published by the State Council notice, and counting of working-day periods.
//!
//! The calendar is data. The years the project knows ship in `data/cn-holidays.toml` ([`Calendar::shipped`]);
//! later years are added as they are published ([`Calendar::add_year`]). A question about a date whose
//! year has no published calendar is refused with [`CalendarError::UnknownYear`], never guessed.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// The holiday notices shipped with the project (2020..=2026).
const SHIPPED_TOML: &str = include_str!("../data/cn-holidays.toml");

/// The years a calendar may be published for.
const YEARS: std::ops::RangeInclusive<i32> = crate::bounds::CALENDAR_YEARS;

/// Why a calendar was refused or could not answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The question needs a year for which no calendar is published.
    #[error("no published holiday calendar for year {0}")]
    UnknownYear(i32),
    /// The year is already in the calendar; a published year is a fact and is not replaced.
    #[error("the holiday calendar for year {0} is already published")]
    YearAlreadyPublished(i32),
    /// A date outside the window of its year's notice: December 1 of the previous year to December 31.
    #[error(
        "date {date} is outside the {year} calendar, which covers {}-12-01 to {year}-12-31",
        .year.saturating_sub(1)
    )]
    DateOutsideYear { year: i32, date: NaiveDate },
    /// A working weekend that is not a Saturday or Sunday.
    #[error("working weekend {0} is a {weekday}, not a Saturday or Sunday", weekday = .0.weekday())]
    NotAWeekend(NaiveDate),
    /// A date listed both as a holiday and as a working weekend (in one year or across years).
    #[error("date {0} is listed both as a holiday and as a working weekend")]
    Conflict(NaiveDate),
    /// The calendar data could not be read.
    #[error("invalid holiday calendar data: {0}")]
    Parse(String),
    /// A year outside 1990..=2100.
    #[error("year {0} is outside the supported range 1990..=2100")]
    YearOutOfRange(i32),
}

/// One year's arrangement as published by the State Council notice.
///
/// `holidays` are all dates of the notice's holiday ranges (including weekend days inside a range);
/// `working_weekends` are the Saturdays and Sundays it makes working days. A notice may list dates of
/// the previous December (the 2023 notice's New Year holiday starts on 2022-12-31).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarYear {
    pub year: i32,
    /// The notice's document number, e.g. `国办发明电〔2023〕7号`.
    pub notice: String,
    pub holidays: BTreeSet<NaiveDate>,
    pub working_weekends: BTreeSet<NaiveDate>,
}

impl CalendarYear {
    /// Checks that the year is publishable on its own.
    ///
    /// # Errors
    /// [`CalendarError::YearOutOfRange`] unless the year is in 1990..=2100,
    /// [`CalendarError::DateOutsideYear`] for a date outside December 1 of the previous year to December 31,
    /// [`CalendarError::NotAWeekend`] for a working weekend that is a Monday to Friday,
    /// [`CalendarError::Conflict`] for a date that is both a holiday and a working weekend.
    pub fn validate(&self) -> Result<(), CalendarError> {
        let year = self.year;
        if !YEARS.contains(&year) {
            return Err(CalendarError::YearOutOfRange(year));
        }
        let first = NaiveDate::from_ymd_opt(year.saturating_sub(1), 12, 1)
            .ok_or(CalendarError::YearOutOfRange(year))?;
        let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or(CalendarError::YearOutOfRange(year))?;
        if let Some(&date) =
            self.holidays.iter().chain(&self.working_weekends).find(|date| !(first..=last).contains(*date))
        {
            return Err(CalendarError::DateOutsideYear { year, date });
        }
        if let Some(&date) = self.working_weekends.iter().find(|date| !is_weekend(**date)) {
            return Err(CalendarError::NotAWeekend(date));
        }
        if let Some(&date) = self.working_weekends.intersection(&self.holidays).next() {
            return Err(CalendarError::Conflict(date));
        }
        Ok(())
    }
}

/// The published years and the union of their holidays and working weekends.
///
/// A date is a working day iff it is a Monday to Friday that no notice lists as a holiday, or a
/// working weekend of some notice; its own year must be published, and for a date from December 22 on the
/// next year too (that notice may move the last days of December).
///
/// # Properties
/// - For every `n` and every `date` with `r = working_days_after(date, n)?`: `r >= date`, exactly `n`
///   working days lie in `(date, r]`, and `r` is a working day when `n > 0`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Calendar {
    years: BTreeMap<i32, CalendarYear>,
    holidays: BTreeSet<NaiveDate>,
    working_weekends: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// The calendar of the notices shipped with the project (`data/cn-holidays.toml`: 2020..=2026).
    ///
    /// # Panics
    /// Never in practice: the data is compiled in and a test proves that it parses and validates.
    pub fn shipped() -> Calendar {
        match Calendar::from_toml(SHIPPED_TOML) {
            Ok(calendar) => calendar,
            Err(error) => panic!("the shipped holiday calendar is invalid: {error}"),
        }
    }

    /// Reads a calendar from TOML: `[[year]]` tables with `year`, `notice`, `holidays` and
    /// `working_weekends` (lists of `"YYYY-MM-DD"`), each added with [`Calendar::add_year`].
    ///
    /// # Errors
    /// [`CalendarError::Parse`] for malformed data, or any error of [`Calendar::add_year`].
    pub fn from_toml(text: &str) -> Result<Calendar, CalendarError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct CalendarFile {
            #[serde(default)]
            year: Vec<CalendarYear>,
        }

        let file: CalendarFile = toml::from_str(text).map_err(|e| CalendarError::Parse(e.to_string()))?;
        let mut calendar = Calendar::default();
        for year in file.year {
            calendar.add_year(year)?;
        }
        Ok(calendar)
    }

    /// Adds a newly published year.
    ///
    /// # Errors
    /// Any error of [`CalendarYear::validate`], [`CalendarError::YearAlreadyPublished`] when the year is
    /// known, [`CalendarError::Conflict`] when one of its holidays is another year's working weekend or
    /// the reverse. The calendar is unchanged on error.
    pub fn add_year(&mut self, year: CalendarYear) -> Result<(), CalendarError> {
        year.validate()?;
        if self.years.contains_key(&year.year) {
            return Err(CalendarError::YearAlreadyPublished(year.year));
        }
        let clash = year
            .holidays
            .intersection(&self.working_weekends)
            .chain(year.working_weekends.intersection(&self.holidays))
            .next();
        if let Some(&date) = clash {
            return Err(CalendarError::Conflict(date));
        }
        self.holidays.extend(year.holidays.iter().copied());
        self.working_weekends.extend(year.working_weekends.iter().copied());
        self.years.insert(year.year, year);
        Ok(())
    }

    /// Whether the calendar of `year` is published.
    pub fn knows_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The published years, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// The published arrangement of `year`, if any.
    pub fn year(&self, year: i32) -> Option<&CalendarYear> {
        self.years.get(&year)
    }

    /// The published arrangements, by ascending year.
    pub fn published(&self) -> impl Iterator<Item = &CalendarYear> + '_ {
        self.years.values()
    }

    /// Whether `date` is a working day.
    ///
    /// # Errors
    /// [`CalendarError::UnknownYear`] when the calendar of `date`'s year is not published.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        self.require_year(date)?;
        Ok(self.working_weekends.contains(&date) || !(is_weekend(date) || self.holidays.contains(&date)))
    }

    /// Whether some published notice lists `date` as a holiday.
    ///
    /// # Errors
    /// [`CalendarError::UnknownYear`] when the calendar of `date`'s year is not published.
    pub fn is_holiday(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        self.require_year(date)?;
        Ok(self.holidays.contains(&date))
    }

    /// The day on which a period of `n` working days after `date` ends: the `n`-th working day after
    /// `date` (`date` itself does not count), or `date` when `n` is 0. An announcement published on day D
    /// runs until the end of `working_days_after(D, 5)`.
    ///
    /// # Errors
    /// [`CalendarError::UnknownYear`] for the first examined day (after `date`) whose year is not published,
    /// or that lies in the last ten days of a December whose next year is not published.
    pub fn working_days_after(&self, date: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut day = date;
        let mut counted = 0;
        while counted < n {
            day = day.succ_opt().ok_or(CalendarError::UnknownYear(day.year().saturating_add(1)))?;
            if self.is_working_day(day)? {
                counted += 1;
            }
        }
        Ok(day)
    }

    /// A date needs its own year's notice and, in the last days of December, the next year's notice too
    /// (SPEC §6: the 2019 notice made Saturday 2018-12-29 a working day).
    fn require_year(&self, date: NaiveDate) -> Result<(), CalendarError> {
        if !self.knows_year(date.year()) {
            return Err(CalendarError::UnknownYear(date.year()));
        }
        let next = date.year().saturating_add(1);
        if ruled_by_next_notice(date) && !self.knows_year(next) {
            return Err(CalendarError::UnknownYear(next));
        }
        Ok(())
    }
}

/// The last days of December that the next year's notice may still rule (an adjusted working weekend or the
/// start of the New Year holiday): the last ten, December 22 to 31 (SPEC §6).
const LAST_DECEMBER_DAYS_RULED_BY_NEXT_NOTICE: u32 = 10;

/// Whether `date` lies in the last [`LAST_DECEMBER_DAYS_RULED_BY_NEXT_NOTICE`] days of its December.
fn ruled_by_next_notice(date: NaiveDate) -> bool {
    date.month() == 12 && date.day() > 31 - LAST_DECEMBER_DAYS_RULED_BY_NEXT_NOTICE
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("valid test date")
    }

    fn dates(list: &[&str]) -> BTreeSet<NaiveDate> {
        list.iter().map(|s| d(s)).collect()
    }

    fn synthetic_2027() -> CalendarYear {
        CalendarYear {
            year: 2027,
            notice: "test".to_owned(),
            holidays: dates(&["2027-01-01"]),
            working_weekends: BTreeSet::new(),
        }
    }

    fn working_days_in(calendar: &Calendar, after: NaiveDate, through: NaiveDate) -> u32 {
        after
            .iter_days()
            .skip(1)
            .take_while(|day| *day <= through)
            .map(|day| u32::from(calendar.is_working_day(day).expect("known year")))
            .sum()
    }

    #[test]
    fn shipped_calendar_parses_and_knows_2020_to_2026() {
        let calendar = Calendar::shipped();
        assert_eq!(calendar.years().collect::<Vec<_>>(), (2020..=2026).collect::<Vec<_>>());
        assert!(!calendar.knows_year(2027));
        assert!(!calendar.knows_year(2019));
        assert_eq!(calendar.year(2024).map(|y| y.notice.as_str()), Some("国办发明电〔2023〕7号"));
        assert_eq!(calendar.published().count(), 7);
    }

    #[test]
    fn shipped_working_day_counts() {
        // 2025 by hand: 261 weekdays - 18 weekday holidays (1 + 6 + 1 + 3 + 1 + 6) + 5 working weekends.
        let calendar = Calendar::shipped();
        let count = |year: i32| {
            let start = NaiveDate::from_ymd_opt(year - 1, 12, 31).expect("date");
            let end = NaiveDate::from_ymd_opt(year, 12, 31).expect("date");
            working_days_in(&calendar, start, end)
        };
        assert_eq!(count(2024), 251);
        assert_eq!(count(2025), 248);
    }

    #[test]
    fn working_days_follow_the_notices() {
        let calendar = Calendar::shipped();
        let working = |s: &str| calendar.is_working_day(d(s)).expect("known year");
        assert!(working("2024-02-04"), "Sunday made a working day");
        assert!(!working("2024-02-12"), "Monday in the Spring Festival");
        assert!(working("2024-02-09"), "除夕 2024 is a Friday in no holiday range: only 'encouraged' off");
        assert!(!working("2024-03-09"), "ordinary Saturday");
        assert!(!working("2024-03-10"), "ordinary Sunday");
        assert!(working("2024-03-11"), "ordinary Monday");
        assert!(!working("2020-02-01"), "Saturday no longer worked after the 2020 extension");
        assert!(working("2020-02-03"), "work resumed after the 2020 extension");
        assert!(!working("2022-12-31"));
        assert_eq!(calendar.is_holiday(d("2022-12-31")), Ok(true));
        assert_eq!(calendar.is_holiday(d("2022-12-30")), Ok(false));
        assert_eq!(calendar.is_working_day(d("2027-01-04")), Err(CalendarError::UnknownYear(2027)));
        assert_eq!(calendar.is_working_day(d("2019-12-31")), Err(CalendarError::UnknownYear(2019)));
    }

    #[test]
    fn dates_listed_by_the_next_years_notice_count() {
        let shipped = Calendar::shipped();
        let mut only_2022 = Calendar::default();
        only_2022.add_year(shipped.year(2022).cloned().expect("2022")).expect("valid");
        // Without the 2023 notice, which made it a holiday, 2022-12-31 is not known at all (SPEC §6).
        assert_eq!(only_2022.is_holiday(d("2022-12-31")), Err(CalendarError::UnknownYear(2023)));
        assert_eq!(shipped.is_holiday(d("2022-12-31")), Ok(true));

        // A weekday of 2026 listed by a (synthetic) 2027 notice becomes a holiday once 2027 is published.
        let mut calendar = Calendar::shipped();
        assert_eq!(calendar.is_working_day(d("2026-12-31")), Err(CalendarError::UnknownYear(2027)));
        let mut y2027 = synthetic_2027();
        y2027.holidays.insert(d("2026-12-31"));
        calendar.add_year(y2027).expect("valid");
        assert_eq!(calendar.is_working_day(d("2026-12-31")), Ok(false));
    }

    #[test]
    fn periods_count_working_weekends_and_skip_holidays() {
        let calendar = Calendar::shipped();
        // Fri 09-27; Sat 09-28 off; Sun 09-29 worked (1); Mon 09-30 (2); 10-01..10-07 off;
        // Tue 10-08 (3); Wed 10-09 (4); Thu 10-10 (5).
        assert_eq!(calendar.working_days_after(d("2024-09-27"), 5), Ok(d("2024-10-10")));
        assert_eq!(calendar.working_days_after(d("2024-09-27"), 1), Ok(d("2024-09-29")));
        // Mon 2024-03-11: Tue..Fri (4), next Mon (5).
        assert_eq!(calendar.working_days_after(d("2024-03-11"), 5), Ok(d("2024-03-18")));
        // Spring Festival 2024: Thu 02-08, Fri 02-09 (1), 02-10..02-17 off, Sun 02-18 worked (2).
        assert_eq!(calendar.working_days_after(d("2024-02-08"), 2), Ok(d("2024-02-18")));
        assert_eq!(calendar.working_days_after(d("2024-02-08"), 0), Ok(d("2024-02-08")));
        // n = 0 examines no date, so it needs no calendar.
        assert_eq!(calendar.working_days_after(d("2030-06-01"), 0), Ok(d("2030-06-01")));
        assert_eq!(calendar.working_days_after(d("2030-06-01"), 1), Err(CalendarError::UnknownYear(2030)));
    }

    #[test]
    fn periods_into_an_unpublished_year_are_refused_until_it_is_published() {
        let mut calendar = Calendar::shipped();
        // Mon 2026-12-28: Tue 29 already lies in the days the 2027 notice may rule.
        assert_eq!(calendar.working_days_after(d("2026-12-28"), 1), Err(CalendarError::UnknownYear(2027)));
        assert_eq!(calendar.working_days_after(d("2026-12-28"), 5), Err(CalendarError::UnknownYear(2027)));
        // Up to December 21 the 2026 notice alone answers: Fri 12-18, Mon 12-21 (1).
        assert_eq!(calendar.working_days_after(d("2026-12-18"), 1), Ok(d("2026-12-21")));
        assert_eq!(calendar.working_days_after(d("2026-12-18"), 2), Err(CalendarError::UnknownYear(2027)));
        calendar.add_year(synthetic_2027()).expect("valid year");
        assert!(calendar.knows_year(2027));
        // Fri 2027-01-01 holiday, Sat/Sun off, Mon 01-04 (4), Tue 01-05 (5).
        assert_eq!(calendar.working_days_after(d("2026-12-28"), 5), Ok(d("2027-01-05")));
    }

    #[test]
    fn the_last_days_of_december_need_the_next_years_notice() {
        let shipped = Calendar::shipped();
        let mut only_2025 = Calendar::default();
        only_2025.add_year(shipped.year(2025).cloned().expect("2025")).expect("valid");
        assert_eq!(only_2025.is_working_day(d("2025-12-21")), Ok(false), "an ordinary Sunday");
        assert_eq!(only_2025.is_working_day(d("2025-12-19")), Ok(true));
        for day in ["2025-12-22", "2025-12-27", "2025-12-31"] {
            assert_eq!(only_2025.is_working_day(d(day)), Err(CalendarError::UnknownYear(2026)), "{day}");
            assert_eq!(only_2025.is_holiday(d(day)), Err(CalendarError::UnknownYear(2026)), "{day}");
        }
        // A period that merely ends before December 22 needs no next notice; one that reaches it does.
        assert_eq!(only_2025.working_days_after(d("2025-12-15"), 4), Ok(d("2025-12-19")));
        assert_eq!(only_2025.working_days_after(d("2025-12-19"), 1), Err(CalendarError::UnknownYear(2026)));
        assert_eq!(shipped.working_days_after(d("2025-12-19"), 1), Ok(d("2025-12-22")));
        // The shipped 2026 notice is the last one: late December 2026 is unknown until 2027 is published.
        assert_eq!(shipped.is_working_day(d("2026-12-22")), Err(CalendarError::UnknownYear(2027)));
        assert_eq!(shipped.is_working_day(d("2026-12-21")), Ok(true));
    }

    #[test]
    fn published_years_are_not_replaced() {
        let mut calendar = Calendar::shipped();
        let mut again = calendar.year(2024).cloned().expect("2024");
        again.notice = "a correction".to_owned();
        assert_eq!(calendar.add_year(again), Err(CalendarError::YearAlreadyPublished(2024)));
        assert_eq!(calendar, Calendar::shipped());
        assert_eq!(
            CalendarError::YearAlreadyPublished(2024).to_string(),
            "the holiday calendar for year 2024 is already published"
        );
    }

    #[test]
    fn validate_refuses_bad_years() {
        let mut year = synthetic_2027();
        assert_eq!(year.validate(), Ok(()));

        year.working_weekends = dates(&["2027-02-10"]);
        assert_eq!(year.validate(), Err(CalendarError::NotAWeekend(d("2027-02-10"))));
        assert_eq!(
            CalendarError::NotAWeekend(d("2024-02-07")).to_string(),
            "working weekend 2024-02-07 is a Wed, not a Saturday or Sunday"
        );

        year.working_weekends = dates(&["2027-01-09"]);
        year.holidays.insert(d("2027-01-09"));
        assert_eq!(year.validate(), Err(CalendarError::Conflict(d("2027-01-09"))));

        let mut year = synthetic_2027();
        year.holidays.insert(d("2026-11-30"));
        let outside = CalendarError::DateOutsideYear { year: 2027, date: d("2026-11-30") };
        assert_eq!(year.validate(), Err(outside.clone()));
        assert_eq!(
            outside.to_string(),
            "date 2026-11-30 is outside the 2027 calendar, which covers 2026-12-01 to 2027-12-31"
        );
        let mut year = synthetic_2027();
        year.holidays.insert(d("2028-01-01"));
        assert!(matches!(year.validate(), Err(CalendarError::DateOutsideYear { .. })));
        let mut year = synthetic_2027();
        year.holidays.insert(d("2026-12-01"));
        assert_eq!(year.validate(), Ok(()));

        let mut year = synthetic_2027();
        year.year = 2101;
        assert_eq!(year.validate(), Err(CalendarError::YearOutOfRange(2101)));
        year.year = 1989;
        assert_eq!(year.validate(), Err(CalendarError::YearOutOfRange(1989)));
    }

    #[test]
    fn add_year_refuses_conflicts_across_years() {
        let shipped = Calendar::shipped();
        let mut calendar = Calendar::default();
        calendar.add_year(shipped.year(2023).cloned().expect("2023")).expect("valid");
        let mut y2022 = shipped.year(2022).cloned().expect("2022");
        y2022.working_weekends.insert(d("2022-12-31"));
        assert_eq!(calendar.add_year(y2022), Err(CalendarError::Conflict(d("2022-12-31"))));
        assert!(!calendar.knows_year(2022));
    }

    #[test]
    fn from_toml_reports_bad_data() {
        assert_eq!(Calendar::from_toml(""), Ok(Calendar::default()));
        assert!(matches!(Calendar::from_toml("[[year]]\nyear = 2027\n"), Err(CalendarError::Parse(_))));
        let bad_date =
            "[[year]]\nyear = 2027\nnotice = \"x\"\nholidays = [\"2027-02-30\"]\nworking_weekends = []\n";
        assert!(matches!(Calendar::from_toml(bad_date), Err(CalendarError::Parse(_))));
        let unknown_field =
            "[[year]]\nyear = 2027\nnotice = \"x\"\nholidays = []\nworking_weekends = []\nextra = 1\n";
        assert!(matches!(Calendar::from_toml(unknown_field), Err(CalendarError::Parse(_))));
        let twice = "[[year]]\nyear = 2027\nnotice = \"x\"\nholidays = []\nworking_weekends = []\n".repeat(2);
        assert_eq!(Calendar::from_toml(&twice), Err(CalendarError::YearAlreadyPublished(2027)));
        let wednesday =
            "[[year]]\nyear = 2027\nnotice = \"x\"\nholidays = []\nworking_weekends = [\"2027-01-06\"]\n";
        assert_eq!(Calendar::from_toml(wednesday), Err(CalendarError::NotAWeekend(d("2027-01-06"))));
    }

    #[test]
    fn calendar_year_serde_round_trips() {
        let year = Calendar::shipped().year(2023).cloned().expect("2023");
        let json = serde_json::to_string(&year).expect("serializes");
        assert!(json.contains("\"2022-12-31\""));
        assert_eq!(serde_json::from_str::<CalendarYear>(&json).expect("parses"), year);
    }

    proptest! {
        #[test]
        fn working_days_after_counts_exactly_n(offset in 0u64..=2545, n in 0u32..10) {
            // 2020-01-01 + 2545 days = 2026-12-20; 2026-12-22 on needs the 2027 notice, so a synthetic one.
            let mut calendar = Calendar::shipped();
            calendar.add_year(synthetic_2027()).expect("valid year");
            let date = d("2020-01-01") + chrono::Days::new(offset);
            prop_assert!(date <= d("2026-12-20"));
            let r = calendar.working_days_after(date, n).expect("within the shipped years");
            prop_assert!(r >= date);
            prop_assert_eq!(working_days_in(&calendar, date, r), n);
            if n > 0 {
                prop_assert!(calendar.is_working_day(r).expect("known year"));
            } else {
                prop_assert_eq!(r, date);
            }
        }
    }
}
