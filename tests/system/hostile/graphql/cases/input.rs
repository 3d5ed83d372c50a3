//! Cases of hostile values in well-formed requests: huge, odd and injected text, numbers
//! out of range, page tokens nobody issued, and ids that name nothing.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bookstore_tests::stack::shop::place_input;
use serde_json::{Value, json};

use super::super::Expect::{Codes, Data, DataOr, Null};
use super::super::{Case, Fixtures};
use super::By::{Admin, Anonymous, Shopper};
use super::{BAD_INPUT, NOT_FOUND, Row, SEARCH, UNAUTHENTICATED};

const BY_AUTHOR: &str =
    "query($a: String, $t: String) { books(filter: {author: $a, topic: $t}) { totalCount } }";
const BY_ISBN: &str = "query($isbn: String!) { bookByIsbn(isbn: $isbn) { id } }";
const BOOK: &str = "query($id: ID!) { book(id: $id) { id title } }";
const BOOKS_PAGE: &str = "query($first: Int, $after: String, $sort: BookSort) { books(first: $first, after: $after, sort: $sort) { totalCount } }";
const ORDERS_PAGE: &str =
    "query($first: Int, $after: String) { orders(first: $first, after: $after) { edges { cursor } } }";
const BY_PRICE: &str =
    "query($min: Int, $max: Int) { books(filter: {minPrice: $min, maxPrice: $max}) { totalCount } }";
const ORDER: &str = "query($id: ID!) { order(id: $id) { id } }";
const CANCEL: &str = "mutation($id: ID!) { cancelOrder(id: $id) { id } }";
const NAME: &str = "mutation($n: String!) { updateProfile(name: $n) { name } }";
const ADDRESS: &str = "mutation($a: AddressInput!) { addAddress(input: $a) { id } }";
const REMOVE_ADDRESS: &str = "mutation($id: ID!) { removeAddress(id: $id) { id } }";
const ADD: &str = "mutation($id: ID!, $q: Int!) { addToCart(bookId: $id, quantity: $q) { totalQuantity } }";
const UPDATE_ITEM: &str =
    "mutation($id: ID!, $q: Int!) { updateCartItem(bookId: $id, quantity: $q) { totalQuantity } }";
const PLACE: &str = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }";
const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }";
const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }";
const CREATE_BOOK: &str = "mutation($input: BookInput!) { createBook(input: $input) { id } }";
const SET_STOCK: &str = "mutation($id: ID!, $n: Int!) { setStock(bookId: $id, onHand: $n) { available } }";
const RESTOCK: &str = "mutation($id: ID!, $n: Int!) { restock(bookId: $id, quantity: $n) { available } }";
const DELETE_BOOK: &str = "mutation($id: ID!) { deleteBook(id: $id) }";
const ORDER_STATUS: &str = "mutation($id: ID!) { updateOrderStatus(id: $id, status: SHIPPED) { id } }";
const GOOD_CARD: &str = "4242424242424242";
const PASSWORD: &str = "correct horse battery";

/// Strings no field should choke on.
const ODD_TEXT: [(&str, &str); 7] = [
    ("emoji", "📚🔥 books 🦀"),
    ("right-to-left", "كتاب \u{202e}reversed\u{202c} ספר"),
    ("combining marks", "Z\u{0351}\u{0359}a\u{0362}l\u{0317}g\u{0340}o"),
    ("zero-width", "a\u{200b}b\u{feff}c"),
    ("sql quote", "' OR 1=1 --"),
    ("sql drop", "\"; DROP TABLE books; --"),
    ("script", "<script>alert(1)</script>"),
];

fn address(field: &str, value: &str) -> Value {
    let mut input =
        json!({ "line1": "1 Main Street", "city": "Paris", "postalCode": "75002", "country": "FR" });
    input[field] = json!(value);
    json!({ "a": input })
}

fn book_input(field: &str, value: Value) -> Value {
    let mut input = json!({
        "isbn": "9780439023481", "title": "Hostile", "authors": ["A. Writer"],
        "topics": ["testing"], "price": 100, "currency": "USD"
    });
    input[field] = value;
    json!({ "input": input })
}

fn card(field: &str, value: Value) -> Value {
    let mut input = place_input("hostile-card", GOOD_CARD);
    input["input"]["payment"]["card"][field] = value;
    input
}

fn register(email: &str, password: &str) -> Value {
    json!({ "input": { "email": email, "password": password, "name": "Hostile" } })
}

/// Huge, odd and injected text in search, names, addresses, ISBNs and emails.
pub(super) fn text(fixtures: &Fixtures) -> Vec<Case> {
    let big = "x".repeat(60_000);
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        ("60 KB search", Anonymous, SEARCH, json!({ "q": big }), Codes(BAD_INPUT)),
        ("60 KB name", Shopper, NAME, json!({ "n": big }), Codes(BAD_INPUT)),
        ("60 KB address line", Shopper, ADDRESS, address("line1", &big), Codes(BAD_INPUT)),
        ("60 KB isbn", Anonymous, BY_ISBN, json!({ "isbn": big }), Codes(BAD_INPUT)),
        ("60 KB email", Anonymous, LOGIN, json!({ "e": big, "p": "x" }), Codes(UNAUTHENTICATED)),
        ("60 KB password", Anonymous, REGISTER, register("big@example.com", &big), Codes(BAD_INPUT)),
        ("60 KB idempotency key", Shopper, PLACE, place_input(&big, GOOD_CARD), Codes(BAD_INPUT)),
        ("NUL in search", Anonymous, SEARCH, json!({ "q": "a\u{0}b" }), Codes(BAD_INPUT)),
        ("NUL in author", Anonymous, BY_AUTHOR, json!({ "a": "a\u{0}b", "t": null }), Codes(BAD_INPUT)),
        ("NUL in topic", Anonymous, BY_AUTHOR, json!({ "a": null, "t": "\u{0}" }), Codes(BAD_INPUT)),
        ("NUL in name", Shopper, NAME, json!({ "n": "Ann\u{0}" }), Codes(BAD_INPUT)),
        ("NUL in city", Shopper, ADDRESS, address("city", "Pa\u{0}ris"), Codes(BAD_INPUT)),
        ("NUL in isbn", Anonymous, BY_ISBN, json!({ "isbn": "978043902348\u{0}1" }), Codes(BAD_INPUT)),
        ("NUL in title", Admin, CREATE_BOOK, book_input("title", json!("Ti\u{0}tle")), Codes(BAD_INPUT)),
        ("NUL in email", Anonymous, REGISTER, register("nul\u{0}@example.com", PASSWORD), Codes(BAD_INPUT)),
        ("NUL in idempotency key", Shopper, PLACE, place_input("key\u{0}", GOOD_CARD), Codes(BAD_INPUT)),
        ("script in email", Anonymous, REGISTER, register("<script>@example.com'--", PASSWORD), DataOr(BAD_INPUT)),
        ("sql in isbn", Anonymous, BY_ISBN, json!({ "isbn": "' OR 1=1 --" }), Codes(BAD_INPUT)),
        ("sql in login", Anonymous, LOGIN, json!({ "e": "' OR 1=1 --", "p": "' OR 1=1 --" }), Codes(UNAUTHENTICATED)),
        ("sql in book isbn", Admin, CREATE_BOOK, book_input("isbn", json!("'; DROP TABLE books; --")), Codes(BAD_INPUT)),
        ("sql in currency", Admin, CREATE_BOOK, book_input("currency", json!("US'")), Codes(BAD_INPUT)),
        ("search operators only", Anonymous, SEARCH, json!({ "q": "& | ! :* ( ) <-> \\" }), Data),
        ("like wildcards", Anonymous, SEARCH, json!({ "q": "%_%" }), Data),
    ];
    let mut cases = fixtures.posts(rows);
    let cart = "{ cart { totalQuantity } }";
    let sql_session = Case::post("cart session sql", None, cart, json!({}), Codes(BAD_INPUT));
    cases.push(sql_session.header("x-cart-session", b"' OR 1=1 --"));
    let long_session = Case::post("cart session 10 KB", None, cart, json!({}), Codes(BAD_INPUT));
    cases.push(long_session.header("x-cart-session", "a".repeat(10_000).as_bytes()));
    // Odd but harmless text is data: found or not in a search, stored verbatim in a name
    // or an address (escaping is the storefront's job, never the database's).
    let shopper = Some(fixtures.shopper.as_str());
    for (label, value) in ODD_TEXT {
        #[rustfmt::skip]
        let posts = [
            ("in search", None, SEARCH, json!({ "q": value }), Data),
            ("in author", None, BY_AUTHOR, json!({ "a": value, "t": value }), Data),
            ("in name", shopper, NAME, json!({ "n": value }), Data),
            ("in address", shopper, ADDRESS, address("line1", value), Data),
            ("as book id", None, BOOK, json!({ "id": value }), Null("book")),
            ("as order id", shopper, ORDER, json!({ "id": value }), Null("order")),
            ("as cart book id", shopper, ADD, json!({ "id": value, "q": 1 }), Codes(BAD_INPUT)),
        ];
        for (place, token, query, variables, expect) in posts {
            cases.push(Case::post(
                format!("{label} {place}"),
                token,
                query,
                variables,
                expect,
            ));
        }
    }
    cases
}

/// Negative, zero, overflowing and fractional numbers.
pub(super) fn numbers(fixtures: &Fixtures) -> Vec<Case> {
    let book = fixtures.book.as_str();
    let add = |quantity: Value| json!({ "id": book, "q": quantity });
    let stock = |count: i64| json!({ "id": book, "n": count });
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        ("quantity -1", Shopper, ADD, add(json!(-1)), Codes(BAD_INPUT)),
        ("quantity 0", Shopper, ADD, add(json!(0)), Codes(BAD_INPUT)),
        ("quantity i32 max", Shopper, ADD, add(json!(i32::MAX)), Codes(BAD_INPUT)),
        ("quantity i32 min", Shopper, ADD, add(json!(i32::MIN)), Codes(BAD_INPUT)),
        ("quantity 2^31", Shopper, ADD, add(json!(2_147_483_648_i64)), Codes(BAD_INPUT)),
        ("quantity 1e300", Shopper, ADD, add(json!(1e300)), Codes(BAD_INPUT)),
        ("quantity 1.5", Shopper, ADD, add(json!(1.5)), Codes(BAD_INPUT)),
        ("quantity a string", Shopper, ADD, add(json!("1")), Codes(BAD_INPUT)),
        ("cart line -5", Shopper, UPDATE_ITEM, add(json!(-5)), Codes(BAD_INPUT)),
        ("page size -5", Anonymous, BOOKS_PAGE, json!({ "first": -5 }), Codes(BAD_INPUT)),
        ("page size 100000", Anonymous, BOOKS_PAGE, json!({ "first": 100_000 }), Codes(BAD_INPUT)),
        ("page size i32 max", Anonymous, BOOKS_PAGE, json!({ "first": i32::MAX }), Codes(BAD_INPUT)),
        ("order page size -1", Shopper, ORDERS_PAGE, json!({ "first": -1 }), Codes(BAD_INPUT)),
        ("min price -1", Anonymous, BY_PRICE, json!({ "min": -1 }), Codes(BAD_INPUT)),
        ("min price above max", Anonymous, BY_PRICE, json!({ "min": 500, "max": 5 }), Codes(BAD_INPUT)),
        ("max price 2^31", Anonymous, BY_PRICE, json!({ "max": 2_147_483_648_i64 }), Codes(BAD_INPUT)),
        ("stock -1", Admin, SET_STOCK, stock(-1), Codes(BAD_INPUT)),
        ("restock -5", Admin, RESTOCK, stock(-5), Codes(BAD_INPUT)),
        ("restock 0", Admin, RESTOCK, stock(0), Codes(BAD_INPUT)),
        ("price -1", Admin, CREATE_BOOK, book_input("price", json!(-1)), Codes(BAD_INPUT)),
        ("price i32 max", Admin, CREATE_BOOK, book_input("price", json!(i32::MAX)), Codes(BAD_INPUT)),
        ("year i32 min", Admin, CREATE_BOOK, book_input("publishedYear", json!(i32::MIN)), Codes(BAD_INPUT)),
        ("card month 13", Shopper, PLACE, card("expMonth", json!(13)), Codes(BAD_INPUT)),
        ("card month -1", Shopper, PLACE, card("expMonth", json!(-1)), Codes(BAD_INPUT)),
        ("card year i32 max", Shopper, PLACE, card("expYear", json!(i32::MAX)), Codes(BAD_INPUT)),
        ("card number letters", Shopper, PLACE, card("number", json!("4242abcd4242abcd")), Codes(BAD_INPUT)),
        ("card number 10 KB", Shopper, PLACE, card("number", json!("4".repeat(10_000))), Codes(BAD_INPUT)),
    ];
    let mut cases = fixtures.posts(rows);
    // The same numbers written into the query itself rather than sent as variables.
    for literal in ["2147483648", "1e300", "99999999999999999999", "-0.5"] {
        let query =
            format!("mutation {{ addToCart(bookId: \"{book}\", quantity: {literal}) {{ totalQuantity }} }}");
        let token = Some(fixtures.shopper.as_str());
        let name = format!("quantity {literal} literal");
        cases.push(Case::post(name, token, &query, json!({}), Codes(BAD_INPUT)));
    }
    cases
}

/// Page tokens the services never issued.
pub(super) fn cursors(fixtures: &Fixtures) -> Vec<Case> {
    let id = uuid::Uuid::new_v4();
    // Well-formed catalog cursors whose key does not fit the sort, and keys no column holds.
    let forged = |sort: &str, key: Value| {
        URL_SAFE_NO_PAD.encode(json!({ "sort": sort, "key": key, "id": id }).to_string())
    };
    #[rustfmt::skip]
    let books = [
        ("random base64", STANDARD.encode(rand::random::<[u8; 24]>()), "TITLE"),
        ("garbage", "!!!not a cursor!!!".to_owned(), "TITLE"),
        ("base64 of text", URL_SAFE_NO_PAD.encode("hello"), "TITLE"),
        ("json of another shape", URL_SAFE_NO_PAD.encode(r#"{"a":1}"#), "TITLE"),
        ("cursor of another sort", forged("Title", json!({ "Text": "a" })), "PRICE_ASC"),
        ("number key for a title sort", forged("Title", json!({ "Number": 5 })), "TITLE"),
        ("text key for a price sort", forged("PriceAsc", json!({ "Text": "abc" })), "PRICE_ASC"),
        ("score key for a year sort", forged("Newest", json!({ "Score": 1.5 })), "NEWEST"),
        ("NUL in a title key", forged("Title", json!({ "Text": "a\u{0}" })), "TITLE"),
        ("10 KB cursor", "A".repeat(10_000), "TITLE"),
    ];
    let mut cases = Vec::new();
    for (label, after, sort) in books {
        let variables = json!({ "first": 5, "after": after, "sort": sort });
        let name = format!("books after {label}");
        cases.push(Case::post(name, None, BOOKS_PAGE, variables, Codes(BAD_INPUT)));
    }
    let largest_year = forged("Newest", json!({ "Number": i64::MAX }));
    let variables = json!({ "first": 5, "after": largest_year, "sort": "NEWEST" });
    cases.push(Case::post(
        "books after the largest year",
        None,
        BOOKS_PAGE,
        variables,
        Data,
    ));
    let variables = json!({ "after": "" });
    cases.push(Case::post(
        "books after an empty cursor",
        None,
        BOOKS_PAGE,
        variables,
        Data,
    ));
    #[rustfmt::skip]
    let orders = [
        ("random base64", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>())),
        ("garbage", "%%%".to_owned()),
        ("overflowing time", URL_SAFE_NO_PAD.encode(format!("99999999999999999999:{id}"))),
        ("not a uuid", URL_SAFE_NO_PAD.encode("1:not-a-uuid")),
    ];
    let shopper = Some(fixtures.shopper.as_str());
    for (label, after) in orders {
        let name = format!("orders after {label}");
        cases.push(Case::post(
            name,
            shopper,
            ORDERS_PAGE,
            json!({ "after": after }),
            Codes(BAD_INPUT),
        ));
    }
    cases
}

/// Unknown, malformed and empty ids on reads, cart, orders and admin mutations.
pub(super) fn ids(fixtures: &Fixtures) -> Vec<Case> {
    let shopper = Some(fixtures.shopper.as_str());
    let admin = Some(fixtures.admin.as_str());
    let mut cases = Vec::new();
    for (label, id) in [
        ("random uuid", uuid::Uuid::new_v4().to_string()),
        ("nil uuid", uuid::Uuid::nil().to_string()),
        ("not-a-uuid", "not-a-uuid".to_owned()),
        ("empty", String::new()),
    ] {
        let unknown = label.ends_with("uuid") && label != "not-a-uuid";
        let refused = if unknown { NOT_FOUND } else { BAD_INPUT };
        #[rustfmt::skip]
        let posts = [
            ("book", None, BOOK, json!({ "id": id }), Null("book")),
            ("order", shopper, ORDER, json!({ "id": id }), Null("order")),
            ("cancel", shopper, CANCEL, json!({ "id": id }), Codes(refused)),
            ("add to cart", shopper, ADD, json!({ "id": id, "q": 1 }), Codes(refused)),
            ("remove address", shopper, REMOVE_ADDRESS, json!({ "id": id }), Codes(refused)),
            ("delete book", admin, DELETE_BOOK, json!({ "id": id }), Codes(refused)),
            ("set stock", admin, SET_STOCK, json!({ "id": id, "n": 1 }), Codes(refused)),
            ("restock", admin, RESTOCK, json!({ "id": id, "n": 1 }), Codes(refused)),
            ("order status", admin, ORDER_STATUS, json!({ "id": id }), Codes(refused)),
        ];
        for (operation, token, query, variables, expect) in posts {
            cases.push(Case::post(
                format!("{operation} {label}"),
                token,
                query,
                variables,
                expect,
            ));
        }
    }
    // Two books in one request, one id malformed: the good one still loads.
    let pair = "query($good: ID!, $bad: ID!) { good: book(id: $good) { id } bad: book(id: $bad) { id } }";
    let variables = json!({ "good": fixtures.book, "bad": "not-a-uuid" });
    cases.push(Case::post(
        "a malformed id beside a good one",
        None,
        pair,
        variables,
        Null("bad"),
    ));
    let mut saved_address = place_input("hostile-address-id", GOOD_CARD);
    saved_address["input"]["shippingAddress"] = Value::Null;
    saved_address["input"]["addressId"] = json!("not-a-uuid");
    let name = "place order, address not-a-uuid";
    cases.push(Case::post(name, shopper, PLACE, saved_address, Codes(BAD_INPUT)));
    cases
}
