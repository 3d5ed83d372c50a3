//! Accounts, addresses, refresh tokens and service clients.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, pk_uuid, string, string_uniq, text, timestamp_with_time_zone, timestamp_with_time_zone_null,
    uuid,
};

#[derive(Debug, DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    Name,
    Role,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Addresses {
    Table,
    Id,
    UserId,
    Line1,
    Line2,
    City,
    PostalCode,
    Country,
    IsDefault,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    FamilyId,
    UserId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ServiceClients {
    Table,
    ClientId,
    SecretHash,
    Audiences,
    CreatedAt,
    RevokedAt,
}

// async_trait's expansion only matches the trait with the elided `SchemaManager` lifetime.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    // Unique in the database, not only in code: two concurrent
                    // registrations of one email cannot both succeed.
                    .col(string_uniq(Users::Email))
                    .col(string(Users::PasswordHash))
                    .col(string(Users::Name))
                    .col(string(Users::Role))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Addresses::Table)
                    .col(pk_uuid(Addresses::Id))
                    .col(uuid(Addresses::UserId))
                    .col(string(Addresses::Line1))
                    .col(string(Addresses::Line2))
                    .col(string(Addresses::City))
                    .col(string(Addresses::PostalCode))
                    .col(string(Addresses::Country))
                    .col(boolean(Addresses::IsDefault))
                    .col(timestamp_with_time_zone(Addresses::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Addresses::Table, Addresses::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("addresses_by_user")
                    .table(Addresses::Table)
                    .col(Addresses::UserId)
                    .to_owned(),
            )
            .await?;
        // At most one default address per user, enforced by the database (partial unique
        // index; the same syntax on SQLite and PostgreSQL).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX addresses_one_default_per_user ON addresses (user_id) WHERE is_default",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::FamilyId))
                    .col(uuid(RefreshTokens::UserId))
                    // SHA-256 of the token: the token itself is never stored.
                    .col(string_uniq(RefreshTokens::TokenHash))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("refresh_tokens_by_family", RefreshTokens::FamilyId),
            ("refresh_tokens_by_user", RefreshTokens::UserId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(RefreshTokens::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ServiceClients::Table)
                    .col(string(ServiceClients::ClientId).primary_key())
                    .col(string(ServiceClients::SecretHash))
                    // JSON array of service names.
                    .col(text(ServiceClients::Audiences))
                    .col(timestamp_with_time_zone(ServiceClients::CreatedAt))
                    .col(timestamp_with_time_zone_null(ServiceClients::RevokedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ServiceClients::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Addresses::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
