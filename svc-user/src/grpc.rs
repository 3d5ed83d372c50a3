//! The tonic adapter: each method converts the request, calls [`Users`], converts the
//! answer. The only place that reads or builds protobuf messages; no SQL and no business
//! rules here.

use platform::auth::{Principal, jwks};
use proto::types::{InvalidField, UserId};
use proto::user::v1 as pb;
use proto::user::v1::user_service_server::UserService;
use secrecy::SecretString;
use tonic::{Request, Response, Status};

use crate::domain::{
    Account, Address, DisplayName, Email, NewAddress, NewServiceClient, Password, ServiceClient, Tokens,
    UserRole,
};
use crate::error::UserError;
use crate::ops::login::Login;
use crate::ops::register::Register;
use crate::ops::{Users, target_user};

fn register_from_wire(request: pb::RegisterRequest) -> Result<Register, InvalidField> {
    Ok(Register {
        email: Email::parse(&request.email)?,
        password: Password::new_password(&request.password)?,
        name: DisplayName::parse(&request.name)?,
    })
}

/// A login as presented: a malformed email is not refused here, so it costs the same work
/// and gets the same answer as a wrong password.
fn login_from_wire(request: pb::LoginRequest) -> Login {
    Login {
        account: request.email.trim().to_lowercase(),
        email: Email::parse(&request.email).ok(),
        password: Password::presented(&request.password),
        client_address: request.client_address,
    }
}

fn role_from_wire(wire: i32) -> Result<UserRole, InvalidField> {
    match pb::Role::try_from(wire) {
        Ok(pb::Role::Customer) => Ok(UserRole::Customer),
        Ok(pb::Role::Admin) => Ok(UserRole::Admin),
        _ => Err(InvalidField::new("role", "must be CUSTOMER or ADMIN")),
    }
}

fn role_to_wire(role: UserRole) -> pb::Role {
    match role {
        UserRole::Customer => pb::Role::Customer,
        UserRole::Admin => pb::Role::Admin,
    }
}

fn address_to_wire(address: Address) -> proto::common::v1::Address {
    proto::common::v1::Address {
        id: address.id.to_string(),
        line1: address.line1,
        line2: address.line2,
        city: address.city,
        postal_code: address.postal_code,
        country: address.country,
        is_default: address.is_default,
    }
}

fn account_to_wire(account: Account) -> pb::User {
    pb::User {
        id: account.id.to_string(),
        email: account.email,
        name: account.name,
        role: role_to_wire(account.role).into(),
        addresses: account.addresses.into_iter().map(address_to_wire).collect(),
        created_at: Some(proto::types::timestamp(account.created_at)),
    }
}

fn tokens_to_wire(tokens: Tokens) -> pb::AuthTokens {
    pb::AuthTokens {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_in_seconds: tokens.expires_in_seconds,
    }
}

fn session_to_wire((tokens, account): (Tokens, Account)) -> (Option<pb::AuthTokens>, Option<pb::User>) {
    (Some(tokens_to_wire(tokens)), Some(account_to_wire(account)))
}

fn client_to_wire(client: ServiceClient) -> pb::ServiceClient {
    pb::ServiceClient {
        client_id: client.client_id,
        audiences: client.audiences,
        created_at: Some(proto::types::timestamp(client.created_at)),
        revoked_at: client.revoked_at.map(proto::types::timestamp),
    }
}

fn new_client_to_wire(client: NewServiceClient) -> pb::CreateServiceClientResponse {
    pb::CreateServiceClientResponse {
        client_id: client.client_id,
        client_secret: client.client_secret,
        audiences: client.audiences,
    }
}

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
        let command = register_from_wire(request.into_inner()).map_err(UserError::from)?;
        let (tokens, user) = session_to_wire(self.users.register(command).await?);
        Ok(Response::new(pb::RegisterResponse { tokens, user }))
    }

    async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::LoginResponse>, Status> {
        let command = login_from_wire(request.into_inner());
        let (tokens, user) = session_to_wire(self.users.login(command).await?);
        Ok(Response::new(pb::LoginResponse { tokens, user }))
    }

    async fn refresh(
        &self,
        request: Request<pb::RefreshRequest>,
    ) -> Result<Response<pb::RefreshResponse>, Status> {
        let (tokens, user) = session_to_wire(self.users.refresh(&request.into_inner().refresh_token).await?);
        Ok(Response::new(pb::RefreshResponse { tokens, user }))
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
        Ok(Response::new(pb::GetProfileResponse {
            user: Some(account_to_wire(user)),
        }))
    }

    async fn batch_get_users(
        &self,
        request: Request<pb::BatchGetUsersRequest>,
    ) -> Result<Response<pb::BatchGetUsersResponse>, Status> {
        let ids = parse_ids("user_ids", &request.get_ref().user_ids)?;
        let (users, missing) = self.users.batch_get(&ids).await?;
        Ok(Response::new(pb::BatchGetUsersResponse {
            users: users.into_iter().map(account_to_wire).collect(),
            missing_ids: missing.iter().map(UserId::to_string).collect(),
        }))
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
        Ok(Response::new(pb::UpdateProfileResponse {
            user: Some(account_to_wire(user)),
        }))
    }

    async fn add_address(
        &self,
        request: Request<pb::AddAddressRequest>,
    ) -> Result<Response<pb::AddAddressResponse>, Status> {
        let user = target_user(&Principal::of(&request), &request.get_ref().user_id)?;
        let address = NewAddress::parse(request.get_ref().address.as_ref()).map_err(UserError::from)?;
        let (user, address_id) = self.users.add_address(user, address).await?;
        Ok(Response::new(pb::AddAddressResponse {
            user: Some(account_to_wire(user)),
            address_id: address_id.to_string(),
        }))
    }

    async fn list_addresses(
        &self,
        request: Request<pb::ListAddressesRequest>,
    ) -> Result<Response<pb::ListAddressesResponse>, Status> {
        let user = target_user(&Principal::of(&request), &request.get_ref().user_id)?;
        let addresses = self.users.list_addresses(user).await?;
        Ok(Response::new(pb::ListAddressesResponse {
            addresses: addresses.into_iter().map(address_to_wire).collect(),
        }))
    }

    async fn remove_address(
        &self,
        request: Request<pb::RemoveAddressRequest>,
    ) -> Result<Response<pb::RemoveAddressResponse>, Status> {
        let user = target_user(&Principal::of(&request), &request.get_ref().user_id)?;
        let address = address_id(&request.get_ref().address_id)?;
        let user = self.users.remove_address(user, address).await?;
        Ok(Response::new(pb::RemoveAddressResponse {
            user: Some(account_to_wire(user)),
        }))
    }

    async fn set_role(
        &self,
        request: Request<pb::SetRoleRequest>,
    ) -> Result<Response<pb::SetRoleResponse>, Status> {
        let message = request.into_inner();
        let user = UserId::parse("user_id", &message.user_id).map_err(UserError::from)?;
        let role = role_from_wire(message.role).map_err(UserError::from)?;
        let user = self.users.set_role(user, role).await?;
        Ok(Response::new(pb::SetRoleResponse {
            user: Some(account_to_wire(user)),
        }))
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
        let message = request.get_ref();
        let created = self
            .users
            .create_service_client(&message.client_id, &message.audiences)
            .await?;
        Ok(Response::new(new_client_to_wire(created)))
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
        Ok(Response::new(pb::ListServiceClientsResponse {
            clients: clients.into_iter().map(client_to_wire).collect(),
        }))
    }
}
