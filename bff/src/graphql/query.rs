//! The `Query` root, merged from each area's queries as the `Mutation` root is from its
//! mutations: the caller's account, the catalogue, the cart and the orders.

use async_graphql::{MergedObject, Result};

use super::account::AccountQuery;
use super::caller::Caller;
use super::cart::CartQuery;
use super::catalog::CatalogQuery;
use super::errors::error;
use super::orders::OrderQuery;

// The contract's queries, grouped by area, in the contract's order (a doc comment would
// become the SDL's description of `Query`).
#[derive(MergedObject, Default, Debug)]
pub struct Query(AccountQuery, CatalogQuery, CartQuery, OrderQuery);

/// Refuses an operation for an anonymous caller whose token was rejected (so storefronts
/// refresh rather than silently act as a guest).
pub(crate) fn reject_bad_token(caller: &Caller) -> Result<()> {
    if caller.token_rejected {
        return Err(error("UNAUTHENTICATED", "the access token is invalid or expired"));
    }
    Ok(())
}
