//! Helpers more than one module needs.

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use domain::{Actor, Cny, Command, Jurisdiction, Role};
use engine::clock::Clock;
use store::file::FileLog;
use store::{EventLog, Head, StoreError, StoredRecord};

/// A log that can be taken down like a database server: while `down`, every call fails `Unavailable`.
pub struct Outage {
    pub inner: FileLog,
    pub down: AtomicBool,
}

impl Outage {
    /// `inner`, up.
    pub fn up(inner: FileLog) -> Outage {
        Outage { inner, down: AtomicBool::new(false) }
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(std::io::Error::other("injected: the server is down")));
        }
        Ok(())
    }
}

#[async_trait]
impl EventLog for Outage {
    async fn head(&self) -> Result<Head, StoreError> {
        self.check()?;
        self.inner.head().await
    }

    async fn append(&self, expected: Head, records: Vec<StoredRecord>) -> Result<Head, StoreError> {
        self.check()?;
        self.inner.append(expected, records).await
    }

    async fn read_batch(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        self.check()?;
        self.inner.read_batch(from, max).await
    }
}

/// The Guiyang finance bureau, which appropriates budgets.
pub fn finance() -> Actor {
    Actor {
        subject: "finance-1".into(),
        role: Role::Finance,
        jurisdiction: Some(Jurisdiction::Guiyang),
        credit_code: None,
    }
}

/// Appropriating `fen` to Guiyang's budget of `fiscal_year`.
pub fn appropriation_in(fiscal_year: i32, fen: u64) -> Command {
    Command::AppropriateBudget {
        jurisdiction: Jurisdiction::Guiyang,
        fiscal_year,
        amount: Cny::from_fen(fen).expect("positive"),
    }
}

/// Appropriating `fen` to Guiyang's 2025 budget (the year of [`clock`]).
pub fn appropriation(fen: u64) -> Command {
    appropriation_in(2025, fen)
}

/// A manual clock at `rfc3339`.
pub fn clock_at(rfc3339: &str) -> Clock {
    Clock::manual(chrono::DateTime::parse_from_rfc3339(rfc3339).expect("date").to_utc())
}

/// A manual clock on a working morning of 2025 (Monday 3 March, 09:00 in Shanghai).
pub fn clock() -> Clock {
    clock_at("2025-03-03T09:00:00+08:00")
}
