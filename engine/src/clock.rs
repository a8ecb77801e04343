//! The service's clock. The domain never reads a clock; the edge does, through this.
//!
//! `System` is the real clock. `Manual` exists only when the server is started in explicit test mode
//! (`--clock manual --now ...`); it is the only thing that mode changes, and it enables `POST /v1/admin/clock`.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// Why a manual clock was not moved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("the clock can only be set in manual clock mode")]
    NotManual,
    #[error("the clock never moves backwards: it is {current}, not {requested}")]
    Backwards { current: DateTime<Utc>, requested: DateTime<Utc> },
    #[error("{requested} is outside the business dates the ledger accepts (2000-01-01 to 2100-12-31)")]
    OutOfRange { requested: DateTime<Utc> },
    #[error(
        "the store's last record was recorded at {last_recorded_at}, after the manual clock's {now}: it holds \
         records of a later (or the system) clock; start the manual clock at or after it, or pass \
         --allow-clock-behind-records to serve it anyway"
    )]
    BehindRecords { last_recorded_at: DateTime<Utc>, now: DateTime<Utc> },
}

/// A manual clock starting at `now`, within the business dates the ledger accepts.
///
/// # Errors
/// [`ClockError::OutOfRange`].
pub fn manual_within_bounds(now: DateTime<Utc>) -> Result<Clock, ClockError> {
    if domain::bounds::DATES.contains(&domain::business_date(now)) {
        Ok(Clock::manual(now))
    } else {
        Err(ClockError::OutOfRange { requested: now })
    }
}

/// A source of the current instant.
#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// A manual clock set to `now`.
    pub fn manual(now: DateTime<Utc>) -> Clock {
        Clock::Manual(Arc::new(Mutex::new(now)))
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Manual(instant) => *instant.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// Sets a manual clock. Returns false (and changes nothing) on the system clock.
    pub fn set(&self, now: DateTime<Utc>) -> bool {
        match self {
            Clock::System => false,
            Clock::Manual(instant) => {
                *instant.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = now;
                true
            }
        }
    }

    /// Moves a manual clock forward to `now`: never backwards (records dated later already exist), and only
    /// to an instant whose business date the ledger accepts ([`domain::bounds::DATES`]).
    ///
    /// # Errors
    /// See [`ClockError`]; the clock is unchanged then.
    pub fn advance(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, ClockError> {
        let Clock::Manual(instant) = self else { return Err(ClockError::NotManual) };
        let date = domain::business_date(now);
        if !domain::bounds::DATES.contains(&date) {
            return Err(ClockError::OutOfRange { requested: now });
        }
        let mut current = instant.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if now < *current {
            return Err(ClockError::Backwards { current: *current, requested: now });
        }
        *current = now;
        Ok(now)
    }

    /// True for the manual (test-mode) clock.
    pub fn is_manual(&self) -> bool {
        matches!(self, Clock::Manual(_))
    }
}
