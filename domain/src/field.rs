//! Which of the domain's own value types a request body failed on, as a type rather than a message.
//!
//! A body is deserialized by serde, whose errors keep only their text. The value types whose failure has a
//! code of its own at the door (an amount: `invalid_amount`; a credit code: `invalid_credit_code`) note their
//! kind here when they refuse a value (not a string, or a string that does not parse; a missing field never
//! reaches them), so the HTTP layer chooses the code from this kind and never from
//! the message. The note is per thread and is read and cleared by [`take`]; a caller clears it before it
//! deserializes (deserializing is synchronous, so nothing else runs on the thread in between).

use std::cell::Cell;

/// A value type whose failure to deserialize has a code of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// An amount of money ([`crate::Cny`]).
    Amount,
    /// A unified social credit code ([`crate::CreditCode`]).
    CreditCode,
}

thread_local! {
    static LAST_FAILURE: Cell<Option<FieldKind>> = const { Cell::new(None) };
}

/// Notes that a value of `kind` failed to deserialize on this thread (the last failure wins).
pub fn note_failure(kind: FieldKind) {
    LAST_FAILURE.with(|last| last.set(Some(kind)));
}

/// The kind of the last value that failed to deserialize on this thread since the last call, and clears it.
pub fn take() -> Option<FieldKind> {
    LAST_FAILURE.with(Cell::take)
}

#[cfg(test)]
mod tests {
    use super::{FieldKind, take};
    use crate::{Cny, CreditCode, Share};

    #[test]
    fn a_failed_amount_or_credit_code_is_noted_by_kind_and_taken_once() {
        let _ = take();
        assert!(serde_json::from_str::<Cny>("\"12.345\"").is_err());
        assert_eq!(take(), Some(FieldKind::Amount));
        assert_eq!(take(), None);
        assert!(serde_json::from_str::<Cny>("5").is_err());
        assert_eq!(take(), Some(FieldKind::Amount));
        assert!(serde_json::from_str::<CreditCode>("\"91520000000000000X\"").is_err());
        assert_eq!(take(), Some(FieldKind::CreditCode));
        // Not a string at all: serde asks the visitor what it expected, which notes the kind too.
        assert!(serde_json::from_str::<CreditCode>("5").is_err());
        assert_eq!(take(), Some(FieldKind::CreditCode));
        assert!(serde_json::from_str::<Share>("\"2\"").is_err());
        assert_eq!(take(), None, "a share has no code of its own");
        assert!(serde_json::from_str::<Cny>("\"12.34\"").is_ok());
        assert_eq!(take(), None);
    }
}
