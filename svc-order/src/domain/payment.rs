//! Payment input, checked before anything is written: card numbers pass Luhn, expiry is not
//! past, the cvc has the brand's length. The number lives only in memory for the authorize
//! call (its `Debug` shows brand and last 4); only brand and last 4 are stored.

use chrono::Datelike as _;
use proto::types::InvalidField;

/// A card, checked. Never stored; never printed in full.
#[derive(Clone, PartialEq, Eq)]
pub struct Card {
    number: String,
    pub brand: &'static str,
    pub last4: String,
}

impl std::fmt::Debug for Card {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "Card({} ending {})", self.brand, self.last4)
    }
}

impl Card {
    /// The digits, for the provider call only.
    pub fn number(&self) -> &str {
        &self.number
    }
}

/// Payment input as submitted, before it is checked (the adapter fills it from the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentInput<'a> {
    Card(CardInput<'a>),
    Paypal { email: &'a str },
}

/// A card as typed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CardInput<'a> {
    pub number: &'a str,
    pub exp_month: i32,
    pub exp_year: i32,
    pub cvc: &'a str,
}

impl std::fmt::Debug for CardInput<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("CardInput(..)")
    }
}

/// How the customer pays, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentMethod {
    Card(Card),
    Paypal { email: String },
}

impl PaymentMethod {
    /// The kind of method, as stored.
    pub fn kind(&self) -> super::order::PaymentKind {
        match self {
            PaymentMethod::Card(_) => super::order::PaymentKind::Card,
            PaymentMethod::Paypal { .. } => super::order::PaymentKind::Paypal,
        }
    }

    /// Brand and last 4 (empty for PayPal): all that is kept.
    pub fn summary(&self) -> (&'static str, String) {
        match self {
            PaymentMethod::Card(card) => (card.brand, card.last4.clone()),
            PaymentMethod::Paypal { .. } => ("", String::new()),
        }
    }

    /// Checks the input against today's date.
    ///
    /// # Errors
    /// Names the field (`payment.card.number`, `payment.card.exp_month`, …).
    pub fn parse(input: Option<&PaymentInput<'_>>, today: chrono::NaiveDate) -> Result<Self, InvalidField> {
        match input {
            None => Err(InvalidField::new(
                "payment",
                "a card or a paypal account is required",
            )),
            Some(PaymentInput::Paypal { email }) => parse_paypal(email),
            Some(PaymentInput::Card(card)) => parse_card(card, today).map(PaymentMethod::Card),
        }
    }
}

fn parse_paypal(email: &str) -> Result<PaymentMethod, InvalidField> {
    let email = email.trim().to_ascii_lowercase();
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && email.len() <= 254
        }
        None => false,
    };
    if !valid {
        return Err(InvalidField::new(
            "payment.paypal.email",
            "is not an email address",
        ));
    }
    Ok(PaymentMethod::Paypal { email })
}

fn parse_card(card: &CardInput<'_>, today: chrono::NaiveDate) -> Result<Card, InvalidField> {
    let digits: String = card
        .number
        .chars()
        .filter(|character| !matches!(character, ' ' | '-'))
        .collect();
    let number_field = "payment.card.number";
    if !(12..=19).contains(&digits.len()) || !digits.chars().all(|digit| digit.is_ascii_digit()) {
        return Err(InvalidField::new(number_field, "must be 12 to 19 digits"));
    }
    if !luhn_valid(&digits) {
        return Err(InvalidField::new(number_field, "is not a valid card number"));
    }
    if !(1..=12).contains(&card.exp_month) {
        return Err(InvalidField::new("payment.card.exp_month", "must be 1 to 12"));
    }
    if !(1000..=9999).contains(&card.exp_year) {
        return Err(InvalidField::new(
            "payment.card.exp_year",
            "must have four digits",
        ));
    }
    let (year, month) = (today.year(), i32::try_from(today.month()).unwrap_or(12));
    if (card.exp_year, card.exp_month) < (year, month) {
        return Err(InvalidField::new("payment.card.exp_year", "the card has expired"));
    }
    let brand = brand(&digits);
    let cvc_length = if brand == "amex" { 4 } else { 3 };
    if card.cvc.len() != cvc_length || !card.cvc.chars().all(|digit| digit.is_ascii_digit()) {
        return Err(InvalidField::new(
            "payment.card.cvc",
            format!("must be {cvc_length} digits"),
        ));
    }
    let last4 = digits[digits.len() - 4..].to_owned();
    Ok(Card {
        number: digits,
        brand,
        last4,
    })
}

fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    for (index, digit) in digits.bytes().rev().enumerate() {
        let mut value = u32::from(digit - b'0');
        if index % 2 == 1 {
            value *= 2;
            if value > 9 {
                value -= 9;
            }
        }
        sum += value;
    }
    sum % 10 == 0
}

fn brand(digits: &str) -> &'static str {
    let prefix2: u32 = digits[..2].parse().unwrap_or(0);
    let prefix4: u32 = digits[..4].parse().unwrap_or(0);
    match digits.as_bytes()[0] {
        b'4' => "visa",
        b'3' if prefix2 == 34 || prefix2 == 37 => "amex",
        b'5' if (51..=55).contains(&prefix2) => "mastercard",
        b'2' if (2221..=2720).contains(&prefix4) => "mastercard",
        b'6' if digits.starts_with("6011") || prefix2 == 65 => "discover",
        _ => "card",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn card<'a>(number: &'a str, exp_month: i32, exp_year: i32, cvc: &'a str) -> Option<PaymentInput<'a>> {
        Some(PaymentInput::Card(CardInput {
            number,
            exp_month,
            exp_year,
            cvc,
        }))
    }

    fn field(result: Result<PaymentMethod, InvalidField>) -> String {
        result.unwrap_err().field
    }

    #[test]
    fn a_test_card_passes_and_keeps_only_brand_and_last4() {
        let method =
            PaymentMethod::parse(card("4242 4242 4242 4242", 12, 2030, "123").as_ref(), today()).unwrap();
        assert_eq!(method.summary(), ("visa", "4242".to_owned()));
        assert!(
            !format!("{method:?}").contains("42424242"),
            "Debug never prints the number"
        );
    }

    #[test]
    fn luhn_expiry_and_cvc_are_checked_naming_the_field() {
        let bad_luhn = card("4242 4242 4242 4241", 12, 2030, "123");
        assert_eq!(
            field(PaymentMethod::parse(bad_luhn.as_ref(), today())),
            "payment.card.number"
        );
        let expired = card("4242424242424242", 10, 2026, "123");
        assert_eq!(
            field(PaymentMethod::parse(expired.as_ref(), today())),
            "payment.card.exp_year"
        );
        let this_month = card("4242424242424242", 11, 2026, "123");
        assert!(PaymentMethod::parse(this_month.as_ref(), today()).is_ok());
        let bad_cvc = card("4242424242424242", 12, 2030, "12");
        assert_eq!(
            field(PaymentMethod::parse(bad_cvc.as_ref(), today())),
            "payment.card.cvc"
        );
        let amex = card("378282246310005", 12, 2030, "1234");
        assert_eq!(
            PaymentMethod::parse(amex.as_ref(), today()).unwrap().summary().0,
            "amex"
        );
        assert_eq!(field(PaymentMethod::parse(None, today())), "payment");
    }

    #[test]
    fn paypal_needs_an_email() {
        let paypal = |email: &'static str| Some(PaymentInput::Paypal { email });
        assert!(PaymentMethod::parse(paypal("Buyer@Example.com").as_ref(), today()).is_ok());
        assert_eq!(
            field(PaymentMethod::parse(paypal("nobody").as_ref(), today())),
            "payment.paypal.email"
        );
    }

    mod properties {
        use proptest::collection::vec;
        use proptest::prelude::*;

        use super::{card, today};
        use crate::domain::payment::PaymentMethod;

        /// A Visa-shaped number of `length` digits whose Luhn check digit is right.
        fn luhn_number(body: &[u32]) -> String {
            let mut digits = vec![4];
            digits.extend(body);
            let mut sum = 0;
            for (index, digit) in digits.iter().rev().enumerate() {
                let mut value = *digit;
                if index % 2 == 0 {
                    value *= 2;
                    if value > 9 {
                        value -= 9;
                    }
                }
                sum += value;
            }
            digits.push((10 - sum % 10) % 10);
            digits
                .iter()
                .map(|digit| char::from_digit(*digit, 10).unwrap())
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            #[test]
            fn any_card_input_is_checked_without_panicking(
                number in prop_oneof![any::<String>(), "[0-9 -]{0,24}"],
                exp_month in any::<i32>(),
                exp_year in any::<i32>(),
                cvc in any::<String>(),
            ) {
                let parsed = PaymentMethod::parse(card(&number, exp_month, exp_year, &cvc).as_ref(), today());
                if let Ok(PaymentMethod::Card(checked)) = parsed {
                    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
                    prop_assert!(digits.ends_with(&checked.last4));
                    let printed = format!("{checked:?}");
                    prop_assert!(!printed.contains(&digits));
                }
            }

            #[test]
            fn a_luhn_valid_number_passes_and_keeps_only_its_last_four(body in vec(0_u32..10, 11..18), spaced in any::<bool>()) {
                let number = luhn_number(&body);
                let typed = if spaced {
                    number.as_bytes().chunks(4).map(|chunk| std::str::from_utf8(chunk).unwrap()).collect::<Vec<_>>().join(" ")
                } else {
                    number.clone()
                };
                let method = PaymentMethod::parse(card(&typed, 12, 2035, "123").as_ref(), today()).unwrap();
                prop_assert_eq!(method.summary(), ("visa", number[number.len() - 4..].to_owned()));
            }

            #[test]
            fn one_mistyped_digit_is_refused(body in vec(0_u32..10, 11..18), position in any::<prop::sample::Index>(), off_by in 1_u32..10) {
                let number = luhn_number(&body);
                let index = position.index(number.len());
                let mut digits: Vec<u32> = number.chars().map(|digit| digit.to_digit(10).unwrap()).collect();
                digits[index] = (digits[index] + off_by) % 10;
                let mistyped: String = digits.iter().map(|digit| char::from_digit(*digit, 10).unwrap()).collect();
                let error = PaymentMethod::parse(card(&mistyped, 12, 2035, "123").as_ref(), today()).unwrap_err();
                prop_assert_eq!(error.field, "payment.card.number");
            }
        }
    }
}
