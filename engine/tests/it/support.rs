//! Helpers more than one module needs.

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
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
