//! svc-inventory's vocabulary: reservation lines (merged, sorted, bounded), reservations and
//! their states, and a book's stock level. No wire types: `grpc.rs` converts.

use proto::types::{BookId, InvalidField, OrderId, ReservationId};

/// Most copies of one book in one reservation.
pub const MAX_QUANTITY: i64 = 1_000;
/// Most distinct books in one reservation.
pub const MAX_LINES: usize = 100;

/// One book and how many copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReserveLine {
    pub book_id: BookId,
    pub quantity: i64,
}

/// Checks requested lines, in request order (each already parsed, or the error naming its
/// field), into the form every write relies on: duplicates merged and sorted by book id, so
/// every transaction locks stock rows in the same order (no deadlock between two orders
/// naming the same books in opposite orders).
///
/// # Errors
/// Returns [`InvalidField`] for no lines, too many, a line that did not parse or a bad
/// quantity.
pub fn checked_lines(
    requested: impl IntoIterator<Item = Result<ReserveLine, InvalidField>>,
) -> Result<Vec<ReserveLine>, InvalidField> {
    let mut lines: Vec<ReserveLine> = Vec::new();
    for (index, line) in requested.into_iter().enumerate() {
        let line = line?;
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(InvalidField::new(
                format!("lines[{index}].quantity"),
                "must be between 1 and 1000",
            ));
        }
        match lines.iter_mut().find(|existing| existing.book_id == line.book_id) {
            Some(existing) => existing.quantity += line.quantity,
            None => lines.push(line),
        }
    }
    if lines.is_empty() {
        return Err(InvalidField::new("lines", "name at least one book"));
    }
    if lines.len() > MAX_LINES {
        return Err(InvalidField::new("lines", "at most 100 distinct books"));
    }
    if let Some(line) = lines.iter().find(|line| line.quantity > MAX_QUANTITY) {
        return Err(InvalidField::new(
            "lines",
            format!("at most 1000 copies of {}", line.book_id),
        ));
    }
    lines.sort();
    Ok(lines)
}

/// Where a reservation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationState {
    Held,
    Committed,
    Released,
    Expired,
}

impl ReservationState {
    /// Returns the stored value.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReservationState::Held => "HELD",
            ReservationState::Committed => "COMMITTED",
            ReservationState::Released => "RELEASED",
            ReservationState::Expired => "EXPIRED",
        }
    }

    /// Reads the stored value; `None` for anything else.
    pub fn from_stored(value: &str) -> Option<ReservationState> {
        [
            ReservationState::Held,
            ReservationState::Committed,
            ReservationState::Released,
            ReservationState::Expired,
        ]
        .into_iter()
        .find(|state| state.as_str() == value)
    }
}

/// A reservation (or the tombstone of an order released before it reserved) with its lines,
/// sorted by book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub id: ReservationId,
    pub order_id: OrderId,
    pub state: ReservationState,
    pub expires_at_ms: i64,
    pub lines: Vec<ReserveLine>,
}

/// One book's stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevel {
    pub book_id: BookId,
    pub on_hand: i64,
    pub reserved: i64,
    pub version: i64,
}

impl StockLevel {
    /// Returns what can still be reserved.
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }

    /// Returns the level of a book inventory has never heard of.
    pub fn zero(book_id: BookId) -> StockLevel {
        StockLevel {
            book_id,
            on_hand: 0,
            reserved: 0,
            version: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_state_reads_back_and_nothing_else_does() {
        for state in [
            ReservationState::Held,
            ReservationState::Committed,
            ReservationState::Released,
            ReservationState::Expired,
        ] {
            assert_eq!(ReservationState::from_stored(state.as_str()), Some(state));
        }
        assert_eq!(ReservationState::from_stored("CANCELLED"), None);
    }
}
