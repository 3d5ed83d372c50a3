//! What svc-user writes: never a plaintext password or refresh token.

use platform::ServiceName;
use sea_orm::{ConnectionTrait as _, Database, Statement};

use super::{PASSWORD, register, unique_email, user_mesh};

#[tokio::test]
async fn the_database_never_holds_a_plaintext_password_or_refresh_token() {
    let mesh = user_mesh().await;
    let (tokens, _) = register(&mesh, &unique_email("secret")).await;
    let db = Database::connect(mesh.database_url(ServiceName::User).unwrap())
        .await
        .unwrap();

    // Every text column svc-user writes, read back as text.
    let text_columns = [
        ("users", &["email", "password_hash", "name", "role"][..]),
        ("refresh_tokens", &["token_hash"][..]),
        ("service_clients", &["client_id", "secret_hash", "audiences"][..]),
    ];
    let mut dump = String::new();
    for (table, columns) in text_columns {
        let statement = Statement::from_string(
            db.get_database_backend(),
            format!("SELECT {} FROM {table}", columns.join(", ")),
        );
        for row in db.query_all_raw(statement).await.unwrap() {
            for column in columns {
                let value: String = row.try_get("", column).unwrap();
                dump.push_str(&value);
                dump.push('\n');
            }
        }
    }
    assert!(dump.contains("$argon2id$"), "the hash is there: {dump}");
    assert!(!dump.contains(PASSWORD), "plaintext password in the database");
    assert!(
        !dump.contains(&tokens.refresh_token),
        "plaintext refresh token in the database"
    );
    db.close().await.unwrap();
    mesh.shutdown().await.unwrap();
}
