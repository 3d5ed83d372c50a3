//! The BFF's channels to the five gRPC services.

use platform::ServiceName;
use platform::client::{ClientError, MeshChannel, UpstreamConfig};

/// One lazily connecting channel per upstream service.
#[derive(Debug, Clone)]
pub struct Upstreams {
    channels: Vec<MeshChannel>,
}

impl Upstreams {
    /// Builds a channel to every gRPC service from `config_for`.
    ///
    /// # Errors
    /// Returns [`ClientError`] naming the service whose endpoints are missing or invalid.
    pub fn new(
        config_for: impl Fn(ServiceName) -> UpstreamConfig,
        tokens: Option<platform::auth::TokenSource>,
    ) -> Result<Self, ClientError> {
        let mut channels = Vec::new();
        for service in ServiceName::grpc_services() {
            channels.push(MeshChannel::new(service, &config_for(service), tokens.clone())?);
        }
        Ok(Self { channels })
    }

    /// Returns every channel, one per gRPC service.
    pub fn all(&self) -> &[MeshChannel] {
        &self.channels
    }
}
