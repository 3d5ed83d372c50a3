//! sea-orm entities and queries, one file per aggregate. Database errors are classified
//! by `platform::store` (by code, never by message); `error.rs` says what each class means.

pub mod address;
pub mod refresh_token;
pub mod service_client;
pub mod user;
