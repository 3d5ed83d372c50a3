//! Counting aliases and repeated root fields, for the alias limit (applied in
//! [`super::guard`]). A root field repeated under one response key counts as an alias: the
//! executor resolves every occurrence (one upstream call each), so `{ topics topics … }`
//! multiplies work exactly as `{ a: topics b: topics … }` does.

use std::collections::HashSet;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};

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

/// Past this many collected root fields the count stops: the schema's roots have a few
/// dozen distinct fields, so the rest are repeats either way (and a fragment spread twice
/// in each of a chain of fragments cannot make the count itself exponential).
const COLLECT_AT_MOST: usize = 1_000;

/// Collects the response keys of `selections` as the executor sees them: through inline
/// fragments and fragment spreads (`expanding` guards against cycles, which validation
/// refuses later; this step runs before it).
fn collect_root_keys<'a>(
    document: &'a ExecutableDocument,
    selections: &'a SelectionSet,
    expanding: &mut Vec<&'a str>,
    keys: &mut Vec<&'a str>,
) {
    for selection in &selections.items {
        if keys.len() > COLLECT_AT_MOST {
            return;
        }
        match &selection.node {
            Selection::Field(field) => keys.push(field.node.response_key().node.as_str()),
            Selection::InlineFragment(fragment) => {
                collect_root_keys(document, &fragment.node.selection_set.node, expanding, keys);
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) else {
                    continue;
                };
                if expanding.contains(&name) {
                    continue;
                }
                expanding.push(name);
                collect_root_keys(document, &fragment.node.selection_set.node, expanding, keys);
                expanding.pop();
            }
        }
    }
}

/// Root fields selected again under a response key an operation already selects.
pub fn repeated_root_fields(document: &ExecutableDocument) -> usize {
    let roots: Vec<&SelectionSet> = match &document.operations {
        DocumentOperations::Single(operation) => vec![&operation.node.selection_set.node],
        DocumentOperations::Multiple(operations) => operations
            .values()
            .map(|operation| &operation.node.selection_set.node)
            .collect(),
    };
    let mut repeated = 0;
    for root in roots {
        let mut keys = Vec::new();
        collect_root_keys(document, root, &mut Vec::new(), &mut keys);
        let distinct: HashSet<&str> = keys.iter().copied().collect();
        repeated += keys.len() - distinct.len();
    }
    repeated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_root_fields_are_counted_through_fragments() {
        let document = async_graphql::parser::parse_query(
            "{ topics { name } topics { name } ... { topics { name } } ...F ...F } \
             fragment F on Query { topics { name } me { id } }",
        )
        .unwrap();
        assert_eq!(repeated_root_fields(&document), 5);
        let cyclic =
            async_graphql::parser::parse_query("{ ...A } fragment A on Query { topics { name } ...A }")
                .unwrap();
        assert_eq!(repeated_root_fields(&cyclic), 0);
        let nested = async_graphql::parser::parse_query("{ me { id id } }").unwrap();
        assert_eq!(repeated_root_fields(&nested), 0);
    }

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
    async fn the_guarded_schema_refuses_too_many_aliases() {
        let limits = crate::graphql::Limits {
            max_aliases: 2,
            ..crate::graphql::Limits::default()
        };
        let schema = crate::graphql::guarded(limits);
        let refused = schema
            .execute("{ a: __typename b: __typename c: __typename }".into())
            .await;
        assert!(refused.is_err(), "{refused:?}");
        let allowed = schema.execute("{ a: __typename b: __typename }".into()).await;
        assert!(allowed.is_ok(), "{allowed:?}");
    }
}
