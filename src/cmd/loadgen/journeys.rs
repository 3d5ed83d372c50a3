//! What a shopper does, one GraphQL request (or a short chain) per step: the documents a
//! storefront would send, with the selections a storefront page needs.

use std::time::Duration;

use rand::Rng as _;
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use serde_json::{Value, json};

use super::client::{Answer, Client};
use super::stats::Operation;

const REGISTER: &str = "mutation Register($input: RegisterInput!) { register(input: $input) { accessToken expiresIn user { id } } }";
const LOGIN: &str = "mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken expiresIn } }";
const BOOK_CARD: &str = "id title authors price { formatted } availability { inStock available }";
const BOOK: &str = "query Book($id: ID!) { book(id: $id) { id isbn title authors topics description publishedYear price { amount currency formatted } availability { inStock available } } }";
const ADD_TO_CART: &str = "mutation AddToCart($bookId: ID!) { addToCart(bookId: $bookId, quantity: 1) { totalQuantity subtotal { formatted } } }";
const REMOVE_FROM_CART: &str =
    "mutation RemoveFromCart($bookId: ID!) { removeFromCart(bookId: $bookId) { totalQuantity } }";
const CART: &str = "query Cart { cart { totalQuantity subtotal { formatted } items { quantity lineTotal { formatted } book { id title availability { available } } } } }";
const PLACE_ORDER: &str = "mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { id status total { formatted } } }";
pub(crate) const ORDER: &str = "query Order($id: ID!) { order(id: $id) { id status } }";
pub(crate) const ORDERS: &str = "query Orders { orders(first: 20) { edges { node { id status } } } }";

/// Attempts of one checkout while the BFF answers UNAVAILABLE (same idempotency key).
const CHECKOUT_ATTEMPTS: u32 = 5;

/// A shopper's account.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) email: String,
    pub(crate) password: String,
    pub(crate) name: String,
}

/// Attempts of a registration while the BFF answers UNAVAILABLE.
const REGISTER_ATTEMPTS: u32 = 3;

/// Registers `account` and signs the client in; false (already recorded) when it failed.
/// UNAVAILABLE is retried; CONFLICT means an attempt that timed out did create the account
/// (emails are unique per run), so the shopper logs in instead.
pub(crate) async fn register(client: &mut Client, account: &Account) -> bool {
    let variables = json!({ "input": {
        "email": account.email, "password": account.password, "name": account.name,
    }});
    for attempt in 1..=REGISTER_ATTEMPTS {
        let answer = client
            .call(
                Operation::Register,
                REGISTER,
                variables.clone(),
                &["UNAVAILABLE", "CONFLICT"],
            )
            .await;
        match answer {
            Answer::Data(data) => return take_token(client, Operation::Register, &data["register"]),
            Answer::Refused(error) if error.code == "CONFLICT" => return login(client, account).await,
            Answer::Refused(_) => tokio::time::sleep(Duration::from_millis(500) * attempt).await,
            Answer::Failed => return false,
        }
    }
    client.fail(
        Operation::Register,
        &format!("still UNAVAILABLE after {REGISTER_ATTEMPTS} attempts"),
    );
    false
}

/// Logs `account` in (again: a new session and token).
pub(crate) async fn login(client: &mut Client, account: &Account) -> bool {
    let variables = json!({ "email": account.email, "password": account.password });
    let Answer::Data(data) = client.call(Operation::Login, LOGIN, variables, &[]).await else {
        return false;
    };
    take_token(client, Operation::Login, &data["login"])
}

fn take_token(client: &mut Client, operation: Operation, payload: &Value) -> bool {
    if client.sign_in(payload) {
        return true;
    }
    client.fail(operation, "no accessToken in the answer");
    false
}

/// Adds one copy of `book_id`; returns the cart's new total quantity.
pub(crate) async fn add_to_cart(client: &mut Client, book_id: &str) -> Option<i64> {
    let answer = client
        .call(
            Operation::AddToCart,
            ADD_TO_CART,
            json!({ "bookId": book_id }),
            &[],
        )
        .await;
    let Answer::Data(data) = answer else {
        return None;
    };
    let total = data["addToCart"]["totalQuantity"].as_i64();
    if total.is_none() {
        client.fail(Operation::AddToCart, "no totalQuantity in the answer");
    }
    total
}

/// Removes a book from the cart (after checkout said it is out of stock).
pub(crate) async fn remove_from_cart(client: &mut Client, book_id: &str) -> Option<i64> {
    let answer = client
        .call(
            Operation::RemoveFromCart,
            REMOVE_FROM_CART,
            json!({ "bookId": book_id }),
            &[],
        )
        .await;
    match answer {
        Answer::Data(data) => data["removeFromCart"]["totalQuantity"].as_i64(),
        _ => None,
    }
}

/// How a checkout ended.
#[derive(Debug, Clone)]
pub(crate) enum Checkout {
    /// An order came back (normally `CONFIRMED`).
    Placed { order_id: String, status: String },
    /// `OUT_OF_STOCK`, naming the short books.
    OutOfStock { book_ids: Vec<String> },
    /// Recorded as an error.
    Failed,
}

/// Checks out the cart with the sandbox card that is always approved and an inline address.
/// UNAVAILABLE is retried with the same idempotency key, so a retry never orders twice.
pub(crate) async fn place_order(client: &mut Client) -> Checkout {
    let key = uuid::Uuid::new_v4().to_string();
    let variables = json!({ "input": {
        "idempotencyKey": key,
        "shippingAddress": {
            "line1": "1 Load Street", "city": "Testville", "postalCode": "12345", "country": "US",
        },
        "payment": { "card": {
            "number": "4242424242424242", "expMonth": 12, "expYear": card_expiry_year(),
            "cvc": "123", "holder": "Load Shopper",
        }},
    }});
    for attempt in 1..=CHECKOUT_ATTEMPTS {
        let answer = client
            .call(
                Operation::PlaceOrder,
                PLACE_ORDER,
                variables.clone(),
                &["OUT_OF_STOCK", "UNAVAILABLE"],
            )
            .await;
        match answer {
            Answer::Data(data) => {
                let order = &data["placeOrder"];
                let (Some(order_id), Some(status)) = (order["id"].as_str(), order["status"].as_str()) else {
                    client.fail(Operation::PlaceOrder, "no id or status in the answer");
                    return Checkout::Failed;
                };
                return Checkout::Placed {
                    order_id: order_id.to_owned(),
                    status: status.to_owned(),
                };
            }
            Answer::Refused(error) if error.code == "OUT_OF_STOCK" => {
                let mut book_ids = Vec::new();
                for id in error.extensions["bookIds"].as_array().into_iter().flatten() {
                    if let Some(id) = id.as_str() {
                        book_ids.push(id.to_owned());
                    }
                }
                return Checkout::OutOfStock { book_ids };
            }
            Answer::Refused(_) => tokio::time::sleep(Duration::from_millis(200) * attempt).await,
            Answer::Failed => return Checkout::Failed,
        }
    }
    client.fail(
        Operation::PlaceOrder,
        &format!("still UNAVAILABLE after {CHECKOUT_ATTEMPTS} attempts"),
    );
    Checkout::Failed
}

/// A year safely in the future (the card's expiry must be), without a calendar dependency.
fn card_expiry_year() -> u64 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    // 31,556,952 s is the mean Gregorian year; three years ahead absorbs any rounding.
    1970 + seconds / 31_556_952 + 3
}

/// A book a shopper has seen on a page, with the copies available then.
#[derive(Debug, Clone)]
struct SeenBook {
    id: String,
    title: String,
    available: i64,
}

/// Books a shopper remembers; older ones are forgotten.
const MAX_SEEN: usize = 200;

/// Words to search for before any title was seen.
const FALLBACK_WORDS: [&str; 4] = ["garden", "river", "library", "winter"];

/// The cart size at which an "add to cart" becomes a checkout, so carts stay realistic.
const FULL_CART: i64 = 5;

/// One shop virtual user: its account, what it saw, and its cart size.
#[derive(Debug)]
pub(crate) struct Shopper {
    pub(crate) client: Client,
    pub(crate) account: Account,
    rng: StdRng,
    seen: Vec<SeenBook>,
    /// Where browsing continues; `None` starts at the first page.
    cursor: Option<String>,
    cart_quantity: i64,
}

impl Shopper {
    pub(crate) fn new(client: Client, account: Account, rng: StdRng) -> Shopper {
        Shopper {
            client,
            account,
            rng,
            seen: Vec::new(),
            cursor: None,
            cart_quantity: 0,
        }
    }

    /// A page of 20 books with availability, continuing where the last one ended.
    pub(crate) async fn browse(&mut self) {
        let query = format!(
            "query Browse($after: String) {{ books(first: 20, after: $after) {{ totalCount \
             pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {BOOK_CARD} }} }} }} }}"
        );
        let variables = json!({ "after": self.cursor });
        let Answer::Data(data) = self.client.call(Operation::Browse, &query, variables, &[]).await else {
            return;
        };
        let page = &data["books"];
        self.remember(page);
        self.cursor = match page["pageInfo"]["hasNextPage"].as_bool() {
            Some(true) => page["pageInfo"]["endCursor"].as_str().map(str::to_owned),
            _ => None,
        };
    }

    /// A full-text search for a word of a title seen before.
    pub(crate) async fn search(&mut self) {
        let word = match self.seen.choose(&mut self.rng) {
            Some(book) => book
                .title
                .split_whitespace()
                .last()
                .unwrap_or("garden")
                .to_lowercase(),
            None => FALLBACK_WORDS[self.rng.gen_range(0..FALLBACK_WORDS.len())].to_owned(),
        };
        let query = format!(
            "query Search($query: String!) {{ books(filter: {{ query: $query }}, first: 20) {{ totalCount \
             edges {{ node {{ {BOOK_CARD} }} }} }} }}"
        );
        let answer = self
            .client
            .call(Operation::Search, &query, json!({ "query": word }), &[])
            .await;
        if let Answer::Data(data) = answer {
            self.remember(&data["books"]);
        }
    }

    /// A book's page; browses first when no book was seen yet.
    pub(crate) async fn view_book(&mut self) {
        let Some(id) = self.seen.choose(&mut self.rng).map(|book| book.id.clone()) else {
            return self.browse().await;
        };
        let answer = self
            .client
            .call(Operation::Book, BOOK, json!({ "id": id }), &[])
            .await;
        if let Answer::Data(data) = answer
            && data["book"].is_null()
        {
            // Deleted since it was seen: forget it.
            self.seen.retain(|book| book.id != id);
        }
    }

    /// Adds a book seen in stock; a full cart checks out instead.
    pub(crate) async fn add_to_cart(&mut self) {
        if self.cart_quantity >= FULL_CART {
            return self.checkout().await;
        }
        self.add_one().await;
    }

    /// Adds a book seen in stock (any seen book when none was; browses when none was seen).
    async fn add_one(&mut self) {
        let in_stock: Vec<&SeenBook> = self.seen.iter().filter(|book| book.available > 0).collect();
        let chosen = match in_stock.choose(&mut self.rng) {
            Some(book) => Some(book.id.clone()),
            None => self.seen.choose(&mut self.rng).map(|book| book.id.clone()),
        };
        let Some(book_id) = chosen else {
            return self.browse().await;
        };
        if let Some(total) = add_to_cart(&mut self.client, &book_id).await {
            self.cart_quantity = total;
        }
    }

    /// The cart page.
    pub(crate) async fn view_cart(&mut self) {
        let answer = self.client.call(Operation::Cart, CART, json!({}), &[]).await;
        if let Answer::Data(data) = answer
            && let Some(total) = data["cart"]["totalQuantity"].as_i64()
        {
            self.cart_quantity = total;
        }
    }

    /// Logs in again, as a shopper coming back does.
    pub(crate) async fn login(&mut self) {
        login(&mut self.client, &self.account).await;
    }

    /// Checks out (adding a book first when the cart is empty); books out of stock are
    /// removed from the cart, as a shopper would after the storefront says so.
    pub(crate) async fn checkout(&mut self) {
        if self.cart_quantity == 0 {
            self.add_one().await;
            if self.cart_quantity == 0 {
                return;
            }
        }
        match place_order(&mut self.client).await {
            // A confirmed order empties the cart; otherwise look at what is left.
            Checkout::Placed { status, .. } if status == "CONFIRMED" => self.cart_quantity = 0,
            Checkout::Placed { .. } => self.view_cart().await,
            Checkout::OutOfStock { book_ids } => {
                for book_id in &book_ids {
                    if let Some(total) = remove_from_cart(&mut self.client, book_id).await {
                        self.cart_quantity = total;
                    }
                    for book in self.seen.iter_mut().filter(|book| &book.id == book_id) {
                        book.available = 0;
                    }
                }
            }
            Checkout::Failed => {}
        }
    }

    /// Keeps the books of a `BookConnection`, forgetting the oldest beyond [`MAX_SEEN`].
    fn remember(&mut self, connection: &Value) {
        for edge in connection["edges"].as_array().into_iter().flatten() {
            let node = &edge["node"];
            let (Some(id), Some(title)) = (node["id"].as_str(), node["title"].as_str()) else {
                continue;
            };
            let available = node["availability"]["available"].as_i64().unwrap_or(0);
            self.seen.retain(|book| book.id != id);
            self.seen.push(SeenBook {
                id: id.to_owned(),
                title: title.to_owned(),
                available,
            });
        }
        if self.seen.len() > MAX_SEEN {
            let excess = self.seen.len() - MAX_SEEN;
            self.seen.drain(..excess);
        }
    }
}
