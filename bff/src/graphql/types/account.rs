//! Accounts: users, their roles and addresses, and what signing in answers.

use async_graphql::{Enum, SimpleObject};
use proto::common::v1 as common;
use proto::user::v1 as user;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Role {
    Customer,
    Admin,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Address {
    pub id: async_graphql::ID,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: String,
    pub is_default: bool,
}

impl Address {
    pub fn from_wire(address: &common::Address) -> Self {
        Address {
            id: address.id.clone().into(),
            line1: address.line1.clone(),
            line2: if address.line2.is_empty() {
                None
            } else {
                Some(address.line2.clone())
            },
            city: address.city.clone(),
            postal_code: address.postal_code.clone(),
            country: address.country.clone(),
            is_default: address.is_default,
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct User {
    pub id: async_graphql::ID,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub addresses: Vec<Address>,
}

impl User {
    pub fn from_wire(wire: &user::User) -> Self {
        User {
            id: wire.id.clone().into(),
            email: wire.email.clone(),
            name: wire.name.clone(),
            role: if wire.role == user::Role::Admin as i32 {
                Role::Admin
            } else {
                Role::Customer
            },
            addresses: wire.addresses.iter().map(Address::from_wire).collect(),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct AuthPayload {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i32,
    pub user: User,
}
