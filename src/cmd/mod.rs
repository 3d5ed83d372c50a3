//! One module per subcommand, each with its `Args` and `execute`.

pub mod loadgen;
pub mod migrate;
pub mod seed;
pub mod serve;
pub mod up;
