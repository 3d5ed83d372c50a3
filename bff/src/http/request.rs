//! Parsing GraphQL-over-HTTP requests: a JSON body, or GET parameters; batches are not
//! accepted.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};

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
pub(super) fn from_json(body: &[u8]) -> Result<async_graphql::Request, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| format!("the body is not JSON: {error}"))?;
    if !value.is_object() {
        return Err("the body must be one JSON object (batches are not accepted)".to_owned());
    }
    serde_json::from_value(value).map_err(|error| format!("not a GraphQL request: {error}"))
}

/// Parses GET parameters (`query`, `variables`, `operationName`, `extensions`).
///
/// # Errors
/// [`Refusal::Mutation`] for a mutation; [`Refusal::Invalid`] otherwise.
pub(super) fn from_query_string(raw: &str) -> Result<async_graphql::Request, Refusal> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_parameters_decode_and_mutations_are_refused() {
        let request = from_query_string("query=%7B%20topics%20%7B%20name%20%7D%20%7D")
            .ok()
            .unwrap();
        assert_eq!(request.query, "{ topics { name } }");
        assert!(matches!(
            from_query_string("query=mutation%7BclearCart%7BtotalQuantity%7D%7D"),
            Err(Refusal::Mutation)
        ));
        assert!(from_json(br#"[{"query": "{ topics { name } }"}]"#).is_err());
    }
}
