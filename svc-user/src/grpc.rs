//! The tonic adapter: each method converts the request, calls [`Users`], converts the
//! answer. No SQL and no business rules here; errors become statuses in `error.rs`.

use platform::auth::{Principal, jwks};
use proto::types::{InvalidField, UserId};
use proto::user::v1 as pb;
use proto::user::v1::user_service_server::UserService;
use secrecy::SecretString;
use tonic::{Request, Response, Status};

use crate::domain::{DisplayName, NewAddress, UserRole};
use crate::error::UserError;
use crate::ops::register::Register;
use crate::ops::{Users, target_user};

/// `UserService` over [`Users`].
#[derive(Debug, Clone)]
pub struct UserGrpc {
    users: Users,
}

impl UserGrpc {
    /// Wraps the logic handle.
    pub fn new(users: Users) -> Self {
        Self { users }
    }
}

fn parse_ids(field: &str, raw: &[String]) -> Result<Vec<UserId>, UserError> {
    let mut ids = Vec::new();
    for (index, value) in raw.iter().enumerate() {
        ids.push(UserId::parse(&format!("{field}[{index}]"), value)?);
    }
    Ok(ids)
}

/// An address id: a malformed one is the caller's mistake (INVALID_ARGUMENT), as every
/// other id of the mesh; only a well-formed id the user does not have is NOT_FOUND.
fn address_id(raw: &str) -> Result<uuid::Uuid, UserError> {
    if raw.is_empty() {
        return Err(InvalidField::new("address_id", "is required").into());
    }
    uuid::Uuid::parse_str(raw).map_err(|_| InvalidField::new("address_id", "must be a UUID").into())
}

#[tonic::async_trait]
impl UserService for UserGrpc {
    async fn register(
        &self,
        request: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        let command = Register::try_from(request.into_inner())?;
        let (tokens, user) = self.users.register(command).await?;
        Ok(Response::new(pb::RegisterResponse {
            tokens: Some(tokens),
            user: Some(user),
        }))
    }

    async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::LoginResponse>, Status> {
        let (tokens, user) = self.users.login(request.into_inner().into()).await?;
        Ok(Response::new(pb::LoginResponse {
            tokens: Some(tokens),
            user: Some(user),
        }))
    }

    async fn refresh(
        &self,
        request: Request<pb::RefreshRequest>,
    ) -> Result<Response<pb::RefreshResponse>, Status> {
        let (tokens, user) = self.users.refresh(&request.into_inner().refresh_token).await?;
        Ok(Response::new(pb::RefreshResponse {
            tokens: Some(tokens),
            user: Some(user),
        }))
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let caller = Principal::of(&request);
        let message = request.into_inner();
        self.users
            .logout(&caller, &message.refresh_token, message.all_sessions)
            .await?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn get_profile(
        &self,
        request: Request<pb::GetProfileRequest>,
    ) -> Result<Response<pb::GetProfileResponse>, Status> {
        let user = target_user(&Principal::of(&request), &request.get_ref().user_id)?;
        let user = self.users.get_profile(user).await?;
        Ok(Response::new(pb::GetProfileResponse { user: Some(user) }))
    }

    async fn batch_get_users(
        &self,
        request: Request<pb::BatchGetUsersRequest>,
    ) -> Result<Response<pb::BatchGetUsersResponse>, Status> {
        let ids = parse_ids("user_ids", &request.get_ref().user_ids)?;
        let (users, missing_ids) = self.users.batch_get(&ids).await?;
        Ok(Response::new(pb::BatchGetUsersResponse { users, missing_ids }))
    }

    async fn update_profile(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> Result<Response<pb::UpdateProfileResponse>, Status> {
        let user = target_user(&Principal::of(&request), &request.get_ref().user_id)?;
        let name = match &request.get_ref().name {
            Some(raw) => Some(DisplayName::parse(raw).map_err(UserError::from)?),
            None => None,
        };
        let user = self.users.update_profile(user, name).await?;
        Ok(Response::new(pb::UpdateProfileResponse { user: Some(user) }))
    }

    async fn add_address(
        &self,
        request: Request<pb::AddAddressRequest>,
    ) -> Result<Response<pb::AddAddressResponse>, Status> {
        let user = target_user(&Principal::of(&request), &request.get_ref().user_id)?;
        let address = NewAddress::parse(request.get_ref().address.as_ref()).map_err(UserError::from)?;
        let (user, address_id) = self.users.add_address(user, address).await?;
        Ok(Response::new(pb::AddAddressResponse {
            user: Some(user),
            address_id,
        }))
    }

    async fn list_addresses(
        &self,
        request: Request<pb::ListAddressesRequest>,
    ) -> Result<Response<pb::ListAddressesResponse>, Status> {
        let user = target_user(&Principal::of(&request), &request.get_ref().user_id)?;
        let addresses = self.users.list_addresses(user).await?;
        Ok(Response::new(pb::ListAddressesResponse { addresses }))
    }

    async fn remove_address(
        &self,
        request: Request<pb::RemoveAddressRequest>,
    ) -> Result<Response<pb::RemoveAddressResponse>, Status> {
        let user = target_user(&Principal::of(&request), &request.get_ref().user_id)?;
        let address = address_id(&request.get_ref().address_id)?;
        let user = self.users.remove_address(user, address).await?;
        Ok(Response::new(pb::RemoveAddressResponse { user: Some(user) }))
    }

    async fn set_role(
        &self,
        request: Request<pb::SetRoleRequest>,
    ) -> Result<Response<pb::SetRoleResponse>, Status> {
        let message = request.into_inner();
        let user = UserId::parse("user_id", &message.user_id).map_err(UserError::from)?;
        let role = UserRole::try_from(message.role).map_err(UserError::from)?;
        let user = self.users.set_role(user, role).await?;
        Ok(Response::new(pb::SetRoleResponse { user: Some(user) }))
    }

    async fn get_jwks(
        &self,
        _request: Request<pb::GetJwksRequest>,
    ) -> Result<Response<pb::GetJwksResponse>, Status> {
        let keys = jwks::to_proto(self.users.published_keys());
        Ok(Response::new(pb::GetJwksResponse { keys }))
    }

    async fn issue_service_token(
        &self,
        request: Request<pb::IssueServiceTokenRequest>,
    ) -> Result<Response<pb::IssueServiceTokenResponse>, Status> {
        let message = request.into_inner();
        let secret = SecretString::from(message.client_secret);
        let (access_token, audiences) = self
            .users
            .issue_service_token(&message.client_id, &secret, &message.audiences)
            .await?;
        Ok(Response::new(pb::IssueServiceTokenResponse {
            access_token,
            expires_in_seconds: self.users.service_token_lifetime_seconds(),
            audiences,
        }))
    }

    async fn create_service_client(
        &self,
        request: Request<pb::CreateServiceClientRequest>,
    ) -> Result<Response<pb::CreateServiceClientResponse>, Status> {
        let created = self.users.create_service_client(request.get_ref()).await?;
        Ok(Response::new(created))
    }

    async fn revoke_service_client(
        &self,
        request: Request<pb::RevokeServiceClientRequest>,
    ) -> Result<Response<pb::RevokeServiceClientResponse>, Status> {
        self.users
            .revoke_service_client(&request.get_ref().client_id)
            .await?;
        Ok(Response::new(pb::RevokeServiceClientResponse {}))
    }

    async fn list_service_clients(
        &self,
        _request: Request<pb::ListServiceClientsRequest>,
    ) -> Result<Response<pb::ListServiceClientsResponse>, Status> {
        let clients = self.users.list_service_clients().await?;
        Ok(Response::new(pb::ListServiceClientsResponse { clients }))
    }
}
