//! What the lifecycle files share: the stored names of the domain's closed sets that have no `FromStr`, the
//! field parsers that name the field they refuse, and the conversions the domain types shared by several
//! lifecycles need.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::str::FromStr;

use chrono::NaiveDate;
use domain::UnknownName;
use domain::document::Sha256Hex;
use domain::event::{DenialGround, Finding, Party, Ruling};
use uuid::Uuid;

use crate::record::{CodecError, date_from_days, uuid_from_bytes};

// --- Closed sets the domain names only through serde ------------------------------------------------------

/// Defines, for a closed set of the domain that has no `FromStr`, the function giving each value's stored
/// name and the function parsing it back (refusing any other name with the domain's [`UnknownName`]). The
/// names are the serde names (snake case); the encoding match is exhaustive, so a new variant fails to
/// compile until it is named here.
macro_rules! stored_names {
    (
        $type:ty, $what:literal, $name_fn:ident, $parse_fn:ident,
        { $($variant:path => $name:literal),+ $(,)? }
    ) => {
        #[doc = concat!("The stored name of a ", $what, ".")]
        pub(super) fn $name_fn(value: $type) -> &'static str {
            match value {
                $($variant => $name),+
            }
        }

        #[doc = concat!("A ", $what, " stored by name in `field`.")]
        pub(super) fn $parse_fn(field: &'static str, text: &str) -> Result<$type, CodecError> {
            match text {
                $($name => Ok($variant),)+
                _ => Err(invalid(
                    field,
                    UnknownName { what: $what, value: text.to_owned(), expected: [$($name),+].join(", ") },
                )),
            }
        }
    };
}

stored_names!(Party, "party", party_name, party, {
    Party::Provider => "provider",
    Party::Applicant => "applicant",
});

stored_names!(Ruling, "ruling", ruling_name, ruling, {
    Ruling::Upheld => "upheld",
    Ruling::Dismissed => "dismissed",
});

stored_names!(Finding, "finding", finding_name, finding, {
    Finding::Compliant => "compliant",
    Finding::Irregular => "irregular",
    Finding::RefusedCooperation => "refused_cooperation",
});

stored_names!(DenialGround, "denial ground", denial_ground_name, denial_ground, {
    DenialGround::Fraud => "fraud",
    DenialGround::RefusedCooperation => "refused_cooperation",
});

// --- Field helpers ---------------------------------------------------------------------------------------

/// An [`CodecError::InvalidField`] for `field` (`Message.field`).
pub(crate) fn invalid(field: &'static str, reason: impl Display) -> CodecError {
    CodecError::InvalidField { field, reason: reason.to_string() }
}

/// The value of a nested message field that must be present (proto3 makes every message field optional).
pub(crate) fn required<T>(field: &'static str, value: Option<T>) -> Result<T, CodecError> {
    value.ok_or_else(|| invalid(field, "missing"))
}

/// A string field parsed with the domain type's own parser: amounts, shares, names of closed sets, credit
/// codes. The error quotes the refused value (the domain's messages do).
pub(crate) fn parse<T>(field: &'static str, text: &str) -> Result<T, CodecError>
where
    T: FromStr,
    T::Err: Display,
{
    text.parse().map_err(|error| invalid(field, error))
}

/// A UUID field (16 bytes).
pub(crate) fn uuid(field: &'static str, bytes: &[u8]) -> Result<Uuid, CodecError> {
    uuid_from_bytes(bytes).map_err(|error| invalid(field, error))
}

/// A date field (days since 1970-01-01).
pub(crate) fn date(field: &'static str, days: i32) -> Result<NaiveDate, CodecError> {
    date_from_days(days).map_err(|error| invalid(field, error))
}

/// A list of UUIDs stored as a repeated bytes field (16 bytes each), kept in its order.
pub(crate) fn uuids(field: &'static str, values: &[Vec<u8>]) -> Result<Vec<Uuid>, CodecError> {
    values.iter().map(|bytes| uuid(field, bytes)).collect()
}

/// A SHA-256 digest stored as its 64 lowercase hexadecimal characters.
pub(crate) fn sha256(field: &'static str, text: &str) -> Result<Sha256Hex, CodecError> {
    Sha256Hex::parse(text).map_err(|error| invalid(field, error))
}

/// A `u8` stored in a `uint32` field (protobuf has no smaller integer); a value above 255 is refused.
pub(crate) fn byte(field: &'static str, value: u32) -> Result<u8, CodecError> {
    u8::try_from(value).map_err(|_| invalid(field, format_args!("{value} is out of range 0-255")))
}

/// A set stored as a repeated string field. A value listed twice is refused: the encoder never writes one,
/// and collapsing it would hide a damaged record.
pub(crate) fn set<T>(field: &'static str, values: Vec<String>) -> Result<BTreeSet<T>, CodecError>
where
    T: FromStr + Ord,
    T::Err: Display,
{
    let mut parsed = BTreeSet::new();
    for value in values {
        if !parsed.insert(parse(field, &value)?) {
            return Err(invalid(field, format_args!("{value:?} is listed twice")));
        }
    }
    Ok(parsed)
}

/// A set of dates stored as a repeated day-count field; a date listed twice is refused, as in [`set`].
pub(crate) fn date_set(field: &'static str, days: &[i32]) -> Result<BTreeSet<NaiveDate>, CodecError> {
    let mut parsed = BTreeSet::new();
    for &day in days {
        let value = date(field, day)?;
        if !parsed.insert(value) {
            return Err(invalid(field, format_args!("{value} is listed twice")));
        }
    }
    Ok(parsed)
}
