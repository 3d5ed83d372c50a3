//! Identifiers and values that cross service boundaries, parsed once at the adapter.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// A wire value that does not parse; names the field so callers can fix their request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidField {
    /// The request field, as named in the contract (`book_id`, `lines[2].quantity`).
    pub field: String,
    /// What is wrong with it, lowercase, no trailing period.
    pub reason: String,
}

impl InvalidField {
    /// Creates an error for `field` with a human-readable `reason`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Creates a fresh, time-ordered id (UUIDv7).
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses a wire string, naming `field` when it is not a UUID.
            ///
            /// # Errors
            /// Returns [`InvalidField`] when the value is empty or not a UUID.
            pub fn parse(field: &str, value: &str) -> Result<Self, InvalidField> {
                if value.is_empty() {
                    return Err(InvalidField::new(field, "is required"));
                }
                Uuid::parse_str(value)
                    .map(Self)
                    .map_err(|_| InvalidField::new(field, "must be a UUID"))
            }

            /// Returns the underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(formatter)
            }
        }
    };
}

uuid_id!(
    /// A user account's id.
    UserId
);
uuid_id!(
    /// A book's id in the catalog; the same id keys its stock in inventory.
    BookId
);
uuid_id!(
    /// An order's id; inventory keys reservations by it too.
    OrderId
);
uuid_id!(
    /// A stock reservation's id.
    ReservationId
);

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Returns the code as text, e.g. `"EUR"`.
    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored (see `FromStr`).
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl FromStr for Currency {
    type Err = InvalidField;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let bytes = value.as_bytes();
        let [first, second, third] = bytes else {
            return Err(InvalidField::new("currency", "must be a 3-letter ISO 4217 code"));
        };
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(InvalidField::new("currency", "must be a 3-letter ISO 4217 code"));
        }
        Ok(Self([*first, *second, *third]))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// An amount of money in minor units (cents) of one currency; never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// Creates an amount, refusing negative values.
    ///
    /// # Errors
    /// Returns [`InvalidField`] naming `field` when `minor` is negative.
    pub fn new(field: &str, minor: i64, currency: Currency) -> Result<Self, InvalidField> {
        if minor < 0 {
            return Err(InvalidField::new(field, "must not be negative"));
        }
        Ok(Self { minor, currency })
    }

    /// Returns the amount in minor units.
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// Returns the currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Parses an amount and a currency code, naming `field` (e.g. `price`) in errors as the
    /// wire spells them (`price.currency`, `price.amount_minor`).
    ///
    /// # Errors
    /// Returns [`InvalidField`] for a negative amount or a bad currency.
    pub fn parse(field: &str, minor: i64, currency: &str) -> Result<Self, InvalidField> {
        let currency = currency
            .parse::<Currency>()
            .map_err(|error| InvalidField::new(format!("{field}.currency"), error.reason))?;
        Self::new(&format!("{field}.amount_minor"), minor, currency)
    }

    /// Parses the wire message, naming `field` (e.g. `price`) in errors. With
    /// [`Money::to_wire`], the one conversion of money to and from the wire.
    ///
    /// # Errors
    /// Returns [`InvalidField`] when the message is absent, negative or has a bad currency.
    pub fn from_wire(field: &str, wire: Option<&crate::common::v1::Money>) -> Result<Self, InvalidField> {
        let Some(wire) = wire else {
            return Err(InvalidField::new(field, "is required"));
        };
        Self::parse(field, wire.amount_minor, &wire.currency)
    }

    /// Returns the wire message.
    pub fn to_wire(&self) -> crate::common::v1::Money {
        crate::common::v1::Money {
            amount_minor: self.minor,
            currency: self.currency.to_string(),
        }
    }
}

/// Returns the wire timestamp of a time given in milliseconds since the Unix epoch (how the
/// services that write SQL by hand store time). With [`timestamp`] and [`datetime`], the one
/// conversion of time to and from the wire.
pub fn timestamp_millis(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        // 0 to 999 ms: at most 999_000_000 ns, which fits.
        nanos: i32::try_from(ms.rem_euclid(1000) * 1_000_000).unwrap_or(0),
    }
}

/// Returns the wire timestamp of `at`.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        // Below one second: at most 999_999_999 ns (or a leap second's 1_999_999_999), which fits.
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(i32::MAX),
    }
}

/// Reads a wire timestamp, naming `field` when it is absent or out of range.
///
/// # Errors
/// Returns [`InvalidField`] for a missing timestamp (never read as 1970) or one that is not
/// a valid time.
pub fn datetime(
    field: &str,
    wire: Option<&prost_types::Timestamp>,
) -> Result<chrono::DateTime<chrono::Utc>, InvalidField> {
    let Some(wire) = wire else {
        return Err(InvalidField::new(field, "is required"));
    };
    let nanos = u32::try_from(wire.nanos).map_err(|_| InvalidField::new(field, "has negative nanos"))?;
    chrono::DateTime::from_timestamp(wire.seconds, nanos)
        .ok_or_else(|| InvalidField::new(field, "is out of range"))
}

/// A book a reservation could not hold: how many copies were asked for and how many were
/// left (0 for a book inventory has never heard of). Inventory refuses with it; svc-order
/// passes it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortLine {
    pub book_id: BookId,
    pub requested: i64,
    pub available: i64,
}

impl ShortLine {
    /// Returns the wire message.
    pub fn to_wire(&self) -> crate::inventory::v1::ShortLine {
        crate::inventory::v1::ShortLine {
            book_id: self.book_id.to_string(),
            requested: self.requested,
            available: self.available,
        }
    }

    /// Parses the wire message.
    ///
    /// # Errors
    /// Returns [`InvalidField`] when the book id is not a UUID.
    pub fn from_wire(wire: &crate::inventory::v1::ShortLine) -> Result<Self, InvalidField> {
        Ok(Self {
            book_id: BookId::parse("book_id", &wire.book_id)?,
            requested: wire.requested,
            available: wire.available,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_the_field_when_they_do_not_parse() {
        let error = BookId::parse("book_id", "not-a-uuid").unwrap_err();
        assert_eq!(error.to_string(), "book_id: must be a UUID");
        let error = OrderId::parse("order_id", "").unwrap_err();
        assert_eq!(error.to_string(), "order_id: is required");
        let id = UserId::generate();
        assert_eq!(UserId::parse("user_id", &id.to_string()).unwrap(), id);
    }

    #[test]
    fn time_survives_the_wire_and_a_missing_one_is_an_error() {
        let wire = timestamp_millis(1_764_000_000_123);
        assert_eq!((wire.seconds, wire.nanos), (1_764_000_000, 123_000_000));
        let at = datetime("created_at", Some(&wire)).unwrap();
        assert_eq!(at.timestamp_millis(), 1_764_000_000_123);
        assert_eq!(timestamp(at), wire);
        assert_eq!(timestamp_millis(-1).seconds, -1, "before the epoch rounds down");
        assert_eq!(datetime("created_at", None).unwrap_err().field, "created_at");
    }

    #[test]
    fn currency_accepts_only_three_upper_case_letters() {
        assert_eq!("EUR".parse::<Currency>().unwrap().as_str(), "EUR");
        for bad in ["", "eu", "eur", "EURO", "E1R", "ÉUR"] {
            assert!(bad.parse::<Currency>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn money_refuses_negative_amounts_and_names_the_field() {
        let wire = crate::common::v1::Money {
            amount_minor: -1,
            currency: "USD".to_owned(),
        };
        let error = Money::from_wire("price", Some(&wire)).unwrap_err();
        assert_eq!(error.field, "price.amount_minor");
        let error = Money::from_wire("price", None).unwrap_err();
        assert_eq!(error.field, "price");
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::{BookId, Currency, Money};
        use crate::common::v1 as wire;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            #[test]
            fn a_currency_is_exactly_three_upper_case_letters(raw in any::<String>()) {
                let valid = raw.len() == 3 && raw.bytes().all(|byte| byte.is_ascii_uppercase());
                match raw.parse::<Currency>() {
                    Ok(currency) => {
                        prop_assert!(valid, "{raw:?} accepted");
                        prop_assert_eq!(currency.as_str(), raw.as_str());
                    }
                    Err(error) => {
                        prop_assert!(!valid, "{raw:?} refused");
                        prop_assert_eq!(error.field, "currency");
                    }
                }
            }

            #[test]
            fn money_from_the_wire_is_refused_only_when_negative_or_badly_coined(
                amount_minor in any::<i64>(),
                currency in prop_oneof![any::<String>(), "[A-Z]{3}"],
            ) {
                let sent = wire::Money { amount_minor, currency: currency.clone() };
                let parsed = Money::from_wire("price", Some(&sent));
                let valid = amount_minor >= 0 && currency.parse::<Currency>().is_ok();
                prop_assert_eq!(parsed.is_ok(), valid, "{:?}", parsed);
                match parsed {
                    Ok(money) => {
                        prop_assert_eq!(money.to_wire(), sent);
                        prop_assert_eq!(Money::from_wire("price", Some(&money.to_wire())).unwrap(), money);
                    }
                    Err(error) => prop_assert!(error.field.starts_with("price."), "{}", error.field),
                }
            }

            #[test]
            fn any_id_text_is_parsed_or_refused_without_panicking(raw in any::<String>()) {
                if let Ok(id) = BookId::parse("book_id", &raw) {
                    prop_assert_eq!(BookId::parse("book_id", &id.to_string()).unwrap(), id);
                }
            }
        }
    }
}
