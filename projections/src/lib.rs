//! Read models of the voucher ledger: pure folds over recorded events, rebuilt from the log at start,
//! updated after each commit, and queried concurrently by the HTTP layer.
//!
//! Adding a read model: one new file implementing [`ReadModel`] and its line in the registry below (see
//! `ADDING_A_READ_MODEL.md` beside this crate's `Cargo.toml`).

pub mod csv;
pub mod statuses;

use ledger_proto::Recorded;
use serde_json::Value;

/// A read model: folds recorded events, in log order, into a shape some query needs.
///
/// # Properties
/// - `apply` is deterministic and never fails: a model rebuilt from scratch equals one updated
///   incrementally, and a model folded over the first N records is the model "as of" position N
///   (`engine/tests/it/read_models.rs` checks both over random demo ledgers).
/// - `apply` reads nothing but the record and the model: no clock, no I/O, no other model.
pub trait ReadModel: Send + Sync {
    /// The model's name, as `replay` reports it.
    fn name(&self) -> &'static str;
    /// Folds one recorded event.
    fn apply(&mut self, record: &Recorded);
    /// The tables this model exports by itself (`voucher-ledger export NAME` writes them as CSV), each with
    /// what it holds; none by default. (Tables that join several models are `api/src/views.rs`'.)
    fn tables(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// The rows of the table `name`, one of [`ReadModel::tables`]; `None` for a name it does not export.
    fn table(&self, name: &str) -> Option<Vec<Value>> {
        let _ = name;
        None
    }
}

/// The registry: each read model's module, field and type, in the order they are applied. Registering a
/// model is its line here; the struct [`Projections`], [`Projections::models_mut`], [`Projections::models`]
/// and the exported tables ([`Projections::tables`]) follow from it.
macro_rules! registry {
    ($($field:ident: $model:ident),* $(,)?) => {
        $(
            pub mod $field;
            pub use $field::$model;
        )*

        /// How many read models are registered.
        pub const MODELS: usize = [$(stringify!($field)),*].len();

        /// Every registered read model, and the log position they have folded up to.
        #[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub struct Projections {
            position: u64,
            $(pub $field: $model,)*
        }

        impl Projections {
            /// Every read model, in the order they are applied.
            pub fn models_mut(&mut self) -> [&mut dyn ReadModel; MODELS] {
                [$(&mut self.$field),*]
            }

            /// Every read model, in the order they are applied.
            pub fn models(&self) -> [&dyn ReadModel; MODELS] {
                [$(&self.$field),*]
            }

            /// Each read model encoded on its own by `codec`, in the registry's order, one thread each (a
            /// snapshot writes them side by side, [`Projections::decode_each`] reads them back).
            ///
            /// # Errors
            /// The first model `codec` could not encode.
            pub fn encode_each<C: Codec>(&self, codec: &C) -> Result<Vec<Vec<u8>>, C::Error> {
                std::thread::scope(|scope| {
                    let encoding = [$(scope.spawn(|| codec.encode(&self.$field))),*];
                    encoding.into_iter().map(joined).collect()
                })
            }

            /// The read models at `position` decoded from their parts (as [`Projections::encode_each`] wrote
            /// them), one thread each; each part's bytes are freed as soon as its model is decoded.
            ///
            /// # Errors
            /// `None` when there are not exactly [`MODELS`] parts; otherwise the first model that did not
            /// decode.
            pub fn decode_each<C: Codec>(
                codec: &C,
                position: u64,
                parts: Vec<Vec<u8>>,
            ) -> Option<Result<Projections, C::Error>> {
                let [$($field),*]: [Vec<u8>; MODELS] = parts.try_into().ok()?;
                Some(std::thread::scope(|scope| {
                    $(let $field = scope.spawn(move || {
                        let model = codec.decode::<$model>(&$field);
                        drop($field);
                        model
                    });)*
                    Ok(Projections { position, $($field: joined($field)?,)* })
                }))
            }
        }
    };
}

/// How [`Projections::encode_each`] and [`Projections::decode_each`] turn one read model into bytes and back
/// (the snapshot's format is the caller's choice).
pub trait Codec: Sync {
    type Error: Send;
    fn encode<T: serde::Serialize + Sync>(&self, value: &T) -> Result<Vec<u8>, Self::Error>;
    fn decode<T: serde::de::DeserializeOwned + Send>(&self, bytes: &[u8]) -> Result<T, Self::Error>;
}

/// A scoped thread's result; its panic, if it panicked, goes on in the caller (also used by the snapshot,
/// which decodes the writer's state beside the models).
pub fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

registry! {
    balances: Balances,
    applicants: Applicants,
    lifecycle: Lifecycle,
    history: History,
    rankings: Rankings,
    anomalies: Anomalies,
    timeline: Timeline,
}

impl Projections {
    /// Empty read models (position 0).
    pub fn new() -> Projections {
        Projections::default()
    }

    /// The names of the registered read models, in the order they are applied.
    pub fn names(&self) -> Vec<&'static str> {
        let mut empty = Projections::new();
        empty.models_mut().iter().map(|model| model.name()).collect()
    }

    /// The tables the registered models export by themselves, with what each holds.
    pub fn tables() -> Vec<(&'static str, &'static str)> {
        let empty = Projections::new();
        empty.models().iter().flat_map(|model| model.tables().iter().copied()).collect()
    }

    /// The rows of a table a registered model exports ([`Projections::tables`]), or `None`.
    pub fn table(&self, name: &str) -> Option<Vec<Value>> {
        self.models().iter().find_map(|model| model.table(name))
    }

    /// Folds one record into every read model. Records must arrive in position order.
    ///
    /// # Panics
    /// In debug builds, when `record` does not follow the last folded record (a bug in the caller).
    pub fn apply(&mut self, record: &Recorded) {
        debug_assert_eq!(record.position, self.position + 1, "records applied out of order");
        for model in self.models_mut() {
            model.apply(record);
        }
        self.position = record.position;
    }

    /// Folds records from scratch: the read models as of the last of them.
    ///
    /// # Example
    /// ```
    /// let empty = projections::Projections::rebuild(std::iter::empty());
    /// assert_eq!(empty.position(), 0);
    /// ```
    pub fn rebuild<'a>(records: impl IntoIterator<Item = &'a Recorded>) -> Projections {
        let mut projections = Projections::new();
        for record in records {
            projections.apply(record);
        }
        projections
    }

    /// The position of the last folded record.
    pub fn position(&self) -> u64 {
        self.position
    }
}

/// Records for the read models' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use chrono::TimeZone;
    use domain::{Actor, Event, Jurisdiction, Role};
    use ledger_proto::{RecordMeta, Recorded};
    use uuid::Uuid;

    /// `event` recorded at `position` on `date` (`YYYY-MM-DD`) by a Guiyang bureau clerk.
    pub fn record(position: u64, date: &str, event: Event) -> Recorded {
        let meta = RecordMeta {
            id: Uuid::from_u128(u128::from(position)),
            stream: event.stream(),
            stream_version: 1,
            recorded_at: chrono::Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().expect("instant"),
            business_date: date.parse().expect("test date"),
            actor: Actor {
                subject: "s".into(),
                role: Role::Bureau,
                jurisdiction: Some(Jurisdiction::Guiyang),
                credit_code: None,
            },
            correlation_id: Uuid::nil(),
            causation_id: Uuid::nil(),
            idempotency_key: None,
            request_digest: None,
        };
        let hash = [u8::try_from(position % 251).unwrap_or(0); 32];
        Recorded { position, hash, prev_hash: [0; 32], meta, event, ends_command: true }
    }
}
