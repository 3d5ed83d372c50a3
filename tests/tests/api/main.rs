//! End-to-end tests of the mesh: one binary, so two cores link it once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod bff;
mod cart;
mod catalog;
mod health;
mod inventory;
mod order;
mod outbox;
mod tls;
mod transactions;
mod user;

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;
