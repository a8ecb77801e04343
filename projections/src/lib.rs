//! Read models of the voucher ledger: pure folds over recorded events, rebuilt from the log at start,
//! updated after each commit, and queried concurrently by the HTTP layer.
//!
//! Adding a read model: one new file implementing [`ReadModel`], one field and one line in [`Projections`].

pub mod applicants;
pub mod balances;
pub mod lifecycle;

use ledger_proto::Recorded;

pub use applicants::Applicants;
pub use balances::Balances;
pub use lifecycle::Lifecycle;

/// A read model: folds recorded events, in log order, into a shape some query needs.
///
/// # Properties
/// - `apply` is deterministic and never fails: a model rebuilt from scratch equals one updated incrementally.
pub trait ReadModel: Send + Sync {
    /// The model's name, as used by `replay` and `export`.
    fn name(&self) -> &'static str;
    /// Folds one recorded event.
    fn apply(&mut self, record: &Recorded);
}

/// Every registered read model, and the log position they have folded up to.
#[derive(Clone, Debug, Default)]
pub struct Projections {
    position: u64,
    pub balances: Balances,
    pub applicants: Applicants,
    pub lifecycle: Lifecycle,
}

impl Projections {
    /// Empty read models (position 0).
    pub fn new() -> Projections {
        Projections::default()
    }

    /// The registry: every read model, in the order they are applied.
    pub fn models_mut(&mut self) -> [&mut dyn ReadModel; 3] {
        [&mut self.balances, &mut self.applicants, &mut self.lifecycle]
    }

    /// Folds one record into every read model. Records must arrive in position order.
    pub fn apply(&mut self, record: &Recorded) {
        debug_assert_eq!(record.position, self.position + 1, "records applied out of order");
        for model in self.models_mut() {
            model.apply(record);
        }
        self.position = record.position;
    }

    /// The position of the last folded record.
    pub fn position(&self) -> u64 {
        self.position
    }
}
