//! Addresses: the first is the default, exactly one default at a time, only the owner's.

use bookstore_tests::{TestMesh, with_token};
use proto::common::v1::AddressInput;
use proto::user::v1 as pb;
use tonic::Code;

use super::{register, unique_email, user_mesh, violated_field};

fn address(line1: &str, is_default: bool) -> AddressInput {
    AddressInput {
        line1: line1.to_owned(),
        line2: String::new(),
        city: "Berlin".to_owned(),
        postal_code: "10115".to_owned(),
        country: "de".to_owned(),
        is_default,
    }
}

async fn add(
    mesh: &TestMesh,
    token: &str,
    user_id: &str,
    input: AddressInput,
) -> Result<pb::AddAddressResponse, tonic::Status> {
    let request = pb::AddAddressRequest {
        user_id: user_id.to_owned(),
        address: Some(input),
    };
    mesh.user_client()
        .add_address(with_token(request, token))
        .await
        .map(tonic::Response::into_inner)
}

fn defaults(user: &pb::User) -> Vec<&str> {
    user.addresses
        .iter()
        .filter(|address| address.is_default)
        .map(|address| address.line1.as_str())
        .collect()
}

#[tokio::test]
async fn the_first_address_is_the_default_until_another_claims_it() {
    let mesh = user_mesh().await;
    let (tokens, user) = register(&mesh, &unique_email("home")).await;
    let token = &tokens.access_token;

    let first = add(&mesh, token, &user.id, address("Home 1", false))
        .await
        .unwrap();
    assert_eq!(defaults(first.user.as_ref().unwrap()), ["Home 1"]);
    assert_eq!(first.user.as_ref().unwrap().addresses[0].country, "DE");
    let second = add(&mesh, token, &user.id, address("Office 2", false))
        .await
        .unwrap();
    assert_eq!(defaults(second.user.as_ref().unwrap()), ["Home 1"]);
    let third = add(&mesh, token, &user.id, address("Cabin 3", true))
        .await
        .unwrap();
    assert_eq!(defaults(third.user.as_ref().unwrap()), ["Cabin 3"]);

    // Removing the default hands it to the oldest remaining address.
    let request = pb::RemoveAddressRequest {
        user_id: user.id.clone(),
        address_id: third.address_id.clone(),
    };
    let after = mesh
        .user_client()
        .remove_address(with_token(request, token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(defaults(after.user.as_ref().unwrap()), ["Home 1"]);
    assert_eq!(after.user.unwrap().addresses.len(), 2);

    let listed = mesh
        .user_client()
        .list_addresses(with_token(
            pb::ListAddressesRequest {
                user_id: user.id.clone(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.addresses.len(), 2);
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn addresses_are_private_and_checked_field_by_field() {
    let mesh = user_mesh().await;
    let (ada_tokens, ada) = register(&mesh, &unique_email("ada")).await;
    let (bob_tokens, _) = register(&mesh, &unique_email("bob")).await;
    let added = add(&mesh, &ada_tokens.access_token, &ada.id, address("Ada's", false))
        .await
        .unwrap();

    let status = add(&mesh, &bob_tokens.access_token, &ada.id, address("Bob's", false))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let request = pb::RemoveAddressRequest {
        user_id: String::new(),
        address_id: added.address_id.clone(),
    };
    let status = mesh
        .user_client()
        .remove_address(with_token(request, &bob_tokens.access_token))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::NotFound,
        "bob cannot remove ada's address by its id"
    );

    let mut bad = address("x", false);
    bad.country = "Germany".to_owned();
    let status = add(&mesh, &ada_tokens.access_token, &ada.id, bad)
        .await
        .unwrap_err();
    assert_eq!(violated_field(&status), "address.country");
    mesh.shutdown().await.unwrap();
}
