//! [`AuthLayer`]: the tower layer that authenticates and authorizes every gRPC request.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{Either, Ready, ready};
use tonic_types::ErrorDetails;

use super::policy::Denied;
use super::{PolicyTable, Principal, Verifier, VerifyError};
use crate::ErrorCode;

/// Verifies the bearer token, applies the RPC's [`super::Access`] rule and inserts the
/// [`Principal`] into the request's extensions for the handler.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    verifier: Verifier,
    policies: Arc<PolicyTable>,
}

impl AuthLayer {
    /// Creates the layer for a server with `policies`, verifying with `verifier`.
    pub fn new(verifier: Verifier, policies: PolicyTable) -> Self {
        Self {
            verifier,
            policies: Arc::new(policies),
        }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`AuthLayer`] wraps around a server's routes.
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    layer: AuthLayer,
}

impl AuthLayer {
    /// Decides who is calling `path` with `headers`, or why they may not.
    ///
    /// # Errors
    /// Returns the status to answer with: `UNAUTHENTICATED` for a missing or bad token,
    /// `PERMISSION_DENIED` for a caller the RPC's rule does not admit.
    pub fn authorize(&self, path: &str, headers: &http::HeaderMap) -> Result<Principal, tonic::Status> {
        let principal = match bearer_token(headers) {
            Ok(None) => Principal::Anonymous,
            Ok(Some(token)) => self.verifier.verify(token).map_err(unauthenticated)?,
            Err(error) => return Err(unauthenticated(error)),
        };
        let Some(access) = self.policies.access(path) else {
            tracing::warn!(rpc.path = path, "no access policy for rpc, refusing");
            return Err(ErrorCode::Forbidden.status("no access policy for this rpc", ErrorDetails::new()));
        };
        match access.check(&principal) {
            Ok(()) => Ok(principal),
            Err(Denied::Unauthenticated) => Err(unauthenticated(VerifyError::Missing)),
            Err(Denied::Forbidden) => {
                Err(ErrorCode::Forbidden.status("caller may not use this rpc", ErrorDetails::new()))
            }
        }
    }
}

fn unauthenticated(error: VerifyError) -> tonic::Status {
    ErrorCode::Unauthenticated.status(error.to_string(), ErrorDetails::new())
}

/// Reads `authorization: Bearer <token>`; `Ok(None)` when absent.
fn bearer_token(headers: &http::HeaderMap) -> Result<Option<&str>, VerifyError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| VerifyError::Malformed)?;
    let Some((scheme, token)) = text.split_once(' ') else {
        return Err(VerifyError::Malformed);
    };
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(VerifyError::Malformed);
    }
    Ok(Some(token.trim()))
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for AuthService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<S::Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        match self.layer.authorize(request.uri().path(), request.headers()) {
            Ok(principal) => {
                request.extensions_mut().insert(principal);
                Either::Right(self.inner.call(request))
            }
            Err(status) => Either::Left(ready(Ok(status.into_http()))),
        }
    }
}
