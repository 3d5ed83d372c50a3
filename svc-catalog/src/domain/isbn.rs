//! ISBNs: ISBN-13 with its checksum, ISBN-10 accepted and converted, hyphens and spaces
//! ignored.

use std::fmt;

use proto::types::InvalidField;

/// A valid ISBN-13, digits only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Isbn13(String);

impl Isbn13 {
    /// Parses an ISBN-10 or ISBN-13, with or without hyphens and spaces.
    ///
    /// # Errors
    /// Returns [`InvalidField`] for `field` when the length, characters or checksum are wrong.
    pub fn parse(field: &str, raw: &str) -> Result<Isbn13, InvalidField> {
        let compact: String = raw
            .chars()
            .filter(|character| !matches!(character, '-' | ' '))
            .collect();
        match compact.len() {
            10 => from_isbn10(field, &compact),
            13 => {
                if !compact.bytes().all(|byte| byte.is_ascii_digit()) {
                    return Err(InvalidField::new(field, "an ISBN-13 has 13 digits"));
                }
                if !(compact.starts_with("978") || compact.starts_with("979")) {
                    return Err(InvalidField::new(field, "an ISBN-13 starts with 978 or 979"));
                }
                let digits: Vec<u32> = compact.bytes().map(|byte| u32::from(byte - b'0')).collect();
                if check_digit_13(&digits[..12]) != digits[12] {
                    return Err(InvalidField::new(field, "ISBN checksum does not match"));
                }
                Ok(Isbn13(compact))
            }
            0 => Err(InvalidField::new(field, "is required")),
            _ => Err(InvalidField::new(field, "an ISBN has 10 or 13 characters")),
        }
    }
}

fn from_isbn10(field: &str, compact: &str) -> Result<Isbn13, InvalidField> {
    let bytes = compact.as_bytes();
    if !bytes[..9].iter().all(u8::is_ascii_digit) {
        return Err(InvalidField::new(
            field,
            "an ISBN-10 has 9 digits and a check digit or X",
        ));
    }
    let check = match bytes[9] {
        b'X' | b'x' => 10,
        digit if digit.is_ascii_digit() => u32::from(digit - b'0'),
        _ => {
            return Err(InvalidField::new(
                field,
                "an ISBN-10 has 9 digits and a check digit or X",
            ));
        }
    };
    let mut sum = 0;
    for (index, byte) in bytes[..9].iter().enumerate() {
        sum += u32::from(byte - b'0') * (10 - index as u32);
    }
    if (sum + check) % 11 != 0 {
        return Err(InvalidField::new(field, "ISBN checksum does not match"));
    }
    let mut digits: Vec<u32> = vec![9, 7, 8];
    digits.extend(bytes[..9].iter().map(|byte| u32::from(byte - b'0')));
    digits.push(check_digit_13(&digits));
    Ok(Isbn13(
        digits
            .iter()
            .map(|digit| char::from_digit(*digit, 10).unwrap_or('0'))
            .collect(),
    ))
}

/// Returns the ISBN-13 check digit of the first twelve digits.
pub fn check_digit_13(twelve: &[u32]) -> u32 {
    let mut sum = 0;
    for (index, digit) in twelve.iter().enumerate() {
        sum += if index % 2 == 0 { *digit } else { digit * 3 };
    }
    (10 - sum % 10) % 10
}

impl AsRef<str> for Isbn13 {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Isbn13 {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbn_13_and_isbn_10_with_hyphens_parse_to_one_isbn_13() {
        let expected = "9780439023481";
        for raw in [
            "9780439023481",
            "978-0-439-02348-1",
            "0439023483",
            "0-439-02348-3",
            " 978 0439 023481 ",
        ] {
            assert_eq!(Isbn13::parse("isbn", raw).unwrap().as_ref(), expected, "{raw}");
        }
        assert_eq!(
            Isbn13::parse("isbn", "043942089X").unwrap().as_ref(),
            "9780439420891"
        );
    }

    #[test]
    fn wrong_isbns_say_why() {
        let cases = [
            ("", "is required"),
            ("9780439023482", "checksum"),
            ("0439023484", "checksum"),
            ("97804390234", "10 or 13"),
            ("978043902348a", "13 digits"),
            ("1234567890123", "978 or 979"),
            ("04390X3483", "check digit or X"),
        ];
        for (raw, reason) in cases {
            let error = Isbn13::parse("isbn", raw).unwrap_err();
            assert!(error.reason.contains(reason), "{raw}: {}", error.reason);
        }
    }

    #[test]
    fn every_isbn_13_built_from_a_prefix_and_its_check_digit_parses() {
        // A small exhaustive property: any twelve digits after 978 plus the computed check digit.
        for seed in 0u64..2_000 {
            let body = format!("978{:09}", seed.wrapping_mul(2_654_435_761) % 1_000_000_000);
            let digits: Vec<u32> = body.bytes().map(|byte| u32::from(byte - b'0')).collect();
            let isbn = format!("{body}{}", check_digit_13(&digits));
            assert!(Isbn13::parse("isbn", &isbn).is_ok(), "{isbn}");
            let wrong = format!("{body}{}", (check_digit_13(&digits) + 1) % 10);
            assert!(Isbn13::parse("isbn", &wrong).is_err(), "{wrong}");
        }
    }

    mod properties {
        use proptest::collection::vec;
        use proptest::prelude::*;

        use super::super::{Isbn13, check_digit_13};

        fn text(digits: &[u32]) -> String {
            digits
                .iter()
                .map(|digit| char::from_digit(*digit, 10).unwrap())
                .collect()
        }

        /// Twelve digits of an ISBN-13 (978 or 979 first).
        fn twelve() -> impl Strategy<Value = Vec<u32>> {
            (prop_oneof![Just(8), Just(9)], vec(0_u32..10, 9)).prop_map(|(third, body)| {
                let mut digits = vec![9, 7, third];
                digits.extend(body);
                digits
            })
        }

        /// The ISBN-10 check character of nine digits.
        fn check_10(nine: &[u32]) -> u32 {
            let sum: u32 = nine
                .iter()
                .enumerate()
                .map(|(index, digit)| digit * (10 - index as u32))
                .sum();
            (11 - sum % 11) % 11
        }

        fn check_char(check: u32) -> char {
            if check == 10 {
                'X'
            } else {
                char::from_digit(check, 10).unwrap()
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            #[test]
            fn any_text_is_parsed_or_refused_without_panicking(raw in any::<String>()) {
                let _ = Isbn13::parse("isbn", &raw);
            }

            #[test]
            fn isbn_shaped_text_parses_only_to_thirteen_digits(raw in "[0-9Xx é-]{0,16}") {
                if let Ok(isbn) = Isbn13::parse("isbn", &raw) {
                    prop_assert_eq!(isbn.as_ref().len(), 13);
                    prop_assert!(isbn.as_ref().bytes().all(|byte| byte.is_ascii_digit()));
                    prop_assert_eq!(Isbn13::parse("isbn", isbn.as_ref()).unwrap(), isbn);
                }
            }

            #[test]
            fn a_valid_isbn_13_round_trips_with_any_hyphens(digits in twelve(), hyphens in vec(any::<bool>(), 13)) {
                let check = check_digit_13(&digits);
                let plain = format!("{}{check}", text(&digits));
                let typed: String = plain
                    .chars()
                    .zip(&hyphens)
                    .flat_map(|(digit, hyphen)| if *hyphen { vec![digit, '-'] } else { vec![digit] })
                    .collect();
                let parsed = Isbn13::parse("isbn", &typed).unwrap();
                prop_assert_eq!(parsed.as_ref(), plain.as_str());
                prop_assert_eq!(Isbn13::parse("isbn", parsed.as_ref()).unwrap(), parsed);
            }

            #[test]
            fn a_wrong_isbn_13_check_digit_is_refused(digits in twelve(), off_by in 1_u32..10) {
                let wrong = (check_digit_13(&digits) + off_by) % 10;
                let error = Isbn13::parse("isbn", &format!("{}{wrong}", text(&digits))).unwrap_err();
                prop_assert!(error.reason.contains("checksum"), "{}", error.reason);
            }

            #[test]
            fn a_valid_isbn_10_is_the_same_book_as_its_isbn_13(nine in vec(0_u32..10, 9)) {
                let isbn10 = format!("{}{}", text(&nine), check_char(check_10(&nine)));
                let mut twelve = vec![9, 7, 8];
                twelve.extend(&nine);
                let isbn13 = format!("{}{}", text(&twelve), check_digit_13(&twelve));
                let parsed = Isbn13::parse("isbn", &isbn10).unwrap();
                prop_assert_eq!(parsed.as_ref(), isbn13.as_str());
            }

            #[test]
            fn a_wrong_isbn_10_check_is_refused(nine in vec(0_u32..10, 9), off_by in 1_u32..11) {
                let wrong = check_char((check_10(&nine) + off_by) % 11);
                let error = Isbn13::parse("isbn", &format!("{}{wrong}", text(&nine))).unwrap_err();
                prop_assert!(error.reason.contains("checksum"), "{}", error.reason);
            }
        }
    }
}
