//! Amounts, balances and shares as they are written (SPEC §5: money is decimal yuan at the fen): what each
//! parser reads, through every way it is reached, and which error a malformed text gets.

use domain::{Balance, MoneyError, Share};

#[test]
fn a_balance_reads_the_same_through_from_str_parse_and_serde() {
    for (text, fen) in [("12.34", 1234), ("-0.50", -50), ("0", 0), ("-7", -700), ("1000000.1", 100_000_010)] {
        let expected = Balance::from_fen(fen);
        assert_eq!(text.parse::<Balance>(), Ok(expected), "{text} by FromStr");
        assert_eq!(Balance::parse(text), Ok(expected), "{text} by Balance::parse");
        let json = serde_json::Value::String(text.to_owned());
        assert_eq!(serde_json::from_value::<Balance>(json).expect("serde"), expected, "{text} by serde");
    }
    assert!(matches!("1.234".parse::<Balance>(), Err(MoneyError::TooManyDecimals(_))));
    assert!(matches!("12,00".parse::<Balance>(), Err(MoneyError::NotANumber(_))));
}

#[test]
fn a_share_above_one_is_out_of_range_however_many_digits_it_has() {
    // Two or more integer digits (no leading zeros are allowed) are out of range before any decimal is
    // built, so a share too long to be a decimal at all is out of range too, not "not a number".
    for text in ["10", "99.5", "100000000000000000000000000000", "123456789012345678901234567890.5"] {
        assert!(
            matches!(Share::parse(text), Err(MoneyError::ShareOutOfRange(_))),
            "{text}: {:?}",
            Share::parse(text)
        );
    }
    for text in ["-0.5", "-1", "0", "0.0000"] {
        assert!(
            matches!(Share::parse(text), Err(MoneyError::ShareOutOfRange(_))),
            "{text}: {:?}",
            Share::parse(text)
        );
    }
    for text in ["1", "0.8", "0.0001"] {
        assert!(Share::parse(text).is_ok(), "{text}");
    }
}
