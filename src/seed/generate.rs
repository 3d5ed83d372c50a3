//! N deterministic synthetic books, for demos and for benchmarks at 100k or 1M: the same `n`
//! always yields the same books, with valid ISBN-13s (979-8 prefix), several authors and
//! topics, and words that make full-text search meaningful.

use proto::catalog::v1 as pb;

use super::{SourceRow, deterministic_price};

const ADJECTIVES: [&str; 24] = [
    "Silent", "Crimson", "Hidden", "Last", "Golden", "Broken", "Quiet", "Endless", "Wild", "Lost", "Bright",
    "Distant", "Frozen", "Burning", "Secret", "Gentle", "Iron", "Paper", "Midnight", "Northern", "Sunken",
    "Hollow", "Velvet", "Restless",
];
const NOUNS: [&str; 24] = [
    "Garden",
    "River",
    "Kingdom",
    "Library",
    "Lighthouse",
    "Orchard",
    "Harbor",
    "Forest",
    "Empire",
    "Station",
    "Island",
    "Mountain",
    "Voyage",
    "Archive",
    "Bridge",
    "Winter",
    "Circus",
    "Cathedral",
    "Desert",
    "Machine",
    "Meadow",
    "Tower",
    "Map",
    "Letter",
];
const PLACES: [&str; 16] = [
    "Avalon",
    "Samarkand",
    "Lisbon",
    "Kyoto",
    "Marrakesh",
    "Prague",
    "Valparaiso",
    "Tromsø",
    "Zanzibar",
    "Odessa",
    "Cusco",
    "Hanoi",
    "Galway",
    "Tbilisi",
    "Quito",
    "Bergen",
];
const FIRST_NAMES: [&str; 20] = [
    "Ada", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kemal", "Lucia",
    "Mateo", "Noor", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Talia",
];
const LAST_NAMES: [&str; 20] = [
    "Abara",
    "Bianchi",
    "Castellanos",
    "Dubois",
    "Eriksen",
    "Fujita",
    "Gallagher",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quiroga",
    "Rossi",
    "Schmidt",
    "Tanaka",
];
const TOPICS: [&str; 20] = [
    "Fiction",
    "Mystery",
    "Fantasy",
    "Science Fiction",
    "History",
    "Biography",
    "Poetry",
    "Travel",
    "Romance",
    "Thriller",
    "Philosophy",
    "Science",
    "Cooking",
    "Art",
    "Children",
    "Horror",
    "Humor",
    "Business",
    "Religion",
    "Adventure",
];
const LANGUAGES: [&str; 5] = ["eng", "eng", "fre", "ger", "spa"];

/// Returns book number `index` (0-based) of the synthetic catalog.
pub fn book(index: u64) -> pb::BookInput {
    let pick = |list_len: usize, salt: u64| -> usize {
        let mixed = index
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(salt.wrapping_mul(1_442_695_040_888_963_407));
        usize::try_from((mixed >> 33) % list_len as u64).unwrap_or_default()
    };
    let title = format!(
        "The {} {} of {}",
        ADJECTIVES[pick(ADJECTIVES.len(), 1)],
        NOUNS[pick(NOUNS.len(), 2)],
        PLACES[pick(PLACES.len(), 3)]
    );
    let mut authors = vec![format!(
        "{} {}",
        FIRST_NAMES[pick(FIRST_NAMES.len(), 4)],
        LAST_NAMES[pick(LAST_NAMES.len(), 5)]
    )];
    if index.is_multiple_of(5) {
        authors.push(format!(
            "{} {}",
            FIRST_NAMES[pick(FIRST_NAMES.len(), 6)],
            LAST_NAMES[pick(LAST_NAMES.len(), 7)]
        ));
    }
    let mut topics = vec![TOPICS[pick(TOPICS.len(), 8)].to_owned()];
    let second = TOPICS[pick(TOPICS.len(), 9)].to_owned();
    if !topics.contains(&second) {
        topics.push(second);
    }
    let description = format!(
        "A {} story of a {} {} between {} and {}.",
        ADJECTIVES[pick(ADJECTIVES.len(), 10)].to_lowercase(),
        ADJECTIVES[pick(ADJECTIVES.len(), 11)].to_lowercase(),
        NOUNS[pick(NOUNS.len(), 12)].to_lowercase(),
        PLACES[pick(PLACES.len(), 13)],
        PLACES[pick(PLACES.len(), 14)]
    );
    let mut book = deterministic_price(index);
    book.isbn = isbn(index);
    book.title = title;
    book.authors = authors;
    book.topics = topics;
    book.description = description;
    book.published_year = Some(1900 + i32::try_from(index % 126).unwrap_or_default());
    book.language = LANGUAGES[pick(LANGUAGES.len(), 15)].to_owned();
    book
}

/// Returns `count` synthetic books as import rows, numbered from 1.
pub fn books(count: u64) -> impl Iterator<Item = SourceRow> {
    (0..count).map(|index| SourceRow {
        row: i64::try_from(index + 1).unwrap_or(i64::MAX),
        book: Ok(book(index)),
    })
}

/// A valid ISBN-13 unique to `index` (up to 10^8 books): 979-8, eight digits, check digit.
pub fn isbn(index: u64) -> String {
    with_check_digit(format!("9798{:08}", index % 100_000_000))
}

/// A valid ISBN-13 in the 978 range for `number` (up to 10^9), for books made one at a
/// time (tests, the load generator): it never collides with [`isbn`]'s 979-8 range.
pub fn isbn_978(number: u64) -> String {
    with_check_digit(format!("978{:09}", number % 1_000_000_000))
}

/// Appends the ISBN-13 check digit to twelve digits: weights 1 and 3, sum a multiple of 10.
fn with_check_digit(body: String) -> String {
    let mut sum = 0;
    for (position, byte) in body.bytes().enumerate() {
        let digit = u32::from(byte - b'0');
        sum += if position % 2 == 0 { digit } else { digit * 3 };
    }
    format!("{body}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_match_the_worked_examples() {
        // 978-0-306-40615-7 is the usual worked example.
        assert_eq!(isbn_978(30_640_615), "9780306406157");
        assert_eq!(with_check_digit("978316148410".to_owned()), "9783161484100");
    }

    #[test]
    fn the_same_index_gives_the_same_book_and_isbns_never_repeat() {
        assert_eq!(book(42), book(42));
        let isbns: std::collections::HashSet<String> = (0..10_000).map(isbn).collect();
        assert_eq!(isbns.len(), 10_000);
        assert!(book(7).title.starts_with("The "));
    }
}
