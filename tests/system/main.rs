//! Whole-system proofs: the real `bookstore` binary started as operators run it (one process
//! per replica, PostgreSQL database per service, real Redis), then stormed, killed,
//! attacked, and stopped or cut off from its database as Kubernetes would (`kubernetes`).
//! See `bookstore_tests::stack` for the harness.
//!
//! Run: `cargo test --test system -- --nocapture` (each suite prints its figures).
//! `BOOKSTORE_STORM_ROUNDS`, `BOOKSTORE_CHAOS_SECONDS` and `BOOKSTORE_OUTAGE_SECONDS`
//! shorten or lengthen the runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chaos;
mod hostile;
mod kubernetes;
mod overload;
mod scale_out;
mod security;
mod storm;
mod support;

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;
