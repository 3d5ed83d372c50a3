//! The Bookstore mesh's protobuf contracts, compiled once for every crate.
//!
//! Service crates never run `include_proto!` themselves: they depend on this crate and name
//! `proto::inventory::v1::InventoryServiceServer` and friends. Identifiers and money that
//! several services share live in [`types`].
//!
//! # Layout
//! - `bookstore/<service>/v1/<service>.proto`: one contract per service, package
//!   `bookstore.<service>.v1`; shared messages in `bookstore/common/v1/common.proto`.
//! - [`FILE_DESCRIPTOR_SET`]: every contract, for gRPC reflection.
//! - [`types`]: typed ids (`UserId`, `BookId`, …) and `Money`, converted from wire strings once.

pub use prost;
pub use tonic;

pub mod address;
pub mod types;

/// The encoded descriptor set of every contract, for tonic-reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bookstore_descriptor.bin"));

#[allow(unreachable_pub, missing_debug_implementations, clippy::all, clippy::pedantic)]
mod generated {
    pub mod common {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/bookstore.common.v1.rs"));
        }
    }
    pub mod user {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/bookstore.user.v1.rs"));
        }
    }
    pub mod catalog {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/bookstore.catalog.v1.rs"));
        }
    }
    pub mod cart {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/bookstore.cart.v1.rs"));
        }
    }
    pub mod inventory {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/bookstore.inventory.v1.rs"));
        }
    }
    pub mod order {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/bookstore.order.v1.rs"));
        }
    }
}

pub use generated::{cart, catalog, common, inventory, order, user};
