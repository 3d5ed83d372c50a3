//! Service tokens from svc-user (OAuth2 client credentials): how every service but svc-user
//! obtains the tokens it puts on outgoing calls.

use std::time::Duration;

use futures::future::BoxFuture;
use proto::user::v1::IssueServiceTokenRequest;
use proto::user::v1::user_service_client::UserServiceClient;
use secrecy::{ExposeSecret as _, SecretString};

use super::{MintedToken, TokenMinter};
use crate::client::MeshChannel;

/// Asks svc-user's `IssueServiceToken` for a token per callee.
pub struct ClientCredentials {
    user_service: MeshChannel,
    client_id: String,
    client_secret: SecretString,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl ClientCredentials {
    /// Creates a minter for `client_id` that reaches svc-user over `user_service` (a channel
    /// without a token source: `IssueServiceToken` is public).
    pub fn new(user_service: MeshChannel, client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            user_service,
            client_id: client_id.into(),
            client_secret,
        }
    }
}

impl TokenMinter for ClientCredentials {
    fn mint<'a>(&'a self, audience: &'a str) -> BoxFuture<'a, anyhow::Result<MintedToken>> {
        Box::pin(async move {
            let request = IssueServiceTokenRequest {
                client_id: self.client_id.clone(),
                client_secret: self.client_secret.expose_secret().to_owned(),
                audiences: vec![audience.to_owned()],
            };
            let response = UserServiceClient::new(self.user_service.clone())
                .issue_service_token(request)
                .await?
                .into_inner();
            let seconds = u64::try_from(response.expires_in_seconds).unwrap_or_default();
            Ok(MintedToken {
                token: response.access_token,
                lifetime: Duration::from_secs(seconds),
            })
        })
    }
}
