//! The service's clock. The domain never reads a clock; the edge does, through this.
//!
//! `System` is the real clock. `Manual` exists only when the server is started in explicit test mode
//! (`--clock manual --now ...`); it is the only thing that mode changes, and it enables `POST /v1/admin/clock`.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

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

    /// True for the manual (test-mode) clock.
    pub fn is_manual(&self) -> bool {
        matches!(self, Clock::Manual(_))
    }
}
