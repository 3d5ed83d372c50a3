//! The GraphQL schema storefronts use (`docs/api.md`): types, roots, loaders and error mapping.
//! Its SDL is kept in `bff/schema.graphql`; a test fails when the two differ.

pub mod account;
pub mod admin;
pub mod aliases;
pub mod caller;
pub mod cart;
pub mod catalog;
pub mod errors;
pub mod guard;
pub mod loaders;
pub mod orders;
pub mod query;
pub mod session;
pub mod types;

use async_graphql::{MergedObject, Schema};

/// The contract's mutations, grouped by area.
#[derive(MergedObject, Default, Debug)]
pub struct Mutation(
    account::AccountMutation,
    cart::CartMutation,
    orders::OrderMutation,
    admin::AdminMutation,
);

/// The BFF's schema.
pub type BffSchema = Schema<query::Query, Mutation, orders::Subscription>;

/// The upstream clients, which the HTTP layer puts in every request's data.
///
/// # Errors
/// INTERNAL when missing.
pub(crate) fn upstreams<'a>(
    context: &'a async_graphql::Context<'_>,
) -> async_graphql::Result<&'a crate::Upstreams> {
    context.data::<crate::Upstreams>()
}

/// The refresh token from the browser's cookie, for `refreshToken("")` and `logout`.
#[derive(Debug, Clone)]
pub struct RefreshCookie(pub String);

/// Query limits: defaults a storefront never reaches and an abusive query always does.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Aliased fields per document.
    pub max_aliases: usize,
    pub introspection: bool,
    /// Entries kept by the persisted-query cache.
    pub persisted_queries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 12,
            max_complexity: 5_000,
            max_aliases: 30,
            introspection: true,
            persisted_queries: 1_000,
        }
    }
}

/// Builds the schema with its depth and complexity limits. Handlers run it through
/// [`guarded`], which adds persisted queries and the alias limit.
pub fn schema(limits: Limits) -> BffSchema {
    let mut builder = Schema::build(query::Query::default(), Mutation::default(), orders::Subscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The schema behind persisted queries and the alias limit.
pub fn guarded(limits: Limits) -> guard::GuardedSchema {
    guard::GuardedSchema::new(schema(limits), limits)
}

/// The SDL as `bff/schema.graphql` keeps it.
pub fn sdl() -> String {
    schema(Limits::default()).sdl()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_sdl_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
        let generated = super::sdl();
        if std::env::var_os("BFF_WRITE_SCHEMA").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "bff/schema.graphql is out of date: run `BFF_WRITE_SCHEMA=1 cargo test -p bff` and review the diff"
        );
    }
}
