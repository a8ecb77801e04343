//! Unified social credit codes (统一社会信用代码, GB 32100-2015) identifying applicants and providers (SPEC §4).
//!
//! A code is 18 characters from the 31-character alphabet `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, S,
//! V, Z); the 18th is the check character of the first 17. Only the alphabet and the check character are
//! verified, not the meaning of the other positions (registration authority, type, division, org code).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The GB 32100-2015 alphabet; a character's value is its index.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The weights of positions 1..=17 (3^(i-1) mod 31).
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// The number of characters of a code.
const CODE_LENGTH: usize = 18;

/// Why a credit code (or a 17-character code body) was refused. `index` counts characters from 0.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    /// Not the expected number of characters (18 for a code, 17 for a body).
    #[error("invalid credit code {code:?}: {length} characters, expected {expected}")]
    WrongLength { code: String, length: usize, expected: usize },
    /// A character outside the alphabet.
    #[error(
        "invalid credit code {code:?}: character {character:?} at index {index} is not one of \
         0-9 A-H J-N P Q R T U W X Y"
    )]
    InvalidCharacter { code: String, character: char, index: usize },
    /// A lowercase letter whose uppercase is in the alphabet: codes are written in uppercase.
    #[error(
        "invalid credit code {code:?}: lowercase {character:?} at index {index}, codes must be uppercase"
    )]
    Lowercase { code: String, character: char, index: usize },
    /// The 18th character is not the check character of the first 17.
    #[error("invalid credit code {code:?}: check character is {found:?}, expected {expected:?}")]
    CheckCharacterMismatch { code: String, expected: char, found: char },
}

/// A unified social credit code whose check character is correct.
///
/// # Properties
/// - For every 17-character body `b` over the alphabet, `with_check_character(b)` parses.
/// - Replacing any one of the 18 characters of a valid code by another alphabet character gives a code
///   that [`CreditCode::parse`] refuses: every weight is non-zero modulo the prime 31, so a substitution
///   in the body changes the check character, and a substituted check character no longer matches.
///
/// Kept inline as its 18 ASCII bytes (no allocation: codes are in most events and read models).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CreditCode([u8; CODE_LENGTH]);

impl fmt::Debug for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CreditCode").field(&self.as_str()).finish()
    }
}

impl CreditCode {
    /// Parses and checks a code. Lowercase is refused, not converted; no spaces are trimmed.
    ///
    /// # Errors
    /// [`CreditCodeError::WrongLength`] unless 18 characters, [`CreditCodeError::Lowercase`] or
    /// [`CreditCodeError::InvalidCharacter`] for a character outside the alphabet (the first one found),
    /// [`CreditCodeError::CheckCharacterMismatch`] when the 18th character is not the check character.
    pub fn parse(code: &str) -> Result<CreditCode, CreditCodeError> {
        let values = values(code, CODE_LENGTH)?;
        let expected = check_of(&values);
        let found = alphabet_char(values[CODE_LENGTH - 1]);
        if expected != found {
            return Err(CreditCodeError::CheckCharacterMismatch { code: code.to_owned(), expected, found });
        }
        Ok(CreditCode::from_checked(code))
    }

    /// The code completed with its check character.
    ///
    /// # Errors
    /// As [`check_character`].
    pub fn with_check_character(first17: &str) -> Result<CreditCode, CreditCodeError> {
        with_check_character(first17)
    }

    /// The check character of the 17-character body `first17` (same as the free [`check_character`]).
    ///
    /// # Errors
    /// As [`check_character`].
    pub fn check_character(first17: &str) -> Result<char, CreditCodeError> {
        check_character(first17)
    }

    /// The code as written (18 uppercase ASCII characters).
    pub fn as_str(&self) -> &str {
        // Always ASCII: only checked codes are stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// A code whose 18 characters `values` has checked to be in the (ASCII) alphabet.
    fn from_checked(code: &str) -> CreditCode {
        let mut bytes = [0u8; CODE_LENGTH];
        bytes.copy_from_slice(&code.as_bytes()[..CODE_LENGTH]);
        CreditCode(bytes)
    }
}

/// The check character (18th) of the 17-character body `first17`.
///
/// # Errors
/// [`CreditCodeError::WrongLength`] unless 17 characters, [`CreditCodeError::Lowercase`] or
/// [`CreditCodeError::InvalidCharacter`] for a character outside the alphabet.
pub fn check_character(first17: &str) -> Result<char, CreditCodeError> {
    Ok(check_of(&values(first17, CODE_LENGTH - 1)?))
}

/// The code made of the 17-character body `first17` and its check character.
///
/// # Errors
/// As [`check_character`].
pub fn with_check_character(first17: &str) -> Result<CreditCode, CreditCodeError> {
    let check = check_character(first17)?;
    Ok(CreditCode::from_checked(&format!("{first17}{check}")))
}

/// The alphabet values of `code`, which must have `expected` (at most 18) characters, in the first
/// `expected` slots (a fixed array: parsing a code allocates nothing but the code itself).
fn values(code: &str, expected: usize) -> Result<[u32; CODE_LENGTH], CreditCodeError> {
    let length = code.chars().count();
    if length != expected || expected > CODE_LENGTH {
        return Err(CreditCodeError::WrongLength { code: code.to_owned(), length, expected });
    }
    let mut values = [0; CODE_LENGTH];
    for (index, character) in code.chars().enumerate() {
        values[index] = value_of(character).ok_or_else(|| {
            if value_of(character.to_ascii_uppercase()).is_some() {
                CreditCodeError::Lowercase { code: code.to_owned(), character, index }
            } else {
                CreditCodeError::InvalidCharacter { code: code.to_owned(), character, index }
            }
        })?;
    }
    Ok(values)
}

/// The value (index in the alphabet) of `character`.
fn value_of(character: char) -> Option<u32> {
    let position = ALPHABET.iter().position(|&a| char::from(a) == character)?;
    u32::try_from(position).ok()
}

/// The alphabet character of `value`, which is below 31.
fn alphabet_char(value: u32) -> char {
    usize::try_from(value).ok().and_then(|i| ALPHABET.get(i)).map_or('?', |&b| char::from(b))
}

/// The check character of a code's values: 31 - (Σ value × weight mod 31) over the body's 17 (the 17 weights
/// end the sum there, whatever the 18th slot holds), with 31 written as 0.
fn check_of(values: &[u32; CODE_LENGTH]) -> char {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(value, weight)| value * weight).sum();
    alphabet_char((31 - sum % 31) % 31)
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for CreditCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl FromStr for CreditCode {
    type Err = CreditCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CreditCode::parse(s)
    }
}

impl Serialize for CreditCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CreditCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CodeVisitor;

        impl Visitor<'_> for CodeVisitor {
            type Value = CreditCode;

            /// Also called, to write the error, when the value is not a string (see `crate::field`).
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                crate::field::note_failure(crate::field::FieldKind::CreditCode);
                f.write_str("an 18-character unified social credit code as a string")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<CreditCode, E> {
                CreditCode::parse(v).map_err(|error| {
                    crate::field::note_failure(crate::field::FieldKind::CreditCode);
                    E::custom(error)
                })
            }
        }

        deserializer.deserialize_str(CodeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Checked by hand: values 9 1 1 1 0 0 0 0 8 0 2 1 0 0 4 3 3 times the weights give
    /// 9 + 3 + 9 + 27 + 160 + 50 + 13 + 40 + 90 + 84 = 485; 485 mod 31 = 20; 31 - 20 = 11 = 'B'.
    const HAND_CHECKED: &str = "91110000802100433B";

    #[test]
    fn the_method_and_the_free_function_give_the_hand_checked_check_character() {
        assert_eq!(CreditCode::check_character(&HAND_CHECKED[..17]), Ok('B'));
        assert_eq!(check_character(&HAND_CHECKED[..17]), Ok('B'));
        assert!(CreditCode::check_character(&HAND_CHECKED[..16]).is_err(), "16 characters");
    }

    /// An independent reference: the check character straight from the GB 32100 formula.
    fn reference_check(first17: &str) -> char {
        let alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
        let sum: usize = first17
            .chars()
            .enumerate()
            .map(|(i, c)| {
                alphabet.find(c).expect("alphabet char") * 3usize.pow(u32::try_from(i).expect("small")) % 31
            })
            .sum();
        let check = 31 - sum % 31;
        alphabet.chars().nth(if check == 31 { 0 } else { check }).expect("index below 31")
    }

    fn body_strategy() -> impl Strategy<Value = String> {
        proptest::collection::vec(0usize..31, 17)
            .prop_map(|values| values.into_iter().map(|v| char::from(ALPHABET[v])).collect())
    }

    #[test]
    fn hand_checked_code_is_accepted() {
        let code = CreditCode::parse(HAND_CHECKED).expect("valid code");
        assert_eq!(code.as_str(), HAND_CHECKED);
        assert_eq!(code.to_string(), HAND_CHECKED);
        assert_eq!(check_character(&HAND_CHECKED[..17]), Ok('B'));
        assert_eq!(reference_check(&HAND_CHECKED[..17]), 'B');
        assert_eq!(with_check_character("91110000802100433"), Ok(code));
    }

    #[test]
    fn weights_are_powers_of_three_mod_31() {
        let mut w = 1;
        for weight in WEIGHTS {
            assert_eq!(weight, w);
            w = w * 3 % 31;
        }
    }

    #[test]
    fn check_value_31_is_written_0() {
        // A body whose weighted sum is a multiple of 31: all zeros.
        assert_eq!(check_character("00000000000000000"), Ok('0'));
        assert!(CreditCode::parse("000000000000000000").is_ok());
    }

    #[test]
    fn every_other_check_character_is_refused() {
        for c in ALPHABET.iter().map(|&b| char::from(b)).filter(|&c| c != 'B') {
            let code = format!("91110000802100433{c}");
            assert_eq!(
                CreditCode::parse(&code),
                Err(CreditCodeError::CheckCharacterMismatch { code: code.clone(), expected: 'B', found: c })
            );
        }
    }

    #[test]
    fn wrong_lengths_are_refused() {
        for code in ["", "91110000802100433", "91110000802100433BB"] {
            assert_eq!(
                CreditCode::parse(code),
                Err(CreditCodeError::WrongLength { code: code.to_owned(), length: code.len(), expected: 18 })
            );
        }
        assert_eq!(
            check_character("9111"),
            Err(CreditCodeError::WrongLength { code: "9111".to_owned(), length: 4, expected: 17 })
        );
        // Length counts characters, not bytes.
        let wide = "９1110000802100433B";
        assert!(matches!(CreditCode::parse(wide), Err(CreditCodeError::InvalidCharacter { index: 0, .. })));
    }

    #[test]
    fn letters_outside_the_alphabet_are_refused() {
        for bad in ['I', 'O', 'S', 'V', 'Z', ' ', '-', '*'] {
            let code = format!("9111000080210{bad}433B");
            assert_eq!(
                CreditCode::parse(&code),
                Err(CreditCodeError::InvalidCharacter { code: code.clone(), character: bad, index: 13 })
            );
        }
        assert!(matches!(
            check_character("9111000080210O433"),
            Err(CreditCodeError::InvalidCharacter { .. })
        ));
    }

    #[test]
    fn lowercase_is_refused_not_converted() {
        let code = "91110000802100433b";
        assert_eq!(
            CreditCode::parse(code),
            Err(CreditCodeError::Lowercase { code: code.to_owned(), character: 'b', index: 17 })
        );
        let message = "invalid credit code \"91110000802100433b\": lowercase 'b' at index 17, \
                       codes must be uppercase";
        assert_eq!(CreditCode::parse(code).map_err(|e| e.to_string()), Err(message.to_owned()));
        // A lowercase letter whose uppercase is not in the alphabet either is simply invalid.
        assert!(matches!(
            CreditCode::parse("9111000080210o433B"),
            Err(CreditCodeError::InvalidCharacter { character: 'o', .. })
        ));
    }

    #[test]
    fn serde_is_a_validated_string() {
        let code = CreditCode::parse(HAND_CHECKED).expect("valid");
        let json = serde_json::to_string(&code).expect("serializes");
        assert_eq!(json, format!("\"{HAND_CHECKED}\""));
        assert_eq!(<CreditCode as AsRef<str>>::as_ref(&code), HAND_CHECKED);
        assert_eq!(serde_json::from_str::<CreditCode>(&json).expect("parses"), code);
        assert!(serde_json::from_str::<CreditCode>("\"91110000802100433C\"").is_err());
        assert!(serde_json::from_str::<CreditCode>("911100008021004330").is_err());
    }

    proptest! {
        #[test]
        fn minted_codes_parse(body in body_strategy()) {
            let code = with_check_character(&body).expect("alphabet body");
            prop_assert_eq!(code.as_str().chars().last(), Some(reference_check(&body)));
            prop_assert_eq!(CreditCode::parse(code.as_str()), Ok(code.clone()));
            prop_assert_eq!(CreditCode::with_check_character(&body), Ok(code));
        }

        #[test]
        fn every_single_substitution_is_detected(
            body in body_strategy(),
            index in 0usize..18,
            shift in 1usize..31,
        ) {
            let code = with_check_character(&body).expect("alphabet body");
            let mut chars: Vec<char> = code.as_str().chars().collect();
            let value = ALPHABET.iter().position(|&b| char::from(b) == chars[index]).expect("alphabet char");
            chars[index] = char::from(ALPHABET[(value + shift) % 31]);
            let changed: String = chars.into_iter().collect();
            prop_assert!(
                matches!(CreditCode::parse(&changed), Err(CreditCodeError::CheckCharacterMismatch { .. })),
                "{} accepted", changed
            );
        }
    }
}
