//! The `bookstore` binary's library: configuration, command line and the wiring that starts
//! services, so tests can drive the same code the binary runs.
//!
//! # Layout
//! - [`config`]: `BookstoreConfig`, every setting the binary reads.
//! - [`cli`]: the clap command line.
//! - [`cmd`]: one module per subcommand (`up`, `serve`, `migrate`, `seed`, `loadgen`).
//! - [`launch`]: keys, contexts, listeners and dispatch to each service crate.
//! - [`seed`]: books from a goodbooks-10k CSV or generated, streamed to `ImportBooks`.

pub mod cli;
pub mod cmd;
pub mod config;
pub mod launch;
pub mod seed;
