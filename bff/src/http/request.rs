//! Parsing GraphQL-over-HTTP requests: a JSON body, or GET parameters; batches are not
//! accepted, and a document with too many aliases is refused before it runs.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};

use crate::graphql::Limits;

/// Why a GET request is refused.
pub(super) enum Refusal {
    /// A mutation over GET (405).
    Mutation,
    /// Not a GraphQL request (400).
    Invalid(String),
}

/// Parses a POST body.
///
/// # Errors
/// A message for the client: not JSON, not an object, no query, too many aliases.
pub(super) fn from_json(body: &[u8], limits: &Limits) -> Result<async_graphql::Request, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| format!("the body is not JSON: {error}"))?;
    if !value.is_object() {
        return Err("the body must be one JSON object (batches are not accepted)".to_owned());
    }
    let request: async_graphql::Request =
        serde_json::from_value(value).map_err(|error| format!("not a GraphQL request: {error}"))?;
    check_aliases(&request.query, limits)?;
    Ok(request)
}

/// Parses GET parameters (`query`, `variables`, `operationName`, `extensions`).
///
/// # Errors
/// [`Refusal::Mutation`] for a mutation; [`Refusal::Invalid`] otherwise.
pub(super) fn from_query_string(raw: &str, limits: &Limits) -> Result<async_graphql::Request, Refusal> {
    let mut object = serde_json::Map::new();
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        let value = match name.as_ref() {
            "query" | "operationName" => serde_json::Value::String(value.into_owned()),
            "variables" | "extensions" => serde_json::from_str(&value)
                .map_err(|_| Refusal::Invalid(format!("`{name}` must be a JSON object")))?,
            _ => continue,
        };
        object.insert(name.into_owned(), value);
    }
    let request: async_graphql::Request = serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|error| Refusal::Invalid(format!("not a GraphQL request: {error}")))?;
    if !request.query.is_empty()
        && let Ok(document) = async_graphql::parser::parse_query(&request.query)
        && is_mutation(&document, request.operation_name.as_deref())
    {
        return Err(Refusal::Mutation);
    }
    check_aliases(&request.query, limits).map_err(Refusal::Invalid)?;
    Ok(request)
}

fn is_mutation(document: &ExecutableDocument, name: Option<&str>) -> bool {
    match &document.operations {
        DocumentOperations::Single(operation) => operation.node.ty == OperationType::Mutation,
        DocumentOperations::Multiple(operations) => match name {
            Some(name) => operations
                .iter()
                .any(|(key, operation)| key.as_str() == name && operation.node.ty == OperationType::Mutation),
            None => false,
        },
    }
}

fn count_aliases(selections: &SelectionSet) -> usize {
    selections
        .items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + count_aliases(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => count_aliases(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Refuses documents with more aliases than allowed (a cheap way to multiply work).
fn check_aliases(query: &str, limits: &Limits) -> Result<(), String> {
    // Unparsable documents are left to the executor, which reports them properly.
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return Ok(());
    };
    let operations: usize = match &document.operations {
        DocumentOperations::Single(operation) => count_aliases(&operation.node.selection_set.node),
        DocumentOperations::Multiple(operations) => operations
            .values()
            .map(|operation| count_aliases(&operation.node.selection_set.node))
            .sum(),
    };
    let fragments: usize = document
        .fragments
        .values()
        .map(|fragment| count_aliases(&fragment.node.selection_set.node))
        .sum();
    if operations + fragments > limits.max_aliases {
        return Err(format!("too many aliases (at most {})", limits.max_aliases));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_parameters_decode_and_mutations_are_refused() {
        let limits = Limits::default();
        let request = from_query_string("query=%7B%20topics%20%7B%20name%20%7D%20%7D", &limits)
            .ok()
            .unwrap();
        assert_eq!(request.query, "{ topics { name } }");
        assert!(matches!(
            from_query_string("query=mutation%7BclearCart%7BtotalQuantity%7D%7D", &limits),
            Err(Refusal::Mutation)
        ));
    }

    #[test]
    fn aliases_are_counted() {
        let limits = Limits {
            max_aliases: 2,
            ..Limits::default()
        };
        assert!(check_aliases("{ a: topics { name } b: topics { name } }", &limits).is_ok());
        assert!(
            check_aliases(
                "{ a: topics { name } b: topics { name } c: topics { name } }",
                &limits
            )
            .is_err()
        );
        assert!(from_json(br#"[{"query": "{ topics { name } }"}]"#, &limits).is_err());
    }
}
