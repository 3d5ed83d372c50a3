//! The alias limit, as an extension of the parse step: the document the executor parses is
//! the one counted, so nothing is parsed twice.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

/// Refuses documents with more aliased fields than `max` (a cheap way to multiply work).
#[derive(Debug, Clone, Copy)]
pub struct AliasLimit(pub usize);

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_trait::async_trait]
impl Extension for AliasLimit {
    async fn parse_query(
        &self,
        context: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(context, query, variables).await?;
        if aliases(&document) > self.0 {
            return Err(ServerError::new(
                format!("too many aliases (at most {})", self.0),
                None,
            ));
        }
        Ok(document)
    }
}

fn count(selections: &SelectionSet) -> usize {
    selections
        .items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + count(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => count(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Aliased fields in every operation and fragment of a document.
pub fn aliases(document: &ExecutableDocument) -> usize {
    let operations: usize = match &document.operations {
        DocumentOperations::Single(operation) => count(&operation.node.selection_set.node),
        DocumentOperations::Multiple(operations) => operations
            .values()
            .map(|operation| count(&operation.node.selection_set.node))
            .sum(),
    };
    let fragments: usize = document
        .fragments
        .values()
        .map(|fragment| count(&fragment.node.selection_set.node))
        .sum();
    operations + fragments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_counted_in_operations_and_fragments() {
        let document = async_graphql::parser::parse_query(
            "{ a: topics { name } ...F } fragment F on Query { b: topics { c: name } }",
        )
        .unwrap();
        assert_eq!(aliases(&document), 3);
    }
}

#[cfg(test)]
mod schema_tests {
    #[tokio::test]
    async fn the_schema_refuses_too_many_aliases() {
        let limits = crate::graphql::Limits {
            max_aliases: 2,
            ..crate::graphql::Limits::default()
        };
        let schema = crate::graphql::schema(limits);
        let response = schema
            .execute("{ a: __typename b: __typename c: __typename }")
            .await;
        assert!(response.is_err(), "{response:?}");
    }
}
