//! `bookstore migrate`: apply every SQL service's pending migrations, then exit.

use platform::ServiceName;

use crate::config::BookstoreConfig;

/// Arguments of `migrate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these services (default: user, catalog, order, inventory).
    pub services: Vec<ServiceName>,
}

impl Args {
    /// Migrates each selected service's database in turn.
    ///
    /// # Errors
    /// Stops at the first database that cannot be reached or migrated, or a service without one.
    pub async fn execute(self, config: BookstoreConfig) -> anyhow::Result<()> {
        let services = if self.services.is_empty() {
            vec![
                ServiceName::User,
                ServiceName::Catalog,
                ServiceName::Order,
                ServiceName::Inventory,
            ]
        } else {
            self.services
        };
        for service in services {
            let url = config.database_url_checked(service)?;
            match service {
                ServiceName::User => svc_user::migrate(&url).await?,
                ServiceName::Catalog => svc_catalog::migrate(&url).await?,
                ServiceName::Order => svc_order::migrate(&url).await?,
                ServiceName::Inventory => svc_inventory::migrate(&url).await?,
                ServiceName::Cart | ServiceName::Bff => {}
            }
            tracing::info!(%service, database = %platform::store::redact(&url), "migrated");
            println!("migrated {service}");
        }
        Ok(())
    }
}
