//! What a storefront does through GraphQL, for the multi-process tests: shoppers, books,
//! carts and checkouts.

use futures::StreamExt as _;
use serde_json::{Value, json};

use super::{GraphQl, Reply};

/// A registered shopper.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub email: String,
    pub token: String,
}

/// The card every storm pays with: the sandbox approves it.
pub const GOOD_CARD: &str = "4242424242424242";

/// The `placeOrder` mutation with the fields the tests read.
pub const PLACE_ORDER: &str =
    "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }";

impl GraphQl {
    /// Registers `count` shoppers, `concurrency` at a time (argon2 is the cost).
    ///
    /// # Errors
    /// When any registration fails.
    pub async fn register_shoppers(
        &self,
        tag: &str,
        count: usize,
        concurrency: usize,
    ) -> anyhow::Result<Vec<Shopper>> {
        let run = uuid::Uuid::new_v4().simple().to_string();
        futures::stream::iter(0..count)
            .map(|index| {
                let email = format!("{tag}-{index}-{}@shoppers.test", &run[..8]);
                async move {
                    let token = self.register(&email, "correct horse battery").await?;
                    Ok(Shopper { email, token })
                }
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<anyhow::Result<Shopper>>>()
            .await
            .into_iter()
            .collect()
    }

    /// Creates a book as `admin` with `on_hand` copies and returns its id.
    ///
    /// # Errors
    /// When creating or stocking it fails.
    pub async fn create_book(
        &self,
        admin: &str,
        title: &str,
        price: i64,
        on_hand: i64,
    ) -> anyhow::Result<String> {
        let isbn = isbn13(u64::from(uuid::Uuid::new_v4().as_fields().0));
        let created = self
            .send(
                Some(admin),
                "mutation($input: BookInput!) { createBook(input: $input) { id } }",
                json!({ "input": {
                    "isbn": isbn, "title": title, "authors": ["Storm Writer"],
                    "topics": ["testing"], "price": price, "currency": "USD"
                }}),
            )
            .await?;
        let id = created.data()["createBook"]["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("createBook failed: {}", created.body))?
            .to_owned();
        // setStock sets an absolute level, so it is safe to repeat: an inventory replica that
        // a chaos run has just restarted answers UNAVAILABLE once, as any client would see.
        let mut attempts = 0;
        loop {
            let stocked = self
                .send(
                    Some(admin),
                    "mutation($id: ID!, $n: Int!) { setStock(bookId: $id, onHand: $n) { available } }",
                    json!({ "id": id, "n": on_hand }),
                )
                .await?;
            attempts += 1;
            if stocked.is_ok() {
                return Ok(id);
            }
            anyhow::ensure!(
                stocked.code() == "UNAVAILABLE" && attempts < 20,
                "setStock failed: {}",
                stocked.body
            );
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    /// Empties the shopper's cart and puts `quantity` of `book` in it.
    ///
    /// # Errors
    /// When either mutation fails.
    pub async fn fill_cart(&self, shopper: &Shopper, book: &str, quantity: i64) -> anyhow::Result<()> {
        let cleared = self
            .send(
                Some(&shopper.token),
                "mutation { clearCart { totalQuantity } }",
                json!({}),
            )
            .await?;
        anyhow::ensure!(cleared.is_ok(), "clearCart failed: {}", cleared.body);
        let added = self
            .send(
                Some(&shopper.token),
                "mutation($id: ID!, $q: Int!) { addToCart(bookId: $id, quantity: $q) { totalQuantity } }",
                json!({ "id": book, "q": quantity }),
            )
            .await?;
        anyhow::ensure!(added.is_ok(), "addToCart failed: {}", added.body);
        Ok(())
    }

    /// Checks out the shopper's cart with a good card under `key`.
    ///
    /// # Errors
    /// Only transport failures; GraphQL errors are in the reply.
    pub async fn place_order(&self, shopper: &Shopper, key: &str) -> reqwest::Result<Reply> {
        self.send(Some(&shopper.token), PLACE_ORDER, place_input(key, GOOD_CARD))
            .await
    }

    /// How many copies of the book the storefront shows as available.
    ///
    /// # Errors
    /// When the query fails.
    pub async fn available(&self, book: &str) -> anyhow::Result<i64> {
        let reply = self
            .send(
                None,
                "query($id: ID!) { book(id: $id) { availability { available } } }",
                json!({ "id": book }),
            )
            .await?;
        reply.data()["book"]["availability"]["available"]
            .as_i64()
            .ok_or_else(|| anyhow::anyhow!("no availability: {}", reply.body))
    }

    /// The book's availability once it is `expected`, or the last one read after `within`:
    /// the BFF's catalogue cache shows a change within a second of its stock event.
    ///
    /// # Errors
    /// When a read fails.
    pub async fn available_within(
        &self,
        book: &str,
        expected: i64,
        within: std::time::Duration,
    ) -> anyhow::Result<i64> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let available = self.available(book).await?;
            if available == expected || tokio::time::Instant::now() >= deadline {
                return Ok(available);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// `PlaceOrderInput` with an inline address and a card.
pub fn place_input(key: &str, card_number: &str) -> Value {
    json!({ "input": {
        "idempotencyKey": key,
        "shippingAddress": { "line1": "1 Storm Street", "city": "Paris", "postalCode": "75002", "country": "FR" },
        "payment": { "card": { "number": card_number, "expMonth": 12, "expYear": 2035, "cvc": "123" } },
    }})
}

/// A valid ISBN-13 from a number (978 range, apart from the generated catalog's).
pub fn isbn13(seed: u64) -> String {
    bookstore::seed::generate::isbn_978(seed)
}
