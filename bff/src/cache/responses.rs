//! Whole answers of catalogue-only queries, kept as their serialised `data`, so a warm page
//! skips GraphQL parsing, execution and serialisation altogether.
//!
//! Only a guest's query (no token: nothing in it depends on who asks) whose root fields are
//! all catalogue reads (`books` without an `inStock` filter, `book`, `bookByIsbn`, `topics`)
//! and that answered without an error is kept. It is keyed by the request as sent (the POST
//! body or the GET query string, and the media type) and stamped with the cache's
//! generations when its execution began: it is served only while no book or stock event has
//! come since, and only while the feeds are in sync. Every answer the resolvers could build
//! from events alone is therefore also the one kept here.

use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};
use async_graphql::{Name, Value as ConstValue};
use axum::body::Bytes;

/// What an answer was asked with: the media type answered and the request as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResponseKey {
    pub media: &'static str,
    pub get: bool,
    pub request: Bytes,
}

/// The generations (book, stock) an answer was built at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp(pub(super) u64, pub(super) u64);

/// A kept answer: its serialised `data`, the generations it was built at, and how the
/// metrics label the operation (a hit is counted like the answer it repeats).
#[derive(Debug)]
pub(super) struct Stored {
    pub(super) stamp: Stamp,
    pub(super) data: Bytes,
    pub(super) operation: Arc<crate::metrics::Operation>,
}

/// Root fields whose answer depends only on what the events keep fresh.
const CATALOGUE_FIELDS: [&str; 5] = ["books", "book", "bookByIsbn", "topics", "__typename"];

/// Whether `request`'s answer may be kept: a query whose root fields are all catalogue reads,
/// and no `inStock` filter (catalog's flag trails the stock events).
pub fn cacheable(request: &mut async_graphql::Request) -> bool {
    let name = request.operation_name.clone();
    let variables = request.variables.clone();
    let Ok(document) = request.parsed_query() else {
        return false;
    };
    let operation = match (&document.operations, name.as_deref()) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => operation,
            None => return false,
        },
        (DocumentOperations::Multiple(_), None) => return false,
    };
    if operation.node.ty != OperationType::Query {
        return false;
    }
    operation.node.selection_set.node.items.iter().all(|selection| {
        let Selection::Field(field) = &selection.node else {
            return false;
        };
        let field = &field.node;
        if !CATALOGUE_FIELDS.contains(&field.name.node.as_str()) {
            return false;
        }
        field.arguments.iter().all(|(argument, value)| {
            // The argument as executed: its variables filled in.
            let resolved = value.node.clone().into_const_with(|variable| {
                Ok::<_, ()>(variables.get(&variable).cloned().unwrap_or(ConstValue::Null))
            });
            argument.node != "filter" || !matches!(resolved, Ok(filter) if filters_stock(&filter))
        })
    })
}

/// Whether a `filter` argument names `inStock`.
fn filters_stock(filter: &ConstValue) -> bool {
    matches!(filter, ConstValue::Object(fields) if fields.contains_key(&Name::new("inStock")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, variables: serde_json::Value) -> bool {
        let mut request =
            async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
        cacheable(&mut request)
    }

    #[test]
    fn only_catalogue_queries_without_a_stock_filter_are_kept() {
        let none = serde_json::json!({});
        assert!(check(
            "{ books(first: 20, sort: TITLE) { edges { node { id availability { inStock } } } } }",
            none.clone()
        ));
        assert!(check(
            "query($id: ID!) { book(id: $id) { title } topics { name } }",
            serde_json::json!({"id": "x"})
        ));
        assert!(!check(
            "{ books(filter: { inStock: true }) { totalCount } }",
            none.clone()
        ));
        assert!(!check(
            "query($f: BookFilter) { books(filter: $f) { totalCount } }",
            serde_json::json!({"f": {"inStock": false}})
        ));
        assert!(check(
            "query($f: BookFilter) { books(filter: $f) { totalCount } }",
            serde_json::json!({"f": {"topic": "x"}})
        ));
        assert!(!check(
            "{ books { totalCount } cart { totalQuantity } }",
            none.clone()
        ));
        assert!(!check("{ me { email } }", none.clone()));
        assert!(!check("mutation { logout }", none.clone()));
        assert!(!check(
            "{ ...Root } fragment Root on Query { me { email } }",
            none.clone()
        ));
        assert!(!check("{ books {", none));
    }
}
