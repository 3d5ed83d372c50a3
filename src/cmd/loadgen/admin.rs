//! The admin side of the scenarios' setup, through the same GraphQL API: the hot book
//! (`createBook` + `setStock`), topping up the shop's shelf (`restock`), and reading stock.
//! Setup requests are not part of the report; any failure stops the run.

use anyhow::Context as _;
use futures::StreamExt as _;
use rand::Rng;
use serde_json::{Value, json};

use super::client::Endpoint;
use super::hot_book::HotBook;

const LOGIN: &str = "mutation AdminLogin($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken user { role } } }";
const CREATE_BOOK: &str = "mutation CreateBook($input: BookInput!) { createBook(input: $input) { id isbn } }";
const SET_STOCK: &str = "mutation SetStock($bookId: ID!, $onHand: Int!) { setStock(bookId: $bookId, onHand: $onHand) { available } }";
const RESTOCK: &str = "mutation Restock($bookId: ID!, $quantity: Int!) { restock(bookId: $bookId, quantity: $quantity) { available } }";
const SHELF: &str =
    "query Shelf($first: Int!) { books(first: $first) { edges { node { id availability { available } } } } }";
const AVAILABILITY: &str = "query Availability($id: ID!) { book(id: $id) { availability { available } } }";

/// The first books of the default listing that shop tops up. One page: together with the
/// listing it stays inside the BFF's default per-user burst (200), so no pacing is needed.
const SHELF_BOOKS: i64 = 100;
/// A shelf book below this many copies is topped up …
const SHELF_LOW: i64 = 100;
/// … to this many.
const SHELF_FULL: i64 = 1000;

/// An admin's credentials, from the options or `bookstore up`'s data dir.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) email: String,
    pub(crate) password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Credentials")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A signed-in admin.
#[derive(Debug)]
pub(crate) struct Admin {
    endpoint: Endpoint,
    token: String,
}

impl Admin {
    /// Logs in and checks the account is an admin.
    ///
    /// # Errors
    /// Fails when the login is refused or the account is not an admin.
    pub(crate) async fn login(endpoint: &Endpoint, credentials: &Credentials) -> anyhow::Result<Admin> {
        let variables = json!({ "email": credentials.email, "password": credentials.password });
        let data = endpoint
            .expect_data(LOGIN, variables, None)
            .await
            .with_context(|| format!("failed to log in as admin {}", credentials.email))?;
        let payload = &data["login"];
        if payload["user"]["role"] != "ADMIN" {
            anyhow::bail!("{} is not an admin", credentials.email);
        }
        let token = payload["accessToken"]
            .as_str()
            .context("the admin login returned no accessToken")?;
        Ok(Admin {
            endpoint: endpoint.clone(),
            token: token.to_owned(),
        })
    }

    async fn request(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        self.endpoint
            .expect_data(query, variables, Some(&self.token))
            .await
    }

    /// Creates a book with a fresh random ISBN and `stock` copies.
    ///
    /// # Errors
    /// Fails when either mutation fails.
    pub(crate) async fn create_hot_book(&self, stock: i64) -> anyhow::Result<HotBook> {
        let isbn = random_isbn13(&mut rand::thread_rng());
        let input = json!({
            "isbn": isbn,
            "title": format!("The Hot Book {}", &isbn[isbn.len() - 6..]),
            "authors": ["Loadgen"],
            "topics": ["loadgen"],
            "description": "created by bookstore loadgen's hot-book scenario",
            "price": 1999,
            "currency": "USD",
        });
        let created = self
            .request(CREATE_BOOK, json!({ "input": input }))
            .await
            .context("failed to create the hot book")?;
        let book_id = created["createBook"]["id"]
            .as_str()
            .context("createBook returned no id")?
            .to_owned();
        self.request(SET_STOCK, json!({ "bookId": book_id, "onHand": stock }))
            .await
            .context("failed to set the hot book's stock")?;
        Ok(HotBook { book_id, isbn })
    }

    /// Tops up the first [`SHELF_BOOKS`] books of the default listing that hold fewer than
    /// [`SHELF_LOW`] copies to [`SHELF_FULL`], so shop checkouts can succeed. Returns how many
    /// were topped up.
    ///
    /// # Errors
    /// Fails when the listing or a restock fails.
    pub(crate) async fn stock_shelf(&self) -> anyhow::Result<usize> {
        let shelf = self
            .request(SHELF, json!({ "first": SHELF_BOOKS }))
            .await
            .context("failed to list the shelf")?;
        let mut low = Vec::new();
        for edge in shelf["books"]["edges"].as_array().into_iter().flatten() {
            let node = &edge["node"];
            let available = node["availability"]["available"].as_i64().unwrap_or(0);
            if let Some(id) = node["id"].as_str()
                && available < SHELF_LOW
            {
                low.push((id.to_owned(), SHELF_FULL - available));
            }
        }
        let count = low.len();
        let mut restocks = futures::stream::iter(low)
            .map(|(book_id, quantity)| async move {
                self.request(RESTOCK, json!({ "bookId": book_id, "quantity": quantity }))
                    .await
                    .with_context(|| format!("failed to restock {book_id}"))
            })
            .buffer_unordered(4);
        while let Some(result) = restocks.next().await {
            result?;
        }
        Ok(count)
    }

    /// Returns the copies of `book_id` available now.
    ///
    /// # Errors
    /// Fails when the book or its availability cannot be read.
    pub(crate) async fn available(&self, book_id: &str) -> anyhow::Result<i64> {
        let data = self
            .request(AVAILABILITY, json!({ "id": book_id }))
            .await
            .context("failed to read the hot book's availability")?;
        data["book"]["availability"]["available"]
            .as_i64()
            .context("the hot book has no availability")
    }
}

/// Returns a random ISBN-13 in the 978 range (the demo catalog uses 979-8, so none collide).
pub(crate) fn random_isbn13(rng: &mut impl Rng) -> String {
    crate::seed::generate::isbn_978(rng.gen_range(0..1_000_000_000))
}
