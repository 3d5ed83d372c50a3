//! A postal address as a client submits it: svc-user stores it, svc-order copies it into an
//! order.

use crate::common::v1 as common;
use crate::types::InvalidField;

/// A checked address ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAddress {
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub is_default: bool,
}

fn text(field: &str, raw: &str, required: bool, max_characters: usize) -> Result<String, InvalidField> {
    let trimmed = raw.trim();
    if required && trimmed.is_empty() {
        return Err(InvalidField::new(field, "is required"));
    }
    if trimmed.chars().count() > max_characters {
        return Err(InvalidField::new(
            field,
            format!("must be at most {max_characters} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(InvalidField::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

impl NewAddress {
    /// Parses the wire input; errors name the field as `address.<field>`.
    ///
    /// # Errors
    /// Returns [`InvalidField`] for a missing address, a blank required line, an over-long
    /// value or a country that is not two letters.
    pub fn parse(input: Option<&common::AddressInput>) -> Result<NewAddress, InvalidField> {
        Self::parse_at("address", input)
    }

    /// Like [`Self::parse`], naming fields `<at>.<field>` (`shipping_address.city`).
    ///
    /// # Errors
    /// As [`Self::parse`].
    pub fn parse_at(at: &str, input: Option<&common::AddressInput>) -> Result<NewAddress, InvalidField> {
        let Some(input) = input else {
            return Err(InvalidField::new(at, "is required"));
        };
        let country = input.country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|letter| letter.is_ascii_uppercase()) {
            return Err(InvalidField::new(
                format!("{at}.country"),
                "must be an ISO 3166-1 alpha-2 code such as DE",
            ));
        }
        Ok(NewAddress {
            line1: text(&format!("{at}.line1"), &input.line1, true, 200)?,
            line2: text(&format!("{at}.line2"), &input.line2, false, 200)?,
            city: text(&format!("{at}.city"), &input.city, true, 100)?,
            postal_code: text(&format!("{at}.postal_code"), &input.postal_code, true, 20)?,
            country,
            is_default: input.is_default,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> common::AddressInput {
        common::AddressInput {
            line1: " 1 Rue de la Paix ".to_owned(),
            line2: String::new(),
            city: "Paris".to_owned(),
            postal_code: "75002".to_owned(),
            country: "fr".to_owned(),
            is_default: false,
        }
    }

    #[test]
    fn a_good_address_is_trimmed_and_its_country_upper_cased() {
        let address = NewAddress::parse(Some(&input())).unwrap();
        assert_eq!(address.line1, "1 Rue de la Paix");
        assert_eq!(address.country, "FR");
    }

    #[test]
    fn each_bad_field_is_named() {
        type Spoil = fn(&mut common::AddressInput);
        let cases: [(Spoil, &str); 5] = [
            (|input| input.line1 = " ".to_owned(), "address.line1"),
            (|input| input.city = String::new(), "address.city"),
            (|input| input.postal_code = "1".repeat(21), "address.postal_code"),
            (|input| input.country = "FRA".to_owned(), "address.country"),
            (|input| input.line2 = "a\u{7}".to_owned(), "address.line2"),
        ];
        for (spoil, field) in cases {
            let mut bad = input();
            spoil(&mut bad);
            assert_eq!(NewAddress::parse(Some(&bad)).unwrap_err().field, field);
        }
        assert_eq!(NewAddress::parse(None).unwrap_err().field, "address");
    }
}
