//! svc-inventory's vocabulary: reservation lines (merged, sorted, bounded) and states.

use proto::inventory::v1 as pb;
use proto::types::{BookId, InvalidField};
use uuid::Uuid;

/// Most copies of one book in one reservation.
pub const MAX_QUANTITY: i64 = 1_000;
/// Most distinct books in one reservation.
pub const MAX_LINES: usize = 100;

/// One book and how many copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReserveLine {
    pub book_id: Uuid,
    pub quantity: i64,
}

/// Parses wire lines into the form every write relies on: duplicates merged and sorted by
/// book id, so every transaction locks stock rows in the same order (no deadlock between
/// two orders naming the same books in opposite orders).
///
/// # Errors
/// Returns [`InvalidField`] for no lines, too many, a bad book id or a bad quantity.
pub fn parse_lines(wire: &[pb::ReserveLine]) -> Result<Vec<ReserveLine>, InvalidField> {
    if wire.is_empty() {
        return Err(InvalidField::new("lines", "name at least one book"));
    }
    let mut lines: Vec<ReserveLine> = Vec::new();
    for (index, line) in wire.iter().enumerate() {
        let book_id = BookId::parse(&format!("lines[{index}].book_id"), &line.book_id)?.as_uuid();
        let quantity = i64::from(line.quantity);
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            return Err(InvalidField::new(
                format!("lines[{index}].quantity"),
                "must be between 1 and 1000",
            ));
        }
        match lines.iter_mut().find(|existing| existing.book_id == book_id) {
            Some(existing) => existing.quantity += quantity,
            None => lines.push(ReserveLine { book_id, quantity }),
        }
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

    /// Reads the stored value (anything unknown reads as RELEASED: it holds nothing).
    pub fn from_stored(value: &str) -> ReservationState {
        match value {
            "HELD" => ReservationState::Held,
            "COMMITTED" => ReservationState::Committed,
            "EXPIRED" => ReservationState::Expired,
            _ => ReservationState::Released,
        }
    }

    /// Returns the wire enum.
    pub fn to_wire(&self) -> pb::ReservationState {
        match self {
            ReservationState::Held => pb::ReservationState::Held,
            ReservationState::Committed => pb::ReservationState::Committed,
            ReservationState::Released => pb::ReservationState::Released,
            ReservationState::Expired => pb::ReservationState::Expired,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(book: &str, quantity: i32) -> pb::ReserveLine {
        pb::ReserveLine {
            book_id: book.to_owned(),
            quantity,
        }
    }

    #[test]
    fn lines_are_merged_and_sorted_so_locks_are_taken_in_one_order() {
        let low = "00000000-0000-7000-8000-000000000001";
        let high = "ffffffff-0000-7000-8000-000000000001";
        let lines = parse_lines(&[line(high, 1), line(low, 2), line(high, 3)]).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].book_id.to_string(), low);
        assert_eq!(lines[1].quantity, 4);
    }

    #[test]
    fn bad_lines_name_the_field() {
        let book = "00000000-0000-7000-8000-000000000001";
        let cases = [
            (vec![], "lines"),
            (vec![line("x", 1)], "lines[0].book_id"),
            (vec![line(book, 0)], "lines[0].quantity"),
            (vec![line(book, 1001)], "lines[0].quantity"),
            (vec![line(book, 600), line(book, 600)], "lines"),
        ];
        for (wire, field) in cases {
            assert_eq!(parse_lines(&wire).unwrap_err().field, field);
        }
    }

    mod properties {
        use proptest::prelude::*;
        use proto::prost::Message as _;

        use super::super::{MAX_QUANTITY, parse_lines};
        use super::{line, pb};

        /// A few book ids, so lines of one book meet and merge.
        const BOOKS: [&str; 3] = [
            "00000000-0000-7000-8000-000000000001",
            "7fffffff-0000-7000-8000-000000000001",
            "ffffffff-0000-7000-8000-000000000001",
        ];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            #[test]
            fn any_bytes_decode_and_check_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
                if let Ok(request) = pb::ReserveRequest::decode(bytes.as_slice()) {
                    let _ = parse_lines(&request.lines);
                }
            }

            #[test]
            fn checked_lines_are_sorted_distinct_and_bounded(
                wire in proptest::collection::vec((0_usize..3, any::<i32>()), 0..8),
            ) {
                let wire: Vec<pb::ReserveLine> = wire.into_iter().map(|(book, quantity)| line(BOOKS[book], quantity)).collect();
                if let Ok(lines) = parse_lines(&wire) {
                    prop_assert!(lines.windows(2).all(|pair| pair[0].book_id < pair[1].book_id));
                    prop_assert!(lines.iter().all(|line| (1..=MAX_QUANTITY).contains(&line.quantity)));
                    let total: i64 = wire.iter().map(|line| i64::from(line.quantity)).sum();
                    prop_assert_eq!(lines.iter().map(|line| line.quantity).sum::<i64>(), total);
                }
            }
        }
    }
}
