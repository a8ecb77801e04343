//! Money in yuan (CNY, SPEC §5): validated positive amounts, signed balances and voucher shares.
//!
//! Every amount is a [`Decimal`] kept at scale 2 (fen), so equality, ordering and hashing are by value.
//! In JSON (and any other serde format) amounts are strings such as `"1250.50"`; numbers are refused.

use std::fmt;
use std::iter::Sum;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::field::{self, FieldKind};

/// Why an amount or a share was refused. Each message quotes the refused value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not written as a plain decimal number.
    #[error(
        "invalid amount {0:?}: not a plain decimal number like \"1250.50\" \
         (no sign, exponent, separators, spaces or leading zeros)"
    )]
    NotANumber(String),
    /// Zero or negative where a strictly positive amount is required.
    #[error("invalid amount {0:?}: must be strictly positive")]
    NotPositive(String),
    /// More than 2 fractional digits.
    #[error("invalid amount {0:?}: at most 2 decimal places")]
    TooManyDecimals(String),
    /// Above [`Cny::MAX`] (or, for a [`Balance`], beyond what it can represent exactly).
    #[error("invalid amount {0:?}: at most 1000000000000.00")]
    TooLarge(String),
    /// A share not written as a plain decimal number.
    #[error("invalid share {0:?}: not a plain decimal number like \"0.75\"")]
    ShareNotANumber(String),
    /// A share that is not greater than 0 and at most 1.
    #[error("invalid share {0:?}: must be greater than 0 and at most 1")]
    ShareOutOfRange(String),
    /// A share with more than 4 fractional digits.
    #[error("invalid share {0:?}: at most 4 decimal places")]
    ShareTooManyDecimals(String),
}

/// A number as written: an optional `-`, integer digits without leading zeros, optional `.` and fraction.
struct Lexed<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
}

/// Splits `s` into sign, integer and fraction digits; `None` unless it is `-?(0|[1-9][0-9]*)(\.[0-9]+)?`.
fn lex(s: &str) -> Option<Lexed<'_>> {
    let (negative, unsigned) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => {
            if frac.is_empty() {
                return None;
            }
            (int, frac)
        }
        None => (unsigned, ""),
    };
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !all_digits(int) || !all_digits(frac) || (int.len() > 1 && int.starts_with('0')) {
        return None;
    }
    Some(Lexed { negative, int, frac })
}

/// `d` at scale 2, or `None` when that would drop non-zero digits. Zero is always the positive zero.
fn at_fen_scale(d: Decimal) -> Option<Decimal> {
    if d.is_zero() {
        return Some(Balance::ZERO.0);
    }
    if d.normalize().scale() > 2 {
        return None;
    }
    let mut scaled = d;
    scaled.rescale(2);
    (scaled == d && scaled.scale() == 2).then_some(scaled)
}

/// A strictly positive yuan amount with at most 2 fractional digits, at most [`Cny::MAX`].
///
/// Written forms accepted by [`Cny::parse`]: `"1250.50"`, `"1250.5"`, `"1250"`, `"0.01"`. Refused: empty,
/// surrounding spaces, a sign (`"+1"`, `"-1"`), exponents (`"1e3"`), separators (`"1,000"`), `"NaN"`,
/// leading zeros (`"007"`, `"00.50"`; a single `0` before the point is fine), a point without digits
/// on both sides (`"1."`, `".5"`), more than 2 written fractional digits (`"1.005"`, also `"1.500"`),
/// zero and amounts above the maximum.
///
/// # Properties
/// - `Cny::parse(&c.to_string()) == Ok(c)` for every `c` (display round-trips).
/// - [`Display`](fmt::Display) always shows exactly 2 decimals.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Cny(Decimal);

impl Cny {
    /// The largest amount: 1,000,000,000,000.00 yuan.
    pub const MAX: Cny = Cny(Decimal::from_parts(0x107A_4000, 0x5AF3, 0, false, 2));
    /// The largest amount in fen.
    const MAX_FEN: u64 = 100_000_000_000_000;

    /// Parses a written amount (see the type's documentation for the accepted forms).
    ///
    /// # Errors
    /// [`MoneyError::NotANumber`] for anything but plain digits with an optional fraction,
    /// [`MoneyError::NotPositive`] for zero or a negative number, [`MoneyError::TooManyDecimals`] for
    /// more than 2 fractional digits, [`MoneyError::TooLarge`] above [`Cny::MAX`].
    pub fn parse(s: &str) -> Result<Cny, MoneyError> {
        let lexed = lex(s).ok_or_else(|| MoneyError::NotANumber(s.to_owned()))?;
        if lexed.negative {
            return Err(MoneyError::NotPositive(s.to_owned()));
        }
        if lexed.frac.len() > 2 {
            return Err(MoneyError::TooManyDecimals(s.to_owned()));
        }
        if lexed.int.len() > 13 {
            return Err(MoneyError::TooLarge(s.to_owned()));
        }
        let value = Decimal::from_str_exact(s).map_err(|_| MoneyError::NotANumber(s.to_owned()))?;
        Self::checked(value, s)
    }

    /// Validates a decimal amount: the same rules as [`Cny::parse`], except that trailing zeros beyond
    /// the second decimal do not count (`1.500` is `1.50`).
    ///
    /// # Errors
    /// [`MoneyError::NotPositive`], [`MoneyError::TooManyDecimals`] or [`MoneyError::TooLarge`].
    pub fn new(value: Decimal) -> Result<Cny, MoneyError> {
        Self::checked(value, &value.to_string())
    }

    /// The amount of `fen` hundredths of a yuan (`Cny::from_fen(125_050)` is `1250.50`).
    ///
    /// # Errors
    /// [`MoneyError::NotPositive`] for 0, [`MoneyError::TooLarge`] above 100,000,000,000,000 fen.
    pub fn from_fen(fen: u64) -> Result<Cny, MoneyError> {
        if fen == 0 {
            return Err(MoneyError::NotPositive("0 fen".to_owned()));
        }
        match i64::try_from(fen) {
            Ok(fen_i64) if fen <= Self::MAX_FEN => Ok(Cny(Decimal::new(fen_i64, 2))),
            _ => Err(MoneyError::TooLarge(format!("{fen} fen"))),
        }
    }

    /// The amount as a decimal, always at scale 2.
    pub fn amount(&self) -> Decimal {
        self.0
    }

    fn checked(value: Decimal, shown: &str) -> Result<Cny, MoneyError> {
        if value <= Decimal::ZERO {
            return Err(MoneyError::NotPositive(shown.to_owned()));
        }
        let scaled = at_fen_scale(value).ok_or_else(|| MoneyError::TooManyDecimals(shown.to_owned()))?;
        if scaled > Self::MAX.0 {
            return Err(MoneyError::TooLarge(shown.to_owned()));
        }
        Ok(Cny(scaled))
    }
}

impl fmt::Display for Cny {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl FromStr for Cny {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cny::parse(s)
    }
}

impl Serialize for Cny {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cny {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(StrVisitor {
            expecting: "a CNY amount as a string such as \"1250.50\"",
            parse: Cny::parse,
            kind: Some(FieldKind::Amount),
        })
    }
}

/// A signed running total or account balance in yuan, at scale 2; zero by default.
///
/// Arithmetic is checked. It can only fail beyond about 7.9 × 10^26 yuan (where a [`Decimal`] at scale 2
/// runs out of digits), i.e. after more than 10^14 postings of [`Cny::MAX`]; rather than silently lose
/// fen, the operations panic there.
///
/// # Properties
/// - `b.add(c).sub(c) == b` and `b.sub(c).add(c) == b` for every balance `b` and amount `c`.
/// - [`Balance::checked_add`] is commutative and associative, with [`Balance::ZERO`] as identity.
/// - Summing amounts in any order gives the same balance.
/// - `Balance::parse(&b.to_string()) == Ok(b)` for every `b`.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Balance(Decimal);

impl Balance {
    /// The zero balance, `0.00`.
    pub const ZERO: Balance = Balance(Decimal::from_parts(0, 0, 0, false, 2));

    /// Parses a written balance: like [`Cny::parse`] but zero and a leading `-` are allowed and there is
    /// no upper bound short of what a [`Decimal`] at scale 2 can represent (`-0` reads as `0.00`).
    ///
    /// # Errors
    /// [`MoneyError::NotANumber`], [`MoneyError::TooManyDecimals`] or [`MoneyError::TooLarge`].
    pub fn parse(s: &str) -> Result<Balance, MoneyError> {
        let lexed = lex(s).ok_or_else(|| MoneyError::NotANumber(s.to_owned()))?;
        if lexed.frac.len() > 2 {
            return Err(MoneyError::TooManyDecimals(s.to_owned()));
        }
        if lexed.int.len() > 26 {
            return Err(MoneyError::TooLarge(s.to_owned()));
        }
        let value = Decimal::from_str_exact(s).map_err(|_| MoneyError::TooLarge(s.to_owned()))?;
        at_fen_scale(value).map(Balance).ok_or_else(|| MoneyError::TooLarge(s.to_owned()))
    }

    /// The balance of `fen` hundredths of a yuan (may be zero or negative).
    pub fn from_fen(fen: i64) -> Balance {
        Balance(Decimal::new(fen, 2))
    }

    /// The balance as a decimal, always at scale 2.
    pub fn amount(&self) -> Decimal {
        self.0
    }

    /// Whether the balance is zero.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// Whether the balance is below zero.
    pub fn is_negative(&self) -> bool {
        self.0 < Decimal::ZERO
    }

    /// The balance increased by `amount`.
    ///
    /// # Panics
    /// Beyond about 7.9 × 10^26 yuan (see the type's documentation).
    #[must_use]
    #[expect(clippy::should_implement_trait, reason = "an inherent method needs no trait import")]
    pub fn add(self, amount: Cny) -> Balance {
        self.checked_add(Balance(amount.0))
    }

    /// The balance decreased by `amount` (it may go negative).
    ///
    /// # Panics
    /// Beyond about 7.9 × 10^26 yuan (see the type's documentation).
    #[must_use]
    #[expect(clippy::should_implement_trait, reason = "an inherent method needs no trait import")]
    pub fn sub(self, amount: Cny) -> Balance {
        self.exact(self.0.checked_sub(amount.0), "-", amount.0)
    }

    /// The sum of two balances, computed with checked arithmetic.
    ///
    /// # Panics
    /// Beyond about 7.9 × 10^26 yuan (see the type's documentation).
    #[must_use]
    pub fn checked_add(self, other: Balance) -> Balance {
        self.exact(self.0.checked_add(other.0), "+", other.0)
    }

    /// The difference of two balances, computed with checked arithmetic.
    ///
    /// # Panics
    /// Beyond about 7.9 × 10^26 yuan (see the type's documentation).
    #[must_use]
    pub fn checked_sub(self, other: Balance) -> Balance {
        self.exact(self.0.checked_sub(other.0), "-", other.0)
    }

    /// The balance as a [`Cny`] when it is strictly positive and at most [`Cny::MAX`], else `None`.
    pub fn try_into_cny(self) -> Option<Cny> {
        Cny::new(self.0).ok()
    }

    /// `result` when it exists at scale 2; a panic otherwise (far beyond any real amount).
    fn exact(self, result: Option<Decimal>, op: &str, other: Decimal) -> Balance {
        match result.and_then(at_fen_scale) {
            Some(value) => Balance(value),
            None => panic!("balance arithmetic out of range: {self} {op} {other}"),
        }
    }
}

impl From<Cny> for Balance {
    fn from(amount: Cny) -> Self {
        Balance(amount.0)
    }
}

impl Sum<Balance> for Balance {
    fn sum<I: Iterator<Item = Balance>>(iter: I) -> Self {
        iter.fold(Balance::ZERO, Balance::checked_add)
    }
}

impl<'a> Sum<&'a Balance> for Balance {
    fn sum<I: Iterator<Item = &'a Balance>>(iter: I) -> Self {
        iter.copied().sum()
    }
}

impl Sum<Cny> for Balance {
    fn sum<I: Iterator<Item = Cny>>(iter: I) -> Self {
        iter.fold(Balance::ZERO, Balance::add)
    }
}

impl fmt::Display for Balance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl FromStr for Balance {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Balance::parse(s)
    }
}

impl Serialize for Balance {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Balance {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(StrVisitor {
            expecting: "a CNY balance as a string such as \"-100.00\"",
            parse: Balance::parse,
            kind: None,
        })
    }
}

/// The maximum share of a contract's total that a voucher may pay: greater than 0, at most 1, at most
/// 4 decimals. Written `"1"`, `"0.8"`, `"0.75"`, `"0.3333"`; displayed without trailing zeros.
///
/// # Properties
/// - `s.cap_of(t) <= Balance::from(t)`, and `Share::FULL.cap_of(t) == Balance::from(t)`.
/// - `s.cap_of(t)` is `t × s` rounded down to the fen: `t × s - 0.01 < s.cap_of(t) <= t × s`.
/// - `Share::parse(&s.to_string()) == Ok(s)` for every `s`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Share(Decimal);

impl Share {
    /// 100 %: the voucher may pay the whole contract.
    pub const FULL: Share = Share(Decimal::from_parts(10_000, 0, 0, false, 4));

    /// Parses a written share such as `"0.8"` (plain digits, no sign, no leading zeros).
    ///
    /// # Errors
    /// [`MoneyError::ShareNotANumber`], [`MoneyError::ShareOutOfRange`] unless `0 < share <= 1`,
    /// [`MoneyError::ShareTooManyDecimals`] for more than 4 written fractional digits.
    pub fn parse(s: &str) -> Result<Share, MoneyError> {
        let lexed = lex(s).ok_or_else(|| MoneyError::ShareNotANumber(s.to_owned()))?;
        if lexed.negative || lexed.int.len() > 1 {
            return Err(MoneyError::ShareOutOfRange(s.to_owned()));
        }
        if lexed.frac.len() > 4 {
            return Err(MoneyError::ShareTooManyDecimals(s.to_owned()));
        }
        let value = Decimal::from_str_exact(s).map_err(|_| MoneyError::ShareNotANumber(s.to_owned()))?;
        Self::checked(value, s)
    }

    /// Validates a decimal share (trailing zeros beyond the fourth decimal do not count).
    ///
    /// # Errors
    /// [`MoneyError::ShareOutOfRange`] or [`MoneyError::ShareTooManyDecimals`].
    pub fn new(value: Decimal) -> Result<Share, MoneyError> {
        Self::checked(value, &value.to_string())
    }

    /// The share as a decimal between 0 (exclusive) and 1 (inclusive), at scale 4.
    pub fn as_decimal(&self) -> Decimal {
        self.0
    }

    /// The most a voucher may pay of a contract of `total`: `total × share`, rounded down to the fen.
    /// It may be zero (a share of a tiny total).
    pub fn cap_of(&self, total: Cny) -> Balance {
        // total <= 10^12 at scale 2 and share <= 1 at scale 4: the product has at most 19 digits.
        let cap =
            total.0.checked_mul(self.0).map(|cap| cap.round_dp_with_strategy(2, RoundingStrategy::ToZero));
        cap.and_then(at_fen_scale).map_or(Balance::ZERO, Balance)
    }

    fn checked(value: Decimal, shown: &str) -> Result<Share, MoneyError> {
        if value <= Decimal::ZERO || value > Decimal::ONE {
            return Err(MoneyError::ShareOutOfRange(shown.to_owned()));
        }
        if value.normalize().scale() > 4 {
            return Err(MoneyError::ShareTooManyDecimals(shown.to_owned()));
        }
        let mut scaled = value.normalize();
        scaled.rescale(4);
        Ok(Share(scaled))
    }
}

impl fmt::Display for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.normalize(), f)
    }
}

impl FromStr for Share {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Share::parse(s)
    }
}

impl Serialize for Share {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Share {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(StrVisitor {
            expecting: "a share as a string such as \"0.8\"",
            parse: Share::parse,
            kind: None,
        })
    }
}

/// Deserializes a value from a string only, through its `parse`.
struct StrVisitor<T> {
    expecting: &'static str,
    parse: fn(&str) -> Result<T, MoneyError>,
    /// Noted (`crate::field`) when the value is refused: not a string, or a string that does not parse. A
    /// missing field never reaches the visitor, so it is not noted.
    kind: Option<FieldKind>,
}

impl<T> Visitor<'_> for StrVisitor<T> {
    type Value = T;

    /// Also called, to write the error, when the value is not a string: the one hook serde gives a visitor
    /// for a value of the wrong type.
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(kind) = self.kind {
            field::note_failure(kind);
        }
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v).map_err(|error| {
            if let Some(kind) = self.kind {
                field::note_failure(kind);
            }
            E::custom(error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cny(s: &str) -> Cny {
        Cny::parse(s).expect("valid test amount")
    }

    fn bal(fen: i64) -> Balance {
        Balance::from_fen(fen)
    }

    #[test]
    fn parse_accepts_plain_amounts() {
        for (input, shown) in [
            ("1250.50", "1250.50"),
            ("1250.5", "1250.50"),
            ("1250", "1250.00"),
            ("0.01", "0.01"),
            ("0.5", "0.50"),
            ("10", "10.00"),
            ("1000000000000", "1000000000000.00"),
            ("1000000000000.00", "1000000000000.00"),
            ("999999999999.99", "999999999999.99"),
        ] {
            assert_eq!(Cny::parse(input).map(|c| c.to_string()), Ok(shown.to_owned()), "{input}");
        }
    }

    #[test]
    fn parse_refuses_everything_else() {
        use MoneyError::*;
        let nan = |s: &str| NotANumber(s.to_owned());
        for (input, expected) in [
            ("", nan("")),
            (" 1", nan(" 1")),
            ("1 ", nan("1 ")),
            ("1e3", nan("1e3")),
            ("+1", nan("+1")),
            ("1,000", nan("1,000")),
            ("NaN", nan("NaN")),
            ("inf", nan("inf")),
            ("007", nan("007")),
            ("00.50", nan("00.50")),
            ("1.", nan("1.")),
            (".5", nan(".5")),
            ("1.2.3", nan("1.2.3")),
            ("-", nan("-")),
            ("--1", nan("--1")),
            ("１", nan("１")),
            ("-1", NotPositive("-1".to_owned())),
            ("-0.01", NotPositive("-0.01".to_owned())),
            ("0", NotPositive("0".to_owned())),
            ("0.00", NotPositive("0.00".to_owned())),
            ("1.005", TooManyDecimals("1.005".to_owned())),
            ("1.500", TooManyDecimals("1.500".to_owned())),
            ("1000000000000.01", TooLarge("1000000000000.01".to_owned())),
            ("10000000000000", TooLarge("10000000000000".to_owned())),
            (
                "99999999999999999999999999999999999",
                TooLarge("99999999999999999999999999999999999".to_owned()),
            ),
        ] {
            assert_eq!(Cny::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn error_messages_name_the_value() {
        assert_eq!(
            Cny::parse("1.005").map_err(|e| e.to_string()),
            Err("invalid amount \"1.005\": at most 2 decimal places".to_owned())
        );
        assert_eq!(
            Cny::parse("0").map_err(|e| e.to_string()),
            Err("invalid amount \"0\": must be strictly positive".to_owned())
        );
        assert_eq!(
            Share::parse("1.5").map_err(|e| e.to_string()),
            Err("invalid share \"1.5\": must be greater than 0 and at most 1".to_owned())
        );
    }

    #[test]
    fn new_and_from_fen_follow_the_same_rules() {
        assert_eq!(Cny::new(Decimal::new(1500, 3)), Ok(cny("1.50")));
        assert_eq!(Cny::new(Decimal::new(1005, 3)), Err(MoneyError::TooManyDecimals("1.005".to_owned())));
        assert_eq!(Cny::new(Decimal::ZERO), Err(MoneyError::NotPositive("0".to_owned())));
        assert_eq!(Cny::new(Decimal::new(-5, 0)), Err(MoneyError::NotPositive("-5".to_owned())));
        assert_eq!(Cny::new(Cny::MAX.amount()), Ok(Cny::MAX));
        assert!(matches!(Cny::new(Decimal::new(100_000_000_000_001, 2)), Err(MoneyError::TooLarge(_))));
        assert_eq!(Cny::from_fen(125_050), Ok(cny("1250.50")));
        assert_eq!(Cny::from_fen(100_000_000_000_000), Ok(Cny::MAX));
        assert_eq!(Cny::from_fen(0), Err(MoneyError::NotPositive("0 fen".to_owned())));
        assert!(matches!(Cny::from_fen(100_000_000_000_001), Err(MoneyError::TooLarge(_))));
        assert!(matches!(Cny::from_fen(u64::MAX), Err(MoneyError::TooLarge(_))));
        assert_eq!(Cny::MAX.to_string(), "1000000000000.00");
    }

    #[test]
    fn equality_and_hash_are_by_value() {
        use std::collections::HashSet;
        let a = cny("1250.5");
        let b = Cny::new(Decimal::new(125_050_000, 5)).expect("valid");
        assert_eq!(a, b);
        assert_eq!(a.amount().scale(), 2);
        assert_eq!(b.amount().scale(), 2);
        assert_eq!(HashSet::from([a, b]).len(), 1);
        assert!(cny("2") > cny("1.99"));
    }

    #[test]
    fn serde_uses_strings_only() {
        let amount = cny("1250.5");
        assert_eq!(serde_json::to_string(&amount).expect("serializes"), "\"1250.50\"");
        assert_eq!(serde_json::from_str::<Cny>("\"1250.50\"").expect("parses"), amount);
        assert_eq!(serde_json::from_str::<Cny>("\"1250.5\"").expect("parses"), amount);
        for refused in ["1250.5", "1250", "null", "true", "[\"1\"]", "\"1.005\"", "\"-1\"", "\"\""] {
            assert!(serde_json::from_str::<Cny>(refused).is_err(), "{refused}");
        }
        let err = serde_json::from_str::<Cny>("12").map_err(|e| e.to_string());
        assert!(err.is_err_and(|e| e.contains("as a string")));

        let balance = bal(-10_000);
        assert_eq!(serde_json::to_string(&balance).expect("serializes"), "\"-100.00\"");
        assert_eq!(serde_json::from_str::<Balance>("\"-100\"").expect("parses"), balance);
        assert!(serde_json::from_str::<Balance>("-100").is_err());

        let share = Share::parse("0.75").expect("valid");
        assert_eq!(serde_json::to_string(&share).expect("serializes"), "\"0.75\"");
        assert_eq!(serde_json::from_str::<Share>("\"0.7500\"").expect("parses"), share);
        assert!(serde_json::from_str::<Share>("0.75").is_err());
    }

    #[test]
    fn balance_basics() {
        assert_eq!(Balance::default(), Balance::ZERO);
        assert_eq!(Balance::ZERO.to_string(), "0.00");
        assert!(Balance::ZERO.is_zero() && !Balance::ZERO.is_negative());
        let b = Balance::ZERO.sub(cny("100"));
        assert_eq!(b.to_string(), "-100.00");
        assert!(b.is_negative());
        assert_eq!(b.add(cny("100")).to_string(), "0.00");
        assert_eq!(b.add(cny("100")), Balance::ZERO);
        assert_eq!(Balance::from(cny("12.3")).amount(), Decimal::new(1230, 2));
        assert_eq!(bal(5).try_into_cny(), Some(cny("0.05")));
        assert_eq!(Balance::ZERO.try_into_cny(), None);
        assert_eq!(bal(-5).try_into_cny(), None);
        assert_eq!(Balance::from(Cny::MAX).add(cny("0.01")).try_into_cny(), None);
        assert_eq!(Balance::parse("-0"), Ok(Balance::ZERO));
        assert_eq!(Balance::parse("-0").map(|b| b.to_string()), Ok("0.00".to_owned()));
        assert_eq!(Balance::parse("-12.5"), Ok(bal(-1250)));
        assert_eq!(Balance::parse("1.005"), Err(MoneyError::TooManyDecimals("1.005".to_owned())));
        assert_eq!(Balance::parse("+1"), Err(MoneyError::NotANumber("+1".to_owned())));
        let big = "999999999999999999999999999.99";
        assert_eq!(Balance::parse(big), Err(MoneyError::TooLarge(big.to_owned())));
        let widest = "-99999999999999999999999999.99";
        assert_eq!(Balance::parse(widest).map(|b| b.to_string()), Ok(widest.to_owned()));
        assert_eq!([cny("1"), cny("2.5")].into_iter().sum::<Balance>(), bal(350));
        assert_eq!([bal(1), bal(-3)].iter().sum::<Balance>(), bal(-2));
    }

    #[test]
    fn share_parse_and_cap() {
        for (input, shown) in
            [("1", "1"), ("1.0", "1"), ("0.8", "0.8"), ("0.75", "0.75"), ("0.0001", "0.0001")]
        {
            assert_eq!(Share::parse(input).map(|s| s.to_string()), Ok(shown.to_owned()), "{input}");
        }
        assert_eq!(Share::parse("1"), Ok(Share::FULL));
        for (input, expected) in [
            ("0", MoneyError::ShareOutOfRange("0".to_owned())),
            ("1.0001", MoneyError::ShareOutOfRange("1.0001".to_owned())),
            ("2", MoneyError::ShareOutOfRange("2".to_owned())),
            ("10", MoneyError::ShareOutOfRange("10".to_owned())),
            ("-0.5", MoneyError::ShareOutOfRange("-0.5".to_owned())),
            ("0.33333", MoneyError::ShareTooManyDecimals("0.33333".to_owned())),
            ("80%", MoneyError::ShareNotANumber("80%".to_owned())),
            ("", MoneyError::ShareNotANumber(String::new())),
        ] {
            assert_eq!(Share::parse(input), Err(expected), "{input:?}");
        }
        let third = Share::parse("0.3333").expect("valid");
        assert_eq!(third.cap_of(cny("100")), bal(3333));
        assert_eq!(third.cap_of(cny("0.01")), Balance::ZERO);
        assert_eq!(Share::parse("0.8").expect("valid").cap_of(cny("1250.55")), bal(100_044));
        assert_eq!(Share::FULL.cap_of(Cny::MAX), Balance::from(Cny::MAX));
    }

    #[test]
    #[should_panic(expected = "balance arithmetic out of range")]
    fn balance_overflow_panics_rather_than_losing_fen() {
        let huge = Balance::parse("99999999999999999999999999.99").expect("representable");
        let _ = std::iter::repeat_n(huge, 10).sum::<Balance>();
    }

    proptest! {
        #[test]
        fn cny_display_round_trips(fen in 1u64..=100_000_000_000_000) {
            let c = Cny::from_fen(fen).expect("in range");
            let shown = c.to_string();
            let (_, frac) = shown.split_once('.').expect("has a point");
            prop_assert_eq!(frac.len(), 2);
            prop_assert_eq!(Cny::parse(&shown), Ok(c));
            prop_assert_eq!(c.amount().mantissa(), i128::from(fen));
            let json = serde_json::to_string(&c).expect("serializes");
            prop_assert_eq!(serde_json::from_str::<Cny>(&json).expect("parses"), c);
        }

        #[test]
        fn balance_display_round_trips(fen in any::<i64>()) {
            let b = bal(fen);
            prop_assert_eq!(Balance::parse(&b.to_string()), Ok(b));
        }

        #[test]
        fn add_then_sub_is_identity(b in any::<i64>(), c in 1u64..=100_000_000_000_000) {
            let (b, c) = (bal(b), Cny::from_fen(c).expect("in range"));
            prop_assert_eq!(b.add(c).sub(c), b);
            prop_assert_eq!(b.sub(c).add(c), b);
        }

        #[test]
        fn checked_add_is_commutative_associative_with_zero(
            a in any::<i64>(),
            b in any::<i64>(),
            c in any::<i64>(),
        ) {
            let (a, b, c) = (bal(a), bal(b), bal(c));
            prop_assert_eq!(a.checked_add(b), b.checked_add(a));
            prop_assert_eq!(a.checked_add(b).checked_add(c), a.checked_add(b.checked_add(c)));
            prop_assert_eq!(a.checked_add(Balance::ZERO), a);
            prop_assert_eq!(a.checked_add(b).amount().scale(), 2);
        }

        #[test]
        fn sums_do_not_depend_on_order(fens in proptest::collection::vec(1u64..=100_000_000_000_000, 0..20)) {
            let amounts: Vec<Cny> = fens.iter().map(|f| Cny::from_fen(*f).expect("in range")).collect();
            let forward: Balance = amounts.iter().copied().sum();
            let backward: Balance = amounts.iter().rev().copied().sum();
            prop_assert_eq!(forward, backward);
            let total: u128 = fens.iter().map(|f| u128::from(*f)).sum();
            prop_assert_eq!(forward.amount().mantissa(), i128::try_from(total).expect("fits"));
        }

        #[test]
        fn cap_is_total_times_share_rounded_down(fen in 1u64..=100_000_000_000_000, bp in 1i64..=10_000) {
            let total = Cny::from_fen(fen).expect("in range");
            let share = Share::new(Decimal::new(bp, 4)).expect("in range");
            let cap = share.cap_of(total);
            let exact = total.amount() * share.as_decimal();
            prop_assert!(cap <= Balance::from(total));
            prop_assert!(cap.amount() <= exact);
            prop_assert!(cap.amount() > exact - Decimal::new(1, 2));
            prop_assert_eq!(cap.amount().scale(), 2);
            prop_assert_eq!(Share::FULL.cap_of(total), Balance::from(total));
            prop_assert_eq!(Share::parse(&share.to_string()), Ok(share));
        }
    }
}
