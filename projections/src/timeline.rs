//! Timeline: which log positions each business date covers, so that a query "as of" a date knows where the
//! ledger stood at the end of that day.
//!
//! Business dates normally only increase along the log (the writer stamps each group of commands with its
//! clock's date). Should one ever go back (a test clock moved back, a system clock corrected), a date's
//! prefix still ends before the first record dated after it: where the ledger stood as that day closed.

use chrono::NaiveDate;
use ledger_proto::Recorded;

use crate::ReadModel;

/// The timeline read model: runs of records with one business date.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Timeline {
    /// Each run's date and first position, in log order.
    runs: Vec<(NaiveDate, u64)>,
    last_position: u64,
}

impl Timeline {
    /// The number of records the ledger held at the end of business date `date`: the records before the
    /// first one dated after it (0 when the log starts after `date`).
    ///
    /// # Example
    /// ```
    /// let timeline = projections::timeline::Timeline::default();
    /// assert_eq!(timeline.position_at_end_of("2025-03-03".parse().expect("date")), 0);
    /// ```
    pub fn position_at_end_of(&self, date: NaiveDate) -> u64 {
        match self.runs.iter().find(|(run_date, _)| *run_date > date) {
            Some((_, first)) => first - 1,
            None => self.last_position,
        }
    }
}

impl ReadModel for Timeline {
    fn name(&self) -> &'static str {
        "timeline"
    }

    fn apply(&mut self, record: &Recorded) {
        let date = record.meta.business_date;
        if self.runs.last().is_none_or(|(run_date, _)| *run_date != date) {
            self.runs.push((date, record.position));
        }
        self.last_position = record.position;
    }
}

#[cfg(test)]
mod tests {
    use domain::Event;

    use super::*;
    use crate::testing::record;

    #[test]
    fn the_end_of_a_day_is_the_last_record_dated_that_day_or_before() {
        let mut timeline = Timeline::default();
        let event = || Event::ProviderAdmitted {
            provider: domain::credit_code::with_check_character("91520100000000001").expect("code"),
        };
        for (position, date) in [(1, "2025-03-03"), (2, "2025-03-03"), (3, "2025-03-05"), (4, "2025-03-06")] {
            timeline.apply(&record(position, date, event()));
        }
        let at = |date: &str| timeline.position_at_end_of(date.parse().expect("date"));
        assert_eq!(at("2025-03-02"), 0);
        assert_eq!(at("2025-03-03"), 2);
        assert_eq!(at("2025-03-04"), 2);
        assert_eq!(at("2025-03-05"), 3);
        assert_eq!(at("2026-01-01"), 4);
    }
}
