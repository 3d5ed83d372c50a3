//! Service clients (OAuth2 client credentials): `IssueServiceToken`, and the admin RPCs
//! `CreateServiceClient`, `RevokeServiceClient`, `ListServiceClients`. The mesh's own
//! services are clients too, ensured from configuration at start.

use platform::ServiceName;
use proto::types::InvalidField;
use secrecy::{ExposeSecret as _, SecretString};

use super::Users;
use crate::domain::{NewServiceClient, ServiceClient};
use crate::error::{UserError, UserRefusal, UserResult};
use crate::secrets::{hashes_match, random_token, token_hash};
use crate::store;

/// A client id an admin may register: 3 to 64 of `a-z`, `0-9`, `-`, and not the name of one
/// of the mesh's own services (their tokens carry powers no outside system should have).
fn parse_client_id(raw: &str) -> Result<String, InvalidField> {
    let valid_characters = raw
        .chars()
        .all(|character| character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-');
    if !(3..=64).contains(&raw.len()) || !valid_characters || raw.starts_with('-') {
        return Err(InvalidField::new(
            "client_id",
            "must be 3 to 64 characters of a-z, 0-9 and -",
        ));
    }
    if raw.parse::<ServiceName>().is_ok() {
        return Err(InvalidField::new(
            "client_id",
            "is reserved for the mesh's own services",
        ));
    }
    Ok(raw.to_owned())
}

fn parse_audiences(raw: &[String]) -> Result<Vec<String>, InvalidField> {
    if raw.is_empty() {
        return Err(InvalidField::new("audiences", "name at least one service"));
    }
    let mut audiences = Vec::new();
    for audience in raw {
        let service = audience
            .parse::<ServiceName>()
            .ok()
            .filter(|service| *service != ServiceName::Bff)
            .ok_or_else(|| {
                InvalidField::new(
                    "audiences",
                    format!("`{audience}` is not a gRPC service of the mesh"),
                )
            })?;
        if !audiences.contains(&service.as_str().to_owned()) {
            audiences.push(service.as_str().to_owned());
        }
    }
    Ok(audiences)
}

impl Users {
    /// Exchanges client credentials for a short-lived service token.
    ///
    /// # Errors
    /// `InvalidClientCredentials` for an unknown or revoked client or a wrong secret;
    /// `PermissionDenied` for an audience the client is not registered for.
    #[tracing::instrument(name = "user.issue_service_token", skip_all, fields(client_id = %client_id))]
    pub async fn issue_service_token(
        &self,
        client_id: &str,
        secret: &SecretString,
        requested: &[String],
    ) -> UserResult<(String, Vec<String>)> {
        let presented = token_hash(secret.expose_secret());
        let client = store::service_client::find(&self.db, client_id).await?;
        let Some(client) = client.filter(|client| client.revoked_at.is_none()) else {
            return Err(UserError::from(UserRefusal::InvalidClientCredentials));
        };
        if !hashes_match(&presented, &client.secret_hash) {
            return Err(UserError::from(UserRefusal::InvalidClientCredentials));
        }
        let registered = client.audience_list();
        let audiences = if requested.is_empty() {
            registered.clone()
        } else {
            requested.to_vec()
        };
        if audiences.iter().any(|audience| !registered.contains(audience)) {
            return Err(UserError::from(UserRefusal::PermissionDenied(
                "audience is not registered for this client",
            )));
        }
        let token = self.tokens.service_token(client_id, audiences.clone())?;
        Ok((token, audiences))
    }

    /// Registers an outside system; the secret is returned this once and stored hashed.
    ///
    /// # Errors
    /// `InvalidArgument` for a bad or reserved id or audience; `AlreadyExists` for a taken id.
    #[tracing::instrument(name = "user.create_service_client", skip_all, fields(client_id = %client_id))]
    pub async fn create_service_client(
        &self,
        client_id: &str,
        audiences: &[String],
    ) -> UserResult<NewServiceClient> {
        let client_id = parse_client_id(client_id)?;
        let audiences = parse_audiences(audiences)?;
        let secret = random_token();
        store::service_client::insert(&self.db, &client_id, token_hash(&secret), &audiences).await?;
        tracing::info!(client_id = %client_id, "service client registered");
        Ok(NewServiceClient {
            client_id,
            client_secret: secret,
            audiences,
        })
    }

    /// Revokes a client: no new tokens; issued ones lapse at expiry. Idempotent.
    ///
    /// # Errors
    /// `NotFound` for an unknown client.
    #[tracing::instrument(name = "user.revoke_service_client", skip_all, fields(client_id = %client_id))]
    pub async fn revoke_service_client(&self, client_id: &str) -> UserResult<()> {
        store::service_client::revoke(&self.db, client_id).await
    }

    /// Lists every client, without secrets.
    ///
    /// # Errors
    /// Internal on a database failure.
    pub async fn list_service_clients(&self) -> UserResult<Vec<ServiceClient>> {
        let clients = store::service_client::list(&self.db).await?;
        Ok(clients
            .iter()
            .map(store::service_client::Model::to_client)
            .collect())
    }

    /// Registers (or refreshes) one of the mesh's own services as a client, with the
    /// audiences it calls. Idempotent; every replica may run it at start.
    ///
    /// # Errors
    /// Internal on a database failure.
    pub async fn ensure_mesh_client(&self, service: ServiceName, secret: &SecretString) -> UserResult<()> {
        let audiences: Vec<String> = service
            .callees()
            .iter()
            .map(|callee| callee.as_str().to_owned())
            .collect();
        store::service_client::ensure(
            &self.db,
            service.as_str(),
            token_hash(secret.expose_secret()),
            &audiences,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_checked_and_mesh_names_reserved() {
        assert_eq!(parse_client_id("erp-sync").unwrap(), "erp-sync");
        for bad in [
            "",
            "ab",
            "ERP",
            "erp sync",
            "-erp",
            "order",
            "inventory",
            &"x".repeat(65),
        ] {
            assert_eq!(parse_client_id(bad).unwrap_err().field, "client_id", "{bad:?}");
        }
    }

    #[test]
    fn audiences_must_be_grpc_services() {
        let audiences = parse_audiences(&[
            "inventory".to_owned(),
            "inventory".to_owned(),
            "catalog".to_owned(),
        ])
        .unwrap();
        assert_eq!(audiences, ["inventory", "catalog"]);
        assert!(parse_audiences(&[]).is_err());
        assert!(parse_audiences(&["bff".to_owned()]).is_err());
        assert!(parse_audiences(&["payments".to_owned()]).is_err());
    }
}
