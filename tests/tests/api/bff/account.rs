//! Accounts through GraphQL: register and login in bearer and cookie mode, the guest cart
//! merged on sign-in, refresh, logout, profile and addresses, and the auth error codes.

use serde_json::json;

use super::{Auth, books, graphql, mesh};

const PASSWORD: &str = "correct horse battery staple";

const AUTH_FIELDS: &str = "accessToken refreshToken expiresIn user { id email name role }";

fn email() -> String {
    format!("shopper-{}@example.org", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn a_guest_cart_merges_into_the_account_on_register_and_login() {
    let mesh = mesh().await;
    let ids = books(&mesh, 2, 10).await;
    // A guest adds a book: the BFF mints a session and hands it back.
    let added = graphql(
        &mesh,
        &Auth::default(),
        "mutation($id: ID!) { addToCart(bookId: $id, quantity: 2) { totalQuantity items { quantity book { id } } } }",
        json!({ "id": ids[0] }),
    )
    .await;
    assert_eq!(added.data()["addToCart"]["totalQuantity"], 2, "{:?}", added.body);
    let session = added.headers["x-cart-session"].to_str().unwrap().to_owned();
    assert!(
        added
            .set_cookies()
            .iter()
            .any(|cookie| cookie.starts_with("cart_session=") && cookie.contains("HttpOnly"))
    );
    let guest = Auth {
        cart_session: Some(session.clone()),
        ..Auth::default()
    };
    let more = graphql(
        &mesh,
        &guest,
        "mutation($id: ID!) { addToCart(bookId: $id) { totalQuantity subtotal { amount } } }",
        json!({ "id": ids[1] }),
    )
    .await;
    assert_eq!(more.data()["addToCart"]["totalQuantity"], 3);

    let address = email();
    let registered = graphql(
        &mesh,
        &guest,
        &format!("mutation($input: RegisterInput!) {{ register(input: $input) {{ {AUTH_FIELDS} }} }}"),
        json!({ "input": { "email": address, "password": PASSWORD, "name": "Ada Reader" } }),
    )
    .await;
    let payload = &registered.data()["register"];
    assert_eq!(payload["user"]["role"], "CUSTOMER", "{:?}", registered.body);
    let token = payload["accessToken"].as_str().unwrap().to_owned();
    let cart = graphql(
        &mesh,
        &Auth::bearer(&token),
        "{ cart { totalQuantity items { quantity lineTotal { amount } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        cart.data()["cart"]["totalQuantity"],
        3,
        "guest cart merged: {:?}",
        cart.body
    );
    let guest_after = graphql(&mesh, &guest, "{ cart { totalQuantity } }", json!({})).await;
    assert_eq!(
        guest_after.data()["cart"]["totalQuantity"],
        0,
        "the guest cart is gone"
    );
    let user = Auth::bearer(&token);
    let fewer = graphql(
        &mesh,
        &user,
        "mutation($id: ID!) { removeFromCart(bookId: $id) { totalQuantity items { book { id } } } }",
        json!({ "id": ids[0] }),
    )
    .await;
    assert_eq!(
        fewer.data()["removeFromCart"]["totalQuantity"],
        1,
        "{:?}",
        fewer.body
    );
    let cleared = graphql(
        &mesh,
        &user,
        "mutation { clearCart { totalQuantity items { quantity } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        cleared.data()["clearCart"],
        json!({ "totalQuantity": 0, "items": [] })
    );

    // Login in cookie mode: cookies carry the session; `me` works without a header.
    let login = graphql(
        &mesh,
        &Auth::default(),
        &format!(
            "mutation($e: String!, $p: String!) {{ login(email: $e, password: $p) {{ {AUTH_FIELDS} }} }}"
        ),
        json!({ "e": address, "p": PASSWORD }),
    )
    .await;
    assert!(login.body["errors"].is_null(), "{:?}", login.body);
    let cookies = login.set_cookies();
    assert!(
        cookies.iter().any(|cookie| cookie.starts_with("access_token=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")),
        "{cookies:?}"
    );
    let browser = Auth {
        cookies: Some(login.cookie_header()),
        ..Auth::default()
    };
    let me = graphql(
        &mesh,
        &browser,
        "{ me { email name addresses { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(me.data()["me"]["email"], address.as_str(), "{:?}", me.body);

    // Profile and addresses with the cookie session.
    let renamed = graphql(
        &mesh,
        &browser,
        "mutation { updateProfile(name: \"Ada L\") { name } }",
        json!({}),
    )
    .await;
    assert_eq!(renamed.data()["updateProfile"]["name"], "Ada L");
    let with_address = graphql(
        &mesh,
        &browser,
        "mutation($a: AddressInput!) { addAddress(input: $a) { addresses { id city isDefault } } }",
        json!({ "a": { "line1": "1 Main St", "city": "Berlin", "postalCode": "10115", "country": "DE", "isDefault": true } }),
    )
    .await;
    let address_id = with_address.data()["addAddress"]["addresses"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A refused field is named inside the operation's input, as placeOrder names its own.
    let refused = graphql(
        &mesh,
        &browser,
        "mutation($a: AddressInput!) { addAddress(input: $a) { id } }",
        json!({ "a": { "line1": "1 Main St", "city": "Berlin", "postalCode": "10115", "country": "Germany" } }),
    )
    .await;
    assert_eq!(refused.code(), "BAD_USER_INPUT", "{:?}", refused.body);
    assert_eq!(
        refused.body["errors"][0]["extensions"]["field"], "country",
        "{:?}",
        refused.body
    );
    // A later request reads the address back through `me` (a reload of the account page).
    let reread = graphql(&mesh, &browser, "{ me { addresses { id city } } }", json!({})).await;
    assert_eq!(
        reread.data()["me"]["addresses"],
        json!([{ "id": address_id, "city": "Berlin" }]),
        "{:?}",
        reread.body
    );
    let removed = graphql(
        &mesh,
        &browser,
        "mutation($id: ID!) { removeAddress(id: $id) { addresses { id } } }",
        json!({ "id": address_id }),
    )
    .await;
    assert_eq!(removed.data()["removeAddress"]["addresses"], json!([]));

    // Refresh with the cookie (empty argument), then logout clears the cookies.
    let refreshed = graphql(
        &mesh,
        &browser,
        &format!("mutation {{ refreshToken(refreshToken: \"\") {{ {AUTH_FIELDS} }} }}"),
        json!({}),
    )
    .await;
    assert!(
        refreshed.data()["refreshToken"]["accessToken"].is_string(),
        "{:?}",
        refreshed.body
    );
    let browser = Auth {
        cookies: Some(refreshed.cookie_header()),
        ..Auth::default()
    };
    let out = graphql(&mesh, &browser, "mutation { logout }", json!({})).await;
    assert_eq!(out.data()["logout"], true, "{:?}", out.body);
    assert!(
        out.set_cookies()
            .iter()
            .any(|cookie| cookie.starts_with("access_token=;") && cookie.contains("Max-Age=0"))
    );
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn auth_errors_carry_the_contract_codes() {
    let mesh = mesh().await;
    let anonymous = Auth::default();
    let me = graphql(&mesh, &anonymous, "{ me { id } }", json!({})).await;
    assert!(me.data()["me"].is_null(), "anonymous me is null");
    let orders = graphql(&mesh, &anonymous, "{ orders { edges { cursor } } }", json!({})).await;
    assert_eq!(orders.code(), "UNAUTHENTICATED");
    let forged = graphql(
        &mesh,
        &Auth::bearer(&mesh.keys().token_from_unknown_key()),
        "{ me { id } }",
        json!({}),
    )
    .await;
    assert_eq!(forged.code(), "UNAUTHENTICATED");
    // The same token in the session cookie (a rotated key, a stale cookie) is not held
    // against the browser: it shops as a guest, and the answer clears the cookie it cannot
    // clear itself.
    let stale_cookie = Auth {
        cookies: Some(format!("access_token={}", mesh.keys().token_from_unknown_key())),
        ..Auth::default()
    };
    let as_guest = graphql(
        &mesh,
        &stale_cookie,
        "{ me { id } cart { totalQuantity } }",
        json!({}),
    )
    .await;
    assert!(as_guest.body.get("errors").is_none(), "{:?}", as_guest.body);
    assert!(as_guest.data()["me"].is_null(), "{:?}", as_guest.body);
    assert_eq!(as_guest.data()["cart"]["totalQuantity"], 0);
    assert!(
        as_guest
            .set_cookies()
            .iter()
            .any(|cookie| cookie.starts_with("access_token=;") && cookie.contains("Max-Age=0")),
        "{:?}",
        as_guest.set_cookies()
    );
    let customer = mesh.keys().user_token(platform::auth::Role::Customer).1;
    let admin_only = graphql(
        &mesh,
        &Auth::bearer(&customer),
        "mutation { setStock(bookId: \"00000000-0000-7000-8000-000000000000\", onHand: 1) { available } }",
        json!({}),
    )
    .await;
    assert_eq!(admin_only.code(), "FORBIDDEN");
    let wrong = graphql(
        &mesh,
        &anonymous,
        "mutation { login(email: \"nobody@example.org\", password: \"wrong password!\") { accessToken } }",
        json!({}),
    )
    .await;
    assert_eq!(wrong.code(), "UNAUTHENTICATED");
    let weak = graphql(
        &mesh,
        &anonymous,
        "mutation { register(input: { email: \"x@example.org\", password: \"short\", name: \"X\" }) { accessToken } }",
        json!({}),
    )
    .await;
    assert_eq!(weak.code(), "BAD_USER_INPUT");
    assert_eq!(weak.body["errors"][0]["extensions"]["field"], "password");
    mesh.shutdown().await.unwrap();
}
