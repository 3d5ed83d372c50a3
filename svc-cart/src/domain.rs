//! Whose cart: a user's (by id) or a guest's (by the session id the BFF keeps in a cookie),
//! and what it holds. No wire types: `grpc.rs` converts.

use proto::types::{BookId, InvalidField, UserId};

/// Most copies of one book in a cart.
pub const MAX_QUANTITY: i64 = 99;
/// Most distinct books in a cart.
pub const MAX_LINES: i64 = 100;

/// The owner of a cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartOwner {
    User(UserId),
    /// 16 to 128 characters of `A-Z a-z 0-9 - _`.
    Guest(String),
}

impl CartOwner {
    /// Returns the part of the Redis key that names this cart, in braces: a Redis Cluster hash
    /// tag, so every key of one cart lands in one slot.
    pub fn key_tag(&self) -> String {
        match self {
            CartOwner::User(id) => format!("{{u:{id}}}"),
            CartOwner::Guest(session) => format!("{{g:{session}}}"),
        }
    }
}

/// A cart: its lines sorted by book, and when it last changed (absent for an empty cart).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cart {
    pub lines: Vec<(BookId, i64)>,
    pub updated_at_ms: Option<i64>,
}

/// Checks a guest session id.
///
/// # Errors
/// Returns [`InvalidField`] for `field` when it is too short, too long or has other characters.
pub fn parse_session(field: &str, raw: &str) -> Result<String, InvalidField> {
    let valid = (16..=128).contains(&raw.len())
        && raw
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || character == '-' || character == '_');
    if valid {
        Ok(raw.to_owned())
    } else {
        Err(InvalidField::new(
            field,
            "must be 16 to 128 characters of A-Z, a-z, 0-9, - and _",
        ))
    }
}

/// Checks a book id.
///
/// # Errors
/// Returns [`InvalidField`] naming `book_id`.
pub fn parse_book(raw: &str) -> Result<BookId, InvalidField> {
    BookId::parse("book_id", raw)
}

/// Checks a quantity for AddItem (`1..=99`) or SetQuantity (`0..=99`, 0 removes).
///
/// # Errors
/// Returns [`InvalidField`] naming `quantity` and the limit.
pub fn parse_quantity(raw: i32, zero_allowed: bool) -> Result<i64, InvalidField> {
    let quantity = i64::from(raw);
    let minimum = if zero_allowed { 0 } else { 1 };
    if quantity < minimum || quantity > MAX_QUANTITY {
        return Err(InvalidField::new(
            "quantity",
            format!("must be between {minimum} and {MAX_QUANTITY}"),
        ));
    }
    Ok(quantity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_and_sessions_are_checked_and_keys_carry_a_hash_tag() {
        let owner = CartOwner::Guest(parse_session("s", "guest-session-0123456789").unwrap());
        assert_eq!(owner.key_tag(), "{g:guest-session-0123456789}");
        for bad in ["short", "has spaces in it, sixteen+", &"x".repeat(129)] {
            assert!(parse_session("s", bad).is_err(), "{bad}");
        }
        assert!(parse_quantity(0, false).is_err());
        assert!(parse_quantity(0, true).is_ok());
        assert_eq!(
            parse_quantity(100, true).unwrap_err().reason,
            "must be between 0 and 99"
        );
    }
}
